package resolver

import (
	"net"
	"os"
	"slices"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// mmsghdr is the kernel's struct mmsghdr: a message header and the length
// received (Go pads it as C does).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// readBatches reads answers into slab, several a system call (recvmmsg), until
// an error, which it returns. It reads within one wait of the runtime's poller
// (RawConn.Read), and waits as soon as a call returns fewer answers than it
// has room for: the socket was drained, and an answer that comes later wakes
// the wait. x/net's ReadBatch, which this replaces on Linux, asked again until
// the system said there was nothing (EAGAIN, a second call for every wake-up)
// and parsed each answer's source address, which a connected socket does not
// need: together about 4% of a bulk run's CPU time.
func (s *muxSock) readBatches(slab []byte) error {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return err
	}
	var hdrs [readBatch]mmsghdr
	var iovs [readBatch]unix.Iovec
	for i := range hdrs {
		iovs[i].Base = &slab[i*readSize]
		iovs[i].SetLen(readSize)
		hdrs[i].hdr.Iov = &iovs[i]
		hdrs[i].hdr.SetIovlen(1)
	}
	var readErr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			r, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), readBatch, 0, 0, 0)
			switch errno {
			case 0:
			case unix.EAGAIN:
				return false // nothing yet: wait
			case unix.EINTR:
				continue
			default:
				readErr = &net.OpError{Op: "read", Net: "udp", Source: s.conn.LocalAddr(), Err: os.NewSyscallError("recvmmsg", errno)}
				return true
			}
			at := time.Now()
			n := int(r)
			for i := range n {
				buf := slab[i*readSize : (i+1)*readSize]
				s.received(buf, int(hdrs[i].n), int(hdrs[i].hdr.Flags), at)
			}
			if n < readBatch {
				return false // drained: wait for the next answer
			}
		}
	})
	if err != nil {
		return err
	}
	return readErr
}

// sendScratch is the kernel's form of a batch's messages, and the writer
// that sends them, kept with the batch's other lists (batchScratch) from
// batch to batch.
type sendScratch struct {
	hdrs []mmsghdr
	iovs []unix.Iovec
	w    mmsgWriter
}

// clear drops the pointers to the batch's packets and socket.
func (sc *sendScratch) clear() {
	clear(sc.hdrs)
	clear(sc.iovs)
	sc.hdrs, sc.iovs = sc.hdrs[:0], sc.iovs[:0]
	sc.w.conn, sc.w.raw, sc.w.err = nil, nil, nil
}

// batchWriter is what a batch is sent with: sendmmsg itself, by the writer
// kept in the batch's scratch (no allocation a batch).
func (s *muxSock) batchWriter(sc *batchScratch) batchWriter {
	w := &sc.sys.w
	w.conn, w.raw, w.sc = s.conn, s.raw, &sc.sys
	return w
}

// mmsgWriter sends a batch with one sendmmsg, made as a raw system call:
// x/net's WriteBatch makes it as a blocking one, and a call that sends a
// few packets over loopback lasts about as long as the runtime's monitor
// waits (20 µs) before it gives the goroutine's processor to another
// thread, which then has to give it back; a send on a UDP socket that has
// room does not block, and one that has none waits for the runtime's poller
// (EAGAIN), as before.
//
// What one call sends and what it got (count, n, err) are fields, and the
// function the poller calls is made once a writer: a closure made each call
// would be allocations a batch.
type mmsgWriter struct {
	conn  *net.UDPConn
	raw   syscall.RawConn // conn's, got when it was dialled
	sc    *sendScratch
	count int   // messages to send
	n     int   // messages sent
	err   error // why the call failed
	send  func(fd uintptr) bool
}

func (w *mmsgWriter) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	sc := w.sc
	sc.hdrs = slices.Grow(sc.hdrs[:0], len(ms))[:len(ms)]
	sc.iovs = slices.Grow(sc.iovs[:0], len(ms))[:len(ms)]
	for i, m := range ms {
		sc.iovs[i] = unix.Iovec{}
		if b := m.Buffers[0]; len(b) > 0 {
			sc.iovs[i].Base = &b[0]
			sc.iovs[i].SetLen(len(b))
		}
		sc.hdrs[i] = mmsghdr{}
		sc.hdrs[i].hdr.Iov = &sc.iovs[i]
		sc.hdrs[i].hdr.SetIovlen(1)
	}
	if w.send == nil {
		w.send = w.sendmmsg
	}
	w.count, w.n, w.err = len(ms), 0, nil
	if err := w.raw.Write(w.send); err != nil {
		return 0, err
	}
	return w.n, w.err
}

// sendmmsg makes the system call, within the poller's wait for room.
func (w *mmsgWriter) sendmmsg(fd uintptr) bool {
	for {
		r, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.sc.hdrs[0])), uintptr(w.count), 0, 0, 0)
		switch errno {
		case 0:
			w.n = int(r)
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // the socket's buffer is full: wait for room
		default:
			w.err = &net.OpError{Op: "write", Net: "udp", Source: w.conn.LocalAddr(), Addr: w.conn.RemoteAddr(),
				Err: os.NewSyscallError("sendmmsg", errno)}
		}
		return true
	}
}

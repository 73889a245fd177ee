package resolver

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// udpMux carries every UDP query to one server over a few long-lived sockets.
// Each socket has one reader that hands each answer to the query waiting for it,
// matched by ID and question, and one clock that sends again the queries left
// unanswered for an RTO and ends those past their deadline. A query costs a
// share of one write (a subject's queries leave together) and of one read: no
// socket, goroutine or timer per packet, which is what bounds a bulk run.
type udpMux struct {
	server string
	rto    func() time.Duration // the first wait before a copy is sent again
	next   atomic.Uint32
	socks  [muxSockets]atomic.Pointer[muxSock]
	mu     sync.Mutex // serialises dialling
	closed atomic.Bool
}

// tickOf is how often a socket's clock looks for queries to send again or to
// end, at an RTO of rto: a quarter of it, so that a copy goes out at most a
// quarter of an RTO late (2.5ms for a server on the same machine or network,
// whose RTO is minRTO), but at least every 5ms: a query whose context ends (a
// TXT query the run no longer needs, Ctrl-C) or whose try reaches its
// deadline is ended by the clock, and the end of a run can wait for it.
func tickOf(rto time.Duration) time.Duration {
	return min(max(rto/4, time.Millisecond), 5*time.Millisecond)
}

// muxSockets spreads queries over several source ports, so that one socket's
// receive buffer and reader are not the limit, and IDs have room. Eight made a
// 1024-address bulk run against rbldnsd about 5% faster than four; a one-address
// run uses them as its probes need, at no measurable cost.
const muxSockets = 8

// maxPending bounds the queries waiting on one socket; IDs are 16 bits.
const maxPending = 1 << 14

var errTooMany = errors.New("too many queries in flight")
var errClosed = errors.New("resolver closed")

type muxSock struct {
	conn *net.UDPConn
	raw  syscall.RawConn  // conn's, for system calls of its own (Linux)
	pc   *ipv4.PacketConn // the same socket, for batches of packets
	rto  func() time.Duration
	tick func(rto time.Duration) time.Duration // tickOf, but for tests
	kick chan struct{}                         // wakes the clock when the first query waits, or for a look now (sweep)
	quit chan struct{}                         // closed with the socket
	mu   sync.Mutex
	wait map[uint16]*muxCall
	dead bool
}

// muxCall is one query in flight on one socket: sent, sent again by the
// socket's clock, and waited for. ids, over and the fields after ctx are
// guarded by the socket's mutex.
type muxCall struct {
	sock  *muxSock
	ids   []uint16 // the ID of each copy sent, the first copy's first (in idBuf at first)
	idBuf [2]uint16
	over  bool     // answered or ended
	q     question // as sent
	plain bool     // q.plain(): packed by hand, its negative answer read without unpacking
	// reply is how the query ended, set once (finish) before done is
	// released; its one waiter (await) reads it after done. Kept in the call,
	// which is a piece of its batch's slab, not sent on a channel of its own:
	// a channel a query was a bulk run's largest allocation.
	reply    muxReply
	done     sync.WaitGroup // one count (arm), released when reply is set
	ctx      context.Context
	wire     []byte    // the packed query, with its ID
	deadline time.Time // the end of the try
	last     time.Time // when the latest copy was sent
	sent     int       // copies sent
	expired  expirer   // told (in a goroutine of its own) when the try times out or is truncated
}

// expirer is told when a query's try has timed out, or was answered truncated:
// what comes next (another try, TCP) must not wait for someone to wait; and,
// under the socket's lock, when its first try ended (ended: answered, lost on
// the way or not, out of time, or stopped), so that its window slot is given
// back then, whoever reads the answer and whenever.
type expirer interface {
	expire()
	ended(lost bool)
}

type muxReply struct {
	msg   *dns.Msg
	neg   negative // a negative answer read without unpacking (isNeg), msg nil
	isNeg bool
	err   error
	at    time.Time // when it arrived (or the query ended)
	sent  int       // copies of the query that had been sent
	copy  int       // which copy the answer answers, 1 for the first
}

func newUDPMux(server string, rto func() time.Duration) *udpMux {
	return &udpMux{server: server, rto: rto}
}

// sock returns a live socket, dialling one when its slot is empty or dead.
func (m *udpMux) sock(ctx context.Context) (*muxSock, error) {
	return m.slot(ctx, m.next.Add(1)%muxSockets)
}

// prepare dials the socket that the next batch takes, if it has none yet.
func (m *udpMux) prepare(ctx context.Context) error {
	_, err := m.slot(ctx, (m.next.Load()+1)%muxSockets)
	return err
}

// slot returns slot i's socket, dialling one when it is empty or dead.
func (m *udpMux) slot(ctx context.Context, i uint32) (*muxSock, error) {
	if s := m.socks[i].Load(); s != nil && !s.isDead() {
		return s, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return nil, errClosed
	}
	if s := m.socks[i].Load(); s != nil && !s.isDead() {
		return s, nil
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", m.server)
	if err != nil {
		return nil, err
	}
	conn := c.(*net.UDPConn)
	_ = conn.SetReadBuffer(1 << 20) // bursts of answers in bulk runs; the kernel may cap it
	raw, err := conn.SyscallConn()  // once: each call makes one
	if err != nil {
		conn.Close()
		return nil, err
	}
	s := &muxSock{conn: conn, raw: raw, pc: ipv4.NewPacketConn(conn), rto: m.rto, tick: tickOf, wait: map[uint16]*muxCall{},
		kick: make(chan struct{}, 1), quit: make(chan struct{})}
	m.socks[i].Store(s)
	go s.read()
	go s.clock()
	return s, nil
}

func (s *muxSock) isDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

// register reserves a free random ID for call's first copy (s.mu held).
func (s *muxSock) register(call *muxCall) error {
	if s.dead {
		return errClosed
	}
	if len(s.wait) >= maxPending {
		return errTooMany
	}
	if len(s.wait) == 0 {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	s.newID(call)
	return nil
}

// newID reserves a free random ID for call's next copy and writes it into
// call.wire (s.mu held). Each copy has its own ID, so that an answer says which
// copy it answers: one to the first copy after another was sent means a slow
// server, not a lost packet.
func (s *muxSock) newID(call *muxCall) {
	for {
		id := uint16(rand.Uint32())
		if _, busy := s.wait[id]; !busy {
			binary.BigEndian.PutUint16(call.wire, id)
			s.wait[id] = call
			if call.ids == nil {
				call.ids = call.idBuf[:0]
			}
			call.ids = append(call.ids, id)
			return
		}
	}
}

// finish ends call with r (s.mu held): its IDs are freed, and r is delivered
// unless r is nil (the query was given up).
func (s *muxSock) finish(call *muxCall, r *muxReply) {
	if call.over {
		return
	}
	call.over = true
	if call.expired != nil {
		call.expired.ended(r != nil && r.copy > 1)
	}
	for _, id := range call.ids {
		if s.wait[id] == call {
			delete(s.wait, id)
		}
	}
	if r != nil {
		r.sent = call.sent
		call.reply = *r
		call.done.Done() // the reader and the clock never block
	}
}

// arm gives call the count that finish releases with its reply: before the
// call can be finished, that is before it is registered.
func (call *muxCall) arm() { call.done.Add(1) }

// wait returns how call ended, once finish has said it: its one waiter's.
func (call *muxCall) wait() muxReply {
	call.done.Wait()
	return call.reply
}

// clock runs while the socket lives. While queries wait, every tick it sends
// again those unanswered for their RTO (each copy waiting twice as long as the
// one before, as TCP backs off: a congested server gets fewer copies, a lost
// packet is still sent again well within the timeout), and ends those past
// their deadline or whose context is done.
func (s *muxSock) clock() {
	t := time.NewTimer(time.Hour)
	t.Stop() // ticking only while queries wait
	defer t.Stop()
	var again []*muxCall
	for {
		select {
		case <-s.kick:
		case <-s.quit:
			return
		}
		t.Reset(s.tick(s.rto()))
		for busy := true; busy; {
			var now time.Time
			select {
			case now = <-t.C:
				t.Reset(s.tick(s.rto())) // the RTO as it is now: it falls as the first answers come
			case <-s.kick: // Sweep: a look now, between ticks
				now = time.Now()
			case <-s.quit:
				return
			}
			again, busy = s.scan(now, again[:0])
			for _, call := range again {
				if _, err := s.conn.Write(call.wire); err != nil {
					s.end(call, err)
				}
			}
		}
		t.Stop()
	}
}

// scan ends the queries that are over and returns those to send again, and
// whether any query still waits. A copy is due an RTO after the one before, the
// RTO as it is now: the first queries of a run go out before any round trip is
// known, at a cautious 500ms, and those lost are sent again as soon as the
// first answers show the server to be near, not half a second later.
func (s *muxSock) scan(now time.Time, again []*muxCall) ([]*muxCall, bool) {
	rto := s.rto()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, call := range s.wait {
		if call.over || id != call.ids[len(call.ids)-1] {
			continue // a call is looked at once, under its latest ID
		}
		switch {
		case call.ctx.Err() != nil:
			s.finish(call, &muxReply{err: call.ctx.Err(), at: now})
		case !now.Before(call.deadline):
			s.finish(call, &muxReply{err: context.DeadlineExceeded, at: now})
			if call.expired != nil {
				go call.expired.expire()
			}
		case !now.Before(call.last.Add(rto << min(call.sent-1, 6))):
			call.sent++
			call.last = now
			if len(s.wait) < maxPending {
				// a copy of its own: the first send may still be reading the
				// packet it was given
				call.wire = slices.Clone(call.wire)
				s.newID(call)
			} // else the copy goes out under the latest ID
			again = append(again, call)
		}
	}
	return again, len(s.wait) > 0
}

// sweep has the socket's clock look at its queries now (kick).
func (s *muxSock) sweep() {
	select {
	case s.kick <- struct{}{}:
	default: // a look is due already
	}
}

// end ends one query with err, unless it has been answered meanwhile.
func (s *muxSock) end(call *muxCall, err error) {
	at := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish(call, &muxReply{err: err, at: at})
}

// forget gives call up: its IDs are freed, and a late answer is dropped.
func (s *muxSock) forget(call *muxCall) {
	s.mu.Lock()
	s.finish(call, nil)
	s.mu.Unlock()
}

// read hands answers to their queries until the socket is closed. An answer
// whose ID or question matches no waiting query is dropped: a late duplicate or
// a forgery must not end a query. An ICMP error (nobody listening at the
// server's port) ends every query waiting on this socket: they all went there.
func (s *muxSock) read() {
	// several answers a system call when they queue up (recvmmsg), as they do in
	// bulk runs. Without EDNS an answer is at most 512 bytes; one that does not
	// fit is taken as truncated, and asked again over TCP. The buffers are one
	// slab, so that a few answers touch a few pages of memory, not sixteen.
	slab := make([]byte, readBatch*readSize)
	for {
		err := s.readBatches(slab) // returns only on an error
		if errors.Is(err, net.ErrClosed) {
			s.fail(err, true)
			return
		}
		s.fail(err, false)
	}
}

// readBatch and readSize are how many answers read takes at most in one system
// call, and the room for each.
const readBatch, readSize = 16, 1232

// received hands on one datagram of n bytes read into buf, with the receive
// flags it came with. Where the system cannot say that a datagram was cut
// (msgTrunc 0), a full buffer is taken as cut.
func (s *muxSock) received(buf []byte, n, flags int, at time.Time) {
	cut := flags&msgTrunc != 0 || msgTrunc == 0 && n == len(buf)
	s.deliver(buf[:n], cut, at)
}

// deliver hands one answer to the query it answers, if any. An answer larger
// than the buffer (cut) is read as its header only, marked truncated.
func (s *muxSock) deliver(buf []byte, cut bool, at time.Time) {
	if len(buf) < 12 {
		return
	}
	if !cut && s.deliverNegative(buf, at) {
		return
	}
	msg := new(dns.Msg)
	var unpackErr error
	if cut {
		unpackErr = truncated(msg, buf)
	} else {
		unpackErr = msg.Unpack(buf)
	}
	id := uint16(buf[0])<<8 | uint16(buf[1])
	s.mu.Lock()
	defer s.mu.Unlock()
	call := s.wait[id]
	switch {
	case call == nil:
	case unpackErr != nil:
		// the ID is ours but the message is not DNS we can read
		s.finish(call, &muxReply{err: unpackErr, at: at})
	case !msg.Response || msg.Opcode != dns.OpcodeQuery:
		// not an answer: our own query sent back (an echo service at the
		// server's address) would read as no data, that is clean
	case len(msg.Question) == 1 && call.q.is(msg.Question[0].Name, msg.Question[0].Qtype):
		s.finish(call, &muxReply{msg: msg, at: at, copy: 1 + slices.Index(call.ids, id)})
		if msg.Truncated && call.expired != nil {
			// its TCP follow-up starts now, waited for or not: within the try's
			// own deadline, not from whenever a caller gets to it
			go call.expired.expire()
		}
	}
}

// deliverNegative hands a negative answer (readNegative) to the plain query it
// answers, without unpacking it, and says whether it did. It is read under the
// socket's lock, taken once: reading it costs less than a second lock.
func (s *muxSock) deliverNegative(buf []byte, at time.Time) bool {
	id := uint16(buf[0])<<8 | uint16(buf[1])
	s.mu.Lock()
	defer s.mu.Unlock()
	call := s.wait[id]
	if call == nil || !call.plain {
		return false
	}
	neg, ok := readPlainNegative(buf, call.q)
	if !ok {
		return false
	}
	s.finish(call, &muxReply{neg: neg, isNeg: true, at: at, copy: 1 + slices.Index(call.ids, id)})
	return true
}

// truncated reads the header and question of an answer too large for the buffer
// into msg, and marks it truncated so that it is asked again over TCP.
func truncated(msg *dns.Msg, buf []byte) error {
	if err := msg.Unpack(buf); err == nil {
		msg.Truncated = true
		return nil
	}
	// the records are cut off: keep the header and the question
	hdr := make([]byte, len(buf))
	copy(hdr, buf)
	for i := 6; i < 12; i++ {
		hdr[i] = 0 // no answer, authority or additional records
	}
	if err := msg.Unpack(hdr); err != nil {
		return err
	}
	msg.Truncated = true
	return nil
}

// fail ends every waiting query with err; a closed socket is marked dead so
// that the next query dials a new one.
func (s *muxSock) fail(err error, dead bool) {
	at := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, call := range s.wait {
		s.finish(call, &muxReply{err: err, at: at})
	}
	if dead && !s.dead {
		s.dead = true
		close(s.quit)
	}
}

func (s *muxSock) close() {
	s.mu.Lock()
	if !s.dead {
		s.dead = true
		close(s.quit)
	}
	s.mu.Unlock()
	_ = s.conn.Close()
}

func (m *udpMux) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed.Store(true)
	for i := range m.socks {
		if s := m.socks[i].Load(); s != nil {
			s.close()
		}
	}
}

// startAll packs each query with a fresh ID on one of the sockets and sends
// them all in as few system calls as the kernel takes (sendmmsg); each answer
// (or the end of its try at timeout, or ctx's end) is its query's wait.
// Each query's call goes in mqs, and one that could not be sent has a nil
// muxCall and its error in errs (mqs and errs as long as qs, all nil at
// first). expired, if not nil, has for each query whom to tell when its try
// times out. The plain questions are packed into one buffer for the batch,
// and the batch's list of messages is taken from a pool.
func (m *udpMux) startAll(ctx context.Context, qs []question, now time.Time, timeout time.Duration, expired []expirer, mqs []*muxCall, errs []error) {
	s, err := m.sock(ctx)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return
	}
	size := 0
	for _, q := range qs {
		size += q.wireLen() // room for each, plain or not
	}
	slab := make([]byte, 0, size) // each plain query's wire is a piece of it, never grown
	sc := scratchPool.Get().(*batchScratch)
	defer sc.put()
	calls := make([]muxCall, len(qs)) // one allocation for the batch's calls
	s.mu.Lock()                       // one lock for the batch's IDs
	for i, q := range qs {
		var wire []byte
		plain := q.plain()
		if plain {
			off := len(slab)
			slab = q.appendPlain(slab)
			wire = slab[off:len(slab):len(slab)]
		} else if wire, err = q.appendWire(nil); err != nil {
			errs[i] = err
			continue
		}
		call := &calls[i]
		*call = muxCall{sock: s, q: q, plain: plain, ctx: ctx, wire: wire,
			deadline: now.Add(timeout), last: now, sent: 1}
		call.arm()
		if expired != nil {
			call.expired = expired[i]
		}
		if err := s.register(call); err != nil {
			errs[i] = err
			continue
		}
		mqs[i] = call
		sc.add(wire, i)
	}
	s.mu.Unlock()
	for k := range sc.msgs {
		sc.msgs[k].Buffers = sc.bufs[k : k+1]
	}
	for k, err := range sendBatch(s.batchWriter(sc), sc.msgs) {
		if err != nil {
			i := sc.sent[k]
			mqs[i].stop()
			mqs[i], errs[i] = nil, err
		}
	}
}

// batchScratch is the list of messages of one batch, reused from batch to
// batch (scratchPool): sendmmsg reads it only while startAll runs.
type batchScratch struct {
	msgs []ipv4.Message
	bufs [][]byte // each message's one buffer
	sent []int    // the index in the batch of each message
	sys  sendScratch
}

var scratchPool = sync.Pool{New: func() any { return new(batchScratch) }}

func (sc *batchScratch) add(wire []byte, i int) {
	sc.bufs = append(sc.bufs, wire)
	sc.sent = append(sc.sent, i)
	sc.msgs = append(sc.msgs, ipv4.Message{})
}

// put clears the lists (keeping no query alive) and gives them back.
func (sc *batchScratch) put() {
	clear(sc.bufs)
	clear(sc.msgs)
	sc.sys.clear()
	sc.msgs, sc.bufs, sc.sent = sc.msgs[:0], sc.bufs[:0], sc.sent[:0]
	scratchPool.Put(sc)
}

// batchWriter is what sendBatch writes with: an *ipv4.PacketConn, or on Linux
// the socket's own sendmmsg (muxSock.batchWriter).
type batchWriter interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// sendBatch writes msgs in as few calls as the kernel takes, and returns for each
// message the error that kept it from being sent (nil when it was sent). A message
// that fails is skipped and the rest are tried again.
// It returns nil when every message was sent.
func sendBatch(w batchWriter, msgs []ipv4.Message) []error {
	var errs []error
	for off := 0; off < len(msgs); {
		n, err := w.WriteBatch(msgs[off:], 0)
		off += max(n, 0) // n is -1 when the first message failed
		if err != nil || n <= 0 {
			if err == nil {
				err = errors.New("the packet was not sent")
			}
			if errs == nil {
				errs = make([]error, len(msgs))
			}
			errs[off] = err
			off++
		}
	}
	return errs
}

func (call *muxCall) stop() { call.sock.forget(call) }

// answered says whether the call's answer has come (finish, with an answer).
func (call *muxCall) answered() bool {
	s := call.sock
	s.mu.Lock()
	defer s.mu.Unlock()
	return call.over && call.reply.err == nil && (call.reply.msg != nil || call.reply.isNeg)
}

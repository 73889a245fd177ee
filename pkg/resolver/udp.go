package resolver

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// udpMux carries every UDP query to one server over a few long-lived sockets.
// Each socket has one reader that hands each answer to the query waiting for it,
// matched by ID and question. A query costs one write and a share of one read:
// no socket, goroutine or timer per packet, which is what bounds a bulk run.
type udpMux struct {
	server string
	next   atomic.Uint32
	socks  [muxSockets]atomic.Pointer[muxSock]
	mu     sync.Mutex // serialises dialling
	closed atomic.Bool
}

// muxSockets spreads queries over several source ports, so that one socket's
// receive buffer and reader are not the limit, and IDs have room.
const muxSockets = 4

// maxPending bounds the queries waiting on one socket; IDs are 16 bits.
const maxPending = 1 << 14

var errTooMany = errors.New("too many queries in flight")
var errClosed = errors.New("resolver closed")

type muxSock struct {
	conn *net.UDPConn
	mu   sync.Mutex
	wait map[uint16]*muxCall
	dead bool
}

// muxCall is one query waiting for its answer.
type muxCall struct {
	name  string // the question, as sent
	qtype uint16
	done  chan muxReply // buffered: the reader never blocks
}

type muxReply struct {
	msg *dns.Msg
	err error
	at  time.Time // when it arrived
}

func newUDPMux(server string) *udpMux { return &udpMux{server: server} }

// sock returns a live socket, dialling one when its slot is empty or dead.
func (m *udpMux) sock(ctx context.Context) (*muxSock, error) {
	i := m.next.Add(1) % muxSockets
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
	s := &muxSock{conn: conn, wait: map[uint16]*muxCall{}}
	m.socks[i].Store(s)
	go s.read()
	return s, nil
}

func (s *muxSock) isDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

// register reserves a free random ID for call.
func (s *muxSock) register(call *muxCall) (uint16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return 0, errClosed
	}
	if len(s.wait) >= maxPending {
		return 0, errTooMany
	}
	for {
		id := uint16(rand.Uint32())
		if _, busy := s.wait[id]; !busy {
			s.wait[id] = call
			return id, nil
		}
	}
}

func (s *muxSock) forget(id uint16, call *muxCall) {
	s.mu.Lock()
	if s.wait[id] == call {
		delete(s.wait, id)
	}
	s.mu.Unlock()
}

// read hands answers to their queries until the socket is closed. An answer
// whose ID or question matches no waiting query is dropped: a late duplicate or
// a forgery must not end a query. An ICMP error (nobody listening at the
// server's port) ends every query waiting on this socket: they all went there.
func (s *muxSock) read() {
	buf := make([]byte, 65535)
	for {
		n, err := s.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				s.fail(err, true)
				return
			}
			s.fail(err, false)
			continue
		}
		if n < 12 {
			continue
		}
		msg := new(dns.Msg)
		unpackErr := msg.Unpack(buf[:n])
		id := uint16(buf[0])<<8 | uint16(buf[1])
		at := time.Now()
		s.mu.Lock()
		call := s.wait[id]
		switch {
		case call == nil:
		case unpackErr != nil:
			// the ID is ours but the message is not DNS we can read
			delete(s.wait, id)
			call.done <- muxReply{err: unpackErr, at: at}
		case len(msg.Question) == 1 && msg.Question[0].Qtype == call.qtype &&
			strings.EqualFold(msg.Question[0].Name, call.name):
			delete(s.wait, id)
			call.done <- muxReply{msg: msg, at: at}
		}
		s.mu.Unlock()
	}
}

// fail ends every waiting query with err; a closed socket is marked dead so
// that the next query dials a new one.
func (s *muxSock) fail(err error, dead bool) {
	at := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, call := range s.wait {
		delete(s.wait, id)
		call.done <- muxReply{err: err, at: at}
	}
	if dead {
		s.dead = true
	}
}

func (s *muxSock) close() {
	s.mu.Lock()
	s.dead = true
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

// muxQuery is one query in flight on one socket: sent, possibly sent again,
// and waited for.
type muxQuery struct {
	sock *muxSock
	id   uint16
	call *muxCall
	wire []byte
}

// start packs q with a fresh ID on one of the sockets and sends it.
func (m *udpMux) start(ctx context.Context, q *dns.Msg) (*muxQuery, error) {
	s, err := m.sock(ctx)
	if err != nil {
		return nil, err
	}
	call := &muxCall{name: q.Question[0].Name, qtype: q.Question[0].Qtype, done: make(chan muxReply, 1)}
	id, err := s.register(call)
	if err != nil {
		return nil, err
	}
	mq := &muxQuery{sock: s, id: id, call: call}
	if mq.wire, err = q.Pack(); err != nil { // q is shared by tries: the ID is set in the wire form only
		s.forget(id, call)
		return nil, err
	}
	binary.BigEndian.PutUint16(mq.wire, id)
	if err := mq.send(); err != nil {
		s.forget(id, call)
		return nil, err
	}
	return mq, nil
}

// send writes the query (again): same ID, same socket, so any answer counts.
func (mq *muxQuery) send() error {
	_, err := mq.sock.conn.Write(mq.wire)
	return err
}

func (mq *muxQuery) done() <-chan muxReply { return mq.call.done }

func (mq *muxQuery) stop() { mq.sock.forget(mq.id, mq.call) }

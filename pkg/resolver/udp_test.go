package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// scriptedWriter answers WriteBatch calls from a script of (n, err) results.
type scriptedWriter struct {
	script []struct {
		n   int
		err error
	}
	calls int
}

func (w *scriptedWriter) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	r := w.script[w.calls]
	w.calls++
	return min(r.n, len(ms)), r.err
}

func TestSendBatch(t *testing.T) {
	refused := errors.New("connection refused")
	type result = struct {
		n   int
		err error
	}
	tests := []struct {
		name   string
		script []result
		failed []bool
	}{
		{"all at once", []result{{5, nil}}, []bool{false, false, false, false, false}},
		{"in two calls", []result{{3, nil}, {2, nil}}, []bool{false, false, false, false, false}},
		// x/net reports -1 when the very first message fails
		{"first fails", []result{{-1, refused}, {4, nil}}, []bool{true, false, false, false, false}},
		{"middle fails", []result{{2, refused}, {2, nil}}, []bool{false, false, true, false, false}},
		{"nothing sent, no error", []result{{0, nil}, {4, nil}}, []bool{true, false, false, false, false}},
		{"every one fails", []result{{-1, refused}, {-1, refused}, {-1, refused}, {-1, refused}, {-1, refused}},
			[]bool{true, true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &scriptedWriter{script: tt.script}
			errs := sendBatch(w, make([]ipv4.Message, 5))
			if none := !slices.Contains(tt.failed, true); none != (errs == nil) {
				t.Errorf("errors %v: nil is every message sent", errs)
			}
			if errs == nil {
				errs = make([]error, 5)
			}
			for i, err := range errs {
				if (err != nil) != tt.failed[i] {
					t.Errorf("message %d: error %v, want failed=%v", i, err, tt.failed[i])
				}
			}
			if w.calls != len(tt.script) {
				t.Errorf("%d calls, want %d", w.calls, len(tt.script))
			}
		})
	}
}

// TestCutAnswer: an answer larger than the reader's buffer (from a server that
// ignores the 512-byte limit) reaches its query as a truncated answer to the
// same question, which sends it to TCP, never as a broken message.
func TestCutAnswer(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("big.bl.test.", dns.TypeTXT)
	q.Id = 4242
	r := new(dns.Msg)
	r.SetReply(q)
	for i := range 10 {
		r.Answer = append(r.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: "big.bl.test.", Rrtype: dns.TypeTXT,
			Class: dns.ClassINET, Ttl: 60}, Txt: []string{fmt.Sprintf("%d-%s", i, strings.Repeat("x", 200))}})
	}
	wire, err := r.Pack()
	if err != nil {
		t.Fatal(err)
	}
	cut := wire[:1232]
	s := &muxSock{wait: map[uint16]*muxCall{}, kick: make(chan struct{}, 1)}
	call := &muxCall{q: question{name: "big.bl.test", qtype: dns.TypeTXT}, wire: make([]byte, 12)}
	call.arm()
	s.wait[4242] = call
	call.ids = []uint16{4242}
	s.deliver(cut, true, time.Now())
	if !call.over {
		t.Fatal("the cut answer did not reach its query")
	}
	if got := call.wait(); got.err != nil || got.msg == nil || !got.msg.Truncated || got.msg.Id != 4242 ||
		len(got.msg.Question) != 1 || got.msg.Question[0].Name != "big.bl.test." {
		t.Fatalf("cut answer delivered as %+v", got)
	}
	if err := new(dns.Msg).Unpack(cut); err == nil {
		t.Fatal("test setup: the cut message unpacks whole")
	}
}

// TestResendFollowsTheRTO: a copy is due an RTO after the one before, the RTO as
// it is when the clock looks, so a query sent before any round trip was known
// (RTO 500ms) is sent again soon after the first answers set it to 50ms.
func TestResendFollowsTheRTO(t *testing.T) {
	rto := 500 * time.Millisecond
	s := &muxSock{rto: func() time.Duration { return rto }, wait: map[uint16]*muxCall{}}
	t0 := time.Now()
	call := &muxCall{sock: s, ctx: context.Background(), wire: make([]byte, 12),
		deadline: t0.Add(3 * time.Second), last: t0, sent: 1}
	call.arm()
	s.newID(call)
	for _, step := range []struct {
		at     time.Duration
		rto    time.Duration
		resend bool
		sent   int
	}{
		{at: 60 * time.Millisecond, rto: 500 * time.Millisecond, resend: false, sent: 1},
		{at: 60 * time.Millisecond, rto: 50 * time.Millisecond, resend: true, sent: 2},   // the RTO fell: overdue
		{at: 159 * time.Millisecond, rto: 50 * time.Millisecond, resend: false, sent: 2}, // the second copy waits 2 RTOs
		{at: 160 * time.Millisecond, rto: 50 * time.Millisecond, resend: true, sent: 3},
		{at: 359 * time.Millisecond, rto: 50 * time.Millisecond, resend: false, sent: 3}, // then 4
		{at: 360 * time.Millisecond, rto: 50 * time.Millisecond, resend: true, sent: 4},
	} {
		rto = step.rto
		again, busy := s.scan(t0.Add(step.at), nil)
		if got := len(again) == 1; got != step.resend || !busy || call.sent != step.sent {
			t.Fatalf("at %v with RTO %v: sent again %v (want %v), %d copies (want %d), busy %v",
				step.at, step.rto, got, step.resend, call.sent, step.sent, busy)
		}
	}
	if len(call.ids) != 4 || len(s.wait) != 4 {
		t.Errorf("each copy has its own ID: %d IDs, %d waiting", len(call.ids), len(s.wait))
	}
	if _, busy := s.scan(t0.Add(3*time.Second), nil); busy {
		t.Error("the try did not end at its deadline")
	}
	if r := call.wait(); !errors.Is(r.err, context.DeadlineExceeded) || r.sent != 4 {
		t.Errorf("ended with %v after %d copies", r.err, r.sent)
	}
}

// TestReplyBeforeOrAfterWait: a query's reply is kept in its call, so the one
// waiter gets it whether the reply came before it waited or while it waited;
// a query given up delivers nothing, and nobody waits for it.
func TestReplyBeforeOrAfterWait(t *testing.T) {
	s := &muxSock{wait: map[uint16]*muxCall{}, kick: make(chan struct{}, 1)}
	newCall := func() *muxCall {
		call := &muxCall{sock: s, ctx: context.Background(), wire: make([]byte, 12), sent: 1}
		call.arm()
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.register(call); err != nil {
			t.Fatal(err)
		}
		return call
	}
	before := newCall()
	s.end(before, errors.New("before"))
	if r := before.wait(); r.err == nil || r.err.Error() != "before" || r.sent != 1 {
		t.Errorf("a reply set before the wait: %+v", r)
	}

	during := newCall()
	got := make(chan muxReply, 1)
	go func() { got <- during.wait() }()
	s.end(during, errors.New("during"))
	if r := <-got; r.err == nil || r.err.Error() != "during" {
		t.Errorf("a reply set while waiting: %+v", r)
	}
	s.end(during, errors.New("again")) // over: a second end changes nothing
	if r := during.wait(); r.err.Error() != "during" {
		t.Errorf("a call ended twice says %v", r.err)
	}

	forgotten := newCall()
	forgotten.stop()
	if !forgotten.over || len(s.wait) != 0 {
		t.Errorf("a forgotten call is over (%v) and holds no ID (%d held)", forgotten.over, len(s.wait))
	}
}

// TestPrepareDialsTheFirstSocket: Prepare dials the socket that the first
// queries then leave from (not one more), and sends nothing itself.
func TestPrepareDialsTheFirstSocket(t *testing.T) {
	type packet struct{ from, name string }
	got := make(chan packet, 4)
	addr := UDPTestServer(t, func(_ net.PacketConn, src net.Addr, pkt []byte) {
		m := new(dns.Msg)
		if m.Unpack(pkt) == nil && len(m.Question) == 1 {
			got <- packet{src.String(), m.Question[0].Name}
		} else {
			got <- packet{src.String(), "(not a query)"}
		}
	})
	c, err := New(Config{Servers: []string{addr}, Timeout: 200 * time.Millisecond, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Prepare(context.Background())
	m := c.mux(addr)
	var dialled []string
	for i := range m.socks {
		if s := m.socks[i].Load(); s != nil {
			dialled = append(dialled, s.conn.LocalAddr().String())
		}
	}
	if len(dialled) != 1 {
		t.Fatalf("Prepare dialled %d sockets, want 1", len(dialled))
	}
	_, _ = c.Lookup(context.Background(), "example.com", TypeA) // no answer: it times out
	if p := <-got; p != (packet{dialled[0], "example.com."}) {
		t.Errorf("the server's first packet: %+v; want the query, from the socket Prepare dialled (%s)", p, dialled[0])
	}
}

// TestAnswerReadAfterStop: an answer that came before its context ended is
// read, not reported as cancelled: a caller that reads its answers in turn
// (dnsbl's takers) may come to it only after a stop, having waited for a
// server that never answered, and the answer is as good as before the stop.
// A query still waiting when the context ends is cancelled.
func TestAnswerReadAfterStop(t *testing.T) {
	addr := UDPTestServer(t, func(pc net.PacketConn, src net.Addr, pkt []byte) {
		m := new(dns.Msg)
		if m.Unpack(pkt) != nil || len(m.Question) != 1 || m.Question[0].Name != "answered.example." {
			return // the other name is never answered
		}
		r := new(dns.Msg)
		r.SetRcode(m, dns.RcodeNameError)
		b, _ := r.Pack()
		_, _ = pc.WriteTo(b, src)
	})
	c, err := New(Config{Servers: []string{addr}, Timeout: 30 * time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	answered := c.Start(ctx, "answered.example", TypeA)
	silent := c.Start(ctx, "silent.example", TypeA)
	answered.ready.Wait()
	for i := 0; !answered.first.answered(); i++ { // its answer comes within a round trip on loopback
		if i > 30000 {
			t.Fatal("no answer in 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	c.Sweep()
	var e *Error
	if _, err := silent.Wait(); !errors.As(err, &e) || e.Kind != Canceled {
		t.Errorf("the query still waiting: %v, want cancelled", err)
	}
	if a, err := answered.Wait(); err != nil || !a.NXDomain {
		t.Errorf("the answer that came before the stop: %+v, %v; want NXDOMAIN", a, err)
	}
}

package resolver_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/blcheck/blcheck/pkg/resolver"
)

// truncServer answers every UDP query truncated, and accepts TCP connections on
// the same port that never answer: dead ones (nothing sent) or trickling ones
// (one byte now and then, never a whole answer).
type truncServer struct {
	addr     string
	accepted atomic.Int64
}

func newTruncServer(t *testing.T, trickle bool) *truncServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		t.Skipf("no TCP on the UDP port: %v", err)
	}
	quit := make(chan struct{})
	t.Cleanup(func() { close(quit); pc.Close(); ln.Close() })
	s := &truncServer{addr: pc.LocalAddr().String()}
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			m := new(dns.Msg)
			m.SetReply(q)
			m.Truncated = true
			out, _ := m.Pack()
			_, _ = pc.WriteTo(out, from)
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			go func() {
				defer c.Close()
				if trickle { // an answer of 256 bytes is coming, a byte at a time
					if _, err := c.Write([]byte{1, 0}); err != nil {
						return
					}
				}
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-quit:
						return
					case <-tick.C:
						if trickle {
							if _, err := c.Write([]byte{0}); err != nil {
								return
							}
						}
					}
				}
			}()
		}
	}()
	return s
}

// A truncated answer's TCP follow-up starts when the truncated answer comes,
// not when someone waits for the query: a caller waiting for several queries
// in turn (a list's test points) would otherwise give each later one a whole
// timeout more (TC and a dead TCP server took 3 s against a 2 s bound with a
// 1 s timeout and a retry). A dead or trickling TCP server ends the query with
// a timeout of its own.
func TestTruncatedFollowUpNotWaited(t *testing.T) {
	for _, trickle := range []bool{false, true} {
		srv := newTruncServer(t, trickle)
		c, err := resolver.New(resolver.Config{Servers: []string{srv.addr}, Timeout: time.Second, Retries: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound on the test, not a measure
		p := c.Start(ctx, "big.bl.test", resolver.TypeA)
		for srv.accepted.Load() == 0 && ctx.Err() == nil { // nobody waits for p yet
			time.Sleep(5 * time.Millisecond)
		}
		if ctx.Err() != nil {
			t.Fatalf("trickle %v: no TCP connection until the query is waited for", trickle)
		}
		_, err = p.Wait()
		if kindOf(err) != resolver.Timeout || ctx.Err() != nil {
			t.Errorf("trickle %v: %v (kind %q), want a timeout of the query's own", trickle, err, kindOf(err))
		}
		cancel()
		c.Close()
	}
}

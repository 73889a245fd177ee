package resolver

import (
	"context"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// TestRTO: the wait before a copy is sent again follows the round trips of the
// window's queries: a server that answers in a millisecond, always, is asked
// again after minRTO (not 50ms, which held each query lost to a full socket
// buffer for a third of a bulk run); one whose answers vary widely gets a
// variation that keeps its RTO above the slow ones; a far, steady server four
// round trips; nothing known, 500ms; never more than half the timeout.
func TestRTO(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	tests := []struct {
		name     string
		samples  []time.Duration
		timeout  time.Duration
		min, max time.Duration
	}{
		{"nothing known", nil, 5 * time.Second, 500 * time.Millisecond, 500 * time.Millisecond},
		{"near and steady", repeat(ms(1), 50), 5 * time.Second, minRTO, minRTO},
		{"far and steady", repeat(ms(50), 50), 5 * time.Second, ms(190), ms(210)},
		{"some cached, some not", alternate(ms(0.2), ms(80), 50), 5 * time.Second, ms(150), time.Second},
		{"half the timeout at most", repeat(ms(900), 10), time.Second, ms(500), ms(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{timeout: tt.timeout}
			for _, s := range tt.samples {
				c.rtt.observe(s)
			}
			if got := c.rto(); got < tt.min || got > tt.max {
				t.Errorf("rto %v, want %v to %v", got, tt.min, tt.max)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func alternate(a, b time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = a
		if i%2 == 1 {
			out[i] = b
		}
	}
	return out
}

// TestRTOSamplesTheWindowsQueries: a health probe (Unbounded), which a caching
// resolver answers from its cache, says nothing of how long the lists take:
// only the window's queries are samples.
func TestRTOSamplesTheWindowsQueries(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("probe.bl.test", "127.0.0.2")
	srv.A("subject.bl.test", "127.0.0.2")
	c, err := New(Config{Servers: []string{srv.Addr}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Lookup(Unbounded(context.Background()), "probe.bl.test", TypeA); err != nil {
		t.Fatal(err)
	}
	if srtt, _ := c.rtt.get(); srtt != 0 {
		t.Fatalf("a health probe was sampled: srtt %v", srtt)
	}
	if _, err := c.Lookup(context.Background(), "subject.bl.test", TypeA); err != nil {
		t.Fatal(err)
	}
	if srtt, _ := c.rtt.get(); srtt == 0 {
		t.Fatal("the window's query was not sampled")
	}
}

// TestRTOLearnsFromSlowAnswers: after a fast answer (a resolver's cache hit)
// the RTO is at its floor, and a slow answer (a cache miss) is sent again
// before it comes. Its answer to the first copy is still a round trip, and
// must raise the RTO above it: sampled only when sent once, slow answers were
// never seen, and every miss was sent again at the floor for good.
func TestRTOLearnsFromSlowAnswers(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("x.slow.bl.test", "127.0.0.2")
	const slow = 150 * time.Millisecond
	srv.AddFault(dnsbltest.Fault{Suffix: "slow.bl.test", Kind: dnsbltest.Delay, Delay: slow})
	c, err := New(Config{Servers: []string{srv.Addr}, Timeout: 2 * time.Second, Retries: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// a cache hit's round trip, given rather than timed: a busy machine's
	// loopback may take longer than the floor's quarter
	c.rtt.observe(time.Millisecond)
	if got := c.rto(); got != minRTO {
		t.Fatalf("after a fast answer the RTO is %v, want the floor %v", got, minRTO)
	}
	a, err := c.Lookup(context.Background(), "x.slow.bl.test", TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.rto(); got < slow {
		t.Errorf("after an answer in %v (sent %d times) the RTO is %v: it would send every such query again", a.RTT, a.Resends+1, got)
	}
}

package resolver

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestBackoffSchedule drives a socket's clock by hand (scan takes the time it
// is asked at), so the schedule of copies is asserted exactly, whatever the
// machine's load: a copy an RTO after the first, each next one twice as long
// after the one before, none after the try's deadline, and a clock that ticks
// late sends one copy per look, never a burst to catch up.
func TestBackoffSchedule(t *testing.T) {
	const rto = 50 * time.Millisecond
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name    string
		step    time.Duration // how often the clock looks
		timeout time.Duration
		want    []time.Duration // when each copy after the first goes out
	}{
		{"on time", tickOf(rto), 2 * time.Second, ms(50, 150, 350, 750, 1550)},
		{"a late clock", 300 * time.Millisecond, 2 * time.Second, ms(300, 600, 900, 1500)},
		{"a short timeout", tickOf(rto), 400 * time.Millisecond, ms(50, 150, 350)},
		{"the wait stops growing at 64 RTOs", tickOf(rto), 10 * time.Second, ms(50, 150, 350, 750, 1550, 3150, 6350, 9550)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &muxSock{rto: func() time.Duration { return rto }, wait: map[uint16]*muxCall{}, kick: make(chan struct{}, 1)}
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			call := &muxCall{sock: s, ctx: context.Background(), wire: make([]byte, 12),
				deadline: t0.Add(tc.timeout), last: t0, sent: 1}
			call.arm()
			if err := s.register(call); err != nil {
				t.Fatal(err)
			}
			var got []time.Duration
			for now := t0.Add(tc.step); ; now = now.Add(tc.step) {
				again, busy := s.scan(now, nil)
				if slices.Contains(again, call) {
					got = append(got, now.Sub(t0))
				}
				if !busy {
					break
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("copies sent again at %v, want %v", got, tc.want)
			}
			r := call.wait()
			if !errors.Is(r.err, context.DeadlineExceeded) || r.sent != len(tc.want)+1 {
				t.Errorf("ended with %v after %d copies, want the deadline after %d", r.err, r.sent, len(tc.want)+1)
			}
			if len(s.wait) != 0 {
				t.Errorf("%d IDs still reserved", len(s.wait))
			}
		})
	}
}

// TestTickOf: the clock looks a quarter of an RTO apart, so a copy is at most a
// quarter late, but never less often than every 5ms (a run's end and a try's
// deadline are seen soon after) nor more often than every millisecond.
func TestTickOf(t *testing.T) {
	for _, tc := range []struct{ rto, want time.Duration }{
		{minRTO, minRTO / 4},
		{16 * time.Millisecond, 4 * time.Millisecond},
		{200 * time.Millisecond, 5 * time.Millisecond}, // a server 50ms away
		{500 * time.Millisecond, 5 * time.Millisecond}, // no round trip known yet
		{2 * time.Millisecond, time.Millisecond},       // a test's short timeout
	} {
		if got := tickOf(tc.rto); got != tc.want {
			t.Errorf("tickOf(%v) = %v, want %v", tc.rto, got, tc.want)
		}
	}
}

// TestSweepEndsCanceledQueries: a query whose context has ended is ended by
// the socket's clock; Sweep has it look now, not at its next tick (an hour
// away here), so that a run's end that cancels its unneeded queries and waits
// for them does not wait for the tick.
func TestSweepEndsCanceledQueries(t *testing.T) {
	s := &muxSock{rto: func() time.Duration { return time.Second }, tick: func(time.Duration) time.Duration { return time.Hour },
		wait: map[uint16]*muxCall{}, kick: make(chan struct{}, 1), quit: make(chan struct{})}
	defer close(s.quit)
	go s.clock()
	ctx, cancel := context.WithCancel(context.Background())
	call := &muxCall{sock: s, ctx: ctx, wire: make([]byte, 12), deadline: time.Now().Add(time.Hour), last: time.Now(), sent: 1}
	call.arm()
	ended := make(chan muxReply, 1)
	go func() { ended <- call.wait() }()
	s.mu.Lock()
	err := s.register(call) // wakes the clock: its first tick is an hour away
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for { // the register's wake-up may be taken after this sweep's: sweep until the clock sees it
		s.sweep()
		select {
		case r := <-ended:
			if !errors.Is(r.err, context.Canceled) {
				t.Fatalf("ended with %v, want canceled", r.err)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Since(call.last) > 10*time.Second {
			t.Fatal("the canceled query was not ended by Sweep")
		}
	}
}

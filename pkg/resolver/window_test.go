package resolver

import (
	"context"
	"testing"
	"time"
)

// fill takes every free slot and returns their sequence numbers.
func fill(w *Window) []uint64 {
	var seqs []uint64
	for {
		s := w.TryAcquire()
		if s == 0 {
			return seqs
		}
		seqs = append(seqs, s)
	}
}

func TestWindowHalvesOncePerEpisode(t *testing.T) {
	w := NewWindow(256)
	seqs := fill(w)
	if len(seqs) != 256 {
		t.Fatalf("a fresh window of 256 took %d queries", len(seqs))
	}
	// two queries of the same burst are lost: one cut, not two
	w.Release(seqs[0], true)
	w.Release(seqs[1], true)
	if got := w.size(); got != 128 {
		t.Fatalf("after one loss episode the window is %d, want 128", got)
	}
	for _, s := range seqs[2:] {
		w.Release(s, false)
	}
	if got := len(fill(w)); got != 128 {
		t.Fatalf("the halved window let %d queries in flight, want 128", got)
	}
	// a query sent after the cut is lost: a new episode
	later := w.seq
	w.Release(later, true)
	if got := w.size(); got != 64 {
		t.Fatalf("after a second episode the window is %d, want 64", got)
	}
	if w.cuts != 2 {
		t.Fatalf("cuts = %d, want 2", w.cuts)
	}
}

func TestWindowFloorAndSmallBounds(t *testing.T) {
	w := NewWindow(64)
	for range 10 {
		s := w.Acquire(context.Background())
		w.Release(s, true)
	}
	if got := w.size(); got != minWindow {
		t.Fatalf("after many losses the window is %d, want the floor %d", got, minWindow)
	}
	small := NewWindow(4) // --concurrency below the floor: never cut
	s := small.Acquire(context.Background())
	small.Release(s, true)
	if got := small.size(); got != 4 {
		t.Fatalf("a window of 4 was cut to %d", got)
	}
}

func TestWindowGrowsBack(t *testing.T) {
	w := NewWindow(32)
	s := w.Acquire(context.Background())
	w.Release(s, true)
	if w.size() != 16 {
		t.Fatalf("size %d after a loss, want 16", w.size())
	}
	// one more slot per window's worth of answers, back up to the bound
	for i := 0; i < 10000 && w.size() < 32; i++ {
		w.Release(w.Acquire(context.Background()), false)
	}
	if w.size() != 32 {
		t.Fatalf("the window grew back only to %d", w.size())
	}
	if got := len(fill(w)); got != 32 {
		t.Fatalf("the regrown window let %d queries in flight, want 32", got)
	}
}

func TestWindowAcquireCanceled(t *testing.T) {
	w := NewWindow(1)
	w.TryAcquire()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s := w.Acquire(ctx); s != 0 {
		t.Fatalf("acquire on a full window with a canceled context gave slot %d", s)
	}
}

// TestWindowGivesBackInBatches: with many queries in flight, freed slots come
// back an eighth of the window at a time (one wake-up of the sender per batch);
// with few left in flight, at once.
func TestWindowGivesBackInBatches(t *testing.T) {
	w := NewWindow(64) // batches of 8
	w.hold = time.Hour // no timely give-back during the test
	seqs := fill(w)
	for _, s := range seqs[:7] {
		w.Release(s, false)
	}
	if s := w.TryAcquire(); s != 0 {
		t.Fatal("7 freed slots of a full window of 64 were given back before a batch of 8")
	}
	w.Release(seqs[7], false)
	if got := len(fill(w)); got != 8 {
		t.Fatalf("after a batch of 8, %d slots were free", got)
	}
	// now let all but 3 finish: the last ones come back without waiting for a batch
	w2 := NewWindow(64)
	w2.hold = time.Hour
	seqs = fill(w2)
	for _, s := range seqs[:61] {
		w2.Release(s, false)
	}
	if got := len(fill(w2)); got != 61 {
		t.Fatalf("with 3 queries left in flight, %d of 61 freed slots were given back", got)
	}
}

// TestLost: an answer that needed a copy sent again is a loss; a query with no
// answer at all (a dead list's timeout) is not, nor is a prompt answer.
func TestLost(t *testing.T) {
	timeout := &Error{Kind: Timeout, Name: "x", Tries: 2}
	for _, tc := range []struct {
		a    *Answer
		err  error
		want bool
	}{
		{&Answer{Resends: 1, Lost: true}, nil, true},
		{&Answer{Resends: 2}, nil, false}, // the first copy answered, late
		{&Answer{}, nil, false},
		{nil, timeout, false},
		{nil, &Error{Kind: ServFail}, false},
	} {
		if got := Lost(tc.a, tc.err); got != tc.want {
			t.Errorf("Lost(%+v, %v) = %v, want %v", tc.a, tc.err, got, tc.want)
		}
	}
}

// TestWindowHoldsFreedSlotsBriefly: slots freed while the rest of the window
// waits out a timeout (a dead list's queries) come back after holdFreed, not when
// those queries end.
func TestWindowHoldsFreedSlotsBriefly(t *testing.T) {
	w := NewWindow(64)
	seqs := fill(w)
	for _, s := range seqs[:3] { // 61 left in flight, as if waiting out a timeout
		w.Release(s, false)
	}
	got := 0
	for end := time.Now().Add(10 * time.Second); got < 3 && time.Now().Before(end); time.Sleep(time.Millisecond) {
		got += len(fill(w))
	}
	if got != 3 {
		t.Fatalf("%d of the 3 freed slots came back while the window's other queries were in flight", got)
	}
}

// A Client's window starts at FirstBurst and doubles with each round trip's
// answers, up to its most; the first loss ends the doubling.
func TestWindowSlowStart(t *testing.T) {
	w := newWindow(256, FirstBurst)
	for round, want := range []int{FirstBurst, 2 * FirstBurst, 256, 256} {
		seqs := fill(w)
		if len(seqs) != want {
			t.Fatalf("round %d: %d queries let go, want %d", round, len(seqs), want)
		}
		for _, s := range seqs {
			w.Release(s, false)
		}
	}
	if w.cuts != 0 {
		t.Errorf("%d cuts without a loss", w.cuts)
	}

	w = newWindow(256, FirstBurst)
	seqs := fill(w)
	w.Release(seqs[0], true) // the path's limit: halved, and no more doubling
	for _, s := range seqs[1:] {
		w.Release(s, false)
	}
	if got := len(fill(w)); got != FirstBurst/2 {
		t.Errorf("after a loss in slow start: %d queries let go, want %d", got, FirstBurst/2)
	}

	if got := len(fill(newWindow(32, FirstBurst))); got != 32 {
		t.Errorf("a window smaller than the first burst lets %d go, want all 32", got)
	}
}

// TestTurnCanceled: callers wait for slots one at a time (takeSlots), and a
// caller whose context ends while another holds the turn is not held by it.
func TestTurnCanceled(t *testing.T) {
	w := NewWindow(1)
	w.TryAcquire() // full
	ctx, cancel := context.WithCancel(context.Background())
	holder := waitInTurn(t, ctx, w)
	done, stop := context.WithCancel(context.Background())
	stop()
	if n := takeSlots(done, w, []*Pending{{}, {}}); n != 0 {
		t.Errorf("a caller whose context ended while waiting for its turn took %d slots", n)
	}
	cancel()
	if n := <-holder; n != 0 {
		t.Errorf("the caller in its turn took %d slots of a full window after its context ended", n)
	}
	if len(w.turn) != 0 {
		t.Error("the turn was not given up")
	}
}

// TestSlotsHeldWaitForNoTurn: queries that hold their slots already (IfFree:
// claim gave them one) leave at once, even while another caller holds the
// turn waiting for a slot, which may be one of theirs.
func TestSlotsHeldWaitForNoTurn(t *testing.T) {
	w := NewWindow(1)
	held := &Pending{win: w, seq: w.TryAcquire()} // the only slot
	waiting, stop := context.WithCancel(context.Background())
	defer stop()
	holder := waitInTurn(t, waiting, w)
	// the bound only ends a failing test
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if n := takeSlots(ctx, w, []*Pending{held}); n != 1 {
		t.Fatalf("the query holding its slot left with %d (its context: %v), want 1 at once", n, ctx.Err())
	}
	w.Release(held.seq, false)
	if n := <-holder; n != 1 {
		t.Errorf("the waiting caller took %d slots once the slot was given back, want 1", n)
	}
}

// waitInTurn starts a caller that takes the window's turn and waits in it for
// a slot, and returns once it holds the turn; the caller says on the channel
// how many slots it took.
func waitInTurn(t *testing.T, ctx context.Context, w *Window) <-chan int {
	t.Helper()
	holder := make(chan int, 1)
	go func() { holder <- takeSlots(ctx, w, []*Pending{{}}) }()
	// the bound only ends a failing test
	for end := time.Now().Add(20 * time.Second); len(w.turn) == 0 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	if len(w.turn) == 0 {
		t.Fatal("the waiting caller never took its turn")
	}
	return holder
}

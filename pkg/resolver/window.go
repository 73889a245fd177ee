package resolver

import (
	"context"
	"sync"
	"time"
)

// minWindow is the fewest queries the window keeps in flight, however lossy the
// path.
const minWindow = 16

// Window bounds the queries in flight to one server, for every caller of the
// Client at once: callers take a slot before they send a query and give it back
// with whether its packets were lost (Answer.Lost), the loss signal the window
// shrinks on. Config.Concurrency is the most it ever allows.
//
// A Client's window starts small (FirstBurst) and grows by one query for each
// answer, doubling every round trip, as TCP's slow start does, up to its most
// or its first loss: the first burst of a bulk run does not overrun a server's
// socket buffer, whose losses would each hold a slot for an RTO and halve the
// window twice. When queries are lost (see lost: the answer came to a copy sent
// again after an RTO, not to the first), it halves, as TCP's congestion window
// does, and then grows back by one query for each window's worth of answers. A
// server that drops queries because they come faster than it answers them
// (rbldnsd's socket buffer holds about 170) is then sent fewer at a time instead
// of losing more, each of which would hold its slot for an RTO.
//
// Slots are the tokens of a channel, so taking and returning one is cheap; to
// shrink, the window keeps the tokens of finished queries for itself ("parked")
// instead of returning them, and to grow it returns one. Freed slots are given
// back an eighth of the window at a time while enough queries remain in flight,
// so that a full window's sender wakes once to send a batch of queries in one
// system call instead of once a query; but never later than holdFreed after the
// first of them was freed, since the queries left in flight may be waiting out
// a timeout (a dead list's).
type Window struct {
	slots chan struct{}
	// turn is held by the one caller that may wait for a slot (enter): slots
	// given back together then go to one caller's batch, sent in one system
	// call, not one to each of the callers waiting, each sending its own
	turn chan struct{}

	mu      sync.Mutex
	seq     uint64        // queries sent so far
	recover uint64        // seq at the last cut: losses of queries sent before are the same episode
	parked  int           // tokens the window holds to stay smaller than slots
	freed   int           // tokens of finished queries not yet given back
	debt    int           // tokens still to park, taken from queries as they finish
	acked   int           // answers since the window last grew
	cuts    int           // times the window was halved (for tests and notes)
	slow    bool          // slow start: each answer grows the window by one, until a loss
	hold    time.Duration // holdFreed, but for tests
	flusher *time.Timer   // gives the freed slots back after hold
	armed   bool          // the flusher is set
}

// holdFreed is the longest a freed slot waits to be given back with others: a
// busy window frees a batch in a fraction of it.
const holdFreed = time.Millisecond

// NewWindow returns a window that allows n queries in flight at most, from the
// start.
func NewWindow(n int) *Window { return newWindow(n, n) }

// FirstBurst is the most queries a Client's window lets go before the first
// answers come back: well under the 170 or so that rbldnsd's socket buffer
// holds, with room for the lists' health probes that leave beside them.
const FirstBurst = 64

// newWindow is a window of n queries at most that starts at first (slow start
// when first < n).
func newWindow(n, first int) *Window {
	w := &Window{slots: make(chan struct{}, n), turn: make(chan struct{}, 1), hold: holdFreed}
	if first > 0 && first < n {
		w.parked, w.slow = n-first, true
		for range w.parked {
			w.slots <- struct{}{}
		}
	}
	return w
}

// size is the number of queries the window allows in flight now.
func (w *Window) size() int { return cap(w.slots) - w.parked - w.debt }

// batch is how many freed slots are given back at once.
func (w *Window) batch() int { return max(w.size()/8, 1) }

// TryAcquire takes a slot if one is free at once, and returns the query's sequence
// number (0 when no slot was free).
func (w *Window) TryAcquire() uint64 {
	select {
	case w.slots <- struct{}{}:
		return w.next()
	default:
		return 0
	}
}

// Acquire waits for a slot; 0 if ctx ended first. A free slot is taken
// without looking at ctx: a select that may wait locks every channel it
// names, and ctx's is shared by every query of a run.
func (w *Window) Acquire(ctx context.Context) uint64 {
	if seq := w.TryAcquire(); seq != 0 {
		return seq
	}
	select {
	case w.slots <- struct{}{}:
		return w.next()
	case <-ctx.Done():
		return 0
	}
}

// enter waits for the caller's turn to take slots (false if ctx ended first);
// leave ends it. A caller takes its slots in its turn: waiting for the first,
// then each that is free at once.
func (w *Window) enter(ctx context.Context) bool {
	select {
	case w.turn <- struct{}{}:
		return true
	default:
	}
	select {
	case w.turn <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *Window) leave() { <-w.turn }

func (w *Window) next() uint64 {
	w.mu.Lock()
	w.seq++
	s := w.seq
	w.mu.Unlock()
	return s
}

// Release returns the slot of query seq, which was lost or not.
func (w *Window) Release(seq uint64, lost bool) {
	w.mu.Lock()
	if lost {
		w.slow = false // the window found the path's limit
	}
	if lost && seq > w.recover && w.size() > minWindow {
		// one cut per episode: the queries already in flight may be lost too,
		// and they say nothing about the smaller window
		w.debt += w.size() - max(w.size()/2, minWindow)
		w.recover = w.seq
		w.acked = 0
		w.cuts++
	}
	unpark := false
	if !lost && w.slow && w.parked > 0 {
		w.parked-- // slow start: one more query in flight for each answer
		unpark = true
		w.slow = w.parked > 0
	} else if !lost && seq > w.recover {
		// only answers to queries sent at the present size count for growth
		w.acked++
		if w.acked >= w.size() && w.parked+w.debt > 0 {
			w.acked = 0
			if w.debt > 0 {
				w.debt--
			} else {
				w.parked--
				unpark = true
			}
		}
	}
	if w.debt > 0 {
		w.debt--
		w.parked++
	} else {
		w.freed++
	}
	if unpark {
		w.freed++
	}
	// give the freed slots back in a batch, or at once when few queries are
	// left in flight to end the wait (they always end, if only by timing out)
	give := 0
	if inFlight := len(w.slots) - w.parked - w.freed; w.freed >= w.batch() || inFlight < w.batch() {
		give, w.freed = w.freed, 0
	} else if w.freed > 0 && !w.armed {
		w.armed = true
		if w.flusher == nil {
			w.flusher = time.AfterFunc(w.hold, w.flush)
		} else {
			w.flusher.Reset(w.hold)
		}
	}
	w.mu.Unlock()
	for range give {
		<-w.slots
	}
}

// flush gives back the freed slots held for a batch.
func (w *Window) flush() {
	w.mu.Lock()
	give := w.freed
	w.freed, w.armed = 0, false
	w.mu.Unlock()
	for range give {
		<-w.slots
	}
}

// stop ends the flusher's timer: the Client is closed.
func (w *Window) stop() {
	w.mu.Lock()
	if w.flusher != nil {
		w.flusher.Stop()
	}
	w.mu.Unlock()
	w.flush()
}

// Cap is the most queries the window ever allows in flight.
func (w *Window) Cap() int { return cap(w.slots) }

// Lost says whether a query's packets were lost on the way: its answer came, but
// to a copy sent again, not to the first. A slow answer to the first copy is not
// a loss (a list farther away than the others), nor is no answer at all: a dead
// list times out every query sent to it, which says nothing of the server's
// load, and halving the window for either would leave the slots waiting on it.
func Lost(a *Answer, _ error) bool {
	return a != nil && a.Lost
}

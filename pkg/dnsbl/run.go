package dnsbl

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
	"golang.org/x/time/rate"
)

type listState struct {
	*catalog.Selected
	answered, failed int // checks, counted under runner.mu
	failures         map[Status]int
	pos              int
	zone             string // the real zone, key inserted: never printed
	limiter          *rate.Limiter
	done             chan struct{}
	health           Health
	healthAt         time.Time // when the test queries behind health were sent
	// confirmed is the health of the latest confirmation of one of its answers
	// in this call (guarded by runner.mu), which the result reports when set
	confirmed *Health
	// direct: the list is asked at its own servers (Options.Direct);
	// askedDirect: some query of this run was; refusedOnce: its refusal of a
	// direct query is recorded
	direct, askedDirect, refusedOnce atomic.Bool
}

type subjectState struct {
	Subject
	pos      int
	eager    bool // its TXT is asked with its A (TXTAuto)
	pending  atomic.Int64
	ok       atomic.Int64
	failed   atomic.Int64
	canceled atomic.Int64
	checks   []Check // finished, kept until the subject is done (guarded by runner.mu)
}

type targetState struct {
	res     *TargetResult
	pending atomic.Int64
	cut     atomic.Bool  // the run's end left some of it unasked
	done    atomic.Int64 // subjects finished
}

type job struct {
	t     *targetState
	s     *subjectState
	l     *listState
	name  string // asked of the real (keyed) zone: never printed
	shown string // the same name as shown, key as {key}
}

// flight is a job whose A query is in flight; it holds one slot of the window,
// and a second one if its TXT query was sent with it.
type flight struct {
	job
	p      *resolver.Pending
	seq    uint64            // its slot
	direct bool              // sent to the list's own servers
	txt    *resolver.Pending // the TXT query sent with the A, or nil
	txtSeq uint64            // the TXT query's slot
}

// runner is one call of a Checker: its targets, its lists' state in it, and its result.
type runner struct {
	ck           *Checker
	o            Options    // the Checker's
	ro           RunOptions // this call's
	overlap      bool       // two lists of the run share a root (part_of): a subject's checks wait for each other
	resolverDone chan struct{}
	resolver     ResolverHealth
	lists        []*listState
	win          *resolver.Window // one slot per query in flight
	flights      chan flight      // A queries sent, in the order sent
	probeGate    chan struct{}    // closed once the first subject's queries are out
	eager        bool             // the run's first subjects ask TXT with A
	gateOnce     sync.Once
	obs          Observer

	reasons sync.WaitGroup // TXT lookups of listings in progress
	// eager TXT queries of what was not listed: their answers are not needed,
	// so the run's end cancels them (txtCtx) and waits for their goroutines
	txtCtx     context.Context
	cancelTXT  context.CancelFunc
	dropped    sync.WaitGroup
	takers     sync.WaitGroup
	nTakers    atomic.Int64 // takers started
	idle       atomic.Int64 // takers waiting for a flight
	startTaker func()

	mu     sync.Mutex
	obsMu  sync.Mutex // serialises the observer's calls, made outside mu
	result *Result
	// checks answered (listed, clean, allowlisted), failed (error, blocked,
	// unreliable), and failed for want of any answer (timeout, network, REFUSED)
	answered, failed, unreachable int
}

// lookup makes one DNS query of a target's own records (A, AAAA, MX, SPF's TXT)
// within the concurrency bound. These go to the resolver, not to a list, so no
// list's rate applies.
func (r *runner) lookup(ctx context.Context, name string, t resolver.Type) (*resolver.Answer, error) {
	seq := r.win.Acquire(ctx)
	if seq == 0 {
		return nil, &resolver.Error{Kind: resolver.Canceled, Name: name}
	}
	a, err := r.o.Resolver.Lookup(ctx, name, t)
	r.win.Release(seq, resolver.Lost(a, err))
	return a, err
}

// send starts the jobs' A queries within the rate limit and the concurrency
// bound, in as few system calls as it can (the queries that have their slots leave
// together), and queues them for the takers. An eager subject's TXT queries leave
// right after its A queries, each where a slot and the list's rate allow it at
// once. A job the run's end left unsent is not counted.
func (r *runner) send(ctx context.Context, jobs []job) {
	ready := make([]flight, 0, len(jobs))
	names := make([]string, 0, len(jobs))
	var txtNames []string
	flush := func() {
		if len(ready) == 0 {
			return
		}
		ps, tps := r.startAll(ctx, ready, names, txtNames)
		for i := range ready {
			ready[i].p = ps[i]
			if ready[i].txtSeq != 0 {
				ready[i].txt, tps = tps[0], tps[1:]
			}
			r.flights <- ready[i]
			if r.idle.Load() == 0 && r.nTakers.Load() < int64(r.win.Cap()) {
				r.startTaker()
			}
		}
		ready, names, txtNames = ready[:0], names[:0], txtNames[:0]
	}
	defer flush()
	for _, j := range jobs {
		if j.l.limiter != nil && !j.l.limiter.Allow() {
			flush() // what has its slots does not wait for this list's rate
			if j.l.limiter.Wait(ctx) != nil {
				j.t.cut.Store(true) // the run's end left the rest unsent
				j.s.canceled.Add(1)
				return
			}
		}
		seq := r.win.TryAcquire()
		if seq == 0 {
			// the bound is reached: send what has its slots; answers now wait for
			// their lists' health, so the probes must not wait for the rest of
			// this subject
			flush()
			r.openProbeGate()
			if seq = r.win.Acquire(ctx); seq == 0 {
				j.t.cut.Store(true)
				j.s.canceled.Add(1)
				return
			}
		}
		j.t.pending.Add(1)
		j.s.pending.Add(1)
		f := flight{job: j, seq: seq, direct: j.l.direct.Load()}
		if j.s.eager {
			if f.txtSeq = r.eagerSlot(j.l); f.txtSeq != 0 {
				txtNames = append(txtNames, j.name)
			}
		}
		ready = append(ready, f)
		names = append(names, j.name)
	}
}

// startAll starts the flights' A queries (names) and the TXT queries sent with
// them (txtNames, in the same order): those of lists asked through the resolver
// in one batch each, those of lists asked directly one by one.
func (r *runner) startAll(ctx context.Context, ready []flight, names, txtNames []string) (ps, tps []*resolver.Pending) {
	var viaNames, viaTXT []string
	for i, f := range ready {
		if !f.direct {
			viaNames = append(viaNames, names[i])
			if f.txtSeq != 0 {
				viaTXT = append(viaTXT, f.name)
			}
		}
	}
	vps := r.o.Resolver.StartAll(ctx, viaNames, resolver.TypeA)
	var vtps []*resolver.Pending
	if len(viaTXT) > 0 {
		vtps = r.o.Resolver.StartAll(r.txtCtx, viaTXT, resolver.TypeTXT)
	}
	for i, f := range ready {
		if f.direct {
			f.l.askedDirect.Store(true)
			ps = append(ps, r.start(ctx, f.l, true, names[i], resolver.TypeA))
			if f.txtSeq != 0 {
				tps = append(tps, r.start(r.txtCtx, f.l, true, f.name, resolver.TypeTXT))
			}
			continue
		}
		ps, vps = append(ps, vps[0]), vps[1:]
		if f.txtSeq != 0 {
			tps, vtps = append(tps, vtps[0]), vtps[1:]
		}
	}
	return ps, tps
}

// eagerSlot takes a slot for a TXT query sent with its A, if the list's rate and
// the window allow one at once (0 if not): an eager TXT query never waits, nor
// delays the A queries.
func (r *runner) eagerSlot(l *listState) uint64 {
	if l.limiter != nil && !l.limiter.Allow() {
		return 0
	}
	return r.win.TryAcquire()
}

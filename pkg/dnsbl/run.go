package dnsbl

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
	"golang.org/x/time/rate"
)

type listState struct {
	*catalog.Selected
	answered, failed atomic.Int64 // checks (record)
	timeouts         atomic.Int64 // failed checks that timed out (record)
	scoutAt          atomic.Int64 // when silent last let a query through (UnixNano)
	failures         tally        // failed checks by status
	pos              int
	zone             string // the real zone, key inserted: never printed
	limiter          *rate.Limiter
	done             chan struct{}
	// used is set, and needed closed, when a subject of the run is first
	// planned to be asked of the list (runner.need): a run's own health check
	// waits for it, so that a list nobody asks is not asked its test points.
	used     atomic.Bool
	needed   chan struct{}
	health   Health
	healthAt time.Time // when the test queries behind health were sent
	// confirmed is the health of the latest confirmation of one of its answers
	// in this call (guarded by runner.mu), which the result reports when set
	confirmed *Health
	// direct: the list is asked at its own servers (Options.Direct);
	// askedDirect: some query of this run was; refusedOnce: its refusal of a
	// direct query is recorded
	direct, askedDirect, refusedOnce atomic.Bool
	skips                            [3]error // familySkip's for IPv4 and IPv6, keySkip's
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
	mu      sync.Mutex // guards res's counts and checks while its checks come in (record)
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

// flight is a job whose A query is in flight.
type flight struct {
	job
	p      *resolver.Pending
	direct bool              // sent to the list's own servers
	eager  bool              // its TXT query is to be sent with the A, if that costs no wait
	txt    *resolver.Pending // the TXT query sent with the A, or nil
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
	conc         int            // the resolver's concurrency: the bound of the queues
	flights      chan *[]flight // A queries sent, a subject's together, in the order sent
	probeGate    chan struct{}  // closed once the first subject's queries are out
	planned      chan struct{}  // closed once every subject of the run is planned
	someUsed     chan struct{}  // closed when a subject is first planned against a list (need)
	firstUse     sync.Once
	nx           nxPlan     // the resolver's health check's made-up names
	probes       probeBatch // the test queries that leave when it opens
	eager        bool       // the run's first subjects ask TXT with A
	gateOnce     sync.Once
	obs          Observer

	reasons sync.WaitGroup // goroutines judging aside (take), and listings' TXT lookups
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
	// cut is set (under mu) when a started target was cut short: by the run's
	// end, or before it, by a list's rate that would pass the run's deadline
	// (its limiter refuses to wait, with ctx still live).
	cut bool
	// The counts of checks are kept outside mu (record), and put in the
	// result's summary at the end (summarise): checks answered (listed, clean,
	// allowlisted), failed (error, blocked, unreliable), and failed for want
	// of any answer (timeout, network, REFUSED); all checks by status; and
	// the summary's other counts.
	answered, failed, unreachable atomic.Int64
	byStatus                      tally
	checks, failedChecks, dups    atomic.Int64
}

// tally counts checks by status, without a lock.
type tally [len(statusOrder)]atomic.Int64

func (t *tally) add(s Status) {
	for i, o := range statusOrder {
		if o == s {
			t[i].Add(1)
			return
		}
	}
}

// counts returns the non-zero counts, or nil when every one is zero.
func (t *tally) counts() map[Status]int {
	var m map[Status]int
	for i := range t {
		if n := t[i].Load(); n > 0 {
			if m == nil {
				m = map[Status]int{}
			}
			m[statusOrder[i]] = int(n)
		}
	}
	return m
}

// lookup makes one DNS query of a target's own records (A, AAAA, MX, SPF's TXT),
// within the resolver's window. These go to the resolver, not to a list, so no
// list's rate applies.
func (r *runner) lookup(ctx context.Context, name string, t resolver.Type) (*resolver.Answer, error) {
	return r.o.Resolver.Lookup(ctx, name, t)
}

// send starts the A queries of a subject's planned jobs within the rate limit, in as few system
// calls as the resolver's window allows (it waits for its slots), and queues
// them for the takers. An eager subject's TXT queries leave right after its A
// queries, each where the list's rate and the window allow it at once. A job
// the run's end left unsent is not counted.
func (r *runner) send(ctx context.Context, ts *targetState, s *subjectState, planned []planned) {
	buf := getFlights()
	ready := (*buf)[:0]
	defer func() {
		r.startAll(ctx, ready)
		*buf = ready
		putFlights(buf) // startAll handed the flights on in a list of its own
	}()
	for _, p := range planned {
		j := job{t: ts, s: s, l: p.l, name: p.name, shown: p.shown}
		if err := j.l.silent(); err != nil {
			r.notSent(j, err)
			continue
		}
		if j.l.limiter != nil && !j.l.limiter.Allow() {
			r.startAll(ctx, ready) // what is ready does not wait for this list's rate
			ready = ready[:0]
			if j.l.limiter.Wait(ctx) != nil {
				j.t.cut.Store(true) // the run's end left the rest unsent
				j.s.canceled.Add(1)
				return
			}
		}
		f := flight{job: j, direct: j.l.direct.Load()}
		f.eager = j.s.eager && (j.l.limiter == nil || j.l.limiter.Allow())
		ready = append(ready, f)
	}
}

var flightPool = sync.Pool{New: func() any { return new([]flight) }}

// silentAfter is how many of a list's queries must have timed out, none
// answered, before the rest of the run stops asking it (listState.silent).
const silentAfter = 8

// errSilent is the error of a check not sent to a list that does not answer.
var errSilent = &CheckError{Kind: ErrTimeout, Msg: fmt.Sprintf("no answer (timed out): not sent, since the list "+
	"has answered none of this run's queries (its test points failed, and %d or more others timed out)", silentAfter)}

// scoutEvery is how often a silent list is sent one query all the same: a
// list that answers again (an outage over, in a long sweep) is asked again.
const scoutEvery = 5 * time.Second

// silent is errSilent once the list is known not to answer in this run: its
// test points got no answer (HealthNoAnswer), and at least silentAfter of its
// queries timed out while none was answered. Each query sent after that
// would only wait out its timeout and retries for the same error: a /24
// through a resolver that had stopped answering took 78 s, most of it
// waiting. One query in scoutEvery is let through, and the first answer ends
// the silence. The checks not sent are errors, never clean; nil otherwise.
func (l *listState) silent() error {
	if l.timeouts.Load() < silentAfter || l.answered.Load() > 0 {
		return nil
	}
	select {
	case <-l.done:
	default:
		return nil // its test points are not in yet
	}
	if l.health.State != HealthNoAnswer {
		return nil
	}
	now, last := time.Now().UnixNano(), l.scoutAt.Load()
	if now-last >= int64(scoutEvery) && l.scoutAt.CompareAndSwap(last, now) {
		return nil // this one goes: a scout
	}
	return errSilent
}

// notSent finishes a job whose query is not sent, with err as its error.
func (r *runner) notSent(j job, err error) {
	c := Check{Subject: j.s.Name, List: j.l.List, Zone: j.l.List.Zone, Query: j.shown, subject: j.s.pos, list: j.l.pos,
		Status: Error, Err: err}
	j.t.pending.Add(1)
	j.s.pending.Add(1)
	r.finish(j.t, j.s, c)
}

// startAll starts the flights' A queries, and the TXT queries of the eager ones
// where a slot is free at once: those of lists asked through the resolver in
// one call each, those of lists asked directly one by one. It hands the sent
// flights to the takers, together; one the run's end left unsent is not counted.
func (r *runner) startAll(ctx context.Context, ready []flight) {
	if len(ready) == 0 {
		return
	}
	// the names of both lists in one allocation, each at its most
	names := make([]string, 0, 2*len(ready))
	viaNames, viaTXT := names[:0:len(ready)], names[len(ready):len(ready)]
	for _, f := range ready {
		if !f.direct {
			viaNames = append(viaNames, f.name)
			if f.eager {
				viaTXT = append(viaTXT, f.name)
			}
		}
	}
	vps := r.o.Resolver.StartAll(ctx, viaNames, resolver.TypeA)
	// The health probes leave after the first A queries through the resolver
	// (at once when the first subject's lists are all asked directly), before
	// their TXT queries: the run ends when the last answer it needs is in, and
	// most eager TXT answers are not needed (the run's end cancels them).
	r.releaseProbes(ctx)
	var vtps []*resolver.Pending
	if len(viaTXT) > 0 {
		vtps = r.o.Resolver.StartAll(resolver.IfFree(r.txtCtx), viaTXT, resolver.TypeTXT)
	}
	sent := getFlights()
	for _, f := range ready {
		if f.direct {
			f.l.askedDirect.Store(true)
			f.p = r.start(ctx, f.l, true, f.name, resolver.TypeA)
			if f.eager {
				f.txt = r.start(r.txtCtx, f.l, true, f.name, resolver.TypeTXT)
			}
		} else {
			f.p, vps = vps[0], vps[1:]
			if f.eager {
				f.txt, vtps = vtps[0], vtps[1:]
			}
		}
		if f.p == nil { // the run ended before it was sent
			f.t.cut.Store(true)
			f.s.canceled.Add(1)
			continue
		}
		*sent = append(*sent, f)
	}
	if len(*sent) == 0 {
		putFlights(sent)
		return
	}
	r.fly(sent)
}

// fly queues a subject's sent flights for the takers, together, starting a
// taker if none is idle. One taker takes them all, in the order sent: their
// answers come in about together (a subject's queries leave in one batch), so
// it waits for the first and finds most of the rest in. Handed over one by
// one, each flight woke a taker of its own, which then slept again until its
// answer came: two goroutine switches a query, half the scheduler's work in a
// bulk run. A subject is done only once all its lists have answered, so taking
// them in turn costs little: what follows an answer (a listing's TXT asked
// after it, a refusal asked again directly) begins only once the answers
// before it in the subject are in, a round trip later than it could when a
// list before it is slow or dead (a subject waits for that list's timeout in
// any case).
func (r *runner) fly(fs *[]flight) {
	for _, f := range *fs {
		f.t.pending.Add(1)
		f.s.pending.Add(1)
	}
	r.flights <- fs
	if r.idle.Load() == 0 && r.nTakers.Load() < int64(r.conc) {
		r.startTaker()
	}
}

// takeAll takes a subject's flights (fly), and gives their list back.
func (r *runner) takeAll(ctx context.Context, fs *[]flight) {
	for _, f := range *fs {
		r.take(ctx, f)
	}
	putFlights(fs)
}

// getFlights and putFlights keep the lists of a subject's flights that send
// builds and startAll hands to the takers: a bulk run's largest allocation
// after the queries' own.
func getFlights() *[]flight { return flightPool.Get().(*[]flight) }

func putFlights(fs *[]flight) {
	clear((*fs)[:cap(*fs)]) // keeps no Pending alive
	*fs = (*fs)[:0]
	flightPool.Put(fs)
}

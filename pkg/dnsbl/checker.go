package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// Options configure a Checker: which lists it asks, through which resolver, and
// how hard. A Checker's options do not change; a program that wants other lists
// makes another Checker (they may share one resolver, and its cache).
type Options struct {
	Lists    []catalog.Selected
	Resolver resolver.Resolver
	// Rate bounds the queries per second sent to each list, across every call;
	// 0 means no limit.
	Rate         float64
	AllowPrivate bool      // send private, loopback... addresses found in DNS to the lists
	NoHealth     bool      // skip the test-point queries (health is then "unchecked")
	SPF          bool      // also check every address a domain's SPF record authorises
	PTR          bool      // also check each address's reverse DNS (a note per address)
	NS           bool      // also check the addresses of a domain's name servers (its registered domain's NS)
	TXT          TXTPolicy // when a listing's TXT reason is asked
	// HealthTTL is how long the lists' health (their RFC 5782 test points) and
	// the resolver's (whether it invents answers for names that do not exist)
	// stand once checked. 0 checks them in every call, as a one-shot run wants.
	// A long-lived Checker sets a few minutes (DefaultHealthTTL): a check of one
	// address then costs no probe query. Whatever it is, a listing, and a clean
	// answer for what the Checker last reported listed, stand only once the
	// list's test points asked after the answer came are answered correctly
	// (else the check is unreliable): a list that starts lying or dies within
	// HealthTTL raises no false alarm and no false clean. A bad health stands
	// BadHealthTTL at most, and drops the list's answers from the resolver's
	// cache. Health probes skip the resolver's answer cache.
	HealthTTL time.Duration
	// Now is the clock for HealthTTL, for tests; nil means time.Now.
	Now func() time.Time
	// Direct says when a list is asked at its own name servers, found from the
	// root by Iterator, instead of through Resolver (DirectNever: never).
	// Iterator is required unless Direct is DirectNever; share one between
	// Checkers, so that they share its delegation cache.
	Direct   DirectMode
	Iterator *resolver.Iterator
}

// DefaultHealthTTL is a sensible HealthTTL for a long-lived Checker.
const DefaultHealthTTL = 5 * time.Minute

// RunOptions configure one call of Run.
type RunOptions struct {
	// Observer is told of each check and each target as it completes.
	Observer Observer
	// Shard checks only this machine's share of the targets.
	Shard Shard
	// Eager says the targets are few enough for TXTAuto to ask TXT with A (see
	// EagerRun): the caller knows how many it will give; Check sets it itself.
	Eager bool
	// Stream keeps nothing of a target once the observer has seen it, so that
	// memory stays flat however many targets there are: Result.Targets is then
	// empty. By default every target's subjects and checks are kept.
	Stream bool
	// AllHealth checks the health of every list, asked about a target or not
	// (blcheck lists --probe: a run of no target). By default a run that makes
	// its own health checks (Options.HealthTTL 0) asks the test points of the
	// lists its targets are asked of, and the resolver's made-up names only if
	// there is one: a list no target is asked of has health HealthUnused, and
	// a run with nothing to ask sends nothing.
	AllHealth bool
}

// ErrClosed is returned by a Checker's calls after Close.
var ErrClosed = errors.New("dnsbl: the checker is closed")

// ErrNoAnswers is returned (with the result) when queries were sent and none
// was answered, each one failing with a timeout, a network error or REFUSED:
// the resolver cannot be reached, or refuses this client.
var ErrNoAnswers = errors.New("no query was answered (timeouts, network errors or REFUSED): the resolver may be unreachable")

// Checker checks targets against a fixed set of lists. It is made once and used
// for many checks, by many goroutines at once: the concurrency window, the
// lists' rate limits, their health and the resolver's cache are shared by every
// call, and the resolver's window (Config.Concurrency) bounds the queries in
// flight of all of them together. Its zero value is not usable: make one with New.
type Checker struct {
	opts     Options
	limiters []*rate.Limiter // by list position; nil without a rate

	mu       sync.Mutex
	closed   bool
	calls    sync.WaitGroup
	health   []*kept[Health] // by list position
	resolved *kept[ResolverHealth]
	// listed holds what was last reported listed (guarded by mu): a clean
	// answer for one of them is a change, confirmed before it is reported
	listed map[listing]struct{}
	// directUntil: until when each list is asked directly from a call's start
	// (DirectAuto: it refused the resolver, and its delegation still holds)
	directUntil []time.Time
}

// kept is a health check's result as last made, or being made (ready open):
// a list's Health, or the resolver's.
type kept[T any] struct {
	ready   chan struct{}
	value   T
	expires time.Time
	// started is when the check began (time.Now, monotonic): it vouches for
	// answers that came before it, never for later ones
	started time.Time
	cut     bool // the check was interrupted: it says nothing, and is done again
}

// listing is a subject the Checker last reported listed on a list (by position).
type listing struct {
	subject string
	pos     int
}

// maxRemembered bounds the listings a Checker remembers. Listings are rare; past
// the bound a new one is not remembered, and its delisting is then reported
// without a confirmation of its own.
const maxRemembered = 1 << 16

// New returns a Checker for the options. It fails only on options that cannot
// work (no resolver).
func New(o Options) (*Checker, error) {
	if o.Resolver == nil {
		return nil, errors.New("dnsbl: Options.Resolver is not set")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Direct != DirectNever && o.Iterator == nil {
		return nil, errors.New("dnsbl: Options.Direct needs Options.Iterator")
	}
	o.Lists = slices.Clone(o.Lists)
	// the window is the resolver's, one per server: every Checker and every
	// call on it share the bound on queries in flight, and its loss signal
	c := &Checker{opts: o, health: make([]*kept[Health], len(o.Lists)),
		listed: map[listing]struct{}{}, directUntil: make([]time.Time, len(o.Lists))}
	c.limiters = make([]*rate.Limiter, len(o.Lists))
	if o.Rate > 0 {
		for i := range c.limiters {
			c.limiters[i] = rate.NewLimiter(rate.Limit(o.Rate), max(int(o.Rate), 1))
		}
	}
	return c, nil
}

// Lists returns the lists the Checker asks.
func (c *Checker) Lists() []catalog.Selected { return slices.Clone(c.opts.Lists) }

// Check checks one target. The result keeps its subjects and checks.
func (c *Checker) Check(ctx context.Context, t Target) (*Result, error) {
	return c.Run(ctx, slices.Values([]Target{t}), RunOptions{Eager: EagerRun(c.opts.TXT, 1, t.Kind == KindCIDR)})
}

// CheckAddr checks one address: what a mail filter asks of each connection, or
// an exporter of each probe.
func (c *Checker) CheckAddr(ctx context.Context, a netip.Addr) (*Result, error) {
	a = a.Unmap()
	return c.Check(ctx, Target{Input: a.String(), Kind: KindIP, Form: "ip", Addr: a})
}

// Run checks targets as they come (a file read while it is checked), against
// the Checker's lists. One list's failure never stops the others. When ctx
// ends, the run stops: what was checked is still reported, and what was not is
// marked interrupted, never clean; the error is then ctx's. The result is
// returned whatever the error, except ErrClosed.
func (c *Checker) Run(ctx context.Context, targets iter.Seq[Target], ro RunOptions) (*Result, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.calls.Add(1)
	c.mu.Unlock()
	defer c.calls.Done()
	var queries atomic.Int64
	ctx = resolver.WithCounter(ctx, &queries)
	r := newRunner(ctx, c, ro)
	defer r.cancelTXT()
	res := r.run(ctx, targets)
	res.Queries = int(queries.Load())
	switch {
	case ctx.Err() != nil:
		return res, ctx.Err()
	case r.answered.Load() == 0 && r.failed.Load() > 0 && r.failed.Load() == r.unreachable.Load():
		return res, ErrNoAnswers
	}
	return res, nil
}

// Close waits for the calls in progress to end and makes further calls fail
// with ErrClosed. It does not close the resolver, which the caller made.
func (c *Checker) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.calls.Wait()
	return nil
}

// listHealth returns the list's health: checked now by probe, or as checked
// within HealthTTL by this call or another (a check in progress elsewhere is
// waited for, not repeated), and when that check began. ok is false when ctx
// ended first.
func (c *Checker) listHealth(ctx context.Context, pos int, probe func() (Health, bool)) (Health, time.Time, bool) {
	return keep(ctx, c, &c.health[pos], probe, interruptedHealth, time.Time{}, healthTTL)
}

// confirmHealth is listHealth for a check that began at or after since: a list's
// test points asked after an answer came say whether the list could be trusted
// when it gave it. A check in progress that began late enough is shared.
func (c *Checker) confirmHealth(ctx context.Context, pos int, since time.Time, probe func() (Health, bool)) (Health, bool) {
	h, _, ok := keep(ctx, c, &c.health[pos], probe, interruptedHealth, since, healthTTL)
	return h, ok
}

// resolverHealth is listHealth for the resolver's NXDOMAIN check.
func (c *Checker) resolverHealth(ctx context.Context, probe func() (ResolverHealth, bool)) ResolverHealth {
	h, _, _ := keep(ctx, c, &c.resolved, probe, ResolverHealth{}, time.Time{}, resolverTTL)
	return h
}

// BadHealthTTL bounds how long a bad health stands (a list that failed its test
// points, a resolver that invents answers), however long HealthTTL is: the
// answers in between are unreliable, and a list that recovers is used again soon.
const BadHealthTTL = 30 * time.Second

func healthTTL(h Health, ttl time.Duration) time.Duration {
	if h.State != HealthOK && h.State != HealthUntested && h.State != HealthNeedsKey {
		return min(ttl, BadHealthTTL)
	}
	return ttl
}

func resolverTTL(h ResolverHealth, ttl time.Duration) time.Duration {
	if h.RewritesNXDOMAIN {
		return min(ttl, BadHealthTTL)
	}
	return ttl
}

// keep makes a health check by probe, or takes the one *slot holds while it is
// within its TTL (waiting for it when it is being made) and began at or after
// since; with HealthTTL 0 it always probes. cut is the answer when ctx ends
// while waiting. *slot is guarded by c.mu. It returns the check's value and
// when it began.
func keep[T any](ctx context.Context, c *Checker, slot **kept[T], probe func() (T, bool), cut T, since time.Time,
	ttl func(T, time.Duration) time.Duration) (T, time.Time, bool) {
	if c.opts.HealthTTL <= 0 {
		started := time.Now()
		v, ok := probe()
		return v, started, ok
	}
	for {
		c.mu.Lock()
		e := *slot
		if e != nil && e.started.Before(since) && !isReady(e.ready) {
			// a check begun too early is in flight: the next one begins when it
			// ends, shared by every answer that came meanwhile (one check of a
			// list at a time, however many listings come)
			c.mu.Unlock()
			select {
			case <-e.ready:
				continue
			case <-ctx.Done():
				return cut, time.Time{}, false
			}
		}
		if e == nil || e.started.Before(since) || isReady(e.ready) && (e.cut || !c.opts.Now().Before(e.expires)) {
			e = &kept[T]{ready: make(chan struct{}), started: time.Now()}
			*slot = e
			c.mu.Unlock()
			v, done := probe()
			e.value, e.cut, e.expires = v, !done, c.opts.Now().Add(ttl(v, c.opts.HealthTTL))
			close(e.ready)
			return v, e.started, done
		}
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return cut, time.Time{}, false
		}
		if !e.cut {
			return e.value, e.started, true
		}
	}
}

// wasListed reports whether the Checker last reported subject listed on the list.
func (c *Checker) wasListed(subject string, pos int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.listed[listing{subject, pos}]
	return ok
}

// remember keeps a confirmed verdict: listed, or clean (which forgets a listing).
func (c *Checker) remember(subject string, pos int, listed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch k := (listing{subject, pos}); {
	case !listed:
		delete(c.listed, k)
	case len(c.listed) < maxRemembered:
		c.listed[k] = struct{}{}
	}
}

// awaitClosed waits for ch to be closed. Once it is, the check costs no lock:
// a receive that may wait takes the channel's lock even when it is closed,
// which every answer of a run contended for on its list's channel.
func awaitClosed(ch chan struct{}) {
	if !isReady(ch) {
		<-ch
	}
}

func isReady(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// EagerRun says whether a run of n targets (ranges among them or not) is small
// enough for TXTAuto to ask TXT with A.
func EagerRun(p TXTPolicy, n int, ranges bool) bool {
	return p == TXTAuto && n <= EagerSubjects && !ranges
}

// newRunner prepares one call's state.
func newRunner(ctx context.Context, c *Checker, ro RunOptions) *runner {
	r := &runner{
		ck:           c,
		o:            c.opts,
		ro:           ro,
		resolverDone: make(chan struct{}),
		conc:         max(c.opts.Resolver.Concurrency(), 1),
		// a subject's flights together: about as many flights queued as the
		// window holds queries, as when they were queued one by one
		flights:   make(chan *[]flight, max(c.opts.Resolver.Concurrency()/max(len(c.opts.Lists), 1), 1)),
		probeGate: make(chan struct{}),
		planned:   make(chan struct{}),
		someUsed:  make(chan struct{}),
		eager:     ro.Eager,
		obs:       ro.Observer,
		result:    &Result{Started: time.Now(), Summary: Summary{Counts: map[Status]int{}}},
	}
	r.txtCtx, r.cancelTXT = context.WithCancel(ctx)
	for _, s := range Statuses {
		r.result.Summary.Counts[s] = 0
	}
	roots := map[*catalog.List]bool{}
	for i := range c.opts.Lists {
		root := c.opts.Lists[i].List.Root()
		r.overlap = r.overlap || roots[root]
		roots[root] = true
	}
	for i := range c.opts.Lists {
		l := &listState{Selected: &c.opts.Lists[i], pos: i, done: make(chan struct{}), needed: make(chan struct{}),
			limiter: c.limiters[i]}
		l.zone = l.Selected.SecretZone()
		l.makeSkips()
		l.direct.Store(c.startsDirect(i))
		r.lists = append(r.lists, l)
	}
	return r
}

// ReasonInterrupted is the Summary.Incomplete reason of a run stopped before
// its end (a signal, a deadline, a probe's scrape timeout).
const ReasonInterrupted = "the run was interrupted"

// run is one call: health probes beside the targets' queries (feed), every
// answer waited for (drain), then the result (conclude).
func (r *runner) run(ctx context.Context, targets iter.Seq[Target]) *Result {
	var probes sync.WaitGroup
	r.startHealth(ctx, &probes)
	if r.ro.AllHealth {
		for _, l := range r.lists {
			r.need(l)
		}
		r.firstUsed(nil)
	}
	r.startTaker = func() { r.takeFlights(ctx) }
	unstarted := r.feed(ctx, targets)
	r.drain(ctx, &probes)
	return r.conclude(ctx, unstarted)
}

// takeFlights starts a taker. The goroutines that dispatch targets send their
// A queries without waiting for them; takers take the answers in the order the
// queries went out, a subject's together (fly). A taker is started only when a
// subject's queries find none idle, so a small run starts few, and a slow
// answer holds up one taker, not the others.
func (r *runner) takeFlights(ctx context.Context) {
	r.takers.Add(1)
	r.nTakers.Add(1)
	go func() {
		defer r.takers.Done()
		for {
			r.idle.Add(1)
			fs, ok := <-r.flights
			r.idle.Add(-1)
			if !ok {
				return
			}
			r.takeAll(ctx, fs)
		}
	}()
}

// feed hands the targets of this machine's share to the dispatchers, in input
// order, and waits until each was planned and sent. Targets the run's end
// left unreached are returned (or, streamed, said at once), never dropped.
func (r *runner) feed(ctx context.Context, targets iter.Seq[Target]) (unstarted []*TargetResult) {
	retain := !r.ro.Stream
	pool := newDispatchPool(expandParallel(r.conc, len(r.lists)), func(ts *targetState) { r.dispatch(ctx, ts) })
	i := -1
	for t := range targets {
		i++
		if t.Kind != KindCIDR && !r.ro.Shard.Keeps(shardKey(t)) {
			continue // another machine's share (a range is split address by address)
		}
		if ctx.Err() != nil { // never reached: reported as such, never as clean
			tr := &TargetResult{Index: i, Target: t, Interrupted: true, SubjectsTotal: subjectsTotal(t, r.ro.Shard)}
			if retain {
				unstarted = append(unstarted, tr)
				continue
			}
			r.mu.Lock() // streamed: said now, kept nowhere
			r.result.Summary.Targets++
			r.mu.Unlock()
			r.observeTarget(tr)
			continue
		}
		ts := &targetState{res: &TargetResult{Index: i, Target: t, Started: true, SubjectsTotal: subjectsTotal(t, r.ro.Shard)}}
		r.result.Summary.Targets++
		if retain {
			r.result.Targets = append(r.result.Targets, ts.res)
		}
		pool.submit(ts)
	}
	pool.wait()
	return unstarted
}

// drain waits for every answer the run still needs: the takers', the TXT
// reasons of listings, the health probes' and the dropped ones'. No work
// outlives the run.
func (r *runner) drain(ctx context.Context, probes *sync.WaitGroup) {
	r.releaseProbes(ctx)
	close(r.planned)
	close(r.flights)
	r.takers.Wait()
	r.reasons.Wait()
	r.cancelTXT() // unneeded TXT answers are not waited for
	if s, ok := r.o.Resolver.(sweeper); ok {
		s.Sweep() // their queries end now, not at the resolver's next look
	}
	probes.Wait()
	r.dropped.Wait() // after probes: the resolver's check may drop made-up names until it ends
}

// conclude sums the run up, once every answer is in: the counts, each list's
// health, what the resolver was found to do, and the targets never reached,
// after the started ones (still in input order).
func (r *runner) conclude(ctx context.Context, unstarted []*TargetResult) *Result {
	r.summarise()
	r.finishLists()
	r.markRepeats()
	r.result.Resolver = r.resolver
	if r.resolver.RewritesNXDOMAIN {
		r.result.Summary.Incomplete = append([]string{fmt.Sprintf("the resolver invents answers: %s got %s, "+
			"so no blacklist answer through it can be trusted", r.resolver.Probe, r.resolver.Answer)},
			r.result.Summary.Incomplete...)
	}
	for _, t := range unstarted {
		r.result.Summary.Targets++
		r.result.Targets = append(r.result.Targets, t)
		r.observeTarget(t)
	}
	if ctx.Err() != nil || r.cut { // never a complete run with a target cut short
		r.result.Summary.Interrupted = true
		r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, ReasonInterrupted)
	}
	r.result.Elapsed = time.Since(r.result.Started)
	return r.result
}

// finishLists reports each list's health and counts, and what asking lists
// directly found. Every answer is in by now, and cached: those of a list found
// lying, or of a resolver that invents answers, are dropped again, since the
// health check's own forget may have come before an answer of the run was read
// (a Pending's answer is cached when it is first waited for).
func (r *runner) finishLists() {
	var lying []*listState
	for _, l := range r.lists {
		if l.health.Untrusted() || r.resolver.RewritesNXDOMAIN {
			lying = append(lying, l)
		}
	}
	r.forget(lying...)
	for _, l := range r.lists {
		h := l.health
		if l.confirmed != nil {
			h = *l.confirmed // fresher than the health the run started with
		}
		r.result.Lists = append(r.result.Lists, ListHealth{List: l.List, Zone: l.List.Zone, Health: h,
			Answered: int(l.answered.Load()), Failed: int(l.failed.Load()), Failures: l.failures.counts(),
			Direct: l.askedDirect.Load()})
	}
	r.finishDirect()
}

// startHealth gets the resolver's health and each list's, kept or checked now,
// beside the targets' queries; probes is done when they are in.
func (r *runner) startHealth(ctx context.Context, probes *sync.WaitGroup) {
	// A run's own health checks (HealthTTL 0) put their queries in the probe
	// batch, to leave when the first subject's queries have gone and the gate
	// opens: a list's when a subject is first planned against it (need), and
	// the resolver's with the first list's, so that a list no subject is asked
	// of is not asked its test points either (its health is unused), and a run
	// with nothing to ask sends nothing. A long-lived Checker's are known only
	// once each goroutine finds its kept health stale, and each puts its own in.
	r.nx = r.planNX(nil)
	nx := r.nx
	nx.registered = r.ownHealth()
	probes.Add(1)
	go func() {
		defer probes.Done()
		defer close(r.resolverDone)
		r.resolver = r.ck.resolverHealth(ctx, func() (ResolverHealth, bool) {
			h, ok := r.checkResolver(ctx, nx)
			if h.RewritesNXDOMAIN { // answers it gave may be inventions
				r.forget(r.lists...)
			}
			return h, ok
		})
	}()
	for _, l := range r.lists {
		probes.Add(1)
		go func() {
			defer probes.Done()
			defer close(l.done)
			if r.ownHealth() && !l.NeedsKey() && !r.awaitUse(ctx, l) {
				l.health = Health{State: HealthUnused, Detail: "no subject of this run was asked of the list, " +
					"so neither were its test points"}
				return
			}
			l.health, l.healthAt, _ = r.ck.listHealth(ctx, l.pos, func() (Health, bool) { return r.checkHealth(ctx, l, true) })
		}()
	}
}

// ownHealth says whether the run makes its own health checks, all of them
// with its answers (HealthTTL 0): a long-lived Checker keeps each list's for
// the next calls, whichever lists they ask.
func (r *runner) ownHealth() bool { return r.o.HealthTTL <= 0 && !r.o.NoHealth }

// need marks the list as asked about a subject of the run, the first time
// with its test points put in the probe batch (when the gate has opened, the
// list's health check asks them itself).
func (r *runner) need(l *listState) {
	if l.used.Load() || !l.used.CompareAndSwap(false, true) {
		return
	}
	if r.ownHealth() && !l.NeedsKey() && !l.direct.Load() && !r.probes.enlist(l, testNames(l)...) {
		return // the gate has opened: needed is closed once they are sent (releaseProbes)
	}
	close(l.needed)
}

// firstUsed starts the resolver's health check with the first subject planned
// against lists (used, its lists), once: a run's own made-up names go under
// their zones, in the probe batch.
func (r *runner) firstUsed(used []*listState) {
	r.firstUse.Do(func() {
		if r.ownHealth() {
			r.nx = r.planNX(used)
			r.nx.registered = true
			for _, pr := range r.nx.probes {
				r.probes.register(pr.l, pr.name)
			}
		}
		close(r.someUsed)
	})
}

// awaitUse waits until a subject is planned against the list (true), or every
// subject of the run is and none was (false); true when ctx ends (the health
// check then says it was interrupted: the run may have stopped before a target
// that would have asked it), whichever select picks.
func (r *runner) awaitUse(ctx context.Context, l *listState) bool {
	select {
	case <-l.needed:
		return true
	case <-r.planned: // need comes before planned closes; an interrupted run may have left it unplanned
		return l.used.Load() || ctx.Err() != nil
	case <-ctx.Done():
		return true
	}
}

// awaitAnyUse is awaitUse for any list: false when the run asked nothing.
func (r *runner) awaitAnyUse(ctx context.Context) bool {
	select {
	case <-r.someUsed:
		return true
	case <-r.planned:
		select {
		case <-r.someUsed: // need comes before planned closes
			return true
		default:
			return ctx.Err() != nil
		}
	case <-ctx.Done():
		return true
	}
}

// releaseProbes opens the probe gate, or once it is open sends the test points
// of the lists first asked since (enlist) and lets their health checks read
// them.
func (r *runner) releaseProbes(ctx context.Context) {
	r.openProbeGate(ctx)
	for _, l := range r.probes.sendLate(ctx, r.o.Resolver) {
		close(l.needed)
	}
}

// openProbeGate lets the health probes go: once the first subject's A queries
// are out (startAll), so that those are not queued behind the test queries,
// or once the first subject is planned, should it have none.
func (r *runner) openProbeGate(ctx context.Context) {
	r.gateOnce.Do(func() {
		r.probes.send(ctx, r.o.Resolver)
		close(r.probeGate)
	})
}

// TXTPolicy says when a list is asked for the TXT record that gives a listing's
// reason. The verdict always comes from the A query alone, and a reason is
// reported for listings only, whichever the policy.
type TXTPolicy int

const (
	// TXTAuto asks for TXT together with A in a small run (at most EagerSubjects
	// targets, none of them a range) for its first EagerSubjects subjects, and
	// after a listing otherwise. A small check (an address, a domain and its
	// mail servers) then takes one round trip, not two, for one more query a
	// list; a bulk run sends a TXT query only for what is listed. The TXT
	// answers of what was not listed are not needed: the run's end cancels the
	// ones still in flight, so that no query outlives Run.
	TXTAuto TXTPolicy = iota
	// TXTListed asks for TXT only once A said listed: the fewest queries, and a
	// second round trip for every listing.
	TXTListed
)

// EagerSubjects is how many targets a run may have, and how many of its subjects
// have their TXT asked with their A, under TXTAuto: enough for a domain's own
// name, addresses and mail servers.
const EagerSubjects = 16

// markRepeats marks, in input order, each listing of a subject on a list that
// an earlier target of the run already has (SameAs), so that a name found in
// several places is counted once. Streamed runs keep no targets to mark.
func (r *runner) markRepeats() {
	type key struct{ subject, list string }
	first := map[key]*TargetResult{}
	for _, t := range r.result.Targets {
		for i := range t.Checks {
			c := &t.Checks[i]
			if c.Status != Listed || c.DuplicateOf != nil || c.List == nil {
				continue
			}
			k := key{c.Subject, c.List.ID}
			// another target, even one typed the same (an address given twice)
			if f, seen := first[k]; seen && f != t {
				c.SameAs = f.Target.Input
				r.result.Summary.Repeats++
				continue
			}
			first[k] = t
		}
	}
}

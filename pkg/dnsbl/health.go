package dnsbl

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/blcheck/blcheck/pkg/resolver"
)

// HealthState is a list's health in this run (JSON lists[].health).
type HealthState string

// The health states.
const (
	HealthOK              HealthState = "ok"
	HealthListsEverything HealthState = "lists-everything"   // a must-not-be-listed test point is listed
	HealthMissing         HealthState = "test-point-missing" // the must-be-listed test point is not
	HealthBlocked         HealthState = "blocked"            // the list refuses this resolver
	HealthBadAnswer       HealthState = "bad-answer"         // answers outside 127.0.0.0/8
	HealthNoAnswer        HealthState = "no-answer"          // test queries failed (timeout, SERVFAIL...)
	HealthNeedsKey        HealthState = "needs-key"          // keyed list without a key: not queried
	HealthUnchecked       HealthState = "unchecked"          // health checks were turned off
	// HealthInterrupted is a list whose test points the run stopped before they
	// were answered (a signal, a deadline, a probe's scrape timeout): nothing is
	// known of the list, neither good nor bad. Its checks keep their own
	// verdicts (those cut short are not answered, never clean).
	HealthInterrupted HealthState = "interrupted"
	// HealthUnused is a list that no subject of the run was asked about (an IP
	// list in a run of domains, a domain list in a run of addresses, a list
	// whose family every address lacked): its test points were not asked
	// either, since there is no answer of it to vouch for.
	HealthUnused HealthState = "unused"
	// HealthUntested is a list that publishes no test point (`tests: none`): only
	// the point no list may list was asked, and its answers are used as they come.
	HealthUntested HealthState = "untested"
)

// HealthStates lists every health state.
var HealthStates = []HealthState{HealthOK, HealthListsEverything, HealthMissing, HealthBlocked, HealthBadAnswer,
	HealthNoAnswer, HealthNeedsKey, HealthUnchecked, HealthUntested, HealthUnused, HealthInterrupted}

// interruptedHealth is the health of a list whose check the run's end cut short.
var interruptedHealth = Health{State: HealthInterrupted,
	Detail: "the run stopped before the list's test points were answered: nothing is known of it"}

// Health is the outcome of a list's test-point queries.
type Health struct {
	State  HealthState
	Detail string
	// Cause is, for HealthNoAnswer, why the test query failed, as its check's
	// error says it ("connection refused"): lists that fail alike point at
	// the resolver, or the path to it, not at themselves.
	Cause string
	RTT   time.Duration // the slowest test query's round trip
}

// Untrusted reports whether answers from a list in this state must not be counted.
func (h Health) Untrusted() bool {
	switch h.State {
	case HealthListsEverything, HealthMissing, HealthBadAnswer:
		return true
	}
	return false
}

// probe is one test-point query's verdict.
type probe struct {
	subject  string
	mustList bool
	v        Verdict
	rtt      time.Duration
}

// assess turns the test-point verdicts into the list's health. The worst finding wins.
func assess(probes []probe) Health {
	var rtt time.Duration
	for _, p := range probes {
		rtt = max(rtt, p.rtt)
	}
	// a test point the run's end cut short says nothing of the list: any
	// finding of another outranks it, and it outranks ok (not proven)
	rank := map[HealthState]int{HealthOK: 0, HealthInterrupted: 1, HealthNoAnswer: 2, HealthMissing: 3, HealthBlocked: 4,
		HealthListsEverything: 5, HealthBadAnswer: 6}
	h := Health{State: HealthOK}
	worse := func(s HealthState, detail string) bool {
		if rank[s] > rank[h.State] {
			h = Health{State: s, Detail: detail}
			return true
		}
		return false
	}
	sort.Slice(probes, func(i, j int) bool { // the same findings give the same detail, whatever the timing
		if probes[i].mustList != probes[j].mustList {
			return probes[i].mustList
		}
		return probes[i].subject < probes[j].subject
	})
	for _, p := range probes {
		v := p.v
		switch {
		case v.Foreign:
			worse(HealthBadAnswer, fmt.Sprintf("test point %s got %s", p.subject, v.Error))
		case v.Status == Blocked:
			worse(HealthBlocked, fmt.Sprintf("the list refused this resolver (%s)", v.Error))
		case v.Status == Error && (isKind(v.Err, ErrInterrupted) || isCanceled(v.Err)):
			worse(HealthInterrupted, interruptedHealth.Detail)
		case v.Status == Error:
			if worse(HealthNoAnswer, fmt.Sprintf("test query for %s failed: %s", p.subject, v.Error)) {
				h.Cause = v.Error
			}
		case p.mustList && v.Status == Clean:
			worse(HealthMissing, fmt.Sprintf("the list does not answer for its test point %s, so \"not listed\" "+
				"cannot be trusted (list empty or dead, or it hides answers from this resolver)", p.subject))
		case !p.mustList && (v.Status == Listed || v.Status == Allowlisted):
			worse(HealthListsEverything, fmt.Sprintf("the list says %s is listed (%s), which no list may list: "+
				"it answers everything", p.subject, JoinCodes(v.Codes)))
		}
	}
	h.RTT = rtt
	return h
}

// apply adjusts a check's verdict by its list's health.
func (h Health) apply(v Verdict) Verdict {
	if v.Status != Listed && v.Status != Clean && v.Status != Allowlisted {
		return v
	}
	switch {
	case h.Untrusted():
		v.Status = Unreliable
		v.Error = "list failed its health check: " + h.Detail
		v.Err = checkErr(ErrUnreliable, v.Error)
	case h.State == HealthBlocked:
		v.Status = Blocked
		v.Error = h.Detail
		v.Err = checkErr(ErrRefusedByList, v.Error)
	}
	return v
}

// nxParent is where the name under no list's zone is asked: a domain that
// exists and has no wildcard (RFC 2606), so that a random name under it
// cannot exist.
const nxParent = "example.com"

// checkResolver asks for names that cannot exist: under the zones of two lists
// in use, and under no list's zone. A resolver that answers all of them with an
// address rewrites NXDOMAIN. One list answering everything (a dead zone parked
// on a wildcard) is that list's fault, found by its own health check: it must
// not void the other lists. An answer that is one of that list's own refusal
// codes (Spamhaus's 127.255.255.254 to a public resolver) is the list refusing,
// not the resolver lying. ok is false when ctx ended first (the answer then
// says nothing).
func (r *runner) checkResolver(ctx context.Context, plan nxPlan) (h ResolverHealth, ok bool) {
	if r.o.NoHealth || len(plan.lists) == 0 {
		return h, true
	}
	var t nxTally
	if !plan.registered {
		for _, pr := range plan.probes {
			r.probes.register(pr.l, pr.name) // they leave with the lists' test points
		}
	} else if !r.awaitAnyUse(ctx) {
		return h, true // nothing asked of any list: nothing of the resolver to say either
	} else if !isReady(r.someUsed) {
		// ctx ended before a subject was planned: firstUse may be writing r.nx
		// now, and there is nothing of the resolver to ask in this run
		return h, false
	} else {
		plan = r.nx // made with the first subject's lists (firstUse), before someUsed closed
	}
	first, probes := plan.first, plan.probes
	select {
	case <-r.probeGate:
	case <-ctx.Done():
		return h, false
	}
	r.askNX(ctx, probes, &t)
	// a list that refuses this resolver says nothing of it: one more is asked,
	// unless a name was not invented for (the resolver is cleared)
	if t.refused > 0 && t.passed == 0 && first < len(plan.lists) {
		r.askNX(ctx, nxProbes(plan.lists[first:first+1]), &t)
	}
	// blamed when the name under no list and every list's name that could
	// answer (two, unless the others refuse or fail) were given an address
	if !t.outside || t.passed > 0 || t.rewritten == 0 {
		return ResolverHealth{}, ctx.Err() == nil
	}
	t.h.RewritesNXDOMAIN = true
	return t.h, ctx.Err() == nil
}

// nxPlan is what checkResolver asks: made-up names under the first of the
// lists (at most two) and under no list's zone, and one more list's in case
// one of them refuses the resolver; registered says they are in the run's
// probe batch already.
type nxPlan struct {
	lists      []*listState // those whose zone a made-up name may be asked under
	first      int          // how many of them are asked at first
	probes     []*nxProbe
	registered bool
}

// planNX picks the lists and makes up the names: under the first two lists
// that may have them, those of used first (a run's first subject's lists:
// a list the run does not ask is not asked a made-up name either, unless a
// list used refuses the resolver), under the one list used when used has one.
func (r *runner) planNX(used []*listState) nxPlan {
	var p nxPlan
	var rest []*listState
	zones := map[string]bool{}
	for _, l := range r.lists {
		if l.Allow() || l.NeedsKey() || zones[l.zone] { // an allowlist's hits are no blacklist answers
			continue
		}
		zones[l.zone] = true
		if slices.Contains(used, l) {
			p.lists = append(p.lists, l)
		} else {
			rest = append(rest, l)
		}
	}
	n := len(p.lists)
	p.lists = append(p.lists, rest...)
	if len(p.lists) == 0 {
		return p
	}
	p.first = min(2, len(p.lists))
	if n > 0 {
		p.first = min(2, n)
	}
	label := fmt.Sprintf("blcheck-nx-%016x.%s", rand.Uint64(), nxParent)
	p.probes = append(nxProbes(p.lists[:p.first]), &nxProbe{name: label, shown: label})
	return p
}

// nxProbe is a name that cannot exist, asked of the resolver: under a list's
// zone, or under no list's (l nil).
type nxProbe struct {
	l           *listState
	name, shown string
	p           *resolver.Pending
}

// nxTally is what the made-up names got: the lists' names given an address
// that is no refusal (rewritten), NXDOMAIN or no address (passed: the resolver
// passes NXDOMAIN through), a refusal code of the list's own (refused), and
// whether the name under no list got an address (outside).
type nxTally struct {
	rewritten, passed, refused int
	outside                    bool
	h                          ResolverHealth // the first invented answer for a list's name (else hOutside)
	hOutside                   ResolverHealth // the one of the name under no list's zone
}

// nxProbes are made-up names under each list's zone.
func nxProbes(lists []*listState) []*nxProbe {
	var probes []*nxProbe
	for _, l := range lists {
		label := fmt.Sprintf("blcheck-nx-%016x", rand.Uint64())
		probes = append(probes, &nxProbe{l: l, name: label + "." + l.zone, shown: label + "." + l.List.Zone})
	}
	return probes
}

// askNX asks the made-up names at once (those sent in the run's batch are
// taken from it), and tallies the answers: the name under no list's zone
// first, since a resolver that does not invent an answer for it is cleared
// by it alone (checkResolver blames only one that invents for every name),
// and then the lists' names until one is not invented for. The names
// whose answers are not needed then are dropped: a silent list's made-up name
// would otherwise hold back, until its timeout, every verdict that waits for
// the resolver's health.
func (r *runner) askNX(ctx context.Context, probes []*nxProbe, t *nxTally) {
	for _, pr := range probes {
		switch {
		case pr.l != nil:
			pr.p = r.probeStart(ctx, pr.l, false, true, pr.name)
		default:
			if pr.p = r.probes.take(pr.name); pr.p == nil {
				pr.p = r.o.Resolver.Start(resolver.Unbounded(resolver.WithoutCache(ctx)), pr.name, resolver.TypeA)
			}
		}
	}
	ordered := make([]*nxProbe, 0, len(probes))
	for _, pr := range probes {
		if pr.l == nil {
			ordered = append(ordered, pr)
		}
	}
	for _, pr := range probes {
		if pr.l != nil {
			ordered = append(ordered, pr)
		}
	}
	for i, pr := range ordered {
		if t.passed > 0 { // a name not invented for: the resolver is cleared (checkResolver)
			r.dropNX(ordered[i:])
			break
		}
		t.add(pr)
	}
	if t.h.Probe == "" { // the name under no list's, when no list's was invented for
		t.h = t.hOutside
	}
}

// add waits for one made-up name's answer and counts it (an error says
// nothing either way).
func (t *nxTally) add(pr *nxProbe) {
	a, err := pr.p.Wait()
	switch {
	case err != nil:
		return
	case a.NXDomain || len(a.Addrs) == 0:
		t.passed++
		return
	}
	refused := pr.l != nil
	var addrs []string
	for _, ip := range a.Addrs {
		addrs = append(addrs, ip.String())
		if pr.l != nil {
			if _, isErr := pr.l.ErrorMeaning(ip); !isErr || !loopback.Contains(ip.Unmap()) {
				refused = false
			}
		}
	}
	h := ResolverHealth{Answer: strings.Join(addrs, ", "), Probe: pr.shown}
	switch {
	case refused:
		t.refused++
	case pr.l == nil:
		t.outside, t.hOutside = true, h
	default:
		t.rewritten++
		if t.h.Probe == "" {
			t.h = h
		}
	}
}

// dropNX lets made-up names go unread: each is waited for aside, so that the
// resolver ends it when its answer comes, and the run's end waits for them.
func (r *runner) dropNX(probes []*nxProbe) {
	for _, pr := range probes {
		r.dropped.Add(1)
		go func() {
			defer r.dropped.Done()
			_, _ = pr.p.Wait()
		}()
	}
}

// checkHealth asks a list's test points (RFC 5782) and says what its answers
// make of it; gated, it waits for the probe gate first (a confirmation does not:
// the answer it vouches for is already in). A list found untrustworthy has its
// cached answers dropped. ok is false when ctx ended first.
func (r *runner) checkHealth(ctx context.Context, l *listState, gated bool) (h Health, ok bool) {
	switch {
	case l.NeedsKey():
		return Health{State: HealthNeedsKey, Detail: fmt.Sprintf("needs an account key in $%s", l.Key.Env)}, true
	case r.o.NoHealth:
		return Health{State: HealthUnchecked}, true
	}
	if gated {
		if !l.direct.Load() && r.o.HealthTTL > 0 { // else startHealth did
			r.probes.register(l, testNames(l)...) // they leave with the others' when the gate opens
		}
		select {
		case <-r.probeGate:
		case <-ctx.Done():
			return interruptedHealth, false
		}
	}
	direct := l.direct.Load()
	h, refused := r.probeHealth(ctx, l, direct, gated)
	if !direct && refused && r.o.Direct == DirectAuto && ctx.Err() == nil {
		// the resolver is refused: the list's own servers say how it is
		l.direct.Store(true)
		if dh, _ := r.probeHealth(ctx, l, true, false); dh.State != HealthNoAnswer && dh.State != HealthInterrupted {
			h = dh
		}
	}
	return h, ctx.Err() == nil
}

// probeHealth asks the list's test points, through the resolver or directly,
// and says what the answers make of it, and whether any was a refusal. Only
// a gated check reads the run's probe batch (probeStart).
func (r *runner) probeHealth(ctx context.Context, l *listState, direct, gated bool) (h Health, refused bool) {
	type sent struct {
		probe
		p    *resolver.Pending
		name string
	}
	var out []sent
	for _, tp := range testQueries(l) {
		pr := sent{probe: probe{subject: tp.subject, mustList: tp.mustList}}
		if tp.err != nil {
			pr.v = Verdict{Status: Error, Error: tp.err.Error()}
		} else {
			pr.p, pr.name = r.probeStart(ctx, l, direct, gated, tp.name), tp.name
		}
		out = append(out, pr)
	}
	probes := make([]probe, 0, len(out))
	for _, pr := range out {
		if pr.p != nil {
			a, err := pr.p.Wait()
			if a != nil {
				pr.rtt = a.RTT
			}
			pr.v = Classify(l.List, a, err)
			switch {
			case !direct:
				refused = refused || refusedByResolver(pr.v)
			case err != nil && kindOf(err) != ErrRefused:
				r.directFailed(l, err)
			case refusedDirectly(pr.v):
				r.refusal(ctx, l, pr.name, pr.v)
			}
		}
		probes = append(probes, pr.probe)
	}
	h = assess(probes)
	if direct && h.State == HealthBlocked {
		h.Detail = strings.Replace(h.Detail, "refused this resolver", "refused this machine, asked at its own name servers", 1)
	}
	if l.Untested() && h.State == HealthOK {
		h.State = HealthUntested
		h.Detail = "the list publishes no test point, so its answers are unconfirmed: used as they come"
	}
	if h.Untrusted() {
		r.forget(l) // what it answered before may be what it lies now
	}
	return h, refused
}

// forgetter is a resolver that can drop its cached answers of zones
// (resolver.Client).
type forgetter interface{ Forget(zones ...string) }

// sweeper is a resolver that can end at once the queries whose context has
// ended (resolver.Client), rather than at its clock's next look.
type sweeper interface{ Sweep() }

// forget drops the resolver's cached answers of the lists' zones, in one walk
// of its cache.
func (r *runner) forget(ls ...*listState) {
	f, ok := r.o.Resolver.(forgetter)
	if !ok || len(ls) == 0 {
		return
	}
	zones := make([]string, len(ls))
	for i, l := range ls {
		zones[i] = l.zone
	}
	f.Forget(zones...)
}

// needsProof says whether a verdict must be confirmed by the list's test points
// asked after its answer came (at): in a long-lived Checker (HealthTTL > 0), a
// listing, and a clean answer for what was last reported listed. A run's own
// health check (HealthTTL 0) is made with its answers and stands for them.
func (r *runner) needsProof(l *listState, subject string, v Verdict, at time.Time) bool {
	if r.o.HealthTTL <= 0 || r.o.NoHealth || l.NeedsKey() || !l.healthAt.Before(at) {
		return false
	}
	return v.Status == Listed || v.Status == Clean && r.ck.wasListed(subject, l.pos)
}

// prove confirms a verdict whose answer came at: the list's test points, asked
// after at (shared with any other call's check begun since), must be answered
// correctly, else the check is unreliable (blocked when the list refuses) and
// the list's cached answers are dropped. A list without a test point is
// confirmed as far as it can be: a listing by the point no list may list, a
// delisting by another list's test points (the resolver still passes listings
// through: one that answers NXDOMAIN for everything would delist everything).
func (r *runner) prove(ctx context.Context, l *listState, v Verdict, at time.Time) Verdict {
	h, ok := r.confirm(ctx, l, at)
	if ok && l.Untested() && v.Status == Clean && h.State == HealthUntested {
		if witness := r.witness(); witness != nil {
			if h, ok = r.confirm(ctx, witness, at); ok && h.State != HealthOK {
				h.State, h.Detail = HealthNoAnswer, witness.List.Name+", asked for its test points, "+h.Detail
			}
		}
	}
	what := "the listing"
	if v.Status == Clean {
		what = "the delisting"
	}
	switch {
	case ok && (h.State == HealthOK || h.State == HealthUntested):
		return v
	case ok && (h.State == HealthBlocked || h.Untrusted()):
		v = h.apply(v)
	case !ok:
		v.Status, v.Error = Unreliable, what+" could not be confirmed by the list's test points in time"
	default:
		v.Status, v.Error = Unreliable, what+" could not be confirmed by the list's test points: "+h.Detail
	}
	if v.Status == Unreliable {
		v.Err = checkErr(ErrUnreliable, v.Error)
	}
	r.forget(l) // the answer may be a lie kept in the cache
	return v
}

// confirm is the list's health checked after at; the run reports it.
func (r *runner) confirm(ctx context.Context, l *listState, at time.Time) (Health, bool) {
	h, ok := r.ck.confirmHealth(ctx, l.pos, at, func() (Health, bool) { return r.checkHealth(ctx, l, false) })
	if ok {
		r.mu.Lock()
		l.confirmed = &h
		r.mu.Unlock()
	}
	return h, ok
}

// witness is the first list of the run with a positive test point, or nil.
func (r *runner) witness() *listState {
	for _, l := range r.lists {
		if !l.Untested() && !l.NeedsKey() && !l.Allow() {
			return l
		}
	}
	return nil
}

// probeStart sends one health query. Health queries are few (two or three a
// list) and take no slot of the concurrency bound: answers waiting for a list's
// health must never wait for a slot that they hold themselves. They skip the
// resolver's answer cache: a health check says how the list is now. A
// query of the probe batch is taken only when batched: a confirmation must be
// asked after its answer came, and the batch's queries left before it (two
// lists of one zone share them: the first list's confirmation would otherwise
// take the second's).
func (r *runner) probeStart(ctx context.Context, l *listState, direct, batched bool, name string) *resolver.Pending {
	if batched && !direct {
		if p := r.probes.take(name); p != nil {
			return p // sent with the run's other test points
		}
	}
	if l.limiter != nil {
		_ = l.limiter.Wait(ctx) // on cancellation, Start reports it
	}
	if direct {
		l.askedDirect.Store(true)
	}
	return r.start(resolver.Unbounded(resolver.WithoutCache(ctx)), l, direct, name, resolver.TypeA)
}

// testQuery is one of a list's test points (RFC 5782) as a query: the name asked
// of the list's zone, or why none could be made.
type testQuery struct {
	subject  string
	mustList bool // a point the list must list (else one it must not)
	name     string
	err      error
}

// testQueries are a list's test points, the listed ones first.
func testQueries(l *listState) []testQuery {
	listed, unlisted := l.TestPoints()
	var out []testQuery
	for i, group := range [][]string{listed, unlisted} {
		for _, subject := range group {
			s := Subject{Name: subject, Type: SubjectDomain}
			if a, err := netip.ParseAddr(subject); err == nil {
				s = Subject{Name: subject, Type: SubjectIP, Addr: a}
			}
			name, err := QueryName(s, l.zone)
			out = append(out, testQuery{subject: subject, mustList: i == 0, name: name, err: err})
		}
	}
	return out
}

// probeBatch gathers the health queries that wait for the probe gate (lists'
// test points, the resolver's made-up names), so that they leave in one batch
// (one system call) when it opens rather than one by one from each list's
// goroutine: about 35 system calls for one address, spread over a millisecond
// or two (a server that answers in turn answered the last of them that much
// later).
type probeBatch struct {
	mu     sync.Mutex
	opened bool
	want   []batchEntry        // registered before the gate opened
	late   []batchEntry        // a run's lists first asked after it opened (enlist), to leave together
	sent   map[string]*batched // sent, until taken by all who registered it
}

// batched is a query sent in the batch, and how many registrations are still
// to take it: two lists of the same zone (the catalog allows it) ask the same
// test points, once.
type batched struct {
	p    *resolver.Pending
	left int
}

// batchEntry is names to ask of the resolver, within l's rate (l nil: none).
type batchEntry struct {
	l     *listState
	names []string
}

// register adds names to the batch, unless the gate is open: they are then
// asked by whoever needs them.
func (b *probeBatch) register(l *listState, names ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.opened && len(names) > 0 {
		b.want = append(b.want, batchEntry{l, names})
	}
}

// enlist adds a list's test points to the batch and says so (true); after
// the gate has opened, it keeps them for the next sendLate (false). A run
// whose first subject is a domain opens the gate with the domain lists'
// test points; the address lists are first asked later, all of them at
// once for each address, and their test points leave together then, not
// one by one from each list's health check.
func (b *probeBatch) enlist(l *listState, names ...string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.opened {
		b.want = append(b.want, batchEntry{l, names})
		return true
	}
	b.late = append(b.late, batchEntry{l, names})
	return false
}

// send sends the registered names through the resolver in one call, each
// list's within its rate (a list whose rate has no room for them at once asks
// its own later), and keeps them for take. Later registrations are refused.
func (b *probeBatch) send(ctx context.Context, res resolver.Resolver) {
	b.mu.Lock()
	defer b.mu.Unlock()
	want := b.want
	b.want, b.opened = nil, true
	b.start(ctx, res, want)
}

// sendLate sends the test points enlisted since the gate opened, in one call
// as send does, and returns their lists.
func (b *probeBatch) sendLate(ctx context.Context, res resolver.Resolver) []*listState {
	b.mu.Lock()
	defer b.mu.Unlock()
	late := b.late
	if len(late) == 0 { // every subject of a bulk run, once its lists are all asked
		return nil
	}
	b.late = nil
	b.start(ctx, res, late)
	lists := make([]*listState, len(late))
	for i, e := range late {
		lists[i] = e.l
	}
	return lists
}

// start sends the entries' names (b.mu held).
func (b *probeBatch) start(ctx context.Context, res resolver.Resolver, want []batchEntry) {
	var names []string
	if b.sent == nil {
		b.sent = map[string]*batched{}
	}
	for _, e := range want {
		if e.l != nil && e.l.limiter != nil && !e.l.limiter.AllowN(time.Now(), len(e.names)) {
			continue
		}
		for _, n := range e.names {
			if b.sent[n] == nil {
				b.sent[n] = &batched{}
				names = append(names, n)
			}
			b.sent[n].left++ // sent before and not yet taken: taken once more
		}
	}
	if len(names) == 0 {
		return
	}
	for i, p := range res.StartAll(resolver.Unbounded(resolver.WithoutCache(ctx)), names, resolver.TypeA) {
		if p == nil {
			delete(b.sent, names[i]) // not sent: asked by whoever needs it
			continue
		}
		b.sent[names[i]].p = p
	}
}

// take returns the query for name sent in the batch, once for each
// registration; nil when there is none.
func (b *probeBatch) take(name string) *resolver.Pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sent[name]
	if s == nil {
		return nil
	}
	if s.left--; s.left == 0 {
		delete(b.sent, name)
	}
	return s.p
}

// testNames are the names of a list's test queries.
func testNames(l *listState) []string {
	var names []string
	for _, tp := range testQueries(l) {
		if tp.err == nil {
			names = append(names, tp.name)
		}
	}
	return names
}

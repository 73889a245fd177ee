package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// SubjectType is what a subject is.
type SubjectType string

// The subject types.
const (
	SubjectIP     SubjectType = "ip"
	SubjectDomain SubjectType = "domain"
)

// Subject is one thing actually looked up: an address or a domain, with where it came from.
type Subject struct {
	Name string      `json:"subject"`
	Type SubjectType `json:"type"`
	Via  []string    `json:"via"`
	// Skip says why the subject is not sent to the lists (private address...), or "".
	Skip string     `json:"skipped,omitempty"`
	Addr netip.Addr `json:"-"`
}

// Check is the verdict on one (subject, list) pair. Its JSON keys are blcheck's contract.
type Check struct {
	Target    string   `json:"target,omitempty"` // only in streamed (jsonl) output
	Subject   string   `json:"subject"`
	List      string   `json:"list"`
	Zone      string   `json:"zone"`
	Query     string   `json:"query"`
	Status    Status   `json:"status"`
	Codes     []string `json:"codes"`
	Meanings  []string `json:"meanings"`
	Reason    string   `json:"reason"`
	DelistURL string   `json:"delist_url"`
	RTTms     int64    `json:"rtt_ms"`
	Error     string   `json:"error"`
	// Err is the failure of an error, blocked or unreliable check, for
	// errors.Is: ErrTimeout, ErrServFail, ErrRefused, ErrNetwork, ErrBadAnswer,
	// ErrRefusedByList, ErrUnreliable, ErrInterrupted. Error is its text.
	Err error `json:"-"`
	// Change is set with --state: new-listing, still-listed, delisted, unchanged, unknown.
	Change string `json:"change,omitempty"`
	// DuplicateOf is set on a listing that another list of the run already
	// reports for the same subject (XBL inside ZEN, by the catalog's part_of): it
	// is the same listing, counted once, under that list.
	DuplicateOf string `json:"duplicate_of,omitempty"`

	subject, list int // positions, for a stable order
}

// TargetResult is everything found for one target.
type TargetResult struct {
	Index    int
	Target   Target
	Subjects []Subject
	Checks   []Check
	// Problems are failures that make this target's check incomplete.
	Problems []string
	// Notes are facts worth telling that do not make the check incomplete.
	Notes []string
	// Interrupted is set when the run was stopped (its context canceled) before
	// this target was finished: it is never clean, however its checks read.
	// Started is false for a target the run never reached.
	Interrupted bool
	Started     bool
	// SubjectsDone counts the subjects whose every check was answered;
	// SubjectsTotal is how many the target stands for (0 when not known: a
	// domain not yet expanded, a range split by --shard).
	SubjectsDone, SubjectsTotal int
}

// InterruptedError is the error of a check whose query the run's cancellation
// cut short: it says nothing about the list or the resolver.
const InterruptedError = "not answered: the run was interrupted"

func isCanceled(err error) bool {
	var re *resolver.Error
	return errors.Is(err, context.Canceled) || errors.As(err, &re) && re.Kind == resolver.Canceled
}

// ListHealth is one list's health in this run.
type ListHealth struct {
	List   *catalog.List
	Zone   string // as shown: a keyed zone keeps its {key} placeholder
	Health Health
	// Answered and Failed count the run's checks of this list that it answered
	// (listed, clean, allowlisted) and that failed (error, blocked, unreliable;
	// an interruption is neither): a list whose every query failed is failing,
	// whatever its health probes said.
	Answered, Failed int
}

// EveryQueryFailed reports whether the list was asked and never answered.
func (l ListHealth) EveryQueryFailed() bool { return l.Failed > 0 && l.Answered == 0 }

// Summary counts what a run found.
type Summary struct {
	Targets  int
	Subjects int
	Checks   int
	// Interrupted is set when the run's context was canceled before it ended.
	Interrupted bool
	Counts      map[Status]int
	// Duplicates counts the listed checks that repeat another list's listing
	// of the same subject (Check.DuplicateOf): Counts[Listed] less Duplicates
	// is the number of listings.
	Duplicates int
	// Incomplete lists why the run could not check everything it should have.
	Incomplete []string
}

// ResolverHealth is what the run found out about the resolver itself.
type ResolverHealth struct {
	// RewritesNXDOMAIN is set when a name that cannot exist got an address: the
	// resolver invents answers (ad or "search help" pages, some filters), so no
	// blacklist answer through it means anything.
	RewritesNXDOMAIN bool
	Answer           string // the address it invented
	Probe            string // the name asked
}

// Result is the outcome of a run.
type Result struct {
	Targets  []*TargetResult // in input order; empty unless Config.Retain
	Lists    []ListHealth
	Resolver ResolverHealth
	Summary  Summary
	Started  time.Time
	Elapsed  time.Duration
}

// Observer receives results as they complete. Calls are serialised.
type Observer struct {
	Check  func(t *TargetResult, c Check)
	Target func(t *TargetResult)
}

// Config configures a run.
type Config struct {
	Lists        []catalog.Selected
	Resolver     resolver.Resolver
	Concurrency  int       // DNS queries in flight; default 128
	Rate         float64   // queries per second per list; 0 means no limit
	AllowPrivate bool      // send private, loopback... addresses from DNS to the lists
	Retain       bool      // keep every target's subjects and checks in the Result
	NoHealth     bool      // skip the test-point queries
	Shard        Shard     // check only this machine's share of the targets
	SPF          bool      // also check every address a domain's SPF record authorises
	PTR          bool      // also check each address's reverse DNS (a note per address)
	TXT          TXTPolicy // when a listing's TXT reason is asked
	// Annotate, if set, may fill in a check before it is kept or observed
	// (--state sets Change). Calls are serialised.
	Annotate func(*Check)
}

// Shard is a deterministic share of the targets, for splitting a sweep across
// machines: shard Index of Count (0 <= Index < Count). A target, or an address of
// a range, belongs to the shard its FNV-1a hash falls in, whatever the order of
// the input. The zero Shard keeps everything.
type Shard struct {
	Index, Count int
}

// Keeps reports whether key (an address or a host name) belongs to this shard.
func (s Shard) Keeps(key string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32()%uint32(s.Count)) == s.Index
}

func shardKey(t Target) string {
	switch t.Kind {
	case KindIP:
		return t.Addr.String()
	case KindDomain:
		return t.Host
	}
	return t.Prefix.String()
}

// DefaultConcurrency is the number of queries in flight when Config leaves it unset.
const DefaultConcurrency = 128

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

type listState struct {
	*catalog.Selected
	answered, failed int // checks, counted under runner.mu
	pos              int
	zone             string // the real zone, key inserted: never printed
	limiter          *rate.Limiter
	done             chan struct{}
	health           Health
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
	txt    *resolver.Pending // the TXT query sent with the A, or nil
	txtSeq uint64            // the TXT query's slot
}

type runner struct {
	cfg          Config
	overlap      bool // two lists of the run share a root (part_of): a subject's checks wait for each other
	resolverDone chan struct{}
	resolver     ResolverHealth
	lists        []*listState
	win          *window       // one slot per query in flight
	flights      chan flight   // A queries sent, in the order sent
	probeGate    chan struct{} // closed once the first subject's queries are out
	eager        bool          // the run's first subjects ask TXT with A
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

	mu      sync.Mutex
	result  *Result
	started time.Time
}

// openProbeGate lets the health probes go: once the first subject's own queries
// are out, so that they are not queued behind ~100 test queries.
func (r *runner) openProbeGate() { r.gateOnce.Do(func() { close(r.probeGate) }) }

// Run checks targets against cfg.Lists. One list's failure never stops the others;
// ctx cancellation stops the run, and what was checked is still reported.
func Run(ctx context.Context, cfg Config, targets []Target, obs Observer) *Result {
	return RunSeq(ctx, cfg, slices.Values(targets), EagerRun(cfg.TXT, len(targets), slices.ContainsFunc(targets,
		func(t Target) bool { return t.Kind == KindCIDR })), obs)
}

// EagerRun says whether a run of n targets (ranges among them or not) is small
// enough for TXTAuto to ask TXT with A.
func EagerRun(p TXTPolicy, n int, ranges bool) bool {
	return p == TXTAuto && n <= EagerSubjects && !ranges
}

// RunSeq is Run over targets that come one at a time (read from a file as
// they are checked), so that memory stays flat however many there are; eager
// is EagerRun's answer for them. Without cfg.Retain nothing is kept of a
// target once the observer has seen it.
func RunSeq(ctx context.Context, cfg Config, targets iter.Seq[Target], eager bool, obs Observer) *Result {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	r := &runner{
		cfg:          cfg,
		resolverDone: make(chan struct{}),
		win:          newWindow(cfg.Concurrency),
		flights:      make(chan flight, cfg.Concurrency),
		probeGate:    make(chan struct{}),
		eager:        eager,
		obs:          obs,
		result:       &Result{Started: time.Now(), Summary: Summary{Counts: map[Status]int{}}},
	}
	r.txtCtx, r.cancelTXT = context.WithCancel(ctx)
	defer r.cancelTXT()
	for _, s := range statusesInit {
		r.result.Summary.Counts[s] = 0
	}
	roots := map[*catalog.List]bool{}
	for i := range cfg.Lists {
		root := cfg.Lists[i].List.Root()
		r.overlap = r.overlap || roots[root]
		roots[root] = true
	}
	for i := range cfg.Lists {
		l := &listState{Selected: &cfg.Lists[i], pos: i, done: make(chan struct{})}
		l.zone = l.Selected.SecretZone()
		if cfg.Rate > 0 {
			burst := int(cfg.Rate)
			if burst < 1 {
				burst = 1
			}
			l.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), burst)
		}
		r.lists = append(r.lists, l)
	}

	var probes sync.WaitGroup
	probes.Add(1)
	go func() {
		defer probes.Done()
		r.checkResolver(ctx)
	}()
	for _, l := range r.lists {
		probes.Add(1)
		go func() {
			defer probes.Done()
			r.checkHealth(ctx, l)
		}()
	}

	// The goroutines that dispatch targets send their A queries without waiting
	// for them; takers take the answers in the order the queries went out. A
	// taker is started only when a query finds none idle, so a small run starts
	// few, and a slow answer holds up one taker, not the others.
	r.startTaker = func() {
		r.takers.Add(1)
		r.nTakers.Add(1)
		go func() {
			defer r.takers.Done()
			for {
				r.idle.Add(1)
				f, ok := <-r.flights
				r.idle.Add(-1)
				if !ok {
					return
				}
				r.take(ctx, f)
			}
		}()
	}

	var g errgroup.Group
	g.SetLimit(expandParallel(cfg.Concurrency, len(r.lists)))
	var unstarted []*TargetResult
	i := -1
	for t := range targets {
		i++
		if t.Kind != KindCIDR && !cfg.Shard.Keeps(shardKey(t)) {
			continue // another machine's share (a range is split address by address)
		}
		if ctx.Err() != nil { // never reached: reported as such, never as clean
			tr := &TargetResult{Index: i, Target: t, Interrupted: true, SubjectsTotal: subjectsTotal(t, cfg.Shard)}
			if cfg.Retain {
				unstarted = append(unstarted, tr)
				continue
			}
			r.mu.Lock() // streamed: said now, kept nowhere
			r.result.Summary.Targets++
			if obs.Target != nil {
				obs.Target(tr)
			}
			r.mu.Unlock()
			continue
		}
		ts := &targetState{res: &TargetResult{Index: i, Target: t, Started: true, SubjectsTotal: subjectsTotal(t, cfg.Shard)}}
		r.result.Summary.Targets++
		if cfg.Retain {
			r.result.Targets = append(r.result.Targets, ts.res)
		}
		g.Go(func() error {
			r.dispatch(ctx, ts)
			return nil
		})
	}
	_ = g.Wait()
	r.openProbeGate()
	close(r.flights)
	r.takers.Wait()
	r.reasons.Wait()
	r.cancelTXT() // no work outlives the run: unneeded TXT answers are not waited for
	r.dropped.Wait()
	probes.Wait()

	for _, l := range r.lists {
		r.result.Lists = append(r.result.Lists, ListHealth{List: l.List, Zone: l.List.Zone, Health: l.health,
			Answered: l.answered, Failed: l.failed})
	}
	r.result.Resolver = r.resolver
	if r.resolver.RewritesNXDOMAIN {
		r.result.Summary.Incomplete = append([]string{fmt.Sprintf("the resolver invents answers: %s got %s, "+
			"so no blacklist answer through it can be trusted", r.resolver.Probe, r.resolver.Answer)},
			r.result.Summary.Incomplete...)
	}
	for _, t := range unstarted {
		r.result.Summary.Targets++
		if cfg.Retain {
			r.result.Targets = append(r.result.Targets, t) // after the started ones, still in input order
		}
		if obs.Target != nil {
			obs.Target(t)
		}
	}
	if ctx.Err() != nil {
		r.result.Summary.Interrupted = true
		r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, "the run was interrupted")
	}
	r.result.Elapsed = time.Since(r.result.Started)
	return r.result
}

var statusesInit = Statuses

// subjectsTotal is how many subjects a target stands for, where that is known
// before it is expanded: 1 for an address, the size of a range (unless --shard
// splits it).
func subjectsTotal(t Target, sh Shard) int {
	switch {
	case t.Kind == KindIP:
		return 1
	case t.Kind == KindCIDR && sh.Count <= 1:
		return t.Size()
	}
	return 0
}

// expandParallel bounds how many targets are expanded at once: enough to keep
// the query workers busy, few enough to keep memory flat on large inputs.
func expandParallel(concurrency, lists int) int {
	if lists == 0 {
		lists = 1
	}
	n := concurrency/lists + 2
	if n > 64 {
		n = 64
	}
	return n
}

// lookup makes one DNS query of a target's own records (A, AAAA, MX, SPF's TXT)
// within the concurrency bound. These go to the resolver, not to a list, so no
// list's rate applies.
func (r *runner) lookup(ctx context.Context, name string, t resolver.Type) (*resolver.Answer, error) {
	seq := r.win.acquire(ctx)
	if seq == 0 {
		return nil, &resolver.Error{Kind: resolver.Canceled, Name: name}
	}
	a, err := r.cfg.Resolver.Lookup(ctx, name, t)
	r.win.release(seq, lost(a, err))
	return a, err
}

// lost says whether a query's packets were lost on the way: its answer came, but
// to a copy sent again, not to the first. A slow answer to the first copy is not
// a loss (a list farther away than the others), nor is no answer at all: a dead
// list times out every query sent to it, which says nothing of the server's
// load, and halving the window for either would leave the slots waiting on it.
func lost(a *resolver.Answer, _ error) bool {
	return a != nil && a.Lost
}

// checkResolver asks for a name that cannot exist, under the zone of a list in
// use: a resolver that answers it with an address rewrites NXDOMAIN. An answer
// that is one of that list's own refusal codes (Spamhaus's 127.255.255.254 to a
// public resolver) is the list refusing, not the resolver lying: the list's
// health says blocked, and the next list's zone is asked instead.
func (r *runner) checkResolver(ctx context.Context) {
	defer close(r.resolverDone)
	if r.cfg.NoHealth || len(r.lists) == 0 {
		return
	}
	select {
	case <-r.probeGate:
	case <-ctx.Done():
		return
	}
	const maxProbes = 3
	probes := 0
	for _, l := range r.lists {
		if l.Kind != catalog.KindIP || l.NeedsKey() { // an allowlist's hits are no blacklist answers
			continue
		}
		if probes++; probes > maxProbes {
			return
		}
		label := fmt.Sprintf("blcheck-nx-%016x", rand.Uint64())
		a, err := r.probeStart(ctx, l, label+"."+l.zone).Wait()
		if err != nil || a.NXDomain || len(a.Addrs) == 0 {
			return
		}
		refused := true
		var addrs []string
		for _, ip := range a.Addrs {
			addrs = append(addrs, ip.String())
			if _, isErr := l.ErrorMeaning(ip); !isErr || !loopback.Contains(ip.Unmap()) {
				refused = false
			}
		}
		if refused {
			continue
		}
		r.resolver = ResolverHealth{RewritesNXDOMAIN: true, Answer: strings.Join(addrs, ", "),
			Probe: label + "." + l.List.Zone}
		return
	}
}

func (r *runner) checkHealth(ctx context.Context, l *listState) {
	defer close(l.done)
	switch {
	case l.NeedsKey():
		l.health = Health{State: HealthNeedsKey,
			Detail: fmt.Sprintf("needs an account key in $%s", l.Key.Env)}
		return
	case r.cfg.NoHealth:
		l.health = Health{State: HealthUnchecked}
		return
	}
	select {
	case <-r.probeGate:
	case <-ctx.Done():
		l.health = Health{State: HealthNoAnswer, Detail: "interrupted"}
		return
	}
	listed, unlisted := l.TestPoints()
	type sent struct {
		probe
		p    *resolver.Pending
		name string
	}
	var out []sent
	for i, group := range [][]string{listed, unlisted} {
		for _, subject := range group {
			s := Subject{Name: subject, Type: SubjectDomain}
			if a, err := netip.ParseAddr(subject); err == nil {
				s = Subject{Name: subject, Type: SubjectIP, Addr: a}
			}
			pr := sent{probe: probe{subject: subject, mustList: i == 0}}
			if name, err := QueryName(s, l.zone); err != nil {
				pr.v = Verdict{Status: Error, Error: err.Error()}
			} else {
				pr.p = r.probeStart(ctx, l, name)
			}
			out = append(out, pr)
		}
	}
	probes := make([]probe, 0, len(out))
	for _, pr := range out {
		if pr.p != nil {
			a, err := pr.p.Wait()
			if a != nil {
				pr.rtt = a.RTT
			}
			pr.v = Classify(l.List, a, err)
		}
		probes = append(probes, pr.probe)
	}
	l.health = assess(probes)
	if l.Untested() && l.health.State == HealthOK {
		l.health.State = HealthUntested
		l.health.Detail = "the list publishes no test point, so its health cannot be checked; its answers are used as they come"
	}
}

// probeStart sends one health query. Health queries are few (two or three a
// list) and take no slot of the concurrency bound: answers waiting for a list's
// health must never wait for a slot that they hold themselves.
func (r *runner) probeStart(ctx context.Context, l *listState, name string) *resolver.Pending {
	if l.limiter != nil {
		_ = l.limiter.Wait(ctx) // on cancellation, Start reports it
	}
	return r.cfg.Resolver.Start(ctx, name, resolver.TypeA)
}

// dispatch expands one target and hands its (subject, list) pairs to the workers.
func (r *runner) dispatch(ctx context.Context, ts *targetState) {
	ts.pending.Add(1) // held until every pair is dispatched
	defer r.release(ts)
	t := ts.res.Target
	pos := 0
	emit := func(s Subject) {
		ss := &subjectState{Subject: s, pos: pos}
		pos++
		if r.cfg.Retain {
			r.mu.Lock()
			ts.res.Subjects = append(ts.res.Subjects, s)
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.result.Summary.Subjects++
		ss.eager = r.eager && r.result.Summary.Subjects <= EagerSubjects
		r.mu.Unlock()
		r.plan(ctx, ts, ss)
		if r.cfg.PTR && s.Type == SubjectIP && s.Addr.IsValid() && s.Skip == "" {
			note := r.reverseDNS(ctx, s.Addr) // while the lists' answers come
			r.mu.Lock()
			ts.res.Notes = append(ts.res.Notes, note)
			r.mu.Unlock()
		}
	}
	switch t.Kind {
	case KindIP:
		emit(Subject{Name: t.Addr.String(), Type: SubjectIP, Addr: t.Addr, Via: []string{"input"}})
	case KindCIDR:
		a := t.Prefix.Addr()
		for ; t.Prefix.Contains(a) && ctx.Err() == nil; a = a.Next() {
			if !r.cfg.Shard.Keeps(a.String()) {
				continue
			}
			emit(Subject{Name: a.String(), Type: SubjectIP, Addr: a, Via: []string{"input"}})
		}
		if t.Prefix.Contains(a) && a.IsValid() { // stopped before the range's end
			ts.cut.Store(true)
		}
	case KindDomain:
		subjects, problems, notes := r.expand(ctx, t)
		if ctx.Err() != nil { // lookups cut short say nothing about the resolver
			ts.cut.Store(true)
			problems = slices.DeleteFunc(problems, func(p string) bool { return strings.Contains(p, "failed: interrupted") })
		}
		r.mu.Lock()
		ts.res.SubjectsTotal = len(subjects)
		r.mu.Unlock()
		r.mu.Lock()
		ts.res.Problems = append(ts.res.Problems, problems...)
		ts.res.Notes = append(ts.res.Notes, notes...)
		for _, p := range problems {
			r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, p)
		}
		r.mu.Unlock()
		for _, s := range subjects {
			emit(s)
		}
	}
}

// plan makes the pairs of one subject: a job for each applicable list, or a
// skipped check where the list does not apply.
func (r *runner) plan(ctx context.Context, ts *targetState, s *subjectState) {
	s.pending.Add(1)
	defer r.subjectDone(ts, s)
	want := catalog.KindIP
	if s.Type == SubjectDomain {
		want = catalog.KindDomain
	}
	var jobs []job
	for _, l := range r.lists {
		if l.Subjects() != want {
			continue
		}
		c := Check{Subject: s.Name, List: l.ID, Zone: l.List.Zone, subject: s.pos, list: l.pos,
			Codes: []string{}, Meanings: []string{}}
		if s.Type == SubjectDomain || s.Addr.IsValid() { // a skipped SPF range has no query
			if shown, err := QueryName(s.Subject, l.List.Zone); err == nil {
				c.Query = shown
			}
		}
		var skip string
		switch {
		case s.Skip != "":
			skip = s.Skip
		case s.Type == SubjectIP && s.Addr.IsValid() && !l.Covers(s.Addr):
			skip = "the list has no " + familyName(s.Addr) + " data"
		case l.NeedsKey():
			skip = fmt.Sprintf("the list needs an account key: set $%s", l.Key.Env)
		}
		if skip != "" {
			c.Status, c.Error = Skipped, skip
			ts.pending.Add(1)
			s.pending.Add(1)
			r.finish(ts, s, c)
			continue
		}
		name, err := QueryName(s.Subject, l.zone)
		if err != nil {
			c.Status, c.Error, c.Err = Error, err.Error(), &checkError{ErrNotAsked, err.Error()}
			ts.pending.Add(1)
			s.pending.Add(1)
			r.finish(ts, s, c)
			continue
		}
		jobs = append(jobs, job{t: ts, s: s, l: l, name: name, shown: c.Query})
	}
	r.send(ctx, jobs)
	r.openProbeGate()
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
		ps := r.cfg.Resolver.StartAll(ctx, names, resolver.TypeA)
		var tps []*resolver.Pending
		if len(txtNames) > 0 {
			tps = r.cfg.Resolver.StartAll(r.txtCtx, txtNames, resolver.TypeTXT)
		}
		for i := range ready {
			ready[i].p = ps[i]
			if ready[i].txtSeq != 0 {
				ready[i].txt, tps = tps[0], tps[1:]
			}
			r.flights <- ready[i]
			if r.idle.Load() == 0 && r.nTakers.Load() < int64(r.cfg.Concurrency) {
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
		seq := r.win.tryAcquire()
		if seq == 0 {
			// the bound is reached: send what has its slots; answers now wait for
			// their lists' health, so the probes must not wait for the rest of
			// this subject
			flush()
			r.openProbeGate()
			if seq = r.win.acquire(ctx); seq == 0 {
				j.t.cut.Store(true)
				j.s.canceled.Add(1)
				return
			}
		}
		j.t.pending.Add(1)
		j.s.pending.Add(1)
		f := flight{job: j, seq: seq}
		if j.s.eager {
			if f.txtSeq = r.eagerSlot(j.l); f.txtSeq != 0 {
				txtNames = append(txtNames, j.name)
			}
		}
		ready = append(ready, f)
		names = append(names, j.name)
	}
}

// eagerSlot takes a slot for a TXT query sent with its A, if the list's rate and
// the window allow one at once (0 if not): an eager TXT query never waits, nor
// delays the A queries.
func (r *runner) eagerSlot(l *listState) uint64 {
	if l.limiter != nil && !l.limiter.Allow() {
		return 0
	}
	return r.win.tryAcquire()
}

func familyName(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// take waits for a flight's answer and gives its verdict. A listing's TXT reason
// is waited for, or looked up, by a goroutine of its own, so that a taker is
// never held for a round trip; the flight's slot is kept until then. A TXT query
// sent with an A that was not a listing is not waited for: its answer is
// dropped, and its slot freed when it comes.
func (r *runner) take(ctx context.Context, f flight) {
	l := f.l
	c := Check{Subject: f.s.Name, List: l.ID, Zone: l.List.Zone, Query: f.shown, subject: f.s.pos, list: l.pos,
		Codes: []string{}, Meanings: []string{}}
	a, err := f.p.Wait()
	v := Classify(l.List, a, err)
	if err != nil && isCanceled(err) {
		f.t.cut.Store(true)
		v = failed(Error, ErrInterrupted, InterruptedError)
	}
	if a != nil {
		c.RTTms = a.RTT.Milliseconds()
	}
	if v.Status != Listed {
		r.win.release(f.seq, lost(a, err))
		if f.txt != nil {
			r.dropped.Add(1)
			go func() {
				defer r.dropped.Done()
				txt, terr := f.txt.Wait()
				r.win.release(f.txtSeq, lost(txt, terr))
			}()
		}
		r.judge(f.job, c, v)
		return
	}
	r.reasons.Add(1)
	go func() {
		defer r.reasons.Done()
		p := f.txt
		if p != nil {
			defer r.win.release(f.txtSeq, false)
		} else if l.limiter == nil || l.limiter.Wait(ctx) == nil {
			p = r.cfg.Resolver.Start(ctx, f.name, resolver.TypeTXT)
		}
		if p != nil {
			txt, terr := p.Wait()
			if terr == nil && len(txt.TXT) > 0 {
				c.Reason = strings.Join(txt.TXT, " | ")
			}
			r.win.release(f.seq, lost(a, err) || lost(txt, terr))
		} else {
			r.win.release(f.seq, lost(a, err))
		}
		c.DelistURL = l.DelistURL(f.s.Name)
		r.judge(f.job, c, v)
	}()
}

// judge applies the list's health and the resolver's to a verdict, and records it.
func (r *runner) judge(j job, c Check, v Verdict) {
	l := j.l
	<-l.done
	<-r.resolverDone
	v = l.health.apply(v)
	if r.resolver.RewritesNXDOMAIN && (v.Status == Listed || v.Status == Clean || v.Status == Allowlisted) {
		v.Status = Unreliable
		v.Error = "the resolver invents answers for names that do not exist (it rewrites NXDOMAIN)"
		v.Err = &checkError{ErrUnreliable, v.Error}
	}
	if v.Codes != nil {
		c.Codes = v.Codes
	}
	if v.Meanings != nil {
		c.Meanings = v.Meanings
	}
	c.Status, c.Error, c.Err = v.Status, v.Error, v.Err
	if c.Status != Listed && c.Status != Unreliable {
		c.Reason = ""
	}
	if c.Status != Listed {
		c.DelistURL = ""
	} else if u := reasonURL(l.List, c.Reason); u != "" {
		c.DelistURL = u // the list's own page about this listing (an SBL record, say)
	}
	r.finish(j.t, j.s, c)
}

// finish records one check, and completes its subject and target when they are done.
// An allowlist's check says nothing about whether the blacklists could be asked.
func (r *runner) finish(ts *targetState, s *subjectState, c Check) {
	switch {
	case c.Error == InterruptedError:
		s.canceled.Add(1)
	case r.lists[c.list].Allow():
	case c.Status == Listed || c.Status == Clean:
		s.ok.Add(1)
	case c.Status == Error || c.Status == Blocked || c.Status == Unreliable:
		s.failed.Add(1)
	}
	r.mu.Lock()
	if r.overlap {
		s.checks = append(s.checks, c) // counted once the subject's other lists are in
	} else {
		r.record(ts, &c)
	}
	r.mu.Unlock()
	r.subjectDone(ts, s)
	r.release(ts)
}

// record counts, keeps and observes one finished check (r.mu held).
func (r *runner) record(ts *targetState, c *Check) {
	if r.cfg.Annotate != nil {
		r.cfg.Annotate(c)
	}
	r.result.Summary.Checks++
	r.result.Summary.Counts[c.Status]++
	switch l := r.lists[c.list]; {
	case c.Status == Listed || c.Status == Clean || c.Status == Allowlisted:
		l.answered++
	case c.Error == InterruptedError || c.Status == Skipped:
	default:
		l.failed++
	}
	if c.DuplicateOf != "" {
		r.result.Summary.Duplicates++
	}
	if r.cfg.Retain {
		ts.res.Checks = append(ts.res.Checks, *c)
	}
	if r.obs.Check != nil {
		r.obs.Check(ts.res, *c)
	}
}

// subjectDone completes a subject once its last check is in: its listings are
// counted once per root list (part_of), then its checks are recorded and observed.
func (r *runner) subjectDone(ts *targetState, s *subjectState) {
	if s.pending.Add(-1) != 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if checks := s.checks; len(checks) > 0 {
		s.checks = nil
		sort.Slice(checks, func(i, j int) bool { return checks[i].list < checks[j].list })
		r.markDuplicates(checks)
		for i := range checks {
			r.record(ts, &checks[i])
		}
	}
	if s.canceled.Load() == 0 {
		ts.done.Add(1)
	}
	if s.failed.Load() > 0 && s.ok.Load() == 0 && s.canceled.Load() == 0 {
		msg := fmt.Sprintf("%s: no list could be checked", s.Name)
		ts.res.Problems = append(ts.res.Problems, msg)
		r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, msg)
	}
}

// markDuplicates marks, among one subject's checks in list order, each listing
// whose list shares its root (part_of) with another listing: the root's own
// listing stands for them, else the first. Nothing is marked in a run without
// part_of relations between its lists.
func (r *runner) markDuplicates(checks []Check) {
	var standing map[*catalog.List]int // root -> index of the listing that stands for it
	for i, c := range checks {
		if c.Status != Listed {
			continue
		}
		l := r.lists[c.list].List
		if standing == nil {
			standing = map[*catalog.List]int{}
		}
		if j, seen := standing[l.Root()]; !seen || l == l.Root() && r.lists[checks[j].list].List != l {
			standing[l.Root()] = i
		}
	}
	for i, c := range checks {
		if c.Status != Listed {
			continue
		}
		if j := standing[r.lists[c.list].Root()]; j != i {
			checks[i].DuplicateOf = checks[j].List
		}
	}
}

func (r *runner) release(ts *targetState) {
	if ts.pending.Add(-1) != 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ts.res.Interrupted = ts.cut.Load()
	ts.res.SubjectsDone = int(ts.done.Load())
	sort.SliceStable(ts.res.Checks, func(i, j int) bool {
		a, b := ts.res.Checks[i], ts.res.Checks[j]
		if a.subject != b.subject {
			return a.subject < b.subject
		}
		return a.list < b.list
	})
	if r.obs.Target != nil {
		r.obs.Target(ts.res)
	}
}

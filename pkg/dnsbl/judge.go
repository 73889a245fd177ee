package dnsbl

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// take waits for a flight's answer and gives its verdict. A taker takes a
// subject's flights in turn (fly), so what may ask the network again (a
// listing's reason and proof, a refusal asked again directly, a delisting
// confirmed) is done by a goroutine of its own: a taker waits for the answer
// and for its list's health (judgeAnswer), never for a query of its own.
func (r *runner) take(ctx context.Context, f flight) {
	a, err := f.p.Wait()
	v := Classify(f.l.List, a, err)
	if refusedByResolver(v) || v.Status == Clean && r.o.HealthTTL > 0 && r.ck.wasListed(f.s.Name, f.l.pos) {
		r.reasons.Add(1)
		go r.judgeAside(ctx, f, a, err, v) // not a closure, which would move every flight to the heap
		return
	}
	r.judgeFlight(ctx, f, a, err, v)
}

// judgeAside is judgeFlight in a goroutine of its own, counted in r.reasons.
func (r *runner) judgeAside(ctx context.Context, f flight, a *resolver.Answer, err error, v Verdict) {
	defer r.reasons.Done()
	r.judgeFlight(ctx, f, a, err, v)
}

// judgeFlight gives the verdict of a flight's answer. A listing's TXT reason
// is waited for, or looked up, by a goroutine of its own; the flight's slot is
// kept until then. A TXT query sent with an A that was not a listing is not
// waited for: its answer is dropped, and its slot freed when it comes.
func (r *runner) judgeFlight(ctx context.Context, f flight, a *resolver.Answer, err error, v Verdict) {
	l := f.l
	c := Check{Subject: f.s.Name, List: l.List, Zone: l.List.Zone, Query: f.shown, subject: f.s.pos, list: l.pos}
	if err != nil && isCanceled(err) {
		f.t.cut.Store(true)
		v = Verdict{Status: Error, Error: ErrInterrupted.Error(), Err: &CheckError{Kind: ErrInterrupted, Msg: ErrInterrupted.Error(), Cause: err}}
	} else if !f.direct && r.o.Direct == DirectAuto && refusedByResolver(v) {
		// the resolver is refused: the list is asked at its own servers
		a, v, f.direct = r.askDirect(ctx, l, f.name, a, v)
		if errors.Is(v.Err, ErrInterrupted) {
			f.t.cut.Store(true)
		}
		if f.direct && f.txt != nil { // the resolver's TXT answer is not wanted
			r.dropTXT(f)
			f.txt = nil
		}
	}
	if f.direct && refusedDirectly(v) {
		r.refusal(ctx, l, f.name, v)
	}
	c.Asked = askedOf(f.direct)
	var at time.Time // when the answer came: from the server now, or from the cache earlier
	if a != nil {
		c.RTT, at = a.RTT, a.At
	}
	if at.IsZero() {
		at = time.Now()
	}
	if v.Status != Listed {
		if f.txt != nil {
			r.dropTXT(f)
		}
		r.judgeAnswer(ctx, f.job, c, v, at)
		return
	}
	r.reasons.Add(1)
	go r.reason(ctx, f, c, v, at)
}

// reason waits for a listing's TXT reason, or looks it up, then judges it. In
// a goroutine of its own, with its own copy of the check: a closure over take's
// check would move every check to the heap, not only the listings'.
func (r *runner) reason(ctx context.Context, f flight, c Check, v Verdict, at time.Time) {
	defer r.reasons.Done()
	l := f.l
	p := f.txt
	if p == nil && (l.limiter == nil || l.limiter.Wait(ctx) == nil) {
		p = r.start(ctx, l, f.direct, f.name, resolver.TypeTXT)
	}
	if p != nil {
		if txt, terr := p.Wait(); terr == nil && len(txt.TXT) > 0 {
			c.Reason = strings.Join(txt.TXT, " | ")
		}
	}
	c.DelistURL = l.DelistURL(f.s.Name)
	r.judgeAnswer(ctx, f.job, c, v, at)
}

// dropTXT lets a TXT query sent with an A go unread: its slot is freed when
// its answer comes.
func (r *runner) dropTXT(f flight) {
	r.dropped.Add(1)
	go func() {
		defer r.dropped.Done()
		_, _ = f.txt.Wait()
	}()
}

// judgeAnswer applies the list's health and the resolver's to a verdict whose
// answer came at, confirming it first when it needs proof, and records it.
func (r *runner) judgeAnswer(ctx context.Context, j job, c Check, v Verdict, at time.Time) {
	l := j.l
	awaitClosed(l.done)
	awaitClosed(r.resolverDone)
	in := judgement{Check: c, Verdict: v, Health: l.health, Resolver: r.resolver, Role: roleOf(j, l.List), SubjectType: j.s.Type}
	if r.needsProof(l, j.s.Name, v, at) {
		in.Verdict, in.Proven = r.prove(ctx, l, v, at), true
	}
	c = judge(l.Selected, in)
	listed := c.Status == Listed || c.Status == Noted // noted: listed, not counted for its role
	if r.o.HealthTTL > 0 && !l.Allow() && (listed || c.Status == Clean) {
		r.ck.remember(j.s.Name, l.pos, listed)
	}
	r.finish(j.t, j.s, c)
}

// judgement is what judge weighs: a check as asked (its Reason and DelistURL
// as found), the verdict of its answer, the list's health (ignored when the
// verdict was Proven by test points asked after the answer), the resolver's
// health, and what the subject is to the message its target came from.
type judgement struct {
	Check       Check
	Verdict     Verdict
	Health      Health
	Proven      bool
	Resolver    ResolverHealth
	Role        catalog.Role
	SubjectType SubjectType
}

// judge turns an answer's verdict and the health behind it into the check: a
// listing of an untrusted list is unreliable, an answer through a resolver
// that invents answers is unreliable, a reason is kept for a listing only, a
// listing that does not count for the subject's role is noted.
func judge(l *catalog.Selected, in judgement) Check {
	c, v := in.Check, in.Verdict
	if !in.Proven {
		v = in.Health.apply(v)
	}
	if in.Resolver.RewritesNXDOMAIN && (v.Status == Listed || v.Status == Clean || v.Status == Allowlisted) {
		v.Status = Unreliable
		v.Error = "the resolver invents answers for names that do not exist (it rewrites NXDOMAIN)"
		v.Err = checkErr(ErrUnreliable, v.Error)
	}
	c.Codes, c.Meanings = v.Codes, v.Meanings
	c.Status, c.Err = v.Status, v.Err
	if c.Status != Listed && c.Status != Unreliable {
		c.Reason = ""
	}
	if c.Status != Listed {
		c.DelistURL = ""
	} else if u := reasonURL(l.List, c.Reason); u != "" && u != c.DelistURL {
		// the list's own page about this listing (an SBL record, say), kept
		// beside the catalog's page for the subject
		c.ListingURL = u
	}
	if c.Status == Listed && !l.CountsAs(in.Role, c.Codes) {
		c.Status, c.NotCounted = Noted, notCounted(in.Role, in.SubjectType, l.List)
	}
	return c
}

// finish records one check, and completes its subject and target when they are done.
// An allowlist's check says nothing about whether the blacklists could be asked.
func (r *runner) finish(ts *targetState, s *subjectState, c Check) {
	switch {
	case isKind(c.Err, ErrInterrupted):
		s.canceled.Add(1)
	case r.lists[c.list].Allow():
	case c.Status == Listed || c.Status == Clean || c.Status == Noted:
		s.ok.Add(1)
	case c.Status == Error || c.Status == Blocked || c.Status == Unreliable:
		s.failed.Add(1)
	}
	if r.overlap {
		r.mu.Lock()
		s.checks = append(s.checks, c) // counted once the subject's other lists are in
		r.mu.Unlock()
	} else {
		r.record(ts, &c)
		r.observeChecks(ts, c)
	}
	r.subjectDone(ts, s)
	r.release(ts)
}

// observeChecks tells the observer of checks recorded, outside r.mu (a front
// end's encoding and writing holds up no other answer's counting), before
// their target is released: a target is told after its checks.
func (r *runner) observeChecks(ts *targetState, checks ...Check) {
	if r.obs.Check == nil || len(checks) == 0 {
		return
	}
	r.obsMu.Lock()
	defer r.obsMu.Unlock()
	for _, c := range checks {
		r.obs.Check(ts.res, c)
	}
}

// observeTarget tells the observer of a finished target, outside r.mu.
func (r *runner) observeTarget(t *TargetResult) {
	if r.obs.Target == nil {
		return
	}
	r.obsMu.Lock()
	defer r.obsMu.Unlock()
	r.obs.Target(t)
}

// record counts and keeps one finished check: the run's and the list's
// counts without a lock, the target's under its own; observeChecks tells the
// observer. r.mu is not needed: answers from different targets never wait for
// each other here.
func (r *runner) record(ts *targetState, c *Check) {
	r.checks.Add(1)
	r.byStatus.add(c.Status)
	asked, failed := false, false
	switch l := r.lists[c.list]; {
	case c.Status == Listed || c.Status == Clean || c.Status == Allowlisted || c.Status == Noted:
		l.answered.Add(1)
		r.answered.Add(1)
		asked = true
	case c.Status == Skipped || isKind(c.Err, ErrInterrupted):
	default:
		asked = true
		l.failed.Add(1)
		l.failures.add(c.Status)
		r.failed.Add(1)
		if !l.Allow() { // an allowlist that failed leaves no blacklist unasked
			r.failedChecks.Add(1)
			failed = true
		}
		if isKind(c.Err, ErrTimeout) || isKind(c.Err, ErrNetwork) || isKind(c.Err, ErrRefused) {
			r.unreachable.Add(1)
		}
		if isKind(c.Err, ErrTimeout) {
			l.timeouts.Add(1)
		}
	}
	if c.DuplicateOf != nil {
		r.dups.Add(1)
	}
	ts.mu.Lock()
	ts.res.recorded++
	if asked {
		ts.res.asked++
	}
	if failed {
		ts.res.Failed++
	}
	if !r.ro.Stream {
		ts.res.Checks = append(ts.res.Checks, *c)
	}
	ts.mu.Unlock()
}

// summarise puts the counts kept outside r.mu into the result's summary, every
// status counted (zero included).
func (r *runner) summarise() {
	s := &r.result.Summary
	s.Checks, s.Failed, s.Duplicates = int(r.checks.Load()), int(r.failedChecks.Load()), int(r.dups.Load())
	for i, st := range statusOrder {
		s.Counts[st] = int(r.byStatus[i].Load())
	}
}

// subjectDone completes a subject once its last check is in: its listings are
// counted once per root list (part_of), then its checks are recorded and observed.
func (r *runner) subjectDone(ts *targetState, s *subjectState) {
	if s.pending.Add(-1) != 0 {
		return
	}
	r.mu.Lock()
	checks := s.checks
	if len(checks) > 0 {
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
		msg := NoListChecked(s.Name)
		ts.res.Problems = append(ts.res.Problems, msg)
		r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, msg)
	}
	r.mu.Unlock()
	r.observeChecks(ts, checks...)
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
	ts.res.Interrupted = ts.cut.Load()
	r.cut = r.cut || ts.res.Interrupted
	ts.res.SubjectsDone = int(ts.done.Load())
	otherShard := ts.res.Target.Kind == KindCIDR && r.ro.Shard.Count > 1 && ts.res.recorded == 0
	if ts.res.asked == 0 && !ts.res.Interrupted && len(ts.res.Problems) == 0 && !otherShard {
		// not clean: nothing answered for it (the strict rule and the lenient one)
		msg := NotAsked(ts.res.Target.Input)
		ts.res.Problems = append(ts.res.Problems, msg)
		r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, msg)
	}
	sort.SliceStable(ts.res.Checks, func(i, j int) bool {
		a, b := ts.res.Checks[i], ts.res.Checks[j]
		if a.subject != b.subject {
			return a.subject < b.subject
		}
		return a.list < b.list
	})
	r.mu.Unlock()
	r.observeTarget(ts.res)
}

// onlyNS reports whether a subject's address came from name servers alone
// ("NS ns1.example.net"), not also as the target's own address.
func onlyNS(via []string) bool {
	for _, v := range via {
		if !strings.HasPrefix(v, "NS ") {
			return false
		}
	}
	return len(via) > 0
}

// roleOf is what a subject is to the message its target was found in, as
// the list judges it: a linked domain's name server's address, an earlier
// relay's address, a link host's address (on IP lists) or name (on the domain
// lists that say which codes count for links); a sender otherwise.
func roleOf(j job, l *catalog.List) catalog.Role {
	switch {
	case j.s.Type == SubjectIP && l.Subjects() == catalog.KindIP && onlyNS(j.s.Via):
		return catalog.RoleNameServer
	case j.t.res.Target.Relay && l.Subjects() == catalog.KindIP:
		return catalog.RoleRelay
	case j.t.res.Target.Link && (l.Subjects() == catalog.KindIP || l.LinkCodes != nil):
		return catalog.RoleLinkHost
	}
	return catalog.RoleSender
}

// notCounted says why a listing of a link host, a name server or an earlier
// relay does not count.
func notCounted(r catalog.Role, st SubjectType, l *catalog.List) string {
	what := "a link's host"
	switch {
	case r == catalog.RoleNameServer:
		what = "a name server's address"
	case r == catalog.RoleRelay:
		what = "an earlier relay's address"
	case st == SubjectIP:
		what = "a link host's address"
	}
	codes, _ := l.RoleCodes(r)
	if len(codes) == 0 && r == catalog.RoleRelay {
		return "receivers look up only the server that delivered the message on " + l.Name + ", not an earlier relay"
	}
	if len(codes) == 0 {
		return "receivers do not judge " + what + " by " + l.Name + ", a list of mail senders, not of bad links"
	}
	return "receivers count " + what + " on " + l.Name + " only for " + codeNames(l, codes) + ", not for this listing"
}

// codeNames names codes by their meanings' short names (the "XBL" of "XBL:
// exploited or infected host"), each once; by the codes where a meaning has none.
func codeNames(l *catalog.List, codes []string) string {
	var names []string
	for _, c := range codes {
		name := c
		if m := l.Codes[c]; m != "" {
			if short, _, ok := strings.Cut(m, ":"); ok && len(short) <= 16 {
				name = short
			}
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/blcheck/blcheck/pkg/catalog"
)

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

// dispatch expands one target and hands its (subject, list) pairs to the workers.
func (r *runner) dispatch(ctx context.Context, ts *targetState) {
	ts.pending.Add(1) // held until every pair is dispatched
	defer r.release(ts)
	t := ts.res.Target
	pos := 0
	emit := func(s Subject) {
		ss := &subjectState{Subject: s, pos: pos}
		pos++
		if !r.ro.Stream {
			r.mu.Lock()
			ts.res.Subjects = append(ts.res.Subjects, s)
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.result.Summary.Subjects++
		ss.eager = r.eager && r.result.Summary.Subjects <= EagerSubjects
		r.mu.Unlock()
		r.planSubject(ctx, ts, ss)
		if r.o.PTR && s.Type == SubjectIP && s.Addr.IsValid() && s.Skip == nil {
			note := r.reverseDNS(ctx, s.Addr) // while the lists' answers come
			r.mu.Lock()
			ts.res.Notes = append(ts.res.Notes, note)
			r.mu.Unlock()
		}
	}
	if note := t.TestPoint(); note != "" { // what someone trying blcheck out should expect
		r.mu.Lock()
		ts.res.Notes = append(ts.res.Notes, note)
		r.mu.Unlock()
	}
	switch t.Kind {
	case KindIP:
		emit(Subject{Name: t.Addr.String(), Type: SubjectIP, Addr: t.Addr, Via: []string{"input"}})
	case KindCIDR:
		a := t.Prefix.Addr()
		for ; t.Prefix.Contains(a) && ctx.Err() == nil; a = a.Next() {
			if !r.ro.Shard.Keeps(a.String()) {
				continue
			}
			emit(Subject{Name: a.String(), Type: SubjectIP, Addr: a, Via: []string{"input"}})
		}
		if t.Prefix.Contains(a) && a.IsValid() { // stopped before the range's end
			ts.cut.Store(true)
		}
	case KindDomain:
		subjects, problems, notes := expand(ctx, t, r.lookup, r.expandOptions())
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
		r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, problems...)
		r.mu.Unlock()
		for _, s := range subjects {
			emit(s)
		}
	}
}

// expandOptions are the run's options for expand.
func (r *runner) expandOptions() expandOptions {
	return expandOptions{NS: r.o.NS, SPF: r.o.SPF, AllowPrivate: r.o.AllowPrivate,
		Hostnames: slices.ContainsFunc(r.lists, func(l *listState) bool { return l.Hostnames })}
}

// planned is one query a subject's check needs: of a list (by its state in
// the run), the name asked of its real zone (key inserted: never printed) and
// the same name as shown.
type planned struct {
	l           *listState
	name, shown string
}

// plan is one subject against the run's lists, sending nothing: a job for each
// list it applies to, and a finished check for each list it applies to but that
// cannot be asked (skipped: a private address, an address family the list has
// no data for, a key not set; an error: a name too long). Lists that do not
// apply (an IP list for a domain, a host name for a list of domains) get
// neither. linkAddr says the subject is the address of a link (http://192.0.2.7/),
// which IP lists of link hosts take. It reads only lists' fixed fields
// (Selected, zone, pos). Each address is reversed once, for every list.
func plan(s Subject, pos int, linkAddr bool, lists []*listState) (jobs []planned, done []Check) {
	want := catalog.KindIP
	if s.Type == SubjectDomain {
		want = catalog.KindDomain
	}
	stem := s.Name // what precedes the zone in a query name
	if s.Type == SubjectIP && s.Addr.IsValid() {
		stem = ReverseIP(s.Addr)
	}
	asked := s.Type == SubjectDomain || s.Addr.IsValid() // a skipped SPF range has no query
	applies := func(l *listState) bool {
		// a full host name goes to the lists that list host names only
		return (l.Subjects() == want || linkAddr && l.IPSubjects) && (!s.Host || l.Hostnames)
	}
	// counted first: the lists, and one string of every name, are made once,
	// at their size
	nJobs, nDone, size := 0, 0, 0
	for _, l := range lists {
		if !applies(l) {
			continue
		}
		if asked && len(stem)+1+len(l.List.Zone) <= 253 {
			size += len(stem) + 1 + len(l.List.Zone)
		}
		switch {
		case skipOf(s, l) != nil || len(stem)+1+len(l.zone) > 253:
			nDone++
		default:
			nJobs++
			if l.zone != l.List.Zone {
				size += len(stem) + 1 + len(l.zone)
			}
		}
	}
	jobs = make([]planned, 0, nJobs)
	if nDone > 0 {
		done = make([]Check, 0, nDone)
	}
	var names strings.Builder
	names.Grow(size)
	for _, l := range lists {
		if !applies(l) {
			continue
		}
		c := Check{Subject: s.Name, List: l.List, Zone: l.List.Zone, subject: pos, list: l.pos}
		if asked && len(stem)+1+len(l.List.Zone) <= 253 {
			c.Query = joined(&names, stem, l.List.Zone)
		}
		if skip := skipOf(s, l); skip != nil {
			c.Status, c.Err = Skipped, skip
			done = append(done, c)
			continue
		}
		if len(stem)+1+len(l.zone) > 253 {
			c.Status, c.Err = Error, &CheckError{Kind: ErrNotAsked, Msg: ErrNameTooLong.Error(), Cause: ErrNameTooLong}
			done = append(done, c)
			continue
		}
		name := c.Query
		if l.zone != l.List.Zone {
			name = joined(&names, stem, l.zone)
		}
		jobs = append(jobs, planned{l: l, name: name, shown: c.Query})
	}
	return jobs, done
}

// joined writes stem.zone to b and returns it: a piece of the one string b
// builds, not a string of its own (b's strings stay valid should it grow).
func joined(b *strings.Builder, stem, zone string) string {
	start := b.Len()
	b.WriteString(stem)
	b.WriteByte('.')
	b.WriteString(zone)
	return b.String()[start:]
}

// skipOf is why list l is not asked about subject s, or nil.
func skipOf(s Subject, l *listState) error {
	switch {
	case s.Skip != nil:
		return s.Skip
	case s.Type == SubjectIP && s.Addr.IsValid() && !l.Covers(s.Addr):
		return l.familySkip(s.Addr)
	case l.NeedsKey():
		return l.keySkip()
	}
	return nil
}

// planSubject plans one subject and hands its jobs to send: the runner's part,
// scheduling what plan decided.
func (r *runner) planSubject(ctx context.Context, ts *targetState, s *subjectState) {
	s.pending.Add(1)
	defer r.subjectDone(ts, s)
	t := ts.res.Target
	linkAddr := s.Type == SubjectIP && t.Link && !t.Relay && t.Kind != KindDomain // http://192.0.2.7/
	planned, done := plan(s.Subject, s.pos, linkAddr, r.lists)
	for _, p := range planned {
		r.need(p.l)
	}
	if len(planned) > 0 {
		select {
		case <-r.someUsed: // the resolver's check has its lists
		default:
			used := make([]*listState, len(planned))
			for i, p := range planned {
				used[i] = p.l
			}
			r.firstUsed(used)
		}
	}
	for _, c := range done {
		ts.pending.Add(1)
		s.pending.Add(1)
		r.finish(ts, s, c)
	}
	r.send(ctx, ts, s, planned)
	r.releaseProbes(ctx)
}

// familySkip is why the list skips an address of a family it has no data
// for; keySkip why it skips everything without its key. Each is made once a
// run, when newRunner sets it, not once a subject.
func (l *listState) familySkip(a netip.Addr) error {
	if e := l.skips[familyIndex(a)]; e != nil {
		return e
	}
	return checkErr(ErrSkipFamily, "the list has no "+familyName(a)+" data")
}

func (l *listState) keySkip() error {
	if e := l.skips[2]; e != nil {
		return e
	}
	return checkErr(ErrSkipKey, fmt.Sprintf("the list needs an account key: set $%s", l.Key.Env))
}

// makeSkips makes the list's skip reasons for the run.
func (l *listState) makeSkips() {
	l.skips[0] = l.familySkip(netip.IPv4Unspecified())
	l.skips[1] = l.familySkip(netip.IPv6Unspecified())
	if l.NeedsKey() {
		l.skips[2] = l.keySkip()
	}
}

func familyIndex(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

func familyName(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// ParseShard reads a shard written "I/N" (0 <= I < N); "" is the zero Shard,
// which keeps everything.
func ParseShard(v string) (Shard, error) {
	if v == "" {
		return Shard{}, nil
	}
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, errors.New("use I/N with 0 <= I < N")
	}
	return Shard{Index: i, Count: n}, nil
}

// Volume is how many subjects of each kind a run has, counted before it runs:
// addresses by family (a range counts its size), and domains.
type Volume struct {
	V4, V6, Domains int
}

// OperatorLoad is about how many queries a run sends to one operator's zones,
// and the free use the operator allows a day across them.
type OperatorLoad struct {
	Operator   string // the catalog's operator, or the list's id
	Queries    int
	DailyLimit int
	Zones      []string
}

// OverLimit estimates the queries a run of volume v sends to each operator
// (one share of it with a shard) and returns the operators whose free daily
// limit it exceeds. Keyed and paid feeds have their own terms and are left out.
// A domain is counted as a name and an address or two.
func OverLimit(lists []catalog.Selected, v Volume, sh Shard) []OperatorLoad {
	v4, v6, domains := v.V4+2*v.Domains, v.V6, v.Domains
	if sh.Count > 1 {
		v4, v6, domains = v4/sh.Count, v6/sh.Count, domains/sh.Count
	}
	var order []string
	byOperator := map[string]*OperatorLoad{}
	for _, l := range lists {
		if l.Keyed() {
			continue
		}
		op := l.Operator
		if op == "" {
			op = l.ID
		}
		u := byOperator[op]
		if u == nil {
			u = &OperatorLoad{Operator: op}
			byOperator[op] = u
			order = append(order, op)
		}
		n := 0
		switch {
		case l.Subjects() == catalog.KindDomain:
			n = domains
		default:
			if slices.Contains(l.Families, catalog.FamilyIPv4) {
				n += v4
			}
			if slices.Contains(l.Families, catalog.FamilyIPv6) {
				n += v6
			}
		}
		if n == 0 {
			continue
		}
		u.Queries += n
		u.DailyLimit = max(u.DailyLimit, l.DailyLimit)
		u.Zones = append(u.Zones, l.List.Zone)
	}
	var out []OperatorLoad
	for _, op := range order {
		if u := byOperator[op]; u.DailyLimit > 0 && u.Queries > u.DailyLimit {
			out = append(out, *u)
		}
	}
	return out
}

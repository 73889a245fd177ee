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
		r.plan(ctx, ts, ss)
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
		r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, problems...)
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
	linkAddr := s.Type == SubjectIP && ts.res.Target.Link && ts.res.Target.Kind != KindDomain // http://192.0.2.7/
	for _, l := range r.lists {
		if l.Subjects() != want && !(linkAddr && l.IPSubjects) || s.Host && !l.Hostnames {
			continue // a full host name goes to the lists that list host names only
		}
		c := Check{Subject: s.Name, List: l.List, Zone: l.List.Zone, subject: s.pos, list: l.pos}
		if s.Type == SubjectDomain || s.Addr.IsValid() { // a skipped SPF range has no query
			if shown, err := QueryName(s.Subject, l.List.Zone); err == nil {
				c.Query = shown
			}
		}
		var skip error
		switch {
		case s.Skip != nil:
			skip = s.Skip
		case s.Type == SubjectIP && s.Addr.IsValid() && !l.Covers(s.Addr):
			skip = checkErr(ErrSkipFamily, "the list has no "+familyName(s.Addr)+" data")
		case l.NeedsKey():
			skip = checkErr(ErrSkipKey, fmt.Sprintf("the list needs an account key: set $%s", l.Key.Env))
		}
		if skip != nil {
			c.Status, c.Err = Skipped, skip
			ts.pending.Add(1)
			s.pending.Add(1)
			r.finish(ts, s, c)
			continue
		}
		name, err := QueryName(s.Subject, l.zone)
		if err != nil {
			c.Status, c.Err = Error, &CheckError{Kind: ErrNotAsked, Msg: err.Error(), Cause: err}
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

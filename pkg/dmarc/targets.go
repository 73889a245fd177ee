package dmarc

import (
	"iter"
	"net/netip"
	"slices"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// Targets returns the sources to check, most messages first: every source
// address, except those that are not public (Source.Skip) unless allowPrivate.
func Targets(res *Result, allowPrivate bool) []dnsbl.Target {
	return slices.Collect(TargetSeq(res, allowPrivate))
}

// TargetSeq yields the targets Targets returns, one at a time: a run of a
// hundred thousand sources need not hold a target (about 150 bytes) for each
// beside its Source.
func TargetSeq(res *Result, allowPrivate bool) iter.Seq[dnsbl.Target] {
	return func(yield func(dnsbl.Target) bool) {
		for a := range Checked(res, allowPrivate) {
			if !yield(dnsbl.Target{Input: a.String(), Kind: dnsbl.KindIP, Form: "ip", Addr: a}) {
				return
			}
		}
	}
}

// Checked yields the addresses of the targets, in their order.
func Checked(res *Result, allowPrivate bool) iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		for _, s := range res.Sources {
			if s.Skip != "" && !allowPrivate {
				continue
			}
			if !yield(s.Addr) {
				return
			}
		}
	}
}

// Listings returns, per checked address, the lists whose listing of it counts
// (a listing that is only noted, e.g. a link code, does not).
func Listings(res *dnsbl.Result) map[netip.Addr][]string {
	out := Listed{}
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			out.Add(tr, c)
		}
	}
	return out
}

// Listed collects Listings from checks as they come: a streamed run
// (dnsbl.RunOptions.Stream) keeps no target in its Result to read them from.
type Listed map[netip.Addr][]string

// Add records c if it is a listing of a source that counts; an observer of a
// run's checks (dnsbl.Observer.Check).
func (l Listed) Add(tr *dnsbl.TargetResult, c dnsbl.Check) {
	if tr.Target.Kind == dnsbl.KindIP && c.Status == dnsbl.Listed && c.NotCounted == "" && c.DuplicateOf == nil &&
		!slices.Contains(l[tr.Target.Addr], c.List.ID) {
		l[tr.Target.Addr] = append(l[tr.Target.Addr], c.List.ID)
	}
}

// Verdict is what a run of the sources found.
type Verdict struct {
	// Real are listed sources whose mail passes DMARC (the domain's own mail);
	// Forged listed sources none of whose mail passes.
	Real, Forged []*Source
}

// Judge sorts the listed sources into real and forged.
func Judge(sources []*Source, listed map[netip.Addr][]string) Verdict {
	var v Verdict
	for _, s := range sources {
		if len(listed[s.Addr]) == 0 {
			continue
		}
		if s.Forged() {
			v.Forged = append(v.Forged, s)
		} else {
			v.Real = append(v.Real, s)
		}
	}
	return v
}

// Outcome is the run's outcome by the contract's rule for DMARC sources: a
// listed source that sends real mail (passed > 0) is a listing; a listed
// forger is reported but counts as a listing only with failOnForged. Without
// a counted listing the run is clean or incomplete as the checks say.
func Outcome(res *dnsbl.Result, v Verdict, strict, failOnForged bool) dnsbl.Outcome {
	o := res.Outcome(strict)
	if o != dnsbl.OutcomeListed || len(v.Real) > 0 || failOnForged && len(v.Forged) > 0 {
		return o
	}
	// only forgers are listed, or a listing of an address no report names: the
	// outcome of the same checks without the listings
	cp := *res
	cp.Summary.Counts = map[dnsbl.Status]int{}
	for k, n := range res.Summary.Counts {
		cp.Summary.Counts[k] = n
	}
	cp.Summary.Counts[dnsbl.Listed] = res.Summary.Duplicates
	return cp.Outcome(strict)
}

// Estimate is how long checking addrs on lists takes at rate queries a second
// per list (0: no limit, and no estimate): the busiest list's queries over the
// rate, lists being asked in parallel. It returns the queries too.
func Estimate(addrs iter.Seq[netip.Addr], lists []catalog.Selected, rate float64) (queries int, d time.Duration) {
	var ip []catalog.Selected
	for _, l := range lists {
		if l.Subjects() == catalog.KindIP {
			ip = append(ip, l)
		}
	}
	per := make([]int, len(ip))
	for a := range addrs {
		for i, l := range ip {
			if l.Covers(a) {
				per[i]++
			}
		}
	}
	busiest := 0
	for _, n := range per {
		queries += n
		busiest = max(busiest, n)
	}
	if rate <= 0 {
		return queries, 0
	}
	return queries, time.Duration(float64(busiest) / rate * float64(time.Second))
}

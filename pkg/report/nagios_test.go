package report

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// A listing below --warning on a run left incomplete for a reason no list's
// failure says (the state not saved) is UNKNOWN, and its status line says why.
func TestNagiosBelowWarningSaysWhyIncomplete(t *testing.T) {
	zen := &catalog.List{ID: "zen"}
	res := &dnsbl.Result{Summary: dnsbl.Summary{Targets: 1, Subjects: 1, Checks: 1, Counts: map[dnsbl.Status]int{dnsbl.Listed: 1}},
		Lists: []dnsbl.ListHealth{{List: zen, Answered: 1}},
		Targets: []*dnsbl.TargetResult{{Target: dnsbl.Target{Input: "192.0.2.10"}, Subjects: []dnsbl.Subject{{Name: "192.0.2.10"}},
			Checks: []dnsbl.Check{{Subject: "192.0.2.10", List: zen, Status: dnsbl.Listed, Codes: []netip.Addr{netip.MustParseAddr("127.0.0.2")}}}}}}
	v := &View{Result: res, Incomplete: []string{"the state could not be saved (--state): disk full"}}
	v.Decide(true)
	state, text, _ := nagios(v, 2, 3)
	if state != NagiosUnknown || !strings.Contains(text, "listed once") || !strings.Contains(text, "the state could not be saved") {
		t.Errorf("state %d, text %q: want UNKNOWN, the listing and why", state, text)
	}
}

// A WARNING or CRITICAL status line also names the lists that could not be
// asked: more listings may hide there, so the count is a floor.
func TestNagiosListedSaysNotChecked(t *testing.T) {
	zen, psbl := &catalog.List{ID: "zen"}, &catalog.List{ID: "psbl"}
	res := &dnsbl.Result{Summary: dnsbl.Summary{Targets: 1, Subjects: 1, Checks: 2, Counts: map[dnsbl.Status]int{dnsbl.Listed: 1, dnsbl.Error: 1}},
		Lists: []dnsbl.ListHealth{{List: zen, Answered: 1}, {List: psbl, Failed: 1, Failures: map[dnsbl.Status]int{dnsbl.Error: 1}}},
		Targets: []*dnsbl.TargetResult{{Target: dnsbl.Target{Input: "192.0.2.10"}, Subjects: []dnsbl.Subject{{Name: "192.0.2.10"}},
			Checks: []dnsbl.Check{{Subject: "192.0.2.10", List: zen, Status: dnsbl.Listed, Codes: []netip.Addr{netip.MustParseAddr("127.0.0.2")}},
				{Subject: "192.0.2.10", List: psbl, Status: dnsbl.Error}}}}}
	v := &View{Result: res}
	v.Decide(true)
	for _, tc := range []struct{ warning, critical, state int }{{1, 2, NagiosWarning}, {1, 1, NagiosCritical}} {
		state, text, _ := nagios(v, tc.warning, tc.critical)
		if state != tc.state || !strings.Contains(text, "listed once on zen; not checked: psbl (1 error)") {
			t.Errorf("-w %d -c %d: state %d, text %q", tc.warning, tc.critical, state, text)
		}
	}
}

// An empty run (a --shard with no target) is OK with nothing to check, not a
// status line naming an empty target list.
func TestNagiosNoTarget(t *testing.T) {
	v := &View{Result: &dnsbl.Result{Summary: dnsbl.Summary{Counts: map[dnsbl.Status]int{}}}}
	v.Decide(true)
	state, text, _ := nagios(v, 1, 2)
	if state != NagiosOK || text != "nothing to check: no target in this run" {
		t.Errorf("state %d, text %q", state, text)
	}
}

// The status line names only the targets a listing is about: never a clean
// target among listed ones.
func TestListedWhat(t *testing.T) {
	tests := []struct {
		what   string
		listed []string
		total  int
		want   string
	}{
		{"192.0.2.10, 198.51.100.7", []string{"192.0.2.10", "198.51.100.7"}, 2, "192.0.2.10, 198.51.100.7"},
		{"192.0.2.10, 198.51.100.7", []string{"198.51.100.7"}, 2, "198.51.100.7 (1 of 2 targets)"},
		{"5 targets", []string{"a.example", "b.example", "c.example", "d.example"}, 5, "4 of 5 targets"},
		{"5 targets", []string{"a.example", "b.example"}, 5, "a.example, b.example (2 of 5 targets)"},
		{"5 targets", []string{"a.example", "b.example", "c.example", "d.example", "e.example"}, 5, "5 targets"},
		{"192.0.2.10, 192.0.2.10, a.example", []string{"192.0.2.10", "192.0.2.10"}, 3, "192.0.2.10 (2 of 3 targets)"},
	}
	for _, tc := range tests {
		if got := listedWhat(tc.what, tc.listed, tc.total); got != tc.want {
			t.Errorf("listedWhat(%q, %q, %d) = %q, want %q", tc.what, tc.listed, tc.total, got, tc.want)
		}
	}
}

// A target whose listing repeats another target's check (a domain whose
// address was given too) is named as listed in the status line.
func TestNagiosNamesDuplicateListing(t *testing.T) {
	zen := &catalog.List{ID: "zen"}
	first := dnsbl.Check{Subject: "192.0.2.10", List: zen, Status: dnsbl.Listed, Codes: []netip.Addr{netip.MustParseAddr("127.0.0.2")}}
	again := first
	again.SameAs = "192.0.2.10"
	res := &dnsbl.Result{Summary: dnsbl.Summary{Targets: 3, Subjects: 3, Checks: 3, Counts: map[dnsbl.Status]int{dnsbl.Listed: 1, dnsbl.Clean: 1}},
		Lists: []dnsbl.ListHealth{{List: zen, Answered: 2}},
		Targets: []*dnsbl.TargetResult{
			{Target: dnsbl.Target{Input: "192.0.2.10"}, Checks: []dnsbl.Check{first}},
			{Target: dnsbl.Target{Input: "b.example"}, Checks: []dnsbl.Check{{Subject: "198.51.100.7", List: zen, Status: dnsbl.Clean}}},
			{Target: dnsbl.Target{Input: "a.example"}, Checks: []dnsbl.Check{again}}}}
	v := &View{Result: res}
	v.Decide(true)
	_, text, _ := nagios(v, 1, 2)
	if !strings.Contains(text, "192.0.2.10, a.example (2 of 3 targets) listed once on zen") {
		t.Errorf("status line %q: want both listed targets named, not b.example", text)
	}
}

// A resolver that answers nothing is the status line's one cause, not the
// first subject of a range that no list could be checked for.
func TestNagiosResolverDown(t *testing.T) {
	cat := catalog.Default()
	refused := "network error: connection refused after 2 tries from 127.0.0.1:1"
	var lists []dnsbl.ListHealth
	for _, id := range []string{"spamhaus-zen", "spamcop", "psbl"} {
		lists = append(lists, dnsbl.ListHealth{List: cat.ByID(id), Health: dnsbl.Health{State: dnsbl.HealthNoAnswer, Cause: refused}})
	}
	res := &dnsbl.Result{Lists: lists, Targets: []*dnsbl.TargetResult{{Target: dnsbl.Target{Input: "198.51.100.0/30", Kind: dnsbl.KindCIDR}}}}
	res.Summary.Counts = map[dnsbl.Status]int{dnsbl.Error: 12}
	res.Summary.Incomplete = []string{dnsbl.NoListChecked("198.51.100.2"), dnsbl.NoListChecked("198.51.100.0")}
	v := &View{Result: res}
	v.Decide(true)
	state, text, _ := nagios(v, 1, 2)
	if state != NagiosUnknown || !strings.Contains(text, "the resolver, or the path to it, is down: all 3 lists asked failed the same way ("+refused+")") ||
		strings.Contains(text, "198.51.100.2") {
		t.Errorf("state %d, text %q: want UNKNOWN, the resolver named", state, text)
	}
}

package dmarc

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

func TestTargetsSkipPrivate(t *testing.T) {
	r := NewReader(Limits{})
	if err := r.ReadPath("testdata/samples/dmarc-report-converter/test2.xml"); err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	if n := len(Targets(res, false)); n != 0 {
		t.Errorf("%d targets from private sources, want 0", n)
	}
	if n := len(Targets(res, true)); n != 2 {
		t.Errorf("--allow-private: %d targets, want 2", n)
	}
	for _, s := range res.Sources {
		if s.Skip == "" {
			t.Errorf("%s: no skip reason", s.Addr)
		}
	}
}

// TestTargetSeq: the targets made one at a time are Targets', in the
// sources' order (most messages first), the private ones left out, and a
// consumer that stops early stops them.
func TestTargetSeq(t *testing.T) {
	var b bytes.Buffer
	if err := writeBigReport(&b, 200, "seq-1"); err != nil {
		t.Fatal(err)
	}
	b2 := bytes.ReplaceAll(b.Bytes(), []byte("<source_ip>198.18."), []byte("<source_ip>10.18."))
	r := NewReader(Limits{})
	if err := r.ReadStream(bytes.NewReader(b2), "r.xml"); err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	for _, private := range []bool{false, true} {
		want := Targets(res, private)
		got := slices.Collect(TargetSeq(res, private))
		if !slices.Equal(got, want) || len(got) == 0 {
			t.Errorf("allowPrivate %v: %d targets made one at a time, %d in Targets, or they differ", private, len(got), len(want))
		}
		addrs := slices.Collect(Checked(res, private))
		if len(addrs) != len(want) || addrs[0] != want[0].Addr || addrs[0] != res.Sources[0].Addr {
			t.Errorf("allowPrivate %v: Checked gives %d addresses, first %v; want %d, first %v", private, len(addrs), addrs[0], len(want), want[0].Addr)
		}
	}
	if n := len(Targets(res, true)) - len(Targets(res, false)); n == 0 {
		t.Error("no private source left out")
	}
	n := 0
	for range TargetSeq(res, false) {
		if n++; n == 3 {
			break
		}
	}
}

// run builds the result of checking addrs on one list, listing those in listed.
func run(addrs []string, listed map[string]bool, failed bool) *dnsbl.Result {
	l := &catalog.List{ID: "zen", Kind: catalog.KindIP, Families: []string{catalog.FamilyIPv4}}
	res := &dnsbl.Result{Summary: dnsbl.Summary{Counts: map[dnsbl.Status]int{}}}
	for i, a := range addrs {
		st := dnsbl.Clean
		switch {
		case listed[a]:
			st = dnsbl.Listed
		case failed:
			st = dnsbl.Error
		}
		ip := netip.MustParseAddr(a)
		res.Targets = append(res.Targets, &dnsbl.TargetResult{Index: i, Started: true,
			Target: dnsbl.Target{Input: a, Kind: dnsbl.KindIP, Addr: ip},
			Checks: []dnsbl.Check{{Subject: a, List: l, Status: st}}})
		res.Summary.Counts[st]++
		if st == dnsbl.Error {
			res.Summary.Failed++
		}
	}
	return res
}

func TestOutcome(t *testing.T) {
	real := &Source{Addr: netip.MustParseAddr("192.0.2.1"), Messages: 10, Passed: 9}
	forger := &Source{Addr: netip.MustParseAddr("192.0.2.2"), Messages: 5}
	sources := []*Source{real, forger}
	addrs := []string{"192.0.2.1", "192.0.2.2"}
	tests := []struct {
		name         string
		listed       map[string]bool
		failed       bool
		failOnForged bool
		want         dnsbl.Outcome
	}{
		{"real listed", map[string]bool{"192.0.2.1": true}, false, false, dnsbl.OutcomeListed},
		{"forger listed", map[string]bool{"192.0.2.2": true}, false, false, dnsbl.OutcomeClean},
		{"forger listed, fail on forged", map[string]bool{"192.0.2.2": true}, false, true, dnsbl.OutcomeListed},
		{"forger listed, other checks failed", map[string]bool{"192.0.2.2": true}, true, false, dnsbl.OutcomeIncomplete},
		{"both listed", map[string]bool{"192.0.2.1": true, "192.0.2.2": true}, false, false, dnsbl.OutcomeListed},
		{"none", nil, false, false, dnsbl.OutcomeClean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(addrs, tt.listed, tt.failed)
			v := Judge(sources, Listings(res))
			if got := Outcome(res, v, true, tt.failOnForged); got != tt.want {
				t.Errorf("outcome %v, want %v (real %d, forged %d)", got, tt.want, len(v.Real), len(v.Forged))
			}
		})
	}
}

func TestEstimate(t *testing.T) {
	v4 := &catalog.List{ID: "a", Kind: catalog.KindIP, Families: []string{catalog.FamilyIPv4}}
	both := &catalog.List{ID: "b", Kind: catalog.KindIP, Families: []string{catalog.FamilyIPv4, catalog.FamilyIPv6}}
	dom := &catalog.List{ID: "c", Kind: catalog.KindDomain}
	lists := []catalog.Selected{{List: v4}, {List: both}, {List: dom}}
	var addrs []netip.Addr
	for _, a := range []string{"192.0.2.1", "192.0.2.2", "2001:db8::1"} {
		addrs = append(addrs, netip.MustParseAddr(a))
	}
	targets := slices.Values(addrs)
	q, d := Estimate(targets, lists, 1)
	if q != 5 || d != 3*time.Second {
		t.Errorf("%d queries, %v; want 5 queries, 3s (the busiest list's 3 at 1 a second)", q, d)
	}
	if _, d := Estimate(targets, lists, 0); d != 0 {
		t.Errorf("--rate 0: %v", d)
	}
}

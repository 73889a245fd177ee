package report

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/bounce"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain text", 100, "plain text"},
		{"\x1b[31mred\x1b[0m", 100, `\x1b[31mred\x1b[0m`},
		{"bell\x07 and del\x7f", 100, `bell\x07 and del\x7f`},
		{"c1 \u009b csi", 100, `c1 \x9b csi`},
		{"multi\n\nline\t\ttext  ", 100, "multi line text"},
		{"rtl \u202etxt.exe", 100, `rtl \u202etxt.exe`},
		{"bad utf8 \xff\xfe", 100, `bad utf8 \xff\xfe`},
		{"café résumé", 100, "café résumé"},
		{strings.Repeat("a", 50), 10, "aaaaaaaaaa…"},
	}
	for _, tc := range tests {
		if got := Sanitize(tc.in, tc.max); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every renderer says when its output could not be written, and so does the
// changes report (-q with --state).
func TestRenderersReturnWriteErrors(t *testing.T) {
	for _, f := range Formats() {
		render, _ := Lookup(f)
		if err := render(failWriter{}, fixtureView(t, true), Options{Now: time.Unix(0, 0)}); err == nil {
			t.Errorf("%s: no error from a failing writer", f)
		}
	}
	v := fixtureView(t, false)
	v.Changes = map[string]string{"192.0.2.10 spamhaus-zen": "new-listing"}
	if err := renderText(failWriter{}, v, Options{Quiet: true}); err == nil {
		t.Error("changes: no error from a failing writer")
	}
}

// TestNamesURL: a TXT reason that names the delisting page as a whole link;
// a longer link that only starts with it is another page.
func TestNamesURL(t *testing.T) {
	const u = "https://check.spamhaus.org/query/ip/192.0.2.1"
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"Listed by XBL, see " + u, true},
		{u, true},
		{"see " + u + ".", true},
		{"see <" + u + "> for details", true},
		{"(" + u + ")", true},
		{"see " + u + "0", false}, // 192.0.2.10's page
		{"see " + u + "/more", false},
		{"see " + u + ".html", false},
		{"see " + u + "0 and " + u + " too", true},
		{"Listed by XBL", false},
		{"", false},
	} {
		if got := NamesURL(tc.text, u); got != tc.want {
			t.Errorf("NamesURL(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	if NamesURL("anything", "") {
		t.Error("no URL is named by nothing")
	}
}

// TestDiagnosisSaysTheDelistPageOnce: a finding whose TXT reason names its
// delisting page says the page once, with the reason; another page is kept.
func TestDiagnosisSaysTheDelistPageOnce(t *testing.T) {
	const u, other = "https://check.spamhaus.org/query/ip/192.0.2.10", "https://www.spamhaus.org/sbl/query/SBL1"
	d := &bounce.Diagnosis{Said: "550 5.7.1 rejected", Findings: []bounce.Finding{{
		Sentence: "192.0.2.10 is in Spamhaus ZEN", Reason: "Listed by XBL, see " + u, Delist: []string{u, other}, Advice: "clean it",
	}}}
	var b bytes.Buffer
	if err := renderText(&b, &View{Result: &dnsbl.Result{}, Bounce: &bounce.Report{}, Diagnosis: d}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Count(out, u) != 1 || !strings.Contains(out, "    reason, delist: Listed by XBL, see "+u+"\n") ||
		!strings.Contains(out, "    delist: "+other+"\n") {
		t.Errorf("the delisting page, once:\n%s", out)
	}
}

// TestKeyedListsGrammar: one keyed list needs its key, several need theirs.
func TestKeyedListsGrammar(t *testing.T) {
	cat := catalog.Default()
	needs := func(ids ...string) []dnsbl.ListHealth {
		var out []dnsbl.ListHealth
		for _, id := range ids {
			out = append(out, dnsbl.ListHealth{List: cat.ByID(id), Health: dnsbl.Health{State: dnsbl.HealthNeedsKey}})
		}
		return out
	}
	for _, tc := range []struct {
		lists []dnsbl.ListHealth
		want  string
	}{
		{needs("spamhaus-dqs-zen"), "1 list needs $BLCHECK_SPAMHAUS_DQS_KEY (see"},
		{needs("spamhaus-dqs-zen", "spamhaus-dqs-dbl"), "2 lists need $BLCHECK_SPAMHAUS_DQS_KEY (see"},
		{needs("spamhaus-dqs-zen", "spamhaus-dqs-dbl", "abusix-combined"), "2 lists need $BLCHECK_SPAMHAUS_DQS_KEY, 1 needs $BLCHECK_ABUSIX_KEY (see"},
	} {
		tr := &dnsbl.TargetResult{}
		for _, l := range tc.lists { // each skipped for want of its key
			tr.Checks = append(tr.Checks, dnsbl.Check{List: l.List, Status: dnsbl.Skipped})
		}
		res := &dnsbl.Result{Lists: tc.lists, Targets: []*dnsbl.TargetResult{tr}, Summary: dnsbl.Summary{Subjects: 1}}
		var b bytes.Buffer
		if err := renderText(&b, &View{Result: res}, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("want %q in:\n%s", tc.want, b.String())
		}
	}
}

// TestKeyedListsAgree: the lists "Not queried, no account key set" names are
// the lists of the summary's skipped checks: a keyed list that applies to no
// subject (DBL and an address) is in neither, and both say their unit.
func TestKeyedListsAgree(t *testing.T) {
	cat := catalog.Default()
	var lists []dnsbl.ListHealth
	tr := &dnsbl.TargetResult{}
	for _, id := range []string{"spamhaus-dqs-zen", "spamhaus-dqs-dbl", "abusix-combined"} {
		lists = append(lists, dnsbl.ListHealth{List: cat.ByID(id), Health: dnsbl.Health{State: dnsbl.HealthNeedsKey}})
		if id == "spamhaus-dqs-dbl" {
			continue // a domain list: no check of an address
		}
		for _, subject := range []string{"192.0.2.10", "192.0.2.11"} {
			tr.Checks = append(tr.Checks, dnsbl.Check{Subject: subject, List: cat.ByID(id), Status: dnsbl.Skipped})
		}
	}
	res := &dnsbl.Result{Lists: lists, Targets: []*dnsbl.TargetResult{tr},
		Summary: dnsbl.Summary{Targets: 1, Subjects: 2, Checks: 4, Counts: map[dnsbl.Status]int{dnsbl.Skipped: 4}}}
	var b bytes.Buffer
	if err := renderText(&b, &View{Result: res}, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 list needs $BLCHECK_SPAMHAUS_DQS_KEY, 1 needs $BLCHECK_ABUSIX_KEY (see",
		"4 skipped (4 checks on the 2 lists that need a key)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("want %q in:\n%s", want, b.String())
		}
	}
}

// TestProbeAdviceFits: the advice under a probe with a blocked list fits an
// 80-column terminal (the probe's table is not wrapped).
func TestProbeAdviceFits(t *testing.T) {
	res := &dnsbl.Result{Lists: []dnsbl.ListHealth{{List: catalog.Default().ByID("spamhaus-zen"), Zone: "zen.spamhaus.org",
		Health: dnsbl.Health{State: dnsbl.HealthBlocked}}}}
	var b bytes.Buffer
	if err := ProbeTable(&b, res, []string{"127.0.0.1:53"}, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	i := strings.Index(out, "Blocked lists refuse")
	if i < 0 {
		t.Fatalf("no advice:\n%s", out)
	}
	for _, l := range strings.Split(out[i:], "\n") {
		if len(l) > 80 {
			t.Errorf("%d columns: %s", len(l), l)
		}
	}
}

// TestCheckLinesAligned: a NOTED, LISTED or ERROR line has the list's name in
// one column, and what follows it (meanings, reason, "not counted") on lines
// of their own, indented alike.
func TestCheckLinesAligned(t *testing.T) {
	res, names, _ := fixture(t)
	var b bytes.Buffer
	if err := renderText(&b, &View{Result: res, Names: names}, Options{}); err != nil {
		t.Fatal(err)
	}
	const column = len("    LISTED ")
	lines := strings.Split(b.String(), "\n")
	seen := map[string]bool{}
	for i, l := range lines {
		for _, head := range []string{"LISTED", "NOTED", "ERROR"} {
			if !strings.HasPrefix(l, "    "+head+" ") {
				continue
			}
			seen[head] = true
			if name := strings.TrimLeft(l[len("    "+head):], " "); len(l)-len(name) != column {
				t.Errorf("%s: the list's name at column %d, want %d:\n%s", head, len(l)-len(name), column, l)
			}
			if head != "ERROR" && (strings.Contains(l, ": ") || i+1 == len(lines) || !strings.HasPrefix(lines[i+1], strings.Repeat(" ", column))) {
				t.Errorf("%s: its meaning on a line of its own, indented %d:\n%s\n%s", head, column, l, lines[i+1])
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("the fixture's NOTED, LISTED and ERROR lines: saw %v\n%s", seen, b.String())
	}
}

// A run stopped before it reached most of a long input (Ctrl-C on a /16, a
// deadline) names the first targets it never began and counts the rest: not
// a screen or a cron mail of one "NOT CHECKED" line per address.
func TestTextNotStartedTargetsSummedUp(t *testing.T) {
	res := &dnsbl.Result{Summary: dnsbl.Summary{Targets: 25, Interrupted: true, Counts: map[dnsbl.Status]int{}}}
	for i := range 25 {
		res.Targets = append(res.Targets, &dnsbl.TargetResult{Index: i, Interrupted: true,
			Target: dnsbl.Target{Input: "10.0.0." + strconv.Itoa(i)}})
	}
	for _, quiet := range []bool{false, true} {
		v := &View{Result: res}
		v.Decide(true)
		var b bytes.Buffer
		if err := renderText(&b, v, Options{Quiet: quiet}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if n := strings.Count(out, "NOT CHECKED"); n != maxNotStarted ||
			!strings.Contains(out, "10.0.0.9: NOT CHECKED") || strings.Contains(out, "10.0.0.10: NOT CHECKED") ||
			!strings.Contains(out, "... and 15 more targets not checked: the run was interrupted before they began") {
			t.Errorf("quiet %v: %d named\n%s", quiet, n, out)
		}
	}
}

// A resolver that invents answers voids every target: the first are named, the
// rest counted, not one line each for a whole range.
func TestTextRewritingResolverTargetsSummedUp(t *testing.T) {
	res := &dnsbl.Result{Summary: dnsbl.Summary{Targets: 25, Counts: map[dnsbl.Status]int{}},
		Resolver: dnsbl.ResolverHealth{RewritesNXDOMAIN: true, Answer: "198.51.100.200", Probe: "nx.example"}}
	for i := range 25 {
		res.Targets = append(res.Targets, &dnsbl.TargetResult{Index: i, Started: true,
			Target: dnsbl.Target{Input: "10.0.0." + strconv.Itoa(i)}})
	}
	v := &View{Result: res}
	v.Decide(true)
	var b bytes.Buffer
	if err := renderText(&b, v, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, ": not checked ("); n != maxNotStarted || !strings.Contains(out, "... and 15 more targets not checked\n") {
		t.Errorf("%d named\n%s", n, out)
	}
}

// TestProbeNotAsked: a keyed list without its key was not asked, so the probe
// says no way of asking for it (it said "resolver"), in text and in JSON; and
// no row of the table ends in padding.
func TestProbeNotAsked(t *testing.T) {
	cat := catalog.Default()
	res := &dnsbl.Result{Lists: []dnsbl.ListHealth{
		{List: cat.ByID("spamhaus-zen"), Zone: "zen.spamhaus.org", Health: dnsbl.Health{State: dnsbl.HealthOK, RTT: 7 * time.Millisecond}},
		{List: cat.ByID("spamhaus-dqs-zen"), Zone: "{key}.zen.dq.spamhaus.net",
			Health: dnsbl.Health{State: dnsbl.HealthNeedsKey, Detail: "needs an account key in $BLCHECK_SPAMHAUS_DQS_KEY"}},
	}}
	var b bytes.Buffer
	if err := ProbeTable(&b, res, []string{"127.0.0.1:53"}, false); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasSuffix(l, " ") {
			t.Errorf("row ends in spaces: %q", l)
		}
		f := strings.Fields(l)
		switch {
		case len(f) > 3 && f[0] == "spamhaus-zen" && f[3] != "resolver":
			t.Errorf("an asked list: ASKED %q, want resolver: %q", f[3], l)
		case len(f) > 3 && f[0] == "spamhaus-dqs-zen" && f[3] != "-":
			t.Errorf("a list not asked: ASKED %q, want -: %q", f[3], l)
		}
	}
	if want := "\n1 list probed via 127.0.0.1:53: 1 ok. 1 list not probed: it needs an account key (see blcheck lists).\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("a keyed list without its key counted as probed; want %q at the end of:\n%s", want, b.String())
	}
	doc := NewProbeDocument(res, []string{"127.0.0.1:53"})
	if doc.Lists[0].Asked != "resolver" || doc.Lists[1].Asked != "" {
		t.Errorf("JSON asked: %q and %q, want resolver and none", doc.Lists[0].Asked, doc.Lists[1].Asked)
	}
}

// rangeOnTwoLists is a result for 192.0.2.0/28, its subjects and checks to
// be added, on ZEN (healthy) and SpamCop (in health spamcop).
func rangeOnTwoLists(spamcop dnsbl.HealthState) (zen, sc *catalog.List, res *dnsbl.Result, tr *dnsbl.TargetResult) {
	cat := catalog.Default()
	zen, sc = cat.ByID("spamhaus-zen"), cat.ByID("spamcop")
	tr = &dnsbl.TargetResult{Target: dnsbl.Target{Input: "192.0.2.0/28", Kind: dnsbl.KindCIDR, Form: "cidr",
		Prefix: netip.MustParsePrefix("192.0.2.0/28")}, Started: true, SubjectsTotal: 16}
	res = &dnsbl.Result{Targets: []*dnsbl.TargetResult{tr},
		Lists: []dnsbl.ListHealth{{List: zen, Zone: zen.Zone, Health: dnsbl.Health{State: dnsbl.HealthOK}},
			{List: sc, Zone: sc.Zone, Health: dnsbl.Health{State: spamcop}}}}
	return zen, sc, res, tr
}

// TestProblemSubjectNotSummedUp: in a range, a subject that one list refused
// (blocked, that list healthy for the others) is shown, as -q shows it, not
// summed up among "subjects without listings or errors"; and subjects that the
// run's stop left unanswered are not summed up as if clean.
func TestProblemSubjectNotSummedUp(t *testing.T) {
	zen, spamcop, res, tr := rangeOnTwoLists(dnsbl.HealthOK)
	for i := range 16 {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		tr.Subjects = append(tr.Subjects, dnsbl.Subject{Name: a.String(), Type: dnsbl.SubjectIP, Via: []string{"input"}, Addr: a})
		zenStatus, zenErr := dnsbl.Clean, error(nil)
		switch {
		case i == 14:
			zenStatus, zenErr = dnsbl.Blocked, &dnsbl.CheckError{Kind: dnsbl.ErrRefusedByList, Msg: "127.255.255.254: Spamhaus refuses"}
		case i == 15:
			zenStatus, zenErr = dnsbl.Error, &dnsbl.CheckError{Kind: dnsbl.ErrInterrupted, Msg: dnsbl.ErrInterrupted.Error()}
		}
		tr.Checks = append(tr.Checks, dnsbl.Check{Subject: a.String(), List: zen, Zone: zen.Zone, Status: zenStatus, Err: zenErr},
			dnsbl.Check{Subject: a.String(), List: spamcop, Zone: spamcop.Zone, Status: dnsbl.Clean})
	}
	var b bytes.Buffer
	if err := renderText(&b, &View{Result: res}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"  192.0.2.14 (input): clean on 1, 1 blocked\n", "    BLOCKED spamhaus-zen (zen.spamhaus.org)",
		"... and 7 more subjects without listings or errors, 1 of them not fully answered before the run stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
}

// TestSameFailuresSummedUp: in a range asked of a list that is down, the
// subjects that failed alike (the same lists, the same kinds of error) are
// shown three times, then summed up
// with the count; a subject that failed otherwise, or is listed, is shown;
// and "no list could be checked" is one line for the range, in its order.
func TestSameFailuresSummedUp(t *testing.T) {
	zen, spamcop, res, tr := rangeOnTwoLists(dnsbl.HealthNoAnswer)
	timeout := &dnsbl.CheckError{Kind: dnsbl.ErrTimeout, Msg: "no answer (timed out) after 2 tries from 127.0.0.1:53"}
	for i := range 16 {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		tr.Subjects = append(tr.Subjects, dnsbl.Subject{Name: a.String(), Type: dnsbl.SubjectIP, Via: []string{"input"}, Addr: a})
		zc := dnsbl.Check{Subject: a.String(), List: zen, Zone: zen.Zone, Status: dnsbl.Clean}
		switch i {
		case 9:
			zc.Status, zc.Codes = dnsbl.Listed, []netip.Addr{netip.MustParseAddr("127.0.0.2")}
		case 10:
			zc.Status, zc.Err = dnsbl.Error, &dnsbl.CheckError{Kind: dnsbl.ErrServFail, Msg: "SERVFAIL"}
		case 11, 12, 13, 14, 15:
			zc.Status, zc.Err = dnsbl.Error, timeout
		}
		if zc.Status == dnsbl.Error {
			tr.Problems = append(tr.Problems, dnsbl.NoListChecked(a.String()))
		}
		sc := dnsbl.Check{Subject: a.String(), List: spamcop, Zone: spamcop.Zone, Status: dnsbl.Error, Err: timeout}
		if i >= 14 { // a timeout all the same, in other words
			sc.Err = &dnsbl.CheckError{Kind: dnsbl.ErrTimeout, Msg: "no answer (timed out): not sent"}
		}
		tr.Checks = append(tr.Checks, zc, sc)
	}
	slices.Reverse(tr.Problems) // as they come: not in order
	var b bytes.Buffer
	if err := renderText(&b, &View{Result: res}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"  192.0.2.9 (input): listed on 1 of 2, 1 error\n",
		"  192.0.2.10 (input): 2 errors\n",
		"  192.0.2.2 (input): clean on 1, 1 error\n",
		"  ... and 6 more subjects without listings, with the same failures as 192.0.2.0 above (-o json shows each)\n",
		"  192.0.2.13 (input): 2 errors\n",
		"  ... and 2 more subjects without listings, with the same failures as 192.0.2.11 above (-o json shows each)\n",
		"  problem: no list could be checked for 6 subjects: 192.0.2.10, 192.0.2.11, 192.0.2.12 and 3 more\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	for _, hidden := range []string{"192.0.2.3 (input)", "192.0.2.14 (input)", "problem: 192.0.2."} {
		if strings.Contains(out, hidden) {
			t.Errorf("%q is said, not summed up:\n%s", hidden, out)
		}
	}
}

// TestSameFailuresShowUnreliableListing: a subject for which an unreliable
// list answered a listing code is not summed up with the subjects it merely
// failed alike for (the same list unreliable, the same other list timing
// out): its UNRELIABLE answer may be a listing, and is said with it.
func TestSameFailuresShowUnreliableListing(t *testing.T) {
	zen, spamcop, res, tr := rangeOnTwoLists(dnsbl.HealthMissing)
	timeout := &dnsbl.CheckError{Kind: dnsbl.ErrTimeout, Msg: "no answer (timed out) after 2 tries from 127.0.0.1:53"}
	unreliable := &dnsbl.CheckError{Kind: dnsbl.ErrUnreliable, Msg: "list failed its health check: test point missing"}
	for i := range 16 {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		tr.Subjects = append(tr.Subjects, dnsbl.Subject{Name: a.String(), Type: dnsbl.SubjectIP, Via: []string{"input"}, Addr: a})
		sc := dnsbl.Check{Subject: a.String(), List: spamcop, Zone: spamcop.Zone, Status: dnsbl.Unreliable, Err: unreliable}
		if i == 7 {
			sc.Codes = []netip.Addr{netip.MustParseAddr("127.0.0.2")}
		}
		tr.Checks = append(tr.Checks, dnsbl.Check{Subject: a.String(), List: zen, Zone: zen.Zone, Status: dnsbl.Error, Err: timeout}, sc)
	}
	var b bytes.Buffer
	if err := renderText(&b, &View{Result: res}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"  192.0.2.7 (input): 1 error, 1 unreliable\n",
		"    UNRELIABLE spamcop (bl.spamcop.net) answered 127.0.0.2, but failed its own test point: not counted\n",
		"  ... and 12 more subjects without listings, with the same failures as 192.0.2.0 above (-o json shows each)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
}

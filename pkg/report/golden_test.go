package report

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is one run's result, made by hand: a listing with a repeat on a
// contained list, a clean subject, a blocked and an errored check, a skipped
// one, an allowlist hit, a target's problem and note, an unhealthy list and an
// interrupted target; every renderer is held to its golden file for it.
func fixture(t *testing.T) (*dnsbl.Result, map[string]*catalog.List, map[int][]extract.Location) {
	t.Helper()
	cat := catalog.Default()
	names := map[string]*catalog.List{}
	for _, id := range []string{"spamhaus-zen", "spamhaus-xbl", "spamcop", "psbl", "dnswl", "spamhaus-dbl"} {
		names[id] = cat.ByID(id)
	}
	ip := dnsbl.Target{Input: "mail.example.test", Kind: dnsbl.KindDomain, Form: "domain", Host: "mail.example.test", Domain: "example.test"}
	cut := dnsbl.Target{Input: "198.51.100.0/30", Kind: dnsbl.KindCIDR, Form: "cidr", Prefix: netip.MustParsePrefix("198.51.100.0/30")}
	check := func(subject, list, status string, f func(*dnsbl.Check)) dnsbl.Check {
		c := dnsbl.Check{Subject: subject, List: names[list], Zone: names[list].Zone, Status: dnsbl.Status(status)}
		if f != nil {
			f(&c)
		}
		return c
	}
	listed := func(c *dnsbl.Check) {
		c.Codes, c.Meanings = []netip.Addr{netip.MustParseAddr("127.0.0.4")}, []string{"XBL: exploited or infected host (CBL data: bot, open proxy, malware)"}
		c.Reason, c.DelistURL = "Listed by XBL, see https://check.spamhaus.org/query/ip/192.0.2.10", "https://check.spamhaus.org/query/ip/192.0.2.10"
	}
	res := &dnsbl.Result{
		Started: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Elapsed: 812 * time.Millisecond,
		Targets: []*dnsbl.TargetResult{
			{Index: 0, Target: ip, Started: true, SubjectsDone: 3, SubjectsTotal: 3,
				Subjects: []dnsbl.Subject{
					{Name: "example.test", Type: dnsbl.SubjectDomain, Via: []string{"input mail.example.test"}},
					{Name: "192.0.2.10", Type: dnsbl.SubjectIP, Via: []string{"A"}, Addr: netip.MustParseAddr("192.0.2.10")},
					{Name: "192.0.2.11", Type: dnsbl.SubjectIP, Via: []string{"MX mx.example.test"}, Addr: netip.MustParseAddr("192.0.2.11")},
					{Name: "192.0.2.53", Type: dnsbl.SubjectIP, Via: []string{"NS ns1.example.test"}, Addr: netip.MustParseAddr("192.0.2.53")},
				},
				Checks: []dnsbl.Check{
					check("example.test", "spamhaus-dbl", "clean", nil),
					check("192.0.2.10", "spamhaus-zen", "listed", listed),
					check("192.0.2.10", "spamhaus-xbl", "listed", func(c *dnsbl.Check) { listed(c); c.DuplicateOf = names["spamhaus-zen"] }),
					check("192.0.2.10", "spamcop", "clean", nil),
					check("192.0.2.10", "psbl", "error", func(c *dnsbl.Check) {
						c.Err = &dnsbl.CheckError{Kind: dnsbl.ErrServFail, Msg: "SERVFAIL (the server failed to answer) from 127.0.0.1:53"}
					}),
					check("192.0.2.11", "spamhaus-zen", "blocked", func(c *dnsbl.Check) {
						c.Codes = []netip.Addr{netip.MustParseAddr("127.255.255.254")}
						c.Err = &dnsbl.CheckError{Kind: dnsbl.ErrRefusedByList, Msg: "127.255.255.254: Spamhaus refuses queries from public or shared resolvers"}
					}),
					check("192.0.2.11", "dnswl", "allowlisted", func(c *dnsbl.Check) {
						c.Codes, c.Meanings = []netip.Addr{netip.MustParseAddr("127.0.5.2")}, []string{"vouched for by dnswl.org; sector: service or network provider", "trust: medium"}
					}),
					check("192.0.2.11", "spamcop", "clean", nil),
					check("192.0.2.53", "spamhaus-zen", "noted", func(c *dnsbl.Check) {
						c.Codes, c.Meanings = []netip.Addr{netip.MustParseAddr("127.0.0.11")}, []string{"PBL: end-user address range (policy, not abuse)"}
						c.NotCounted = "receivers judge a name server's address by Spamhaus ZEN's abuse codes (127.0.0.2, 127.0.0.3) only, not by this one"
					}),
				},
				Failed: 2,
				Notes:  []string{"MX host mx2.example.test does not exist (NXDOMAIN): mail sent to mail.example.test through it cannot be delivered, and nothing was checked for it"}},
			{Index: 1, Target: cut, Started: true, Interrupted: true, SubjectsDone: 1, SubjectsTotal: 4,
				Subjects: []dnsbl.Subject{{Name: "198.51.100.0", Type: dnsbl.SubjectIP, Via: []string{"input"}, Addr: netip.MustParseAddr("198.51.100.0")}},
				Checks:   []dnsbl.Check{check("198.51.100.0", "spamcop", "clean", nil)}},
		},
		Lists: []dnsbl.ListHealth{
			{List: names["spamhaus-zen"], Zone: "zen.spamhaus.org", Health: dnsbl.Health{State: dnsbl.HealthOK},
				Answered: 2, Failed: 1, Failures: map[dnsbl.Status]int{dnsbl.Blocked: 1}},
			{List: names["psbl"], Zone: "psbl.surriel.com", Health: dnsbl.Health{State: dnsbl.HealthListsEverything,
				Detail: "the list says 127.0.0.1 is listed (127.0.0.2), which no list may list: it answers everything"},
				Failed: 1, Failures: map[dnsbl.Status]int{dnsbl.Error: 1}},
		},
		Summary: dnsbl.Summary{Targets: 2, Subjects: 5, Checks: 10, Interrupted: true, Duplicates: 1, Failed: 2,
			Counts:     map[dnsbl.Status]int{dnsbl.Listed: 2, dnsbl.Clean: 4, dnsbl.Error: 1, dnsbl.Blocked: 1, dnsbl.Allowlisted: 1, dnsbl.Noted: 1},
			Incomplete: []string{"the run was interrupted"}},
	}
	locs := map[int][]extract.Location{0: {{File: "news.html", Line: 12, Where: "href"}}}
	return res, names, locs
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./pkg/report -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./pkg/report -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// fixtureView is the fixture as a view: a scan's, with where the first
// target was found (findings), or a plain check's.
func fixtureView(t *testing.T, findings bool) *View {
	res, names, locs := fixture(t)
	v := &View{Result: res, Resolvers: []string{"127.0.0.1:53"}, Warnings: []string{"a warning"}, Names: names}
	if findings {
		v.Locations = locs
	}
	v.Decide(true)
	return v
}

// Every format of the renderers' table, for one fixture view, against its
// golden file (text also in colour and quiet).
func TestRenderersGolden(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC)
	tests := []struct {
		file, format string
		findings     bool
		o            Options
	}{
		{"fixture.txt", "text", true, Options{}},
		{"fixture-colour.txt", "text", true, Options{Color: true}},
		{"fixture-quiet.txt", "text", false, Options{Quiet: true}},
		{"fixture.json", "json", false, Options{}},
		{"fixture.jsonl", "jsonl", false, Options{}},
		{"fixture.nagios", "nagios", false, Options{Warning: 1, Critical: 2}},
		{"fixture.github", "github", true, Options{}},
		{"fixture.prom", "prometheus", false, Options{Now: now}},
	}
	tested := map[string]bool{}
	for _, tc := range tests {
		render, ok := Lookup(tc.format)
		if !ok {
			t.Fatalf("no renderer for %s", tc.format)
		}
		tested[tc.format] = true
		var b bytes.Buffer
		if err := render(&b, fixtureView(t, tc.findings), tc.o); err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		goldenFile(t, tc.file, b.Bytes())
		if tc.format == "prometheus" {
			problems, err := promlint.New(bytes.NewReader(b.Bytes())).Lint()
			if err != nil || len(problems) > 0 {
				t.Errorf("promlint: %v %v", problems, err)
			}
		}
	}
	for _, f := range Formats() {
		if !tested[f] {
			t.Errorf("format %s has no golden file", f)
		}
	}
	var md bytes.Buffer
	if err := GitHubSummary(&md, fixtureView(t, true)); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "fixture-summary.md", md.Bytes())
}

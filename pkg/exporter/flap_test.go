package exporter_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/exporter"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// flapCatalog: two IP lists with test points and one without (tests: none).
const flapCatalog = `
- {id: alpha, name: Alpha, zone: alpha.bl.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: spam source, 127.0.0.4: infected host}}
- {id: beta, name: Beta, zone: beta.bl.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: listed}}
- {id: gamma, name: Gamma, zone: gamma.bl.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: listed}, tests: none}
`

// flapTruth is what the lists really list: subject -> lists.
var flapTruth = map[string][]string{
	"192.0.2.10": {"alpha", "beta"},
	"192.0.2.20": nil,
	"192.0.2.30": {"gamma"},
}

// fakeClock is the clock of the answer cache and of the health TTL: the test
// moves it by a scrape interval between rounds, so nothing waits on the wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type flapWorld struct {
	srv    *dnsbltest.Server
	clock  *fakeClock
	client *resolver.Client
	h      http.Handler
}

// newFlapWorld: timeout is the resolver's per try (two tries): short where
// faults drop queries, long where a query that times out would fail the test.
func newFlapWorld(t testing.TB, healthTTL, timeout time.Duration) *flapWorld {
	t.Helper()
	srv := dnsbltest.New(t)
	srv.SetTTL(300*time.Second, 60*time.Second)
	for _, z := range []string{"alpha", "beta", "gamma"} {
		srv.Zone(z+".bl.test", "127.0.0.2")
	}
	srv.Unlist("gamma.bl.test", "127.0.0.2") // gamma publishes no test point
	srv.List("alpha.bl.test", "192.0.2.10", []string{"127.0.0.4"})
	srv.List("beta.bl.test", "192.0.2.10", []string{"127.0.0.2"})
	srv.List("gamma.bl.test", "192.0.2.30", []string{"127.0.0.2"})
	cat, err := catalog.Parse([]byte(flapCatalog), "test")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// a dropped query costs two tries; a timeout is an error, never an answer
	client, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: timeout, Retries: 1,
		Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	path := filepath.Join(t.TempDir(), "blcheck.yml")
	if err := os.WriteFile(path, []byte("modules: {default: {}}\nallow: [192.0.2.0/24]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := exporter.New(exporter.Options{ConfigFile: path, Catalog: cat, Resolver: client, Servers: []string{srv.Addr},
		HealthTTL: healthTTL, Now: clock.Now, Getenv: func(string) string { return "" }, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &flapWorld{srv: srv, clock: clock, client: client, h: s.Handler()}
}

func (w *flapWorld) probe(t testing.TB, target string) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/probe?target="+target, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/probe?target=%s: HTTP %d: %s", target, rec.Code, rec.Body)
	}
	return parse(t.(*testing.T), rec.Body.String())
}

// A fault phase of the world: set turns it on (the world is healthy before).
type flapPhase struct {
	name string
	set  func(s *dnsbltest.Server)
}

var flapPhases = []flapPhase{
	{"one list answers 127.0.0.2 for every name", func(s *dnsbltest.Server) { s.Wildcard("alpha.bl.test", "127.0.0.2") }},
	{"every list answers 127.0.0.2 for every name", func(s *dnsbltest.Server) {
		for _, z := range []string{"alpha", "beta", "gamma"} {
			s.Wildcard(z+".bl.test", "127.0.0.2")
		}
	}},
	{"a list dead (NXDOMAIN for every name)", func(s *dnsbltest.Server) {
		s.AddFault(dnsbltest.Fault{Suffix: "alpha.bl.test", Kind: dnsbltest.NXDomain})
	}},
	{"a list SERVFAILs", func(s *dnsbltest.Server) {
		s.AddFault(dnsbltest.Fault{Suffix: "beta.bl.test", Kind: dnsbltest.ServFail})
	}},
	{"the resolver down", func(s *dnsbltest.Server) { s.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop}) }},
	{"the resolver rewrites NXDOMAIN to an ad server", func(s *dnsbltest.Server) {
		s.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Rewrite, Addr: "198.51.100.200"})
	}},
	{"the resolver rewrites NXDOMAIN to 127.0.0.2", func(s *dnsbltest.Server) {
		s.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Rewrite, Addr: "127.0.0.2"})
	}},
	{"the resolver answers NXDOMAIN for every name", func(s *dnsbltest.Server) {
		s.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.NXDomain})
	}},
}

func (w *flapWorld) heal() {
	w.srv.ClearFaults()
	for _, z := range []string{"alpha", "beta", "gamma"} {
		w.srv.Unwildcard(z + ".bl.test")
	}
}

// flapJudge counts a probe's false alarms (a listing the lists do not make) and
// false clears (clean where a list lists the subject, or a listed target said
// complete and unlisted).
type flapJudge struct {
	judged, alarms, clears, complete int
	failures                         []string
}

func (j *flapJudge) judge(phase, target string, m map[string]float64) {
	j.judged++
	truth := map[string]bool{}
	for _, l := range flapTruth[target] {
		truth[l] = true
	}
	bad := func(kind *int, format string, a ...any) {
		*kind++
		if len(j.failures) < 20 {
			j.failures = append(j.failures, fmt.Sprintf("[%s] %s: ", phase, target)+fmt.Sprintf(format, a...))
		}
	}
	for _, l := range []string{"alpha", "beta", "gamma"} {
		s := func(st string) float64 {
			return m[fmt.Sprintf(`blcheck_check_status{list=%q,status=%q,subject=%q}`, l, st, target)]
		}
		if s("listed") == 1 && !truth[l] {
			bad(&j.alarms, "listed on %s", l)
		}
		if s("clean") == 1 && truth[l] && l != "gamma" { // gamma has no test point: its answers are unconfirmed
			bad(&j.clears, "clean on %s", l)
		}
	}
	if m[`blcheck_probe_listed{}`] == 1 && len(truth) == 0 {
		bad(&j.alarms, "blcheck_probe_listed 1")
	}
	if m[`blcheck_probe_success{}`] == 1 {
		j.complete++
		if m[`blcheck_probe_listed{}`] == 0 && len(truth) > 0 {
			bad(&j.clears, "success 1 and listed 0")
		}
	}
}

// The exporter in front of lists and a resolver that flap between faults, with
// the default health settings, scraped every 15 s of a fake clock: no probe
// says listed what no list lists, nor clean what a list lists. Each fault
// phase is followed by a healthy one, at whose end every probe is complete and
// right again (an exporter that never answered would pass the rest).
func TestFlapNoFalseAlarms(t *testing.T) {
	w := newFlapWorld(t, 0, 150*time.Millisecond) // its faults drop queries: short tries
	j := &flapJudge{}
	targets := []string{"192.0.2.10", "192.0.2.20", "192.0.2.30"}
	round := func(phase string) map[string]map[string]float64 {
		out := map[string]map[string]float64{}
		for _, target := range targets {
			m := w.probe(t, target)
			j.judge(phase, target, m)
			out[target] = m
		}
		w.clock.Add(15 * time.Second)
		return out
	}
	for cycle, faultRounds := range []int{1, 4, 9, 25} { // shorter and longer than the health TTL (20 rounds)
		for _, p := range flapPhases {
			n := faultRounds
			if strings.Contains(p.name, "down") {
				n = min(n, 3) // each of its probes waits for timeouts
			}
			p.set(w.srv)
			for range n {
				round(p.name)
			}
			w.heal()
			var last map[string]map[string]float64
			for range 4 { // a bad health stands BadHealthTTL (two rounds) at most
				last = round("healthy after " + p.name)
			}
			for _, target := range targets {
				m := last[target]
				if m[`blcheck_probe_success{}`] != 1 || (m[`blcheck_probe_listed{}`] == 1) != (len(flapTruth[target]) > 0) {
					t.Errorf("cycle %d: %s, healthy again for 4 rounds: %s is not complete and right: success %v listed %v",
						cycle, p.name, target, m[`blcheck_probe_success{}`], m[`blcheck_probe_listed{}`])
				}
			}
		}
	}
	t.Logf("%d judged probes, %d complete; false alarms %d, false clears %d", j.judged, j.complete, j.alarms, j.clears)
	if j.judged < 300 {
		t.Errorf("only %d judged probes", j.judged)
	}
	if j.alarms != 0 || j.clears != 0 {
		t.Errorf("%d false alarms and %d false clears:\n%s", j.alarms, j.clears, strings.Join(j.failures, "\n"))
	}
}

// The cost of confirming: queries per probe in steady state (healthy lists,
// three targets, one listed on two lists, one on the list without test points,
// scraped every 15 s for an hour of the fake clock), with listings and changes
// confirmed (the default) and with the test points asked in every probe
// (--health-ttl 0, what confirming every answer costs).
func TestSteadyStateQueries(t *testing.T) {
	perProbe := func(ttl time.Duration) float64 {
		// no fault: every probe must be complete, and 1,440 of them must not
		// hang on two 150 ms tries of a loaded machine
		w := newFlapWorld(t, ttl, 5*time.Second)
		targets := []string{"192.0.2.10", "192.0.2.20", "192.0.2.30"}
		probes := 0
		var start int64
		for i := range 240 {
			if i == 20 { // past the first health TTL
				start, probes = w.client.Stats().Sent, 0
			}
			for _, target := range targets {
				if m := w.probe(t, target); m[`blcheck_probe_success{}`] != 1 {
					t.Fatalf("round %d: %s not complete", i, target)
				}
				probes++
			}
			w.clock.Add(15 * time.Second)
		}
		return float64(w.client.Stats().Sent-start) / float64(probes)
	}
	confirmed, every := perProbe(0), perProbe(exporter.ProveEveryProbe)
	t.Logf("DNS queries per probe in steady state: %.2f confirming listings and changes (default), "+
		"%.2f asking the test points in every probe (--health-ttl 0)", confirmed, every)
	if confirmed >= every/2 {
		t.Errorf("confirming listings costs %.2f queries a probe, proving every probe %.2f", confirmed, every)
	}
}

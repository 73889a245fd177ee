package exporter_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/exporter"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// testCatalog has an IP list with a refusal code, an IPv4-only list and a domain list.
const testCatalog = `
- {id: ipbl, name: IP BL, zone: ip.bl.test, kind: ip, families: [ipv4, ipv6], default: true, status: active,
   codes: {127.0.0.2: spam source, 127.0.0.4: infected host}, errors: {127.255.255.254: refused}}
- {id: v4bl, name: IPv4 BL, zone: v4.bl.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: listed}}
- {id: dombl, name: Domain BL, zone: dom.bl.test, kind: domain, default: true, status: active,
   codes: {127.0.1.2: spam domain}}
`

const testConfig = `
modules:
  default: {}
  iponly:
    lists: [ipbl]
    max_range: /30
allow: [192.0.2.0/24, "2001:db8::/32", example.test]
`

type world struct {
	srv    *dnsbltest.Server
	server *exporter.Server
	http   *httptest.Server
	config string
}

func newWorld(t testing.TB, config string, cache time.Duration) *world {
	t.Helper()
	srv := dnsbltest.New(t)
	srv.SetTTL(300*time.Second, 300*time.Second)
	srv.Zone("ip.bl.test", "127.0.0.2")
	srv.Zone("v4.bl.test", "127.0.0.2")
	srv.Zone("dom.bl.test", "127.0.1.2")
	return serveWorld(t, srv, testCatalog, config, resolver.Config{Timeout: 20 * time.Second, MaxCacheTTL: cache})
}

// serveWorld starts an exporter with catalog and config in front of srv,
// through a resolver made with rc (its Servers set to srv); opts change the
// exporter's options.
func serveWorld(t testing.TB, srv *dnsbltest.Server, catalogText, config string, rc resolver.Config, opts ...func(*exporter.Options)) *world {
	t.Helper()
	cat, err := catalog.Parse([]byte(catalogText), "test")
	if err != nil {
		t.Fatal(err)
	}
	rc.Servers = []string{srv.Addr}
	client, err := resolver.New(rc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	path := filepath.Join(t.TempDir(), "blcheck.yml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	o := exporter.Options{ConfigFile: path, Catalog: cat, Resolver: client, Servers: []string{srv.Addr},
		Getenv: func(string) string { return "" }, Version: "test"}
	for _, f := range opts {
		f(&o)
	}
	s, err := exporter.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	h := httptest.NewServer(s.Handler())
	t.Cleanup(h.Close)
	return &world{srv: srv, server: s, http: h, config: path}
}

func (w *world) get(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.http.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// probe fetches /probe and parses its metrics: series ("name{labels}") -> value.
func (w *world) probe(t *testing.T, query string, header ...string) map[string]float64 {
	t.Helper()
	code, body := w.get(t, "/probe?"+query, header...)
	if code != http.StatusOK {
		t.Fatalf("/probe?%s: HTTP %d: %s", query, code, body)
	}
	lintText(t, body)
	return parse(t, body)
}

func parse(t *testing.T, body string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v\n%s", err, body)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.Metric {
			out[series(name, m)] = m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return out
}

func series(name string, m *dto.Metric) string {
	var labels []string
	for _, l := range m.Label {
		labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

func lintText(t *testing.T, body string) {
	t.Helper()
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func keys(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Two scrapes whose answers come in another order give the same series: no
// label takes its value from the order of the answer.
func TestProbeSeriesStable(t *testing.T) {
	w := newWorld(t, testConfig, -1) // no cache: the second scrape asks again
	w.srv.List("ip.bl.test", "192.0.2.10", []string{"127.0.0.2", "127.0.0.4"})
	first := w.probe(t, "target=192.0.2.10")
	w.srv.Unlist("ip.bl.test", "192.0.2.10")
	w.srv.List("ip.bl.test", "192.0.2.10", []string{"127.0.0.4", "127.0.0.2"})
	second := w.probe(t, "target=192.0.2.10")
	if a, b := strings.Join(keys(first), "\n"), strings.Join(keys(second), "\n"); a != b {
		t.Errorf("the series changed between scrapes:\n%s\n---\n%s", a, b)
	}
	for _, s := range []string{
		`blcheck_probe_listed{}`, `blcheck_probe_success{}`,
		`blcheck_check_status{list="ipbl",status="listed",subject="192.0.2.10"}`,
		`blcheck_listing_code{code="127.0.0.2",list="ipbl",subject="192.0.2.10"}`,
		`blcheck_listing_code{code="127.0.0.4",list="ipbl",subject="192.0.2.10"}`,
		`blcheck_subject_listings{subject="192.0.2.10"}`,
		`blcheck_list_health{health="ok",list="ipbl"}`,
	} {
		if second[s] != 1 {
			t.Errorf("%s = %v, want 1", s, second[s])
		}
	}
	for _, st := range []string{"clean", "blocked", "error", "unreliable", "skipped", "allowlisted"} {
		s := fmt.Sprintf(`blcheck_check_status{list="ipbl",status=%q,subject="192.0.2.10"}`, st)
		if v, ok := second[s]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want a 0 series", s, v, ok)
		}
	}
}

// A list's refusal is blocked, never listed: the probe is incomplete, not a listing.
func TestProbeRefusalIsNotListing(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	w.srv.List("ip.bl.test", "192.0.2.20", []string{"127.255.255.254"})
	m := w.probe(t, "target=192.0.2.20&module=iponly")
	if m[`blcheck_probe_listed{}`] != 0 || m[`blcheck_subject_listings{subject="192.0.2.20"}`] != 0 {
		t.Errorf("a refusal counted as a listing: %v", m)
	}
	if m[`blcheck_check_status{list="ipbl",status="blocked",subject="192.0.2.20"}`] != 1 {
		t.Error("a refusal is not blocked")
	}
	if m[`blcheck_probe_success{}`] != 0 {
		t.Error("a probe with a refused list says success 1")
	}
	for k := range m {
		if strings.HasPrefix(k, "blcheck_listing_code") {
			t.Errorf("a refusal code as a listing code: %s", k)
		}
	}
}

// An IPv6 target, and IP and domain lists in one module.
func TestProbeIPv6AndMixedLists(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	w.srv.List("ip.bl.test", "2001:db8::25", []string{"127.0.0.2"})
	m := w.probe(t, "target=2001:db8::25")
	if m[`blcheck_check_status{list="ipbl",status="listed",subject="2001:db8::25"}`] != 1 ||
		m[`blcheck_check_status{list="v4bl",status="skipped",subject="2001:db8::25"}`] != 1 {
		t.Errorf("IPv6 target: %v", keys(m))
	}
	w.srv.A("www.example.test", "192.0.2.30")
	w.srv.List("dom.bl.test", "example.test", []string{"127.0.1.2"})
	m = w.probe(t, "target=www.example.test")
	if m[`blcheck_check_status{list="dombl",status="listed",subject="example.test"}`] != 1 ||
		m[`blcheck_check_status{list="ipbl",status="clean",subject="192.0.2.30"}`] != 1 || m[`blcheck_probe_listed{}`] != 1 {
		t.Errorf("a domain against IP and domain lists: %v", m)
	}
	m = w.probe(t, "target="+strings.ReplaceAll("postmaster@www.example.test", "@", "%40"))
	for k := range m {
		if strings.Contains(k, "postmaster") {
			t.Errorf("an e-mail address in a label: %s", k)
		}
	}
}

// What allow: does not name is refused before anything is asked; bad input is 400.
func TestProbeRefused(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"target=203.0.113.7", http.StatusForbidden},
		{"target=evil.example", http.StatusForbidden},
		{"target=notexample.test", http.StatusForbidden},
		{"target=192.0.2.0/24", http.StatusBadRequest}, // wider than max_range /28
		{"target=192.0.2.0/29&module=iponly", http.StatusBadRequest},
		{"target=192.0.2.0/30&module=iponly", http.StatusOK},
		{"target=", http.StatusBadRequest},
		{"target=192.0.2.1&module=nope", http.StatusBadRequest},
		{"target=not..valid", http.StatusBadRequest},
		{"target=192.0.2.1&format=xml", http.StatusBadRequest}, // not metrics in silence
		{"target=192.0.2.1&debug=yes", http.StatusBadRequest},
		{"target=192.0.2.1&debug=1", http.StatusOK},
	} {
		before := w.srv.TotalQueries()
		if code, body := w.get(t, "/probe?"+tc.query); code != tc.code {
			t.Errorf("%s: HTTP %d (%s), want %d", tc.query, code, strings.TrimSpace(body), tc.code)
		}
		if tc.code != http.StatusOK && w.srv.TotalQueries() != before {
			t.Errorf("%s: refused, yet queries were sent", tc.query)
		}
	}
	if _, metrics := w.get(t, "/metrics"); strings.Contains(metrics, `module="nope"`) ||
		!strings.Contains(metrics, `blcheck_exporter_probes_total{module="unknown",outcome="bad_request"} 1`) {
		t.Error("an unknown module's name became a label value (unbounded series)")
	}
}

// A scrape timeout of 1 s and a list that takes far longer: the probe answers in
// its budget with what it knows, and success 0, never an HTTP error.
func TestProbeScrapeTimeout(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "v4.bl.test", Kind: dnsbltest.Delay, Delay: 15 * time.Second})
	start := time.Now()
	m := w.probe(t, "target=192.0.2.40", "X-Prometheus-Scrape-Timeout-Seconds", "1")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the probe took %s with a 1 s scrape timeout", took)
	}
	if m[`blcheck_probe_success{}`] != 0 {
		t.Error("a probe cut short says success 1")
	}
	if m[`blcheck_check_status{list="ipbl",status="clean",subject="192.0.2.40"}`] != 1 {
		t.Errorf("what was answered in time is not said: %v", m)
	}
	if m[`blcheck_probe_listed{}`] != 0 {
		t.Error("a slow list made a listing")
	}
}

// A second probe of a target within the TTL sends no query, as with two
// Prometheus servers of an HA pair scraping the same target.
func TestProbeCached(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	w.srv.List("ip.bl.test", "192.0.2.50", []string{"127.0.0.2"})
	first := w.probe(t, "target=192.0.2.50")
	if first[`blcheck_probe_dns_queries{}`] == 0 {
		t.Fatal("the first probe sent no query")
	}
	before := w.srv.TotalQueries()
	second := w.probe(t, "target=192.0.2.50")
	if second[`blcheck_probe_dns_queries{}`] != 0 || w.srv.TotalQueries() != before {
		t.Errorf("the second probe within the TTL sent %v queries (server saw %d)", second[`blcheck_probe_dns_queries{}`],
			w.srv.TotalQueries()-before)
	}
	if second[`blcheck_probe_listed{}`] != 1 {
		t.Error("the cached answer lost the listing")
	}
}

// Probes in parallel (run with -race) each get their own target's metrics.
func TestProbeParallel(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	for i := range 8 {
		if i%2 == 0 {
			w.srv.List("ip.bl.test", fmt.Sprintf("192.0.2.%d", 60+i), []string{"127.0.0.2"})
		}
	}
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := g % 8
			addr := fmt.Sprintf("192.0.2.%d", 60+i)
			resp, err := http.Get(w.http.URL + "/probe?target=" + addr)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			p := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			want := float64(1 - i%2)
			if got := fams["blcheck_probe_listed"].Metric[0].GetGauge().GetValue(); got != want {
				t.Errorf("%s: listed %v, want %v", addr, got, want)
			}
			for _, m := range fams["blcheck_check_status"].Metric {
				for _, l := range m.Label {
					if l.GetName() == "subject" && l.GetValue() != addr {
						t.Errorf("%s's probe has a series of %s", addr, l.GetValue())
					}
				}
			}
		}()
	}
	wg.Wait()
}

// A reload with a bad configuration keeps the old one, and says so.
func TestReloadBadConfigKeepsOld(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	if err := os.WriteFile(w.config, []byte("modules:\n  default: {lists: [no-such-list]}\nallow: [any]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(w.http.URL+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "no-such-list") {
		t.Errorf("bad reload: HTTP %d %q", resp.StatusCode, body)
	}
	if code, _ := w.get(t, "/probe?target=192.0.2.70&module=iponly"); code != http.StatusOK {
		t.Errorf("after a failed reload the old module answers HTTP %d", code)
	}
	if code, _ := w.get(t, "/probe?target=203.0.113.1"); code != http.StatusForbidden {
		t.Error("a failed reload opened allow:")
	}
	_, metrics := w.get(t, "/metrics")
	if !strings.Contains(metrics, "blcheck_exporter_config_last_reload_successful 0") {
		t.Error("/metrics does not say the reload failed")
	}
	if err := os.WriteFile(w.config, []byte("modules:\n  other: {}\nallow: [any]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.server.Reload(); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.get(t, "/probe?target=203.0.113.1&module=other"); code != http.StatusOK {
		t.Errorf("after a good reload the new module answers HTTP %d", code)
	}
}

// /metrics has the exporter's own metrics, lint-clean; the landing page and the
// health endpoints answer.
func TestOwnMetricsAndPages(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	w.probe(t, "target=192.0.2.80")
	w.get(t, "/probe?target=203.0.113.9")
	code, body := w.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d", code)
	}
	lintText(t, body)
	m := parse(t, body)
	for _, s := range []string{
		`blcheck_exporter_probes_total{module="default",outcome="clean"}`,
		`blcheck_exporter_probes_total{module="default",outcome="refused"}`,
		`blcheck_exporter_build_info{goversion="` + strings.TrimSpace(goVersion()) + `",version="test"}`,
		`blcheck_exporter_list_info{list="ipbl",module="iponly",name="IP BL"}`,
		`blcheck_exporter_config_last_reload_successful{}`,
	} {
		if m[s] != 1 {
			t.Errorf("%s = %v, want 1", s, m[s])
		}
	}
	for k := range m {
		if strings.HasPrefix(k, "blcheck_check_status") || strings.HasPrefix(k, "blcheck_probe_success") {
			t.Errorf("a probe's metric on /metrics: %s", k)
		}
	}
	if m[`blcheck_exporter_dns_queries_total{}`] == 0 {
		t.Error("no DNS query counted")
	}
	for path, want := range map[string]string{"/": "192.0.2.80", "/-/healthy": "Healthy", "/-/ready": "Ready",
		"/probe?target=192.0.2.80&debug=true":  "Metrics that would have been returned",
		"/probe?target=192.0.2.80&format=json": `"schema": 1`} {
		if code, body := w.get(t, path); code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: HTTP %d, want %q in %.300s", path, code, want, body)
		}
	}
	// the status page says where the lists are asked, and a cached probe's time is no "0s"
	w.probe(t, "target=192.0.2.80")
	if _, body := w.get(t, "/"); !strings.Contains(body, "Lists are asked through "+w.srv.Addr) ||
		strings.Contains(body, "<td>0s</td>") {
		t.Errorf("the status page does not say the resolver, or says a probe took 0s:\n%s", body)
	}
	if code, _ := w.get(t, "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: HTTP %d, want 405", code)
	}
}

func goVersion() string { return runtime.Version() }

// A target scraped every minute stays cached through a /23 probe on thirteen
// lists (6,656 answers): the exporter's cache holds that, and makes room by
// least recent use, not by emptying itself (it asked 13 queries again before).
func TestProbeCachedAfterSweep(t *testing.T) {
	srv := dnsbltest.New(t)
	srv.SetTTL(300*time.Second, 300*time.Second)
	var cat strings.Builder
	for i := range 13 {
		zone := fmt.Sprintf("l%d.bl.test", i)
		srv.Zone(zone, "127.0.0.2")
		fmt.Fprintf(&cat, "- {id: l%d, name: L%d, zone: %s, kind: ip, families: [ipv4], default: true, status: active, codes: {127.0.0.2: listed}}\n", i, i, zone)
	}
	w := serveWorld(t, srv, cat.String(), "modules:\n  wide: {max_range: /23}\nallow: [any]\n",
		resolver.Config{Timeout: 20 * time.Second, CacheSize: 1 << 16})

	w.probe(t, "module=wide&target=203.0.113.7")
	if code, _ := w.get(t, "/probe?module=wide&target=198.51.100.0/23"); code != http.StatusOK { // not linted: 3 MB of series
		t.Fatalf("/23 probe: HTTP %d", code)
	}
	before := srv.TotalQueries()
	again := w.probe(t, "module=wide&target=203.0.113.7")
	if n := srv.TotalQueries() - before; n != 0 || again[`blcheck_probe_dns_queries{}`] != 0 {
		t.Errorf("the target probed before the /23 was asked again: %d queries", n)
	}
}

// A URL target's user and password are not said back: not in the probe's
// answers, nor on the status page's recent probes.
func TestProbeRedactsURLUser(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	w.srv.A("www.example.test", "192.0.2.30")
	q := "target=https%3A%2F%2Fbob%3Ahunter2%40www.example.test%2F"
	for _, path := range []string{"/probe?" + q + "&debug=1", "/probe?" + q + "&format=json", "/"} {
		code, body := w.get(t, path)
		if code != http.StatusOK || strings.Contains(body, "hunter2") || strings.Contains(body, "bob") {
			t.Errorf("%s: HTTP %d, says the URL's user or password:\n%s", path, code, body)
		}
		if path == "/" && !strings.Contains(body, "https://xxxxx:xxxxx@www.example.test/") {
			t.Errorf("the status page does not list the probe, redacted:\n%s", body)
		}
	}
}

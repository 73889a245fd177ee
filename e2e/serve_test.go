package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// need returns the path of a tool the test needs: with CI=true its absence is
// a failure, elsewhere a skip.
func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed, and CI=true requires the end-to-end tests to run (apt-get install -y %s)", tool, pkg)
		}
		t.Skipf("%s is not installed: skipped (apt-get install -y %s to run it)", tool, pkg)
	}
	return path
}

// start runs a long-lived command until the test ends, its output kept for the log.
func start(t *testing.T, name string, args ...string) *strings.Builder {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = []string{"NO_COLOR=1", "PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "BLCHECK_DIRECT=never"}
	var logb strings.Builder
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), logb.String())
		}
	})
	return &logb
}

func waitHTTP(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not come up", u)
}

// freeTCP returns a TCP port of 127.0.0.1 free a moment ago: another process
// may take it before the caller listens on it (startServe tries again).
func freeTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe starts `blcheck serve` with args, whose "LISTEN" becomes a free
// port of 127.0.0.1, and returns that address once the exporter answers HTTP
// there. A port another process took in between (the exporter exits with
// "address already in use") is replaced by another, a few times.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	listen, _ := startServeStop(t, args...)
	return listen
}

// startServeStop is startServe that also returns a function that stops the
// exporter before the test ends (as a crash would: SIGKILL).
func startServeStop(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	for range 5 {
		listen := freeTCP(t)
		withAddr := append([]string{"serve"}, args...)
		for i, a := range withAddr {
			if a == "LISTEN" {
				withAddr[i] = listen
			}
		}
		cmd := exec.Command(binary, withAddr...)
		cmd.Env = []string{"NO_COLOR=1", "PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "BLCHECK_DIRECT=never"}
		var logb syncBuilder
		cmd.Stdout, cmd.Stderr = &logb, &logb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cmd.Process.Kill()
			<-exited
		}
		if up(listen, exited) {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("blcheck serve output:\n%s", logb.String())
				}
			})
			return listen, stop
		}
		stop()
		if !strings.Contains(logb.String(), "address already in use") {
			t.Fatalf("blcheck serve did not come up on %s:\n%s", listen, logb.String())
		}
		t.Logf("%s was taken before blcheck serve listened on it: another port", listen)
	}
	t.Fatal("blcheck serve found no free port in 5 tries")
	return "", nil
}

// up waits (at most 30 s) until something answers HTTP at addr, the
// exporter's own answer when it has not exited.
func up(addr string, exited <-chan struct{}) bool {
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return false
		default:
		}
		if resp, err := client.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			select {
			case <-exited:
				return false // another process's server
			default:
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// syncBuilder is a strings.Builder that a process's output and the test read
// at once.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// blcheck serve against rbldnsd, scraped by a real Prometheus server through
// /probe: the listed target is 1 in Prometheus, the clean one 0, and a
// Spamhaus refusal is blocked, never a listing.
func TestServeWithPrometheus(t *testing.T) {
	prom := need(t, "prometheus", "prometheus")
	w := startWorld(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "blcheck.yml")
	if err := os.WriteFile(cfg, []byte(`
modules:
  default:
    lists: [spamhaus-zen, spamcop]
  refused:
    lists: [spamhaus-xbl]
allow: [192.0.2.0/24]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	listen := startServe(t, "--config", cfg, "--listen", "LISTEN", "-r", w.addr)
	waitHTTP(t, "http://"+listen+"/-/ready")

	promAddr := freeTCP(t)
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, []byte(fmt.Sprintf(`
global: {scrape_interval: 1s, scrape_timeout: 900ms}
scrape_configs:
  - job_name: blcheck
    metrics_path: /probe
    params: {module: [default]}
    static_configs: [{targets: [192.0.2.10, 192.0.2.11]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: target}
      - {target_label: __address__, replacement: %q}
  - job_name: blcheck_refused
    metrics_path: /probe
    params: {module: [refused]}
    static_configs: [{targets: [192.0.2.10]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: target}
      - {target_label: __address__, replacement: %q}
`, listen, listen)), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, prom, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)
	waitHTTP(t, "http://"+promAddr+"/-/ready")

	want := map[string]string{
		`blcheck_probe_listed{job="blcheck",target="192.0.2.10"}`:                                              "1",
		`blcheck_probe_listed{job="blcheck",target="192.0.2.11"}`:                                              "0",
		`blcheck_probe_success{job="blcheck",target="192.0.2.11"}`:                                             "1",
		`blcheck_probe_listed{job="blcheck_refused",target="192.0.2.10"}`:                                      "0",
		`blcheck_check_status{job="blcheck_refused",target="192.0.2.10",list="spamhaus-xbl",status="blocked"}`: "1",
		`blcheck_check_status{job="blcheck_refused",target="192.0.2.10",list="spamhaus-xbl",status="listed"}`:  "0",
		`blcheck_listing_code{job="blcheck",target="192.0.2.10",list="spamhaus-zen",code="127.0.0.4"}`:         "1",
	}
	waitProm(t, promAddr, want)
}

// promQuery returns the value of an instant query with one result, or "".
func promQuery(t *testing.T, addr, q string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &r) != nil || len(r.Data.Result) != 1 || len(r.Data.Result[0].Value) != 2 {
		return ""
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return s
}

// The shipped Prometheus files are valid, and the alert rules fire as their
// tests say.
func TestShippedPrometheusFiles(t *testing.T) {
	promtool := need(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "config", "../contrib/prometheus/prometheus.yml"},
		{"check", "rules", "../contrib/prometheus/rules.yml"},
		{"test", "rules", "../contrib/prometheus/rules_test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// The example configuration loads: serve exits 2 on a bad one, naming it.
func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("modules: {default: {}}\n"), 0o644)
	r := blcheck(t, "serve", "--config", bad, "--listen", freeTCP(t), "-r", "127.0.0.1:1")
	if r.code != 2 || !strings.Contains(r.stderr, "bad.yml") || !strings.Contains(r.stderr, "allow") {
		t.Errorf("bad config: exit %d, %s", r.code, r.stderr)
	}
}

// --web.config.file puts basic auth in front of every endpoint (exporter-toolkit).
func TestServeBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	os.WriteFile(web, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600)
	listen := startServe(t, "--allow", "192.0.2.0/24", "--listen", "LISTEN", "-r", "127.0.0.1:1", "--web.config.file", web)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + listen + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("without credentials: HTTP %d, want 401", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not come up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+listen+"/metrics", nil)
	req.SetBasicAuth("prometheus", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with credentials: HTTP %d, want 200", resp.StatusCode)
	}
}

// -o prometheus, written by blcheck's own encoder for node_exporter's textfile
// collector, is what promtool accepts, and says what the world holds.
func TestPrometheusTextfile(t *testing.T) {
	promtool := need(t, "promtool", "prometheus")
	w := startWorld(t)
	r := blcheck(t, "192.0.2.10", "192.0.2.11", "-r", w.addr, "-l", "spamhaus-zen", "-l", "spamcop", "-o", "prometheus")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (listed)\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`blcheck_probe_listed{target="192.0.2.10"} 1`, `blcheck_probe_listed{target="192.0.2.11"} 0`,
		`blcheck_probe_success{target="192.0.2.11"} 1`, "# TYPE blcheck_last_run_timestamp_seconds gauge"} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("no %q in\n%s", want, r.stdout)
		}
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(r.stdout)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// The shipped rules (contrib/prometheus/rules.yml), in a real Prometheus
// scraping a real exporter: a listing is recorded as the last known verdict,
// and it stands when the exporter dies (the probe's series go stale, which is
// no delisting), while BlacklistExporterDown says the probes fail.
func TestShippedRulesHoldWhenExporterDies(t *testing.T) {
	prom := need(t, "prometheus", "prometheus")
	w := startWorld(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "blcheck.yml")
	if err := os.WriteFile(cfg, []byte("modules:\n  default:\n    lists: [spamhaus-zen, spamcop]\nallow: [192.0.2.0/24]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := filepath.Abs("../contrib/prometheus/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	listen, stop := startServeStop(t, "--config", cfg, "--listen", "LISTEN", "-r", w.addr)
	promAddr := freeTCP(t)
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, []byte(fmt.Sprintf(`
global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: blcheck
    metrics_path: /probe
    params: {module: [default]}
    static_configs: [{targets: [192.0.2.10, 192.0.2.11]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: target}
      - {target_label: __address__, replacement: %q}
`, rules, listen)), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, prom, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)
	waitHTTP(t, "http://"+promAddr+"/-/ready")

	const listed = `blcheck:check_listed:last_known{job="blcheck",target="192.0.2.10",subject="192.0.2.10",list="spamhaus-zen"}`
	const clean = `blcheck:check_listed:last_known{job="blcheck",target="192.0.2.11",subject="192.0.2.11",list="spamhaus-zen"}`
	waitProm(t, promAddr, map[string]string{listed: "1", clean: "0"})
	stop()
	waitProm(t, promAddr, map[string]string{
		`up{job="blcheck",target="192.0.2.10"}`:      "0",
		`count(blcheck_probe_listed{job="blcheck"})`: "", // stale: no series, so no value
		listed: "1",
		clean:  "0",
		`ALERTS{alertname="BlacklistExporterDown",alertstate="pending",target="192.0.2.10"}`: "1",
	})
	// the dashboard's queries are PromQL this Prometheus answers, and its
	// count of listed targets reads the same record as the alert
	for title, expr := range dashboardQueries(t) {
		v, err := promEval(promAddr, expr)
		if err != nil {
			t.Errorf("dashboard panel %q: %s: %v", title, expr, err)
		}
		if title == "Listed targets" && v != "1" {
			t.Errorf("dashboard panel %q says %q with the listed target's exporter down, want 1", title, v)
		}
	}
}

// dashboardQueries returns the Grafana dashboard's queries by panel title,
// with its $target variable as "all".
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../contrib/grafana/blcheck-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			out[p.Title] = strings.ReplaceAll(q.Expr, "$target", ".*")
		}
	}
	return out
}

// promEval runs an instant query and returns its value when it has exactly
// one result ("" otherwise), or Prometheus's error.
func promEval(addr, q string) (string, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil {
		return "", err
	}
	if r.Status != "success" {
		return "", fmt.Errorf("%s", r.Error)
	}
	if len(r.Data.Result) != 1 || len(r.Data.Result[0].Value) != 2 {
		return "", nil
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return s, nil
}

// waitProm waits (at most 60 s) until each instant query has the value wanted
// ("" for none).
func waitProm(t *testing.T, addr string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var got map[string]string
	for time.Now().Before(deadline) {
		got = map[string]string{}
		for q := range want {
			got[q] = promQuery(t, addr, q)
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("Prometheus has\n%v\nwant\n%v", got, want)
}

package exporter_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// One probe answers three ways (the outcome label of
// blcheck_exporter_probes_total, blcheck_probe_success, the JSON
// summary.exit_code), and all three come from one verdict: a list that drops
// its queries makes the probe incomplete in each of them, whether or not
// something else is listed.
func TestOneVerdictThreeAnswers(t *testing.T) {
	srv := dnsbltest.New(t)
	srv.Zone("ip.bl.test", "127.0.0.2")
	srv.Zone("v4.bl.test", "127.0.0.2")
	srv.Zone("dom.bl.test", "127.0.1.2")
	srv.List("ip.bl.test", "192.0.2.30", []string{"127.0.0.4"})
	srv.AddFault(dnsbltest.Fault{Suffix: "v4.bl.test", Kind: dnsbltest.Drop}) // v4bl drops every query
	w := serveWorld(t, srv, testCatalog, testConfig, resolver.Config{Timeout: 150 * time.Millisecond})

	for _, tc := range []struct {
		target, module string
		outcome        string
		success        float64
		exitCode       int
	}{
		{"192.0.2.20", "default", "incomplete", 0, 3}, // v4bl dropped: nothing listed, not complete
		{"192.0.2.30", "default", "listed", 0, 1},     // listed on ipbl, and v4bl dropped: listed, still not complete
		{"192.0.2.20", "iponly", "clean", 1, 0},       // ipbl alone answered: complete and clean
		{"192.0.2.30", "iponly", "listed", 1, 1},      // complete and listed
	} {
		before := w.probes(t, tc.module, tc.outcome)
		m := w.probe(t, "target="+tc.target+"&module="+tc.module)
		if got := m["blcheck_probe_success{}"]; got != tc.success {
			t.Errorf("%s %s: blcheck_probe_success %v, want %v", tc.target, tc.module, got, tc.success)
		}
		if got := w.probes(t, tc.module, tc.outcome) - before; got != 1 {
			t.Errorf("%s %s: outcome %q counted %v times, want once", tc.target, tc.module, tc.outcome, got)
		}
		_, body := w.get(t, "/probe?format=json&target="+tc.target+"&module="+tc.module)
		var doc struct {
			Summary struct {
				ExitCode int `json:"exit_code"`
			} `json:"summary"`
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		if doc.Summary.ExitCode != tc.exitCode {
			t.Errorf("%s %s: JSON exit_code %d, want %d", tc.target, tc.module, doc.Summary.ExitCode, tc.exitCode)
		}
	}
}

// probes is blcheck_exporter_probes_total for a module and outcome.
func (w *world) probes(t *testing.T, module, outcome string) float64 {
	t.Helper()
	_, body := w.get(t, "/metrics")
	return parse(t, body)[`blcheck_exporter_probes_total{module="`+module+`",outcome="`+outcome+`"}`]
}

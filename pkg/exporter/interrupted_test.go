package exporter_test

import (
	"testing"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// A probe whose scrape timeout passes before a list's test points are answered
// says the list's health was interrupted, never no-answer: an alert on a dead
// list must not fire because Prometheus's timeout is short.
func TestProbeScrapeTimeoutHealthInterrupted(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "v4.bl.test", Kind: dnsbltest.Drop}) // no answer, test points included
	m := w.probe(t, "target=192.0.2.41", "X-Prometheus-Scrape-Timeout-Seconds", "1")
	if m[`blcheck_list_health{health="interrupted",list="v4bl"}`] != 1 || m[`blcheck_list_health{health="no-answer",list="v4bl"}`] != 0 {
		t.Errorf("v4bl's health, cut short by the scrape timeout: %v", m)
	}
	if m[`blcheck_probe_success{}`] != 0 {
		t.Error("a probe cut short says success 1")
	}
}

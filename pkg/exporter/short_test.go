package exporter_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/exporter"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// lockedBuffer is a log a server writes from its handlers' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// loggedWorld is an exporter with config in front of srv, through a
// resolver whose query may take 6 s (3 s, one retry), and the log it writes.
func loggedWorld(t *testing.T, srv *dnsbltest.Server, config string) (*world, *lockedBuffer) {
	t.Helper()
	log := &lockedBuffer{}
	w := serveWorld(t, srv, testCatalog, config, resolver.Config{Timeout: 3 * time.Second, Retries: 1}, func(o *exporter.Options) {
		o.QueryTime, o.Logger = 6*time.Second, slog.New(slog.NewTextHandler(log, nil))
	})
	return w, log
}

// A probe with less time than one DNS query may take (a short scrape timeout,
// or a short module timeout) cuts a dead list short in every probe, so it is
// never found dead and the alerts on dead lists and resolvers cannot fire: the
// exporter says so, once in its log and in each probe's trace, with the fix.
func TestProbeShorterThanAQuery(t *testing.T) {
	srv := dnsbltest.New(t)
	srv.Zone("ip.bl.test", "127.0.0.2")
	srv.Zone("v4.bl.test", "127.0.0.2")
	srv.Zone("dom.bl.test", "127.0.1.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "v4.bl.test", Kind: dnsbltest.Drop})
	w, log := loggedWorld(t, srv, "modules:\n  default: {}\n  quick:\n    timeout: 2s\nallow: [192.0.2.0/24]\n")
	if !strings.Contains(log.String(), "module's timeout is shorter than one DNS query may take") ||
		!strings.Contains(log.String(), "module=quick") || strings.Contains(log.String(), "module=default") {
		t.Errorf("a module whose timeout is shorter than a query is not said once, by name, at start:\n%s", log.String())
	}
	for range 2 {
		_, body := w.get(t, "/probe?target=192.0.2.42&debug=true", "X-Prometheus-Scrape-Timeout-Seconds", "1")
		if !strings.Contains(body, "This probe had 750ms, less than one DNS query may take (6s, its retries included)") ||
			!strings.Contains(body, "raise Prometheus's scrape_timeout to at least 6.5s") {
			t.Errorf("the trace of a probe shorter than a query does not say so:\n%.600s", body)
		}
	}
	if n := strings.Count(log.String(), "a probe has less time than one DNS query may take"); n != 1 {
		t.Errorf("the log says a probe is too short %d times in two probes, want once:\n%s", n, log.String())
	}
	// enough time: nothing said
	srv.ClearFaults()
	_, body := w.get(t, "/probe?target=192.0.2.43&debug=true", "X-Prometheus-Scrape-Timeout-Seconds", "9")
	if strings.Contains(body, "less than one DNS query may take") {
		t.Errorf("a probe with 8.5s of 6s says it is too short:\n%.600s", body)
	}
}

// The exporter says a probe is short once per module and length of time, and
// remembers only the first few of them: a client that sends a new
// X-Prometheus-Scrape-Timeout-Seconds with each probe neither grows its memory
// nor floods its log without end.
func TestProbeShortSaidBounded(t *testing.T) {
	srv := dnsbltest.New(t)
	srv.Zone("ip.bl.test", "127.0.0.2")
	w, log := loggedWorld(t, srv, "modules:\n  default: {}\nallow: [192.0.2.0/24]\n")
	const probes, most = 40, 16 // most: the exporter's maxShortSaid
	for i := range probes {
		_, body := w.get(t, "/probe?target=192.0.2.42&debug=true", "X-Prometheus-Scrape-Timeout-Seconds", fmt.Sprintf("0.%03d", i+1))
		if !strings.Contains(body, "less than one DNS query may take") {
			t.Fatalf("probe %d: its trace does not say it is short:\n%.600s", i, body)
		}
	}
	if n := strings.Count(log.String(), "a probe has less time than one DNS query may take"); n != most {
		t.Errorf("%d probes of as many lengths were said short in the log %d times, want %d", probes, n, most)
	}
}

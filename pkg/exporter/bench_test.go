package exporter_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

func benchProbe(b *testing.B, w *world, target string) {
	req := httptest.NewRequest(http.MethodGet, "/probe?target="+target, nil)
	rec := httptest.NewRecorder()
	w.server.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
}

// BenchmarkProbeCached is a probe answered from the cache: a target scraped
// again within its answers' TTL.
func BenchmarkProbeCached(b *testing.B) {
	w := newWorld(b, testConfig, 0)
	benchProbe(b, w, "192.0.2.10")
	before := w.srv.TotalQueries()
	for b.Loop() {
		benchProbe(b, w, "192.0.2.10")
	}
	b.ReportMetric(float64(w.srv.TotalQueries()-before)/float64(b.N), "queries/op")
}

// BenchmarkProbeCold is a probe whose answers are not cached (the resolver's
// cache is off; the lists' health is kept, as in a running exporter).
func BenchmarkProbeCold(b *testing.B) {
	w := newWorld(b, testConfig, -1)
	i := 0
	for b.Loop() {
		benchProbe(b, w, fmt.Sprintf("192.0.2.%d", i%250+1))
		i++
	}
}

// BenchmarkProbeMemory is 10,000 probes of 1,000 distinct targets; it reports
// the heap in use after them (the cache is bounded, results are not kept).
func BenchmarkProbeMemory(b *testing.B) {
	for b.Loop() {
		w := newWorld(b, "modules: {default: {}}\nallow: [any]\n", 0)
		for i := range 10000 {
			n := i % 1000
			benchProbe(b, w, fmt.Sprintf("10.%d.%d.1", n/250, n%250))
		}
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MiB")
	}
}

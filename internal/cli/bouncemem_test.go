package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// BenchmarkBounceMemory runs blcheck bounce on a bounce whose returned message
// links 80,000 hosts (3.5 MB) against the in-process server, and reports the
// peak heap as a multiple of the input (issue #23 item 8: within 10 times).
func BenchmarkBounceMemory(b *testing.B) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.Zone("dbl.spamhaus.org", "127.0.1.2")
	data := hostileReturnedMessage()
	file := filepath.Join(b.TempDir(), "bounce.eml")
	os.WriteFile(file, data, 0o644)
	format := os.Getenv("BOUNCE_MEM_FORMAT")
	if format == "" {
		format = "jsonl"
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := heapPeak()
	for b.Loop() {
		s := &streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard, getenv: func(string) string { return "" }}
		run(context.Background(), []string{"bounce", file, "-r", srv.Addr, "-l", "dbl", "-o", format,
			"--rate", "0", "--timeout", "2s"}, s)
	}
	peak := stop()
	b.ReportMetric(float64(peak-base.HeapInuse)/(1<<20), "MiB-peak-heap")
	b.ReportMetric(float64(peak-base.HeapInuse)/float64(len(data)), "x-input")
}

// heapPeak samples the heap in use every 20 ms until the returned stop is
// called, which gives the highest figure seen (the memory benchmarks' measure).
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

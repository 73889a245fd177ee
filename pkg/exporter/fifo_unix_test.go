//go:build unix

package exporter_test

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A configuration replaced by a FIFO does not hold a reload (nor the shutdown
// behind it): the reload fails at once, and the previous configuration stays.
func TestReloadFIFO(t *testing.T) {
	w := newWorld(t, testConfig, 0)
	if err := os.Remove(w.config); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(w.config, 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.server.Reload() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("reload from a FIFO: %v, want an error saying it is not a regular file", err)
		}
	case <-time.After(20 * time.Second): // a bound on the test, not a measure: a hung open never returns
		t.Fatal("the reload hangs on the FIFO")
	}
	if m := w.probe(t, "target=192.0.2.1"); m[`blcheck_probe_success{}`] != 1 {
		t.Error("the previous configuration is not in use after the failed reload")
	}
}

//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// SIGHUP (a closed terminal or session) ends a run as SIGTERM does: what
// finished is printed and the state saved, exit 130. It used to kill blcheck
// with no output and no state.
func TestHangupInterrupts(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	slow := dnsbltest.QueryName("192.0.2.10", "bl.spamcop.net")
	srv.AddFault(dnsbltest.Fault{Suffix: "bl.spamcop.net", Kind: dnsbltest.Drop})
	path := filepath.Join(t.TempDir(), "state.json")
	done := make(chan result, 1)
	go func() {
		done <- runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop", "--timeout", "30s",
			"--state", path)
	}()
	for srv.Queries("A", slow) == 0 { // the run is under way: its signal handler is in place
		select {
		case got := <-done:
			t.Fatalf("the run ended before the signal: exit %d\n%s", got.code, got.stdout)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.code != 130 || !strings.Contains(got.stdout, "Spamhaus ZEN") {
		t.Errorf("after SIGHUP: exit %d, want 130 with what finished\n%s%s", got.code, got.stdout, got.err)
	}
	if data, err := os.ReadFile(path); err != nil || !strings.Contains(string(data), "192.0.2.10 spamhaus-zen") {
		t.Errorf("the state of what finished was not saved: %v\n%s", err, data)
	}
}

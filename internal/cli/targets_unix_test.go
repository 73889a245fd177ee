//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A --file that is a pipe (--file <(command), a FIFO) cannot be read twice:
// its targets are read once and checked, never a run of nothing called clean.
func TestFileFromPipe(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	fifo := filepath.Join(t.TempDir(), "targets")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// the targets, then an empty second "file" for a reader that opens it
		// again (as /dev/fd/N of a finished process substitution reads)
		for _, text := range []string{"# from a pipe\n192.0.2.10\n", ""} {
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			w.WriteString(text)
			w.Close()
		}
	}()
	t.Cleanup(func() { // release the writer waiting for a second reader
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			<-done
			r.Close()
		}
	})
	got := runCLI(t, nil, "", "--file", fifo, "-r", srv.Addr, "-l", "zen")
	if got.code != exitListed || !strings.Contains(got.stdout, "LISTED Spamhaus ZEN") {
		t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.err)
	}
}

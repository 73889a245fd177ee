//go:build !windows

package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// serveChild plays blcheck-serve (serveChildEnv): "wait" notes in
// $BLCHECK_TEST_DIR that it is ready, each SIGHUP, and the SIGINT or SIGTERM
// that stops it (exit 0); "exit3" exits 3; "sleep" sleeps with no handling of
// its own; "parent" plays blcheck, running a "wait" one.
func serveChild(mode string) int {
	dir := os.Getenv("BLCHECK_TEST_DIR")
	note := func(name string) { _ = os.WriteFile(filepath.Join(dir, name), nil, 0o644) }
	switch mode {
	case "exit3":
		note("started")
		return 3
	case "sleep":
		time.Sleep(30 * time.Second)
		return 0
	case "parent": // blcheck, running a "wait" blcheck-serve
		os.Setenv(serveChildEnv, "wait")
		if runServeBinary(serveCmd(context.Background()), os.Args[0], nil) != nil {
			return 1
		}
		return 0
	}
	stop, hup := make(chan os.Signal, 1), make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	signal.Notify(hup, syscall.SIGHUP)
	note("started")
	for {
		select {
		case <-hup:
			note("reloaded")
		case sig := <-stop:
			note("stopped-" + sig.String())
			return 0
		case <-time.After(30 * time.Second): // a test that forgot it
			return 4
		}
	}
}

// waitFile waits for dir/name, at most 10 s.
func waitFile(t *testing.T, dir, name string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return
		}
	}
	t.Fatalf("blcheck-serve never wrote %s", name)
}

func serveCmd(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	return cmd
}

// blcheck passes SIGHUP and SIGTERM to blcheck-serve, and ends as it does:
// no signal is lost to an exec, and systemd's reload reaches the exporter.
func TestServeBinaryGetsTheSignals(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(serveChildEnv, "wait")
	t.Setenv("BLCHECK_TEST_DIR", dir)
	res := make(chan error, 1)
	go func() { res <- runServeBinary(serveCmd(context.Background()), os.Args[0], nil) }()
	waitFile(t, dir, "started")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFile(t, dir, "reloaded")
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		if err != nil {
			t.Errorf("stopped by SIGTERM: %v, want nil (exit 0)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blcheck-serve did not stop on SIGTERM")
	}
	waitFile(t, dir, "stopped-terminated")
}

// blcheck exits with blcheck-serve's exit code, and starts nothing once a
// SIGINT or SIGTERM has come.
func TestServeBinaryExit(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(serveChildEnv, "exit3")
	t.Setenv("BLCHECK_TEST_DIR", dir)
	var ee *exitError
	if err := runServeBinary(serveCmd(context.Background()), os.Args[0], nil); !errors.As(err, &ee) || ee.code != 3 {
		t.Errorf("blcheck-serve exited 3: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "started")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := runServeBinary(serveCmd(ctx), os.Args[0], nil); err != nil {
		t.Errorf("after a signal: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
		t.Error("blcheck-serve was started after a signal")
	}
	if err := runServeBinary(serveCmd(context.Background()), filepath.Join(dir, "none"), nil); err == nil ||
		!strings.Contains(err.Error(), "none") {
		t.Errorf("a binary that is not there: %v", err)
	}
}

// An exporter stopped by SIGINT or SIGTERM before its own handling was set
// up stopped as asked (exit 0); one killed otherwise is an error.
func TestServeEnded(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want string // "" nil
	}{{syscall.SIGTERM, ""}, {syscall.SIGINT, ""}, {syscall.SIGKILL, "killed"}} {
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), serveChildEnv+"=sleep")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		_ = c.Process.Signal(tc.sig)
		waitErr := c.Wait()
		err := serveEnded("x", c.ProcessState, waitErr)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", tc.sig, err, tc.want)
		}
	}
}

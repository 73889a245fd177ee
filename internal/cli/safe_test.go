package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// serveChildEnv makes the test binary play blcheck-serve (serveChild).
const serveChildEnv = "BLCHECK_TEST_SERVE_CHILD"

// TestMain makes every test of the CLI safe by default: --direct is never
// unless a test says otherwise (with loopback --root-hints), so that no test
// asks the internet's root servers when a fake list refuses the resolver; and
// serve never runs a blcheck-serve found on PATH.
func TestMain(m *testing.M) {
	if mode := os.Getenv(serveChildEnv); mode != "" { // the test binary as blcheck-serve
		os.Exit(serveChild(mode))
	}
	defaultDirect = "never"
	os.Setenv(envDirect, "never")
	serveExec = func(_ *cobra.Command, path string, args []string) error {
		return fmt.Errorf("a test would have run %s %q", path, args)
	}
	os.Exit(m.Run())
}

// writeAtomic checks the file again before it replaces it: one that became
// someone else's during the run is kept, and the temporary file removed.
func TestWriteAtomicChecksAgain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "blcheck.prom")
	if err := os.WriteFile(path, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(path, []byte(promHeader+"blcheck_up 1\n")); err == nil {
		t.Error("replaced a file blcheck did not write")
	}
	if b, _ := os.ReadFile(path); string(b) != "my notes\n" {
		t.Errorf("the file now holds %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := writeAtomic(filepath.Join(dir, "new.prom"), []byte(promHeader+"blcheck_up 1\n")); err != nil {
		t.Errorf("a new file: %v", err)
	}
}

package cli

import (
	"os"
	"os/exec"
	"testing"
)

// blcheck-serve gets a SIGTERM when blcheck is killed outright: it does not
// run on, unseen, holding its port.
func TestServeBinaryDiesWithBlcheck(t *testing.T) {
	dir := t.TempDir()
	parent := exec.Command(os.Args[0])
	parent.Env = append(os.Environ(), serveChildEnv+"=parent", "BLCHECK_TEST_DIR="+dir)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, dir, "started")
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	waitFile(t, dir, "stopped-terminated")
}

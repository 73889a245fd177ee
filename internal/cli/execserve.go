package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
)

// serveBinary is the exporter's binary, which `blcheck serve` runs.
const serveBinary = "blcheck-serve"

// execServe runs `blcheck serve` in blcheck-serve, with the arguments blcheck
// was given less the word serve: blcheck-serve reads them, and the
// environment, as `blcheck serve` would, and answers for them (usage errors
// included). On Unix the exec replaces this process, so a service manager's
// signals reach the exporter itself.
func execServe(cmd *cobra.Command, s *streams) error {
	path, err := findServe(os.Executable, exec.LookPath)
	if err != nil {
		return err
	}
	_, args, err := cmd.Root().Find(s.args)
	if err != nil {
		return err
	}
	return serveExec(cmd, path, args)
}

// serveExec runs blcheck-serve; tests replace it, since on Unix it replaces
// the process.
var serveExec = runServeBinary

// findServe finds blcheck-serve beside the running binary (the archives and
// packages install them together; symbolic links to blcheck are followed),
// or else on PATH.
func findServe(executable func() (string, error), lookPath func(string) (string, error)) (string, error) {
	name := serveBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	self, err := executable()
	if err == nil {
		if real, rerr := filepath.EvalSymlinks(self); rerr == nil {
			self = real
		}
		beside := filepath.Join(filepath.Dir(self), name)
		if fi, serr := os.Stat(beside); serr == nil && fi.Mode().IsRegular() {
			return beside, nil
		}
	}
	if path, lerr := lookPath(serveBinary); lerr == nil {
		return path, nil
	} else if !errors.Is(lerr, exec.ErrNotFound) && !errors.Is(lerr, fs.ErrNotExist) {
		return "", fmt.Errorf("serve: %s: %v", serveBinary, lerr)
	}
	where := "the directory of blcheck"
	if err == nil {
		where = filepath.Dir(self)
	}
	return "", fmt.Errorf("serve: the exporter, %s, is neither in %s nor on PATH: install it beside blcheck "+
		"from the same release archive or package, or with go install github.com/blcheck/blcheck/cmd/%s@%s",
		name, where, serveBinary, installVersion())
}

// installVersion is the version `go install` should fetch for blcheck-serve:
// this build's, or latest when it has none.
func installVersion() string {
	v := readBuildInfo().version // 1.2.3 for a release; 1.2.3-4-g<hash>, devel-<hash> or dev otherwise
	for i, part := range strings.Split(v, ".") {
		if i > 2 || part == "" || strings.Trim(part, "0123456789") != "" {
			return "latest"
		}
	}
	if strings.Count(v, ".") != 2 {
		return "latest"
	}
	return "v" + v
}

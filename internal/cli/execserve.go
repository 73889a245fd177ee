package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
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
// included).
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

// serveExec runs blcheck-serve; tests replace it.
var serveExec = runServeBinary

// runServeBinary runs blcheck-serve with blcheck's standard streams and
// environment, hands it the signals blcheck gets (forwarded), and ends as it
// does: its exit code, or 0 when a SIGINT or SIGTERM stopped it. Nothing is
// started once cmd's context has ended (a SIGINT or SIGTERM came first).
//
// It is not an exec, which would keep one process: a signal that reaches
// another of blcheck's threads while execve runs is handled there, and lost
// with that thread (1 in 12 SIGTERMs sent in the first milliseconds left the
// exporter running). A parent that catches the signals from its start and
// passes them on loses none; it costs a second, idle process.
func runServeBinary(cmd *cobra.Command, path string, args []string) error {
	sigs := make(chan os.Signal, 8)
	if len(forwarded) > 0 {
		signal.Notify(sigs, forwarded...)
		defer signal.Stop(sigs)
	}
	if cmd.Context().Err() != nil { // SIGINT or SIGTERM before it started: stopped
		return nil
	}
	c := exec.Command(path, args...)
	c.Args[0] = serveBinary
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	c.SysProcAttr = serveAttr()
	runtime.LockOSThread() // the parent-death signal belongs to the thread that starts the child
	defer runtime.UnlockOSThread()
	if err := c.Start(); err != nil {
		return fmt.Errorf("serve: running %s: %v", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	for {
		select {
		case sig := <-sigs:
			_ = c.Process.Signal(sig) // one that finds it gone changes nothing
		case err := <-done:
			return serveEnded(path, c.ProcessState, err)
		}
	}
}

// serveEnded is blcheck's result for how blcheck-serve ended: its exit code
// (it has said why), 0 when a SIGINT or SIGTERM stopped it before its own
// handling was set up, an error otherwise.
func serveEnded(path string, ps *os.ProcessState, err error) error {
	switch {
	case ps == nil:
		return fmt.Errorf("serve: running %s: %v", path, err)
	case ps.ExitCode() == 0, stoppedAsAsked(ps):
		return nil
	case ps.ExitCode() > 0:
		return &exitError{code: ps.ExitCode()}
	}
	return fmt.Errorf("serve: %s ended: %v", serveBinary, ps)
}

// findServe finds blcheck-serve beside the running binary (the archives and
// packages install them together; symbolic links to blcheck are followed),
// or else on PATH.
func findServe(executable func() (string, error), lookPath func(string) (string, error)) (string, error) {
	name := serveBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	self, err := executable()
	notExec := "" // a file of the name beside blcheck that may not be run
	if err == nil {
		if real, rerr := filepath.EvalSymlinks(self); rerr == nil {
			self = real
		}
		beside := filepath.Join(filepath.Dir(self), name)
		if fi, serr := os.Stat(beside); serr == nil && fi.Mode().IsRegular() {
			if runtime.GOOS == "windows" || fi.Mode()&0o111 != 0 { // Windows runs a file by its name
				return beside, nil
			}
			notExec = beside
		}
	}
	if path, lerr := lookPath(serveBinary); lerr == nil {
		return path, nil
	} else if !errors.Is(lerr, exec.ErrNotFound) && !errors.Is(lerr, fs.ErrNotExist) {
		return "", fmt.Errorf("serve: %s: %v", serveBinary, lerr)
	}
	if notExec != "" {
		return "", fmt.Errorf("serve: the exporter, %s, may not be run (it is not executable), and there is none on PATH: "+
			"chmod +x %s", notExec, notExec)
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

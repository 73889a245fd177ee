package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/spf13/cobra"
)

// runServeBinary runs blcheck-serve with blcheck's standard streams and waits
// for it: Windows has no exec. Ctrl-C reaches both processes; blcheck waits for
// the exporter to stop and exits with its status.
func runServeBinary(cmd *cobra.Command, path string, args []string) error {
	c := exec.Command(path, args...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &exitError{code: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("serve: running %s: %v", path, err)
	}
	return nil
}

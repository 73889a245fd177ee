//go:build !windows

package cli

import (
	"fmt"
	"os"
	"syscall"

	"github.com/spf13/cobra"
)

// runServeBinary replaces blcheck with blcheck-serve: same process, same
// standard streams and environment, and the service manager's signals (SIGTERM
// to stop, SIGHUP to reload) go to the exporter itself. The signals blcheck
// catches are reset to their defaults by the exec; the one it ignores, SIGPIPE,
// blcheck-serve ignores too.
func runServeBinary(_ *cobra.Command, path string, args []string) error {
	err := syscall.Exec(path, append([]string{serveBinary}, args...), os.Environ())
	return fmt.Errorf("serve: running %s: %v", path, err)
}

//go:build !windows

package cli

import (
	"os"
	"syscall"
)

// forwarded are the signals blcheck hands to blcheck-serve: stop (SIGINT,
// SIGTERM) and reload (SIGHUP, systemd's ExecReload sends it to the main
// process, blcheck).
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// stoppedAsAsked says whether the exporter ended on a SIGINT or SIGTERM that
// came before it set up its own handling: as it stops on one, exit 0.
func stoppedAsAsked(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGINT || ws.Signal() == syscall.SIGTERM)
}

package e2e

import (
	"os"
	"syscall"
)

// maxRSS is a finished process's peak memory in KiB.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss // KiB on Linux
	}
	return 0
}

//go:build !linux

package cli

import "syscall"

// serveAttr is nil where the kernel has no parent-death signal: blcheck-serve
// is stopped by the signals blcheck passes on, and outlives a blcheck killed
// with SIGKILL.
func serveAttr() *syscall.SysProcAttr { return nil }

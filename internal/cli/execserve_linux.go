package cli

import "syscall"

// serveAttr makes the kernel send blcheck-serve a SIGTERM when blcheck dies
// (killed with SIGKILL, say): the exporter never outlives the process a
// service manager or a script knows. The signal is tied to the thread that
// started it, which runServeBinary keeps.
func serveAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }

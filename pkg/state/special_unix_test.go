//go:build unix

package state

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// specialFiles makes a FIFO, and as root a character device like /dev/null,
// in dir (never touching the system's own /dev).
func specialFiles(t *testing.T, dir string) []string {
	var out []string
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err == nil {
		out = append(out, fifo)
	}
	if os.Geteuid() == 0 {
		dev := filepath.Join(dir, "null")
		if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
			out = append(out, dev)
		}
	} else {
		t.Log("not root: no device node test")
	}
	return out
}

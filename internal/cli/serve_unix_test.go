//go:build !windows

package cli

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO named as --web.config.file is refused before the exporter starts:
// reading it would hold the start until someone writes to it.
func TestServeWebConfigFIFO(t *testing.T) {
	web := filepath.Join(t.TempDir(), "web.yml")
	if err := syscall.Mkfifo(web, 0o600); err != nil {
		t.Skip(err)
	}
	var errb strings.Builder
	started := false
	s := &streams{in: strings.NewReader(""), out: &strings.Builder{}, err: &errb,
		getenv: func(string) string { return "" }, resolv: filepath.Join(t.TempDir(), "none"),
		exporter: func(context.Context, ExporterConfig) error { started = true; return nil }}
	code := run(context.Background(), []string{"serve", "--allow", "192.0.2.0/24", "--listen", "127.0.0.1:0",
		"-r", "127.0.0.1:1", "--web.config.file", web}, s)
	if code != exitUsage || started || !strings.Contains(errb.String(), "not a regular file") {
		t.Errorf("exit %d, exporter started %v: %s", code, started, errb.String())
	}
}

// A --listen address that cannot be listened on is a usage error, found
// before the exporter starts (it was the server's failure, exit 3).
func TestServeListenAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:10532": true, "[::1]:10532": true, ":10532": true, "localhost:0": true, "vsock://3:10532": true,
		"bogus": false, "127.0.0.1:99999": false, "127.0.0.1:-1": false, "127.0.0.1": false, "::1:10532": false,
		"127.0.0.1:notaport": false, "a b:10532": false,
	} {
		var errb strings.Builder
		started := false
		s := &streams{in: strings.NewReader(""), out: &strings.Builder{}, err: &errb,
			getenv: func(string) string { return "" }, resolv: filepath.Join(t.TempDir(), "none"),
			exporter: func(context.Context, ExporterConfig) error { started = true; return nil }}
		code := run(context.Background(), []string{"serve", "--allow", "192.0.2.0/24", "--listen", addr, "-r", "127.0.0.1:1"}, s)
		switch {
		case ok && (code != exitClean || !started):
			t.Errorf("--listen %s: exit %d, started %v: %s", addr, code, started, errb.String())
		case !ok && (code != exitUsage || started || !strings.Contains(errb.String(), "--listen")):
			t.Errorf("--listen %s: exit %d, started %v, want a usage error: %s", addr, code, started, errb.String())
		}
	}
}

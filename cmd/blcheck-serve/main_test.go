package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blcheck/blcheck/internal/cli"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/exporter"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// A web configuration exporter-toolkit cannot use is a configuration error
// (exit 2) that names the file, found before anything listens; a good one
// serves until the context ends.
func TestWebConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, web, want string // want "": serves
	}{
		{"empty", "", ""},
		{"basic auth", "basic_auth_users:\n  prometheus: $2y$10$EYxs8IOG46m9CtpB/XlPxO1ei7E4BjAen0SUv6di7mD4keR/8QcJy\n", ""},
		{"missing certificate", "tls_server_config:\n  cert_file: nonexistent.crt\n  key_file: nonexistent.key\n", "nonexistent.crt"},
		{"password not hashed", "basic_auth_users:\n  prometheus: secret\n", "bcrypt"},
		{"misspelt key", "tls_server_confg: {}\n", "tls_server_confg"},
		{"certificate without key", "tls_server_config:\n  cert_file: server.crt\n", "key"},
	}
	cat := catalog.Default()
	client, err := resolver.New(resolver.Config{Servers: []string{"127.0.0.1:1"}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yml")
			if err := os.WriteFile(web, []byte(tt.web), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := serve(ctx, cli.ExporterConfig{Listen: []string{"127.0.0.1:0"}, WebConfigFile: web,
				Allow: []string{"192.0.2.0/24"}, Catalog: cat, Resolver: client, Servers: []string{"127.0.0.1:1"},
				Getenv: func(string) string { return "" }, Logger: discard()})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("a good web configuration: %v", err)
			case tt.want != "" && (!cli.IsUsageError(err) || !strings.Contains(err.Error(), web) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err %v (usage error: %v), want a usage error naming %s and %q", err, cli.IsUsageError(err), web, tt.want)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The longest probe a module may take has time to answer before the server's
// write timeout: its answer would otherwise be lost (curl: empty reply).
func TestWriteTimeoutOutlastsProbes(t *testing.T) {
	if s := httpServer(nil); s.WriteTimeout <= exporter.MaxTimeout+exporter.ScrapeMargin || s.ReadHeaderTimeout == 0 {
		t.Errorf("write timeout %s, read header timeout %s: a probe may take %s", s.WriteTimeout, s.ReadHeaderTimeout, exporter.MaxTimeout)
	}
}

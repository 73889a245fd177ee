package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func serveName() string {
	if runtime.GOOS == "windows" {
		return serveBinary + ".exe"
	}
	return serveBinary
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// blcheck serve finds blcheck-serve beside blcheck (through a symbolic link to
// blcheck too), else on PATH, else says how to install it.
func TestFindServe(t *testing.T) {
	dir := t.TempDir()
	bin, other := filepath.Join(dir, "bin"), filepath.Join(dir, "other")
	touch(t, filepath.Join(bin, "blcheck"))
	touch(t, filepath.Join(bin, serveName()))
	touch(t, filepath.Join(other, "blcheck"))
	if err := os.Mkdir(filepath.Join(other, serveName()), 0o755); err != nil { // a directory is not the binary
		t.Fatal(err)
	}
	noexec := filepath.Join(dir, "noexec") // a blcheck-serve that may not be run
	touch(t, filepath.Join(noexec, "blcheck"))
	touch(t, filepath.Join(noexec, serveName()))
	if err := os.Chmod(filepath.Join(noexec, serveName()), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link", "blcheck")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(bin, "blcheck"), link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	onPath := func(string) (string, error) { return "/opt/x/blcheck-serve", nil }
	nowhere := func(name string) (string, error) { return "", &exec.Error{Name: name, Err: exec.ErrNotFound} }
	for _, tc := range []struct {
		name, self string
		lookPath   func(string) (string, error)
		want       string // "" an error
	}{
		{"beside", filepath.Join(bin, "blcheck"), nowhere, filepath.Join(bin, serveName())},
		{"beside, before PATH", filepath.Join(bin, "blcheck"), onPath, filepath.Join(bin, serveName())},
		{"through a link to blcheck", link, nowhere, filepath.Join(bin, serveName())},
		{"on PATH", filepath.Join(other, "blcheck"), onPath, "/opt/x/blcheck-serve"},
		{"not executable beside, on PATH", filepath.Join(noexec, "blcheck"), onPath, "/opt/x/blcheck-serve"},
		{"nowhere", filepath.Join(other, "blcheck"), nowhere, ""},
	} {
		if tc.name == "not executable beside, on PATH" && runtime.GOOS == "windows" {
			continue
		}
		got, err := findServe(func() (string, error) { return tc.self, nil }, tc.lookPath)
		switch {
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		case tc.want == "" && (err == nil || !strings.Contains(err.Error(), serveName()) ||
			!strings.Contains(err.Error(), other) ||
			!strings.Contains(err.Error(), "go install github.com/blcheck/blcheck/cmd/blcheck-serve@")):
			t.Errorf("%s: %q, %v; want an error naming %s, %s and how to install it", tc.name, got, err, serveName(), other)
		}
	}
	if runtime.GOOS != "windows" {
		_, err := findServe(func() (string, error) { return filepath.Join(noexec, "blcheck"), nil }, nowhere)
		if err == nil || !strings.Contains(err.Error(), "chmod +x "+filepath.Join(noexec, serveName())) {
			t.Errorf("not executable beside, nowhere on PATH: %v; want the error to say chmod +x", err)
		}
	}
	if _, err := findServe(func() (string, error) { return "", errors.New("no /proc") }, nowhere); err == nil ||
		!strings.Contains(err.Error(), "directory of blcheck") {
		t.Errorf("without the executable's path: %v", err)
	}
}

// blcheck serve hands blcheck-serve every argument but the word serve, flags
// given before it included, and checks nothing itself but the flags' syntax.
func TestServeExecsTheExporter(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, serveName()))
	t.Setenv("PATH", dir)
	var gotPath string
	var gotArgs []string
	defer func(old func(*cobra.Command, string, []string) error) { serveExec = old }(serveExec)
	serveExec = func(_ *cobra.Command, path string, args []string) error {
		gotPath, gotArgs = path, args
		return nil
	}
	for _, tc := range []struct {
		args []string
		code int
		want []string // nil: not run
	}{
		{[]string{"serve", "--config", "x.yml"}, exitClean, []string{"--config", "x.yml"}},
		{[]string{"--timeout", "2s", "serve", "--allow", "serve", "--health-ttl=-1s"}, exitClean,
			[]string{"--timeout", "2s", "--allow", "serve", "--health-ttl=-1s"}},
		{[]string{"serve", "--no-such-flag"}, exitUsage, nil},
		{[]string{"serve", "--help"}, exitClean, nil},
		{[]string{"serve", "--version"}, exitClean, []string{"--version"}}, // the exporter's version, not blcheck's
	} {
		gotPath, gotArgs = "", nil
		got := runCLI(t, nil, "", tc.args...)
		if got.code != tc.code || !slices.Equal(gotArgs, tc.want) ||
			(tc.want != nil && gotPath != filepath.Join(dir, serveName())) {
			t.Errorf("%q: exit %d, ran %q %q; want exit %d and %q\n%s", tc.args, got.code, gotPath, gotArgs, tc.code, tc.want, got.err)
		}
	}
}

// -c is --critical for check's Nagios output only: with BLCHECK_FORMAT=nagios
// in the environment, serve's -c (and scan's) is still --concurrency.
func TestNagiosCriticalIsCheckOnly(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, serveName()))
	t.Setenv("PATH", dir)
	var gotArgs []string
	defer func(old func(*cobra.Command, string, []string) error) { serveExec = old }(serveExec)
	serveExec = func(_ *cobra.Command, _ string, args []string) error { gotArgs = args; return nil }
	env := map[string]string{"BLCHECK_FORMAT": "nagios"}
	if got := runCLI(t, env, "", "serve", "-c", "5", "--allow", "any"); got.code != exitClean ||
		!slices.Equal(gotArgs, []string{"-c", "5", "--allow", "any"}) {
		t.Errorf("serve -c 5: exit %d, ran %q\n%s", got.code, gotArgs, got.err)
	}
	if got := runCLI(t, env, "", "scan", "-c", "5", filepath.Join(dir, "none.eml")); strings.Contains(got.err, "critical") {
		t.Errorf("scan -c 5 read as --critical: %s", got.err)
	}
	if got := runCLI(t, env, "", "-c", "0", "--warning", "0", "192.0.2.1", "-r", "127.0.0.1:1"); !strings.Contains(got.err, "critical") {
		t.Errorf("check -c 0 with BLCHECK_FORMAT=nagios is not --critical: exit %d, %s", got.code, got.err)
	}
}

// blcheck-serve --version says its version, and starts nothing.
func TestServeVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "0.2.0"
	var out strings.Builder
	s := &streams{in: strings.NewReader(""), out: &out, err: &strings.Builder{}, getenv: func(string) string { return "" },
		exporter: func(context.Context, ExporterConfig) error { t.Error("--version started the exporter"); return nil }}
	if code := run(context.Background(), []string{"serve", "--version"}, s); code != exitClean || out.String() != "blcheck-serve 0.2.0\n" {
		t.Errorf("exit %d, %q", code, out.String())
	}
}

// blcheck-serve runs `blcheck serve` itself: its exporter gets the flags.
func TestServeRunsItsExporter(t *testing.T) {
	var got ExporterConfig
	web := filepath.Join(t.TempDir(), "web.yml")
	touch(t, web)
	s := &streams{in: strings.NewReader(""), out: &strings.Builder{}, err: &strings.Builder{},
		getenv: func(string) string { return "" }, resolv: filepath.Join(t.TempDir(), "none"),
		exporter: func(_ context.Context, c ExporterConfig) error { got = c; return nil }}
	code := run(context.Background(), []string{"serve", "--allow", "192.0.2.0/24", "--listen", "127.0.0.1:0",
		"--listen", "[::1]:0", "-r", "127.0.0.1:1", "--web.config.file", web}, s)
	if code != exitClean || !slices.Equal(got.Listen, []string{"127.0.0.1:0", "[::1]:0"}) ||
		!slices.Equal(got.Allow, []string{"192.0.2.0/24"}) || got.WebConfigFile != web ||
		got.HealthTTL.String() != "5m0s" || got.Catalog == nil || got.Resolver == nil || got.Logger == nil {
		t.Errorf("exit %d, exporter given %+v", code, got)
	}
}

// The go install hint names a release's own version, and latest for any other
// build (whose version is no module version).
func TestInstallVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	for v, want := range map[string]string{"0.2.0": "v0.2.0", "10.20.30": "v10.20.30", "0.2.0-3-gabcdef": "latest",
		"0.0.0-g5101c96-dirty": "latest", "devel-abc": "latest", "1.2": "latest", "1.2.3.4": "latest", "1..3": "latest"} {
		version = v
		if got := installVersion(); got != want {
			t.Errorf("version %q: %q, want %q", v, got, want)
		}
	}
}

// The blcheck binary links no Prometheus library, no protobuf and no
// exporter-toolkit, whose package init every run would pay; blcheck-serve
// links them (issue #24).
func TestOnlyTheExporterLinksPrometheus(t *testing.T) {
	for pkg, wantProm := range map[string]bool{"github.com/blcheck/blcheck/cmd/blcheck": false,
		"github.com/blcheck/blcheck/cmd/blcheck-serve": true} {
		out, err := exec.Command("go", "list", "-deps", "-test=false", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		if !strings.Contains(string(out), "github.com/blcheck/blcheck/internal/cli\n") {
			t.Fatalf("go list printed no dependency list:\n%s", out)
		}
		var heavy []string
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/prometheus/") || strings.HasPrefix(dep, "google.golang.org/protobuf") {
				heavy = append(heavy, dep)
			}
		}
		if (len(heavy) > 0) != wantProm {
			t.Errorf("%s links %d Prometheus and protobuf packages: %v", pkg, len(heavy), heavy)
		}
	}
}

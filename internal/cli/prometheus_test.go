package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// -o prometheus writes the probe families with a target label, lint-clean, to
// stdout or atomically to --output; a file it did not write is never replaced.
func TestPrometheusOutput(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	got := runCLI(t, nil, "", "192.0.2.10", "192.0.2.11", "-r", srv.Addr, "-o", "prometheus", "-l", "zen,spamcop")
	if got.code != 1 {
		t.Fatalf("exit %d, want 1 (listed): %s", got.code, got.err)
	}
	for _, want := range []string{
		`blcheck_probe_listed{target="192.0.2.10"} 1`,
		`blcheck_probe_listed{target="192.0.2.11"} 0`,
		`blcheck_check_status{list="spamhaus-zen",status="listed",subject="192.0.2.10",target="192.0.2.10"} 1`,
		`blcheck_listing_code{code="127.0.0.4",list="spamhaus-zen",subject="192.0.2.10",target="192.0.2.10"} 1`,
		`blcheck_list_health{health="ok",list="spamcop"} 1`,
		"# TYPE blcheck_last_run_timestamp_seconds gauge",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("missing %q in\n%s", want, got.stdout)
		}
	}
	problems, err := promlint.New(strings.NewReader(got.stdout)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "blcheck.prom")
	if got := runCLI(t, nil, "", "192.0.2.11", "-r", srv.Addr, "-o", "prometheus", "-l", "spamcop", "--output", out); got.code != 0 {
		t.Fatalf("--output: exit %d: %s", got.code, got.err)
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(data), promHeader) {
		t.Fatalf("--output wrote %q, %v", data, err)
	}
	if got := runCLI(t, nil, "", "192.0.2.11", "-r", srv.Addr, "-o", "prometheus", "-l", "spamcop", "--output", out); got.code != 0 {
		t.Errorf("rewriting its own file: exit %d: %s", got.code, got.err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the output: %v", entries)
	}

	mine := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(mine, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--output", mine, "-o", "prometheus"},
		{"--output", dir, "-o", "prometheus"},
		{"--output", filepath.Join(dir, "missing", "x.prom"), "-o", "prometheus"},
		{"--output", filepath.Join(dir, "y.prom")}, // not -o prometheus
	} {
		got := runCLI(t, nil, "", append([]string{"192.0.2.11", "-r", srv.Addr, "-l", "spamcop"}, args...)...)
		if got.code != 2 || !strings.Contains(got.err, "--output") {
			t.Errorf("%v: exit %d, want 2 naming --output: %s", args, got.code, got.err)
		}
	}
	if data, _ := os.ReadFile(mine); string(data) != "my notes\n" {
		t.Errorf("a user's file was overwritten: %q", data)
	}

	// --output - is standard output, not a file named "-"
	t.Chdir(dir)
	got = runCLI(t, nil, "", "192.0.2.11", "-r", srv.Addr, "-o", "prometheus", "-l", "spamcop", "--output", "-")
	if _, err := os.Stat(filepath.Join(dir, "-")); got.code != 0 || !strings.HasPrefix(got.stdout, promHeader) || err == nil {
		t.Errorf("--output -: exit %d, file \"-\" made: %v\n%s%s", got.code, err == nil, got.stdout, got.err)
	}

	// a directory it cannot write in is refused before the run, not after it
	t.Run("unwritable directory", func(t *testing.T) {
		locked := filepath.Join(dir, "locked")
		os.Mkdir(locked, 0o500)
		if f, err := os.CreateTemp(locked, "probe"); err == nil { // root writes anyway
			f.Close()
			t.Skip("this user can write in a read-only directory")
		}
		got := runCLI(t, nil, "", "192.0.2.11", "-r", srv.Addr, "-o", "prometheus", "-l", "spamcop", "--output", filepath.Join(locked, "x.prom"))
		if got.code != 2 || got.stdout != "" || !strings.Contains(got.err, "cannot write in "+locked) {
			t.Errorf("unwritable --output: exit %d\n%s%s", got.code, got.stdout, got.err)
		}
	})
}

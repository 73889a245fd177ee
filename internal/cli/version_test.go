package cli

import (
	"strings"
	"testing"
)

func TestBuildInfoDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   buildInfo
		want string
	}{
		{"release", buildInfo{version: "0.1.0", commit: "4072118a4642ec6331fb164f7ff3df04faa4eddf"}, "0.1.0"},
		{"checkout", buildInfo{commit: "4072118a4642ec6331fb164f7ff3df04faa4eddf"}, "devel-4072118a4642"},
		{"modified checkout", buildInfo{commit: "4072118a46", modified: true}, "devel-4072118a46-dirty"},
		{"nothing known", buildInfo{}, "dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults().version; got != tc.want {
				t.Errorf("version %q, want %q", got, tc.want)
			}
		})
	}
}

// The ldflags that make build and make dist set are what `blcheck version` prints,
// and the man pages are dated by the commit.
func TestVersionFromLdflags(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "0.1.0-3-g4072118", "4072118a4642ec6331fb164f7ff3df04faa4eddf", "2026-12-07T06:53:00Z"
	got := runCLI(t, nil, "", "version")
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.err)
	}
	for _, want := range []string{"blcheck 0.1.0-3-g4072118\n", "commit: 4072118a4642ec6331fb164f7ff3df04faa4eddf\n", "date: 2026-12-07T06:53:00Z\n", "go: go1."} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, got.stdout)
		}
	}
	if got := runCLI(t, nil, "", "--version"); got.stdout != "blcheck 0.1.0-3-g4072118\n" {
		t.Errorf("--version printed %q", got.stdout)
	}
	if ct, ok := readBuildInfo().commitTime(); !ok || ct.Format("Jan 2006") != "Dec 2026" {
		t.Errorf("commit time %v %v", ct, ok)
	}
}

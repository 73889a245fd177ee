//go:build dist

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckOut: dist empties -out before it builds, so it refuses one that
// holds the source tree, one with files that are no earlier release, and the
// release it is to compare with; a new, empty or earlier release's is fine.
func TestCheckOut(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	old := filepath.Join(root, "old")         // an earlier release
	mine := filepath.Join(root, "mine")       // the user's files
	mixed := filepath.Join(root, "mixed")     // an earlier release, and a file of the user's put in it
	other := filepath.Join(root, "other")     // someone else's checksums.txt
	renamed := filepath.Join(root, "renamed") // an earlier release, one of whose files the user replaced
	for _, d := range []string{src, old, mine, mixed, other, renamed} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{old, mixed, renamed} {
		write(filepath.Join(d, "blcheck_1.0.0_linux_amd64.tar.gz"), "archive")
		if err := writeChecksums(d); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(mine, "thesis.tex"), "mine")
	write(filepath.Join(mixed, "thesis.tex"), "mine")
	write(filepath.Join(other, "checksums.txt"), "MD5 (thesis.tex) = 0123\n")
	write(filepath.Join(other, "thesis.tex"), "mine")
	write(filepath.Join(renamed, "blcheck_1.0.0_linux_amd64.tar.gz"), "mine")
	notes := filepath.Join(root, "notes.txt") // a file of the user's, not a directory
	write(notes, "mine")
	for _, tc := range []struct {
		out, compare, err string
	}{
		{filepath.Join(root, "new"), "", ""},
		{old, "", ""},
		{filepath.Join(root, "new"), old, ""},
		{root, "", "holds the source tree"},
		{src, "", "holds the source tree"},
		{mine, "", "no checksums.txt"},
		{mixed, "", "holds thesis.tex, which its checksums.txt does not list"},
		{other, "", "checksums.txt is not one dist wrote"},
		{renamed, "", "is not what its checksums.txt says"},
		{notes, "", "is not a directory"},
		{old, old, "is -out itself"},
	} {
		r := &release{src: src, out: tc.out}
		err := r.checkOut(tc.compare)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("-out %s -compare %q: %v, want %q", tc.out, tc.compare, err, tc.err)
		}
	}
	for _, f := range []string{filepath.Join(mine, "thesis.tex"), filepath.Join(mixed, "thesis.tex"),
		filepath.Join(other, "thesis.tex"), filepath.Join(renamed, "blcheck_1.0.0_linux_amd64.tar.gz"), notes} {
		if b, err := os.ReadFile(f); err != nil || string(b) != "mine" {
			t.Errorf("the user's file %s was touched: %q %v", f, b, err)
		}
	}
}

// TestCompareDirsGo: a rebuild with another Go than the release's differs,
// and the comparison says so, naming both and go.mod's; with one Go, it does not.
func TestCompareDirsGo(t *testing.T) {
	root := t.TempDir()
	build := func(name, goVersion, archive string) string {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		sbom := `{"packages": [{"name": "blcheck"}, {"name": "stdlib", "versionInfo": "` + goVersion + `"}]}`
		for file, data := range map[string]string{"blcheck_1.0.0.spdx.json": sbom, "blcheck_1.0.0_linux_amd64.tar.gz": archive} {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	release := build("release", "go1.26.8", "archive")
	for _, tc := range []struct {
		name, goVersion, archive string
		want                     []string
	}{
		{"same", "go1.26.8", "archive", nil},
		{"other-go", "go1.27.1", "archive built by another Go", []string{
			"blcheck_1.0.0_linux_amd64.tar.gz: not byte-identical", "built with go1.26.8", "with go1.27.1",
			"the Go of go.mod, go 1.26.8 (GOTOOLCHAIN=go1.26.8 make verify-dist)"}},
		{"same-go", "go1.26.8", "archive changed", []string{"blcheck_1.0.0_linux_amd64.tar.gz: not byte-identical"}},
	} {
		err := compareDirs(release, build(tc.name, tc.goVersion, tc.archive), "1.26.8")
		if (err == nil) != (tc.want == nil) {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant it to say %q", tc.name, err, w)
			}
		}
		if tc.name == "same-go" && strings.Contains(err.Error(), "built with") {
			t.Errorf("%s: %v: one Go built both", tc.name, err)
		}
	}
}

// TestCheckCompare: make verify-dist against a dist/ of another commit (one
// left from before a git pull) is refused before building, naming both commits.
func TestCheckCompare(t *testing.T) {
	root := t.TempDir()
	sbom := func(dir, version, commit string) string {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		doc := `{"packages": [{"name": "blcheck", "versionInfo": "` + version + `", "downloadLocation": "git+https://github.com/blcheck/blcheck@` + commit + `"}]}`
		if err := os.WriteFile(filepath.Join(root, dir, "blcheck_"+version+".spdx.json"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(root, dir)
	}
	r := &release{version: "0.2.0", commit: "bbbb"}
	for _, tc := range []struct{ dir, err string }{
		{"", ""},
		{sbom("same", "0.2.0", "bbbb"), ""},
		{sbom("old", "0.1.0", "aaaa"), "holds blcheck 0.1.0, built from commit aaaa; this is 0.2.0, commit bbbb"},
		{t.TempDir(), ""}, // downloaded files without the SBOM: compared file by file
	} {
		err := r.checkCompare(tc.dir)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("-compare %s: %v, want %q", tc.dir, err, tc.err)
		}
	}
}

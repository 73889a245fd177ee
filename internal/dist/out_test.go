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
	old := filepath.Join(root, "old")
	mine := filepath.Join(root, "mine")
	for _, d := range []string{src, old, mine} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(old, "checksums.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "thesis.tex"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		out, compare, err string
	}{
		{filepath.Join(root, "new"), "", ""},
		{old, "", ""},
		{filepath.Join(root, "new"), old, ""},
		{root, "", "holds the source tree"},
		{src, "", "holds the source tree"},
		{mine, "", "no checksums.txt"},
		{old, old, "is -out itself"},
	} {
		r := &release{src: src, out: tc.out}
		err := r.checkOut(tc.compare)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("-out %s -compare %q: %v, want %q", tc.out, tc.compare, err, tc.err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(mine, "thesis.tex")); err != nil || string(b) != "mine" {
		t.Errorf("the user's file was touched: %q %v", b, err)
	}
}

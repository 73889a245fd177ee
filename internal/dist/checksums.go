//go:build dist

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// writeChecksums writes checksums.txt: the SHA-256 of every other file in dir,
// in name order, as sha256sum prints them (sha256sum -c checksums.txt checks them).
func writeChecksums(dir string) error {
	names, err := fileNames(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, name := range names {
		if name == "checksums.txt" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), name)
	}
	return os.WriteFile(filepath.Join(dir, "checksums.txt"), []byte(b.String()), 0o644)
}

// fileSum is a file's SHA-256, as writeChecksums writes it.
func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

func fileNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// compareDirs checks that two builds hold the same files with the same bytes,
// and names every one that differs; and, when their SBOMs say two Go releases
// built them, that too, with the one go.mod names (goMod).
func compareDirs(want, got, goMod string) error {
	wantNames, err := fileNames(want)
	if err != nil {
		return err
	}
	gotNames, err := fileNames(got)
	if err != nil {
		return err
	}
	var diffs []string
	if strings.Join(wantNames, "\n") != strings.Join(gotNames, "\n") {
		diffs = append(diffs, fmt.Sprintf("files differ: %s has %v, %s has %v", want, wantNames, got, gotNames))
	}
	for _, name := range gotNames {
		a, errA := os.ReadFile(filepath.Join(want, name))
		b, errB := os.ReadFile(filepath.Join(got, name))
		if errA == nil && errB == nil && !bytes.Equal(a, b) {
			diffs = append(diffs, fmt.Sprintf("%s: not byte-identical (%x vs %x)", name, sha256.Sum256(a), sha256.Sum256(b)))
		}
	}
	if len(diffs) > 0 {
		if a, b := builtWith(want), builtWith(got); a != b {
			diffs = append(diffs, fmt.Sprintf("%s was built with %s, %s with %s: a release is built with the Go of go.mod, "+
				"go %s (GOTOOLCHAIN=go%[5]s make verify-dist)", want, a, got, b, goMod))
		}
		return errors.New("the rebuild differs:\n  " + strings.Join(diffs, "\n  "))
	}
	fmt.Fprintf(os.Stderr, "dist: %d files in %s are byte-identical to %s\n", len(gotNames), got, want)
	return nil
}

// readSBOM is the SPDX document of the release in dir, if it has one.
func readSBOM(dir string) (spdxDoc, bool) {
	sboms, _ := filepath.Glob(filepath.Join(dir, "blcheck_*.spdx.json"))
	for _, path := range sboms {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var doc spdxDoc
		if json.Unmarshal(b, &doc) == nil {
			return doc, true
		}
	}
	return spdxDoc{}, false
}

// builtWith is the Go release that built the release in dir, as its SBOM
// says (the stdlib package's version), or "unknown".
func builtWith(dir string) string {
	doc, _ := readSBOM(dir)
	for _, p := range doc.Packages {
		if p.Name == "stdlib" {
			return p.VersionInfo
		}
	}
	return "unknown"
}

// sbomRelease is the version and commit of the release in dir, as its SBOM
// says (blcheck's package: its version, and the commit its download location
// names), or "" for each it does not say.
func sbomRelease(dir string) (version, commit string) {
	doc, _ := readSBOM(dir)
	for _, p := range doc.Packages {
		if p.Name == "blcheck" {
			_, commit, _ = strings.Cut(p.DownloadLocation, "@")
			return p.VersionInfo, commit
		}
	}
	return "", ""
}

// goModGo is the go directive of the module's go.mod, the Go release that
// builds the release ("" if it cannot be read).
func goModGo(src string) string {
	b, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

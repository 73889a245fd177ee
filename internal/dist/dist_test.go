//go:build dist

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPkgVersion(t *testing.T) {
	tests := []struct{ in, version, pre, meta, deb string }{
		{"0.1.0", "0.1.0", "", "", "0.1.0-1"},
		{"0.1.0-3-g4072118", "0.1.0", "", "3.g4072118", "0.1.0+3.g4072118-1"},
		{"0.1.0-3-g4072118-dirty", "0.1.0", "", "3.g4072118.dirty", "0.1.0+3.g4072118.dirty-1"},
		{"0.2.0-rc.1", "0.2.0", "rc.1", "", "0.2.0~rc.1-1"},
		{"0.2.0-rc1-2-gabcdef0", "0.2.0", "rc1", "2.gabcdef0", "0.2.0~rc1+2.gabcdef0-1"},
		{"0.0.0-g4072118", "0.0.0", "", "g4072118", "0.0.0+g4072118-1"},
		{"0.0.0-g4072118-dirty", "0.0.0", "", "g4072118.dirty", "0.0.0+g4072118.dirty-1"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			v, pre, meta := pkgVersion(tc.in)
			if v != tc.version || pre != tc.pre || meta != tc.meta {
				t.Errorf("pkgVersion(%q) = %q, %q, %q; want %q, %q, %q", tc.in, v, pre, meta, tc.version, tc.pre, tc.meta)
			}
			r := &release{version: tc.in}
			info := r.nfpmInfo(platform{"linux", "amd64"}, nil)
			if got := debVersion(info.Version, info.Prerelease, info.VersionMetadata, info.Release); got != tc.deb {
				t.Errorf("deb version %q, want %q", got, tc.deb)
			}
		})
	}
}

func debVersion(v, pre, meta, rel string) string {
	if pre != "" {
		v += "~" + pre
	}
	if meta != "" {
		v += "+" + meta
	}
	return v + "-" + rel
}

const (
	testVersion = "0.1.0-3-g4072118"
	testCommit  = "4072118a4642ec6331fb164f7ff3df04faa4eddf"
)

var testTime = time.Unix(1796626784, 0).UTC() // 2026-12-07T06:59:44Z

// buildLinuxAmd64 is make dist for linux/amd64 alone into a temporary directory.
func buildLinuxAmd64(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	r := &release{src: src, out: filepath.Join(t.TempDir(), "dist"), version: testVersion, commit: testCommit,
		mtime: testTime, platforms: []platform{{"linux", "amd64"}}, packages: true, logf: t.Logf}
	if err := r.build(); err != nil {
		t.Fatal(err)
	}
	return r.out
}

// The check of make test: one archive and the two packages of one platform
// hold what they should, as they should, twice the same.
func TestDistLinuxAmd64(t *testing.T) {
	if testing.Short() {
		t.Skip("builds blcheck twice")
	}
	out := buildLinuxAmd64(t)
	names, err := fileNames(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"blcheck-0.1.0+3.g4072118-1.x86_64.rpm",
		"blcheck_0.1.0+3.g4072118-1_amd64.deb",
		"blcheck_0.1.0-3-g4072118.spdx.json",
		"blcheck_0.1.0-3-g4072118_linux_amd64.tar.gz",
		"checksums.txt",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("dist holds %q, want %q", names, want)
	}
	t.Run("archive", func(t *testing.T) { checkArchive(t, filepath.Join(out, want[3])) })
	t.Run("deb", func(t *testing.T) { checkDeb(t, filepath.Join(out, want[1])) })
	t.Run("rpm", func(t *testing.T) { checkRPM(t, filepath.Join(out, want[0])) })
	t.Run("sbom", func(t *testing.T) { checkSBOM(t, filepath.Join(out, want[2])) })
	t.Run("checksums", func(t *testing.T) { checkChecksums(t, out, want) })
	t.Run("reproducible", func(t *testing.T) {
		if err := compareDirs(out, buildLinuxAmd64(t), ""); err != nil {
			t.Error(err)
		}
	})
}

// tarEntry is one member of a tar stream, its content kept.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t *testing.T, r io.Reader) []tarEntry {
	t.Helper()
	var es []tarEntry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, tarEntry{h, b})
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("gzip header has a time (%v) or a name (%q)", zr.ModTime, zr.Name)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runVersion runs an extracted binary's `version` and checks what it says.
func runVersion(t *testing.T, data []byte) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "blcheck")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	checkVersionOf(t, bin)
}

// checkServeVersion runs an extracted blcheck-serve's --version: the same
// release as blcheck.
func checkServeVersion(t *testing.T, data []byte) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "blcheck-serve")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if want := "blcheck-serve " + testVersion + "\n"; err != nil || string(out) != want {
		t.Errorf("blcheck-serve --version: %v, %q; want %q", err, out, want)
	}
}

func checkVersionOf(t *testing.T, bin string) {
	t.Helper()
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
	want := fmt.Sprintf("blcheck %s\ncommit: %s\ndate: 2026-12-07T06:59:44Z\n", testVersion, testCommit)
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("%s version says\n%s\nwant it to start\n%s", bin, out, want)
	}
}

func checkArchive(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	top := "blcheck_" + testVersion + "_linux_amd64/"
	want := map[string]int64{
		top: 0o755, top + "man/": 0o755, top + "completions/": 0o755,
		top + "blcheck": 0o755, top + "blcheck-serve": 0o755, top + "README.md": 0o644, top + "CHANGELOG.md": 0o644, top + "LICENSE": 0o644,
		top + "man/blcheck.1": 0o644, top + "man/blcheck-serve.1": 0o644,
		top + "completions/blcheck.bash": 0o644, top + "completions/_blcheck": 0o644, top + "completions/blcheck.fish": 0o644,
		top + thirdPartyName: 0o644, top + "completions/blcheck.ps1": 0o644, top + "man/blcheck-completion.1": 0o644,
	}
	var names []string
	es := readTar(t, bytes.NewReader(gunzip(t, b)))
	for _, e := range es {
		h := e.hdr
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(testTime) {
			t.Errorf("%s: owner %d:%d, time %v; want 0:0 at %v", h.Name, h.Uid, h.Gid, h.ModTime, testTime)
		}
		if m, ok := want[h.Name]; ok && h.Mode != m {
			t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, m)
		}
		delete(want, h.Name)
		if h.Name == top+"blcheck" {
			runVersion(t, e.data)
		}
		if h.Name == top+"blcheck-serve" {
			checkServeVersion(t, e.data)
		}
		if h.Name == top+thirdPartyName {
			checkThirdParty(t, e.data)
		}
		if h.Name == top+"man/blcheck.1" && !bytes.Contains(e.data, []byte(`"Dec 2026" "blcheck `+testVersion+`"`)) {
			t.Errorf("the man page is not dated by the commit or lacks the version:\n%.300s", e.data)
		}
	}
	if len(want) > 0 {
		t.Errorf("the archive lacks %v; it has %v", want, names)
	}
	if !slices.IsSorted(names) {
		t.Errorf("members not in order: %v", names)
	}
	dir := t.TempDir()
	extract(t, es, dir)
	checkManPages(t, filepath.Join(dir, strings.TrimSuffix(top, "/")))
	checkBashCompletion(t, filepath.Join(dir, strings.TrimSuffix(top, "/")))
	checkDockerfile(t, path, names)
}

// make's VERSION is git describe without its v, 0.0.0-g<hash> before any tag,
// with -dirty for uncommitted changes (a tag's version was once empty: the shell
// make runs is not bash).
func TestMakeVersion(t *testing.T) {
	for _, tool := range []string{"make", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			needTool(t, tool)
		}
	}
	makefile, err := filepath.Abs("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-12-07T06:59:44Z", "GIT_COMMITTER_DATE=2026-12-07T06:59:44Z",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	version := func() string { return strings.Fields(run("make", "-s", "-f", makefile, "version"))[0] }
	run("git", "init", "-q")
	run("git", "commit", "-q", "--allow-empty", "-m", "one")
	hash := run("git", "rev-parse", "--short", "HEAD")
	steps := []struct {
		do   []string
		want string
	}{
		{nil, "0.0.0-g" + hash},
		{[]string{"git", "tag", "v0.1.0"}, "0.1.0"},
		{[]string{"git", "commit", "-q", "--allow-empty", "-m", "two"}, "0.1.0-1-g"},
		{[]string{"touch", "f"}, "0.1.0-1-g"},
		{[]string{"git", "add", "f"}, "-dirty"},
	}
	for _, s := range steps {
		if s.do != nil {
			run(s.do...)
		}
		if v := version(); !strings.Contains(v, s.want) || strings.HasPrefix(v, "v") {
			t.Errorf("after %v: version %q, want it to hold %q", s.do, v, s.want)
		}
	}
	if v := run("make", "-s", "-f", makefile, "version"); !strings.HasSuffix(v, " 2026-12-07T06:59:44Z") {
		t.Errorf("make version: %q, want the commit's date", v)
	}
}

//go:build dist

// Command dist builds blcheck's release into a directory (make dist): for each
// platform an archive (tar.gz, zip on windows) holding the binary, README.md,
// CHANGELOG.md, LICENSE, the man pages and the bash, zsh, fish and PowerShell completions;
// .deb and .rpm packages for linux; an SPDX SBOM; and checksums.txt (SHA-256).
//
// Every output is a function of the commit alone: binaries are built with
// -trimpath and no build ID, every time written is the commit's
// (SOURCE_DATE_EPOCH), archive members are sorted, owned by 0:0 with fixed modes,
// and gzip headers carry no time or name. Two runs give the same bytes; with
// -compare DIR the run checks that against an earlier one (make verify-dist).
//
// It is a program of our own rather than GoReleaser: nfpm (the packager
// GoReleaser uses) is a library pinned in go.mod, the archives are archive/tar and
// archive/zip, and the whole build compiles in seconds, where `go run` of
// GoReleaser compiles some thousand packages. It is built only with -tags dist,
// so that go build ./... and the cross-builds of make lint do not carry nfpm.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// allPlatforms are the release's targets (make lint cross-builds the same).
const allPlatforms = "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64," +
	"windows/amd64,windows/arm64,freebsd/amd64,freebsd/arm64"

// release is what one run builds.
type release struct {
	src       string    // the checkout (module root)
	out       string    // where the artefacts go
	version   string    // git describe without its v
	commit    string    // full commit hash
	mtime     time.Time // the commit's time: every time written
	platforms []platform
	packages  bool // .deb and .rpm for the linux platforms
	logf      func(format string, args ...any)
}

type platform struct{ os, arch string }

func (p platform) String() string { return p.os + "_" + p.arch }

// exe is the file name of the command name on p.
func (p platform) exe(name string) string {
	if p.os == "windows" {
		return name + ".exe"
	}
	return name
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "dist: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("dist", flag.ContinueOnError)
	r := &release{logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }}
	var epoch, platforms, compare string
	fs.StringVar(&r.src, "src", ".", "the checkout to build")
	fs.StringVar(&r.out, "out", "dist", "output `directory` (emptied first)")
	fs.StringVar(&r.version, "version", "", "release `version` (git describe, without its v)")
	fs.StringVar(&r.commit, "commit", "", "commit `hash`")
	fs.StringVar(&epoch, "epoch", os.Getenv("SOURCE_DATE_EPOCH"), "commit time in `seconds` since 1970 (default $SOURCE_DATE_EPOCH)")
	fs.StringVar(&platforms, "platforms", allPlatforms, "comma-separated `os/arch` list")
	fs.BoolVar(&r.packages, "packages", true, "build .deb and .rpm for linux")
	fs.StringVar(&compare, "compare", "", "after building, check that every file is byte-identical to the one in `DIR`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := r.setup(epoch, platforms); err != nil {
		return err
	}
	if err := r.checkOut(compare); err != nil {
		return err
	}
	if err := r.checkCompare(compare); err != nil {
		return err
	}
	if v, err := r.goEnv("GOVERSION"); err == nil && v != "go"+goModGo(r.src) {
		r.logf("dist: warning: %s builds this, but go.mod names go %s: the bytes differ from a release built with it (GOTOOLCHAIN=go%[2]s)", v, goModGo(r.src))
	}
	start := time.Now()
	if err := r.build(); err != nil {
		return err
	}
	r.logf("dist: %s built in %s", r.out, time.Since(start).Round(time.Second))
	if compare != "" {
		return compareDirs(compare, r.out, goModGo(r.src))
	}
	return nil
}

func (r *release) setup(epoch, platforms string) error {
	if r.version == "" || r.commit == "" {
		return errors.New("-version and -commit are required (make dist sets them from git)")
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || sec <= 0 {
		return fmt.Errorf("-epoch %q: want the commit time in seconds (git log -1 --format=%%ct)", epoch)
	}
	r.mtime = time.Unix(sec, 0).UTC()
	for _, p := range strings.Split(platforms, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || goos == "" || goarch == "" {
			return fmt.Errorf("-platforms: %q is not os/arch", p)
		}
		r.platforms = append(r.platforms, platform{goos, goarch})
	}
	if r.src, err = filepath.Abs(r.src); err != nil {
		return err
	}
	r.out, err = filepath.Abs(r.out)
	return err
}

// checkOut refuses an output directory that build's clearing could cost the
// user something in: the source tree or a directory holding it, a directory
// with files that are not an earlier release (earlierRelease), or the release
// it is to be compared with.
func (r *release) checkOut(compare string) error {
	if rel, err := filepath.Rel(r.out, r.src); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
		return fmt.Errorf("-out %s: holds the source tree %s, and dist empties it first", r.out, r.src)
	}
	if compare != "" {
		if c, err := filepath.Abs(compare); err == nil && c == r.out {
			return fmt.Errorf("-compare %s: is -out itself: build into another directory", compare)
		}
	}
	fi, err := os.Lstat(r.out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // made
	case err != nil:
		return fmt.Errorf("-out %s: %v", r.out, err)
	case !fi.IsDir():
		return fmt.Errorf("-out %s: is not a directory, and dist would remove it: pick a directory", r.out)
	}
	entries, err := os.ReadDir(r.out)
	if err != nil {
		return fmt.Errorf("-out %s: %v", r.out, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if why := earlierRelease(r.out, entries); why != "" {
		return fmt.Errorf("-out %s: %s, and dist empties it first: remove it yourself or pick another directory", r.out, why)
	}
	return nil
}

// earlierRelease says why the directory's entries are not an earlier
// release's, or "" when they are: a checksums.txt as writeChecksums writes it,
// and beside it only the files it lists, each with the content it lists. A
// checksums.txt of something else's, or a file of the user's put among a
// release's (under an artefact's name too), is not dist's to remove.
func earlierRelease(dir string, entries []os.DirEntry) string {
	data, err := os.ReadFile(filepath.Join(dir, "checksums.txt"))
	if err != nil {
		return "holds files but no checksums.txt (not an earlier release)"
	}
	listed := map[string]string{"checksums.txt": ""}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" || name == "" || strings.ContainsAny(name, "/\\") {
			return "its checksums.txt is not one dist wrote (not an earlier release)"
		}
		listed[name] = sum
	}
	for _, e := range entries {
		sum, ok := listed[e.Name()]
		if !e.Type().IsRegular() || !ok {
			return fmt.Sprintf("holds %s, which its checksums.txt does not list (not part of an earlier release)", e.Name())
		}
		if e.Name() == "checksums.txt" {
			continue
		}
		if got, err := fileSum(filepath.Join(dir, e.Name())); err != nil || got != sum {
			return fmt.Sprintf("holds %s, which is not what its checksums.txt says (changed since dist wrote it)", e.Name())
		}
	}
	return ""
}

// build writes every artefact into r.out: the docs once, then per platform the
// binaries, the licenses of what they link, their archive and (linux) their
// packages, then the SBOM and checksums.
func (r *release) build() error {
	if err := os.RemoveAll(r.out); err != nil {
		return err
	}
	if err := os.MkdirAll(r.out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "blcheck-dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	docs, err := r.docs(work)
	if err != nil {
		return err
	}
	var all []string
	for _, p := range r.platforms {
		bins, err := r.binaries(work, p)
		if err != nil {
			return err
		}
		all = append(all, bins...)
		notices, err := r.writeThirdParty(bins)
		if err != nil {
			return err
		}
		if err := r.archive(p, bins, notices, docs); err != nil {
			return err
		}
		if r.packages && p.os == "linux" {
			if err := r.linuxPackages(work, p, bins, notices, docs); err != nil {
				return err
			}
		}
	}
	if err := r.sbom(all); err != nil {
		return err
	}
	return writeChecksums(r.out)
}

// checkCompare refuses, before a minute of building, to compare with a
// release of another commit (its SBOM says which): every file would differ,
// for no fault of the build's.
func (r *release) checkCompare(compare string) error {
	if compare == "" {
		return nil
	}
	version, commit := sbomRelease(compare)
	if commit != "" && commit != r.commit {
		return fmt.Errorf("-compare %s: holds blcheck %s, built from commit %s; this is %s, commit %s: "+
			"rebuild %[1]s (make dist) or check out %[3]s", compare, version, commit, r.version, r.commit)
	}
	return nil
}

//go:build dist

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// cliPackage holds the version variables (internal/cli/version.go).
const cliPackage = "github.com/blcheck/blcheck/internal/cli"

// ldflags are make build's: no symbol table, no build ID, and the version,
// commit and commit date that `blcheck version` prints.
func (r *release) ldflags() string {
	return fmt.Sprintf("-s -w -buildid= -X %[1]s.version=%[2]s -X %[1]s.commit=%[3]s -X %[1]s.date=%[4]s", cliPackage,
		r.version, r.commit, r.mtime.Format(time.RFC3339))
}

// goBuild runs go build in the checkout for one platform. The environment is
// the caller's but for what decides the bytes: no cgo, no VCS stamp (the
// ldflags carry the commit), and the target.
func (r *release) goBuild(p platform, pkg, out string, tags ...string) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", r.ldflags(), "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = r.src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.os, "GOARCH="+p.arch,
		"GOFLAGS=-mod=readonly", "GOAMD64=v1", "GOARM64=v8.0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s: %w", p, err)
	}
	return nil
}

// binaries builds blcheck and the exporter it runs, blcheck-serve, for p into
// work/<os>_<arch>/.
func (r *release) binaries(work string, p platform) ([]string, error) {
	r.logf("dist: build %s", p)
	var bins []string
	for _, name := range []string{"blcheck", "blcheck-serve"} {
		bin := filepath.Join(work, p.String(), p.exe(name))
		if err := r.goBuild(p, "./cmd/"+name, bin); err != nil {
			return nil, err
		}
		bins = append(bins, bin)
	}
	return bins, nil
}

// docs builds blcheck with its docs command for this machine and writes the man
// pages and completions into work/docs/{man,completions}.
func (r *release) docs(work string) (string, error) {
	bin := filepath.Join(work, "docs-tool", "blcheck")
	if err := r.goBuild(platform{runtime.GOOS, runtime.GOARCH}, "./cmd/blcheck", bin, "docs"); err != nil {
		return "", err
	}
	dir := filepath.Join(work, "docs")
	cmd := exec.Command(bin, "docs", "--dir", dir)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", r.mtime.Unix()))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("blcheck docs: %w\n%s", err, out)
	}
	return dir, nil
}

//go:build dist

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

const description = `DNS blacklist checker and Prometheus exporter
blcheck checks whether a mail server, a domain or the links in a message are on
DNS blacklists (DNSBL, URIBL), tells listed, clean, blocked, error, unreliable
and skipped apart, and says what each listing means and where to get delisted.
blcheck serve is a Prometheus exporter of the same checks.`

// afterTagRE is what git describe appends to a tag: the commits since and the hash.
var afterTagRE = regexp.MustCompile(`^(.+)-(\d+)-g([0-9a-f]+)$`)

// noTagRE is the version make gives a build before the first tag: 0.0.0-g<hash>.
var noTagRE = regexp.MustCompile(`^g[0-9a-f]+$`)

// pkgVersion splits a git describe version (without its v) for the packagers:
// "0.1.0" is itself; "0.1.0-rc.1" a prerelease (sorted before 0.1.0); the commits
// after a tag, "0.1.0-3-gabc1234", are metadata that sorts after it
// (0.1.0+3.gabc1234), as are the hash of a build before any tag ("0.0.0-gabc1234")
// and -dirty.
func pkgVersion(v string) (version, prerelease, metadata string) {
	var meta []string
	v, dirty := strings.CutSuffix(v, "-dirty")
	if m := afterTagRE.FindStringSubmatch(v); m != nil {
		v, meta = m[1], []string{m[2], "g" + m[3]}
	}
	version, prerelease, _ = strings.Cut(v, "-")
	if noTagRE.MatchString(prerelease) {
		meta, prerelease = append([]string{prerelease}, meta...), ""
	}
	if dirty {
		meta = append(meta, "dirty")
	}
	return version, strings.ReplaceAll(prerelease, "-", "."), strings.Join(meta, ".")
}

// pkgFile is one file of a package: its source on disk, where it goes, its mode,
// nfpm's type ("" a plain file) and the one packager it is for ("" both).
type pkgFile struct {
	src, dst string
	mode     fs.FileMode
	typ      string
	only     string
}

// packageFiles lays out the files a package installs (man pages gzipped, the
// unit run from /usr/bin), writing what it changes into dir: what both install,
// then what is laid out differently for each (debFiles, rpmFiles).
func (r *release) packageFiles(dir string, bins []string, notices, docs string) ([]pkgFile, error) {
	var pf []pkgFile
	for _, bin := range bins { // blcheck, and blcheck-serve beside it, where blcheck serve looks
		pf = append(pf, pkgFile{src: bin, dst: "/usr/bin/" + filepath.Base(bin), mode: 0o755})
	}
	pf = append(pf, []pkgFile{
		{src: filepath.Join(docs, "completions", "blcheck.bash"), dst: "/usr/share/bash-completion/completions/blcheck", mode: 0o644},
		{src: filepath.Join(docs, "completions", "blcheck.fish"), dst: "/usr/share/fish/vendor_completions.d/blcheck.fish", mode: 0o644},
		{src: filepath.Join(r.src, "contrib", "blcheck.yml"), dst: "/etc/blcheck/blcheck.yml", mode: 0o644, typ: files.TypeConfigNoReplace},
	}...)
	unit, err := packagedUnit(filepath.Join(r.src, "contrib", "blcheck.service"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "blcheck.service"), unit, 0o644); err != nil {
		return nil, err
	}
	pf = append(pf, pkgFile{src: filepath.Join(dir, "blcheck.service"), dst: "/usr/lib/systemd/system/blcheck.service", mode: 0o644})
	pages, err := filepath.Glob(filepath.Join(docs, "man", "*.1"))
	if err != nil || len(pages) == 0 {
		return nil, fmt.Errorf("no man pages in %s (%v)", docs, err)
	}
	var gzPages []string
	for _, page := range pages {
		gz := filepath.Join(dir, filepath.Base(page)+".gz")
		if err := gzipFile(page, gz); err != nil {
			return nil, err
		}
		gzPages = append(gzPages, gz)
	}
	deb, err := r.debFiles(dir, notices, docs, gzPages)
	if err != nil {
		return nil, err
	}
	return append(append(pf, deb...), r.rpmFiles(notices, docs, gzPages)...), nil
}

// rpmFiles are the files only the rpm installs: the documents and man pages
// marked %doc (rpm -qd lists them, --excludedocs leaves them out), the licenses
// %license in /usr/share/licenses, and zsh's completion where Fedora's zsh looks.
func (r *release) rpmFiles(notices, docs string, gzPages []string) []pkgFile {
	pf := []pkgFile{
		{src: filepath.Join(docs, "completions", "_blcheck"), dst: "/usr/share/zsh/site-functions/_blcheck", mode: 0o644, only: "rpm"},
		{src: filepath.Join(r.src, "README.md"), dst: "/usr/share/doc/blcheck/README.md", mode: 0o644, typ: files.TypeRPMDoc, only: "rpm"},
		{src: filepath.Join(r.src, "CHANGELOG.md"), dst: "/usr/share/doc/blcheck/CHANGELOG.md", mode: 0o644, typ: files.TypeRPMDoc, only: "rpm"},
		{src: filepath.Join(r.src, "LICENSE"), dst: "/usr/share/licenses/blcheck/LICENSE", mode: 0o644, typ: files.TypeRPMLicense, only: "rpm"},
		{src: notices, dst: "/usr/share/licenses/blcheck/" + thirdPartyName, mode: 0o644, typ: files.TypeRPMLicense, only: "rpm"},
	}
	for _, gz := range gzPages {
		pf = append(pf, pkgFile{src: gz, dst: "/usr/share/man/man1/" + filepath.Base(gz), mode: 0o644, typ: files.TypeRPMDoc, only: "rpm"})
	}
	return pf
}

// packagedUnit is contrib's unit as the package installs it: the binary in
// /usr/bin, and a header that says where it came from instead of how to install it.
func packagedUnit(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, body, ok := bytes.Cut(b, []byte("[Unit]\n"))
	if !ok {
		return nil, fmt.Errorf("%s: no [Unit] section", path)
	}
	head := "# systemd unit for the blcheck Prometheus exporter, installed by the blcheck package.\n" +
		"#   systemctl enable --now blcheck   (configuration: /etc/blcheck/blcheck.yml)\n" +
		"# Keys of keyed lists (BLCHECK_SPAMHAUS_DQS_KEY=...) go in /etc/blcheck/env (mode 0600).\n"
	body = bytes.ReplaceAll(body, []byte("/usr/local/bin/blcheck"), []byte("/usr/bin/blcheck"))
	return append([]byte(head+"[Unit]\n"), body...), nil
}

// gzipFile compresses as gzip -9n does: no name, no time in the header.
func gzipFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

// linuxPackages writes the .deb and .rpm for p.
func (r *release) linuxPackages(work string, p platform, bins []string, notices, docs string) error {
	dir := filepath.Join(work, "pkg-"+p.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pf, err := r.packageFiles(dir, bins, notices, docs)
	if err != nil {
		return err
	}
	scripts, err := writeScripts(dir)
	if err != nil {
		return err
	}
	for _, format := range []string{"deb", "rpm"} {
		if err := r.nfpmPackage(format, p, pf, scripts[format]); err != nil {
			return fmt.Errorf("%s for %s: %w", format, p, err)
		}
	}
	return nil
}

func (r *release) nfpmInfo(p platform, pf []pkgFile) *nfpm.Info {
	version, pre, meta := pkgVersion(r.version)
	info := &nfpm.Info{
		Name: "blcheck", Arch: p.arch, Platform: "linux",
		Version: version, VersionSchema: "none", Prerelease: pre, VersionMetadata: meta, Release: "1",
		Section: "net", Priority: "optional",
		Maintainer:  maintainer,
		Vendor:      "The blcheck authors",
		Homepage:    "https://github.com/blcheck/blcheck",
		License:     "Apache-2.0",
		Description: description,
		MTime:       r.mtime,
	}
	info.RPM.BuildHost = "blcheck"
	info.RPM.Group = "Applications/Internet"
	info.RPM.Summary = strings.SplitN(description, "\n", 2)[0]
	info.RPM.Compression = "gzip"
	info.Deb.Compression = "gzip"
	for _, f := range pf {
		info.Contents = append(info.Contents, &files.Content{
			Source: f.src, Destination: f.dst, Type: f.typ, Packager: f.only,
			FileInfo: &files.ContentFileInfo{Mode: f.mode, MTime: r.mtime, Owner: "root", Group: "root"},
		})
	}
	return info
}

func (r *release) nfpmPackage(format string, p platform, pf []pkgFile, scripts nfpm.Scripts) error {
	packager, err := nfpm.Get(format)
	if err != nil {
		return err
	}
	info := r.nfpmInfo(p, pf)
	info.Scripts = scripts
	if format == "rpm" { // the summary is a field of its own: the description is the rest
		_, info.Description, _ = strings.Cut(description, "\n")
	}
	info.Target = filepath.Join(r.out, packager.ConventionalFileName(info))
	if err := nfpm.PrepareForPackager(nfpm.WithDefaults(info), format); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := packager.Package(info, &buf); err != nil {
		return err
	}
	r.logf("dist: %s", filepath.Base(info.Target))
	return os.WriteFile(info.Target, buf.Bytes(), 0o644)
}

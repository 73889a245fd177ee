//go:build dist

package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// maintainer is the packages' Maintainer (deb) and Packager (rpm).
const maintainer = "The blcheck authors <https://github.com/blcheck/blcheck/issues>"

// debCopyrightFormat is /usr/share/doc/blcheck/copyright in the machine-readable
// format (DEP-5): blcheck's license named and referred to in
// /usr/share/common-licenses, as Debian policy 12.5 asks, not copied whole; the
// licenses of the code the binaries link are in THIRD_PARTY_LICENSES.gz beside it.
// %s is the years, from blcheck's first (2026) to the commit's.
const debCopyrightFormat = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: blcheck
Upstream-Contact: https://github.com/blcheck/blcheck/issues
Source: https://github.com/blcheck/blcheck
Comment: blcheck and blcheck-serve are static Go binaries: they hold the Go
 standard library and the Go modules they link, each under its own license.
 Those licenses, with each module's NOTICE where it has one, are in
 /usr/share/doc/blcheck/` + thirdPartyName + `.gz.

Files: *
Copyright: %s The blcheck authors
License: Apache-2.0

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License");
 you may not use this file except in compliance with the License.
 You may obtain a copy of the License at
 .
 https://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS,
 WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 See the License for the specific language governing permissions and
 limitations under the License.
 .
 On Debian systems, the complete text of the Apache License, Version 2.0
 can be found in "/usr/share/common-licenses/Apache-2.0".
`

// lintianOverrides are the lintian tags that are blcheck's choice, each said why.
const lintianOverrides = `# Go binaries built with CGO_ENABLED=0: static by design (no C library to
# match, the same binary on every distribution).
blcheck: statically-linked-binary [usr/bin/blcheck]
blcheck: statically-linked-binary [usr/bin/blcheck-serve]
# Not an upload to Debian: there is no ITP bug for the changelog to close.
blcheck: initial-upload-closes-no-bugs
`

// debianVersion is the deb's version as nfpm writes it in the control file:
// version[~prerelease][+metadata]-release.
func debianVersion(version string) string {
	v, pre, meta := pkgVersion(version)
	if pre != "" {
		v += "~" + pre
	}
	if meta != "" {
		v += "+" + meta
	}
	return v + "-1"
}

// debChangelog is changelog.Debian: one entry, for this build of the release
// (the package adds nothing to blcheck's own changes, which are changelog.gz).
func (r *release) debChangelog() string {
	return fmt.Sprintf("blcheck (%s) unstable; urgency=medium\n\n"+
		"  * blcheck %s, packaged as it is released, from the commit\n"+
		"    %s.\n"+
		"    Its changes are in /usr/share/doc/blcheck/changelog.gz.\n\n"+
		" -- %s  %s\n",
		debianVersion(r.version), r.version, r.commit, maintainer, r.mtime.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
}

// debFiles are the files only the deb installs, laid out as Debian policy asks:
// documents in /usr/share/doc/blcheck compressed (the upstream CHANGELOG as
// changelog.gz, policy 12.7), beside them the copyright file that names the
// licenses (12.5) and a Debian changelog, lintian's overrides, zsh's completion
// where Debian's zsh looks, and the man pages.
func (r *release) debFiles(dir, notices, docs string, gzPages []string) ([]pkgFile, error) {
	write := func(name, text string) (string, error) {
		path := filepath.Join(dir, name)
		return path, os.WriteFile(path, []byte(text), 0o644)
	}
	years := "2026"
	if y := r.mtime.Year(); y > 2026 {
		years = fmt.Sprintf("2026-%d", y)
	}
	copyright, err := write("copyright", fmt.Sprintf(debCopyrightFormat, years))
	if err != nil {
		return nil, err
	}
	overrides, err := write("lintian-overrides", lintianOverrides)
	if err != nil {
		return nil, err
	}
	changelogDebian, err := write("changelog.Debian", r.debChangelog())
	if err != nil {
		return nil, err
	}
	const doc = "/usr/share/doc/blcheck/"
	pf := []pkgFile{
		{src: filepath.Join(docs, "completions", "_blcheck"), dst: "/usr/share/zsh/vendor-completions/_blcheck", mode: 0o644, only: "deb"},
		{src: copyright, dst: doc + "copyright", mode: 0o644, only: "deb"},
		{src: overrides, dst: "/usr/share/lintian/overrides/blcheck", mode: 0o644, only: "deb"},
	}
	for _, gz := range []struct{ src, name string }{
		{filepath.Join(r.src, "README.md"), "README.md.gz"},
		{filepath.Join(r.src, "CHANGELOG.md"), "changelog.gz"},
		{notices, thirdPartyName + ".gz"},
		{changelogDebian, "changelog.Debian.gz"},
	} {
		dst := filepath.Join(dir, "doc-"+gz.name)
		if err := gzipFile(gz.src, dst); err != nil {
			return nil, err
		}
		pf = append(pf, pkgFile{src: dst, dst: doc + gz.name, mode: 0o644, only: "deb"})
	}
	for _, gz := range gzPages {
		pf = append(pf, pkgFile{src: gz, dst: "/usr/share/man/man1/" + filepath.Base(gz), mode: 0o644, only: "deb"})
	}
	return pf, nil
}

//go:build dist

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// thirdPartyName is the file, beside LICENSE, that holds the licenses of the
// code the binaries link besides blcheck's own: the Go standard library and
// every module. The BSD and MIT licenses ask that a binary's distribution carry
// their notice, and the Apache license that it carry the module's NOTICE.
const thirdPartyName = "THIRD_PARTY_LICENSES"

// licenseFile says whether a file at a module's root is one whose text a
// binary distribution carries: a license (LICENSE, LICENSE.md, LICENCE.txt,
// COPYING, LICENSE.libyaml...), a NOTICE, a COPYRIGHT or a PATENTS grant.
func licenseFile(name string) (isLicense, carried bool) {
	u := strings.ToUpper(name)
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "UNLICENSE"} {
		if strings.HasPrefix(u, p) {
			return true, true
		}
	}
	for _, p := range []string{"NOTICE", "COPYRIGHT", "PATENTS"} {
		if strings.HasPrefix(u, p) {
			return false, true
		}
	}
	return false, false
}

// goEnv is one value of `go env` for the toolchain that builds the release.
func (r *release) goEnv(key string) (string, error) {
	cmd := exec.Command("go", "env", key)
	cmd.Dir = r.src
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// escapeModulePath is a module path as the module cache spells it: each
// capital letter as "!" and its lower case (golang.org/x/mod/module.EscapePath).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, c := range p {
		if unicode.IsUpper(c) {
			b.WriteByte('!')
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// noticeFiles reads the license files at the root of dir, in name order; it
// fails when none of them is a license.
func noticeFiles(dir, what string) ([]member, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var ms []member
	found := false
	for _, e := range entries {
		isLicense, carried := licenseFile(e.Name())
		if !carried || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		found = found || isLicense
		ms = append(ms, member{name: e.Name(), data: b})
	}
	if !found {
		return nil, fmt.Errorf("%s: no license file in %s: a binary that links it cannot be shipped without one", what, dir)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	return ms, nil
}

// thirdPartyLicenses writes the text of THIRD_PARTY_LICENSES for the binaries
// bins: for the Go standard library they are built with, and for every module
// linked into one of them, its path and version and then each of its license
// files. The texts come from the toolchain's GOROOT and the module cache (each
// module's files fixed by go.sum), so the bytes are the commit's.
func (r *release) thirdPartyLicenses(bins []string) ([]byte, error) {
	goVersion, mods, err := linkedModules(bins)
	if err != nil {
		return nil, err
	}
	goroot, err := r.goEnv("GOROOT")
	if err != nil {
		return nil, err
	}
	modcache, err := r.goEnv("GOMODCACHE")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("blcheck is under the Apache License 2.0 (LICENSE). Its binaries are built with\n" +
		"Go and link the code below, each under its own license, whose text follows.\n")
	section := func(title, dir string) error {
		files, err := noticeFiles(dir, title)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n%s\n%s\n", strings.Repeat("=", 80), title)
		for _, f := range files {
			fmt.Fprintf(&b, "%s\n%s\n\n%s", strings.Repeat("-", 80), f.name, f.data)
			if !bytes.HasSuffix(f.data, []byte("\n")) {
				b.WriteByte('\n')
			}
		}
		return nil
	}
	if err := section("Go standard library "+goVersion, goroot); err != nil {
		return nil, err
	}
	for _, m := range mods {
		if m.version == "" {
			return nil, fmt.Errorf("module %s has no version (a local replace): its license cannot be found", m.path)
		}
		dir := filepath.Join(modcache, escapeModulePath(m.path)+"@"+escapeModulePath(m.version))
		if err := section(m.path+" "+m.version, dir); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// writeThirdParty writes THIRD_PARTY_LICENSES for p's binaries beside them.
func (r *release) writeThirdParty(bins []string) (string, error) {
	text, err := r.thirdPartyLicenses(bins)
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(bins[0]), thirdPartyName)
	return path, os.WriteFile(path, text, 0o644)
}

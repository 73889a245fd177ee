//go:build dist

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// pkgWant is what both packages install, with the mode of each file.
var pkgWant = map[string]int64{
	"/usr/bin/blcheck":                                  0o755,
	"/usr/bin/blcheck-serve":                            0o755,
	"/usr/share/man/man1/blcheck.1.gz":                  0o644,
	"/usr/share/man/man1/blcheck-serve.1.gz":            0o644,
	"/usr/share/bash-completion/completions/blcheck":    0o644,
	"/usr/share/fish/vendor_completions.d/blcheck.fish": 0o644,
	"/usr/lib/systemd/system/blcheck.service":           0o644,
	"/etc/blcheck/blcheck.yml":                          0o644,
}

// arMembers reads an ar archive (a .deb) by member name.
func arMembers(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		t.Fatal("not an ar archive")
	}
	ms := map[string][]byte{}
	for b = b[8:]; len(b) >= 60; {
		name := strings.TrimRight(strings.TrimSpace(string(b[:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(b[48:58])))
		if err != nil || 60+size > len(b) {
			t.Fatalf("bad ar header %q", b[:60])
		}
		ms[name] = b[60 : 60+size]
		b = b[60+size+size%2:]
	}
	return ms
}

func checkDeb(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ar := arMembers(t, b)
	want := map[string]int64{"/usr/share/zsh/vendor-completions/_blcheck": 0o644, "/usr/share/doc/blcheck/copyright": 0o644,
		"/usr/share/doc/blcheck/changelog.gz": 0o644, "/usr/share/doc/blcheck/changelog.Debian.gz": 0o644,
		"/usr/share/doc/blcheck/README.md.gz": 0o644, "/usr/share/doc/blcheck/THIRD_PARTY_LICENSES.gz": 0o644,
		"/usr/share/lintian/overrides/blcheck": 0o644}
	for k, v := range pkgWant {
		want[k] = v
	}
	for _, e := range readTar(t, bytes.NewReader(gunzip(t, ar["data.tar.gz"]))) {
		name := strings.TrimPrefix(e.hdr.Name, ".")
		if e.hdr.Uid != 0 || e.hdr.Gid != 0 || !e.hdr.ModTime.Equal(testTime) {
			t.Errorf("%s: owner %d:%d, time %v", name, e.hdr.Uid, e.hdr.Gid, e.hdr.ModTime)
		}
		if m, ok := want[name]; ok && e.hdr.Mode != m {
			t.Errorf("%s: mode %o, want %o", name, e.hdr.Mode, m)
		}
		delete(want, name)
		if name == "/usr/lib/systemd/system/blcheck.service" && !bytes.Contains(e.data, []byte("ExecStart=/usr/bin/blcheck serve")) {
			t.Errorf("the packaged unit does not run /usr/bin/blcheck:\n%s", e.data)
		}
		if name == "/usr/share/doc/blcheck/copyright" && (bytes.Contains(e.data, []byte("TERMS AND CONDITIONS")) ||
			!bytes.Contains(e.data, []byte("/usr/share/common-licenses/Apache-2.0"))) {
			t.Errorf("the copyright file should refer to /usr/share/common-licenses/Apache-2.0, not copy the license:\n%.400s", e.data)
		}
		if name == "/usr/share/doc/blcheck/THIRD_PARTY_LICENSES.gz" {
			checkThirdParty(t, gunzip(t, e.data))
		}
	}
	if len(want) > 0 {
		t.Errorf("the deb lacks %v", want)
	}
	control := map[string]string{}
	for _, e := range readTar(t, bytes.NewReader(gunzip(t, ar["control.tar.gz"]))) {
		control[strings.TrimPrefix(e.hdr.Name, "./")] = string(e.data)
	}
	if !strings.Contains(control["conffiles"], "/etc/blcheck/blcheck.yml") {
		t.Errorf("conffiles %q: the configuration must be kept on upgrade", control["conffiles"])
	}
	if !strings.Contains(control["control"], "Version: 0.1.0+3.g4072118-1\n") {
		t.Errorf("control:\n%s", control["control"])
	}
	// what a user does: dpkg-deb -x, then run it
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		needTool(t, "dpkg-deb")
		return
	}
	dir := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", path, dir).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	checkVersionOf(t, filepath.Join(dir, "usr", "bin", "blcheck"))
	checkUnit(t, dir)
	checkDebScripts(t, path)
	checkLintian(t, path)
}

// lintianKnown are the lintian errors and warnings the deb is known to have,
// each said why; any other fails the test. The Maintainer is the project's
// issue tracker, not a mail address, as Debian policy 5.6.2 wants: the project
// has none to give yet.
var lintianKnown = map[string]string{
	"malformed-contact":                   "the Maintainer is a URL: the project has no mail address",
	"bogus-mail-host-in-debian-changelog": "the Maintainer is a URL: the project has no mail address",
}

// checkLintian runs lintian on the deb, as Debian's archive does: an error or
// a warning it was not told of (the package's overrides say the others) fails.
func checkLintian(t *testing.T, deb string) {
	t.Helper()
	if _, err := exec.LookPath("lintian"); err != nil {
		needTool(t, "lintian")
		return
	}
	out, err := exec.Command("lintian", "--fail-on", "none", "--tag-display-limit", "0", deb).CombinedOutput()
	if err != nil {
		t.Fatalf("lintian: %v\n%s", err, out)
	}
	tag := regexp.MustCompile(`(?m)^([EW]): blcheck(?: [a-z]+)?: (\S+)(.*)$`)
	for _, m := range tag.FindAllStringSubmatch(string(out), -1) {
		if why, ok := lintianKnown[m[2]]; ok {
			t.Logf("lintian %s: %s%s (known: %s)", m[1], m[2], m[3], why)
			continue
		}
		t.Errorf("lintian %s: %s%s", m[1], m[2], m[3])
	}
}

// needTool skips a check whose tool is missing, except in CI (.ci/run installs it).
func needTool(t *testing.T, tool string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (.ci/run installs it)", tool)
	}
	t.Skipf("%s is not installed (apt-get install rpm rpm2cpio cpio dpkg lintian systemd man-db bash-completion)", tool)
}

func checkRPM(t *testing.T, path string) {
	for _, tool := range []string{"rpm", "rpm2cpio", "cpio"} {
		if _, err := exec.LookPath(tool); err != nil {
			needTool(t, tool)
		}
	}
	rpm := func(args ...string) string {
		out, err := exec.Command("rpm", append(args, path)...).CombinedOutput()
		if err != nil {
			t.Fatalf("rpm %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := rpm("-K", "--nosignature"); !strings.Contains(out, "digests OK") {
		t.Errorf("rpm -K: %s", out)
	}
	if out := rpm("-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH} %{BUILDTIME} %{BUILDHOST}"); out != fmt.Sprintf("blcheck 0.1.0+3.g4072118-1 x86_64 %d blcheck", testTime.Unix()) {
		t.Errorf("rpm -qp says %q", out)
	}
	if out := rpm("-qcp"); strings.TrimSpace(out) != "/etc/blcheck/blcheck.yml" {
		t.Errorf("config files %q", out)
	}
	// rpm -qd lists the documentation (--excludedocs leaves it out), -qL the licenses
	docs := strings.Fields(rpm("-qpd"))
	for _, d := range []string{"/usr/share/doc/blcheck/README.md", "/usr/share/doc/blcheck/CHANGELOG.md", "/usr/share/man/man1/blcheck.1.gz"} {
		if !slices.Contains(docs, d) {
			t.Errorf("rpm -qd does not list %s: %v", d, docs)
		}
	}
	if out := strings.Fields(rpm("-qpL")); !slices.Equal(out, []string{"/usr/share/licenses/blcheck/LICENSE", "/usr/share/licenses/blcheck/" + thirdPartyName}) {
		t.Errorf("rpm -qL: %v", out)
	}
	if out := rpm("-qp", "--qf", "%{SUMMARY}\n%{DESCRIPTION}"); strings.Count(out, "DNS blacklist checker and Prometheus exporter") != 1 {
		t.Errorf("the description repeats the summary:\n%s", out)
	}
	want := map[string]int64{"/usr/share/zsh/site-functions/_blcheck": 0o644, "/usr/share/licenses/blcheck/LICENSE": 0o644,
		"/usr/share/licenses/blcheck/" + thirdPartyName: 0o644, "/usr/share/doc/blcheck/README.md": 0o644}
	for k, v := range pkgWant {
		want[k] = v
	}
	// --dump: path size mtime digest mode owner group ...
	sc := bufio.NewScanner(strings.NewReader(rpm("-qp", "--dump")))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		mode, _ := strconv.ParseInt(f[4], 8, 64)
		if f[2] != strconv.FormatInt(testTime.Unix(), 10) || f[5] != "root" || f[6] != "root" {
			t.Errorf("%s: mtime %s, owner %s:%s", f[0], f[2], f[5], f[6])
		}
		if m, ok := want[f[0]]; ok && mode&0o7777 != m {
			t.Errorf("%s: mode %o, want %o", f[0], mode&0o7777, m)
		}
		delete(want, f[0])
	}
	if len(want) > 0 {
		t.Errorf("the rpm lacks %v", want)
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", path)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpm2cpio | cpio: %v\n%s", err, out)
	}
	checkVersionOf(t, filepath.Join(dir, "usr", "bin", "blcheck"))
	checkRPMScripts(t, path)
}

func checkSBOM(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc spdxDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.CreationInfo.Created != "2026-12-07T06:59:44Z" || !strings.Contains(doc.DocumentNamespace, testCommit) {
		t.Errorf("document %s, created %s, namespace %s", doc.SPDXVersion, doc.CreationInfo.Created, doc.DocumentNamespace)
	}
	ids := map[string]string{}
	for _, p := range doc.Packages {
		ids[p.SPDXID] = p.Name + "@" + p.VersionInfo
		if !strings.HasPrefix(p.SPDXID, "SPDXRef-") || spdxIDUnsafe.MatchString(strings.TrimPrefix(p.SPDXID, "SPDXRef-")) {
			t.Errorf("bad SPDXID %q", p.SPDXID)
		}
	}
	for _, want := range []string{"blcheck@" + testVersion, "github.com/spf13/cobra@", "github.com/miekg/dns@", "stdlib@go1."} {
		found := false
		for _, nv := range ids {
			found = found || strings.HasPrefix(nv, want)
		}
		if !found {
			t.Errorf("the SBOM lacks %s: %v", want, ids)
		}
	}
	for _, r := range doc.Relationships {
		if r.Element != "SPDXRef-DOCUMENT" && ids[r.Element] == "" || ids[r.Related] == "" {
			t.Errorf("relationship %+v names a package not in the document", r)
		}
	}
}

// checksums.txt is what sha256sum -c reads, for every other file.
func checkChecksums(t *testing.T, dir string, names []string) {
	b, err := os.ReadFile(filepath.Join(dir, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, n := range names {
		if n == "checksums.txt" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&want, "%x  %s\n", sha256.Sum256(data), n)
	}
	if string(b) != want.String() {
		t.Errorf("checksums.txt:\n%s\nwant:\n%s", b, want.String())
	}
}

// checkUnit runs systemd-analyze verify on the unit the deb installs (extracted
// into root), its ExecStart pointed at the extracted binary: what systemd
// would say of it when the package is installed.
func checkUnit(t *testing.T, root string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		needTool(t, "systemd-analyze")
		return
	}
	b, err := os.ReadFile(filepath.Join(root, "usr", "lib", "systemd", "system", "blcheck.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "blcheck.service")
	b = bytes.ReplaceAll(b, []byte("/usr/bin/blcheck"), []byte(filepath.Join(root, "usr", "bin", "blcheck")))
	if err := os.WriteFile(unit, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", unit)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// checkThirdParty: THIRD_PARTY_LICENSES names the Go standard library and
// each module linked into the binaries, each with its license text.
func checkThirdParty(t *testing.T, text []byte) {
	t.Helper()
	sections := strings.Split(string(text), strings.Repeat("=", 80)+"\n")
	titles := map[string]bool{}
	for _, s := range sections[1:] {
		title, body, _ := strings.Cut(s, "\n")
		titles[title] = true
		if !strings.Contains(body, strings.Repeat("-", 80)+"\nLICENSE") && !strings.Contains(body, strings.Repeat("-", 80)+"\nCOPYING") {
			t.Errorf("%s: no license file:\n%.300s", title, body)
		}
	}
	for _, want := range []string{"Go standard library go1.", "github.com/spf13/cobra v", "github.com/miekg/dns v", "golang.org/x/net v"} {
		found := false
		for title := range titles {
			found = found || strings.HasPrefix(title, want)
		}
		if !found {
			t.Errorf("%s lacks %q: it has %v", thirdPartyName, want, titles)
		}
	}
	if !strings.Contains(string(text), "Redistributions in binary form must reproduce") {
		t.Errorf("%s lacks the BSD licenses' text", thirdPartyName)
	}
}

//go:build dist

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scriptCase is one run of a maintainer script: its arguments, whether
// systemd runs, and what it should ask of systemctl, deb-systemd-invoke and
// deb-systemd-helper, one call a line.
type scriptCase struct {
	script  string
	args    []string
	systemd bool
	want    string
}

const (
	daemonReload = "systemctl --system daemon-reload"
	updateState  = "deb-systemd-helper update-state blcheck.service"
)

var debScriptCases = []scriptCase{
	{"postinst", []string{"configure", ""}, true, updateState + "\n" + daemonReload},
	{"postinst", []string{"configure", "0.0.9-1"}, true, updateState + "\n" + daemonReload + "\ndeb-systemd-invoke try-restart blcheck.service"},
	{"postinst", []string{"configure", ""}, false, updateState},
	{"prerm", []string{"remove"}, true, "deb-systemd-invoke stop blcheck.service"},
	{"prerm", []string{"remove"}, false, ""},
	{"prerm", []string{"upgrade", "0.2.0-1"}, true, ""},
	{"postrm", []string{"remove"}, true, daemonReload},
	{"postrm", []string{"purge"}, true, "deb-systemd-helper purge blcheck.service"},
	{"postrm", []string{"upgrade", "0.2.0-1"}, true, ""},
}

var rpmScriptCases = []scriptCase{
	{"POSTIN", []string{"1"}, true, "systemctl daemon-reload"},
	{"POSTIN", []string{"1"}, false, ""},
	{"PREUN", []string{"0"}, true, "systemctl --no-reload disable --now blcheck.service"},
	{"PREUN", []string{"1"}, true, ""},
	{"POSTUN", []string{"0"}, true, "systemctl daemon-reload"},
	{"POSTUN", []string{"1"}, true, "systemctl daemon-reload\nsystemctl try-restart blcheck.service"},
	{"POSTUN", []string{"1"}, false, ""},
}

// checkDebScripts runs the deb's maintainer scripts (dpkg-deb -e) as dpkg would.
func checkDebScripts(t *testing.T, deb string) {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-e", deb, dir).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v\n%s", err, out)
	}
	for _, tc := range debScriptCases {
		checkScript(t, "deb "+tc.script, filepath.Join(dir, tc.script), tc)
	}
}

// checkRPMScripts runs the rpm's scriptlets (rpm -qp --qf %{POSTIN}...) as rpm would.
func checkRPMScripts(t *testing.T, rpm string) {
	t.Helper()
	dir := t.TempDir()
	for _, tc := range rpmScriptCases {
		out, err := exec.Command("rpm", "-qp", "--qf", "%{"+tc.script+"}", rpm).Output()
		if err != nil || string(out) == "(none)" {
			t.Errorf("rpm %%{%s}: %v %q: the rpm has no such scriptlet", tc.script, err, out)
			continue
		}
		path := filepath.Join(dir, tc.script)
		if err := os.WriteFile(path, out, 0o755); err != nil {
			t.Fatal(err)
		}
		checkScript(t, "rpm "+tc.script, path, tc)
	}
}

// checkScript runs a script with sh, as root, with stubs of the systemd tools
// first in PATH, in a mount namespace of its own (unshare -m) whose /run is
// empty, or holds /run/systemd/system when systemd is to run.
func checkScript(t *testing.T, name, script string, tc scriptCase) {
	t.Helper()
	if _, err := os.Stat(script); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the maintainer scripts' test runs as root (CI runs as root)")
		}
		t.Skip("the maintainer scripts' test needs root, for a mount namespace of its own")
	}
	stubs := t.TempDir()
	log := filepath.Join(stubs, "calls")
	for _, tool := range []string{"systemctl", "deb-systemd-invoke", "deb-systemd-helper"} {
		stub := "#!/bin/sh\necho \"${0##*/} $*\" >>\"$STUB_CALLS\"\n"
		if err := os.WriteFile(filepath.Join(stubs, tool), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	setup := "mount -t tmpfs tmpfs /run"
	if tc.systemd {
		setup += " && mkdir -p /run/systemd/system"
	}
	cmd := exec.Command("unshare", append([]string{"-m", "sh", "-c", setup + ` && exec sh "$@"`, "sh", script}, tc.args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DPKG_ROOT=") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PATH="+stubs+":/usr/sbin:/usr/bin:/sbin:/bin", "STUB_CALLS="+log)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s %q (systemd %v): %v\n%s", name, tc.args, tc.systemd, err, out)
		return
	}
	calls, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(calls)); got != tc.want {
		t.Errorf("%s %q (systemd %v) asked\n%s\nwant\n%s", name, tc.args, tc.systemd, got, tc.want)
	}
}

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

var never = map[string]string{"BLCHECK_DIRECT": "never"}

// Behind a resolver that Spamhaus refuses (127.255.255.254 for every name), an
// address on XBL is not "clean on the lists that could be used": nothing is
// listed, but the check is incomplete (exit 3), and the summary names what was
// not checked. --strict=false keeps the old rule (exit 0), and still names it.
func TestSpamhausRefusedIsIncomplete(t *testing.T) {
	srv := fakeWorld(t)
	for _, zone := range []string{"zen.spamhaus.org", "xbl.spamhaus.org", "sbl.spamhaus.org", "pbl.spamhaus.org", "dbl.spamhaus.org"} {
		srv.Wildcard(zone, "127.255.255.254")
	}
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}) // what an honest path would say
	args := []string{"192.0.2.10", "-r", srv.Addr, "--timeout", "300ms", "-l", "zen,spamcop"}
	got := runCLI(t, never, "", args...)
	if got.code != exitIncomplete {
		t.Errorf("exit %d, want 3\n%s%s", got.code, got.stdout, got.err)
	}
	for _, want := range []string{"192.0.2.10: INCOMPLETE: not checked on spamhaus-zen (1 blocked)",
		"Not checked: spamhaus-zen (1 blocked). Exit 3 (incomplete)"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, got.stdout)
		}
	}
	if strings.Contains(got.stdout, "192.0.2.10: clean") {
		t.Errorf("called clean:\n%s", got.stdout)
	}
	lenient := runCLI(t, never, "", append(args, "--strict=false")...)
	if lenient.code != 0 || !strings.Contains(lenient.stdout, "clean on the lists that could be used (1 blocked)") ||
		!strings.Contains(lenient.stdout, "Not checked: spamhaus-zen (1 blocked). Exit 0") {
		t.Errorf("--strict=false: exit %d\n%s", lenient.code, lenient.stdout)
	}
}

// With one list dropping every query, text, JSON, JSON lines and Nagios agree:
// incomplete, exit 3 (Nagios UNKNOWN), the list named. With a listing as well,
// they agree on listed (exit 1; Nagios CRITICAL at -c 1).
func TestDroppedListEveryFormatAgrees(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	for _, tc := range []struct {
		target string
		code   int
		nagios string
	}{
		{"192.0.2.99", exitIncomplete, "BLCHECK UNKNOWN - 192.0.2.99 not listed on 1 list; not checked: spamcop (1 error) |"},
		{"192.0.2.10", exitListed, "BLCHECK CRITICAL - 192.0.2.10 listed once on spamhaus-zen; not checked: spamcop (1 error) |"},
	} {
		args := []string{tc.target, "-r", srv.Addr, "--timeout", "150ms", "--retries", "0", "-l", "zen,spamcop"}
		text := runCLI(t, never, "", args...)
		if text.code != tc.code || !strings.Contains(text.stdout, "Not checked: spamcop (1 error).") {
			t.Errorf("%s text: exit %d, want %d\n%s", tc.target, text.code, tc.code, text.stdout)
		}
		js := runCLI(t, never, "", append(args, "-o", "json")...)
		var doc struct {
			Summary struct {
				ExitCode int `json:"exit_code"`
				Error    int `json:"error"`
			} `json:"summary"`
		}
		if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil || js.code != tc.code ||
			doc.Summary.ExitCode != tc.code || doc.Summary.Error != 1 {
			t.Errorf("%s json: exit %d, summary %+v, %v", tc.target, js.code, doc.Summary, err)
		}
		jl := runCLI(t, never, "", append(args, "-o", "jsonl")...)
		if jl.code != tc.code || !strings.Contains(jl.stdout, `"list":"spamcop"`) || !strings.Contains(jl.stdout, `"status":"error"`) {
			t.Errorf("%s jsonl: exit %d, want %d\n%s", tc.target, jl.code, tc.code, jl.stdout)
		}
		ng := runCLI(t, never, "", append(args, "-o", "nagios", "-c", "1")...) // one listing CRITICAL
		wantNagios := map[int]int{exitIncomplete: 3, exitListed: 2}[tc.code]
		if ng.code != wantNagios || !strings.HasPrefix(ng.stdout, tc.nagios) {
			t.Errorf("%s nagios: exit %d, want %d\n%s", tc.target, ng.code, wantNagios, ng.stdout)
		}
	}
}

// A newsletter that links to a host whose address is on PBL only: the check
// is noted, never listed, in text and JSON, and the run exits 0.
func TestLinkHostOnPBLIsNoted(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("cdn.example.test", "192.0.2.51")
	srv.List("zen.spamhaus.org", "192.0.2.51", []string{"127.0.0.10"})
	news := filepath.Join(t.TempDir(), "newsletter.html")
	if err := os.WriteFile(news, []byte(`<html><body><img src="https://cdn.example.test/logo.png"></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", news, "-r", srv.Addr, "--timeout", "300ms", "-l", "zen,dbl"}
	text := runCLI(t, never, "", args...)
	if text.code != 0 || !strings.Contains(text.stdout, "NOTED  Spamhaus ZEN (zen.spamhaus.org) 127.0.0.10\n") ||
		!strings.Contains(text.stdout, "1 noted") || strings.Contains(text.stdout, "LISTED") {
		t.Errorf("text: exit %d\n%s%s", text.code, text.stdout, text.err)
	}
	js := runCLI(t, never, "", append(args, "-o", "json")...)
	if js.code != 0 || !strings.Contains(js.stdout, `"status": "noted"`) || strings.Contains(js.stdout, `"status": "listed"`) ||
		!strings.Contains(js.stdout, `"noted": 1`) || !strings.Contains(js.stdout, `"exit_code": 0`) {
		t.Errorf("json: exit %d\n%s", js.code, js.stdout)
	}
}

func faultDrop(suffix string) dnsbltest.Fault {
	return dnsbltest.Fault{Suffix: suffix, Kind: dnsbltest.Drop}
}

// A listing below --warning on a run where a list failed is UNKNOWN in
// Nagios, never OK, and its status line names the listing, never "not listed".
func TestNagiosBelowWarningIncomplete(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	ng := runCLI(t, never, "", "192.0.2.10", "-r", srv.Addr, "--timeout", "150ms", "--retries", "0",
		"-l", "zen,spamcop", "-o", "nagios", "-w", "2", "-c", "3")
	want := "BLCHECK UNKNOWN - 192.0.2.10 listed once on spamhaus-zen (below --warning 2); not checked: spamcop (1 error) |"
	if ng.code != 3 || !strings.HasPrefix(ng.stdout, want) {
		t.Errorf("exit %d, want 3 and %q\n%s", ng.code, want, ng.stdout)
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// jsonlSummary is the summary line of -o jsonl output: the last line, and the
// only one of its type.
func jsonlSummary(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum map[string]any
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %q: %v", i+1, l, err)
		}
		if m["type"] != "summary" {
			continue
		}
		if i != len(lines)-1 || sum != nil {
			t.Fatalf("the summary line is line %d of %d: it must be the last and only one\n%s", i+1, len(lines), out)
		}
		sum = m
	}
	if sum == nil {
		t.Fatalf("no summary line:\n%s", out)
	}
	return sum
}

// -o jsonl ends with the run's summary: the JSON document's summary keys and
// values (counts, incomplete, interrupted, exit_code), so that a JSON lines
// consumer learns why a run is incomplete, in every command that prints JSON
// lines; its exit_code is the process's.
func TestJSONLinesSummary(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(dnsbltest.Fault{Suffix: "bl.spamcop.net", Kind: dnsbltest.ServFail})
	srv.List("dbl.spamhaus.org", "bad-shop.test", []string{"127.0.1.2"})
	dir := t.TempDir()
	msg := filepath.Join(dir, "news.eml") // its second part cannot be read
	os.WriteFile(msg, []byte("From: a@sender.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"+
		"--B\r\nContent-Type: text/plain\r\n\r\nsee https://one.test/x\r\n--B\r\nContent-Type: text/html\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--B--\r\n"), 0o644)
	folder := folderWithCutReport(t, filepath.Join(dir, "reports"), rfc9990) // one report, one cut short
	bounce := "554 5.7.1 Blacklisted URL in message. (bad-shop.test) see Spamhaus\n"
	r := []string{"-r", srv.Addr, "--retries", "0"}

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		why   string // in summary.incomplete
	}{
		{"a list failed for every subject", "", []string{"192.0.2.98", "192.0.2.99", "-l", "zen,spamcop"}, exitIncomplete, "spamcop"},
		{"scan: a part not read", "", []string{"scan", msg, "-l", "spamcop,dbl"}, exitIncomplete, "bad base64"},
		{"dmarc: a file not read", "", []string{"dmarc", folder, "-l", "zen"}, exitIncomplete, "cut.xml.gz not read"},
		{"bounce", bounce, []string{"bounce", "-", "-l", "dbl"}, exitListed, ""},
		{"clean", "", []string{"192.0.2.99", "-l", "zen"}, exitClean, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"BLCHECK_DIRECT": "never"}
			jl := runCLI(t, env, tc.stdin, append(append(tc.args, r...), "-o", "jsonl")...)
			sum := jsonlSummary(t, jl.stdout)
			if jl.code != tc.code || sum["exit_code"] != float64(jl.code) {
				t.Errorf("exit %d (want %d), summary exit_code %v\n%s%s", jl.code, tc.code, sum["exit_code"], jl.stdout, jl.err)
			}
			if tc.why != "" && !strings.Contains(fmt.Sprint(sum["incomplete"]), tc.why) {
				t.Errorf("summary incomplete %v lacks %q", sum["incomplete"], tc.why)
			}
			js := runCLI(t, env, tc.stdin, append(append(tc.args, r...), "-o", "json")...)
			var doc struct{ Summary map[string]any }
			if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
				t.Fatalf("json: %v\n%s", err, js.stdout)
			}
			delete(sum, "type")
			delete(sum, "dns_queries") // how many went out, not what they found
			delete(doc.Summary, "dns_queries")
			if !reflect.DeepEqual(sum, doc.Summary) {
				t.Errorf("the two formats disagree:\njsonl %v\njson  %v", sum, doc.Summary)
			}
		})
	}
}

// A run stopped by its deadline or by Ctrl-C still ends its JSON lines with
// the summary: what finished, why the rest did not, and the exit code.
func TestJSONLinesSummaryWhenStopped(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	jl := runCLI(t, map[string]string{"BLCHECK_DIRECT": "never"}, "", "-r", srv.Addr, "--timeout", "30s", "--retries", "0",
		"-l", "zen,spamcop", "--deadline", "300ms", "-o", "jsonl", "192.0.2.99")
	sum := jsonlSummary(t, jl.stdout)
	if jl.code != exitIncomplete || sum["exit_code"] != float64(exitIncomplete) ||
		!strings.Contains(fmt.Sprint(sum["incomplete"]), "the --deadline of 300ms passed before every check was answered") {
		t.Errorf("deadline: exit %d, summary %v", jl.code, sum)
	}

	srv.AddFault(faultDrop("100.51.198.zen.spamhaus.org"))
	args := []string{"192.0.2.1", "198.51.100.0/28", "203.0.113.1", "-r", srv.Addr, "-l", "zen", "-c", "16",
		"--timeout", "20s", "--retries", "0", "-o", "jsonl"}
	code, out := interruptedRun(t, srv, args)
	sum = jsonlSummary(t, out)
	if code != exitInterrupt || sum["exit_code"] != float64(exitInterrupt) || sum["interrupted"] != true ||
		!strings.Contains(fmt.Sprint(sum["incomplete"]), "the run was interrupted") {
		t.Errorf("Ctrl-C: exit %d, summary %v", code, sum)
	}
}

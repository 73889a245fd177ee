package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/bounce"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// A resolver that gets Spamhaus's refusal for every Spamhaus name (what public
// resolvers get) is not a lying resolver: ZEN is blocked, and the other lists'
// verdicts stand, so a SpamCop listing still exits 1.
func TestRefusalIsNotARewritingResolver(t *testing.T) {
	srv := fakeWorld(t)
	srv.Wildcard("zen.spamhaus.org", "127.255.255.254")
	srv.List("bl.spamcop.net", "192.0.2.10", []string{"127.0.0.2"})
	got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop,psbl", "-o", "json")
	var doc struct {
		ResolverHealth *struct{} `json:"resolver_health"`
		Targets        []struct {
			Checks []struct{ List, Status string }
		}
	}
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, c := range doc.Targets[0].Checks {
		status[c.List] = c.Status
	}
	if got.code != exitListed || doc.ResolverHealth != nil || status["spamhaus-zen"] != "blocked" || status["spamcop"] != "listed" {
		t.Errorf("exit %d, resolver_health %v, statuses %v\n%s", got.code, doc.ResolverHealth, status, got.err)
	}
	// one list answering everything is that list's fault: the others stand
	srv.Wildcard("bl.spamcop.net", "198.51.100.200")
	if got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop,psbl"); got.code == exitListed ||
		strings.Contains(got.stdout, "invents answers") {
		t.Errorf("one list answering everything behind a refusal: exit %d\n%s", got.code, got.stdout)
	}
	// a resolver that rewrites NXDOMAIN is still caught behind a refusing list
	srv.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Rewrite, Addr: "198.51.100.200"})
	if got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop,psbl"); got.code != exitIncomplete ||
		!strings.Contains(got.stdout, "invents answers") {
		t.Errorf("rewriting resolver behind a refusal: exit %d\n%s", got.code, got.stdout)
	}
}

// An answer with more than 32 A records is only partly read: an error, never a
// listing, even when an address past the 32nd would look like one.
func TestCappedAnswerIsNotAListing(t *testing.T) {
	srv := fakeWorld(t)
	var codes []string
	for i := 0; i < 32; i++ {
		codes = append(codes, fmt.Sprintf("127.0.0.%d", i+2))
	}
	codes = append(codes, "198.51.100.1") // past the 32nd: the answer is not a list's
	srv.List("bl.spamcop.net", "192.0.2.33", codes)
	got := runCLI(t, nil, "", "192.0.2.33", "-r", srv.Addr, "-l", "spamcop,psbl", "-o", "json")
	if got.code == exitListed || !strings.Contains(got.stdout, "more than 32 addresses") {
		t.Errorf("exit %d\n%s", got.code, got.stdout)
	}
}

// A domain whose MX host does not exist is said to be undeliverable through it,
// not silently clean.
func TestMissingMXHostIsANote(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("nomx.test", "192.0.2.60")
	srv.MX("nomx.test", 10, "mx.gone.test")
	srv.MX("nomx.test", 20, "mx2.nomx.test")
	srv.RR("mx2.nomx.test. 60 IN TXT \"no address here\"")
	got := runCLI(t, nil, "", "nomx.test", "-r", srv.Addr, "-l", "spamcop,dbl")
	for _, want := range []string{
		"MX host mx.gone.test does not exist (NXDOMAIN): mail sent to nomx.test through it cannot be delivered, and nothing was checked for it",
		"MX host mx2.nomx.test has no A or AAAA record",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("missing %q (exit %d)\n%s", want, got.code, got.stdout)
		}
	}
	if got.code != exitClean {
		t.Errorf("a note is not a problem: exit %d", got.code)
	}
}

// Bad values are refused before anything is queried, in plain words, and a
// subcommand's usage error points at that subcommand's help.
func TestBadValuesInPlainWords(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"\xff\xfe.com"}, "is not valid UTF-8 text"},
		{[]string{"mail.example.com:25"}, "a port (:25) is not part of a host name: give mail.example.com alone"},
		{[]string{"192.0.2.1", "--rate", "1e-300"}, "--rate 1e-300: must be 0 (no limit) or from 0.1"},
		{[]string{"192.0.2.1", "--rate", "NaN"}, "--rate NaN"},
		{[]string{"192.0.2.1", "--timeout", "100h"}, "--timeout 100h0m0s: at most 1m0s"},
		{[]string{"scan", "--bogus", "x.html"}, "Run 'blcheck scan --help' for usage."},
		{[]string{"bounce", "--bogus"}, "Run 'blcheck bounce --help' for usage."},
	}
	for _, tc := range tests {
		got := runCLI(t, nil, "", append(tc.args, "-r", "127.0.0.1:1")...)
		if got.code != exitUsage || !strings.Contains(got.err, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", tc.args, got.code, got.err, tc.want)
		}
	}
}

// Small things a newcomer met: -c=2 under nagios is --critical; lists -l shows
// only those lists; a short run says milliseconds.
func TestNewcomerDetails(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	srv.List("bl.spamcop.net", "192.0.2.10", []string{"127.0.0.2"})
	got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop", "-o", "nagios", "-w", "1", "-c=3")
	if got.code != 1 || !strings.Contains(got.stdout, "listed=2;1;3;") {
		t.Errorf("-c=3 under nagios: exit %d %s", got.code, got.stdout)
	}
	lists := runCLI(t, nil, "", "lists", "-l", "zen,spamcop")
	if lists.code != 0 || strings.Contains(lists.stdout, "psbl") || !strings.Contains(lists.stdout, "spamcop") ||
		!strings.Contains(lists.stdout, "2 lists:") {
		t.Errorf("lists -l: exit %d\n%s", lists.code, lists.stdout)
	}
	text := runCLI(t, nil, "", "192.0.2.11", "-r", srv.Addr, "-l", "zen")
	if !regexpMS.MatchString(text.stdout) {
		t.Errorf("a short run is said in milliseconds: %s", text.stdout)
	}
}

var regexpMS = regexp.MustCompile(`Exit 0 \(clean\) in \d+ms via`)

// A catalog cannot name an arbitrary environment variable as a list's key (a CI
// token would go to the catalog's own zone as a DNS label).
func TestCatalogKeyOnlyFromBlcheckVariables(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lists.yaml")
	os.WriteFile(file, []byte("- {id: evil, name: E, zone: '{key}.evil.example', kind: ip, families: [ipv4], default: true, status: active, codes: {127.0.0.2: x}, key: {env: GITHUB_TOKEN}}\n"), 0o644)
	got := runCLI(t, map[string]string{"GITHUB_TOKEN": "ghp_secret"}, "", "192.0.2.1", "--lists", file, "-r", "127.0.0.1:1")
	if got.code != exitUsage || !strings.Contains(got.err, "BLCHECK_*") || strings.Contains(got.err+got.stdout, "ghp_secret") {
		t.Errorf("exit %d, stderr %s", got.code, got.err)
	}
}

// hostileReturnedMessage is a bounce whose returned message links about 80,000
// distinct hosts (some 3.5 MB): choosing its targets must stay linear, and
// stop at bounce.MaxReturnedHosts, saying so.
func hostileReturnedMessage() []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.b.test\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\n" +
		"<a@b.test>: host mx.b.test[198.51.100.5] said: 550 5.7.1 blocked using zen.spamhaus.org\n\n" +
		"--B\nContent-Type: message/rfc822\n\nFrom: a@sender.test\nContent-Type: text/html\n\n<html><body>\n")
	for i := 0; i < 80000; i++ {
		fmt.Fprintf(&b, "<a href=\"http://link%d.example.com/\">x</a>\n", i)
	}
	b.WriteString("</body></html>\n--B--\n")
	return []byte(b.String())
}

func BenchmarkBounceTargets(b *testing.B) {
	data := hostileReturnedMessage()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rep, err := bounce.Parse(bytes.NewReader(data))
		if err != nil || rep.Returned == nil {
			b.Fatalf("%v, returned message %v", err, rep.Returned != nil)
		}
		if chosen := bounce.ChooseTargets(rep, bounce.Classify(rep, nil), nil); len(chosen.Targets) < bounce.MaxReturnedHosts || len(chosen.Unread) == 0 {
			b.Fatalf("%d targets, unread %q", len(chosen.Targets), chosen.Unread)
		}
	}
}

// --state never destroys a user's file: a typo naming another file is exit 2
// before any query, and the file is as it was.
func TestStateNeverOverwritesAUsersFile(t *testing.T) {
	srv := fakeWorld(t)
	dir := t.TempDir()
	servers := filepath.Join(dir, "servers.txt")
	os.WriteFile(servers, []byte("192.0.2.1\n"), 0o600)
	queries := srv.TotalQueries()
	got := runCLI(t, nil, "", "192.0.2.1", "-r", srv.Addr, "-l", "zen", "--state", servers)
	if got.code != exitUsage || !strings.Contains(got.err, "--state "+servers+": is not a blcheck state file") {
		t.Errorf("exit %d, stderr %s", got.code, got.err)
	}
	if b, _ := os.ReadFile(servers); string(b) != "192.0.2.1\n" {
		t.Errorf("servers.txt is now %q", b)
	}
	if srv.TotalQueries() != queries {
		t.Errorf("queries were sent before the bad --state was refused")
	}
	got = runCLI(t, nil, "", "192.0.2.1", "-r", srv.Addr, "-l", "zen", "--state", filepath.Join(dir, "no", "such", "state.json"))
	if got.code != exitUsage || !strings.Contains(got.err, "its directory cannot be written") {
		t.Errorf("unwritable directory: exit %d, stderr %s", got.code, got.err)
	}
}

// failingWriter is stdout on a full disk or a closed pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// Output that cannot be written is an error on stderr and a non-zero exit in
// every format; jsonl with --state still saves the state of what was checked.
func TestOutputThatCannotBeWritten(t *testing.T) {
	srv := fakeWorld(t)
	state := filepath.Join(t.TempDir(), "state.json")
	for _, format := range []string{"text", "json", "jsonl", "nagios"} {
		var errb bytes.Buffer
		s := &streams{in: strings.NewReader(""), out: failingWriter{}, err: &errb, getenv: func(string) string { return "" }}
		args := []string{"192.0.2.99", "-r", srv.Addr, "-l", "zen", "-o", format}
		if format == "jsonl" {
			args = append(args, "--state", state)
		}
		code := run(context.Background(), args, s)
		if code == exitClean || !strings.Contains(errb.String(), "cannot write the output: no space left on device") {
			t.Errorf("%s: exit %d, stderr %q", format, code, errb.String())
		}
	}
	if b, err := os.ReadFile(state); err != nil || !strings.Contains(string(b), "192.0.2.99 spamhaus-zen") {
		t.Errorf("jsonl with --state must still save the state: %v %s", err, b)
	}
}

// Ctrl-C mid-run: every format says which targets were finished, which were cut
// short and how far they got, and which never started; none of those is clean,
// and the exit code is 130.
func TestInterruptedRunIsNeverClean(t *testing.T) {
	args := []string{"192.0.2.1", "198.51.100.0/28"}
	for i := 1; i <= 60; i++ {
		args = append(args, fmt.Sprintf("203.0.113.%d", i))
	}
	args = append(args, "-l", "zen", "-c", "16", "--timeout", "20s", "--retries", "0")
	// each run its own server, which has seen none of its questions
	interrupted := func(format string) (int, string) {
		srv := fakeWorld(t)
		// the range and 60 addresses after it hang, so the window fills and the last never start
		srv.AddFault(dnsbltest.Fault{Suffix: "100.51.198.zen.spamhaus.org", Kind: dnsbltest.Drop})
		srv.AddFault(dnsbltest.Fault{Suffix: "113.0.203.zen.spamhaus.org", Kind: dnsbltest.Drop})
		return interruptedRun(t, srv, append(args, "-r", srv.Addr, "-o", format))
	}

	code, text := interrupted("text")
	// 192.0.2.1 was answered, but its verdict may still have waited behind the
	// hung queries when the run stopped: it is either clean or interrupted
	if code != exitInterrupt || !strings.Contains(text, "198.51.100.0/28: INTERRUPTED: not fully checked,") ||
		!strings.Contains(text, "of 16 addresses checked") || !strings.Contains(text, ": NOT CHECKED: the run was interrupted before it began") ||
		!notStartedSummedUp(text) ||
		!regexp.MustCompile(`Interrupted: [01] targets? finished, \d+ cut short, \d+ not started`).MatchString(text) ||
		regexp.MustCompile(`(203\.0\.113\.\d+|198\.51\.100\.0/28): clean`).MatchString(text) ||
		strings.Contains(text, "no applicable list") || strings.Contains(text, "no list asked") ||
		strings.Contains(text, "the resolver, or the path to it, is at fault") || !strings.Contains(text, "Exit 130 (interrupted)") {
		t.Errorf("text: exit %d\n%s", code, text)
	}

	code, js := interrupted("json")
	checkInterruptedJSON(t, code, js)

	code, jl := interrupted("jsonl")
	if code != exitInterrupt || !strings.Contains(jl, `"type":"target","target":"198.51.100.0/28","kind":"cidr"`) ||
		!strings.Contains(jl, `"target":"203.0.113.60","kind":"ip","problems":[],"notes":[],"interrupted":true,"progress":{"started":false`) {
		t.Errorf("jsonl: exit %d\n%s", code, jl)
	}

	code, ng := interrupted("nagios")
	if code != exitInterrupt || !strings.HasPrefix(ng, "BLCHECK UNKNOWN - interrupted: ") {
		t.Errorf("nagios: exit %d\n%s", code, ng)
	}
}

// interruptedRun runs blcheck with args and interrupts it once its window is
// full of hung queries: the exit code and what it printed. The run is under
// way once srv has seen twelve questions it had not seen before: counted as
// different questions, not packets (the hung queries' copies, sent again
// after each RTO, would reach twelve before the run does; and a server that
// an earlier run used has its packets already).
// notStartedSummedUp: the text of a stopped run names at most ten targets it
// never began, and counts the rest in one line.
func notStartedSummedUp(text string) bool {
	m := regexp.MustCompile(`, (\d+) not started`).FindStringSubmatch(text)
	if m == nil {
		return false
	}
	n, _ := strconv.Atoi(m[1])
	named := strings.Count(text, "NOT CHECKED: the run was interrupted before it began")
	if n <= 10 {
		return named == n
	}
	return named == 10 && strings.Contains(text, fmt.Sprintf("... and %d more targets not checked", n-10))
}

func interruptedRun(t *testing.T, srv *dnsbltest.Server, args []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	s := &streams{in: strings.NewReader(""), out: &out, err: &errb, getenv: func(string) string { return "" }}
	done := make(chan int)
	seen := srv.Questions()
	go func() { done <- run(ctx, args, s) }()
	for bound := time.Now().Add(15 * time.Second); srv.Questions() < seen+12; { // the bound only ends a failing test
		if time.Now().After(bound) {
			cancel()
			t.Fatalf("the run asked %d new questions in 15s, want 12", srv.Questions()-seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // its window fills with hung queries (the verdicts do not depend on how far)
	cancel()
	select {
	case code := <-done:
		return code, out.String()
	case <-time.After(15 * time.Second): // a bound on the test, under the queries' 20 s timeout: not a measure
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		t.Fatal("the run went on after it was interrupted")
	}
	return 0, ""
}

// checkInterruptedJSON holds an interrupted run's JSON to what it finished,
// cut short and never started.
func checkInterruptedJSON(t *testing.T, code int, js string) {
	t.Helper()
	var doc struct {
		Targets []struct {
			Input       string
			Interrupted bool
			Progress    *struct {
				Started         bool
				SubjectsChecked int `json:"subjects_checked"`
				SubjectsTotal   int `json:"subjects_total"`
			}
		}
		Summary struct{ Interrupted bool }
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || code != exitInterrupt || !doc.Summary.Interrupted {
		t.Fatalf("json: exit %d %v\n%s", code, err, js)
	}
	states := map[string]string{}
	for _, tg := range doc.Targets {
		switch {
		case !tg.Interrupted:
			states[tg.Input] = "finished"
		case tg.Progress != nil && tg.Progress.Started:
			states[tg.Input] = fmt.Sprintf("cut %d/%d", tg.Progress.SubjectsChecked, tg.Progress.SubjectsTotal)
		default:
			states[tg.Input] = "not started"
		}
	}
	for input, st := range states {
		if st == "finished" && input != "192.0.2.1" {
			t.Errorf("%s could not have finished", input)
		}
	}
	if !strings.HasPrefix(states["198.51.100.0/28"], "cut ") ||
		!strings.HasSuffix(states["198.51.100.0/28"], "/16") || states["203.0.113.60"] != "not started" || len(doc.Targets) != 62 {
		t.Errorf("json targets: %v", states)
	}

}

// Cron with --state: a list that begins failing on every query is news.
func TestStateReportsAListThatStopsAnswering(t *testing.T) {
	srv := fakeWorld(t)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"192.0.2.99", "-r", srv.Addr, "-l", "zen,spamcop", "-q", "--state", state, "--retries", "0"}
	if got := runCLI(t, nil, "", args...); got.code != exitClean || got.stdout != "" {
		t.Fatalf("first run: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	srv.AddFault(dnsbltest.Fault{Suffix: "bl.spamcop.net", Kind: dnsbltest.ServFail})
	got := runCLI(t, nil, "", args...)
	if !strings.Contains(got.stdout, "LIST FAILING SpamCop Blocking List (bl.spamcop.net)") {
		t.Errorf("second run: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
}

// Words that cannot lie: a blocked check is named with its list and reason,
// also with -q; Nagios says which lists could not be checked, UNKNOWN by the
// default (strict) rule and OK with --strict=false; a bounce with nothing to
// check, or whose every query failed, says so and exits 3.
func TestHonestWords(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("bl.spamcop.net", "192.0.2.77", []string{"127.0.0.1"}) // no refusal code of SpamCop's: undocumented listing
	srv.List("zen.spamhaus.org", "192.0.2.77", []string{"127.255.255.254"})
	quiet := runCLI(t, nil, "", "192.0.2.77", "-r", srv.Addr, "-l", "zen,psbl", "-q")
	if !strings.Contains(quiet.stdout, "BLOCKED Spamhaus ZEN (zen.spamhaus.org): 127.255.255.254: Spamhaus refuses queries") {
		t.Errorf("-q must name a single blocked check: exit %d\n%s", quiet.code, quiet.stdout)
	}

	srv.AddFault(dnsbltest.Fault{Suffix: "psbl.surriel.com", Kind: dnsbltest.ServFail})
	args := []string{"192.0.2.78", "-r", srv.Addr, "-l", "zen,spamcop,psbl", "-o", "nagios", "--retries", "0"}
	lenient := runCLI(t, nil, "", append(args, "--strict=false")...)
	if lenient.code != 0 || !strings.HasPrefix(lenient.stdout, "BLCHECK OK - 192.0.2.78 not listed on 2 lists; not checked: psbl (1 error) |") {
		t.Errorf("nagios --strict=false: exit %d %s", lenient.code, lenient.stdout)
	}
	strict := runCLI(t, nil, "", args...)
	if strict.code != 3 || !strings.HasPrefix(strict.stdout, "BLCHECK UNKNOWN - 192.0.2.78 not listed on 2 lists; not checked: psbl (1 error) |") {
		t.Errorf("nagios: exit %d %s", strict.code, strict.stdout)
	}

	nothing := runCLI(t, nil, "<a@b.test>: host mx.b.test[198.51.100.5] said: 550 5.7.1 rejected, see dnsbl.sorbs.net\n",
		"bounce", "-", "-r", srv.Addr)
	if nothing.code != exitIncomplete || !strings.Contains(nothing.stdout, "shows no address or domain of yours to check") ||
		!strings.Contains(nothing.stdout, "The bounce names SORBS, which no longer works") || strings.Contains(nothing.stdout, "Nothing checked is listed") {
		t.Errorf("bounce with nothing to check: exit %d\n%s", nothing.code, nothing.stdout)
	}
	failed := runCLI(t, nil, "<a@b.test>: host mx.b.test[198.51.100.5] said: 550 5.7.1 Client host [192.0.2.79] blocked using bl.spamcop.net\n",
		"bounce", "-", "-r", "127.0.0.1:1", "--retries", "0", "--timeout", "200ms")
	if failed.code != exitIncomplete || !strings.Contains(failed.stdout, "The lists could not be asked") ||
		strings.Contains(failed.stdout, "may have expired") {
		t.Errorf("bounce with every query failed: exit %d\n%s", failed.code, failed.stdout)
	}
}

// --file is validated in one pass and read again as it is checked: no target
// of a file is held in memory (a million-line file took 814 MB with -o jsonl).
func TestFileTargetsAreStreamed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "targets.txt")
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "198.51.%d.%d # host %d\n", i/256, i%256, i)
	}
	b.WriteString("2001:db8::1\n203.0.113.0/30\nexample.com\n")
	os.WriteFile(file, []byte(b.String()), 0o644)
	o := &checkOptions{files: []string{file}}
	in, err := o.targets(&streams{in: strings.NewReader("")}, []string{"192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.fixed) != 1 || in.count != 1004 || in.v4 != 1005 || in.v6 != 1 || in.domains != 1 || !in.ranges {
		t.Errorf("first pass: %d kept, counts %+v", len(in.fixed), *in)
	}
	var got []string
	for tg := range in.seq() {
		got = append(got, tg.Input)
	}
	if len(got) != 1004 || got[0] != "192.0.2.1" || got[1] != "198.51.0.0" || got[1003] != "example.com" {
		t.Errorf("second pass: %d targets, %v ... %v", len(got), got[:2], got[len(got)-1])
	}
	// a file that changes between the passes is said, never silently short
	os.WriteFile(file, []byte("192.0.2.1\nnot a target!\n"), 0o644)
	n := 0
	for range in.seq() {
		n++
	}
	if len(in.changed) != 1 || !strings.Contains(in.changed[0], "changed while it was checked") {
		t.Errorf("changed file: %d targets, %q", n, in.changed)
	}
	// a file cut short between the passes reads well, but not all of it was checked
	in.changed = nil
	os.WriteFile(file, []byte("192.0.2.1\n"), 0o644)
	for range in.seq() {
	}
	if len(in.changed) != 1 || !strings.Contains(in.changed[0], "it held 1003 targets, then 1") {
		t.Errorf("shortened file: %q", in.changed)
	}
}

// BenchmarkFileJSONLines checks a 200,000-line --file with -o jsonl against
// the in-process server and reports the peak heap, which stays flat (it grew
// with the file before the targets were streamed).
func BenchmarkFileJSONLines(b *testing.B) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.Zone("bl.spamcop.net", "127.0.0.2")
	file := filepath.Join(b.TempDir(), "targets.txt")
	var sb strings.Builder
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(&sb, "10.%d.%d.%d\n", i>>16, (i>>8)&255, i&255)
	}
	os.WriteFile(file, []byte(sb.String()), 0o644)
	stop := heapPeak()
	for b.Loop() {
		s := &streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard, getenv: func(string) string { return "" }}
		if code := run(context.Background(), []string{"--file", file, "-r", srv.Addr, "-l", "spamcop", "-o", "jsonl",
			"--rate", "0", "--allow-private", "--timeout", "2s"}, s); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(stop())/(1<<20), "MiB-peak-heap")
}

// A MIME part that could not be read makes scan and bounce incomplete: its
// links were never checked, so the run is never a clean exit 0.
func TestUnreadablePartIsIncomplete(t *testing.T) {
	srv := fakeWorld(t)
	dir := t.TempDir()
	msg := filepath.Join(dir, "news.eml")
	os.WriteFile(msg, []byte("From: a@sender.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"+
		"--B\r\nContent-Type: text/plain\r\n\r\nsee https://one.test/x\r\n--B\r\nContent-Type: text/html\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--B--\r\n"), 0o644)
	got := runCLI(t, nil, "", "scan", msg, "-r", srv.Addr, "-l", "spamcop,dbl")
	if got.code != exitIncomplete || !strings.Contains(got.stdout, "Not checked, so the result is incomplete:") ||
		!strings.Contains(got.stdout, msg+": part 2 (text/html): bad base64") {
		t.Errorf("scan: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	js := runCLI(t, nil, "", "scan", msg, "-r", srv.Addr, "-l", "spamcop,dbl", "-o", "json")
	if js.code != exitIncomplete || !strings.Contains(js.stdout, `"incomplete": [`) || !strings.Contains(js.stdout, "bad base64") {
		t.Errorf("scan json: exit %d\n%s", js.code, js.stdout)
	}
}

// scan --format github: one annotation per listed finding and place, with its
// lists in the text (not one per list), at most ten with a notice for the rest,
// the line in the file for a MIME part, and a Markdown step summary.
func TestGitHubAnnotations(t *testing.T) {
	srv := fakeWorld(t)
	for _, d := range []string{"bad1.test", "bad2.test", "bad3.test"} {
		srv.List("dbl.spamhaus.org", d, []string{"127.0.1.4"})
		srv.List("multi.surbl.org", d, []string{"127.0.0.8"})
	}
	var html strings.Builder
	html.WriteString("<html><body>\n")
	for i := 0; i < 4; i++ {
		for _, d := range []string{"bad1.test", "bad2.test", "bad3.test"} {
			fmt.Fprintf(&html, "<a href=\"https://www.%s/p%d\">x</a>\n", d, i)
		}
	}
	html.WriteString("</body></html>\n")
	dir := t.TempDir()
	page := filepath.Join(dir, "news.html")
	os.WriteFile(page, []byte(html.String()), 0o644)
	summary := filepath.Join(dir, "summary.md")
	got := runCLI(t, map[string]string{"GITHUB_STEP_SUMMARY": summary}, "", "scan", page, "-r", srv.Addr,
		"-l", "dbl,surbl", "--format", "github")
	if got.code != exitListed {
		t.Fatalf("exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	errorsOut := strings.Count(got.stdout, "::error ")
	if errorsOut != 10 || !strings.Contains(got.stdout, "2 more listed places and 0 more problems are not annotated") ||
		!strings.Contains(got.stdout, "is listed on spamhaus-dbl (phishing domain), surbl (PH: phishing)") {
		t.Errorf("%d error annotations\n%s", errorsOut, got.stdout)
	}
	md, err := os.ReadFile(summary)
	if err != nil || !strings.Contains(string(md), "| Listed | On | Where | Delist |") ||
		!strings.Contains(string(md), "| www.bad1.test | spamhaus-dbl (phishing domain); surbl (PH: phishing) |") {
		t.Errorf("step summary: %v\n%s", err, md)
	}

	// a finding inside a base64 MIME part points at the part's line in the file
	msg := filepath.Join(dir, "news.eml")
	os.WriteFile(msg, []byte("From: a@sender.test\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"+
		"--B\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n"+
		"PGEgaHJlZj0iaHR0cHM6Ly9iYWQxLnRlc3QvIj54PC9hPgo=\n--B--\n"), 0o644) // <a href="https://bad1.test/">x</a>
	got = runCLI(t, nil, "", "scan", msg, "-r", srv.Addr, "-l", "dbl", "--format", "github")
	if !strings.Contains(got.stdout, "::error file="+ghEscape(msg)+",line=9,") {
		t.Errorf("MIME part line:\n%s", got.stdout)
	}
}

func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", ":", "%3A", ",", "%2C").Replace(s)
}

// -o jsonl says why a run is incomplete: a target's problems are a line of
// their own, with "type": "target".
func TestJSONLinesCarryProblems(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("mxfail.test", "192.0.2.80")
	srv.AddFault(dnsbltest.Fault{Suffix: "mxfail.test", Type: "MX", Kind: dnsbltest.ServFail})
	got := runCLI(t, nil, "", "mxfail.test", "-r", srv.Addr, "-l", "spamcop", "-o", "jsonl", "--retries", "0")
	var line struct {
		Type, Target string
		Problems     []string
	}
	for _, l := range strings.Split(strings.TrimSpace(got.stdout), "\n") {
		if strings.Contains(l, `"type":"target"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.code != exitIncomplete || line.Target != "mxfail.test" || len(line.Problems) != 1 ||
		!strings.Contains(line.Problems[0], "MX lookup for mxfail.test failed: SERVFAIL") {
		t.Errorf("exit %d, target line %+v\n%s", got.code, line, got.stdout)
	}
}

// A domain the rejection names is checked, on the domain lists.
func TestBounceChecksTheNamedDomain(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("dbl.spamhaus.org", "bad-shop.test", []string{"127.0.1.2"})
	got := runCLI(t, nil, "<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: "+
		"554 5.7.1 Blacklisted URL in message. (bad-shop.test) see Spamhaus\n", "bounce", "-", "-r", srv.Addr, "-l", "dbl")
	if got.code != exitListed || !strings.Contains(got.stdout, "bad-shop.test, named in the rejection") {
		t.Errorf("exit %d\n%s%s", got.code, got.stdout, got.err)
	}
}

// --ptr checks each address's reverse DNS (PTR exists and forward-confirms);
// a bounce about reverse DNS checks it by itself and says so, not a listing.
func TestReverseDNS(t *testing.T) {
	srv := fakeWorld(t)
	srv.RR("90.2.0.192.in-addr.arpa. 60 IN PTR mail.good.test.")
	srv.A("mail.good.test", "192.0.2.90")
	srv.RR("91.2.0.192.in-addr.arpa. 60 IN PTR host-91.isp.test.")
	srv.A("host-91.isp.test", "198.51.100.91")
	var doc struct {
		Targets []struct {
			Input string
			Notes []string
		}
	}
	srv.AddFault(dnsbltest.Fault{Suffix: "93.2.0.192.in-addr.arpa", Kind: dnsbltest.ServFail})
	got := runCLI(t, nil, "", "192.0.2.90", "192.0.2.91", "192.0.2.92", "192.0.2.93", "-r", srv.Addr, "-l", "spamcop",
		"--ptr", "-o", "json", "--retries", "0")
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil || got.code != exitClean {
		t.Fatalf("exit %d %v\n%s", got.code, err, got.stdout)
	}
	want := map[string]string{
		"192.0.2.90": "has reverse DNS mail.good.test, which resolves back to it (forward-confirmed)",
		"192.0.2.91": "has reverse DNS host-91.isp.test, which does not resolve back to it",
		"192.0.2.92": "has no reverse DNS (no PTR record)",
		"192.0.2.93": "reverse DNS of 192.0.2.93 could not be checked: SERVFAIL", // a failure is never "no PTR"
	}
	for _, tg := range doc.Targets {
		if len(tg.Notes) != 1 || !strings.Contains(tg.Notes[0], want[tg.Input]) {
			t.Errorf("%s: notes %q, want %q", tg.Input, tg.Notes, want[tg.Input])
		}
	}
	bounce := runCLI(t, nil, "<ivan@receiver.example>: host gmail-smtp-in.l.google.com[198.51.100.26] said: 550-5.7.25 "+
		"[192.0.2.92] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS "+
		"entry does not point to the sending IP.\n", "bounce", "-", "-r", srv.Addr, "-l", "spamcop")
	if !strings.Contains(bounce.stdout, "refused the mail for the sending address's reverse DNS, not for a listing: "+
		"192.0.2.92 has no reverse DNS") {
		t.Errorf("bounce about rDNS: exit %d\n%s", bounce.code, bounce.stdout)
	}
}

// A bounce diagnosis that found nothing listed says when part of it could not
// be checked, instead of sounding complete.
func TestBounceSaysWhatWasNotChecked(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(dnsbltest.Fault{Suffix: "gone-shop.test", Kind: dnsbltest.ServFail})
	got := runCLI(t, nil, "<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: "+
		"554 5.7.1 Client host [192.0.2.95] blocked using bl.spamcop.net; Blacklisted URL (gone-shop.test)\n",
		"bounce", "-", "-r", srv.Addr, "-l", "spamcop,dbl", "--retries", "0")
	if got.code != exitIncomplete || !strings.Contains(got.stdout, "Some of it could not be checked") {
		t.Errorf("exit %d\n%s", got.code, got.stdout)
	}
}

// The library names no CLI flag; the CLI adds its hints, so what users read is
// the same: --resolver for a machine without a resolver, --allow-private for a
// private address from DNS.
func TestCLIAddsItsHints(t *testing.T) {
	got := runCLI(t, nil, "", "192.0.2.10")
	if got.code != exitIncomplete || !strings.Contains(got.err, "cannot read the system resolver") || !strings.Contains(got.err, "(use --resolver)") {
		t.Errorf("exit %d, stderr %q", got.code, got.err)
	}
	srv := fakeWorld(t)
	srv.A("private.test", "10.0.0.1")
	js := runCLI(t, nil, "", "private.test", "-r", srv.Addr, "-l", "spamcop", "-o", "jsonl")
	if !strings.Contains(js.stdout, "from DNS: not sent to public lists (--allow-private sends it)") {
		t.Errorf("jsonl:\n%s", js.stdout)
	}
}

// A bounce whose list blcheck could not ask never ends clean: a zone no
// catalog list holds, or a keyed list named without its key (and no public
// mirror of it asked), leaves the diagnosis incomplete (exit 3), and says so.
func TestBounceNamesAListNotAsked(t *testing.T) {
	srv := fakeWorld(t)
	for _, tt := range []struct{ name, text, want string }{
		{"unknown zone", "554 5.7.1 Service unavailable; Client host [192.0.2.95] blocked using hostkarma.junkemailfilter.com\n",
			"hostkarma.junkemailfilter.com, a list blcheck does not know: it was not asked"},
		{"keyed, no key", "554 5.7.1 Service unavailable; Client host [192.0.2.95] blocked using " +
			"0123456789abcdef0123456789abcdef.combined.mail.abusix.zone\n",
			"Abusix Mail Intelligence combined, which needs an account key: set $BLCHECK_ABUSIX_KEY to ask it"},
		{"domain list, no domain", "554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using dbl.spamhaus.org\n",
			"the bounce names Spamhaus DBL, a domain list, and shows no domain of the sender's to ask it about: it was not asked"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, nil, tt.text, "bounce", "-", "-r", srv.Addr, "-l", "spamcop", "--retries", "0")
			if got.code != exitIncomplete || !strings.Contains(got.stdout, tt.want) || strings.Contains(got.stdout, "names no list") ||
				strings.Contains(got.stdout, "0123456789abcdef") && !strings.Contains(got.stdout, "rejected your mail") {
				t.Errorf("exit %d\n%s", got.code, got.stdout)
			}
			js := runCLI(t, nil, tt.text, "bounce", "-", "-r", srv.Addr, "-l", "spamcop", "--retries", "0", "-o", "json")
			var doc struct{ Summary struct{ Incomplete []string } }
			if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil || js.code != exitIncomplete ||
				!slices.ContainsFunc(doc.Summary.Incomplete, func(r string) bool { return strings.Contains(r, tt.want) }) {
				t.Errorf("-o json: exit %d, want %d and %q in incomplete (%v)\n%s", js.code, exitIncomplete, tt.want, err, js.stdout)
			}
			// a streamed run keeps no check: what asked the list is seen as it comes
			if jl := runCLI(t, nil, tt.text, "bounce", "-", "-r", srv.Addr, "-l", "spamcop", "--retries", "0", "-o", "jsonl"); jl.code != exitIncomplete {
				t.Errorf("-o jsonl: exit %d, want %d\n%s", jl.code, exitIncomplete, jl.stdout)
			}
		})
	}
}

// lists --probe cut short by Ctrl-C exits 130 and says so: a list whose probe
// was cut short is not known to be unhealthy (exit 3 said it was).
func TestProbeInterrupted(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	s := &streams{in: strings.NewReader(""), out: &out, err: &errb, getenv: func(string) string { return "" }}
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"lists", "--probe", "-r", srv.Addr, "-l", "zen,spamcop", "--timeout", "20s", "--retries", "0"}, s)
	}()
	for srv.Questions() < 4 { // zen answered, spamcop's probes hang (their copies are not counted)
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != exitInterrupt || !strings.Contains(out.String(), "Interrupted:") {
			t.Errorf("exit %d, want 130\n%s%s", code, out.String(), errb.String())
		}
	case <-time.After(15 * time.Second): // a bound on the test, under the queries' 20 s timeout: not a measure
		t.Fatal("the probe went on after it was interrupted")
	}
}

package cli

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// runWith runs the CLI as runCLI does, with streams a test adjusts.
func runWith(t *testing.T, env map[string]string, adjust func(*streams), args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	s := &streams{
		in: strings.NewReader(""), out: &out, err: &errb,
		getenv: func(k string) string { return env[k] },
		resolv: filepath.Join(t.TempDir(), "no-resolv.conf"),
	}
	if adjust != nil {
		adjust(s)
	}
	code := run(context.Background(), args, s)
	return result{code, out.String(), errb.String()}
}

// TestOurWords: a value a flag cannot take is said in blcheck's words, naming
// the flag and the value (Go's strconv and time messages never leak out), and
// --resolver takes a host name, as its help says.
func TestOurWords(t *testing.T) {
	srv := fakeWorld(t)
	_, port, _ := net.SplitHostPort(srv.Addr)
	noHost := func(s *streams) {
		s.lookup = func(context.Context, string) ([]netip.Addr, error) {
			return nil, &net.DNSError{Err: "no such host", Name: "resolver.example.net", IsNotFound: true}
		}
	}
	tests := []struct {
		name   string
		adjust func(*streams)
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"rate", nil, []string{"--rate", "abc", "192.0.2.1"}, 2, "", `--rate "abc": not a number`},
		{"timeout", nil, []string{"--timeout", "abc", "192.0.2.1"}, 2, "", `--timeout "abc": not a duration: a number and a unit, e.g. 500ms`},
		{"retries", nil, []string{"--retries", "x", "192.0.2.1"}, 2, "", `--retries "x": not a whole number`},
		{"concurrency by its short name", nil, []string{"-c", "x", "192.0.2.1"}, 2, "", `--concurrency (-c) "x": not a whole number`},
		{"strict", nil, []string{"--strict=maybe", "192.0.2.1"}, 2, "", `--strict "maybe": use true or false`},
		{"nagios warning", nil, []string{"-o", "nagios", "-w", "x", "192.0.2.1"}, 3, `BLCHECK UNKNOWN - --warning (-w) "x": not a whole number`,
			`--warning (-w) "x": not a whole number`},
		{"scan too", nil, []string{"scan", "--rate", "fast", "x.eml"}, 2, "", `--rate "fast": not a number`},
		{"resolver by name", nil, []string{"-r", "localhost:" + port, "-l", "zen", "-o", "json", "192.0.2.99"}, 0,
			`"127.0.0.1:` + port + `"`, ""},
		{"resolver name unknown", noHost, []string{"-r", "resolver.example.net", "192.0.2.1"}, 2, "",
			`--resolver "resolver.example.net": the system cannot resolve resolver.example.net (no such host)`},
		{"resolver not a name", nil, []string{"-r", "dns..example", "192.0.2.1"}, 2, "", `--resolver "dns..example": not an address or a host name`},
		// a mistyped address is no name to send to the system's DNS (noHost would answer)
		{"resolver address mistyped", noHost, []string{"-r", "999.1.1.1", "192.0.2.1"}, 2, "",
			`--resolver "999.1.1.1": not an address or a host name`},
		{"resolver address mistyped, with a port", noHost, []string{"-r", "192.0.2.300:53", "192.0.2.1"}, 2, "",
			`--resolver "192.0.2.300:53": not an address or a host name`},
		{"resolver bad port", nil, []string{"-r", "localhost:99999", "192.0.2.1"}, 2, "", `port "99999" is not a number from 1 to 65535`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, tc.adjust, tc.args...)
			if got.code != tc.code || !strings.Contains(got.stdout, tc.stdout) || !strings.Contains(got.err, tc.stderr) {
				t.Fatalf("exit %d, want %d with %q / %q\nstdout:\n%s\nstderr:\n%s", got.code, tc.code, tc.stdout, tc.stderr, got.stdout, got.err)
			}
			for _, leak := range []string{"strconv.", "time: invalid", "invalid argument"} {
				if strings.Contains(got.err, leak) {
					t.Errorf("Go's words leak out: %s", got.err)
				}
			}
		})
	}
}

// TestNagiosThresholds: by default one listing is WARNING and two CRITICAL, so
// each state can happen; -w above -c is a usage error, UNKNOWN to Nagios.
func TestNagiosThresholds(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	srv.List("zen.spamhaus.org", "192.0.2.11", []string{"127.0.0.4"})
	srv.List("bl.spamcop.net", "192.0.2.11", []string{"127.0.0.2"})
	r := []string{"-r", srv.Addr, "-o", "nagios", "-l", "zen,spamcop"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"one listing warns", []string{"192.0.2.10"}, 1, "BLCHECK WARNING", ""},
		{"two are critical", []string{"192.0.2.11"}, 2, "BLCHECK CRITICAL", ""},
		{"none is OK", []string{"192.0.2.99"}, 0, "BLCHECK OK", ""},
		{"-c 1 makes one critical", []string{"-c", "1", "192.0.2.10"}, 2, "BLCHECK CRITICAL", ""},
		{"-w above -c", []string{"-w", "3", "-c", "2", "192.0.2.10"}, 3, "BLCHECK UNKNOWN - --warning 3 is more than --critical 2", "--warning 3 is more than --critical 2"},
		{"-w above the default -c", []string{"-w", "3", "192.0.2.10"}, 3, "BLCHECK UNKNOWN - ", "--warning 3 is more than --critical 2"},
		{"-w 0", []string{"-w", "0", "192.0.2.10"}, 3, "BLCHECK UNKNOWN - ", "1 or more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, append(r, tc.args...)...)
			if got.code != tc.code || !strings.Contains(got.stdout, tc.stdout) || !strings.Contains(got.err, tc.stderr) {
				t.Fatalf("exit %d, want %d with %q / %q\nstdout:\n%s\nstderr:\n%s", got.code, tc.code, tc.stdout, tc.stderr, got.stdout, got.err)
			}
		})
	}
}

// TestFlagsFromEnvironment: every flag of the checking commands can be set by
// BLCHECK_<FLAG>; a flag on the command line wins, and a bad value names the
// variable.
func TestFlagsFromEnvironment(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	base := map[string]string{"BLCHECK_DIRECT": "never", "BLCHECK_RESOLVER": srv.Addr, "BLCHECK_LIST": "zen"}
	other := fakeWorld(t) // a second resolver
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"resolver and list from the environment", base, []string{"-o", "json", "192.0.2.99"}, 0, `"list": "spamhaus-zen"`, ""},
		{"only those lists", base, []string{"192.0.2.99"}, 0, "1 check", ""},
		{"a flag wins", with("BLCHECK_LIST", "nope"), []string{"-l", "zen", "192.0.2.99"}, 0, "1 check", ""},
		{"format", with("BLCHECK_FORMAT", "nagios", "BLCHECK_CRITICAL", "1"), []string{"192.0.2.10"}, 2, "BLCHECK CRITICAL", ""},
		{"a bool", with("BLCHECK_QUIET", "true"), []string{"192.0.2.99"}, 0, "", ""},
		{"two resolvers, comma-separated", with("BLCHECK_RESOLVER", srv.Addr+","+other.Addr), []string{"-o", "json", "192.0.2.99"}, 0,
			`"resolver": [
    "` + srv.Addr + `",
    "` + other.Addr + `"`, ""},
		{"an empty variable is not set", with("BLCHECK_TIMEOUT", ""), []string{"192.0.2.99"}, 0, "1 check", ""},
		{"a bad number names the variable", with("BLCHECK_RATE", "abc"), []string{"192.0.2.99"}, 2, "", `BLCHECK_RATE="abc": not a number`},
		{"a bad duration names the variable", with("BLCHECK_TIMEOUT", "5"), []string{"192.0.2.99"}, 2, "", `BLCHECK_TIMEOUT="5": not a duration`},
		{"a bad value checked later says where it came from", with("BLCHECK_FORMAT", "xml"), []string{"192.0.2.99"}, 2, "",
			"--format came from the environment: BLCHECK_FORMAT=xml"},
		{"an unknown list says where it came from", with("BLCHECK_LIST", "nope"), []string{"192.0.2.99"}, 2, "",
			"--list came from the environment: BLCHECK_LIST=nope"},
		{"scan too", with("BLCHECK_RATE", "x"), []string{"scan", "x.eml"}, 2, "", `BLCHECK_RATE="x"`},
		{"lists too", with("BLCHECK_FORMAT", "json", "BLCHECK_LIST", ""), []string{"lists"}, 0, `"id": "spamhaus-zen"`, ""},
		{"version is not a checking command", with("BLCHECK_RATE", "x"), []string{"version"}, 0, "blcheck", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runWith(t, tc.env, nil, tc.args...)
			if got.code != tc.code || !strings.Contains(got.stdout, tc.stdout) || !strings.Contains(got.err, tc.stderr) {
				t.Fatalf("exit %d, want %d with %q / %q\nstdout:\n%s\nstderr:\n%s", got.code, tc.code, tc.stdout, tc.stderr, got.stdout, got.err)
			}
		})
	}
	// exit 3's reasons in check's help are the README's: the deadline and the
	// state file too; --deadline says what 0 is
	help := strings.Join(strings.Fields(runWith(t, nil, nil, "check", "--help").stdout), " ")
	for _, want := range []string{"the --deadline passed, the --state file could not be saved", "0, the default, is no deadline"} {
		if !strings.Contains(help, want) {
			t.Errorf("check --help lacks %q", want)
		}
	}
	for _, cmd := range []string{"check", "scan", "bounce", "lists", "serve"} {
		got := runWith(t, nil, nil, cmd, "--help")
		for _, want := range []string{"EXIT STATUS", "ENVIRONMENT", "BLCHECK_<FLAG>"} {
			if !strings.Contains(got.stdout, want) {
				t.Errorf("%s --help lacks %s", cmd, want)
			}
		}
	}
}

// TestHelpWrapped: help is wrapped to the terminal's width, 80 columns when
// stdout is not a terminal; completion is listed; -l, --exclude and -o values
// complete.
func TestHelpWrapped(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tty   bool
		width int
		want  int
	}{
		{"not a terminal", false, 0, 80},
		{"a terminal of 120 columns", true, 120, 120},
		{"a terminal of 60 columns", true, 60, 60},
		{"a terminal that does not say", true, 0, 80},
	} {
		for _, cmd := range []string{"check", "scan", "bounce", "lists", "serve", "version"} {
			got := runWith(t, nil, func(s *streams) { s.outTTY, s.width = tc.tty, tc.width }, cmd, "--help")
			longest := 0
			for _, line := range strings.Split(got.stdout, "\n") {
				longest = max(longest, len(line))
				if len(line) > tc.want {
					t.Errorf("%s, %s --help: %d columns: %s", tc.name, cmd, len(line), line)
				}
			}
			if cmd == "check" && tc.want >= 80 && longest < tc.want-10 {
				t.Errorf("%s, %s --help: %d columns at most, want about %d", tc.name, cmd, longest, tc.want)
			}
		}
	}
	if got := runWith(t, nil, nil, "--help"); !strings.Contains(got.stdout, "\n  completion  ") {
		t.Errorf("completion is not listed:\n%s", got.stdout)
	}
	for _, tc := range []struct {
		args       []string
		want, lack []string
	}{
		{[]string{"__complete", "-l", "spamh"}, []string{"spamhaus-zen\tSpamhaus ZEN", "all\t", "default\t"}, []string{"njabl"}},
		{[]string{"__complete", "-l", "zen,"}, []string{"zen,spamcop\t"}, nil},
		{[]string{"__complete", "scan", "--exclude", ""}, []string{"psbl\t"}, nil},
		{[]string{"__complete", "-o", ""}, []string{"json\n", "nagios\n", "prometheus\n"}, []string{"github"}},
		{[]string{"__complete", "scan", "-o", ""}, []string{"github\n"}, []string{"nagios"}},
		{[]string{"__complete", "lists", "--format", ""}, []string{"text\n", "json\n"}, []string{"jsonl"}},
	} {
		got := runWith(t, nil, nil, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(got.stdout, w) {
				t.Errorf("%v: %q missing:\n%s", tc.args, w, got.stdout)
			}
		}
		for _, w := range tc.lack {
			if strings.Contains(got.stdout, w) {
				t.Errorf("%v: %q offered:\n%s", tc.args, w, got.stdout)
			}
		}
	}
}

func TestWrapText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"short line", "short line"},
		{"a paragraph\nlaid out\nnarrow and wrapped", "a paragraph laid out narrow\nand wrapped"},
		{"  0  a table row that runs on and on", "  0  a table row that runs on\n     and on"},
		{"  --flag  a flag's long usage, and more", "  --flag  a flag's long usage,\n          and more"},
		{"  kept  as laid out", "  kept  as laid out"},
		{"prose\n\n  row", "prose\n\n  row"},
	}
	for _, tc := range tests {
		if got := wrapText(tc.in, 30); got != tc.want {
			t.Errorf("wrapText(%q) =\n%s\nwant\n%s", tc.in, got, tc.want)
		}
	}
}

// TestQuickStartExplained: 127.0.0.2, the quick start's target, is said to be
// every list's test point with LISTED the expected answer, in every format's
// human part, with no delisting links; the test names are targets too.
func TestQuickStartExplained(t *testing.T) {
	srv := fakeWorld(t)
	r := []string{"-r", srv.Addr, "-l", "zen,spamcop,dbl"}
	const listedNote = "is the test point that every IP list must list (RFC 5782): LISTED is the expected answer"
	tests := []struct {
		name   string
		args   []string
		code   int
		want   []string
		unwant []string
	}{
		{"text", []string{"127.0.0.2"}, 1, []string{"127.0.0.2: LISTED (2 listings)\n  note: 127.0.0.2 " + listedNote}, []string{"delist:"}},
		{"json", []string{"-o", "json", "127.0.0.2"}, 1, []string{`"notes": [
        "127.0.0.2 ` + listedNote}, nil},
		{"jsonl", []string{"-o", "jsonl", "127.0.0.2"}, 1, []string{`"type":"target"`, listedNote}, nil},
		{"nagios", []string{"-o", "nagios", "127.0.0.2"}, 2, []string{"\n127.0.0.2 " + listedNote}, nil},
		{"the IPv6 form", []string{"::ffff:7f00:2"}, 1, []string{listedNote}, nil},
		{"the test name", []string{"test"}, 1, []string{`test: LISTED (1 listing)`, `"test" is the test name that every domain list must list`},
			[]string{"does not exist"}},
		{"the negative points", []string{"127.0.0.1", "invalid"}, 0, []string{"127.0.0.1: clean\n  note: 127.0.0.1 is the test point that no IP list may list",
			`invalid: clean`}, nil},
		{"any other address says nothing of it", []string{"192.0.2.99"}, 0, nil, []string{"RFC 5782"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, append(r, tc.args...)...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", got.code, tc.code, got.stdout, got.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("%q missing:\n%s", w, got.stdout)
				}
			}
			for _, w := range tc.unwant {
				if strings.Contains(got.stdout, w) {
					t.Errorf("%q present:\n%s", w, got.stdout)
				}
			}
		})
	}
}

// TestDeadline: --deadline (-t, as in check_rbl, in seconds or as a duration)
// bounds the whole run: what finished is reported, the rest is not checked
// (deadline), and the run is incomplete (exit 3; Nagios UNKNOWN), or listed.
func TestDeadline(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	r := []string{"-r", srv.Addr, "--timeout", "30s", "--retries", "0"}
	state := filepath.Join(t.TempDir(), "state.json")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		// cron: quiet but for news, and a run cut short is news every time
		{"-q --state", []string{"-l", "zen,spamcop", "-q", "--state", state, "--deadline", "200ms", "192.0.2.99"}, 3,
			[]string{"NOT FINISHED the run was stopped at the --deadline of 200ms: 0 targets finished, 1 cut short, 0 not started; " +
				"not answered: spamcop: what was not finished"}},
		{"text", []string{"-l", "zen,spamcop", "--deadline", "200ms", "192.0.2.99"}, 3, []string{"192.0.2.99: NOT FULLY CHECKED (deadline)",
			"Not checked (deadline 200ms):", "Exit 3 (incomplete)"}},
		// zen's listing and health must come before the deadline (spamcop's never
		// do): 200ms is a tight window for them on a loaded machine under -race
		{"what finished is reported", []string{"-l", "zen,spamcop", "--deadline", "2s", "192.0.2.10"}, 1, []string{"LISTED Spamhaus ZEN",
			"but stopped at the --deadline of 2s", "Exit 1 (listed)"}},
		{"nagios -t in seconds", []string{"-l", "zen,spamcop", "-o", "nagios", "-t", "0.2", "192.0.2.99"}, 3, []string{"BLCHECK UNKNOWN - stopped at the --deadline of 200ms"}},
		{"json", []string{"-l", "zen,spamcop", "-o", "json", "-t", "200ms", "192.0.2.99"}, 3, []string{`"exit_code": 3`, "the --deadline of 200ms passed",
			`"error": "not answered: the run was stopped at the --deadline of 200ms"`}},
		{"jsonl", []string{"-l", "zen,spamcop", "-o", "jsonl", "-t", "200ms", "192.0.2.99"}, 3,
			[]string{`"error":"not answered: the run was stopped at the --deadline of 200ms"`}},
		{"in time, nothing said", []string{"-l", "zen", "-t", "30", "192.0.2.99"}, 0, []string{"Exit 0 (clean)"}},
		// a list's second query waits 10 s for its --rate, past the deadline: the
		// limiter refuses at once, and the run ends early, cut short, never clean
		{"the lists' rate would pass it", []string{"-l", "zen,psbl", "--rate", "0.1", "-t", "5s", "192.0.2.98", "192.0.2.99"}, 3,
			[]string{"NOT FULLY CHECKED (deadline)", "Exit 3 (incomplete)"}},
		{"the lists' rate would pass it, nagios", []string{"-l", "zen,psbl", "--rate", "0.1", "-t", "5s", "-o", "nagios", "192.0.2.98", "192.0.2.99"}, 3,
			[]string{"BLCHECK UNKNOWN - stopped at the --deadline of 5s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, append(r, tc.args...)...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", got.code, tc.code, got.stdout, got.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("%q missing:\n%s", w, got.stdout)
				}
			}
			if strings.Contains(got.stdout, "INTERRUPTED") || strings.Contains(got.stdout, "130") ||
				strings.Contains(got.stdout, "the run was interrupted") {
				t.Errorf("a deadline is not an interruption:\n%s", got.stdout)
			}
		})
	}
	if got := runWith(t, nil, nil, "-t", "soon", "192.0.2.1"); got.code != 2 || !strings.Contains(got.err, `--deadline (-t) "soon": not a duration`) {
		t.Errorf("bad deadline: exit %d %s", got.code, got.err)
	}
	// a negative one is a duration, but not one a deadline can be: said so
	if got := runWith(t, nil, nil, "-t", "-5s", "192.0.2.1"); got.code != 2 || !strings.Contains(got.err, "0 or more") {
		t.Errorf("negative deadline: exit %d %s", got.code, got.err)
	}
}

// TestProgressLines: a long run whose stdout and stderr are not terminals
// (cron, a CI log) says its estimate on stderr when it starts and how far it
// got at each tick; a short one, --progress=false and -q say nothing.
func TestProgressLines(t *testing.T) {
	zen := catalog.Default().ByID("spamhaus-zen")
	dbl := catalog.Default().ByID("spamhaus-dbl")
	lists := []catalog.Selected{{List: zen}, {List: dbl}}
	sweep := &targetInput{count: 1, v4: 65536, ranges: true}
	est := estimateRun(lists, sweep, &resolverOptions{rate: 50, concurrency: 128})
	if est.checks != 65536 || roundDuration(est.duration) != "22m" {
		t.Errorf("a /16 at --rate 50: %d checks in %s, want 65536 in 22m", est.checks, roundDuration(est.duration))
	}
	if e := estimateRun(lists, sweep, &resolverOptions{rate: 50, shard: dnsbl.Shard{Index: 0, Count: 4}}); roundDuration(e.duration) != "5m28s" {
		t.Errorf("a quarter of it: %s", roundDuration(e.duration))
	}
	// addresses on a domain list only (blcheck dmarc -l dbl): nothing to ask, no time
	if e := estimateRun([]catalog.Selected{{List: dbl}}, sweep, &resolverOptions{rate: 50}); e.checks != 0 || e.duration != 0 {
		t.Errorf("no applicable list: %d checks in %s, want none in no time", e.checks, roundDuration(e.duration))
	}
	if newProgressLines(&bytes.Buffer{}, estimate{checks: 20, duration: time.Second}, nil) != nil {
		t.Error("a one-second run says its progress")
	}
	var b bytes.Buffer
	tick := make(chan time.Time)
	p := newProgressLines(&b, est, tick)
	for i := 0; i < 16384; i++ {
		p.check()
	}
	tick <- p.start.Add(5 * time.Minute)
	p.finish()
	want := "blcheck: 65536 checks, about 22m at the lists' --rate; progress every 10s on stderr (--progress=false: none)\n" +
		"blcheck: progress: 16384 of 65536 checks (25%), 5m elapsed, about 15m left\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	srv := fakeWorld(t)
	r := []string{"-r", srv.Addr, "-l", "zen", "--rate", "10", "-t", "100ms", "192.0.2.0/24"}
	for _, tc := range []struct {
		name   string
		args   []string
		outTTY bool
		want   bool
	}{
		{"cron", nil, false, true},
		{"--progress=false", []string{"--progress=false"}, false, false},
		{"-q", []string{"-q"}, false, false},
		{"a terminal", nil, true, false},
	} {
		got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, func(s *streams) { s.outTTY = tc.outTTY }, append(r, tc.args...)...)
		said := strings.Contains(got.err, "blcheck: 256 checks, about 26s at the lists' --rate")
		if said != tc.want {
			t.Errorf("%s: estimate said %v, want %v\n%s", tc.name, said, tc.want, got.err)
		}
	}
}

// TestSameWarningsEveryFormat: stderr says the same warnings in every format,
// each once; a dead resolver is one line, not one per list.
func TestSameWarningsEveryFormat(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	srv.Zone("psbl.surriel.com", "127.0.0.2")
	srv.List("psbl.surriel.com", "127.0.0.1", []string{"127.0.0.2"}) // lists everything
	dead := dnsbltest.NewServer()
	dead.AddFault(faultDrop("."))
	defer dead.Close()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unhealthy lists", []string{"-r", srv.Addr, "-l", "zen,spamcop,psbl", "--timeout", "200ms", "--retries", "0", "192.0.2.99"},
			[]string{"list psbl failed its health check (lists-everything):", "list spamcop failed its health check (no-answer):"}},
		{"a dead resolver", []string{"-r", dead.Addr, "--timeout", "200ms", "--retries", "0", "192.0.2.99"},
			[]string{"no list answered through the resolver: all 12 lists asked failed their health check the same way"}}, // the domain lists, unused, are not asked
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first string
			for _, format := range []string{"text", "json", "jsonl", "nagios"} {
				got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, append(tc.args, "-o", format)...)
				if first == "" {
					first = got.err
				}
				if got.err != first {
					t.Errorf("%s's stderr differs from text's:\n%s\ntext:\n%s", format, got.err, first)
				}
				lines := strings.Split(strings.TrimSpace(got.err), "\n")
				seen := map[string]bool{}
				for _, l := range lines {
					if seen[l] {
						t.Errorf("%s: said twice: %s", format, l)
					}
					seen[l] = true
				}
				if len(lines) != len(tc.want) {
					t.Errorf("%s: %d lines, want %d:\n%s", format, len(lines), len(tc.want), got.err)
				}
				for _, w := range tc.want {
					if !strings.Contains(got.err, w) {
						t.Errorf("%s: %q missing:\n%s", format, w, got.err)
					}
				}
			}
		})
	}
}

// TestSmallerThings: what else a newcomer tripped on.
func TestSmallerThings(t *testing.T) {
	srv := fakeWorld(t)
	dir := t.TempDir()
	eml := filepath.Join(dir, "note.eml")
	if err := os.WriteFile(eml, []byte("From: a@shop.example.com\nSubject: hi\n\nsee www.shop.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.eml")
	if err := os.WriteFile(empty, []byte("Subject: hi\n\nnothing here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BLCHECK_DIRECT": "never", "BLCHECK_RESOLVER": srv.Addr}
	tests := []struct {
		name           string
		stdin          string
		args           []string
		code           int
		stdout, stderr string
		never          string // in stdout or stderr
	}{
		{"a range given by an address inside it is said", "", []string{"-l", "zen", "192.0.2.5/30"}, 0, "192.0.2.4 (input)",
			"192.0.2.5/30 is not where its range starts: checking the range 192.0.2.4/30 (4 addresses)", ""},
		{"a range at its start says nothing", "", []string{"-l", "zen", "192.0.2.4/30"}, 0, "", "", "not where"},
		{"several targets on a line of standard input", "192.0.2.1 192.0.2.2\t192.0.2.3\n", []string{"-l", "zen", "-"}, 0,
			"3 targets", "", ""},
		{"a dead list without a date", "", []string{"lists"}, 0, "LashBack UBL (dead: reported offline)", "", "since ?"},
		{"one list", "", []string{"lists", "-l", "zen"}, 0, "\n1 list: ", "", "1 lists"},
		{"nagios: one list", "", []string{"-o", "nagios", "-l", "zen", "192.0.2.99"}, 0, "not listed on 1 list |", "", ""},
		{"a scan that checked nothing misses no key", "", []string{"scan", empty}, 0, "", "nothing to check", "Not queried"},
		{"lists json: errors always an object", "", []string{"lists", "-o", "json", "-l", "spamcop"}, 0, `"errors": {}`, "", `"errors": null`},
		{"scan jsonl: where each target was found", "", []string{"scan", "-o", "jsonl", "-l", "dbl", eml}, 0,
			`"locations":[{"file":"` + eml + `","line":1,"where":"From header"}]`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runCLI(t, env, tc.stdin, tc.args...)
			if got.code != tc.code || !strings.Contains(got.stdout, tc.stdout) || !strings.Contains(got.err, tc.stderr) ||
				tc.never != "" && strings.Contains(got.stdout+got.err, tc.never) {
				t.Errorf("exit %d, want %d with %q / %q, never %q\nstdout:\n%s\nstderr:\n%s", got.code, tc.code, tc.stdout, tc.stderr,
					tc.never, got.stdout, got.err)
			}
		})
	}
}

func TestWrapTerminal(t *testing.T) {
	red := func(s string) string { return "\x1b[31m" + s + "\x1b[0m" }
	tests := []struct{ in, want string }{
		{"short\n", "short\n"},
		{"aaa bbb ccc ddd eee fff ggg\n", "aaa bbb ccc ddd eee fff\n  ggg\n"},
		{"    " + red("ERROR") + "  list one two three four\n", "    " + red("ERROR") + "  list one two\n           three four\n"},
		{"  note: https://example.com/a/long/link x\n", "  note:\n    https://example.com/a/long/link\n    x\n"},
		{"no-newline-at-the-end and more", "no-newline-at-the-end\n  and more"},
	}
	for _, tc := range tests {
		if got := string(wrapTerminal([]byte(tc.in), 24)); got != tc.want {
			t.Errorf("wrapTerminal(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
	}
	srv := fakeWorld(t)
	args := []string{"-r", srv.Addr, "127.0.0.2"}
	narrow := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, func(s *streams) { s.outTTY, s.width = true, 60 }, args...)
	for _, line := range strings.Split(narrow.stdout, "\n") {
		if line = ansiEscape().ReplaceAllString(line, ""); len(line) > 60 && strings.Contains(strings.TrimSpace(line), " ") {
			t.Errorf("a terminal of 60 columns: %d: %s", len(line), line)
		}
	}
	piped := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, args...)
	if !strings.Contains(piped.stdout, "(RFC 5782): LISTED is the expected answer (the lists and the resolver work; nothing to delist).") {
		t.Errorf("output to a pipe is not wrapped (a line is one grep away):\n%s", piped.stdout)
	}
}

// TestWarningsNotRepeated: the text report on a terminal already says which
// lists failed, so stderr on the same screen does not say it again; and with
// -q --state a list that keeps failing is said when it begins, not every run
// (cron mails whatever is on stderr).
func TestWarningsNotRepeated(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	env := map[string]string{"BLCHECK_DIRECT": "never"}
	args := []string{"-r", srv.Addr, "-l", "zen,spamcop", "--timeout", "200ms", "--retries", "0", "192.0.2.99"}
	terminal := func(s *streams) { s.outTTY, s.errTTY = true, true }
	got := runWith(t, env, terminal, append(args, "--progress=false")...)
	if got.code != exitIncomplete || !strings.Contains(got.stdout, "spamcop") || strings.Contains(got.err, "list spamcop") {
		t.Errorf("on a terminal: exit %d, the warning on stdout only:\n%s---\n%s", got.code, got.stdout, got.err)
	}
	if got := runWith(t, env, nil, args...); !strings.Contains(got.err, "list spamcop failed its health check (no-answer)") {
		t.Errorf("to a pipe, stderr still says it:\n%s", got.err)
	}
	state := filepath.Join(t.TempDir(), "state.json")
	first := runWith(t, env, nil, append(args, "-q", "--state", state)...)
	if !strings.Contains(first.stdout, "spamcop") {
		t.Errorf("-q --state, first run: the failing list is said:\n%s---\n%s", first.stdout, first.err)
	}
	again := runWith(t, env, nil, append(args, "-q", "--state", state)...)
	if again.code != exitIncomplete || again.stdout != "" || again.err != "" {
		t.Errorf("-q --state, nothing changed: exit %d, want 3 and silence:\n%s---\n%s", again.code, again.stdout, again.err)
	}
}

// TestExamplesFitUnbroken: each command's examples are lines to copy, so each
// fits the 80 columns of help that is not on a terminal and is never broken
// (a comment cut after "# cron:" read as a command of its own).
func TestExamplesFitUnbroken(t *testing.T) {
	root := newRootCmd(&streams{getenv: func(string) string { return "" }})
	for _, c := range append([]*cobra.Command{root}, root.Commands()...) {
		for _, line := range strings.Split(c.Example, "\n") {
			if len(line) > defaultHelpWidth {
				t.Errorf("%s: an example of %d columns, broken in help: %s", c.Name(), len(line), line)
			}
			// -q is a text option: with JSON it changes nothing, so an example shows it with text only
			if f := strings.Fields(line); slices.Contains(f, "-q") && (slices.Contains(f, "json") || slices.Contains(f, "jsonl")) {
				t.Errorf("%s: an example with -q and JSON, where -q does nothing: %s", c.Name(), line)
			}
		}
	}
}

// TestNothingAskedIsNotClean: a target no list was asked about (an IPv6
// address on IPv4 lists, a keyed list without its key) is not called clean,
// and the run is incomplete (exit 3) in every format and by either rule:
// nothing answered for it.
func TestNothingAskedIsNotClean(t *testing.T) {
	srv := fakeWorld(t)
	env := map[string]string{"BLCHECK_DIRECT": "never"}
	for _, args := range [][]string{
		{"-l", "psbl", "2001:db8::1"},
		{"-l", "spamhaus-dqs-zen", "192.0.2.10"},
	} {
		base := append(args, "-r", srv.Addr)
		got := runWith(t, env, nil, base...)
		if got.code != exitIncomplete || strings.Contains(got.stdout, ": clean") || strings.Contains(got.stdout, "(clean)") ||
			!strings.Contains(got.stdout, "NOT CHECKED: no list was asked about it") || strings.Contains(got.stdout, "problem:") ||
			!strings.Contains(got.stdout, "Exit 3 (incomplete: no list was asked)") {
			t.Errorf("%v: exit %d\n%s%s", args, got.code, got.stdout, got.err)
		}
		for _, c := range []struct {
			extra []string
			want  string
		}{
			{[]string{"--strict=false"}, "NOT CHECKED"},
			{[]string{"-o", "json"}, `"exit_code": 3`},
			{[]string{"-o", "json"}, `"` + args[2] + `: no list was asked about it"`},
			{[]string{"-o", "jsonl"}, `"problems":["` + args[2] + `: no list was asked about it"]`},
			{[]string{"-o", "nagios"}, "BLCHECK UNKNOWN - incomplete: " + args[2] + ": no list was asked about it |"},
			{[]string{"-o", "prometheus"}, `blcheck_probe_success{target="` + args[2] + `"} 0`},
		} {
			r := runWith(t, env, nil, append(append([]string(nil), base...), c.extra...)...)
			if r.code != exitIncomplete || !strings.Contains(r.stdout, c.want) {
				t.Errorf("%v %v: exit %d, want %d and %q\n%s%s", args, c.extra, r.code, exitIncomplete, c.want, r.stdout, r.err)
			}
		}
	}
	if got := runWith(t, env, nil, "-l", "psbl,spamcop", "2001:db8::1", "-r", srv.Addr); got.code != exitClean ||
		!strings.Contains(got.stdout, "2001:db8::1: clean") {
		t.Errorf("one list asked is a check: exit %d\n%s", got.code, got.stdout)
	}
	// a range another machine's shard holds is not a target this one failed to check
	for _, shard := range []string{"0/2", "1/2"} { // one holds the address, the other nothing
		if got := runWith(t, env, nil, "-l", "psbl", "192.0.2.10/32", "--shard", shard, "-r", srv.Addr); got.code != exitClean {
			t.Errorf("--shard %s: exit %d\n%s", shard, got.code, got.stdout)
		}
	}
}

// TestAdviceWrapsOnce: the advice under the lists that refused this resolver
// is wrapped to an 80-column terminal once, not broken at 100 columns first
// and then again ("(8.8.8.8," alone at the end of a line).
func TestAdviceWrapsOnce(t *testing.T) {
	srv := fakeWorld(t)
	srv.Wildcard("zen.spamhaus.org", "127.255.255.254")
	got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, func(s *streams) { s.outTTY, s.width = true, 80 },
		"-r", srv.Addr, "-l", "zen,spamcop", "--no-color", "192.0.2.99")
	if got.code != exitIncomplete || !strings.Contains(got.stdout, "  Why: these lists refuse") {
		t.Fatalf("exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	lines := strings.Split(got.stdout, "\n")
	for i, l := range lines {
		if len(l) > 80 {
			t.Errorf("%d columns: %s", len(l), l)
		}
		// a line broken early although its next word would have fitted
		if i+1 < len(lines) && strings.HasPrefix(l, "  ") && strings.HasPrefix(lines[i+1], "   ") {
			next := strings.Fields(lines[i+1])
			if len(next) > 0 && len(l)+1+len(next[0]) <= 80 {
				t.Errorf("broken early:\n%s\n%s", l, lines[i+1])
			}
		}
	}
}

// TestNewListingSaysTheDelistPageOnce: -q --state's NEW LISTING says the
// delisting page once when the TXT reason names it, as the full report does.
func TestNewListingSaysTheDelistPageOnce(t *testing.T) {
	srv := fakeWorld(t)
	const page = "https://check.spamhaus.org/query/ip/192.0.2.10"
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "Listed by XBL, see "+page)
	state := filepath.Join(t.TempDir(), "state.json")
	got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, "-q", "--state", state, "-r", srv.Addr, "-l", "zen", "192.0.2.10")
	if got.code != exitListed || strings.Count(got.stdout, page) != 1 ||
		!strings.Contains(got.stdout, "             reason, delist: Listed by XBL, see "+page+"\n") {
		t.Errorf("exit %d\n%s", got.code, got.stdout)
	}
}

// TestEmptyScan: a message with nothing in it is nothing to check: not clean,
// and no Go error about reading it.
func TestEmptyScan(t *testing.T) {
	srv := fakeWorld(t)
	empty := filepath.Join(t.TempDir(), "empty.eml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, "scan", "-r", srv.Addr, empty)
	if got.code != exitClean || !strings.Contains(got.stdout, "0 checks: nothing checked. Exit 0 (nothing to check)") ||
		strings.Contains(got.stdout, "clean") || strings.Contains(got.err, "EOF") || !strings.Contains(got.err, "nothing to check") {
		t.Errorf("exit %d\n%s---\n%s", got.code, got.stdout, got.err)
	}
	// hosts found, none of them a name in the DNS: said as not checked, and
	// the run does not claim it found nothing
	intranet := filepath.Join(t.TempDir(), "intranet.eml")
	os.WriteFile(intranet, []byte("From: person@makita.skynet\nMessage-ID: <1@mail.corp.local>\n\nhi\n"), 0o644)
	got = runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, "scan", "-r", srv.Addr, intranet)
	if got.code != exitClean || !strings.Contains(got.stdout, "mail.corp.local: under no top-level domain that exists (.local)") ||
		!strings.Contains(got.stdout, "makita.skynet: under no top-level domain") || strings.Contains(got.stdout, "clean") ||
		!strings.Contains(got.err, "no host found in "+intranet+" could be checked") {
		t.Errorf("exit %d\n%s---\n%s", got.code, got.stdout, got.err)
	}
}

// TestDMARCNoneRead: when no report could be read, the text says so, not
// "0 reports by , for : 0 messages" over an empty table.
func TestDMARCNoneRead(t *testing.T) {
	srv := fakeWorld(t)
	cut := filepath.Join(t.TempDir(), "cut.xml.gz")
	if err := os.WriteFile(cut, []byte("\x1f\x8b\x08\x00\x00\x00"), 0o644); err != nil { // a gzip header, then nothing
		t.Fatal(err)
	}
	got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, "dmarc", "-r", srv.Addr, cut)
	if got.code != exitIncomplete || !strings.Contains(got.stdout, "DMARC reports: none could be read.") ||
		strings.Contains(got.stdout, " by , for ") || strings.Contains(got.stdout, "is listed") || strings.Contains(got.stdout, "source ") {
		t.Errorf("exit %d\n%s---\n%s", got.code, got.stdout, got.err)
	}
}

// TestGitHubNoticeGrammar: the run's notice counts in words: "1 target",
// "0 errors", as the text summary does.
func TestGitHubNoticeGrammar(t *testing.T) {
	srv := fakeWorld(t)
	page := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(page, []byte(`<a href="https://shop.example.test/">shop</a>`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runWith(t, map[string]string{"BLCHECK_DIRECT": "never"}, nil, "scan", "-r", srv.Addr, "-l", "spamhaus-dbl", "--format", "github", page)
	if !strings.Contains(got.stdout, "::notice title=blcheck::1 target, 2 checks: 0 listed, 0 noted, 2 clean, 0 blocked, 0 errors, ") {
		t.Errorf("exit %d\n%s---\n%s", got.code, got.stdout, got.err)
	}
}

// TestBounceDetailsOnlyOverDetails: a bounce whose checked addresses are all
// clean has no details to show (they are listings and problems only), so no
// "Details:" heading over nothing; a listing still gets it.
func TestBounceDetailsOnlyOverDetails(t *testing.T) {
	srv := fakeWorld(t)
	env := map[string]string{"BLCHECK_DIRECT": "never"}
	exim := filepath.Join("..", "..", "pkg", "bounce", "testdata", "exim.txt")
	got := runWith(t, env, nil, "bounce", "-r", srv.Addr, exim)
	if got.code != exitClean || strings.Contains(got.stdout, "Details:") || !strings.Contains(got.stdout, "not listed there now") {
		t.Errorf("clean: exit %d\n%s---\n%s", got.code, got.stdout, got.err)
	}
	srv.List("bl.spamcop.net", "198.51.100.8", []string{"127.0.0.2"})
	got = runWith(t, env, nil, "bounce", "-r", srv.Addr, exim)
	if got.code != exitListed || !strings.Contains(got.stdout, "Details:\n\n198.51.100.8") {
		t.Errorf("listed: exit %d\n%s---\n%s", got.code, got.stdout, got.err)
	}
}

// With the format from $BLCHECK_FORMAT, -c is --critical too, as with -o nagios.
func TestNagiosFormatFromEnvironment(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	env := map[string]string{"BLCHECK_DIRECT": "never", "BLCHECK_FORMAT": "nagios"}
	got := runWith(t, env, nil, "-r", srv.Addr, "-l", "zen,spamcop", "-c", "1", "192.0.2.10")
	if got.code != 2 || !strings.HasPrefix(got.stdout, "BLCHECK CRITICAL") {
		t.Errorf("exit %d, want 2 (CRITICAL at -c 1)\n%s%s", got.code, got.stdout, got.err)
	}
}

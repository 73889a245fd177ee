package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fakeWorld serves every default list of the built-in catalog with healthy test
// points, plus the records a test adds.
func fakeWorld(t *testing.T) *dnsbltest.Server {
	t.Helper()
	srv := dnsbltest.NewServer()
	t.Cleanup(srv.Close)
	for _, l := range catalog.Default().Lists {
		if l.Keyed() {
			continue
		}
		code := "127.0.0.2"
		for k := range l.Codes {
			if !strings.Contains(k, "/") && (code == "127.0.0.2" || k < code) {
				code = k
			}
		}
		srv.Zone(l.Zone, code)
		if l.Tests != nil {
			for _, tp := range l.Tests.Listed {
				srv.List(l.Zone, tp, []string{code})
			}
		}
	}
	return srv
}

type result struct {
	code        int
	stdout, err string
}

func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	s := &streams{
		in: strings.NewReader(stdin), out: &out, err: &errb,
		getenv: func(k string) string { return env[k] },
		resolv: filepath.Join(t.TempDir(), "no-resolv.conf"),
	}
	code := run(context.Background(), args, s)
	return result{code, out.String(), errb.String()}
}

func TestExitCodes(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "https://www.spamhaus.org/query/ip/192.0.2.10")
	srv.A("justatheory.test", "192.0.2.10")
	srv.A("clean.test", "192.0.2.99")
	srv.AddFault(dnsbltest.Fault{Suffix: "bl.spamcop.net", Kind: dnsbltest.Drop})
	dead := dnsbltest.NewServer()
	dead.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop})
	defer dead.Close()
	r := []string{"--resolver", srv.Addr, "--timeout", "200ms"}

	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string // must contain
		stderr string // must contain
	}{
		{"listed address", append([]string{"192.0.2.10"}, r...), "", 1, "LISTED Spamhaus ZEN", ""},
		{"listed through its A record", append([]string{"justatheory.test"}, r...), "", 1, "192.0.2.10 (A)", ""},
		// strict, the default: a list that did not answer makes the run incomplete, and says which
		{"one list timing out is incomplete", append([]string{"192.0.2.99", "-l", "zen,spamcop"}, r...), "", 3,
			"INCOMPLETE: not checked on spamcop (1 error)", ""},
		{"--strict=false: clean on the lists that answered", append([]string{"192.0.2.99", "-l", "zen,spamcop", "--strict=false"}, r...), "", 0,
			"ERROR  SpamCop Blocking List", ""},
		{"--strict=false still names what was not checked", append([]string{"192.0.2.99", "-l", "zen,spamcop", "--strict=false"}, r...), "", 0,
			"Not checked: spamcop (1 error). Exit 0", ""},
		{"one resolver named twice is one", append([]string{"192.0.2.99", "-l", "zen", "-r", srv.Addr}, r...), "", 0,
			"via " + srv.Addr + ".", ""},
		{"check subcommand", append([]string{"check", "clean.test", "-l", "zen"}, r...), "", 0, "clean.test: clean", ""},
		{"resolver unreachable", []string{"192.0.2.10", "--resolver", dead.Addr, "--timeout", "100ms", "--retries", "0", "-l", "zen"}, "", 3,
			"INCOMPLETE", ""},
		{"no system resolver", []string{"192.0.2.10"}, "", 3, "", "cannot read the system resolver"},
		{"bad target", append([]string{"192.0.2.10", "not a target"}, r...), "", 2, "", `bad target "not a target"`},
		{"range too large", append([]string{"10.0.0.0/8"}, r...), "", 2, "", "range too large"},
		{"no target", r, "", 2, "", "no target given"},
		{"stdin targets", append([]string{"-", "-l", "zen"}, r...), "# hosts\n192.0.2.99\n\nclean.test\n", 0, "2 targets", ""},
		{"--file - is standard input", append([]string{"--file", "-", "-l", "zen"}, r...), "192.0.2.10\n", 1, "LISTED Spamhaus ZEN", ""},
		{"stdin bad line", append([]string{"-"}, r...), "192.0.2.99\nbad..name\n", 2, "", "standard input:2: bad target"},
		{"missing file", append([]string{"--file", "/nonexistent/targets.txt"}, r...), "", 2, "", "cannot read /nonexistent/targets.txt"},
		{"bad flag", []string{"--frobnicate"}, "", 2, "", "unknown flag: --frobnicate"},
		{"bad format", append([]string{"192.0.2.10", "-o", "xml"}, r...), "", 2, "", `--format "xml"`},
		{"bad resolver", []string{"192.0.2.10", "-r", "dns..example"}, "", 2, "", "not an address or a host name"},
		{"bad timeout", []string{"192.0.2.10", "--timeout", "0s", "-r", srv.Addr}, "", 2, "", "--timeout 0s: must be more than 0"},
		{"bad --txt", append([]string{"192.0.2.10", "--txt", "never"}, r...), "", 2, "", `--txt "never": use auto or listed`},
		{"listing's reason with --txt listed", append([]string{"192.0.2.10", "--txt", "listed", "-l", "zen"}, r...), "", 1, "https://www.spamhaus.org/query/ip/192.0.2.10", ""},
		{"unknown list", append([]string{"192.0.2.10", "-l", "nope"}, r...), "", 2, "", `unknown list "nope"`},
		{"dead list warns", append([]string{"192.0.2.99", "-l", "njabl,zen"}, r...), "", 0, "", "njabl (dnsbl.njabl.org) is dead since 2013-03"},
		{"quiet and clean prints nothing", append([]string{"-q", "192.0.2.99", "-l", "zen"}, r...), "", 0, "", ""},
		{"version", []string{"version"}, "", 0, "blcheck ", ""},
		// a stray word after a command that takes none is a usage error, not an incomplete check
		{"lists with an argument", []string{"lists", "extra"}, "", 2, "", `"extra"`},
		{"version with an argument", []string{"version", "extra"}, "", 2, "", `"extra"`},
		{"serve with an argument", []string{"serve", "extra"}, "", 2, "", `"extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runCLI(t, nil, tc.stdin, tc.args...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got.code, tc.code, got.stdout, got.err)
			}
			if !strings.Contains(got.stdout, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, got.stdout)
			}
			if !strings.Contains(got.err, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, got.err)
			}
			if tc.name == "quiet and clean prints nothing" && got.stdout != "" {
				t.Errorf("quiet clean run printed:\n%s", got.stdout)
			}
			if tc.code == 2 && got.stdout != "" {
				t.Errorf("a usage error must print no result:\n%s", got.stdout)
			}
		})
	}
}

func TestJSONOutput(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "see https://example/192.0.2.10")
	srv.A("mail.example.test", "192.0.2.10")
	srv.MX("example.test", 10, "mail.example.test")
	got := runCLI(t, nil, "", "example.test", "-r", srv.Addr, "-o", "json", "-l", "zen,dbl")
	if got.code != 1 {
		t.Fatalf("exit %d: %s", got.code, got.err)
	}
	var doc struct {
		Schema   int      `json:"schema"`
		Resolver []string `json:"resolver"`
		Targets  []struct {
			Input, Kind string
			Subjects    []struct {
				Subject, Type string
				Via           []string
			}
			Checks []map[string]any
		}
		Lists   []map[string]string
		Summary map[string]any
	}
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got.stdout)
	}
	if doc.Schema != 1 || doc.Resolver[0] != srv.Addr || doc.Targets[0].Kind != "domain" || len(doc.Targets[0].Subjects) != 2 {
		t.Fatalf("document: %+v", doc)
	}
	if s := doc.Targets[0].Subjects[1]; s.Subject != "192.0.2.10" || s.Via[0] != "MX mail.example.test" {
		t.Errorf("subject via: %+v", s)
	}
	var listed map[string]any
	for _, c := range doc.Targets[0].Checks {
		if c["status"] == "listed" {
			listed = c
		}
		for _, k := range []string{"subject", "list", "zone", "query", "status", "codes", "meanings", "reason", "delist_url", "rtt_ms", "error"} {
			if _, ok := c[k]; !ok {
				t.Errorf("check lacks the contract key %q: %v", k, c)
			}
		}
	}
	if listed == nil || listed["list"] != "spamhaus-zen" || listed["query"] != "10.2.0.192.zen.spamhaus.org" ||
		listed["reason"] != "see https://example/192.0.2.10" {
		t.Errorf("listed check: %v", listed)
	}
	for _, k := range []string{"subjects", "checks", "listed", "clean", "blocked", "error", "unreliable", "skipped", "exit_code"} {
		if _, ok := doc.Summary[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	if doc.Summary["exit_code"] != float64(1) || doc.Lists[0]["health"] != "ok" {
		t.Errorf("summary %v lists %v", doc.Summary, doc.Lists)
	}
}

func TestJSONLines(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "198.51.100.3", []string{"127.0.0.2"})
	got := runCLI(t, nil, "", "198.51.100.0/30", "-r", srv.Addr, "-o", "jsonl", "-l", "zen,spamcop")
	lines := strings.Split(strings.TrimSpace(got.stdout), "\n")
	if got.code != 1 || len(lines) != 9 {
		t.Fatalf("exit %d, %d lines:\n%s", got.code, len(lines), got.stdout)
	}
	var sum map[string]any // the last line: the run's summary
	if err := json.Unmarshal([]byte(lines[8]), &sum); err != nil || sum["type"] != "summary" || sum["exit_code"] != float64(1) ||
		sum["checks"] != float64(8) || sum["listed"] != float64(1) {
		t.Errorf("summary line %q: %v", lines[8], err)
	}
	for _, l := range lines[:8] {
		var c map[string]any
		if err := json.Unmarshal([]byte(l), &c); err != nil || c["target"] != "198.51.100.0/30" || c["status"] == nil {
			t.Errorf("line %q: %v", l, err)
		}
	}
}

func TestHostileTXT(t *testing.T) {
	srv := fakeWorld(t)
	evil := "\x1b[2J\x1b]0;pwned\x07listed\u202etxt.exe " + strings.Repeat("A", 5000)
	srv.List("zen.spamhaus.org", "192.0.2.66", []string{"127.0.0.2"}, evil)
	for _, format := range []string{"text", "json", "jsonl"} {
		got := runCLI(t, nil, "", "192.0.2.66", "-r", srv.Addr, "-o", format, "-l", "zen")
		if got.code != 1 {
			t.Fatalf("%s: exit %d", format, got.code)
		}
		// JSON keeps the text faithfully (escaped by encoding/json); text shows it visibly
		forbidden := "\x1b\x07"
		if format == "text" {
			forbidden += "\u202e"
		}
		if strings.ContainsAny(got.stdout, forbidden) {
			t.Errorf("%s output carries raw control characters: %q", format, got.stdout[:200])
		}
		if format == "text" && (!strings.Contains(got.stdout, `\x1b[2J`) || len(got.stdout) > 3000) {
			t.Errorf("text must show escapes visibly and cut long reasons:\n%s", got.stdout)
		}
		if format == "json" && !json.Valid([]byte(got.stdout)) {
			t.Errorf("invalid JSON")
		}
	}
}

func TestColor(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	args := []string{"192.0.2.10", "-r", srv.Addr, "-l", "zen"}
	tty := func(env map[string]string, extra ...string) string {
		var out bytes.Buffer
		s := &streams{in: strings.NewReader(""), out: &out, err: &bytes.Buffer{}, outTTY: true,
			getenv: func(k string) string { return env[k] }}
		run(context.Background(), append(append([]string{}, args...), extra...), s)
		return out.String()
	}
	if !strings.Contains(tty(nil), "\x1b[") {
		t.Error("a terminal gets colour")
	}
	if strings.Contains(tty(map[string]string{"NO_COLOR": "1"}), "\x1b[") {
		t.Error("NO_COLOR turns colour off")
	}
	if strings.Contains(tty(nil, "--no-color"), "\x1b[") {
		t.Error("--no-color turns colour off")
	}
	if strings.Contains(runCLI(t, nil, "", args...).stdout, "\x1b[") {
		t.Error("a pipe gets no colour")
	}
}

// Targets that cannot be read twice (standard input, a pipe) are held in
// memory up to a bound: more is a usage error naming --file, before any query.
func TestPipedTargetsBounded(t *testing.T) {
	defer func(m int64) { maxPiped = m }(maxPiped)
	maxPiped = 1 << 20
	in := strings.Repeat("192.0.2.1\n", 120000) // 1.2 MB: `yes 192.0.2.1 | blcheck -`, cut short
	for _, args := range [][]string{{"-"}, {"--file", "-"}} {
		got := runCLI(t, nil, in, append(args, "-r", "127.0.0.1:1", "-l", "zen")...)
		if got.code != exitUsage || got.stdout != "" || !strings.Contains(got.err, "standard input holds more than 1 MiB of targets") ||
			!strings.Contains(got.err, "--file FILE") {
			t.Errorf("%v: exit %d\n%s%s", args, got.code, got.stdout, got.err)
		}
	}
	exact := strings.Repeat("192.0.2.1\n", (1<<20)/10) // under the bound: read
	if got := runCLI(t, nil, exact, "-", "-r", "127.0.0.1:1", "-l", "zen", "--shard", "0/1", "-t", "1ms"); got.code == exitUsage {
		t.Errorf("under the bound: exit 2\n%s", got.err)
	}
}

func TestListsCommand(t *testing.T) {
	got := runCLI(t, nil, "", "lists", "--format", "json")
	var entries []map[string]any
	if err := json.Unmarshal([]byte(got.stdout), &entries); err != nil || got.code != 0 {
		t.Fatalf("exit %d: %v", got.code, err)
	}
	for _, e := range entries {
		for _, k := range []string{"id", "name", "zone", "kind", "codes", "default", "status"} {
			if _, ok := e[k]; !ok {
				t.Errorf("%v lacks %q", e["id"], k)
			}
		}
		if e["kind"] == "ip" && e["families"] == nil {
			t.Errorf("%v: ip list without families", e["id"])
		}
	}
	text := runCLI(t, nil, "", "lists")
	if text.code != 0 || !strings.Contains(text.stdout, "spamhaus-zen") || !strings.Contains(text.stdout, "dead since 2024-06-05") {
		t.Errorf("lists table:\n%s", text.stdout)
	}

	// BLCHECK_FORMAT set for the checks (a Nagios or Prometheus host's) leaves
	// lists its table; a format no command has is still an error
	for _, tc := range []struct {
		env, want string
		code      int
	}{
		{"nagios", "spamhaus-zen", 0}, {"jsonl", "spamhaus-zen", 0}, {"prometheus", "spamhaus-zen", 0},
		{"json", `"id": "spamhaus-zen"`, 0}, {"xml", "", 2},
	} {
		got := runCLI(t, map[string]string{"BLCHECK_FORMAT": tc.env}, "", "lists")
		if got.code != tc.code || !strings.Contains(got.stdout, tc.want) {
			t.Errorf("BLCHECK_FORMAT=%s lists: exit %d\n%s%s", tc.env, got.code, got.stdout, got.err)
		}
	}

	bad := filepath.Join(t.TempDir(), "lists.yaml")
	os.WriteFile(bad, []byte("- id: broken\n  name: B\n  zone: b.example\n  kind: ip\n  families: [ipv4]\n  status: active\n  codes: {127.0.0.2: x}\n  colour: red\n"), 0o644)
	for _, args := range [][]string{{"lists", "--lists", bad}, {"192.0.2.1", "--lists", bad, "-r", "127.0.0.1:1"}} {
		got := runCLI(t, nil, "", args...)
		if got.code != 2 || !strings.Contains(got.err, bad+`:8: list "broken": unknown key "colour"`) {
			t.Errorf("%v: exit %d, stderr %q", args, got.code, got.err)
		}
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	srv := fakeWorld(t)
	const key = "k3y-s3cr3t"
	srv.Zone(key+".zen.dq.spamhaus.net", "127.0.0.2")
	srv.List(key+".zen.dq.spamhaus.net", "192.0.2.10", []string{"127.0.0.4"}, "listed, key "+key)
	srv.AddFault(dnsbltest.Fault{Suffix: key + ".xbl.dq.spamhaus.net", Kind: dnsbltest.ServFail})
	env := map[string]string{"BLCHECK_SPAMHAUS_DQS_KEY": key}
	for _, format := range []string{"text", "json", "jsonl"} {
		got := runCLI(t, env, "", "192.0.2.10", "-r", srv.Addr, "-o", format, "--timeout", "200ms")
		if got.code != 1 {
			t.Errorf("%s: exit %d\n%s", format, got.code, got.err)
		}
		if strings.Contains(got.stdout+got.err, key) && !strings.Contains(got.stdout, "listed, key") {
			t.Errorf("%s: the key leaked:\n%s\n%s", format, got.stdout, got.err)
		}
		if strings.Contains(strings.ReplaceAll(got.stdout, "listed, key "+key, ""), key) || strings.Contains(got.err, key) {
			t.Errorf("%s: the key leaked outside the list's own TXT", format)
		}
		if strings.Contains(got.stdout, "zen.spamhaus.org") && format == "json" {
			t.Errorf("with a DQS key the public mirror must not be queried")
		}
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./internal/cli -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

var (
	timing = regexp.MustCompile(`in (\d+ms|\d+\.\ds) via 127\.0\.0\.1:\d+`)
	port   = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	rtt    = regexp.MustCompile(`"(rtt_ms|duration_ms|dns_queries)": \d+`)
	start  = regexp.MustCompile(`"started": "[^"]+"`)
)

func normalize(s string) string {
	s = timing.ReplaceAllString(s, "in 0.0s via RESOLVER")
	s = port.ReplaceAllString(s, "RESOLVER")
	s = rtt.ReplaceAllString(s, `"$1": 0`)
	return start.ReplaceAllString(s, `"started": "TIME"`)
}

func TestGolden(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("example.test", "192.0.2.10")
	srv.MX("example.test", 10, "mx.example.test")
	srv.A("mx.example.test", "192.0.2.11", "10.0.0.25")
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "https://www.spamhaus.org/query/ip/192.0.2.10")
	srv.List("bl.spamcop.net", "192.0.2.10", []string{"127.0.0.2"}, "Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.10")
	srv.List("multi.surbl.org", "example.test", []string{"127.0.0.80"})
	srv.AddFault(dnsbltest.Fault{Suffix: "psbl.surriel.com", Kind: dnsbltest.ServFail})
	srv.Unlist("xbl.spamhaus.org", "127.0.0.2") // XBL refuses this resolver
	srv.List("xbl.spamhaus.org", "127.0.0.2", []string{"127.255.255.254"})
	srv.List("xbl.spamhaus.org", "192.0.2.10", []string{"127.255.255.254"})
	srv.Wildcard("dnsbl.dronebl.org", "127.0.0.2")
	args := []string{"example.test", "-r", srv.Addr, "--timeout", "200ms", "--retries", "0",
		"-l", "zen,xbl,spamcop,psbl,dronebl,surbl,uribl"}
	for _, tc := range []struct{ file, format string }{
		{"example.txt", "text"}, {"example.json", "json"},
	} {
		got := runCLI(t, nil, "", append(args, "-o", tc.format)...)
		if got.code != 1 {
			t.Fatalf("exit %d: %s", got.code, got.err)
		}
		golden(t, tc.file, normalize(got.stdout))
	}
	quiet := runCLI(t, nil, "", append(args, "-q")...)
	golden(t, "example-quiet.txt", normalize(quiet.stdout))
}

func TestKeyFlag(t *testing.T) {
	srv := fakeWorld(t)
	const key = "fl4g-k3y"
	srv.Zone(key+".zen.dq.spamhaus.net", "127.0.0.2")
	srv.List(key+".zen.dq.spamhaus.net", "192.0.2.10", []string{"127.0.0.4"})
	got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "spamhaus-dqs-zen", "--key", "BLCHECK_SPAMHAUS_DQS_KEY="+key, "-o", "json")
	if got.code != 1 || strings.Contains(got.stdout+got.err, key) || !strings.Contains(got.stdout, "{key}.zen.dq.spamhaus.net") {
		t.Errorf("exit %d, key shown or zone wrong:\n%s%s", got.code, got.stdout, got.err)
	}
	for _, bad := range []string{"NOPE=x", "BLCHECK_SPAMHAUS_DQS_KEY", "BLCHECK_SPAMHAUS_DQS_KEY="} {
		got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "--key", bad)
		if got.code != 2 || !strings.Contains(got.err, "--key") {
			t.Errorf("--key %s: exit %d %s", bad, got.code, got.err)
		}
	}
}

func TestProbe(t *testing.T) {
	srv := fakeWorld(t)
	srv.Wildcard("dnsbl.ahbl.org", "127.0.0.2")
	ok := runCLI(t, nil, "", "lists", "--probe", "-r", srv.Addr, "-l", "zen,spamcop")
	if ok.code != 0 || !strings.Contains(ok.stdout, "2 lists probed") || !strings.Contains(ok.stdout, "spamhaus-zen") {
		t.Errorf("healthy lists: exit %d\n%s%s", ok.code, ok.stdout, ok.err)
	}
	bad := runCLI(t, nil, "", "lists", "--probe", "-r", srv.Addr, "-l", "zen,ahbl", "-o", "json")
	var doc struct {
		Lists []struct{ List, Health, Detail string }
	}
	if err := json.Unmarshal([]byte(bad.stdout), &doc); err != nil || bad.code != 3 || len(doc.Lists) != 2 ||
		doc.Lists[1].Health != "lists-everything" || doc.Lists[0].Health != "ok" {
		t.Errorf("exit %d, %v, %+v", bad.code, err, doc)
	}
}

func TestRewritingResolver(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	srv.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Rewrite, Addr: "198.51.100.200"})
	got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop")
	if got.code != 3 || !strings.Contains(got.stdout, "invents answers") || !strings.Contains(got.stdout, "198.51.100.200") ||
		strings.Contains(got.stdout, "LISTED") {
		t.Errorf("exit %d\n%s", got.code, got.stdout)
	}
	js := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen", "-o", "json")
	if js.code != 3 || !strings.Contains(js.stdout, `"rewrites_nxdomain": true`) || strings.Contains(js.stdout, `"status": "listed"`) {
		t.Errorf("json: exit %d\n%s", js.code, js.stdout)
	}
}

func TestScan(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("www.bad.example", "192.0.2.10")
	srv.A("www.shop.example.com", "192.0.2.20")
	srv.List("dbl.spamhaus.org", "bad.example", []string{"127.0.1.2"}, "Spam domain bad.example")
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	fixture := func(name string) string { return filepath.Join("..", "..", "pkg", "extract", "testdata", name) }
	r := []string{"-r", srv.Addr, "--timeout", "300ms", "-l", "zen,dbl"}

	got := runCLI(t, nil, "", append([]string{"scan", fixture("campaign.eml")}, r...)...)
	if got.code != 1 || !strings.Contains(got.stdout, "www.bad.example: LISTED") ||
		!strings.Contains(got.stdout, "campaign.eml, part 2 (text/html) line 2, in href") ||
		!strings.Contains(got.stdout, "reason: Spam domain bad.example") {
		t.Errorf("campaign: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	if i, j := strings.Index(got.stdout, "www.bad.example: LISTED"), strings.Index(got.stdout, "shop.example.com:"); i > j {
		t.Errorf("listed findings come first:\n%s", got.stdout)
	}

	js := runCLI(t, nil, "", append([]string{"scan", fixture("newsletter.html"), "-o", "json", "--ignore", "example.com"}, r...)...)
	var doc struct {
		Targets []struct {
			Input     string
			Locations []struct {
				File  string
				Line  int
				Where string
			}
		}
		Ignored []struct{ Host, Reason string }
	}
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil || js.code != 1 {
		t.Fatalf("exit %d: %v\n%s", js.code, err, js.stdout)
	}
	var bad bool
	for _, tg := range doc.Targets {
		if tg.Input == "bad.example" && len(tg.Locations) == 1 && tg.Locations[0].Line == 14 &&
			tg.Locations[0].Where == "redirect target in href" {
			bad = true
		}
		if strings.HasSuffix(tg.Input, "example.com") {
			t.Errorf("an ignored domain was checked: %s", tg.Input)
		}
	}
	if !bad || len(doc.Ignored) == 0 || doc.Ignored[0].Reason != "ignored (--ignore)" {
		t.Errorf("json findings: %+v", doc)
	}

	gh := runCLI(t, nil, "", append([]string{"scan", fixture("newsletter.html"), "-o", "github"}, r...)...)
	if gh.code != 1 || !strings.Contains(gh.stdout, "::error file=../../pkg/extract/testdata/newsletter.html,line=14,title=blcheck%3A listed domain in redirect target in href::bad.example") {
		t.Errorf("github: exit %d\n%s", gh.code, gh.stdout)
	}

	clean := runCLI(t, nil, "", append([]string{"scan", fixture("clean.txt")}, r...)...)
	if clean.code != 0 || !strings.Contains(clean.err, "nothing to check") {
		t.Errorf("clean file: exit %d %s", clean.code, clean.err)
	}
	stdin := runCLI(t, nil, "see https://www.bad.example/x\n", append([]string{"scan", "-"}, r...)...)
	if stdin.code != 1 || !strings.Contains(stdin.stdout, "standard input:1, in text") {
		t.Errorf("stdin: exit %d\n%s", stdin.code, stdin.stdout)
	}
	for _, args := range [][]string{{"scan"}, {"scan", "/nonexistent/news.html"}, {"scan", "."}, {"scan", fixture("clean.txt"), "--ignore", "not a domain"}} {
		if got := runCLI(t, nil, "", append(args, r...)...); got.code != 2 || got.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", args, got.code, got.stdout)
		}
	}
}

func TestBounce(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("justatheory.com", "192.0.2.10")
	srv.A("www.justatheory.com", "192.0.2.10")
	srv.A("www.bricolage.cc", "192.0.2.30")
	srv.List("xbl.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "https://www.spamhaus.org/query/ip/192.0.2.10")
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	srv.List("zen.spamhaus.org", "198.51.100.7", []string{"127.0.0.2"})
	fixture := func(name string) string { return filepath.Join("..", "..", "pkg", "bounce", "testdata", name) }
	r := []string{"-r", srv.Addr, "--timeout", "300ms", "--retries", "0"}

	seed, _ := os.ReadFile(fixture("qmail-seed.txt"))
	got := runCLI(t, nil, string(seed), append([]string{"bounce", "-"}, r...)...)
	for _, want := range []string{
		"140.211.166.39 rejected your mail to webmaster@php.net: 550-5.7.1 reject content [xbl]",
		`Spamhaus XBL ("xbl")`,
		"www.justatheory.com, linked in your message, resolves to 192.0.2.10, which is in Spamhaus XBL",
		"A machine on that network is infected or exploited",
		"delist: https://check.spamhaus.org/",
		"A content or spam verdict: the receiver refused what the mail holds",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("the seed's diagnosis lacks %q:\n%s", want, got.stdout)
		}
	}
	if got.code != 1 || regexp.MustCompile(`(?m)^\S*php\.net: `).MatchString(got.stdout) ||
		strings.Contains(got.stdout, "the address your mail came from") || strings.Contains(got.stdout, "outgoing mail server") {
		t.Errorf("exit %d; the receiver must not be checked:\n%s", got.code, got.stdout)
	}

	js := runCLI(t, nil, "", append([]string{"bounce", fixture("postfix-dsn.eml"), "-o", "json"}, r...)...)
	var doc struct {
		Bounce    struct{ Recipients, SenderIPs []string }
		Diagnosis struct {
			Explained bool
			Named     []string `json:"named_lists"`
			Findings  []struct{ Sentence string }
		}
		Summary map[string]any
	}
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil || js.code != 1 || !doc.Diagnosis.Explained ||
		doc.Diagnosis.Named[0] != "spamhaus-zen" ||
		!strings.Contains(doc.Diagnosis.Findings[0].Sentence, "198.51.100.7, the address your mail came from, is in Spamhaus ZEN") {
		t.Errorf("postfix json: exit %d %v\n%s", js.code, err, js.stdout)
	}

	ms := runCLI(t, nil, "", append([]string{"bounce", fixture("exchange.txt")}, r...)...)
	if ms.code != 0 || !strings.Contains(ms.stdout, "Microsoft's own block list") || !strings.Contains(ms.stdout, "https://sender.office.com") {
		t.Errorf("provider block: exit %d\n%s", ms.code, ms.stdout)
	}
	for _, args := range [][]string{{"bounce", fixture("garbled.txt")}, {"bounce"}, {"bounce", "/nonexistent/bounce.eml"}, {"bounce", "a", "b"}} {
		got := runCLI(t, nil, "", append(args, r...)...)
		if got.code != 2 || got.stdout != "" {
			t.Errorf("%v: exit %d\n%s%s", args, got.code, got.stdout, got.err)
		}
	}
	if got := runCLI(t, nil, "", append([]string{"bounce", fixture("garbled.txt")}, r...)...); !strings.Contains(got.err, "holds no bounce") {
		t.Errorf("text without a bounce needs a clear answer: %s", got.err)
	}
}

func TestNagios(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	srv.List("bl.spamcop.net", "192.0.2.10", []string{"127.0.0.2"})
	dead := dnsbltest.NewServer()
	dead.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop})
	defer dead.Close()
	r := []string{"-r", srv.Addr, "-l", "zen,spamcop,psbl", "-o", "nagios"}
	tests := []struct {
		args []string
		code int
		line string
	}{
		{append([]string{"192.0.2.10"}, r...), 2, "BLCHECK CRITICAL - 192.0.2.10 listed 2 times on spamcop, spamhaus-zen | listed=2;1;2;0;3 "},
		{append([]string{"192.0.2.10", "-w", "2", "-c", "3"}, r...), 1, "BLCHECK WARNING - "},
		{append([]string{"192.0.2.10", "-w2", "-c3", "--concurrency", "8"}, r...), 1, "listed=2;2;3;0;3"},
		{append([]string{"192.0.2.11"}, r...), 0, "BLCHECK OK - 192.0.2.11 not listed on 3 lists | listed=0;1;2;0;3"},
		{[]string{"192.0.2.10", "-r", srv.Addr, "-l", "zen,psbl", "-o", "nagios"}, 1, "BLCHECK WARNING - 192.0.2.10 listed once on spamhaus-zen | "},
		{[]string{"192.0.2.11", "-r", dead.Addr, "--timeout", "100ms", "--retries", "0", "-l", "zen", "-o", "nagios"}, 3, "BLCHECK UNKNOWN - incomplete"},
		// a bad argument is UNKNOWN, not the CRITICAL of exit 2 (monitoring plugins' convention)
		{[]string{"192.0.2.11", "-c", "0", "-o", "nagios", "-r", srv.Addr}, 3, "BLCHECK UNKNOWN - --warning 1 --critical 0: each takes a number of listings, 1 or more\n"},
	}
	for _, tc := range tests {
		got := runCLI(t, nil, "", tc.args...)
		if got.code != tc.code || !strings.Contains(got.stdout, tc.line) {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, got.code, tc.code, got.stdout, got.err)
		}
	}
	// outside nagios, -c is still --concurrency
	if got := runCLI(t, nil, "", "192.0.2.11", "-c", "4", "-r", srv.Addr, "-l", "zen"); got.code != 0 {
		t.Errorf("-c as concurrency: exit %d %s", got.code, got.err)
	}
}

func TestShardAndVolume(t *testing.T) {
	srv := fakeWorld(t)
	seen := map[string]int{}
	for i := 0; i < 3; i++ {
		got := runCLI(t, nil, "", "198.51.100.0/26", "-r", srv.Addr, "-l", "zen", "-o", "jsonl", "--rate", "0", "--shard", fmt.Sprintf("%d/3", i))
		for _, l := range strings.Split(strings.TrimSpace(got.stdout), "\n") {
			var c struct{ Type, Subject string }
			if json.Unmarshal([]byte(l), &c) == nil && c.Type == "" { // a check line, not the summary's
				seen[c.Subject]++
			}
		}
	}
	if len(seen) != 64 {
		t.Errorf("three shards covered %d of 64 addresses", len(seen))
	}
	for a, n := range seen {
		if n != 1 {
			t.Errorf("%s checked by %d shards", a, n)
		}
	}
	for _, bad := range []string{"3/3", "1", "-1/2", "a/b", "0/0"} {
		if got := runCLI(t, nil, "", "192.0.2.1", "-r", srv.Addr, "--shard", bad); got.code != 2 {
			t.Errorf("--shard %s: exit %d", bad, got.code)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // only the warning matters: the sweep itself is interrupted at once
	var out, errb bytes.Buffer
	s := &streams{in: strings.NewReader(""), out: &out, err: &errb, getenv: func(string) string { return "" }}
	code := run(ctx, []string{"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16", "-r", srv.Addr, "-l", "zen,spamcop", "-o", "jsonl"}, s)
	if !strings.Contains(errb.String(), "about 327680 queries to The Spamhaus Project (zen.spamhaus.org), whose free use is 300000 queries a day") ||
		strings.Contains(errb.String(), "spamcop (") || code != exitInterrupt {
		t.Errorf("exit %d, stderr %s", code, errb.String())
	}
}

func TestStateCron(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	path := filepath.Join(t.TempDir(), "blcheck.state")
	args := []string{"-q", "--state", path, "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop"}
	first := runCLI(t, nil, "", args...)
	if first.code != 1 || !strings.Contains(first.stdout, "NEW LISTING  192.0.2.10 on Spamhaus ZEN") {
		t.Errorf("first run: exit %d\n%s", first.code, first.stdout)
	}
	second := runCLI(t, nil, "", args...)
	if second.code != 1 || second.stdout != "" {
		t.Errorf("nothing changed: nothing printed, still exit 1; got exit %d\n%s", second.code, second.stdout)
	}
	srv.Unlist("zen.spamhaus.org", "192.0.2.10")
	srv.Wildcard("bl.spamcop.net", "127.0.0.2")
	third := runCLI(t, nil, "", append(args, "-o", "text")...)
	if third.code != 3 || // SpamCop failing: nothing listed, but incomplete !strings.Contains(third.stdout, "DELISTED     192.0.2.10 from Spamhaus ZEN") ||
		!strings.Contains(third.stdout, "LIST FAILING SpamCop Blocking List") {
		t.Errorf("third run: exit %d\n%s", third.code, third.stdout)
	}
	js := runCLI(t, nil, "", "--state", path, "192.0.2.10", "-r", srv.Addr, "-l", "zen", "-o", "json")
	if !strings.Contains(js.stdout, `"change": "unchanged"`) {
		t.Errorf("json carries the change:\n%s", js.stdout)
	}
}

func TestEveryListEmpty(t *testing.T) {
	srv := dnsbltest.NewServer() // answers NXDOMAIN for everything, as a resolver cut off from the lists does
	defer srv.Close()
	got := runCLI(t, nil, "", "127.0.0.2", "-r", srv.Addr, "-l", "zen,spamcop,psbl")
	if got.code != 3 || !strings.Contains(got.stdout, "None of the 3 lists passed its health check (test-point-missing)") ||
		!strings.Contains(got.stdout, "the resolver is at fault") || strings.Contains(got.stdout, "UNRELIABLE") {
		t.Errorf("exit %d\n%s", got.code, got.stdout)
	}
}

// TestGoldenUnreachable: a resolver that refuses every packet is blamed once, not
// once for each list (exit 3).
func TestGoldenUnreachable(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nobody listens: every query meets "connection refused"
	got := runCLI(t, nil, "", "192.0.2.10", "-r", addr, "--timeout", "1s", "--retries", "0",
		"-l", "zen,xbl,spamcop,psbl,dronebl")
	if got.code != 3 {
		t.Fatalf("exit %d, want 3: %s", got.code, got.err)
	}
	golden(t, "unreachable.txt", normalize(got.stdout))
}

// What a bounce's cause asks for: the seed's three lines are a content
// rejection (the mail, not the server: blcheck scan, exit 3, nothing queried),
// a recipient problem is nothing to check (exit 0, nothing queried), and text
// with no bounce is exit 2 quoting what it read.
func TestBounceCauses(t *testing.T) {
	tests := []struct {
		name, input string
		code        int
		want        []string
		never       []string
	}{
		{"seed's three lines", "140.211.166.39 failed after I sent the message.\nRemote host said: 550-5.7.1 reject content [xbl]\n" +
			"550 See http://master.php.net/mail/why.php?why=SURBL\n", exitIncomplete,
			[]string{"A content or spam verdict", "does not include the message", "blcheck scan FILE"},
			[]string{"outgoing mail server", "blcheck <its public IP address>", "Details:"}},
		{"named URL, no returned message", "554 5.7.1 Blacklisted URL in message. (clean-shop.test)\n", exitIncomplete,
			[]string{"what its rejection names is not listed now", "blcheck scan FILE"}, []string{"outgoing mail server"}},
		{"mailbox full", "<bob@example.net>: host mx.example.net[198.51.100.5] said: 552 5.2.2 Mailbox full\n", exitClean,
			[]string{"A recipient problem (the mailbox is full or over its quota): not a blacklist problem; nothing to check."},
			[]string{"Details:"}},
		{"user unknown without a code", "The following recipient(s) cannot be reached:\n  bob@example.net\n    Unknown Recipient\n", exitClean,
			[]string{"not a blacklist problem; nothing to check"}, nil},
		{"NOQUEUE log line", "Oct 31 01:28:43 mx postfix/smtpd[3468]: NOQUEUE: reject: RCPT from unknown[192.0.2.166]: 550 5.1.1 " +
			"<bob@example.net>: Recipient address rejected: User unknown in local recipient table\n", exitClean,
			[]string{"the address does not exist there"}, nil},
	}
	for _, tt := range tests {
		// a server of its own: a run's unneeded TXT queries may reach the
		// server after the run, and be counted as the next one's
		srv := fakeWorld(t)
		r := []string{"-r", srv.Addr, "--timeout", "300ms", "--retries", "0"}
		before := srv.TotalQueries()
		got := runCLI(t, nil, tt.input, append([]string{"bounce", "-"}, r...)...)
		if got.code != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", tt.name, got.code, tt.code, got.stdout, got.err)
		}
		for _, w := range tt.want {
			if !strings.Contains(got.stdout, w) {
				t.Errorf("%s: no %q in\n%s", tt.name, w, got.stdout)
			}
		}
		for _, w := range tt.never {
			if strings.Contains(got.stdout, w) {
				t.Errorf("%s: %q in\n%s", tt.name, w, got.stdout)
			}
		}
		if srv.TotalQueries() != before && !strings.HasPrefix(tt.name, "named URL") {
			t.Errorf("%s: %d queries sent for nothing to check", tt.name, srv.TotalQueries()-before)
		}
	}
	got := runCLI(t, nil, "Re: lunch?\n\nSure, see you at noon.\n", "bounce", "-", "-r", "127.0.0.1:9")
	if got.code != exitUsage || !strings.Contains(got.err, `holds no bounce`) || !strings.Contains(got.err, `it reads "Re: lunch? Sure, see you at noon."`) {
		t.Errorf("no bounce: exit %d, stderr %s", got.code, got.err)
	}
}

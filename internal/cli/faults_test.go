package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/state"
)

// One list answering everything (127.0.0.4 for every name on ZEN, the first IP
// list) is that list's fault: the resolver is not blamed, and a real SpamCop
// listing stands (exit 1, not 3).
func TestOneListAnsweringEverything(t *testing.T) {
	srv := fakeWorld(t)
	srv.Wildcard("zen.spamhaus.org", "127.0.0.4")
	srv.List("bl.spamcop.net", "192.0.2.10", []string{"127.0.0.2"})
	got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr)
	if got.code != exitListed || strings.Contains(got.stdout, "invents answers") ||
		!strings.Contains(got.stdout, "Spamhaus ZEN (zen.spamhaus.org)") {
		t.Errorf("exit %d, want 1 with ZEN unreliable and the resolver trusted\n%s", got.code, got.stdout)
	}
}

// A resolver that answers NXDOMAIN for every name (no Internet, a captive
// portal) is said once to be at fault, not as one "list empty or dead" line a
// list; the list without a test point does not hide it.
func TestResolverNXDOMAINForEverything(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.NXDomain})
	got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr)
	if got.code != exitIncomplete || strings.Count(got.stdout, "list empty or dead") > 1 ||
		!strings.Contains(got.stdout, "the resolver is at fault") {
		t.Errorf("exit %d, want 3 and the resolver blamed once\n%s", got.code, got.stdout)
	}
	// lists --probe: no list is healthy, whatever the one without a test point says
	got = runCLI(t, nil, "", "lists", "--probe", "-r", srv.Addr, "-l", "sem-ipv6")
	if got.code != exitIncomplete {
		t.Errorf("lists --probe with no list healthy: exit %d, want 3\n%s", got.code, got.stdout)
	}
}

// The answers of a list without a test point are said to be unconfirmed.
func TestUntestedAnswersUnconfirmed(t *testing.T) {
	srv := fakeWorld(t)
	got := runCLI(t, nil, "", "2001:db8::25", "-r", srv.Addr, "-l", "sem-ipv6,spamhaus-zen")
	if !strings.Contains(got.stdout, "Answers unconfirmed (the list publishes no test point): ") {
		t.Errorf("exit %d, the untested list's answers not said unconfirmed\n%s", got.code, got.stdout)
	}
}

// Bad input is exit 2 before anything is sent: an account key that cannot be
// a DNS label (named by its variable), a catalog whose errors: take one of a
// list's own codes.
func TestBadInputBeforeSending(t *testing.T) {
	srv := fakeWorld(t)
	catalogFile := filepath.Join(t.TempDir(), "lists.yaml")
	if err := os.WriteFile(catalogFile, []byte(`
- {id: bad, name: Bad BL, zone: bad.bl.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: listed}, errors: {127.0.0.0/24: refused}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"key with a space", map[string]string{"BLCHECK_SPAMHAUS_DQS_KEY": "abc def"}, nil, "$BLCHECK_SPAMHAUS_DQS_KEY"},
		{"key with a dot", map[string]string{"BLCHECK_SPAMHAUS_DQS_KEY": "abc.def"}, nil, "$BLCHECK_SPAMHAUS_DQS_KEY"},
		{"key too long", map[string]string{"BLCHECK_SPAMHAUS_DQS_KEY": strings.Repeat("k", 64)}, nil, "$BLCHECK_SPAMHAUS_DQS_KEY"},
		{"errors: covers a code", nil, []string{"--lists", catalogFile}, "127.0.0.2"},
	} {
		before := srv.TotalQueries()
		got := runCLI(t, tc.env, "", append([]string{"192.0.2.10", "-r", srv.Addr}, tc.args...)...)
		if got.code != exitUsage || !strings.Contains(got.err, tc.want) || srv.TotalQueries() != before {
			t.Errorf("%s: exit %d, %d queries sent, stderr %q; want 2 naming %s and nothing sent",
				tc.name, got.code, srv.TotalQueries()-before, got.err, tc.want)
		}
	}
}

// --help (and --version) into a full disk is a failure, not exit 0.
func TestHelpIntoFullDisk(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"help", "serve"}, {"--version"}} {
		var errb bytes.Buffer
		s := &streams{in: strings.NewReader(""), out: failingWriter{}, err: &errb,
			getenv: func(string) string { return "" }, resolv: filepath.Join(t.TempDir(), "none")}
		if code := run(context.Background(), args, s); code == exitClean || strings.Count(errb.String(), "no space left") != 1 {
			t.Errorf("%v into a full disk: exit %d, stderr %q; want it said once", args, code, errb.String())
		}
	}
}

// Help, usage, --version and the catalog (`blcheck lists`) piped into a reader
// that stops early (`| head`)
// end quietly with exit 0, as other tools' do: unlike a full disk, that pipe
// lost nothing its reader wanted.
func TestHelpIntoClosedPipe(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help", "scan"}, {"--version"}, {"lists"}, {"lists", "--format", "json"}} {
		var errb bytes.Buffer
		s := &streams{in: strings.NewReader(""), out: closedPipe{}, err: &errb,
			getenv: func(string) string { return "" }, resolv: filepath.Join(t.TempDir(), "none")}
		if code := run(context.Background(), args, s); code != exitClean || errb.Len() != 0 {
			t.Errorf("%v into a closed pipe: exit %d, stderr %q; want 0 and nothing said", args, code, errb.String())
		}
	}
}

// closedPipe is stdout whose reader has gone, as the os package reports it.
type closedPipe struct{}

func (closedPipe) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}
}

// A state that cannot be saved makes the run fail (exit 3), and says so as an
// error, not a warning.
func TestStateNotSaved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	store, _, err := state.Open(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := os.RemoveAll(dir); err != nil { // even root cannot save into a directory that is gone
		t.Fatal(err)
	}
	var errb bytes.Buffer
	v := newView(&dnsbl.Result{Summary: dnsbl.Summary{Counts: map[dnsbl.Status]int{}}}, nil, nil, nil, nil)
	recordState(&streams{err: &errb}, store, v, false)
	v.Decide(true)
	if code := v.Verdict.ExitCode(); code != exitIncomplete || strings.Contains(errb.String(), "warning") ||
		!strings.Contains(errb.String(), "--state") {
		t.Errorf("exit %d, stderr %q; want 3 and an error naming --state", code, errb.String())
	}
}

// A broadcast, multicast or unspecified --resolver is a usage error before
// anything is sent, written as an address or as a name for one. Only the
// validation is tested: nothing is ever sent to such an address.
func TestResolverNotUnicast(t *testing.T) {
	names := map[string]string{"bcast.example": "255.255.255.255", "mcast.example": "224.0.0.1", "zero.example": "0.0.0.0"}
	s := &streams{err: io.Discard, lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
		a, ok := names[host]
		if !ok {
			t.Errorf("looked up %q", host)
			return nil, errors.New("no such host")
		}
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}}
	for _, v := range []string{"255.255.255.255", "224.0.0.1", "[ff02::1]:53", "ff02::1", "0.0.0.0", "[::]:53",
		"0.0.0.0:5353", "bcast.example", "mcast.example:53", "zero.example"} {
		hp, err := parseResolver(context.Background(), s, v)
		var ue *usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("--resolver %s: %q, %v; want a usage error", v, hp, err)
		}
	}
	if hp, err := parseResolver(context.Background(), s, "127.0.0.1:5353"); err != nil || hp != "127.0.0.1:5353" {
		t.Errorf("a good resolver: %q, %v", hp, err)
	}
}

// --health-ttl 0 is accepted (the test points are asked in every probe); a
// negative one is a usage error, and the exporter is not started.
func TestServeHealthTTLZero(t *testing.T) {
	for ttl, want := range map[string]int{"0": exitClean, "0s": exitClean, "-1s": exitUsage} {
		var out, errb bytes.Buffer
		started := false
		s := &streams{in: strings.NewReader(""), out: &out, err: &errb, getenv: func(string) string { return "" },
			resolv: filepath.Join(t.TempDir(), "none"), exporter: func(_ context.Context, c ExporterConfig) error {
				started = true
				if c.HealthTTL != 0 || len(c.Listen) != 1 || c.Listen[0] != "127.0.0.1:0" {
					t.Errorf("--health-ttl %s: the exporter was given %v, %v", ttl, c.HealthTTL, c.Listen)
				}
				return nil
			}}
		code := run(context.Background(), []string{"serve", "--allow", "192.0.2.0/24", "--listen", "127.0.0.1:0",
			"-r", "127.0.0.1:1", "--health-ttl", ttl}, s)
		if code != want || started != (want == exitClean) {
			t.Errorf("--health-ttl %s: exit %d (exporter started: %v), want %d\n%s", ttl, code, started, want, errb.String())
		}
	}
}

// Input without a target names the file (or standard input) that held none:
// a cron job whose list of servers was emptied by mistake says which list.
func TestNoTargetsNamesInput(t *testing.T) {
	dir := t.TempDir()
	empty, comments := filepath.Join(dir, "servers.txt"), filepath.Join(dir, "more.txt")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(comments, []byte("# none yet\r\n\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--file", empty}, "no targets: " + empty + " holds only blank lines and comments"},
		{[]string{"-", "--file", comments, "--file", "-"}, "no targets: standard input, " + comments + " hold only"},
	} {
		got := runCLI(t, nil, "\n# nothing\n", append(tc.args, "-r", "127.0.0.1:1")...)
		if got.code != exitUsage || !strings.Contains(got.err, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 saying %q", tc.args, got.code, got.err, tc.want)
		}
	}
}

// A dead resolver in cron (-q --state) is one line that blames it, not one
// "LIST FAILING" per list each saying "SERVFAIL or no answer"; its recovery is
// one line too. A list that alone stops answering is still named, with how
// its test query failed.
func TestStateDeadResolverOneLine(t *testing.T) {
	srv := fakeWorld(t)
	dead := dnsbltest.NewServer()
	dead.AddFault(faultDrop("."))
	defer dead.Close()
	env := map[string]string{"BLCHECK_DIRECT": "never"}
	state := filepath.Join(t.TempDir(), "state.json")
	cron := func(addr string) result {
		return runWith(t, env, nil, "-q", "--state", state, "-r", addr, "--timeout", "200ms", "--retries", "0", "192.0.2.99")
	}
	if got := cron(srv.Addr); got.code != exitClean {
		t.Fatalf("first run: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	got := cron(dead.Addr)
	lines := strings.Split(strings.TrimSpace(got.stdout), "\n")
	if got.code != exitIncomplete || len(lines) != 1 || !strings.HasPrefix(lines[0], "RESOLVER FAILING no list answered through "+dead.Addr+" (12 lists") ||
		strings.Contains(got.stdout, "SERVFAIL or no answer") {
		t.Errorf("dead resolver: exit %d, want 3 and one line blaming the resolver:\n%s", got.code, got.stdout)
	}
	got = cron(srv.Addr)
	if lines := strings.Split(strings.TrimSpace(got.stdout), "\n"); got.code != exitClean || len(lines) != 1 ||
		!strings.HasPrefix(lines[0], "RECOVERED    12 lists answer properly again: spamhaus-zen, ") {
		t.Errorf("resolver back: exit %d, want 0 and one line:\n%s", got.code, got.stdout)
	}
	srv.AddFault(faultDrop("bl.spamcop.net"))
	got = cron(srv.Addr)
	if want := "LIST FAILING SpamCop Blocking List (bl.spamcop.net): no-answer: test query for 127.0.0.2 failed: no answer"; got.code != exitIncomplete ||
		!strings.HasPrefix(got.stdout, want) || strings.Contains(got.stdout, "RESOLVER") {
		t.Errorf("one list dead: exit %d, want 3 and %q:\n%s", got.code, want, got.stdout)
	}
}

// A bad target of 70,000 characters (one line of a --file) is not echoed
// whole: the error keeps its start and its end, which say what is wrong.
func TestLongBadTargetElided(t *testing.T) {
	file := filepath.Join(t.TempDir(), "servers.txt")
	if err := os.WriteFile(file, []byte("192.0.2.1\n"+strings.Repeat("é", 35000)+".com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, nil, "", "--file", file, "-r", "127.0.0.1:1")
	if got.code != exitUsage || len(got.err) > 1000 || !strings.Contains(got.err, file+`:2: bad target "éé`) ||
		!strings.Contains(got.err, `é.com": longer than`) || !utf8.ValidString(got.err) {
		t.Errorf("exit %d, %d bytes on stderr; want 2, short, valid UTF-8, naming the line and why:\n%.600s", got.code, len(got.err), got.err)
	}
}

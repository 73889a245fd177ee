package cli

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// directWorld is the CLI's test world behind a resolver that Spamhaus refuses
// (127.255.255.254 for every name of zen.spamhaus.org), with a root on
// loopback that delegates zen.spamhaus.org to its own server, where
// 192.0.2.10 is on XBL. It returns the resolver, the list's own server and the
// root hints file.
func directWorld(t *testing.T) (*dnsbltest.Server, *dnsbltest.Server, string) {
	t.Helper()
	res := fakeWorld(t)
	res.Unlist("zen.spamhaus.org", "127.0.0.2")
	res.Unlist("zen.spamhaus.org", "::ffff:7f00:2")
	res.Wildcard("zen.spamhaus.org", "127.255.255.254")
	root, list := dnsbltest.New(t), dnsbltest.New(t)
	root.Authoritative(".")
	root.Delegate("zen.spamhaus.org", dnsbltest.NS{Name: "a.ns.spamhaus.org", Addrs: []string{"127.0.53.4"}})
	list.Authoritative("zen.spamhaus.org")
	list.Zone("zen.spamhaus.org", "127.0.0.2")
	list.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "Listed in XBL")
	ports := map[netip.Addr]string{netip.MustParseAddr("127.0.53.1"): root.Addr, netip.MustParseAddr("127.0.53.4"): list.Addr}
	serverAddr = func(a netip.Addr) string {
		if p, ok := ports[a]; ok {
			return p
		}
		return "127.0.0.1:9"
	}
	t.Cleanup(func() { serverAddr = nil })
	hints := filepath.Join(t.TempDir(), "named.root")
	if err := os.WriteFile(hints, []byte(".  3600000  NS  a.root.test.\na.root.test.  3600000  A  127.0.53.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return res, list, hints
}

func TestDirectCLI(t *testing.T) {
	res, _, hints := directWorld(t)
	common := []string{"192.0.2.10", "-l", "spamhaus-zen", "--resolver", res.Addr, "--timeout", "300ms", "--retries", "0"}

	r := runCLI(t, map[string]string{"BLCHECK_ROOT_HINTS": hints}, "", append(common, "--direct", "auto")...)
	if r.code != exitListed || !strings.Contains(r.stdout, "LISTED") ||
		!strings.Contains(r.stdout, "Asked directly, at their own name servers") {
		t.Errorf("auto: exit %d\n%s%s", r.code, r.stdout, r.err)
	}
	r = runCLI(t, map[string]string{"BLCHECK_DIRECT": "always"}, "", append(common, "--root-hints", hints, "-o", "json")...)
	var doc struct {
		Targets []struct {
			Checks []struct{ Status, Asked string }
		}
		Direct struct{ Lists []string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != exitListed {
		t.Fatalf("always: exit %d, %v\n%s", r.code, err, r.err)
	}
	if c := doc.Targets[0].Checks[0]; c.Status != "listed" || c.Asked != "direct" || len(doc.Direct.Lists) != 1 {
		t.Errorf("always: %+v %+v", c, doc.Direct)
	}
	// the flag wins over the environment
	r = runCLI(t, map[string]string{"BLCHECK_DIRECT": "always", "BLCHECK_ROOT_HINTS": hints}, "", append(common, "--direct", "never", "-o", "json")...)
	if r.code != exitIncomplete || !strings.Contains(r.stdout, `"status": "blocked"`) || !strings.Contains(r.stdout, `"asked": "resolver"`) {
		t.Errorf("never: exit %d\n%s%s", r.code, r.stdout, r.err)
	}
}

func TestDirectRefusedOpensTheOutput(t *testing.T) {
	res, list, hints := directWorld(t)
	list.Unlist("zen.spamhaus.org", "192.0.2.10")
	for _, s := range []string{"192.0.2.10", "127.0.0.2", "127.0.0.1", "::ffff:7f00:2"} {
		list.Unlist("zen.spamhaus.org", s)
		list.List("zen.spamhaus.org", s, []string{"127.255.255.254"}, "Refused: your address 198.51.100.7 is a hosting network")
	}
	r := runCLI(t, nil, "", "192.0.2.10", "-l", "spamhaus-zen", "--resolver", res.Addr, "--timeout", "300ms",
		"--direct", "auto", "--root-hints", hints)
	first, _, _ := strings.Cut(r.stdout, "\n")
	if r.code != exitIncomplete || !strings.Contains(first, "refuse this machine too") ||
		!strings.Contains(r.stdout, "the list saw 198.51.100.7") || !strings.Contains(r.stdout, "BLCHECK_SPAMHAUS_DQS_KEY") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.err)
	}
	if strings.Contains(r.stdout, "your own recursive resolver") {
		t.Errorf("a resolver on this machine would be refused too: no such fix for a list refusing this machine:\n%s", r.stdout)
	}
	if strings.Count(r.stdout, "refuses queries from this machine too") > 0 {
		t.Errorf("the refusal must be said once, at the top:\n%s", r.stdout)
	}
	// jsonl says it on stderr as it comes, once
	r = runCLI(t, nil, "", "192.0.2.10", "-l", "spamhaus-zen", "--resolver", res.Addr, "--timeout", "300ms",
		"--direct", "auto", "--root-hints", hints, "-o", "jsonl")
	if r.code != exitIncomplete || strings.Count(r.err, "refuses queries from this machine too") != 1 {
		t.Errorf("jsonl: exit %d\n%s%s", r.code, r.stdout, r.err)
	}
	// cron (-q --state) says it too, before anything else
	state := filepath.Join(t.TempDir(), "state.json")
	for range 2 {
		r = runCLI(t, nil, "", "192.0.2.10", "-l", "spamhaus-zen", "--resolver", res.Addr, "--timeout", "300ms",
			"--direct", "auto", "--root-hints", hints, "-q", "--state", state)
		if first, _, _ := strings.Cut(r.stdout, "\n"); r.code != exitIncomplete || !strings.Contains(first, "refuse this machine too") {
			t.Errorf("-q --state: exit %d\n%s%s", r.code, r.stdout, r.err)
		}
	}
	// lists --probe says the same per list
	r = runCLI(t, nil, "", "lists", "--probe", "-l", "spamhaus-zen", "--resolver", res.Addr, "--timeout", "300ms",
		"--direct", "auto", "--root-hints", hints)
	if r.code != exitIncomplete || !strings.Contains(r.stdout, "refuse this machine too") {
		t.Errorf("probe: exit %d\n%s%s", r.code, r.stdout, r.err)
	}
}

func TestDirectUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.root")
	os.WriteFile(bad, []byte(". NS a.root.test.\n"), 0o644)
	tests := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--direct", "sometimes"}, "--direct:"},
		{map[string]string{"BLCHECK_DIRECT": "maybe"}, nil, "BLCHECK_DIRECT:"},
		{nil, []string{"--direct", "always", "--root-hints", bad}, "--root-hints " + bad},
		{map[string]string{"BLCHECK_ROOT_HINTS": "/nonexistent/named.root"}, []string{"--direct", "auto"}, "BLCHECK_ROOT_HINTS:"},
	}
	for _, tt := range tests {
		r := runCLI(t, tt.env, "", append([]string{"192.0.2.10", "--resolver", "127.0.0.1:9"}, tt.args...)...)
		if r.code != exitUsage || !strings.Contains(r.err, tt.want) {
			t.Errorf("%v %v: exit %d, %q", tt.env, tt.args, r.code, r.err)
		}
	}
}

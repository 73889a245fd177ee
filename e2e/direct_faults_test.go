package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// faultAddr is 127.0.55.i: this test's own block, apart from the hierarchy of
// direct_test.go.
func faultAddr(i int) string { return fmt.Sprintf("127.0.55.%d", i) }

// startFaultyHierarchy starts a DNS tree of real servers whose name servers
// misbehave as real ones do, each list zone served well by rbldnsd (.9) beside
// or behind them:
//
//	.1   NSD  .            qa. → .2, example. → .3
//	.2   NSD  qa.          refused.qa → NSD that serves another zone (.5, REFUSED) and .9
//	                       stale.qa   → NSD with a stale copy of qa. (.6: AA NXDOMAIN, SOA qa.) and .9
//	                       dead.qa    → a silent server (.7) and .9; alldead.qa → .7 and .8
//	                       gl.qa      → ns.lists.example (no glue: example. says .9)
//	                       rrl.qa     → NSD serving it with a response rate limit of 1/s (.10)
//	                       v6.qa      → rbldnsd on ::1 only
//	.3   NSD  example.     ns.lists.example A .9
//	.11  unbound           the same tree, walked by a real iterative resolver
//
// 192.0.2.8/29 is listed (127.0.0.4) on every list zone; nothing else but the
// RFC 5782 test point.
func startFaultyHierarchy(t *testing.T) (hints string) {
	t.Helper()
	needRoot(t)
	nsd, rbldnsd, unbound := tool(t, "nsd", "nsd"), tool(t, "rbldnsd", "rbldnsd"), tool(t, "unbound", "unbound")
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // rbldnsd drops to its own user
	a := faultAddr
	soa := func(z string) string {
		ns := "ns.nic." + strings.TrimPrefix(z, ".")
		return fmt.Sprintf("$TTL 3600\n%[1]s SOA %[2]s hostmaster.%[2]s 1 3600 600 86400 60\n%[1]s NS %[2]s\n", z, ns)
	}
	testZone := soa("qa.") + fmt.Sprintf(`ns.nic.qa. A %[2]s
refused.qa.  NS ns1.refused.qa.
refused.qa.  NS ns2.refused.qa.
ns1.refused.qa. A %[5]s
ns2.refused.qa. A %[9]s
stale.qa.    NS ns1.stale.qa.
stale.qa.    NS ns2.stale.qa.
ns1.stale.qa. A %[6]s
ns2.stale.qa. A %[9]s
dead.qa.     NS ns1.dead.qa.
dead.qa.     NS ns2.dead.qa.
ns1.dead.qa. A %[7]s
ns2.dead.qa. A %[9]s
alldead.qa.  NS ns1.alldead.qa.
alldead.qa.  NS ns2.alldead.qa.
ns1.alldead.qa. A %[7]s
ns2.alldead.qa. A %[8]s
gl.qa.       NS ns.lists.example.
rrl.qa.      NS ns.rrl.qa.
ns.rrl.qa.   A %[10]s
v6.qa.       NS ns.v6.qa.
ns.v6.qa.    AAAA ::1
`, "", a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10))
	rrlZone := soa("rrl.qa.") + fmt.Sprintf("ns.nic.rrl.qa. A %s\n2.0.0.127.rrl.qa. A 127.0.0.2\n", a(10))
	for i := 8; i < 16; i++ {
		rrlZone += fmt.Sprintf("%d.2.0.192.rrl.qa. A 127.0.0.4\n", i)
	}
	files := map[string]string{
		"root.zone": soa(".") + fmt.Sprintf("ns.nic. A %s\nqa. NS ns.nic.qa.\nns.nic.qa. A %s\nexample. NS ns.nic.example.\nns.nic.example. A %s\n",
			a(1), a(2), a(3)),
		"test.zone":    testZone,
		"stale.zone":   soa("qa.") + fmt.Sprintf("ns.nic.qa. A %s\n", a(2)), // qa. as it was before the lists came
		"example.zone": soa("example.") + fmt.Sprintf("ns.nic.example. A %s\nns.lists.example. A %s\n", a(3), a(9)),
		"other.zone":   soa("other.example.") + fmt.Sprintf("ns.nic.other.example. A %s\n", a(5)),
		"rrl.zone":     rrlZone,
		"list":         "127.0.0.2 :127.0.0.2:\n192.0.2.8/29 :127.0.0.4:listed\n",
		"list6":        "::ffff:7f00:2 :127.0.0.2:\n",
		"named.root":   fmt.Sprintf(".  3600000  NS  ns.nic.\nns.nic.  3600000  A  %s\n", a(1)),
		"unbound.conf": unboundConf(dir, a(11), true),
	}
	confs := map[int][2]string{1: {".", "root.zone"}, 2: {"qa.", "test.zone"}, 3: {"example.", "example.zone"},
		5: {"other.example.", "other.zone"}, 6: {"qa.", "stale.zone"}, 10: {"rrl.qa.", "rrl.zone"}}
	for i, c := range confs {
		conf := nsdConf(dir, a(i), c[0], c[1])
		if i == 10 { // one answer a second for the whole /24, every second one dropped a TC instead
			conf = strings.Replace(conf, "  verbosity: 1\n", "  verbosity: 1\n  rrl-ratelimit: 1\n  rrl-slip: 2\n  rrl-whitelist-ratelimit: 1\n", 1)
		}
		files[fmt.Sprintf("nsd-%d.conf", i)] = conf
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	silent(t, a(7))
	silent(t, a(8))
	var logs []*strings.Builder
	for i := range confs {
		logs = append(logs, daemon(t, nsd, "-d", "-c", filepath.Join(dir, fmt.Sprintf("nsd-%d.conf", i))))
	}
	args := []string{"-n", "-e", "-t", "60", "-w", dir, "-b", a(9) + "/53", "-u", "rbldns"}
	for _, z := range []string{"refused.qa", "stale.qa", "dead.qa", "alldead.qa", "gl.qa"} {
		args = append(args, z+":ip4trie:list")
	}
	logs = append(logs, daemon(t, rbldnsd, args...))
	if pc, err := net.ListenPacket("udp", "[::1]:53"); err == nil {
		pc.Close()
		logs = append(logs, daemon(t, rbldnsd, "-n", "-e", "-t", "60", "-w", dir, "-b", "::1/53", "-u", "rbldns",
			"v6.qa:ip4trie:list", "v6.qa:ip6trie:list6"))
	}
	if _, ok := answers(a(9), "2.0.0.127.gl.qa"); !ok {
		t.Fatalf("rbldnsd did not start on %s:53: %v", a(9), logs)
	}
	for i, c := range confs { // NSD takes a second to load its zones
		if !serves(a(i), c[0]) {
			t.Fatalf("NSD did not start on %s:53 for %s", a(i), c[0])
		}
	}
	logs = append(logs, daemon(t, unbound, "-d", "-c", filepath.Join(dir, "unbound.conf")))
	// the tree, as a real iterative resolver walks it: every list answers (not
	// stale.qa: unbound 1.17 takes the stale server's NXDOMAIN, SOA qa., as
	// the answer when it happens to ask it first)
	for _, z := range []string{"refused.qa", "dead.qa", "gl.qa", "rrl.qa"} {
		if got, ok := answers(a(11), "10.2.0.192."+z); !ok || got != "127.0.0.4" {
			for _, q := range [][2]string{{a(1), "10.2.0.192." + z}, {a(2), "10.2.0.192." + z}, {a(9), "10.2.0.192." + z}, {a(11), "10.2.0.192." + z}} {
				m := new(dns.Msg)
				m.SetQuestion(dns.Fqdn(q[1]), dns.TypeA)
				m.RecursionDesired = q[0] == a(11)
				r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, q[0]+":53")
				t.Logf("%s %s: %v %v", q[0], q[1], r, err)
			}
			for i := range confs {
				b, _ := os.ReadFile(filepath.Join(dir, "nsd-"+a(i)+".log"))
				logs = append(logs, &strings.Builder{})
				logs[len(logs)-1].Write(b)
			}
			t.Fatalf("unbound, from the fake root: 10.2.0.192.%s = %q, want 127.0.0.4\nlogs: %v", z, got, logs)
		}
	}
	return filepath.Join(dir, "named.root")
}

// serves polls server until it answers zone's SOA, or gives up.
func serves(server, zone string) bool {
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	for range 50 {
		if r, _, err := c.Exchange(m, net.JoinHostPort(server, "53")); err == nil && r.Authoritative && len(r.Answer) > 0 {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func faultCatalog(t *testing.T, zones ...string) string {
	t.Helper()
	var b strings.Builder
	for _, z := range zones {
		fmt.Fprintf(&b, "- id: %s\n  name: List %s\n  zone: %s\n  kind: ip\n  families: [ipv4]\n  default: true\n  status: active\n"+
			"  codes:\n    127.0.0.2: test point\n    127.0.0.4: listed\n  delist: https://example.com/{subject}\n",
			strings.TrimSuffix(z, ".qa"), z, z)
	}
	p := filepath.Join(t.TempDir(), "lists.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Lists whose name servers misbehave as real ones do: each check is what the
// list says (listed or clean) where one of its servers says it well, or an
// error; never clean for want of an answer.
func TestDirectMisbehavingServers(t *testing.T) {
	hints := startFaultyHierarchy(t)
	resolver := refusingResolver(t, true) // asked for nothing: --direct always
	common := []string{"--direct", "always", "--root-hints", hints, "--resolver", resolver, "--timeout", "1s", "-o", "json"}
	// 192.0.2.8-15 listed, .16-.19 not: each server of a zone is asked about some
	subjects := []string{"192.0.2.8/29", "192.0.2.16/30"}
	want := func(subject string) string {
		if a, err := netip.ParseAddr(subject); err == nil && a.As4()[3] >= 16 {
			return "clean"
		}
		return "listed"
	}
	for _, zone := range []string{"refused.qa", "stale.qa", "dead.qa", "gl.qa", "rrl.qa", "v6.qa"} {
		t.Run(zone, func(t *testing.T) {
			if zone == "v6.qa" {
				if _, ok := answers("::1", "2.0.0.127.v6.qa"); !ok {
					t.Skip("nothing serves [::1]:53 (no IPv6 loopback, or it was taken)")
				}
			}
			r := blcheckEnv(t, nil, append(append([]string{}, subjects...), append([]string{"--lists", faultCatalog(t, zone)}, common...)...)...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			for _, c := range checks(t, r.stdout) {
				if c.Status != want(c.Subject) {
					t.Errorf("%s on %s: %s %v %s, want %s", c.Subject, zone, c.Status, c.Codes, c.Error, want(c.Subject))
				}
			}
		})
	}
	// stopped during the walk to silent servers: what was not answered is
	// never clean
	stopped := func(t *testing.T, r run, code int) {
		t.Helper()
		cs := checks(t, r.stdout)
		if r.code != code || len(cs) != 2 {
			t.Fatalf("exit %d, %d checks, want %d and 2\n%s%s", r.code, len(cs), code, r.stdout, r.stderr)
		}
		for _, c := range cs {
			if c.Status != "error" {
				t.Errorf("%s: %s, want error", c.Subject, c.Status)
			}
		}
	}
	slow := []string{"--direct", "always", "--root-hints", hints, "--resolver", resolver, "--timeout", "5s", "-o", "json",
		"--lists", faultCatalog(t, "alldead.qa"), "192.0.2.8", "192.0.2.16"}
	t.Run("the deadline passes during a walk", func(t *testing.T) {
		stopped(t, blcheckEnv(t, nil, append(slow, "--deadline", "300ms")...), 3)
	})
	t.Run("Ctrl-C during a walk", func(t *testing.T) {
		cmd := exec.Command(binary, slow...)
		cmd.Env = []string{"NO_COLOR=1", "PATH=/usr/bin:/bin"}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // within the first server's 5s: earlier or later, nothing may be clean
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		stopped(t, run{code, out.String(), errb.String()}, 130)
	})
	t.Run("every name server dead", func(t *testing.T) {
		r := blcheckEnv(t, nil, append([]string{"192.0.2.8", "192.0.2.16"}, append([]string{"--lists", faultCatalog(t, "alldead.qa")}, common...)...)...)
		cs := checks(t, r.stdout)
		if r.code != 3 || len(cs) != 2 {
			t.Fatalf("exit %d, %d checks, want 3 and 2\n%s%s", r.code, len(cs), r.stdout, r.stderr)
		}
		for _, c := range cs {
			if c.Status != "error" {
				t.Errorf("%s: %s, want error", c.Subject, c.Status)
			}
		}
	})
}

package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// hierarchy is a DNS tree of real servers on port 53 of addresses in
// 127.0.53.0/24: NSD serving a fake root zone and an intermediate com. zone,
// rbldnsd serving the list zones, and a root hints file naming the fake root.
type hierarchy struct {
	hints  string // named.root for --root-hints
	hintsD string // root hints naming a root that never answers (a filtered port 53)
	// what the dead name server and the dead root were asked
	deadNS, deadRoot *queryLog
}

// queryLog is what a silent server was asked: for each question ("name type"),
// the source addresses it came from. A try's copies leave from one socket, and
// tries from different ones, so a question from two sources was tried twice.
type queryLog struct {
	mu      sync.Mutex
	sources map[string]map[string]bool
}

func (l *queryLog) add(question, source string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sources[question] == nil {
		l.sources[question] = map[string]bool{}
	}
	l.sources[question][source] = true
}

// take returns what was asked since the last take, and forgets it.
func (l *queryLog) take() map[string]map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := l.sources
	l.sources = map[string]map[string]bool{}
	return got
}

// addr is the address base+i of the test's block in 127.0.53.0/24.
func addr(base, i int) string { return fmt.Sprintf("127.0.53.%d", base+i) }

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("the direct-mode end-to-end test serves DNS on port 53 of 127.0.53.0/24, which needs root (CI runs as root)")
	}
	t.Skip("the direct-mode end-to-end test needs root (it serves DNS on port 53 of 127.0.53.0/24): skipped")
}

func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed, and CI=true requires the end-to-end tests to run (apt-get install -y %s)", name, pkg)
	}
	t.Skipf("%s is not installed: skipped (apt-get install -y %s to run it)", name, pkg)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// daemon runs a server in the foreground until the test ends.
func daemon(t *testing.T, name string, args ...string) *strings.Builder {
	t.Helper()
	cmd := exec.Command(name, args...)
	var logb strings.Builder
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &logb
}

// answers polls server until it answers name (A) with an address, or gives up.
func answers(server, name string) (string, bool) {
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	for i := 0; i < 50; i++ {
		if r, _, err := c.Exchange(m, net.JoinHostPort(server, "53")); err == nil && len(r.Answer) > 0 {
			if a, ok := r.Answer[len(r.Answer)-1].(*dns.A); ok {
				return a.A.String(), true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", false
}

// silent binds addr:53 (UDP) and never answers: a server behind a filter. It
// logs what it is asked.
func silent(t *testing.T, ip string) *queryLog {
	t.Helper()
	log := &queryLog{sources: map[string]map[string]bool{}}
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "53"))
	if err != nil {
		t.Fatalf("cannot bind %s:53: %v", ip, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m dns.Msg
			if m.Unpack(buf[:n]) == nil && len(m.Question) == 1 {
				q := m.Question[0]
				log.add(q.Name+" "+dns.TypeToString[q.Qtype], from.String())
			}
		}
	}()
	return log
}

func nsdConf(dir, ip, zone, file string) string {
	return fmt.Sprintf(`server:
  ip-address: %[2]s
  port: 53
  zonesdir: "%[1]s"
  database: ""
  pidfile: "%[1]s/nsd-%[2]s.pid"
  xfrdfile: "%[1]s/xfrd-%[2]s.state"
  zonelistfile: "%[1]s/zones-%[2]s.list"
  logfile: "%[1]s/nsd-%[2]s.log"
  username: ""
  chroot: ""
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: "%[3]s"
  zonefile: "%[4]s"
`, dir, ip, zone, file)
}

// startHierarchy starts the tree:
//
//	.     NSD   base+1   zen.spamhaus.org and xbl.spamhaus.org → rbldnsd (zen: a dead server first);
//	                     com. → base+2
//	com.  NSD   base+2   multi.uribl.com → rbldnsd
//	            base+3   rbldnsd: zen (192.0.2.10, 2001:db8::25 listed), xbl (refuses every
//	                     address, naming 198.51.100.7), multi.uribl.com (bad.example listed)
//	            base+4   a dead name server; base+5 a dead root
//
// and checks it with unbound, a real iterative resolver, on base+6.
func startHierarchy(t *testing.T) *hierarchy {
	t.Helper()
	needRoot(t)
	nsd, rbldnsd, unbound := tool(t, "nsd", "nsd"), tool(t, "rbldnsd", "rbldnsd"), tool(t, "unbound", "unbound")
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // rbldnsd drops to its own user
	base := 10 + 10*rand.IntN(23)
	a := func(i int) string { return addr(base, i) }
	rootZone := fmt.Sprintf(`$TTL 3600
.                    SOA  a.root-servers.test. hostmaster.test. 1 3600 600 86400 60
.                    NS   a.root-servers.test.
a.root-servers.test. A    %[1]s
a.gtld-servers.test. A    %[2]s
com.                 NS   a.gtld-servers.test.
zen.spamhaus.org.    NS   dead.spamhaus.org.
zen.spamhaus.org.    NS   ns.spamhaus.org.
xbl.spamhaus.org.    NS   ns.spamhaus.org.
ns.spamhaus.org.     A    %[3]s
dead.spamhaus.org.   A    %[4]s
`, a(1), a(2), a(3), a(4))
	comZone := fmt.Sprintf(`$TTL 3600
com.                 SOA  a.gtld-servers.test. hostmaster.test. 1 3600 600 86400 60
com.                 NS   a.gtld-servers.test.
multi.uribl.com.     NS   ns.multi.uribl.com.
ns.multi.uribl.com.  A    %[1]s
`, a(3))
	files := map[string]string{
		"root.zone": rootZone, "com.zone": comZone,
		"nsd-root.conf": nsdConf(dir, a(1), ".", "root.zone"), "nsd-com.conf": nsdConf(dir, a(2), "com.", "com.zone"),
		"zen4":         "127.0.0.2 :127.0.0.2:\n192.0.2.10 :127.0.0.4:Listed in XBL, see https://check.spamhaus.org/listed/?searchterm=$\n",
		"zen6":         "::ffff:7f00:2 :127.0.0.2:\n2001:db8::25 :127.0.0.3:CSS listing\n",
		"xbl":          "0.0.0.0/0 :127.255.255.254:Refused: queries from 198.51.100.7 (a hosting network) are not answered\n",
		"uribl":        "test.uribl.com :127.0.0.2:\nbad.example :127.0.0.2:Black listed\n",
		"named.root":   fmt.Sprintf(".  3600000  NS  A.ROOT-SERVERS.TEST.\nA.ROOT-SERVERS.TEST.  3600000  A  %s\n", a(1)),
		"dead.root":    fmt.Sprintf(".  3600000  NS  A.ROOT-SERVERS.TEST.\nA.ROOT-SERVERS.TEST.  3600000  A  %s\n", a(5)),
		"unbound.conf": unboundConf(dir, a(6), false),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deadNS, deadRoot := silent(t, a(4)), silent(t, a(5))
	logs := []*strings.Builder{
		daemon(t, nsd, "-d", "-c", filepath.Join(dir, "nsd-root.conf")),
		daemon(t, nsd, "-d", "-c", filepath.Join(dir, "nsd-com.conf")),
	}
	args := []string{"-n", "-e", "-t", "60", "-w", dir, "-b", a(3) + "/53", "-u", "rbldns",
		"zen.spamhaus.org:ip4trie:zen4", "zen.spamhaus.org:ip6trie:zen6", "xbl.spamhaus.org:ip4trie:xbl",
		"multi.uribl.com:dnset:uribl"}
	logs = append(logs, daemon(t, rbldnsd, args...))
	if _, ok := answers(a(3), "2.0.0.127.zen.spamhaus.org"); !ok {
		t.Fatalf("rbldnsd did not start on %s:53: %s", a(3), logs[2])
	}
	logs = append(logs, daemon(t, unbound, "-d", "-c", filepath.Join(dir, "unbound.conf")))
	// the fake hierarchy itself, as a real iterative resolver walks it
	for name, want := range map[string]string{"2.0.0.127.zen.spamhaus.org": "127.0.0.2", "test.uribl.com.multi.uribl.com": "127.0.0.2",
		"10.2.0.192.zen.spamhaus.org": "127.0.0.4"} {
		if got, ok := answers(a(6), name); !ok || got != want {
			t.Fatalf("unbound, from the fake root: %s = %q, want %s\nlogs: %v", name, got, want, logs)
		}
	}
	deadNS.take() // unbound's
	return &hierarchy{hints: filepath.Join(dir, "named.root"), hintsD: filepath.Join(dir, "dead.root"), deadNS: deadNS, deadRoot: deadRoot}
}

// refusingResolver answers as a public resolver that the lists refuse:
// 127.255.255.254 for every Spamhaus name, 127.0.0.1 for every URIBL name;
// with drop, it drops the list zones instead.
func refusingResolver(t *testing.T, drop bool) string {
	srv := dnsbltest.New(t)
	srv.Wildcard("spamhaus.org", "127.255.255.254")
	srv.Wildcard("uribl.com", "127.0.0.1")
	srv.A("bad.example", "192.0.2.11")
	srv.A("example.test", "192.0.2.10") // a domain whose address is on XBL
	if drop {
		srv.AddFault(dnsbltest.Fault{Suffix: "spamhaus.org", Kind: dnsbltest.Drop})
		srv.AddFault(dnsbltest.Fault{Suffix: "uribl.com", Kind: dnsbltest.Drop})
	}
	return srv.Addr
}

func TestDirectEndToEnd(t *testing.T) {
	h := startHierarchy(t)
	refusing, dropping := refusingResolver(t, false), refusingResolver(t, true)
	common := func(resolver string, more ...string) []string {
		return append([]string{"--resolver", resolver, "--timeout", "1s", "--retries", "0"}, more...)
	}
	// a dead server costs one try of each question asked of it before it timed
	// out (it is tried last after that), and never more: said by what it got,
	// not by a wall-clock bound
	oneTryEach := func(t *testing.T, what string, log *queryLog) int {
		t.Helper()
		asked := log.take()
		for q, sources := range asked {
			if len(sources) > 1 {
				t.Errorf("the %s was asked %s in %d tries (from %v), want one", what, q, len(sources), sources)
			}
		}
		return len(asked)
	}

	t.Run("a listing found directly, past a dead first name server", func(t *testing.T) {
		h.deadNS.take()
		r := blcheckEnv(t, nil, append([]string{"example.test", "-l", "spamhaus-zen", "--ns=false"}, common(refusing, "--root-hints", h.hints)...)...)
		if r.code != 1 || !strings.Contains(r.stdout, "LISTED Spamhaus ZEN (zen.spamhaus.org) 127.0.0.4 (asked directly)") ||
			!strings.Contains(r.stdout, "Asked directly") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if n := oneTryEach(t, "dead first name server", h.deadNS); n == 0 {
			t.Error("the dead first name server was never asked: the test says nothing of it")
		}
	})
	t.Run("never: blocked", func(t *testing.T) {
		r := blcheckEnv(t, []string{"BLCHECK_ROOT_HINTS=" + h.hints}, append([]string{"192.0.2.10", "-l", "spamhaus-zen", "--direct", "never"}, common(refusing)...)...)
		if r.code != 3 || !strings.Contains(r.stdout, "blocked") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("always: the resolver dropping the list zones does not matter", func(t *testing.T) {
		r := blcheckEnv(t, []string{"BLCHECK_DIRECT=always", "BLCHECK_ROOT_HINTS=" + h.hints},
			append([]string{"192.0.2.10", "bad.example", "-l", "spamhaus-zen,uribl", "-o", "json"}, common(dropping)...)...)
		if r.code != 1 || strings.Count(r.stdout, `"asked": "direct"`) < 2 || strings.Contains(r.stdout, `"asked": "resolver"`) ||
			!strings.Contains(r.stdout, `"list": "uribl"`) {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("an IPv6 listing, 32 nibbles", func(t *testing.T) {
		r := blcheckEnv(t, nil, append([]string{"2001:db8::25", "-l", "spamhaus-zen"}, common(refusing, "--root-hints", h.hints)...)...)
		if r.code != 1 || !strings.Contains(r.stdout, "LISTED") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("a list that refuses the direct query too is said first", func(t *testing.T) {
		r := blcheckEnv(t, nil, append([]string{"192.0.2.10", "-l", "spamhaus-xbl"}, common(refusing, "--root-hints", h.hints)...)...)
		first, _, _ := strings.Cut(r.stdout, "\n")
		if r.code != 3 || !strings.Contains(first, "refuse this machine too") || !strings.Contains(r.stdout, "198.51.100.7") ||
			!strings.Contains(r.stdout, "BLCHECK_SPAMHAUS_DQS_KEY") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("a root that does not answer", func(t *testing.T) {
		h.deadRoot.take()
		r := blcheckEnv(t, nil, append([]string{"192.0.2.10", "-l", "spamhaus-zen"}, common(refusing, "--root-hints", h.hintsD)...)...)
		if r.code != 3 || strings.Count(r.stdout, "could not be asked") != 1 || !strings.Contains(r.stdout, "blocked") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		// one walk toward the list zone, shared by every lookup, tried once
		if n := oneTryEach(t, "dead root", h.deadRoot); n != 1 {
			t.Errorf("the dead root was asked %d questions, want one (every lookup shares one walk)", n)
		}
	})
}

// unboundConf is the configuration of an unbound that checks a test tree: it
// listens at iface:53, walks from dir/named.root, and asks servers on
// loopback; ipv6 lets it ask them over IPv6 too.
func unboundConf(dir, iface string, ipv6 bool) string {
	ip6 := "  do-ip6: no\n"
	if ipv6 {
		ip6 = ""
	}
	return fmt.Sprintf(`server:
  interface: %[2]s
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "%[1]s"
  pidfile: "%[1]s/unbound.pid"
  use-syslog: no
  logfile: ""
%[3]s  module-config: "iterator"
  root-hints: "%[1]s/named.root"
  do-not-query-localhost: no
  qname-minimisation: no
  access-control: 127.0.0.0/8 allow
remote-control:
  control-enable: no
`, dir, iface, ip6)
}

// Package e2e runs the built blcheck binary against rbldnsd, the DNSBL server
// software many real lists run, on loopback. With CI=true the tests must run;
// elsewhere they skip with a message when rbldnsd is not installed.
package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var binary string

func TestMain(m *testing.M) {
	// whatever a test forgets, the binary it starts never asks the internet's root servers
	os.Setenv("BLCHECK_DIRECT", "never")
	dir, err := os.MkdirTemp("", "blcheck-e2e-bin-")
	if err != nil {
		panic(err)
	}
	// blcheck, and beside it blcheck-serve, which `blcheck serve` runs
	binary = filepath.Join(dir, "blcheck")
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "../cmd/blcheck", "../cmd/blcheck-serve")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot build blcheck:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// zones served by the test world: rbldnsd dataset type and lines.
var zones = []struct{ zone, typ, data string }{
	{"zen.spamhaus.org", "ip4trie", "127.0.0.2 :127.0.0.2:\n192.0.2.10 :127.0.0.4:Listed in XBL, see https://check.spamhaus.org/listed/?searchterm=$\n" +
		"192.0.2.123 :127.0.0.4:\n203.0.113.10 :127.0.0.2:\n"}, // DMARC sample sources: one real, one forger
	{"zen.spamhaus.org", "ip6trie", "::ffff:7f00:2 :127.0.0.2:\n2001:db8::25 :127.0.0.3:CSS listing\n"},
	{"bl.spamcop.net", "ip4trie", "127.0.0.2 :127.0.0.2:\n"},
	{"xbl.spamhaus.org", "ip4trie", "127.0.0.2 :127.255.255.254:\n0.0.0.0/0 :127.255.255.254:\n"},
	{"dnsbl.njabl.org", "ip4trie", "0.0.0.0/0 :127.0.0.2:\n"},
	{"psbl.surriel.com", "ip4trie", "127.0.0.2 :127.0.0.2:\n"},
	{"dbl.spamhaus.org", "dnset", "test :127.0.1.2:\ndbltest.com :127.0.1.2:\nbad.example :127.0.1.2:Spam domain $\n"},
	{"multi.surbl.org", "dnset", "test :127.0.0.64:\ntest.surbl.org :127.0.0.64:\n"},
	{"example.test", "generic", "@ A 192.0.2.10\n@ MX 10 mx.example.test.\n"},
	{"mx.example.test", "generic", "@ A 192.0.2.11\n"},
	{"bad.example", "generic", "@ A 192.0.2.11\n"},
	{"www.bad.example", "generic", "@ A 192.0.2.10\n"},
	{"justatheory.com", "generic", "@ A 192.0.2.10\n"},
	{"www.justatheory.com", "generic", "@ A 192.0.2.10\n"},
}

type world struct {
	addr  string // rbldnsd
	proxy string // a proxy in front that drops queries for psbl.surriel.com
}

func freePort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func startWorld(t *testing.T) *world {
	t.Helper()
	rbldnsd, err := exec.LookPath("rbldnsd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("rbldnsd is not installed, and CI=true requires the end-to-end tests to run (apt-get install -y rbldnsd)")
		}
		t.Skip("rbldnsd is not installed: end-to-end tests skipped (apt-get install -y rbldnsd to run them)")
	}
	dir, err := os.MkdirTemp("", "blcheck-e2e-zones-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // rbldnsd drops to its own user when started as root
	var specs []string
	for i, z := range zones {
		name := fmt.Sprintf("z%d.%s", i, z.typ)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(z.data), 0o644); err != nil {
			t.Fatal(err)
		}
		specs = append(specs, fmt.Sprintf("%s:%s:%s", z.zone, z.typ, name))
	}
	var cmd *exec.Cmd
	var addr string
	for attempt := 0; attempt < 5; attempt++ {
		addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		args := []string{"-n", "-e", "-t", "1", "-w", dir, "-b", strings.Replace(addr, ":", "/", 1)}
		if os.Geteuid() == 0 {
			args = append(args, "-u", "rbldns")
		}
		cmd = exec.Command(rbldnsd, append(args, specs...)...)
		var logb strings.Builder
		cmd.Stdout, cmd.Stderr = &logb, &logb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if waitReady(addr) {
			break
		}
		cmd.Process.Kill()
		cmd.Wait()
		cmd = nil
		t.Logf("rbldnsd did not start on %s: %s", addr, logb.String())
	}
	if cmd == nil {
		t.Fatal("rbldnsd did not start")
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &world{addr: addr, proxy: startDropProxy(t, addr, "psbl.surriel.com.")}
}

// waitReady polls rbldnsd until it answers its test point.
func waitReady(addr string) bool {
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("2.0.0.127.zen.spamhaus.org.", dns.TypeA)
	for i := 0; i < 50; i++ {
		if r, _, err := c.Exchange(m, addr); err == nil && len(r.Answer) > 0 {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// startDropProxy forwards UDP queries to upstream, except those under drop,
// which get no answer at all: a list that times out.
func startDropProxy(t *testing.T, upstream, drop string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 || strings.HasSuffix(strings.ToLower(q.Question[0].Name), drop) {
				continue
			}
			go func(query []byte, from net.Addr) {
				up, err := net.Dial("udp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				up.SetDeadline(time.Now().Add(2 * time.Second))
				up.Write(query)
				resp := make([]byte, 4096)
				if n, err := up.Read(resp); err == nil {
					pc.WriteTo(resp[:n], from)
				}
			}(append([]byte(nil), buf[:n]...), from)
		}
	}()
	return pc.LocalAddr().String()
}

type run struct {
	code   int
	stdout string
	stderr string
}

func blcheck(t *testing.T, args ...string) run {
	t.Helper()
	return blcheckEnv(t, []string{"BLCHECK_DIRECT=never"}, args...)
}

// blcheckEnv runs blcheck with env added to its environment. A test not about
// direct mode runs with BLCHECK_DIRECT=never: no test may ask the internet's
// root servers.
func blcheckEnv(t *testing.T, env []string, args ...string) run {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"NO_COLOR=1", "PATH=/usr/bin:/bin"}, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{code, out.String(), errb.String()}
}

type check struct {
	Subject, List, Status, Reason, Error string
	Codes, Meanings                      []string
	DelistURL                            string `json:"delist_url"`
}

func checks(t *testing.T, stdout string) []check {
	t.Helper()
	var doc struct {
		Targets []struct{ Checks []check }
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	var out []check
	for _, tr := range doc.Targets {
		out = append(out, tr.Checks...)
	}
	return out
}

func status(cs []check, subject, list string) check {
	for _, c := range cs {
		if c.Subject == subject && c.List == list {
			return c
		}
	}
	return check{Status: "missing"}
}

func TestEndToEnd(t *testing.T) {
	w := startWorld(t)
	lists := "zen,spamcop,dbl,surbl"
	common := []string{"--resolver", w.proxy, "--timeout", "300ms", "--retries", "1", "-l", lists}

	t.Run("IPv4 listed in XBL", func(t *testing.T) {
		r := blcheck(t, append([]string{"192.0.2.10"}, common...)...)
		if r.code != 1 || !strings.Contains(r.stdout, "XBL: exploited or infected host") ||
			!strings.Contains(r.stdout, "reason: Listed in XBL, see https://check.spamhaus.org/listed/?searchterm=192.0.2.10") ||
			!strings.Contains(r.stdout, "delist: https://check.spamhaus.org/") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("IPv6 listed", func(t *testing.T) {
		r := blcheck(t, append([]string{"2001:db8::25", "-o", "json"}, common...)...)
		c := status(checks(t, r.stdout), "2001:db8::25", "spamhaus-zen")
		if r.code != 1 || c.Status != "listed" || c.Codes[0] != "127.0.0.3" {
			t.Errorf("exit %d, %+v", r.code, c)
		}
		if c := status(checks(t, r.stdout), "2001:db8::25", "spamcop"); c.Status != "clean" {
			t.Errorf("spamcop (v4 and v6): %+v", c)
		}
	})
	for _, target := range []string{"example.test", "https://example.test/newsletter?id=1", "postmaster@example.test"} {
		t.Run("domain form "+target, func(t *testing.T) {
			r := blcheck(t, append([]string{target, "-o", "json"}, common...)...)
			cs := checks(t, r.stdout)
			if r.code != 1 || status(cs, "192.0.2.10", "spamhaus-zen").Status != "listed" ||
				status(cs, "192.0.2.11", "spamhaus-zen").Status != "clean" || status(cs, "example.test", "spamhaus-dbl").Status != "clean" {
				t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
	t.Run("listed domain", func(t *testing.T) {
		r := blcheck(t, append([]string{"bad.example", "-o", "json"}, common...)...)
		c := status(checks(t, r.stdout), "bad.example", "spamhaus-dbl")
		if r.code != 1 || c.Status != "listed" || c.Meanings[0] != "spam domain (low reputation)" || c.Reason != "Spam domain bad.example" {
			t.Errorf("exit %d %+v", r.code, c)
		}
	})
	t.Run("clean", func(t *testing.T) {
		r := blcheck(t, append([]string{"192.0.2.99"}, common...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "192.0.2.99: clean") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("a list that times out is an error, not clean", func(t *testing.T) {
		r := blcheck(t, "192.0.2.99", "--resolver", w.proxy, "--timeout", "300ms", "-l", "zen,psbl", "-o", "json")
		c := status(checks(t, r.stdout), "192.0.2.99", "psbl")
		if r.code != 3 || c.Status != "error" || !strings.Contains(c.Error, "timed out") { // strict, the default: incomplete
			t.Errorf("exit %d %+v", r.code, c)
		}
		if r := blcheck(t, "192.0.2.99", "--resolver", w.proxy, "--timeout", "300ms", "-l", "zen,psbl", "--strict=false"); r.code != 0 ||
			!strings.Contains(r.stdout, "Not checked: psbl (1 error).") {
			t.Errorf("--strict=false: exit %d\n%s", r.code, r.stdout)
		}
		if r := blcheck(t, "192.0.2.99", "--resolver", w.proxy, "--timeout", "300ms", "-l", "psbl"); r.code != 3 ||
			!strings.Contains(r.stdout, "no list could be checked") {
			t.Errorf("only list timing out: exit %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("dead list that lists everything", func(t *testing.T) {
		r := blcheck(t, "192.0.2.99", "--resolver", w.addr, "-l", "zen,njabl")
		if r.code != 3 || !strings.Contains(r.stdout, "UNRELIABLE NJABL") || !strings.Contains(r.stderr, "njabl") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("list refusing the resolver", func(t *testing.T) {
		r := blcheck(t, "192.0.2.99", "--resolver", w.addr, "-l", "zen,xbl", "-o", "json")
		if c := status(checks(t, r.stdout), "192.0.2.99", "spamhaus-xbl"); r.code != 3 || c.Status != "blocked" {
			t.Errorf("exit %d %+v", r.code, c)
		}
		text := blcheck(t, "192.0.2.99", "--resolver", w.addr, "-l", "zen,xbl")
		if !strings.Contains(text.stdout, "BLOCKED    Spamhaus XBL") || !strings.Contains(text.stdout, "DQS key") {
			t.Errorf("the text must say why and how to fix it:\n%s", text.stdout)
		}
	})
	t.Run("scan a campaign", func(t *testing.T) {
		r := blcheck(t, append([]string{"scan", "../pkg/extract/testdata/campaign.eml"}, common...)...)
		if r.code != 1 || !strings.Contains(r.stdout, "www.bad.example: LISTED") ||
			!strings.Contains(r.stdout, "campaign.eml, part 2 (text/html) line 2, in href") ||
			!strings.Contains(r.stdout, "reason: Spam domain bad.example") || !strings.Contains(r.stdout, "delist: https://check.spamhaus.org/") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		clean := blcheck(t, append([]string{"scan", "../pkg/extract/testdata/clean.txt"}, common...)...)
		if clean.code != 0 {
			t.Errorf("clean file: exit %d\n%s%s", clean.code, clean.stdout, clean.stderr)
		}
	})
	t.Run("the seed's bounce", func(t *testing.T) {
		cmd := exec.Command(binary, "bounce", "-", "--resolver", w.proxy, "--timeout", "300ms")
		cmd.Env = []string{"NO_COLOR=1", "BLCHECK_DIRECT=never"}
		in, err := os.Open("../pkg/bounce/testdata/qmail-seed.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		cmd.Stdin = in
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 1 || !strings.Contains(string(out), "linked in your message, resolves to 192.0.2.10, which is in Spamhaus ZEN") ||
			!strings.Contains(string(out), "delist: https://check.spamhaus.org/") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("unreachable resolver", func(t *testing.T) {
		dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		r := blcheck(t, "192.0.2.10", "--resolver", dead, "--timeout", "200ms", "-l", "zen")
		if r.code != 3 {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

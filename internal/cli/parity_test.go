package cli

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// A newsletter that links to a listed host name, to an address hidden as a
// number, to a domain whose name server is on SBL, and to a site on a dynamic
// range: the first three fail it, each said for what it is; the last is a note.
func TestScanParityGolden(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("shop.hacked-example.test", "192.0.2.49")
	srv.List("dbl.spamhaus.org", "shop.hacked-example.test", []string{"127.0.1.2"}, "hacked site")
	srv.List("multi.surbl.org", "192.0.2.50", []string{"127.0.0.64"})
	srv.A("news.example.org", "192.0.2.61")
	srv.RR("example.org. 60 IN NS ns1.badhost.test.")
	srv.A("ns1.badhost.test", "192.0.2.52")
	srv.List("zen.spamhaus.org", "192.0.2.52", []string{"127.0.0.2"}, "SBL record")
	srv.A("cdn.example.test", "192.0.2.51")
	srv.List("zen.spamhaus.org", "192.0.2.51", []string{"127.0.0.10"})
	dir := t.TempDir()
	news := filepath.Join(dir, "newsletter.html")
	os.WriteFile(news, []byte(`<html><body>
<p>Our <a href="https://shop.hacked-example.test/sale">sale</a> is on.</p>
<p>Order <a href="http://3221226034/order">online</a>.</p>
<a href="https://news.example.org/unsubscribe">unsubscribe</a>
<img src="https://cdn.example.test/logo.png">
</body></html>
`), 0o644)
	args := []string{"scan", news, "-r", srv.Addr, "--timeout", "200ms", "--retries", "0", "-l", "zen,dbl,surbl"}
	for _, tc := range []struct{ file, format string }{{"parity.txt", "text"}, {"parity.json", "json"}} {
		got := runCLI(t, nil, "", append(args, "-o", tc.format)...)
		if got.code != 1 {
			t.Fatalf("exit %d, want 1: %s\n%s", got.code, got.err, got.stdout)
		}
		golden(t, tc.file, normalizePath(normalize(got.stdout), dir))
	}
}

// normalizePath replaces a test's temporary directory with DIR.
func normalizePath(s, dir string) string {
	return strings.ReplaceAll(s, dir, "DIR")
}

// The seed: a plain-text message linking to the sender's own site, whose
// address is on XBL (php.net rejected it: "reject content [xbl]"), fails the
// scan with every default list; a message linking to a site on PBL only is
// noted and passes.
func TestScanSeedMail(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("www.justatheory.com", "192.0.2.10")
	srv.A("justatheory.com", "192.0.2.10")
	srv.A("www.bricolage.cc", "192.0.2.30")
	srv.A("home.example.com", "192.0.2.40")
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "https://check.spamhaus.org/query/ip/192.0.2.10")
	srv.List("zen.spamhaus.org", "192.0.2.40", []string{"127.0.0.10"})
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.txt")
	os.WriteFile(seed, []byte("Hi George,\n\nBricolage 1.9.0 is out, with PHP templating:\nhttps://www.justatheory.com/computers/programming/bricolage/\nand http://www.bricolage.cc/.\n\nDavid\n"), 0o644)
	pbl := filepath.Join(dir, "pbl.txt")
	os.WriteFile(pbl, []byte("My home page: https://home.example.com/\n"), 0o644)
	r := []string{"-r", srv.Addr, "--timeout", "300ms", "--retries", "0"}

	got := runCLI(t, nil, "", append([]string{"scan", seed}, r...)...)
	if got.code != 1 || !strings.Contains(got.stdout, "www.justatheory.com: LISTED") ||
		!strings.Contains(got.stdout, "127.0.0.4") || !strings.Contains(got.stdout, "XBL") ||
		!strings.Contains(got.stdout, "reason, delist: https://check.spamhaus.org/query/ip/192.0.2.10\n") {
		t.Errorf("the seed's mail: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	got = runCLI(t, nil, "", append([]string{"scan", pbl, "-o", "json"}, r...)...)
	if got.code != 0 || !strings.Contains(got.stdout, `"status": "noted"`) || strings.Contains(got.stdout, `"status": "listed"`) {
		t.Errorf("a link host on PBL only: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
}

// A scan keeps the heap in proportion to its input (and to its hosts), gives
// the limit back when it ends, and leaves GOMEMLIMIT alone.
func TestScanMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	m := keepMemoryInProportion(&streams{getenv: func(string) string { return "" }})
	m.set(10<<20, 0)
	if got := debug.SetMemoryLimit(-1); got != 80<<20 {
		t.Errorf("10 MiB input: limit %d, want 80 MiB", got)
	}
	m.set(1<<20, 100000)
	if got := debug.SetMemoryLimit(-1); got != 64<<20+100000*perTargetBytes {
		t.Errorf("100,000 hosts: limit %d", got)
	}
	m.restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("not restored: %d, want %d", got, before)
	}
	m = keepMemoryInProportion(&streams{getenv: func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] }})
	m.set(10<<20, 0)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("GOMEMLIMIT overridden: %d", got)
	}
}

// One subject, one check: a domain found in the Reply-To header and, as a
// link's registered domain, in the body is one listing, said under each
// place it was found.
func TestScanSubjectCountedOnce(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("bad.example", "192.0.2.30")
	srv.A("www.bad.example", "192.0.2.30")
	srv.List("dbl.spamhaus.org", "bad.example", []string{"127.0.1.2"})
	msg := filepath.Join(t.TempDir(), "dup.eml")
	os.WriteFile(msg, []byte("From: a@example.org\nReply-To: x@bad.example\nSubject: hi\n\nsee https://www.bad.example/\n"), 0o644)
	r := []string{"-r", srv.Addr, "--timeout", "300ms", "--retries", "0", "-l", "dbl,zen"}
	got := runCLI(t, nil, "", append([]string{"scan", msg}, r...)...)
	if got.code != 1 || !strings.Contains(got.stdout, "1 listed (+1 found again under other targets, counted once)") ||
		!strings.Contains(got.stdout, "the same listing as under bad.example: counted once, there") {
		t.Errorf("exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	js := runCLI(t, nil, "", append([]string{"scan", msg, "-o", "json"}, r...)...)
	if !strings.Contains(js.stdout, `"listed": 1,`) || !strings.Contains(js.stdout, `"repeats": 1,`) || !strings.Contains(js.stdout, `"same_as": "bad.example"`) {
		t.Errorf("json: %s", js.stdout)
	}
}

// An address given twice (on the command line, or a line repeated in a
// --file) is one listing, counted once, in every format: Nagios says WARNING
// for one listing, not CRITICAL for two.
func TestSameTargetTwiceCountedOnce(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	r := []string{"192.0.2.10", "192.0.2.10", "-r", srv.Addr, "--timeout", "300ms", "--retries", "0", "-l", "zen"}
	js := runCLI(t, nil, "", append(r, "-o", "json")...)
	if js.code != 1 || !strings.Contains(js.stdout, `"listed": 1,`) || !strings.Contains(js.stdout, `"repeats": 1,`) {
		t.Errorf("json: exit %d\n%s", js.code, js.stdout)
	}
	ng := runCLI(t, nil, "", append(r, "-o", "nagios", "-w", "1", "-c", "2")...)
	if ng.code != 1 || !strings.HasPrefix(ng.stdout, "BLCHECK WARNING - 192.0.2.10 listed once on spamhaus-zen") {
		t.Errorf("nagios: exit %d\n%s", ng.code, ng.stdout)
	}
}

// The relays in a message's Received headers are checked as receivers that
// read the headers check them: the server that delivered it as a mail sender
// (its PBL listing counts), an earlier relay by what makes it suspect (its
// XBL listing counts, as the seed's home computer's did); a copy from the
// Sent folder, whose only hop is the sender's own submission, fails on XBL
// and only notes PBL.
func TestScanReceived(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "198.51.100.8", []string{"127.0.0.10"})
	srv.List("zen.spamhaus.org", "192.0.2.4", []string{"127.0.0.4"}, "https://check.spamhaus.org/query/ip/192.0.2.4")
	srv.List("zen.spamhaus.org", "192.0.2.5", []string{"127.0.0.10"})
	dir := t.TempDir()
	write := func(name, received string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(received+"From: person@example.org\nSubject: hi\n\nHello.\n"), 0o644)
		return p
	}
	delivered := write("delivered.eml",
		"Received: from smtp.isp.example (smtp.isp.example [198.51.100.8]) by mx.example.net with ESMTP\n"+
			"Received: from pc.isp.example (pc.isp.example [192.0.2.4]) by smtp.isp.example with ESMTPSA\n")
	sent := write("sent.eml", "Received: from pc.isp.example (pc.isp.example [192.0.2.5]) by smtp.isp.example with ESMTPSA\n")
	r := []string{"-r", srv.Addr, "--timeout", "300ms", "--retries", "0", "-l", "zen,dbl", "-o", "json"}

	got := runCLI(t, nil, "", append([]string{"scan", delivered}, r...)...)
	if got.code != 1 || strings.Count(got.stdout, `"status": "listed"`) != 2 ||
		!strings.Contains(got.stdout, "Received header (the server that delivered the message)") ||
		!strings.Contains(got.stdout, "Received header (an earlier relay)") {
		t.Errorf("delivered: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	got = runCLI(t, nil, "", append([]string{"scan", sent}, r...)...)
	if got.code != 0 || !strings.Contains(got.stdout, `"status": "noted"`) || strings.Contains(got.stdout, `"status": "listed"`) {
		t.Errorf("sent copy on PBL only: exit %d\n%s%s", got.code, got.stdout, got.err)
	}
}

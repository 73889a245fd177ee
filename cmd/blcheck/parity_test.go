package main

import (
	"os"
	"path/filepath"
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

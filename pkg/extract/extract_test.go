package extract

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func extractFile(t *testing.T, name string) ([]Item, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	found, err := File(f, name)
	var items []Item
	var warnings []string
	if found != nil {
		items, warnings = found.Items, found.Warnings
	}
	if err != nil {
		t.Fatal(err)
	}
	return items, warnings
}

// found renders items as "host line where [part]" for comparison.
func found(items []Item) []string {
	var out []string
	for _, it := range items {
		s := it.Host + " " + itoa(it.Loc.Line) + " " + it.Loc.Where
		if it.Loc.Part != "" {
			s += " [" + it.Loc.Part + "]"
		}
		out = append(out, s)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestHTML(t *testing.T) {
	items, warnings := extractFile(t, "newsletter.html")
	want := []string{
		"refresh.example.com 4 meta refresh",
		"cdn.example.net 6 CSS url()",
		"www.shop.example.com 11 href",
		"img.example.org 12 src",
		"img.example.org 13 srcset",
		"img2.example.org 13 srcset",
		"track.example.net 14 href",
		"bad.example 14 redirect target in href",
		"www.plain.example.com 15 text",
		"example.com 15 text",
		"forms.example.com 16 action",
		"lists.example.com 17 href",
		"bg.example.com 19 CSS url()",
	}
	if got := found(items); !slices.Equal(got, want) || len(warnings) > 0 {
		t.Errorf("got\n%s\nwant\n%s\nwarnings %v", strings.Join(got, "\n"), strings.Join(want, "\n"), warnings)
	}
}

func TestMessage(t *testing.T) {
	items, warnings := extractFile(t, "campaign.eml")
	got := found(items)
	for _, w := range []string{
		"shop.example.com 1 From header",
		"help.example.org 2 Reply-To header",
		"bounces.example.net 3 Return-Path header",
		"mailer.example.com 6 Message-ID header",
		"lists.example.com 7 List-Unsubscribe header",
		"unsub.example.com 7 List-Unsubscribe header",
		"shop.example.com 8 DKIM-Signature d=",
		"www.bad.example 2 text [part 1 (text/plain)]",  // base64, latin-1
		"help.example.org 3 text [part 1 (text/plain)]", // base64
		"www.bad.example 2 href [part 2 (text/html)]",   // QP soft break inside the URL
		"pixel.tracker.example 3 src [part 2 (text/html)]",
	} {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	for _, it := range items {
		if it.Host == "www.bad.example" && it.Loc.Where == "href" && !strings.Contains(it.Raw, "user=12345") {
			t.Errorf("the soft line break must be joined: %q", it.Raw)
		}
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
}

func TestMarkdownAndClean(t *testing.T) {
	items, _ := extractFile(t, "notes.md")
	want := []string{"docs.example.com 3 text", "blog.example.com 3 text", "www.example.org 4 text",
		"example.com 4 text", "img.example.org 5 text"}
	if got := found(items); !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
	if items, _ := extractFile(t, "clean.txt"); len(items) != 0 {
		t.Errorf("clean file: %v", items)
	}
}

func TestMalformedMIME(t *testing.T) {
	msg := "From: a@sender.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee https://one.example/x\r\n--B\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
	found, err := File(strings.NewReader(msg), "broken.eml")
	items, warnings := found.Items, found.Warnings
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]bool{}
	for _, it := range items {
		hosts[it.Host] = true
	}
	if !hosts["sender.example"] || !hosts["one.example"] || len(warnings) == 0 {
		t.Errorf("read as far as possible with a warning: %v %v", hosts, warnings)
	}
	if len(found.Unread) != 1 || !strings.Contains(found.Unread[0], "broken.eml: part 2 (text/plain): bad base64") {
		t.Errorf("the part that could not be read is named: %q", found.Unread)
	}
}

func TestTooLarge(t *testing.T) {
	_, err := File(strings.NewReader(strings.Repeat("x", MaxSize+1)), "big.txt")
	if err != ErrTooLarge {
		t.Errorf("got %v", err)
	}
}

func FuzzFile(f *testing.F) {
	for _, name := range []string{"newsletter.html", "campaign.eml", "notes.md", "damaged-no-opening-boundary.eml",
		"damaged-base64-footer.eml", "damaged-wrong-boundary.eml"} {
		data, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(data, name)
	}
	f.Add([]byte("From: x\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\n--a--"), "x.eml")
	f.Add([]byte("<!--[if mso]><!--[if x]><v:fill src=\"https://a.example/\"/><![endif]--><a href=\"b.example\">"), "t.html")
	f.Add([]byte("From a@b Mon\nReceived: from x (x [192.0.2.1]) by y\nFrom: a@b.example\n\nhi\n\nFrom c@d Tue\nSubject: 2\n\nhttp://e.example/\n"), "in.mbox")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		found, err := File(strings.NewReader(string(data)), name)
		var items []Item
		if found != nil {
			items = append(found.Items, found.Relays...)
		}
		if errors.Is(err, ErrNotText) {
			return // binary input is refused, by name
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Host == "" || it.Host != strings.ToLower(it.Host) || it.Loc.Line < 1 {
				t.Fatalf("bad item %+v", it)
			}
		}
	})
}

// hostileHTML is one tag with as many attributes as fit in about 1 MB, on
// many lines, and a link as its last attribute: once quadratic (each
// attribute's line was found by lower-casing the whole tag).
func hostileHTML() []byte {
	var b strings.Builder
	b.WriteString("<html><body><a")
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, " data-a%d=\"x\"", i)
		if i%100 == 99 {
			b.WriteString("\n")
		}
	}
	b.WriteString(" href=\"http://last.example.com/\">x</a></body></html>")
	return []byte(b.String())
}

func BenchmarkHostileHTML(b *testing.B) {
	data := hostileHTML()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := File(bytes.NewReader(data), "hostile.html"); err != nil {
			b.Fatal(err)
		}
	}
}

// The link after the attributes of one huge tag keeps its line, found in one pass.
func TestHostileHTMLLines(t *testing.T) {
	data := hostileHTML()
	found, err := File(bytes.NewReader(data), "hostile.html")
	if err != nil {
		t.Fatal(err)
	}
	items := found.Items
	want := 1 + bytes.Count(data, []byte("\n"))
	if len(items) != 1 || items[0].Host != "last.example.com" || items[0].Loc.Line != want {
		t.Fatalf("items %+v, want last.example.com at line %d", items, want)
	}
}

// A finding in a MIME part knows its line in the file, for annotations: exact
// for a part sent as it is, the part's first line for a base64 one.
func TestFileLineOfParts(t *testing.T) {
	msg := "From: a@sender.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n" + // lines 1-4
		"--B\nContent-Type: text/plain\n\nline 8\nsee https://plain.example/x\n" + // lines 5-9: the link at 9
		"--B\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + // lines 10-13
		base64.StdEncoding.EncodeToString([]byte("first\nsecond https://encoded.example/\n")) + "\n--B--\n" // body at 14
	found, err := File(strings.NewReader(msg), "m.eml")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, it := range found.Items {
		lines[it.Host] = it.Loc.FileLine
	}
	if lines["plain.example"] != 9 || lines["encoded.example"] != 14 {
		t.Errorf("file lines: %v", lines)
	}
}

// Invalid UTF-8 inside a tag does not move the attributes' lines (lower-casing
// byte for byte).
func TestAttributeLineAfterInvalidBytes(t *testing.T) {
	html := "<html><a title=\"" + strings.Repeat("\xc3", 200) + "\"\n\n\n href=\"http://after.example/\">x</a></html>"
	found, err := File(strings.NewReader(html), "bad.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Items) != 1 || found.Items[0].Loc.Line != 4 {
		t.Errorf("items %+v, want after.example at line 4", found.Items)
	}
}

// Links that hide an address in another notation open what a browser opens.
func TestHiddenIPv4(t *testing.T) {
	for in, want := range map[string]string{
		"3221225985": "192.0.2.1", "0xc0000201": "192.0.2.1", "0300.0.02.01": "192.0.2.1",
		"192.0.0x2.1": "192.0.2.1", "192.513": "192.0.2.1", "0xC0.0.2.1": "192.0.2.1",
		"2742879943": "163.125.6.199",
	} {
		if got, ok := hiddenIPv4(in); !ok || got != want {
			t.Errorf("hiddenIPv4(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"192.0.2.1", "example.com", "1.example", "256.1.1.1", "4294967296", "a.menu", "1.2.3.4.5", ""} {
		if got, ok := hiddenIPv4(in); ok {
			t.Errorf("hiddenIPv4(%q) = %q: not a hidden address", in, got)
		}
	}
}

func TestIPLiteralLinks(t *testing.T) {
	got, err := File(strings.NewReader(`<a href="http://3221225985/x">a</a> <a href="http://bank.example@0xc0000202/">b</a>
<a href="http://192.0.2.3/">c</a>`), "n.html")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"192.0.2.1": "address hidden as 3221225985, in href", "192.0.2.2": "shows bank.example but opens 192.0.2.2", "192.0.2.3": "href"}
	for _, it := range got.Items {
		if w, ok := want[it.Host]; ok && strings.Contains(it.Loc.Where, w) {
			delete(want, it.Host)
		}
	}
	if len(want) > 0 {
		t.Errorf("not found as expected: %v in %+v", want, got.Items)
	}
}

func FuzzHiddenIPv4(f *testing.F) {
	for _, s := range []string{"3221225985", "0xc0000201", "0300.0.02.01", "192.0.0x2.1", "example.com", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return
		}
		if ip, ok := hiddenIPv4(s); ok {
			if _, err := netip.ParseAddr(ip); err != nil {
				t.Fatalf("hiddenIPv4(%q) = %q, not an address", s, ip)
			}
		}
	})
}

// Host names written without a scheme are taken where receivers take them,
// and look-alikes in code, CSS and file names are not.
func TestBareDomains(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"Visit example.com today.", []string{"example.com"}},
		{"Order at shop.example.co.uk, or call us.", []string{"shop.example.co.uk"}},
		{"(see Example.org)", []string{"example.org"}},
		{"Polish shop: allegro.pl", []string{"allegro.pl"}},
		{"write to bob@example.net", []string{"example.net"}}, // the e-mail rule, once
		{"https://example.com/x and example.com", []string{"example.com", "example.com"}},
		{"a.menu { color: red }", nil},
		{"use Main.pm; run setup.py", nil},
		{"version 1.2.3: call obj.method() and read config.json", nil},
		{"perl Makefile.pl, then README.md", nil},
		{"file /etc/example.com.conf", nil},
		{"e.g. this, i.e. that", nil},
		{"node_modules/left-pad.js", nil},
		{"minutes at notes-example.net/2026/12.", []string{"notes-example.net"}},
		{"x.co is too short", nil},
		{"see readme.txt", nil},
		// a name written on from a word of another script is taken whole (the URL, then the bare name)
		{"http://bücher.example.de/ und bücher.example.de", []string{"bücher.example.de", "bücher.example.de"}},
		{"сайт.example.com и shop.example.com", []string{"сайт.example.com", "shop.example.com"}},
		// an IDN written without a scheme is taken whole, never as its tail alone
		{"Besuchen Sie bücher-shop.de heute", []string{"bücher-shop.de"}},
		{"see пример.испытание.example.net", []string{"пример.испытание.example.net"}},
		{"shop.example.comй", nil},
		// scripts without spaces end a word at each letter
		{"请访问example.com获取", []string{"example.com"}},
		{"詳しくはshop.example.jpへ", []string{"shop.example.jp"}},
		{"«example.org»", []string{"example.org"}},
	} {
		got, err := File(strings.NewReader(tc.text+"\n"), "t.txt")
		if err != nil {
			t.Fatal(err)
		}
		var hosts []string
		for _, it := range got.Items {
			hosts = append(hosts, it.Host)
		}
		if strings.Join(hosts, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: found %v, want %v", tc.text, hosts, tc.want)
		}
	}
}

// The Subject header's links are read; a script's bare names are not.
func TestSubjectAndScript(t *testing.T) {
	msg := "From: a@example.org\r\nSubject: =?UTF-8?Q?Deal_at_deal-example.com_=E2=9C=93?=\r\nContent-Type: text/html\r\n\r\n" +
		"<script>var m = require('Main.pm'); load(\"https://cdn.example.net/x.js\")</script><p>hi</p>\r\n"
	got, err := File(strings.NewReader(msg), "m.eml")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, it := range got.Items {
		found[it.Host] = it.Loc.Where
	}
	if found["deal-example.com"] != "Subject header (no scheme)" || found["cdn.example.net"] != "script" {
		t.Errorf("found %v", found)
	}
	if _, ok := found["main.pm"]; ok {
		t.Error("a module name in a script was taken for a host")
	}
}

// findURLs finds what the regular expression it replaces finds.
func FuzzFindURLs(f *testing.F) {
	for _, s := range []string{"see https://example.com/x and HTTP://B.example?q=1", "xhttp://a.example", "ftp://f.example/ https://",
		"url=https://r.example/?u=http://in.example", "a://b http://\x01x.example", "_http://u.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 {
			return
		}
		want := urlRE().FindAllString(s, -1)
		got := findURLs(s)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("findURLs(%q) = %q, want %q", s, got, want)
		}
	})
}

// Damaged MIME is read as far as it can be: a multipart without its opening
// boundary as raw text, base64 with a list footer after it both, a multipart
// with the wrong declared boundary with the one it uses; each says so.
func TestDamagedMIME(t *testing.T) {
	for file, want := range map[string]struct{ host, warning string }{
		"damaged-no-opening-boundary.eml": {"noopen.example.com", "read as raw text"},
		"damaged-base64-footer.eml":       {"inside-b64.example.com", "both read"},
		"damaged-wrong-boundary.eml":      {"wrongb.example.com", "read with the one it uses"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := File(bytes.NewReader(data), file)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range got.Items {
			found = found || it.Host == want.host
		}
		if !found || len(got.Unread) > 0 || !strings.Contains(strings.Join(got.Warnings, "\n"), want.warning) {
			t.Errorf("%s: items %+v, unread %v, warnings %v", file, got.Items, got.Unread, got.Warnings)
		}
	}
	// raw text cannot show what encoded parts hold: that is said as unread
	raw := "Content-Type: multipart/mixed; boundary=\"BB\"\n\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGEgaHJlZj0iaHR0cHM6Ly94LmV4YW1wbGUuY29tLyI+\n--BB--\n"
	got, err := File(strings.NewReader("From: a@example.org\nMIME-Version: 1.0\n"+raw), "m.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Unread) == 0 {
		t.Errorf("encoded parts behind a missing boundary were not said as unread: %+v", got)
	}
}

// A percent-encoded host is what the browser opens.
func TestPercentEncodedHost(t *testing.T) {
	got, err := File(strings.NewReader(`<a href="http://%65xample-shop.com/offer">x</a> <a href="http://sh%6Fp.example.net/">y</a>`), "p.html")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"example-shop.com": true, "shop.example.net": true}
	for _, it := range got.Items {
		if want[it.Host] && strings.HasPrefix(it.Loc.Where, "percent-encoded host") {
			delete(want, it.Host)
		}
	}
	if len(want) > 0 {
		t.Errorf("not found: %v in %+v", want, got.Items)
	}
}

// emailAt reads what emailRE reads.
func FuzzEmailAt(f *testing.F) {
	for _, s := range []string{"bob@example.com", "a.b+c@x-y.example.org.", "x@[192.0.2.1]", "a@b", "a@-b.c", "a@b-.c.d", "@x.y", "a@b..c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 200 || strings.Count(s, "@") != 1 {
			return
		}
		at := strings.IndexByte(s, '@')
		i := at
		for i > 0 && strings.IndexByte(localPartBytes, s[i-1]) >= 0 {
			i--
		}
		j := at + 1
		for j < len(s) && (isHostByte(s[j]) || s[j] == '[' || s[j] == ']' || s[j] == ':') {
			j++
		}
		w := s[i:j]
		m := emailRE().FindStringSubmatch(w)
		full, domain, ok := emailAt(w, at-i)
		if (m != nil) != ok || ok && (m[0] != full || strings.ToLower(m[1]) != domain) {
			t.Fatalf("emailAt(%q) = %q %q %v; emailRE %q", w, full, domain, ok, m)
		}
	})
}

// Redirectors as receivers follow them: the redirector's host and its target,
// depth and count bounded.
func TestRedirects(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"query URL", `https://t.example.net/c?url=https%3A%2F%2Fshop.example.com%2Fx&id=1`, []string{"t.example.net", "shop.example.com"}},
		{"google q= with sa=D", `https://www.google.com/url?q=https://target.example.org/page&sa=D&ust=1`, []string{"www.google.com", "target.example.org"}},
		{"AWS SES path", `https://abc.r.us-east-1.awstrack.me/L0/https:%2F%2Fwww.example.com%2Fpage%3Fa=1/1/0100018a-b/XyZ=340`, []string{"abc.r.us-east-1.awstrack.me", "www.example.com"}},
		{"double-encoded path", `https://r.example.net/L0/https:%252F%252Fdeep.example.com%252F/1`, []string{"r.example.net", "deep.example.com"}},
		{"plain URL in path", `http://chkpt.example.net/chkpt/abc/http://inner.example.org/x`, []string{"chkpt.example.net", "inner.example.org"}},
		{"one slash (bug 3308)", `http://rd.example.net/r?to=http:/one.example.org/`, []string{"rd.example.net", "one.example.org"}},
		{"outlook safe links", `https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fphish.example.com%2F&data=04%7C01&reserved=0`, []string{"eur01.safelinks.protection.outlook.com", "phish.example.com"}},
		{"bing base64", `https://www.bing.com/ck/a?!&&p=abc&u=a1aHR0cHM6Ly9oaWRkZW4uZXhhbXBsZS5jb20vcA&ntb=1`, []string{"www.bing.com", "hidden.example.com"}},
		{"mandrill json", `https://mandrillapp.com/track/click/30/www.example.com?p=eyJ1cmwiOiJodHRwOlwvXC9tYW5kcmlsbC5leGFtcGxlLm9yZ1wvIn0`, []string{"mandrillapp.com", "mandrill.example.org"}},
		{"proofpoint v2", `https://urldefense.proofpoint.com/v2/url?u=https-3A__pp.example.com_a_b&d=DwM`, []string{"urldefense.proofpoint.com", "pp.example.com"}},
		{"fragment", `https://r.example.net/#https://frag.example.org/`, []string{"r.example.net", "frag.example.org"}},
		{"nested", `https://a.example.net/?u=https%3A%2F%2Fb.example.net%2F%3Fu%3Dhttps%253A%252F%252Fc.example.net%252F`, []string{"a.example.net", "b.example.net", "c.example.net"}},
		{"depth bounded", `https://a.example.net/?u=https://b.example.net/?u=https://c.example.net/?u=https://d.example.net/?u=https://e.example.net/`, []string{"a.example.net", "b.example.net", "c.example.net", "d.example.net"}},
		{"no URL inside", `https://click.example.net/ls/click?upn=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789&x=1`, []string{"click.example.net"}},
		// Mailgun: base64url of a zlib-compressed query string whose l= is the link
		{"mailgun zlib", `http://email.mg.example.com/c/eNpLsU02NTCwTFbLsE1MTDJVy7HNKCkpKFY1dlQ1cgOi4oz8Ar3UisTcgpxUvfyidJBQYk6qqrFbaUlufHF-aVEykOOSm5iZo1ZkW5BaVJyfp2piANORnJ8LACG1ISw`, []string{"email.mg.example.com", "shop.example.org"}},
		{"base64 not zlib", `http://email.mg.example.com/c/eXl6eXl6eXl6eXl6eXl6eXl6`, []string{"email.mg.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, err := File(strings.NewReader("see "+tc.in+" now\n"), "mail.txt")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range found.Items {
				got = append(got, it.Host)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for _, it := range found.Items[min(1, len(found.Items)):] { // said once however deep
				if it.Loc.Where != "redirect target in text" {
					t.Errorf("%s: where %q", it.Host, it.Loc.Where)
				}
			}
		})
	}
	var many strings.Builder
	many.WriteString("https://r.example.net/?")
	for i := range 50 {
		fmt.Fprintf(&many, "u%d=https://t%d.example.org/&", i, i)
	}
	found, _ := File(strings.NewReader(many.String()), "many.txt")
	if len(found.Items) != 1+MaxRedirectTargets {
		t.Errorf("count not bounded: %d items", len(found.Items))
	}
	html := `<a href="https://www.google.com/url?q=https://x.example.org" data-saferedirecturl="https://www.google.com/url?q=https://gmail.example.org/&amp;source=gmail&amp;ust=1">x</a>`
	found, _ = File(strings.NewReader(html), "m.html")
	var hosts []string
	for _, it := range found.Items {
		hosts = append(hosts, it.Host+" "+it.Loc.Where)
	}
	if !slices.Contains(hosts, "gmail.example.org redirect target in data-saferedirecturl") {
		t.Errorf("data-saferedirecturl: %v", hosts)
	}
}

// FuzzRedirectTargets: any link, read as a redirector, gives absolute URLs
// only, none longer than the link's decoded text could make.
func FuzzRedirectTargets(f *testing.F) {
	for _, s := range []string{
		"https://www.google.com/url?q=https://a.example/&sa=D",
		"https://x.awstrack.me/L0/https:%2F%2Fb.example%2F/1/2",
		"https://www.bing.com/ck/a?u=a1aHR0cHM6Ly9oaWRkZW4uZXhhbXBsZS5jb20vcA",
		"https://urldefense.proofpoint.com/v2/url?u=https-3A__pp.example.com_a&d=1",
		"http://r.example/#http:x.example", "https://r.example/?p=eyJ1cmwiOiJodHRwOlwvXC9hLmV4YW1wbGVcLyJ9",
		"http://email.mg.example/c/eNpLsU02NTCwTFbLsE1MTDJVy7HNKCkpKFY1dlQ1cgOi4oz8Ar3UisTcgpxUvfyidJBQYk6qqrFbaUlufHF-aVEykOOSm5iZo1ZkW5BaVJyfp2piANORnJ8LACG1ISw",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		for _, r := range redirectTargets(u) {
			l := strings.ToLower(r)
			if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "ftp://") {
				t.Fatalf("%q gave %q", s, r)
			}
			if len(r) > 2*len(s)+16 {
				t.Fatalf("%q gave a longer %q", s, r)
			}
		}
	})
}

// Bare names under a hosting service's private suffix are names, as URI lists
// list them; names under no real TLD are not.
func TestBareNamesUnderPrivateSuffix(t *testing.T) {
	found, _ := File(strings.NewReader("log in at insta-club.netlify.app or files.s3.amazonaws.com, not at x.notatld or .menu a.menu; 3.Fund\n"), "m.txt")
	var got []string
	for _, it := range found.Items {
		got = append(got, it.Host)
	}
	if want := []string{"insta-club.netlify.app", "files.s3.amazonaws.com", "3.fund"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// A message whose start is damaged is still a message: its parts are decoded.
func TestDamagedMessageStart(t *testing.T) {
	html := base64.StdEncoding.EncodeToString([]byte(`<a href="https://hidden.example.com/x">x</a>`))
	body := "Subject: offer\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b\"\n\n--b\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n" + html + "\n--b--\n"
	for _, tc := range []struct{ name, start, warn string }{
		{"blank line", "\n", "starts with 1 blank line(s)"},
		{"whitespace lines", "  \r\n\t\n", "starts with 2 blank line"},
		{"damaged first line", "?? x-garbage see www.damaged.example.org\nFrom: a@sender.example.com\n", "line 1 of the header is no header"},
		{"continuation first", "  folded.example.org\nFrom: a@sender.example.com\n", "line 1 of the header is no header"},
		{"mbox", "From a@sender.example.com Mon Dec  7 06:00:00 2026\nFrom: a@sender.example.com\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, err := File(strings.NewReader(tc.start+body), "message.txt")
			if err != nil {
				t.Fatal(err)
			}
			var hosts []string
			for _, it := range found.Items {
				hosts = append(hosts, it.Host)
				if it.Host == "hidden.example.com" && it.Loc.Part != "part 1 (text/html)" {
					t.Errorf("part: %+v", it.Loc)
				}
			}
			if !slices.Contains(hosts, "hidden.example.com") {
				t.Errorf("the base64 part was not decoded: %v %v", hosts, found.Warnings)
			}
			if tc.warn != "" && !strings.Contains(strings.Join(found.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %v, want %q", found.Warnings, tc.warn)
			}
			if tc.name == "damaged first line" && !slices.Contains(hosts, "www.damaged.example.org") {
				t.Errorf("the damaged line's link: %v", hosts)
			}
		})
	}
	// text that only looks like a header is still text
	for _, s := range []string{"Note: this is text\nwith lines\n\nsee example.com\n", "\n\nhello: world\nsee\n\n"} {
		if readHead([]byte(s)).message() {
			t.Errorf("%q taken for a message", s)
		}
	}
}

// A host after "=" outside a URL is a name (a returned message's
// "helo=mx.example.net"); inside a URL's query it is the URL's business. A
// part's Content-ID names a domain, as a Message-ID does.
func TestEqualsAndContentID(t *testing.T) {
	found, _ := File(strings.NewReader("Received: from [192.0.2.1] (helo=mx1.example.net ident=root)\nsee https://r.example.org/?a=b.example.com&c=1\n"), "m.txt")
	var got []string
	for _, it := range found.Items {
		got = append(got, it.Host)
	}
	if want := []string{"mx1.example.net", "r.example.org"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	msg := "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\nContent-ID: <part1@cid.example.com>\n\nhi\n--b--\n"
	found, _ = File(strings.NewReader(msg), "m.eml")
	got = nil
	for _, it := range found.Items {
		got = append(got, it.Host+" "+it.Loc.Where)
	}
	if !slices.Contains(got, "cid.example.com Content-ID header") {
		t.Errorf("Content-ID: %v", got)
	}
}

// TestEmptyMessage: an empty .eml holds nothing, and says no Go error ("not a
// readable message (EOF)") about it.
func TestEmptyMessage(t *testing.T) {
	for _, in := range []string{"", "\n", "  \r\n\r\n"} {
		found, err := File(strings.NewReader(in), "empty.eml")
		if err != nil {
			t.Fatal(err)
		}
		if len(found.Items) != 0 || len(found.Warnings) != 0 {
			t.Errorf("%q: items %v, warnings %v", in, found.Items, found.Warnings)
		}
	}
}

// What is not text is refused by name, never read as "nothing to check": a
// gzip'd newsletter, an archive, a PDF, binary data; UTF-16 text with a byte
// order mark (Windows' "Unicode") is read; a mail message with a NUL byte in
// a binary part is still a message.
func TestNotTextIsSaid(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`<a href="https://bad.example/">x</a>`))
	zw.Close()
	utf16 := func(order binary.AppendByteOrder, bom []byte, s string) []byte {
		out := append([]byte(nil), bom...)
		for _, r := range s {
			out = order.AppendUint16(out, uint16(r))
		}
		return out
	}
	page := `<html><a href="https://u16.example.org/">x</a></html>`
	tests := []struct {
		name string
		data []byte
		want string // the error's words, or the host read
	}{
		{"gzip", gz.Bytes(), "gzip data"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00 word/document.xml"), "zip archive"},
		{"pdf", []byte("%PDF-1.7\n1 0 obj << /URI (https://pdf.example.com/) >>"), "PDF document"},
		{"binary", []byte("\x7fELF\x02\x01\x01\x00\x00\x00 https://elf.example.com/"), "NUL bytes"},
		{"UTF-16LE", utf16(binary.LittleEndian, []byte{0xff, 0xfe}, page), "u16.example.org"},
		{"UTF-16BE", utf16(binary.BigEndian, []byte{0xfe, 0xff}, page), "u16.example.org"},
		{"message with a NUL", []byte("From: a@sender.example.com\r\nSubject: x\r\n\r\nhello\x00 https://msg.example.net/\r\n"), "msg.example.net"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, err := File(bytes.NewReader(tt.data), tt.name)
			var hosts []string
			if found != nil {
				for _, it := range found.Items {
					hosts = append(hosts, it.Host)
				}
			}
			got := strings.Join(hosts, " ")
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) || err != nil && !errors.Is(err, ErrNotText) {
				t.Errorf("got %q (err %v), want %q", got, err, tt.want)
			}
		})
	}
}

// An mbox holds several messages: each is read as a message, its parts
// decoded and its relays read, at its own lines; a body's escaped ">From " is
// no separator.
func TestMbox(t *testing.T) {
	html := base64.StdEncoding.EncodeToString([]byte(`<a href="https://second.example.com/">x</a>`))
	mbox := "From person@example.org Mon Jan  1 00:00:00 2024\n" +
		"Received: from a.example.net (a.example.net [192.0.2.1]) by mx.example.com\n" +
		"From: person@first.example.org\nSubject: one\n\nSee https://first.example.com/\n>From the archive\n\n" +
		"From person@example.org Tue Jan  2 00:00:00 2024\n" +
		"Received: from b.example.net (b.example.net [198.51.100.2]) by mx.example.com\n" +
		"From: person@second.example.org\nSubject: two\nMIME-Version: 1.0\nContent-Type: text/html\n" +
		"Content-Transfer-Encoding: base64\n\n" + html + "\n"
	got, err := File(strings.NewReader(mbox), "inbox.mbox")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first.example.org 3 From header", "first.example.com 6 text",
		"second.example.org 11 From header", "second.example.com 17 href"}
	if h := found(got.Items); strings.Join(h, "\n") != strings.Join(want, "\n") {
		t.Errorf("items\n%s\nwant\n%s", strings.Join(h, "\n"), strings.Join(want, "\n"))
	}
	if h := found(got.Relays); len(h) != 2 || h[0] != "192.0.2.1 2 Received header (the server that delivered the message)" ||
		h[1] != "198.51.100.2 10 Received header (the server that delivered the message)" {
		t.Errorf("relays %v", h)
	}
}

// A body's own "From " line after a blank line, which an mboxo writer did not
// escape (">From "), is no separator: what follows it is still the message's
// body, its links read, not taken for a message with no header and dropped.
func TestMboxUnescapedFrom(t *testing.T) {
	mbox := "From person@example.org Mon Jan  1 00:00:00 2024\n" +
		"From: person@first.example.org\nSubject: one\n\nSee https://first.example.com/\n\n" +
		"From here on, read https://later.example.com/ please.\n\n" +
		"From person@example.org Tue Jan  2 00:00:00 2024\n" +
		"From: person@second.example.org\nSubject: two\n\nhttps://second.example.com/\n"
	got, err := File(strings.NewReader(mbox), "inbox.mbox")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first.example.org 2 From header", "first.example.com 5 text", "later.example.com 7 text",
		"second.example.org 10 From header", "second.example.com 13 text"}
	if h := found(got.Items); strings.Join(h, "\n") != strings.Join(want, "\n") {
		t.Errorf("items\n%s\nwant\n%s", strings.Join(h, "\n"), strings.Join(want, "\n"))
	}
}

// Newsletter templates: what Outlook renders inside its conditional comments
// (VML buttons and backgrounds), an AMP part, and a link written without its
// scheme are checked; relative paths, file names and template placeholders
// are not taken for hosts.
func TestNewsletterLinks(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"VML in a conditional comment", "<p>x</p>\n<!--[if mso]>\n<v:roundrect href=\"https://button.example.org/\">\n" +
			"<v:fill type=\"tile\" src=\"https://bg.example.org/bg.png\"/></v:roundrect>\n<![endif]-->\n",
			[]string{"button.example.org 3 href", "bg.example.org 4 src"}},
		{"conditional comment without endif", "<!--[if gte mso 9]><a href=\"https://mso.example.org/\">x</a>-->",
			[]string{"mso.example.org 1 href"}},
		{"nested conditional comments are read once deep", strings.Repeat("<!--[if mso]>", 3) +
			"<a href=\"https://once.example.org/\">x</a><![endif]-->", nil},
		{"downlevel-revealed and plain comments", "<!--[if !mso]><!-- --><a href=\"https://all.example.org/\">x</a><!--<![endif]-->\n" +
			"<!-- http://www.comment.example.org/ -->", []string{"all.example.org 1 href"}},
		{"links without a scheme", `<a href="facebook.com">f</a> <a href="shop.example.com/sale?x=1">s</a>` +
			` <img src="images/icon/logo.png"> <a href="index.html">i</a> <a href="setup.py">p</a> <a href="logo.png">l</a>`,
			[]string{"facebook.com 1 href (no scheme)", "shop.example.com 1 href (no scheme)"}},
		{"MJML source", `<mj-section background-url="https://bg.example.org/hero.jpg"><mj-column>` +
			`<mj-image src="https://img.example.org/a.png"/><mj-button href="https://btn.example.org/">b</mj-button>`,
			[]string{"bg.example.org 1 background-url", "img.example.org 1 src", "btn.example.org 1 href"}},
		{"listmonk's tracked links", `<a href="https://lm.example.org@TrackLink">a</a>` +
			` <a href="{{ TrackLink "https://gh.example.org/x?a=1" . }}" class="button">b</a> <a href="{{ UnsubscribeURL }}">u</a>`,
			[]string{"lm.example.org 1 href", "gh.example.org 1 href (template expression)"}},
		{"placeholders", `<a href="*|UNSUB|*">u</a> <a href="{{ unsubscribe_url }}">u</a> <a href="%%unsubscribe%%">u</a>` +
			` <a href="<%asm_group_unsubscribe_raw_url%>">u</a> <img src="${logoSrc?html}"> <a href="https://{{domain}}/p">d</a>` +
			` <a href="http://*|DOMAIN|*.com/">d</a> <a href="{{c2a_link}}">c</a>`, nil},
	} {
		got, err := File(strings.NewReader("<html><body>"+tc.body+"</body></html>\n"), "t.html")
		if err != nil {
			t.Fatal(err)
		}
		if g := found(got.Items); !slices.Equal(g, tc.want) {
			t.Errorf("%s: found %q, want %q", tc.name, g, tc.want)
		}
	}
}

// An AMP for Email part (text/x-amp-html) is read as the HTML it is.
func TestAMPPart(t *testing.T) {
	msg := "From: a <person@example.com>\nContent-Type: multipart/alternative; boundary=b\n\n--b\n" +
		"Content-Type: text/x-amp-html; charset=utf-8\n\n<!doctype html><html amp4email><body>\n" +
		"<amp-img src=\"https://amp.example.org/i.png\" width=1 height=1></amp-img>\n</body></html>\n--b--\n"
	got, err := File(strings.NewReader(msg), "amp.eml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com 1 From header", "amp.example.org 2 src [part 1 (text/x-amp-html)]"}
	if g := found(got.Items); !slices.Equal(g, want) {
		t.Errorf("found %q, want %q", g, want)
	}
}

package dnsbl

import (
	"net/netip"
	"strings"
	"testing"
)

// Hosts under private suffixes (hosting services) are registered under them,
// and under the ICANN suffix as well.
func TestPublicRegistered(t *testing.T) {
	for _, tc := range []struct{ host, domain, public string }{
		{"insta-club.netlify.app", "insta-club.netlify.app", "netlify.app"},
		{"a.b.user.github.io", "user.github.io", "github.io"},
		{"s3.amazonaws.com", "amazonaws.com", ""},
		{"bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com", "amazonaws.com"},
		{"www.example.co.uk", "example.co.uk", ""},
		{"shop.example.com", "example.com", ""},
	} {
		got, err := ParseTarget(tc.host)
		if err != nil || got.Domain != tc.domain || got.PublicDomain != tc.public {
			t.Errorf("%s: domain %q public %q (%v), want %q %q", tc.host, got.Domain, got.PublicDomain, err, tc.domain, tc.public)
		}
	}
	for host, want := range map[string]string{"co.uk": "", "com": "", "x.unknowntld": "", "a.b.example.com": "example.com", "netlify.app": "netlify.app"} {
		if got := PublicRegistered(host); got != want {
			t.Errorf("PublicRegistered(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in                  string
		kind                TargetKind
		form, value, domain string
		err                 string
	}{
		{"192.0.2.10", KindIP, "ip", "192.0.2.10", "", ""},
		{" 192.0.2.10 ", KindIP, "ip", "192.0.2.10", "", ""},
		{"2001:db8::25", KindIP, "ip", "2001:db8::25", "", ""},
		{"::ffff:192.0.2.1", KindIP, "ip", "192.0.2.1", "", ""},
		{"127.0.0.2", KindIP, "ip", "127.0.0.2", "", ""},
		{"198.51.100.0/24", KindCIDR, "cidr", "198.51.100.0/24", "", ""},
		{"198.51.100.7/24", KindCIDR, "cidr", "198.51.100.0/24", "", ""},
		{"198.18.0.0/16", KindCIDR, "cidr", "198.18.0.0/16", "", ""},
		{"2001:db8::/112", KindCIDR, "cidr", "2001:db8::/112", "", ""},
		{"justatheory.com", KindDomain, "domain", "justatheory.com", "justatheory.com", ""},
		{"Mail.Example.CO.UK.", KindDomain, "domain", "mail.example.co.uk", "example.co.uk", ""},
		{"bücher.example", KindDomain, "domain", "xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		{"https://www.example.com:8443/path?q=1", KindDomain, "url", "www.example.com", "example.com", ""},
		{"http://[2001:db8::1]/", KindIP, "url", "2001:db8::1", "", ""},
		{"www.example.com/landing", KindDomain, "url", "www.example.com", "example.com", ""},
		{"webmaster@php.net", KindDomain, "email", "php.net", "php.net", ""},
		{"David <david@justatheory.com>", KindDomain, "email", "justatheory.com", "justatheory.com", ""},
		{"mailto:a@b.example", KindDomain, "email", "b.example", "b.example", ""},
		{"root@[192.0.2.5]", KindIP, "email", "192.0.2.5", "", ""},
		{"", "", "", "", "", "empty"},
		{"198.18.0.0/8", "", "", "", "", "range too large: IPv4 ranges go up to /16"},
		{"2001:db8::/64", "", "", "", "", "range too large: IPv6 ranges go up to /112"},
		{"300.1.2.3", "", "", "", "", "all-numeric"},
		{"localhost", "", "", "", "", "with a dot"},
		{"co.uk", "", "", "", "", "public suffix"},
		{"insta-club.netlify.app", KindDomain, "domain", "insta-club.netlify.app", "insta-club.netlify.app", ""},
		{"https://s3.amazonaws.com/bucket/x.html", KindDomain, "url", "s3.amazonaws.com", "amazonaws.com", ""},
		{"firebaseapp.com", KindDomain, "domain", "firebaseapp.com", "firebaseapp.com", ""},
		{"github.io", KindDomain, "domain", "github.io", "github.io", ""},
		{"exa mple.com", "", "", "", "", "spaces"},
		{"under_score.example", "", "", "", "", "not a valid domain name"},
		{"javascript://x.example", "", "", "", "", "scheme"},
		{"@example.com", "", "", "", "", "not an e-mail address"},
		{"fe80::1%eth0", "", "", "", "", "zoned"},
		{strings.Repeat("a", 64) + ".example", "", "", "", "", "longer than 63"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTarget(tc.in)
			if tc.kind == "" {
				if err == nil {
					t.Fatalf("accepted as %+v", got)
				}
				if !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "bad target") {
					t.Errorf("error %q, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var value string
			switch got.Kind {
			case KindIP:
				value = got.Addr.String()
			case KindCIDR:
				value = got.Prefix.String()
			case KindDomain:
				value = got.Host
			}
			if got.Kind != tc.kind || got.Form != tc.form || value != tc.value || got.Domain != tc.domain || got.Input != tc.in {
				t.Errorf("got %+v (value %q), want kind %s form %s value %s domain %s", got, value, tc.kind, tc.form, tc.value, tc.domain)
			}
		})
	}
}

func TestReadTargets(t *testing.T) {
	in := "# servers\n\n192.0.2.1\n  example.com  # the web site\n\ufeff2001:db8::1\n"
	got, err := ReadTargets(strings.NewReader(in), "list.txt")
	if err != nil || len(got) != 3 || got[1].Host != "example.com" {
		t.Fatalf("got %+v %v", got, err)
	}
	_, err = ReadTargets(strings.NewReader("192.0.2.1\nnot valid\n10.0.0.0/4\n"), "list.txt")
	if err == nil || !strings.Contains(err.Error(), "list.txt:2: bad target \"not valid\"") ||
		!strings.Contains(err.Error(), "list.txt:3:") {
		t.Fatalf("every bad line must be named with its line number: %v", err)
	}
	// several on a line, separated by spaces or tabs (a pasted list, a TSV's column)
	got, err = ReadTargets(strings.NewReader("192.0.2.1 192.0.2.2\texample.com\nName <bob@example.org>\n"), "-")
	if err != nil || len(got) != 4 || got[2].Host != "example.com" || got[3].Host != "example.org" {
		t.Fatalf("got %+v %v", got, err)
	}
	_, err = ReadTargets(strings.NewReader("192.0.2.1\tbad..name\n"), "list.txt")
	if err == nil || !strings.Contains(err.Error(), `list.txt:1: bad target "bad..name"`) || strings.Contains(err.Error(), "control") {
		t.Fatalf("the bad one of several is named: %v", err)
	}
}

func TestQueryNames(t *testing.T) {
	tests := []struct {
		subject Subject
		want    string
	}{
		{Subject{Type: SubjectIP, Addr: netip.MustParseAddr("192.0.2.99")}, "99.2.0.192.zen.spamhaus.org"},
		{Subject{Type: SubjectIP, Addr: netip.MustParseAddr("2001:db8:7ca6:22::45")},
			"5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2.zen.spamhaus.org"},
		{Subject{Type: SubjectIP, Addr: netip.MustParseAddr("::ffff:7f00:2")},
			"2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zen.spamhaus.org"},
		{Subject{Type: SubjectDomain, Name: "example.com"}, "example.com.zen.spamhaus.org"},
	}
	for _, tc := range tests {
		got, err := QueryName(tc.subject, "zen.spamhaus.org")
		if err != nil || got != tc.want {
			t.Errorf("QueryName(%v) = %q, %v; want %q", tc.subject, got, err, tc.want)
		}
	}
	long := Subject{Type: SubjectDomain, Name: strings.Repeat("a.", 120) + "example"}
	if _, err := QueryName(long, "zen.spamhaus.org"); err != ErrNameTooLong {
		t.Errorf("an overlong name must be refused, got %v", err)
	}
}

func TestNotPublic(t *testing.T) {
	for addr, want := range map[string]string{
		"10.1.2.3": "private", "192.168.1.1": "private", "172.16.0.1": "private", "100.64.1.1": "CGNAT",
		"127.0.0.1": "loopback", "169.254.1.1": "link-local", "0.0.0.0": "unspecified", "fd00::1": "unique local",
		"fe80::1": "link-local", "::1": "loopback", "192.0.2.10": "", "2001:db8::1": "", "8.8.8.8": "",
	} {
		got := NotPublic(netip.MustParseAddr(addr))
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("NotPublic(%s) = %q, want %q", addr, got, want)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::/112", "bücher.example", "https://x.example/a", "a@b.example",
		"mailto:x@[::1]", "www.x.example/p", "1.2.3.4/16", "xn--bcher-kva.example", "%00", "a@", "[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		switch tg.Kind {
		case KindIP:
			if !tg.Addr.IsValid() || tg.Addr.Is4In6() {
				t.Fatalf("bad address from %q: %v", s, tg.Addr)
			}
		case KindCIDR:
			if tg.Size() > 65536 || tg.Size() < 1 {
				t.Fatalf("range %v from %q has %d addresses", tg.Prefix, s, tg.Size())
			}
		case KindDomain:
			if tg.Domain == "" || !strings.HasSuffix(tg.Host, tg.Domain) || len(tg.Host) > 253 {
				t.Fatalf("bad domain from %q: %+v", s, tg)
			}
			for _, r := range tg.Host {
				if r > 0x7f || r <= ' ' {
					t.Fatalf("host %q from %q is not an A-label", tg.Host, s)
				}
			}
			if _, err := QueryName(Subject{Type: SubjectDomain, Name: tg.Domain}, "multi.surbl.org"); err != nil && len(tg.Domain) < 230 {
				t.Fatalf("query name for %q: %v", tg.Domain, err)
			}
		default:
			t.Fatalf("no kind for %q", s)
		}
	})
}

func FuzzQueryName(f *testing.F) {
	f.Add([]byte{192, 0, 2, 1}, "zen.spamhaus.org")
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "bl.example")
	f.Fuzz(func(t *testing.T, ip []byte, zone string) {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return
		}
		name := ReverseIP(a)
		labels := strings.Split(name, ".")
		if a.Is4() && len(labels) != 4 || !a.Is4() && len(labels) != 32 {
			t.Fatalf("%v: %d labels in %q", a, len(labels), name)
		}
		// reversing back must give the address
		var back []string
		for i := len(labels) - 1; i >= 0; i-- {
			back = append(back, labels[i])
		}
		if a.Is4() {
			if got := netip.MustParseAddr(strings.Join(back, ".")); got != a {
				t.Fatalf("%v reversed to %q", a, name)
			}
		} else {
			hex := strings.Join(back, "")
			var b [16]byte
			for i := 0; i < 16; i++ {
				var v byte
				for _, c := range hex[2*i : 2*i+2] {
					v = v<<4 | byte(strings.IndexRune(hexDigits, c))
				}
				b[i] = v
			}
			if netip.AddrFrom16(b) != a.Unmap() && netip.AddrFrom16(b) != a {
				t.Fatalf("%v reversed to %q", a, name)
			}
		}
	})
}

// TestTestPoints: RFC 5782's test addresses and names are said as such, with
// the answer to expect; the names are targets of their own.
func TestTargetTestPoint(t *testing.T) {
	tests := []struct {
		in       string
		want     string // in the note; "" for none
		testName bool
	}{
		{"127.0.0.2", "LISTED is the expected answer", false},
		{"::ffff:7f00:2", "127.0.0.2 is the test point", false},
		{"127.0.0.1", "clean is the expected answer", false},
		{"test", `"test" is the test name that every domain list must list`, true},
		{"TEST.", "LISTED is the expected answer", true},
		{"invalid", "clean is the expected answer", true},
		{"127.0.0.3", "", false},
		{"192.0.2.1", "", false},
		{"example.test", "", false},
		{"127.0.0.0/30", "", false},
	}
	for _, tc := range tests {
		tg, err := ParseTarget(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		got := tg.TestPoint()
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.in, got, tc.want)
		}
		if tg.IsTestName() != tc.testName {
			t.Errorf("%s: IsTestName %v", tc.in, tg.IsTestName())
		}
	}
}

// A URL's user name and password are never said back: the target is printed,
// logged by serve and sent as a Prometheus label. Its host is still checked.
func TestParseTargetRedactsUser(t *testing.T) {
	for in, want := range map[string]string{
		"https://bob:hunter2@www.example.com/x?q=1": "https://xxxxx:xxxxx@www.example.com/x?q=1",
		"https://ghp_token@www.example.com/":        "https://xxxxx@www.example.com/",
		"ftp://anonymous:me@192.0.2.7/pub":          "ftp://xxxxx:xxxxx@192.0.2.7/pub",
		"https://www.example.com/":                  "https://www.example.com/",
	} {
		got, err := ParseTarget(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got.Input != want || (got.Host != "www.example.com" && got.Addr.String() != "192.0.2.7") {
			t.Errorf("%s: input %q host %q, want input %q", in, got.Input, got.Host, want)
		}
	}
	for _, in := range []string{"gopher://bob:hunter2@www.example.com/", "https://bob:hunter2@www.example.com:abc/",
		"https://bob:hunter2@/x", "https://bob:hunter2@www.example.com/a b", "https://bob:hunter2@exa_mple..com/"} {
		_, err := ParseTarget(in)
		if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "bob") ||
			!strings.Contains(err.Error(), "xxxxx:xxxxx@") {
			t.Errorf("%s: a refused URL's error must not say its user or password: %v", in, err)
		}
	}
}

package dnsbl_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

const linkCatalog = `
- {id: zen, name: ZEN, zone: zen.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: SBL, 127.0.0.3: CSS, 127.0.0.10: PBL}, link_codes: [127.0.0.2, 127.0.0.3]}
- {id: policy, name: Policy BL, zone: policy.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: dynamic range}}
- {id: dbl, name: DBL, zone: dbl.test, kind: domain, default: true, status: active, hostnames: true,
   codes: {127.0.1.2: spam domain}}
- {id: uri, name: URI BL, zone: uri.test, kind: domain, default: true, status: active, ip_subjects: true,
   codes: {127.0.0.2: listed}}
- {id: reports, name: Reports BL, zone: reports.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: reported}, link_codes: {host: [], name_server: [], relay: [127.0.0.2]}}
`

func linkWorld(t *testing.T) (*dnsbltest.Server, *dnsbl.Checker) {
	t.Helper()
	srv := dnsbltest.New(t)
	srv.Zone("zen.test", "127.0.0.2")
	srv.Zone("policy.test", "127.0.0.2")
	srv.Zone("dbl.test", "127.0.1.2")
	srv.Zone("uri.test", "127.0.0.2")
	srv.Zone("reports.test", "127.0.0.2")
	cat, err := catalog.Parse([]byte(linkCatalog), "test")
	if err != nil {
		t.Fatal(err)
	}
	lists, _, err := cat.Select(catalog.Selection{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, resolver.Config{Servers: []string{srv.Addr}, Timeout: answeredTry})
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: client, NS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	return srv, ck
}

// A link's host is judged as receivers judge links: its address on PBL or on a
// list about who may send mail is noted, not listed; on SBL it is a listing.
// Noted checks never make a run fail, by either rule.
func TestLinkHostCodes(t *testing.T) {
	srv, ck := linkWorld(t)
	srv.A("shop.example.test", "192.0.2.10")
	srv.A("cdn.example.test", "192.0.2.11")
	srv.List("zen.test", "192.0.2.10", []string{"127.0.0.10"}) // PBL
	srv.List("policy.test", "192.0.2.10", []string{"127.0.0.2"})
	srv.List("zen.test", "192.0.2.11", []string{"127.0.0.2"}) // SBL
	for _, tc := range []struct {
		host    string
		link    bool
		outcome dnsbl.Outcome
	}{
		{"shop.example.test", true, dnsbl.OutcomeClean},
		{"shop.example.test", false, dnsbl.OutcomeListed}, // a mail sender: PBL counts
		{"cdn.example.test", true, dnsbl.OutcomeListed},
	} {
		tg, _ := dnsbl.ParseTarget(tc.host)
		tg.NoMX, tg.Link = true, tc.link
		res, err := ck.Check(context.Background(), tg)
		if err != nil {
			t.Fatal(err)
		}
		for _, strict := range []bool{true, false} {
			if got := res.Outcome(strict); got != tc.outcome {
				t.Errorf("%s (link %v, strict %v): %v, want %v", tc.host, tc.link, strict, got, tc.outcome)
			}
		}
		if tc.link && tc.host == "shop.example.test" {
			for _, id := range []string{"zen", "policy"} {
				c := find(res, "192.0.2.10", id)
				if c.Status != dnsbl.Noted || c.NotCounted == "" {
					t.Errorf("%s: %+v, want noted, with why", id, c)
				}
			}
			if res.Summary.Counts[dnsbl.Noted] != 2 || res.Summary.Listings() != 0 || res.Summary.Failed != 0 {
				t.Errorf("summary %+v", res.Summary)
			}
		}
	}
}

// A name server's address counts only for SBL and CSS; the full host name is
// asked of the lists that list host names, and only of them.
func TestNameServersAndHostNames(t *testing.T) {
	srv, ck := linkWorld(t)
	srv.A("www.example.test", "192.0.2.20")
	srv.RR("example.test. 60 IN NS ns1.example.test.")
	srv.A("ns1.example.test", "192.0.2.53")
	srv.List("zen.test", "192.0.2.53", []string{"127.0.0.10"}) // PBL on the name server: not counted
	srv.List("dbl.test", "www.example.test", []string{"127.0.1.2"})
	tg, _ := dnsbl.ParseTarget("www.example.test")
	res, err := ck.Check(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if c := find(res, "192.0.2.53", "zen"); c.Status != dnsbl.Noted || c.NotCounted == "" {
		t.Errorf("a name server on PBL: %+v", c)
	}
	if c := find(res, "www.example.test", "dbl"); c.Status != dnsbl.Listed || c.NotCounted != "" {
		t.Errorf("the host name on DBL: %+v", c)
	}
	if c := find(res, "www.example.test", "uri"); c.List != nil {
		t.Errorf("the host name was asked of a list that lists registered domains: %+v", c)
	}
	if srv.Queries("A", dnsbltest.QueryName("www.example.test", "uri.test")) != 0 {
		t.Error("the host name was sent to uri.test")
	}
	if got := res.Outcome(false); got != dnsbl.OutcomeListed {
		t.Errorf("outcome %v, want listed (the host name on DBL)", got)
	}
}

// A link that is an address is asked of the IP lists and of the URI lists that
// list addresses (ip_subjects), reversed; an address typed as a target is not
// asked of URI lists.
func TestIPLiteralLink(t *testing.T) {
	srv, ck := linkWorld(t)
	srv.List("uri.test", "192.0.2.77", []string{"127.0.0.2"})
	for _, link := range []bool{true, false} {
		tg, _ := dnsbl.ParseTarget("192.0.2.77")
		tg.Link = link
		res, err := ck.Check(context.Background(), tg)
		if err != nil {
			t.Fatal(err)
		}
		c := find(res, "192.0.2.77", "uri")
		switch {
		case link && (c.Status != dnsbl.Listed || c.NotCounted != "" || c.Query != "77.2.0.192.uri.test"):
			t.Errorf("a link's address on a URI list: %+v", c)
		case !link && c.List != nil:
			t.Errorf("a typed address was asked of a URI list: %+v", c)
		}
	}
}

// The link-host and name-server codes, as the built-in catalog gives them
// for Spamhaus ZEN and SURBL: a link host's address counts on SBL, CSS, DROP
// and XBL (the seed: a newsletter linking to its sender's own site, whose
// address was on XBL, was rejected); a name server's on SBL and CSS only; PBL
// is noted for both; SURBL's disposable-mail and click-tracker bits are noted
// for a link, and count for a sender checked as one.
func TestLinkAndNameServerRoles(t *testing.T) {
	sel, _, err := catalog.Default().Select(catalog.Selection{Only: []string{"spamhaus-zen", "surbl"}, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	srv := dnsbltest.New(t)
	srv.Zone("zen.spamhaus.org", "127.0.0.2")
	srv.Zone("multi.surbl.org", "127.0.0.2")
	srv.List("multi.surbl.org", "test.surbl.org", []string{"127.0.0.2"})
	client := newClient(t, resolver.Config{Servers: []string{srv.Addr}, Timeout: answeredTry})
	ck, err := dnsbl.New(dnsbl.Options{Lists: sel, Resolver: client, NS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	for i, tc := range []struct {
		code         string
		link, asNS   dnsbl.Status // the host's own address, as a link; a name server's address
		sender       dnsbl.Status // the host's own address, checked as a sender
		surbl        string       // a SURBL answer for the link's domain, "" for none
		surblLink    dnsbl.Status
		surblChecked dnsbl.Status
	}{
		{code: "127.0.0.2", link: dnsbl.Listed, asNS: dnsbl.Listed, sender: dnsbl.Listed}, // SBL
		{code: "127.0.0.3", link: dnsbl.Listed, asNS: dnsbl.Listed, sender: dnsbl.Listed}, // CSS
		{code: "127.0.0.4", link: dnsbl.Listed, asNS: dnsbl.Noted, sender: dnsbl.Listed},  // XBL: the seed
		{code: "127.0.0.7", link: dnsbl.Listed, asNS: dnsbl.Noted, sender: dnsbl.Listed},  // XBL
		{code: "127.0.0.9", link: dnsbl.Listed, asNS: dnsbl.Noted, sender: dnsbl.Listed},  // DROP
		{code: "127.0.0.10", link: dnsbl.Noted, asNS: dnsbl.Noted, sender: dnsbl.Listed},  // PBL
		{code: "127.0.0.11", link: dnsbl.Noted, asNS: dnsbl.Noted, sender: dnsbl.Listed},  // PBL
		{code: "127.0.0.2", link: dnsbl.Listed, asNS: dnsbl.Listed, sender: dnsbl.Listed, surbl: "127.0.0.32", surblLink: dnsbl.Noted, surblChecked: dnsbl.Listed},
		{code: "127.0.0.2", link: dnsbl.Listed, asNS: dnsbl.Listed, sender: dnsbl.Listed, surbl: "127.0.0.4", surblLink: dnsbl.Noted, surblChecked: dnsbl.Listed},
		{code: "127.0.0.2", link: dnsbl.Listed, asNS: dnsbl.Listed, sender: dnsbl.Listed, surbl: "127.0.0.36", surblLink: dnsbl.Noted, surblChecked: dnsbl.Listed},
		{code: "127.0.0.2", link: dnsbl.Listed, asNS: dnsbl.Listed, sender: dnsbl.Listed, surbl: "127.0.0.40", surblLink: dnsbl.Listed, surblChecked: dnsbl.Listed},
	} {
		domain := fmt.Sprintf("case%d.test", i)
		addr, ns := fmt.Sprintf("192.0.2.%d", 10+i), fmt.Sprintf("198.51.100.%d", 10+i)
		srv.A(domain, addr)
		srv.RR(domain + ". 60 IN NS ns1." + domain + ".")
		srv.A("ns1."+domain, ns)
		srv.List("zen.spamhaus.org", addr, []string{tc.code})
		srv.List("zen.spamhaus.org", ns, []string{tc.code})
		if tc.surbl != "" {
			srv.List("multi.surbl.org", domain, []string{tc.surbl})
		}
		for _, link := range []bool{true, false} {
			tg, _ := dnsbl.ParseTarget(domain)
			tg.NoMX, tg.Link = true, link
			res, err := ck.Check(context.Background(), tg)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.sender
			if link {
				want = tc.link
			}
			if c := find(res, addr, "spamhaus-zen"); c.Status != want || (want == dnsbl.Noted) != (c.NotCounted != "") {
				t.Errorf("%s as the host's address (link %v): %s %q, want %s", tc.code, link, c.Status, c.NotCounted, want)
			}
			if c := find(res, ns, "spamhaus-zen"); c.Status != tc.asNS {
				t.Errorf("%s as a name server's address (link %v): %s, want %s", tc.code, link, c.Status, tc.asNS)
			}
			if tc.surbl != "" {
				want := tc.surblChecked
				if link {
					want = tc.surblLink
				}
				if c := find(res, domain, "surbl"); c.Status != want {
					t.Errorf("SURBL %s (link %v): %s %q, want %s", tc.surbl, link, c.Status, c.NotCounted, want)
				}
			}
		}
	}
}

// An earlier relay's address (scan's Received headers) is judged on the IP
// lists as a link's address is, in words that say it is a relay, and is never
// asked of the URI lists, which list the hosts of links, not the servers a
// message passed through.
func TestRelayAddress(t *testing.T) {
	srv, ck := linkWorld(t)
	srv.List("uri.test", "192.0.2.78", []string{"127.0.0.2"})
	srv.List("zen.test", "192.0.2.78", []string{"127.0.0.10"}) // PBL
	srv.List("zen.test", "192.0.2.79", []string{"127.0.0.2"})  // SBL
	// a list receivers look up on every relay (SpamCop), never on a link's address
	srv.List("reports.test", "192.0.2.79", []string{"127.0.0.2"})
	srv.List("policy.test", "192.0.2.78", []string{"127.0.0.2"}) // a list receivers ask of the delivering server only
	for _, tc := range []struct {
		addr         string
		zen, reports dnsbl.Status
	}{
		{"192.0.2.78", dnsbl.Noted, dnsbl.Clean},
		{"192.0.2.79", dnsbl.Listed, dnsbl.Listed},
	} {
		tg, _ := dnsbl.ParseTarget(tc.addr)
		tg.Link, tg.Relay = true, true
		res, err := ck.Check(context.Background(), tg)
		if err != nil {
			t.Fatal(err)
		}
		if c := find(res, tc.addr, "uri"); c.List != nil {
			t.Errorf("%s: a relay's address was asked of a URI list: %+v", tc.addr, c)
		}
		c := find(res, tc.addr, "zen")
		if c.Status != tc.zen || (tc.zen == dnsbl.Noted) != strings.Contains(c.NotCounted, "an earlier relay's address") {
			t.Errorf("%s on zen: %s %q, want %s said of a relay", tc.addr, c.Status, c.NotCounted, tc.zen)
		}
		if c := find(res, tc.addr, "reports"); c.Status != tc.reports {
			t.Errorf("%s on a list of relays: %s %q, want %s", tc.addr, c.Status, c.NotCounted, tc.reports)
		}
		if c := find(res, tc.addr, "policy"); tc.addr == "192.0.2.78" &&
			(c.Status != dnsbl.Noted || !strings.Contains(c.NotCounted, "only the server that delivered the message")) {
			t.Errorf("a relay on a list of senders: %s %q, want noted", c.Status, c.NotCounted)
		}
	}
	// the same listing of a link's address is noted: that list is not about links
	tg, _ := dnsbl.ParseTarget("192.0.2.79")
	tg.Link = true
	res, err := ck.Check(context.Background(), tg)
	if c := find(res, "192.0.2.79", "reports"); err != nil || c.Status != dnsbl.Noted || !strings.Contains(c.NotCounted, "a link host's address") {
		t.Errorf("a link's address on a list of relays: %s %q (%v), want noted", c.Status, c.NotCounted, err)
	}
	if n := srv.Queries("A", dnsbltest.QueryName("192.0.2.78", "uri.test")); n != 0 {
		t.Errorf("a relay's address was sent to uri.test %d times", n)
	}
}

package dnsbl_test

import (
	"context"
	"testing"
	"time"

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
`

func linkWorld(t *testing.T) (*dnsbltest.Server, *dnsbl.Checker) {
	t.Helper()
	srv := dnsbltest.New(t)
	srv.Zone("zen.test", "127.0.0.2")
	srv.Zone("policy.test", "127.0.0.2")
	srv.Zone("dbl.test", "127.0.1.2")
	srv.Zone("uri.test", "127.0.0.2")
	cat, err := catalog.Parse([]byte(linkCatalog), "test")
	if err != nil {
		t.Fatal(err)
	}
	lists, _, err := cat.Select(catalog.Selection{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, resolver.Config{Servers: []string{srv.Addr}, Timeout: 200 * time.Millisecond})
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

package dnsbltest_test

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

func ask(t *testing.T, s *dnsbltest.Server, name string, qtype uint16, net string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: net, Timeout: time.Second}
	r, _, err := c.Exchange(m, s.Addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], net, err)
	}
	return r
}

// The fake server answers as a DNSBL and a recursive resolver would: listings
// with their TXT, NXDOMAIN with an SOA (its TTL the negative TTL), wildcards,
// CNAMEs followed, PTR records, and each fault as documented.
func TestServer(t *testing.T) {
	s := dnsbltest.New(t)
	s.SetTTL(5*time.Second, 7*time.Second)
	s.Zone("bl.test", "127.0.0.2")
	s.List("bl.test", "192.0.2.1", []string{"127.0.0.4"}, "listed: see https://bl.test/")
	s.Wildcard("dead.test", "127.0.0.2")
	s.RR("alias.test. 60 IN CNAME host.test.")
	s.A("host.test", "192.0.2.9")
	s.RR("9.2.0.192.in-addr.arpa. 60 IN PTR host.test.")

	if r := ask(t, s, "1.2.0.192.bl.test", dns.TypeA, "udp"); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.4" || r.Answer[0].Header().Ttl != 5 {
		t.Errorf("listing: %v", r.Answer)
	}
	if r := ask(t, s, "1.2.0.192.bl.test", dns.TypeTXT, "udp"); len(r.Answer) != 1 {
		t.Errorf("TXT: %v", r.Answer)
	}
	r := ask(t, s, "5.2.0.192.bl.test", dns.TypeA, "udp")
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].(*dns.SOA).Minttl != 7 {
		t.Errorf("NXDOMAIN with its SOA: rcode %d, authority %v", r.Rcode, r.Ns)
	}
	if r := ask(t, s, "anything.dead.test", dns.TypeA, "udp"); len(r.Answer) != 1 {
		t.Errorf("wildcard: %v", r.Answer)
	}
	if r := ask(t, s, "alias.test", dns.TypeA, "udp"); len(r.Answer) != 2 {
		t.Errorf("CNAME followed: %v", r.Answer)
	}
	if r := ask(t, s, "9.2.0.192.in-addr.arpa", dns.TypePTR, "udp"); len(r.Answer) != 1 {
		t.Errorf("PTR: %v", r.Answer)
	}
	if n := s.Queries("A", "1.2.0.192.bl.test"); n != 1 {
		t.Errorf("Queries counts what arrived: %d", n)
	}

	s.AddFault(dnsbltest.Fault{Suffix: "sf.test", Kind: dnsbltest.ServFail})
	s.AddFault(dnsbltest.Fault{Suffix: "ref.test", Kind: dnsbltest.Refused})
	s.AddFault(dnsbltest.Fault{Suffix: "tc.test", Kind: dnsbltest.Truncate})
	s.AddFault(dnsbltest.Fault{Suffix: "once.test", Kind: dnsbltest.ServFail, Times: 1})
	s.A("tc.test", "192.0.2.8")
	s.A("once.test", "192.0.2.7")
	if r := ask(t, s, "x.sf.test", dns.TypeA, "udp"); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("ServFail: %d", r.Rcode)
	}
	if r := ask(t, s, "x.ref.test", dns.TypeA, "udp"); r.Rcode != dns.RcodeRefused {
		t.Errorf("Refused: %d", r.Rcode)
	}
	if r := ask(t, s, "tc.test", dns.TypeA, "udp"); !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("Truncate over UDP: %+v", r)
	}
	if r := ask(t, s, "tc.test", dns.TypeA, "tcp"); r.Truncated || len(r.Answer) != 1 {
		t.Errorf("Truncate answers over TCP: %+v", r)
	}
	if r := ask(t, s, "once.test", dns.TypeA, "udp"); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("a fault with Times 1 applies once: %d", r.Rcode)
	}
	if r := ask(t, s, "once.test", dns.TypeA, "udp"); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("and then no more: %+v", r)
	}
	s.Unlist("bl.test", "192.0.2.1")
	if r := ask(t, s, "1.2.0.192.bl.test", dns.TypeA, "udp"); r.Rcode != dns.RcodeNameError {
		t.Errorf("Unlist: %+v", r)
	}
}

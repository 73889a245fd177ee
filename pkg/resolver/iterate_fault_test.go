package resolver_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// custom runs h as the name server at addr of the world (UDP, and TCP unless
// noTCP), on its own port of 127.0.0.1: a server that misbehaves in a way the
// dnsbltest server does not.
func (w *world) custom(addr string, noTCP bool, h dns.HandlerFunc) {
	w.t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	// known before any handler runs: handlers read the world's maps
	w.ports[netip.MustParseAddr(addr)] = pc.LocalAddr().String()
	w.asked[netip.MustParseAddr(addr)] = new(atomic.Int64)
	udp := &dns.Server{PacketConn: pc, Handler: h}
	go udp.ActivateAndServe()
	w.t.Cleanup(func() { udp.Shutdown() })
	if !noTCP {
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			w.t.Fatal(err)
		}
		tcp := &dns.Server{Listener: l, Handler: h}
		go tcp.ActivateAndServe()
		w.t.Cleanup(func() { tcp.Shutdown() })
	}
}

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// misbehaving adds to the world zones delegated by the TLD to servers that
// misbehave, each zone served well by the list server (127.0.53.4) where it
// names it, with 192.0.2.10 listed (127.0.0.4) and every other name NXDOMAIN.
//
//	root   example → 127.0.53.9: ns.good.example A 127.0.53.4, ns.cname.example CNAME ns.good.example
//	.20    AA NXDOMAIN from the root zone it serves (SOA .) for every name
//	.21    an upward referral (the root's NS) with AA set
//	.22    a DNAME without the CNAME it stands for (dname.test's v4 → dname.test)
//	.23    FORMERR for a query with EDNS; answers without, as the list server
//	.24    TC for every answer over UDP, and no TCP
func misbehaving(t *testing.T, w *world) {
	root, tld, list := w.srv["127.0.53.1"], w.srv["127.0.53.2"], w.srv["127.0.53.4"]
	root.Delegate("example", dnsbltest.NS{Name: "ns.nic.example", Addrs: []string{"127.0.53.9"}})
	ex := w.server("127.0.53.9", "example")
	ex.A("ns.good.example", "127.0.53.4")
	ex.RR("ns.cname.example. 60 IN CNAME ns.good.example.")
	good := dnsbltest.NS{Name: "ns2.bl.test", Addrs: []string{"127.0.53.4"}}
	ns := func(host, addr string) dnsbltest.NS { return dnsbltest.NS{Name: host, Addrs: []string{addr}} }
	zones := map[string][]dnsbltest.NS{
		"rootsoa.test":      {ns("ns.rootsoa.test", "127.0.53.20")},
		"rootsoa-good.test": {ns("ns.rootsoa-good.test", "127.0.53.20"), good},
		"upaa.test":         {ns("ns.upaa.test", "127.0.53.21")},
		"dname.test":        {ns("ns.dname.test", "127.0.53.22")},
		"formerr.test":      {ns("ns.formerr.test", "127.0.53.23")},
		"tcnotcp.test":      {ns("ns.tcnotcp.test", "127.0.53.24")},
		"nscname.test":      {{Name: "ns.cname.example"}},
		"wrongq.test":       {ns("ns.wrongq.test", "127.0.53.29"), good},
		// the TLD gives an address for a name of another TLD: not its to give
		"poison.test": {{Name: "ns.good.example", Addrs: []string{"127.0.53.25"}}},
		// each zone's server named in the other, without glue
		"circ1.test": {{Name: "ns.circ2.test"}},
		"circ2.test": {{Name: "ns.circ1.test"}},
		"circ3.test": {{Name: "ns.circ4.test"}, ns("lame.circ3.test", "127.0.53.27")},
		"circ4.test": {{Name: "ns.circ3.test"}, ns("lame.circ4.test", "127.0.53.27")},
	}
	for z, servers := range zones {
		tld.Delegate(z, servers...)
		list.Authoritative(z)
		list.Zone(z, "127.0.0.2")
		list.List(z, "192.0.2.10", []string{"127.0.0.4"})
	}
	w.custom("127.0.53.20", false, func(rw dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		m.Authoritative = true
		m.Ns = []dns.RR{rr(t, ". 60 IN SOA a.root.test. h.root.test. 1 60 60 600 60")}
		rw.WriteMsg(m)
	})
	w.custom("127.0.53.21", false, func(rw dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		m.Ns = []dns.RR{rr(t, ". 3600 IN NS a.root.test.")}
		m.Extra = []dns.RR{rr(t, "a.root.test. 3600 IN A 127.0.53.1")}
		rw.WriteMsg(m)
	})
	w.custom("127.0.53.22", false, func(rw dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		name := strings.ToLower(r.Question[0].Name)
		switch {
		case strings.HasSuffix(name, ".v4.dname.test."):
			m.Answer = []dns.RR{rr(t, "v4.dname.test. 60 IN DNAME dname.test.")}
		case name == "10.2.0.192.dname.test." || name == "2.0.0.127.dname.test.":
			code := map[bool]string{true: "127.0.0.4", false: "127.0.0.2"}[strings.HasPrefix(name, "10.")]
			m.Answer = []dns.RR{rr(t, name+" 60 IN A "+code)}
		default:
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{rr(t, "dname.test. 60 IN SOA ns.dname.test. h.dname.test. 1 60 60 600 60")}
		}
		rw.WriteMsg(m)
	})
	listAddr := w.ports[netip.MustParseAddr("127.0.53.4")] // read here: handlers run beside custom's writes
	w.custom("127.0.53.23", false, func(rw dns.ResponseWriter, r *dns.Msg) {
		if r.IsEdns0() != nil {
			m := new(dns.Msg)
			m.SetRcode(r, dns.RcodeFormatError)
			rw.WriteMsg(m)
			return
		}
		c, err := dns.Exchange(r, listAddr)
		if err != nil {
			return
		}
		rw.WriteMsg(c)
	})
	w.custom("127.0.53.29", false, func(rw dns.ResponseWriter, r *dns.Msg) { // TC, then over TCP an answer to another question
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		if _, udp := rw.RemoteAddr().(*net.UDPAddr); udp {
			m.Truncated = true
		} else {
			m.Rcode = dns.RcodeNameError
			m.Question[0].Name = "elsewhere." + m.Question[0].Name
		}
		rw.WriteMsg(m)
	})
	w.custom("127.0.53.24", true, func(rw dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative, m.Truncated = true, true
		rw.WriteMsg(m)
	})
}

// Servers that answer wrongly, or not at all: a listing is found where one
// server can give it, and what no server answered well is an error, never
// clean (NXDOMAIN).
func TestIteratorMisbehavingServers(t *testing.T) {
	w := newWorld(t)
	misbehaving(t, w)
	it := w.iterator("127.0.53.1")
	ctx := context.Background()
	listed, clean := "10.2.0.192.", "99.2.0.192."
	tests := []struct {
		what, zone, name string
		want             string // codes, "NX", or "error: " and words of it
	}{
		{"AA NXDOMAIN with the root's SOA: lame", "rootsoa.test", listed, "error: lame"},
		{"AA NXDOMAIN with the root's SOA, not listed either: lame", "rootsoa.test", clean, "error: lame"},
		{"an upward referral with AA set: lame, not no data", "upaa.test", listed, "error: lame"},
		{"out-of-bailiwick glue ignored, the name walked to", "poison.test", listed, "127.0.0.4"},
		{"out-of-bailiwick glue ignored: not listed", "poison.test", clean, "NX"},
		{"a DNAME without its CNAME, followed inside the zone", "dname.test", listed + "v4.", "127.0.0.4"},
		{"a DNAME without its CNAME: not listed", "dname.test", clean + "v4.", "NX"},
		{"FORMERR to EDNS: asked again without", "formerr.test", listed, "127.0.0.4"},
		{"FORMERR to EDNS: not listed", "formerr.test", clean, "NX"},
		{"truncated, and no TCP", "tcnotcp.test", listed, "error: "},
		{"circular glueless delegations", "circ1.test", listed, "error: "},
		{"a name server's name that is a CNAME to another zone", "nscname.test", listed, "127.0.0.4"},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			a, err := it.Lookup(ctx, tt.zone, tt.name+tt.zone, resolver.TypeA)
			got := ""
			switch {
			case err != nil:
				got = "error: " + err.Error()
			case a.NXDomain:
				got = "NX"
			default:
				got = codes(a)
			}
			want, isErr := strings.CutPrefix(tt.want, "error: ")
			if got != tt.want && !(isErr && strings.HasPrefix(got, "error: ") && strings.Contains(got, want)) {
				t.Errorf("%s: got %q, want %q", tt.name+tt.zone, got, tt.want)
			}
		})
	}
	// a lame server beside a good one: every lookup finds the listing, however
	// the servers are rotated, and the lame one is asked once (then last)
	lame := w.questions("127.0.53.20")
	for i := range 4 {
		a, err := it.Lookup(resolver.WithoutCache(ctx), "rootsoa-good.test", listed+"rootsoa-good.test", resolver.TypeA)
		if err != nil || codes(a) != "127.0.0.4" {
			t.Errorf("lookup %d beside a lame server: %+v, %v", i, a, err)
		}
	}
	if n := w.questions("127.0.53.20") - lame; n > 1 {
		t.Errorf("the lame server was asked %d times in 4 lookups: after a lame answer it goes last", n)
	}
	// a server whose answer over TCP is another question's, beside a good one
	for i := range 4 {
		a, err := it.Lookup(resolver.WithoutCache(ctx), "wrongq.test", listed+"wrongq.test", resolver.TypeA)
		if err != nil || codes(a) != "127.0.0.4" {
			t.Errorf("lookup %d beside a server answering another question: %+v, %v", i, a, err)
		}
	}
	if n := w.questions("127.0.53.25"); n != 0 {
		t.Errorf("the poisoned glue address was asked %d times", n)
	}
}

// Lookups at once of a zone whose one server with glue is lame and whose good
// one is glueless: each finds the good one, whichever resolved its name (a
// lookup that found the name already resolved by another skipped it, and said
// the lame server's error).
func TestIteratorGluelessResolvedByAnother(t *testing.T) {
	w := newWorld(t)
	misbehaving(t, w)
	var first atomic.Bool
	w.custom("127.0.53.26", false, func(rw dns.ResponseWriter, r *dns.Msg) {
		if !first.CompareAndSwap(false, true) {
			time.Sleep(200 * time.Millisecond) // the others' lame answers come after the first lookup found the good server
		}
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		m.Authoritative = true
		m.Ns = []dns.RR{rr(t, ". 60 IN SOA a.root.test. h.root.test. 1 60 60 600 60")}
		rw.WriteMsg(m)
	})
	tld, list := w.srv["127.0.53.2"], w.srv["127.0.53.4"]
	tld.Delegate("race.test", dnsbltest.NS{Name: "ns.race.test", Addrs: []string{"127.0.53.26"}}, dnsbltest.NS{Name: "ns.good.example"})
	list.Authoritative("race.test")
	list.List("race.test", "192.0.2.10", []string{"127.0.0.4"})
	it := w.iterator("127.0.53.1")
	if _, err := it.Delegation(context.Background(), "race.test"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := it.Lookup(resolver.WithoutCache(context.Background()), "race.test", "10.2.0.192.race.test", resolver.TypeA)
			if err != nil || codes(a) != "127.0.0.4" {
				t.Errorf("%+v, %v", a, err)
			}
		}()
	}
	wg.Wait()
}

// Circular glueless delegations fail at once, not when the lookup's time is up:
// a walk never waits for a step that waits for it.
func TestIteratorCircularGlueless(t *testing.T) {
	w := newWorld(t)
	misbehaving(t, w)
	it, err := resolver.NewIterator(resolver.IteratorConfig{Hints: resolver.RootHints{{Name: "a.root.test",
		Addrs: []netip.Addr{netip.MustParseAddr("127.0.53.1")}}}, Timeout: time.Hour, Total: time.Hour,
		ServerAddr: func(a netip.Addr) string { return w.ports[a] }})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	// the pair's walks to their name servers' names each ask a lame server
	// (with glue) first, which holds its answers until both asked: each walk
	// has taken its own step, and then comes to the other's
	lame := w.server("127.0.53.27")
	g := dnsbltest.NewGroup(2)
	for _, z := range []string{"ns.circ3.test", "ns.circ4.test"} {
		lame.AddFault(dnsbltest.Fault{Suffix: z, Type: "NS", Kind: dnsbltest.Gather, Group: g})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// one lookup alone, then two at once, each walking into the other's circle
	for _, zones := range [][]string{{"circ1.test"}, {"circ3.test", "circ4.test"}} {
		done := make(chan error, len(zones))
		for _, z := range zones {
			go func() {
				_, err := it.Lookup(ctx, z, "10.2.0.192."+z, resolver.TypeA)
				done <- err
			}()
		}
		for range zones {
			select {
			case err := <-done:
				var re *resolver.Error
				if !errors.As(err, &re) || re.Kind == resolver.Canceled || !strings.Contains(err.Error(), "circular") ||
					!strings.Contains(err.Error(), "no name server address for circ") || strings.Contains(err.Error(), "for ns.") {
					t.Errorf("%v: got %v, want an error that names the circle", zones, err)
				}
			case <-time.After(20 * time.Second): // no answer for an hour's bound: it waits on itself
				cancel()
				t.Fatalf("%v: a circular glueless delegation waited on itself (canceled: %v)", zones, <-done)
			}
		}
	}
}

// With Retries, a server that answered before and then dropped every copy of a
// question within a try (a rate limit, as BIND's RRL drops answers) is asked
// again; a server that never answered is not waited for again.
func TestIteratorRetriesAnsweringServer(t *testing.T) {
	w := newWorld(t)
	tld, list := w.srv["127.0.53.2"], w.srv["127.0.53.4"]
	tld.Delegate("rrl.test", dnsbltest.NS{Name: "ns.rrl.test", Addrs: []string{"127.0.53.28"}})
	tld.Delegate("dead.test", dnsbltest.NS{Name: "ns.dead.test", Addrs: []string{"127.0.53.3"}}) // the world's dead server
	list.Authoritative("rrl.test")
	list.List("rrl.test", "192.0.2.10", []string{"127.0.0.4"})
	list.Zone("rrl.test", "127.0.0.2")
	var mu sync.Mutex
	var firstDrop time.Time
	listAddr := w.ports[netip.MustParseAddr("127.0.53.4")] // read here: handlers run beside custom's writes
	w.custom("127.0.53.28", false, func(rw dns.ResponseWriter, r *dns.Msg) {
		if strings.HasPrefix(r.Question[0].Name, "10.2.0.192.") {
			mu.Lock()
			if firstDrop.IsZero() {
				firstDrop = time.Now()
			}
			// every copy of the first try (300ms) is dropped
			drop := time.Since(firstDrop) < 250*time.Millisecond
			mu.Unlock()
			if drop {
				return
			}
		}
		c, err := dns.Exchange(r, listAddr)
		if err == nil {
			rw.WriteMsg(c)
		}
	})
	it, err := resolver.NewIterator(resolver.IteratorConfig{Hints: resolver.RootHints{{Name: "a.root.test",
		Addrs: []netip.Addr{netip.MustParseAddr("127.0.53.1")}}}, Timeout: 300 * time.Millisecond, Total: 5 * time.Second,
		Retries: 1, Now: w.clock, ServerAddr: func(a netip.Addr) string {
			if n := w.asked[a]; n != nil {
				n.Add(1)
			}
			return w.ports[a]
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	ctx := context.Background()
	if a, err := it.Lookup(ctx, "rrl.test", "2.0.0.127.rrl.test", resolver.TypeA); err != nil || codes(a) != "127.0.0.2" {
		t.Fatalf("the test point: %+v, %v", a, err)
	}
	if a, err := it.Lookup(ctx, "rrl.test", "10.2.0.192.rrl.test", resolver.TypeA); err != nil || codes(a) != "127.0.0.4" {
		t.Errorf("a listing behind a rate limit: %+v, %v", a, err)
	}
	if _, err := it.Lookup(ctx, "dead.test", "10.2.0.192.dead.test", resolver.TypeA); err == nil {
		t.Error("a dead server answered")
	}
	if n := w.questions("127.0.53.3"); n != 1 {
		t.Errorf("the dead server was asked %d questions, want one (it never answered: no retry)", n)
	}
}

// A walk from public root hints does not ask a name server at a loopback,
// private or unspecified address (a parked zone's NS at 127.0.0.1): it would
// ask this machine or its network. Servers are named here by documentation
// addresses, each mapped to its loopback port.
func TestIteratorSkipsNonPublicServers(t *testing.T) {
	root, list := dnsbltest.New(t), dnsbltest.New(t)
	root.Authoritative(".")
	root.Delegate("pub.test", dnsbltest.NS{Name: "ns.pub.test", Addrs: []string{"192.0.2.4"}})
	root.Delegate("priv.test", dnsbltest.NS{Name: "ns1.priv.test", Addrs: []string{"127.0.0.1"}},
		dnsbltest.NS{Name: "ns2.priv.test", Addrs: []string{"10.0.0.1", "0.0.0.0", "fe80::1", "240.0.0.1"}})
	list.Authoritative("pub.test", "priv.test")
	for _, z := range []string{"pub.test", "priv.test"} {
		list.List(z, "192.0.2.10", []string{"127.0.0.4"})
	}
	ports := map[string]string{"192.0.2.1": root.Addr}
	it, err := resolver.NewIterator(resolver.IteratorConfig{Hints: resolver.RootHints{{Name: "a.root.test",
		Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}}, Timeout: 300 * time.Millisecond,
		ServerAddr: func(a netip.Addr) string {
			if p, ok := ports[a.String()]; ok {
				return p
			}
			return list.Addr // every list server, the private ones too: the old walk asked them
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	ctx := context.Background()
	if a, err := it.Lookup(ctx, "pub.test", "10.2.0.192.pub.test", resolver.TypeA); err != nil || codes(a) != "127.0.0.4" {
		t.Errorf("a public server: %+v, %v", a, err)
	}
	a, err := it.Lookup(ctx, "priv.test", "10.2.0.192.priv.test", resolver.TypeA)
	if err == nil || !strings.Contains(err.Error(), "not asked") || list.Queries("A", "10.2.0.192.priv.test") != 0 {
		t.Errorf("name servers at 127.0.0.1, 10.0.0.1, 0.0.0.0, fe80::1, 240.0.0.1: %+v, %v (asked %d times)", a, err, list.Queries("A", "10.2.0.192.priv.test"))
	}
}

// A referral whose NS records have TTL 0 (kept for no time at all) still
// leads the walk that got it.
func TestIteratorReferralTTLZero(t *testing.T) {
	w := newWorld(t)
	w.srv["127.0.53.1"].Delegate("zero", dnsbltest.NS{Name: "ns.nic.zero", Addrs: []string{"127.0.53.30"}})
	w.custom("127.0.53.30", false, func(rw dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Ns = []dns.RR{rr(t, "list.zero. 0 IN NS ns.list.zero.")}
		m.Extra = []dns.RR{rr(t, "ns.list.zero. 0 IN A 127.0.53.4")}
		rw.WriteMsg(m)
	})
	list := w.srv["127.0.53.4"]
	list.Authoritative("list.zero")
	list.List("list.zero", "192.0.2.10", []string{"127.0.0.4"})
	a, err := w.iterator("127.0.53.1").Lookup(context.Background(), "list.zero", "10.2.0.192.list.zero", resolver.TypeA)
	if err != nil || codes(a) != "127.0.0.4" {
		t.Errorf("%+v, %v", a, err)
	}
}

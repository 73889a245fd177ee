package resolver_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// world is a DNS hierarchy on loopback: every server a dnsbltest server on its
// own port of 127.0.0.1, named in delegations by an address of 127.0.53.0/24
// that the Iterator's ServerAddr maps to that port.
type world struct {
	t     *testing.T
	ports map[netip.Addr]string
	srv   map[string]*dnsbltest.Server // by its address in the hierarchy
	now   time.Time
	mu    sync.Mutex
	// asked counts the questions the iterators sent to each address (its
	// ServerAddr is called once a question). The servers count packets, and a
	// copy of a query whose answer has not come within the RTO (10ms; a
	// machine busy under -race can take longer to read one) is a packet too.
	asked map[netip.Addr]*atomic.Int64
}

// questions is how many questions the iterators sent to the server at addr.
func (w *world) questions(addr string) int {
	if n := w.asked[netip.MustParseAddr(addr)]; n != nil {
		return int(n.Load())
	}
	return 0
}

func (w *world) server(addr string, zones ...string) *dnsbltest.Server {
	s := dnsbltest.New(w.t)
	if len(zones) > 0 {
		s.Authoritative(zones...)
	}
	w.ports[netip.MustParseAddr(addr)] = s.Addr
	w.asked[netip.MustParseAddr(addr)] = new(atomic.Int64)
	w.srv[addr] = s
	return s
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

func (w *world) iterator(rootAddrs ...string) *resolver.Iterator {
	var hints resolver.RootHints
	for i, a := range rootAddrs {
		hints = append(hints, resolver.NameServer{Name: string(rune('a'+i)) + ".root.test", Addrs: []netip.Addr{netip.MustParseAddr(a)}})
	}
	it, err := resolver.NewIterator(resolver.IteratorConfig{Hints: hints, Timeout: 300 * time.Millisecond,
		Total: 2 * time.Second, Now: w.clock, ServerAddr: func(a netip.Addr) string {
			if n := w.asked[a]; n != nil {
				n.Add(1)
			}
			if p, ok := w.ports[a]; ok {
				return p
			}
			return "127.0.0.1:9" // nothing listens: a network error at once
		}})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(it.Close)
	return it
}

// newWorld builds:
//
//	.            127.0.53.1   test → 127.0.53.2
//	test         127.0.53.2   bl.test → ns1 (127.0.53.3, dead), ns2 (127.0.53.4)
//	                          lame.test → lame (127.0.53.5, a resolver), good (127.0.53.4)
//	                          keyed.test → 127.0.53.6; gl.test → ns.other.test (no glue)
//	                          other.test → 127.0.53.7
//	keyed.test   127.0.53.6   key1.zen.keyed.test → 127.0.53.4
//	other.test   127.0.53.7   ns.other.test A 127.0.53.4
//	list server  127.0.53.4   bl.test, lame.test, key1.zen.keyed.test, gl.test
func newWorld(t *testing.T) *world {
	w := &world{t: t, ports: map[netip.Addr]string{}, srv: map[string]*dnsbltest.Server{}, now: time.Unix(1e9, 0),
		asked: map[netip.Addr]*atomic.Int64{}}
	root := w.server("127.0.53.1", ".")
	root.Delegate("test", dnsbltest.NS{Name: "ns.nic.test", Addrs: []string{"127.0.53.2"}})
	tld := w.server("127.0.53.2", "test")
	tld.Delegate("bl.test", dnsbltest.NS{Name: "ns1.bl.test", Addrs: []string{"127.0.53.3"}},
		dnsbltest.NS{Name: "ns2.bl.test", Addrs: []string{"127.0.53.4"}})
	tld.Delegate("lame.test", dnsbltest.NS{Name: "lame.example", Addrs: []string{"127.0.53.5"}},
		dnsbltest.NS{Name: "ns2.bl.test", Addrs: []string{"127.0.53.4"}})
	tld.Delegate("keyed.test", dnsbltest.NS{Name: "ns.keyed.test", Addrs: []string{"127.0.53.6"}})
	tld.Delegate("gl.test", dnsbltest.NS{Name: "ns.other.test"})
	tld.Delegate("other.test", dnsbltest.NS{Name: "ns.other.test", Addrs: []string{"127.0.53.7"}})
	dead := w.server("127.0.53.3", "bl.test")
	dead.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop})
	list := w.server("127.0.53.4", "bl.test", "lame.test", "key1.zen.keyed.test", "gl.test")
	for _, z := range []string{"bl.test", "lame.test", "key1.zen.keyed.test", "gl.test"} {
		list.Zone(z, "127.0.0.2")
	}
	list.List("bl.test", "192.0.2.10", []string{"127.0.0.4"}, "listed: see https://bl.test/192.0.2.10")
	list.List("bl.test", "2001:db8::1", []string{"127.0.0.3"})
	list.A("ns2.bl.test", "127.0.53.4") // keyed.test's glue for it is out of its bailiwick: the name is walked to
	list.RR("alias.bl.test. 60 IN CNAME 2.0.0.127.bl.test.")
	list.RR("away.bl.test. 60 IN CNAME 2.0.0.127.elsewhere.test.")
	list.RR("loop1.bl.test. 60 IN CNAME loop2.bl.test.")
	list.RR("loop2.bl.test. 60 IN CNAME loop1.bl.test.")
	w.server("127.0.53.5") // lame: a resolver that knows nothing of lame.test (NXDOMAIN, not authoritative)
	keyed := w.server("127.0.53.6", "keyed.test")
	keyed.Delegate("key1.zen.keyed.test", dnsbltest.NS{Name: "ns2.bl.test", Addrs: []string{"127.0.53.4"}})
	tld.Delegate("rbl.test", dnsbltest.NS{Name: "ns.rbl.test", Addrs: []string{"127.0.53.8"}})
	rbl := w.server("127.0.53.8", "rbl.test") // rbldnsd: one server for a zone and the keyed zone below, NS refused
	rbl.Zone("key9.zen.rbl.test", "127.0.0.2")
	rbl.AddFault(dnsbltest.Fault{Suffix: "rbl.test", Type: "NS", Kind: dnsbltest.Refused})
	other := w.server("127.0.53.7", "other.test")
	other.A("ns.other.test", "127.0.53.4")
	return w
}

func codes(a *resolver.Answer) string {
	var s []string
	for _, c := range a.Addrs {
		s = append(s, c.String())
	}
	return strings.Join(s, ",")
}

func TestIteratorLookups(t *testing.T) {
	w := newWorld(t)
	it := w.iterator("127.0.53.1")
	ctx := context.Background()
	tests := []struct {
		what, zone, name string
		want             string // codes, or "NX"
	}{
		{"listing through root, TLD and a dead first server", "bl.test", "2.0.0.127.bl.test", "127.0.0.2"},
		{"the full name, never minimised (NXDOMAIN at the empty non-terminal)", "bl.test", dnsbltest.QueryName("192.0.2.10", "bl.test"), "127.0.0.4"},
		{"IPv6, 32 nibbles", "bl.test", dnsbltest.QueryName("2001:db8::1", "bl.test"), "127.0.0.3"},
		{"not listed", "bl.test", "1.0.0.127.bl.test", "NX"},
		{"a lame server beside a good one", "lame.test", "2.0.0.127.lame.test", "127.0.0.2"},
		{"a keyed zone found by a referral in the walk", "key1.zen.keyed.test", "2.0.0.127.key1.zen.keyed.test", "127.0.0.2"},
		{"a referral below the apex, followed", "keyed.test", "test.key1.zen.keyed.test", "127.0.0.2"},
		{"a glueless name server resolved", "gl.test", "2.0.0.127.gl.test", "127.0.0.2"},
		{"a server that refuses NS queries (rbldnsd)", "key9.zen.rbl.test", "2.0.0.127.key9.zen.rbl.test", "127.0.0.2"},
		{"a CNAME inside the zone", "bl.test", "alias.bl.test", "127.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			a, err := it.Lookup(ctx, tt.zone, tt.name, resolver.TypeA)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got := codes(a)
			if a.NXDomain {
				got = "NX"
			}
			if got != tt.want {
				t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	list := w.srv["127.0.53.4"]
	if n := list.Queries("A", "0.0.127.bl.test") + list.Queries("A", "2.0.192.bl.test"); n != 0 {
		t.Errorf("an intermediate name was asked %d times: the query name must never be minimised", n)
	}
	if n := w.questions("127.0.53.1"); n != 1 {
		t.Errorf("the root was asked %d times, want once (every zone is under test.)", n)
	}
	if q := list.LastQuery(); q == nil || q.RecursionDesired || q.IsEdns0() == nil || q.IsEdns0().UDPSize() != 1232 {
		t.Errorf("a list's server must get RD=0 and EDNS0 with 1232 bytes: %v", q)
	}
	dead := w.questions("127.0.53.3") // one try at most (its copies resent within the try)
	if dead == 0 || w.srv["127.0.53.3"].TotalQueries() == 0 {
		t.Error("the dead server, first in the delegation, was never tried")
	}
	for range 4 { // asked of the servers, not answered from the cache
		if _, err := it.Lookup(resolver.WithoutCache(ctx), "bl.test", "2.0.0.127.bl.test", resolver.TypeA); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.questions("127.0.53.3"); n != dead {
		t.Errorf("the dead server was asked again (%d, then %d): after a timeout it goes last", dead, n)
	}
	if _, err := it.Lookup(ctx, "bl.test", "away.bl.test", resolver.TypeA); err == nil || !strings.Contains(err.Error(), "outside the list's zone") {
		t.Errorf("a CNAME out of the zone must not be followed: %v", err)
	}
	if a, err := it.Lookup(ctx, "bl.test", "loop1.bl.test", resolver.TypeA); err == nil || !strings.Contains(err.Error(), "CNAME loop") {
		t.Errorf("a CNAME loop must be an error, never clean: %+v %v", a, err)
	}
}

func TestIteratorTruncatedOverTCP(t *testing.T) {
	w := newWorld(t)
	w.srv["127.0.53.4"].AddFault(dnsbltest.Fault{Suffix: "2.0.0.127.bl.test", Kind: dnsbltest.Truncate})
	w.srv["127.0.53.3"].Close() // only the list server
	a, err := w.iterator("127.0.53.1").Lookup(context.Background(), "bl.test", "2.0.0.127.bl.test", resolver.TypeA)
	if err != nil || codes(a) != "127.0.0.2" {
		t.Fatalf("got %+v, %v", a, err)
	}
}

func TestIteratorSharesWalks(t *testing.T) {
	w := newWorld(t)
	it := w.iterator("127.0.53.1")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			zone := []string{"bl.test", "lame.test", "gl.test", "key1.zen.keyed.test"}[i%4]
			if _, err := it.Lookup(context.Background(), zone, "2.0.0.127."+zone, resolver.TypeA); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := w.questions("127.0.53.1"); n != 1 {
		t.Errorf("twenty lookups at once asked the root %d times, want once per top-level domain", n)
	}
	// the TLD's questions each asked once (the server's count of different
	// ones). bl.test's delegation comes from its own walk, or from the walk
	// to ns2.bl.test (keyed.test's name server), whichever goes first
	tld := w.srv["127.0.53.2"]
	if n := w.questions("127.0.53.2"); n != tld.Questions() {
		t.Errorf("the TLD was asked %d questions, %d different ones: want each once", n, tld.Questions())
	}
	asked, nsAsked := w.questions("127.0.53.2"), tld.Queries("NS", "bl.test")
	// the delegations expire by their TTL (60 s): then the walk is made again
	w.advance(2 * time.Minute)
	if _, err := it.Lookup(context.Background(), "bl.test", "2.0.0.127.bl.test", resolver.TypeA); err != nil {
		t.Fatal(err)
	}
	if n := w.questions("127.0.53.2") - asked; n != 1 || tld.Queries("NS", "bl.test") != nsAsked+1 {
		t.Errorf("after the TTL the TLD was asked %d questions (bl.test's in %d packets, %d before), want bl.test's again",
			n, tld.Queries("NS", "bl.test"), nsAsked)
	}
	d, err := it.Delegation(context.Background(), "bl.test")
	if err != nil || d.Zone != "bl.test" || len(d.Servers) != 2 || !d.Expires.Equal(w.clock().Add(time.Minute)) {
		t.Errorf("delegation %+v, %v", d, err)
	}
}

func TestIteratorRootUnreachable(t *testing.T) {
	w := newWorld(t)
	w.srv["127.0.53.1"].AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop})
	it := w.iterator("127.0.53.1", "127.0.53.99") // one dropping, one where nothing listens
	_, err := it.Lookup(context.Background(), "bl.test", "2.0.0.127.bl.test", resolver.TypeA)
	if !errors.Is(err, resolver.ErrRootUnreachable) {
		t.Fatalf("got %v, want ErrRootUnreachable", err)
	}
	before := w.questions("127.0.53.1")
	_, err = it.Lookup(context.Background(), "lame.test", "2.0.0.127.lame.test", resolver.TypeA)
	if !errors.Is(err, resolver.ErrRootUnreachable) || w.questions("127.0.53.1") != before || before == 0 {
		t.Errorf("a root known dead must be said at once, not asked again: %v", err)
	}
}

func TestIteratorAllServersFail(t *testing.T) {
	w := newWorld(t)
	w.srv["127.0.53.4"].AddFault(dnsbltest.Fault{Suffix: "bl.test", Kind: dnsbltest.Refused})
	_, err := w.iterator("127.0.53.1").Lookup(context.Background(), "bl.test", "2.0.0.127.bl.test", resolver.TypeA)
	var re *resolver.Error
	if !errors.As(err, &re) || (re.Kind != resolver.Refused && re.Kind != resolver.Timeout) {
		t.Fatalf("got %v, want the last server's failure", err)
	}
}

func TestIteratorNeverLeavesLoopbackInTests(t *testing.T) {
	it, err := resolver.NewIterator(resolver.IteratorConfig{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	_, err = it.Lookup(context.Background(), "zen.spamhaus.org", "2.0.0.127.zen.spamhaus.org", resolver.TypeA)
	if err == nil || it.Sent() != 0 {
		t.Fatalf("the built-in root hints must not be asked from a test: %v, %d sent", err, it.Sent())
	}
}

func TestParseRootHints(t *testing.T) {
	tests := []struct {
		name, in, err string
		servers       int
	}{
		{"IANA's, with comments", ".  3600000 IN NS A.ROOT-SERVERS.NET.\n; c\nA.ROOT-SERVERS.NET. 3600000 A 198.41.0.4\n" +
			"A.ROOT-SERVERS.NET. 3600000 AAAA 2001:503:ba3e::2:30\n", "", 1},
		{"no TTL, no class", ". NS a.root.test.\na.root.test. A 127.0.53.1\n", "", 1},
		{"NS without address", ". NS a.root.test.\n", "has no A or AAAA", 0},
		{"empty", "; nothing\n", "no \". NS\" record", 0},
		{"NS of another owner", "com. NS a.root.test.\n", "not of the root", 0},
		{"bad address", ". NS a.\na. A 2001:db8::1\n", "not an A address", 0},
		{"other type", ". SOA a. b. 1 2 3 4 5\n", "not a record", 0},
		{"MX", ". MX a.\n", "a MX record", 0},
	}
	for _, tt := range tests {
		h, err := resolver.ParseRootHints([]byte(tt.in))
		switch {
		case tt.err == "" && (err != nil || len(h) != tt.servers):
			t.Errorf("%s: %v, %d servers", tt.name, err, len(h))
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.err)
		}
	}
	def := resolver.DefaultRootHints()
	v6 := 0
	for _, s := range def {
		for _, a := range s.Addrs {
			if a.Is6() {
				v6++
			}
		}
	}
	if len(def) != 13 || v6 != 13 || def[0].Addrs[0] != netip.MustParseAddr("198.41.0.4") {
		t.Errorf("built-in hints: %d servers, %d IPv6", len(def), v6)
	}
}

func FuzzParseRootHints(f *testing.F) {
	f.Add([]byte(". NS a.root.test.\na.root.test. A 127.0.53.1\n"))
	f.Add([]byte(".  3600000 IN NS A.ROOT-SERVERS.NET.\nA.ROOT-SERVERS.NET. 3600000 AAAA 2001:503:ba3e::2:30 ; x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > resolver.MaxRootHintsSize+1 {
			return
		}
		h, err := resolver.ParseRootHints(data)
		if err == nil {
			for _, s := range h {
				if len(s.Addrs) == 0 || s.Name == "" {
					t.Fatalf("a server without name or address: %+v", s)
				}
			}
		}
	})
}

// Answers are kept for their TTL, as the Client keeps them; a health probe
// (WithoutCache) asks the server.
func TestIteratorCachesAnswers(t *testing.T) {
	w := newWorld(t)
	w.srv["127.0.53.3"].Close() // the dead server aside: only the list server answers
	it := w.iterator("127.0.53.1")
	list := w.srv["127.0.53.4"]
	name := dnsbltest.QueryName("192.0.2.10", "bl.test")
	ask := func(ctx context.Context) {
		t.Helper()
		if a, err := it.Lookup(ctx, "bl.test", name, resolver.TypeA); err != nil || codes(a) != "127.0.0.4" {
			t.Fatalf("%+v %v", a, err)
		}
	}
	ctx := context.Background()
	ask(ctx)
	first := w.questions("127.0.53.4") // the list server's questions: its packets include copies sent again
	ask(ctx)
	if n := w.questions("127.0.53.4"); n != first || list.Queries("A", name) == 0 {
		t.Errorf("asked %d times within the TTL, want once", n-first+1)
	}
	ask(resolver.WithoutCache(ctx))
	if n := w.questions("127.0.53.4"); n != first+1 {
		t.Errorf("a probe must ask the server: %d questions, then %d", first, n)
	}
	w.advance(61 * time.Second)
	ask(ctx)
	if n := w.questions("127.0.53.4"); n != first+2 || list.Queries("A", name) < 3 {
		t.Errorf("after the TTL the answer must be asked again: %d questions, then %d", first+1, n)
	}
}

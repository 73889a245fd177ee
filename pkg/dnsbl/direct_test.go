package dnsbl_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// directWorld is a resolver that refuses ip.bl.test (Spamhaus's 127.255.255.254
// for every name) and answers v4.bl.test, beside a root on loopback that
// delegates both zones to their own authoritative server.
type directWorld struct {
	res, root, auth *dnsbltest.Server
	cat             *catalog.Catalog
	it              *resolver.Iterator
	client          *resolver.Client
}

func newDirectWorld(t *testing.T) *directWorld {
	t.Helper()
	w := &directWorld{res: dnsbltest.New(t), root: dnsbltest.New(t), auth: dnsbltest.New(t)}
	var err error
	if w.cat, err = catalog.Parse([]byte(testCatalog), "test"); err != nil {
		t.Fatal(err)
	}
	w.res.Wildcard("ip.bl.test", "127.255.255.254")
	w.res.Zone("v4.bl.test", "127.0.0.2")
	w.root.Authoritative(".")
	w.root.Delegate("ip.bl.test", dnsbltest.NS{Name: "ns.bl.test", Addrs: []string{"127.0.53.4"}})
	w.root.Delegate("v4.bl.test", dnsbltest.NS{Name: "ns.bl.test", Addrs: []string{"127.0.53.4"}})
	w.auth.Authoritative("ip.bl.test", "v4.bl.test")
	w.auth.Zone("ip.bl.test", "127.0.0.2")
	w.auth.Zone("v4.bl.test", "127.0.0.2")
	w.auth.List("ip.bl.test", "192.0.2.10", []string{"127.0.0.4"}, "infected")
	ports := map[netip.Addr]string{netip.MustParseAddr("127.0.53.1"): w.root.Addr, netip.MustParseAddr("127.0.53.4"): w.auth.Addr}
	w.it, err = resolver.NewIterator(resolver.IteratorConfig{
		Hints:   resolver.RootHints{{Name: "a.root.test", Addrs: []netip.Addr{netip.MustParseAddr("127.0.53.1")}}},
		Timeout: 200 * time.Millisecond, Total: time.Second,
		ServerAddr: func(a netip.Addr) string { return ports[a] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.it.Close)
	w.client, err = resolver.New(resolver.Config{Servers: []string{w.res.Addr}, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.client.Close)
	return w
}

func (w *directWorld) checker(t *testing.T, mode dnsbl.DirectMode) *dnsbl.Checker {
	t.Helper()
	lists, _, err := w.cat.Select(catalog.Selection{Only: []string{"ipbl", "v4bl"}, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: w.client, Direct: mode, Iterator: w.it})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ck.Close() })
	return ck
}

func checkOf(t *testing.T, res *dnsbl.Result, list string) dnsbl.Check {
	t.Helper()
	for _, c := range res.Targets[0].Checks {
		if c.List.ID == list {
			return c
		}
	}
	t.Fatalf("no check of %s", list)
	return dnsbl.Check{}
}

func TestDirectModes(t *testing.T) {
	tests := []struct {
		name         string
		mode         dnsbl.DirectMode
		dropResolver bool
		ip, v4       dnsbl.Status
		ipAsked      dnsbl.Asked
		v4Asked      dnsbl.Asked
	}{
		{"auto asks the refused list again at its servers", dnsbl.DirectAuto, false, dnsbl.Listed, dnsbl.Clean, dnsbl.AskedDirect, dnsbl.AskedResolver},
		{"never keeps the refusal", dnsbl.DirectNever, false, dnsbl.Blocked, dnsbl.Clean, dnsbl.AskedResolver, dnsbl.AskedResolver},
		{"always does without the resolver", dnsbl.DirectAlways, true, dnsbl.Listed, dnsbl.Clean, dnsbl.AskedDirect, dnsbl.AskedDirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newDirectWorld(t)
			if tt.dropResolver {
				w.res.AddFault(dnsbltest.Fault{Suffix: "bl.test", Kind: dnsbltest.Drop})
			}
			res, err := w.checker(t, tt.mode).CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.10"))
			if err != nil {
				t.Fatal(err)
			}
			ip, v4 := checkOf(t, res, "ipbl"), checkOf(t, res, "v4bl")
			if ip.Status != tt.ip || v4.Status != tt.v4 || ip.Asked != tt.ipAsked || v4.Asked != tt.v4Asked {
				t.Errorf("ipbl %s (%s) %s, v4bl %s (%s) %s", ip.Status, ip.Asked, ip.Err, v4.Status, v4.Asked, v4.Err)
			}
			if tt.mode == dnsbl.DirectNever && w.root.TotalQueries() != 0 {
				t.Errorf("never sent %d queries to the root", w.root.TotalQueries())
			}
			if tt.mode == dnsbl.DirectAuto && (len(res.Direct.Lists) != 1 || res.Direct.Lists[0].ID != "ipbl" || len(res.Summary.Incomplete) != 0) {
				t.Errorf("direct report %+v, incomplete %q", res.Direct, res.Summary.Incomplete)
			}
		})
	}
}

// TestDirectAsksAtOnce: the lists a resolver refuses are asked again at their
// servers at once, not one after another. A taker takes a subject's answers in
// turn; were it to ask each refused list itself, the second would be asked
// only once the first had answered. The lists' server here answers neither
// until both have been asked.
func TestDirectAsksAtOnce(t *testing.T) {
	w := newDirectWorld(t)
	w.res.Unwildcard("ip.bl.test")
	for _, zone := range []string{"ip.bl.test", "v4.bl.test"} {
		w.res.AddFault(dnsbltest.Fault{Suffix: zone, Kind: dnsbltest.Refused})
	}
	both := dnsbltest.NewGroup(2)
	for _, name := range []string{"10.2.0.192.ip.bl.test", "10.2.0.192.v4.bl.test"} {
		w.auth.AddFault(dnsbltest.Fault{Suffix: name, Type: "A", Kind: dnsbltest.Gather, Group: both})
	}
	res, err := w.checker(t, dnsbl.DirectAuto).CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	ip, v4 := checkOf(t, res, "ipbl"), checkOf(t, res, "v4bl")
	if ip.Status != dnsbl.Listed || v4.Status != dnsbl.Clean || ip.Asked != dnsbl.AskedDirect || v4.Asked != dnsbl.AskedDirect {
		t.Errorf("ipbl %s (%s) %v, v4bl %s (%s) %v", ip.Status, ip.Asked, ip.Err, v4.Status, v4.Asked, v4.Err)
	}
}

func TestDirectAutoCostsNothingWhenNotRefused(t *testing.T) {
	w := newDirectWorld(t)
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"v4bl"}, Getenv: func(string) string { return "" }})
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: w.client, Direct: dnsbl.DirectAuto, Iterator: w.it})
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	res, err := ck.CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.10"))
	if err != nil || checkOf(t, res, "v4bl").Status != dnsbl.Clean {
		t.Fatal(err)
	}
	if n := w.root.TotalQueries() + w.auth.TotalQueries(); n != 0 {
		t.Errorf("auto sent %d direct queries though nothing was refused", n)
	}
}

func TestDirectRefusedToo(t *testing.T) {
	w := newDirectWorld(t)
	w.auth.Wildcard("ip.bl.test", "127.255.255.254") // the list refuses this machine as well
	w.auth.Unlist("ip.bl.test", "192.0.2.10")
	for _, subject := range []string{"192.0.2.10", "127.0.0.2", "127.0.0.1", "::ffff:7f00:2"} { // as URIBL: on every name
		w.auth.Unlist("ip.bl.test", subject)
		w.auth.List("ip.bl.test", subject, []string{"127.255.255.254"}, "Query Refused. See https://bl.test/refused [Your DNS IP: 198.51.100.7]")
	}
	res, err := w.checker(t, dnsbl.DirectAuto).CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	if c := checkOf(t, res, "ipbl"); c.Status != dnsbl.Blocked || c.Asked != dnsbl.AskedDirect {
		t.Errorf("ipbl: %s (%s)", c.Status, c.Asked)
	}
	if len(res.Direct.Refused) != 1 || res.Direct.Refused[0].Saw != netip.MustParseAddr("198.51.100.7") ||
		res.Direct.Refused[0].Why != "refused" {
		t.Fatalf("refusals: %+v", res.Direct.Refused)
	}
	if res.Outcome(false) != dnsbl.OutcomeIncomplete || !strings.Contains(strings.Join(res.Summary.Incomplete, "\n"), "refuses queries from this machine") {
		t.Errorf("the run must be incomplete: %q", res.Summary.Incomplete)
	}
}

func TestDirectRootUnreachable(t *testing.T) {
	w := newDirectWorld(t)
	w.root.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop})
	res, err := w.checker(t, dnsbl.DirectAuto).CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	if c := checkOf(t, res, "ipbl"); c.Status != dnsbl.Blocked || c.Asked != dnsbl.AskedResolver {
		t.Errorf("the resolver's answer must be kept: %s (%s) %s", c.Status, c.Asked, errText(c))
	}
	n := 0
	for _, s := range res.Summary.Incomplete {
		if strings.Contains(s, "root server") {
			n++
		}
	}
	if !res.Direct.Unreachable || n != 1 {
		t.Errorf("the root's silence must be said once: %+v %q", res.Direct, res.Summary.Incomplete)
	}
}

func TestDirectStaysDirect(t *testing.T) {
	w := newDirectWorld(t)
	ck := w.checker(t, dnsbl.DirectAuto)
	if _, err := ck.CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.10")); err != nil {
		t.Fatal(err)
	}
	res, err := ck.CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.11"))
	if err != nil {
		t.Fatal(err)
	}
	if c := checkOf(t, res, "ipbl"); c.Status != dnsbl.Clean || c.Asked != dnsbl.AskedDirect {
		t.Errorf("second call: %s (%s)", c.Status, c.Asked)
	}
	if n := w.res.Queries("A", dnsbltest.QueryName("192.0.2.11", "ip.bl.test")); n != 0 {
		t.Errorf("a list known to refuse the resolver was asked through it again (%d)", n)
	}
}

func TestParseDirectMode(t *testing.T) {
	for in, want := range map[string]dnsbl.DirectMode{"auto": dnsbl.DirectAuto, "ALWAYS": dnsbl.DirectAlways, " never": dnsbl.DirectNever} {
		if m, err := dnsbl.ParseDirectMode(in); err != nil || m != want || m.String() != strings.ToLower(strings.TrimSpace(in)) {
			t.Errorf("%q: %v %v", in, m, err)
		}
	}
	if _, err := dnsbl.ParseDirectMode("sometimes"); err == nil {
		t.Error("sometimes is not a mode")
	}
	client, err := resolver.New(resolver.Config{Servers: []string{"127.0.0.1:9"}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := dnsbl.New(dnsbl.Options{Resolver: client, Direct: dnsbl.DirectAuto}); err == nil {
		t.Error("auto without an Iterator must be refused")
	}
	if got := dnsbl.SawAddr("127.0.0.1 refused; your IP 10.0.0.1, seen as 2001:db8::7."); got != netip.MustParseAddr("2001:db8::7") {
		t.Errorf("SawAddr: %v", got)
	}
}

// Twenty addresses asked directly in one run cost one root query per top-level
// domain, and one TLD query per list zone: the walks are shared.
//
// The root counts packets, and a machine busy under -race can make the
// iterator send a copy of a query whose answer it has not read within its RTO
// (10ms): so the questions the iterator sent the root are counted where it
// picks the root's port, and the root must have seen each top-level domain's.
// Walks not shared ask the root the same question again.
func TestDirectWalksShared(t *testing.T) {
	w := newTreeWorld(t)
	it := w.iterator(t)
	defer it.Close()
	var addrs []string
	for i := range 20 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}).String())
	}
	w.check(t, it, addrs...)
	root := netip.MustParseAddr("127.0.53.1")
	if n := w.asked[root].Load(); n != int64(w.tlds) || w.root.Questions() != w.tlds {
		t.Errorf("the root was asked %d times (%d different questions) for %d top-level domains", n, w.root.Questions(), w.tlds)
	}
}

// A run interrupted while a list is asked directly says so: never the
// resolver's refusal, never clean.
func TestDirectInterrupted(t *testing.T) {
	w := newDirectWorld(t)
	w.auth.AddFault(dnsbltest.Fault{Suffix: "ip.bl.test", Kind: dnsbltest.Delay, Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond) // before the server's own timeout
	defer cancel()
	res, _ := w.checker(t, dnsbl.DirectAuto).CheckAddr(ctx, netip.MustParseAddr("192.0.2.10"))
	if c := checkOf(t, res, "ipbl"); !errors.Is(c.Err, dnsbl.ErrInterrupted) || !res.Targets[0].Interrupted {
		t.Errorf("ipbl: %s %v, target interrupted %v", c.Status, c.Err, res.Targets[0].Interrupted)
	}
}

func FuzzSawAddr(f *testing.F) {
	f.Add("Query Refused. See http://uribl.com/refused.shtml [Your DNS IP: 198.51.100.7]")
	f.Add("127.0.0.1 refused; your IP 10.0.0.1, seen as 2001:db8::7.")
	f.Fuzz(func(t *testing.T, txt string) {
		if len(txt) > resolver.MaxTXTBytes {
			return
		}
		if a := dnsbl.SawAddr(txt); a.IsValid() && (dnsbl.NotPublic(a) != "" || a.Is4In6()) {
			t.Fatalf("SawAddr(%q) = %v: not a public address", txt, a)
		}
	})
}

// A list that refuses the resolver and whose own servers do not answer either
// stays blocked, and the run says why the direct query did not help.
func TestDirectServersSilent(t *testing.T) {
	w := newDirectWorld(t)
	w.auth.AddFault(dnsbltest.Fault{Suffix: "ip.bl.test", Kind: dnsbltest.ServFail})
	res, err := w.checker(t, dnsbl.DirectAuto).CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	if ip := checkOf(t, res, "ipbl"); ip.Status != dnsbl.Blocked {
		t.Errorf("ipbl %s %v, want blocked", ip.Status, ip.Err)
	}
	if len(res.Direct.Failed) != 1 || res.Direct.Failed[0].List.ID != "ipbl" || !strings.Contains(res.Direct.Failed[0].Error, "SERVFAIL") {
		t.Errorf("direct report %+v", res.Direct)
	}
	if inc := strings.Join(res.Summary.Incomplete, "\n"); !strings.Contains(inc, "its own name servers did not answer either (SERVFAIL") ||
		!strings.Contains(inc, "its checks keep the resolver's answer") {
		t.Errorf("incomplete %q", res.Summary.Incomplete)
	}
}

package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

func newClient(t *testing.T, retries int, servers ...string) *resolver.Client {
	t.Helper()
	c, err := resolver.New(resolver.Config{Servers: servers, Timeout: 300 * time.Millisecond, Retries: retries})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantPackets checks the packets srv got for qtype and name: questions, and
// at most the copies the answers say the resolver sent again. A server
// counts packets, and the resolver sends a copy of a query whose answer has
// not come within its RTO (10ms once answers are in; a machine busy under
// -race can take that long to read one), and counts it in the answer's
// Resends. A copy sent just before the answer came may reach the server after
// the test looks: so no fewer than the questions, no more than the questions
// and every copy.
func wantPackets(t *testing.T, srv *dnsbltest.Server, qtype, name string, questions int, answers ...*resolver.Answer) {
	t.Helper()
	copies := 0
	for _, a := range answers {
		if a != nil {
			copies += a.Resends
		}
	}
	if n := srv.Queries(qtype, name); n < questions || n > questions+copies {
		t.Errorf("%s %s: %d packets reached the server, want %d questions and at most the %d copies sent again",
			qtype, name, n, questions, copies)
	}
}

// triesOf is the number of tries a failed query says it made, 0 if err is none.
func triesOf(err error) int {
	var re *resolver.Error
	if errors.As(err, &re) {
		return re.Tries
	}
	return 0
}

func kindOf(err error) resolver.ErrorKind {
	var re *resolver.Error
	if errors.As(err, &re) {
		return re.Kind
	}
	return ""
}

func TestLookup(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("listed.bl.test", "127.0.0.2", "127.0.0.4")
	srv.TXT("listed.bl.test", "see ", "https://bl.test/")
	srv.MX("example.test", 20, "mx2.example.test")
	srv.MX("example.test", 10, "MX1.example.test.")
	srv.RR("alias.bl.test. 60 IN CNAME listed.bl.test.")
	srv.A("big.bl.test", "127.0.0.2")
	for i := 0; i < 60; i++ {
		srv.RR("big.bl.test. 60 IN A 127.0.1." + strconv.Itoa(i))
	}
	srv.AddFault(dnsbltest.Fault{Suffix: "wrongname.bl.test", Kind: dnsbltest.WrongName})
	srv.A("wrongname.bl.test", "127.0.0.2")
	ctx := context.Background()

	tests := []struct {
		name   string
		qtype  resolver.Type
		check  func(t *testing.T, a *resolver.Answer, err error)
		nQuery int
	}{
		{"listed.bl.test", resolver.TypeA, func(t *testing.T, a *resolver.Answer, err error) {
			if err != nil || len(a.Addrs) != 2 || a.Addrs[1].String() != "127.0.0.4" || a.NXDomain {
				t.Errorf("got %+v %v", a, err)
			}
		}, 1},
		{"listed.bl.test", resolver.TypeTXT, func(t *testing.T, a *resolver.Answer, err error) {
			if err != nil || len(a.TXT) != 1 || a.TXT[0] != "see https://bl.test/" {
				t.Errorf("TXT strings must be joined: %+v %v", a, err)
			}
		}, 1},
		{"clean.bl.test", resolver.TypeA, func(t *testing.T, a *resolver.Answer, err error) {
			if err != nil || !a.NXDomain || len(a.Addrs) != 0 {
				t.Errorf("got %+v %v", a, err)
			}
		}, 1},
		{"example.test", resolver.TypeMX, func(t *testing.T, a *resolver.Answer, err error) {
			if err != nil || len(a.MX) != 2 || a.MX[1].Host != "mx1.example.test" {
				t.Errorf("got %+v %v", a, err)
			}
		}, 1},
		{"alias.bl.test", resolver.TypeA, func(t *testing.T, a *resolver.Answer, err error) {
			if err != nil || len(a.Addrs) != 2 {
				t.Errorf("CNAME must be followed: %+v %v", a, err)
			}
		}, 1},
		{"big.bl.test", resolver.TypeA, func(t *testing.T, a *resolver.Answer, err error) {
			if err != nil || len(a.Addrs) != resolver.MaxAddrs {
				t.Errorf("addresses must be capped at %d: got %d (%v)", resolver.MaxAddrs, len(a.Addrs), err)
			}
		}, 2}, // truncated over UDP, then TCP
		{"wrongname.bl.test", resolver.TypeA, func(t *testing.T, a *resolver.Answer, err error) {
			if err != nil || len(a.Addrs) != 0 || a.Extra != 1 {
				t.Errorf("records for another name must be ignored: %+v %v", a, err)
			}
		}, 1},
	}
	c := newClient(t, 1, srv.Addr)
	for _, tc := range tests {
		t.Run(tc.qtype.String()+" "+tc.name, func(t *testing.T) {
			a, err := c.Lookup(ctx, tc.name, tc.qtype)
			tc.check(t, a, err)
			wantPackets(t, srv, tc.qtype.String(), tc.name, tc.nQuery, a)
		})
	}
}

func TestFaultsAndRetries(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("ok.bl.test", "127.0.0.2")
	srv.A("flaky.bl.test", "127.0.0.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "drop.bl.test", Kind: dnsbltest.Drop})
	srv.AddFault(dnsbltest.Fault{Suffix: "servfail.bl.test", Kind: dnsbltest.ServFail})
	srv.AddFault(dnsbltest.Fault{Suffix: "refused.bl.test", Kind: dnsbltest.Refused})
	srv.AddFault(dnsbltest.Fault{Suffix: "flaky.bl.test", Kind: dnsbltest.Drop, Times: 1})
	c := newClient(t, 2, srv.Addr)
	ctx := context.Background()

	tests := []struct {
		name    string
		kind    resolver.ErrorKind
		queries int
	}{
		{"x.drop.bl.test", resolver.Timeout, -3},     // 1 + 2 retries, each sending again after its RTO
		{"x.servfail.bl.test", resolver.ServFail, 3}, // SERVFAIL is retried
		{"x.refused.bl.test", resolver.Refused, 1},   // REFUSED is final
		{"nx.bl.test", "", 1},                        // NXDOMAIN is an answer: never retried
		{"flaky.bl.test", "", 2},                     // one lost packet, then the answer
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := c.Lookup(ctx, tc.name, resolver.TypeA)
			if kindOf(err) != tc.kind {
				t.Errorf("error %v, want kind %q", err, tc.kind)
			}
			n := srv.Queries("A", tc.name)
			switch {
			case tc.queries < 0: // tries that time out: each sends the query up to 4 times
				if n < -tc.queries || n > -4*tc.queries {
					t.Errorf("%d queries, want %d tries of 1 to 4 packets", n, -tc.queries)
				}
			case err != nil: // a failure has no Resends to read: its tries, each sent at least once
				if triesOf(err) != tc.queries || n < tc.queries {
					t.Errorf("%d tries in %d packets, want %d tries", triesOf(err), n, tc.queries)
				}
			case a.Resends < tc.queries-1 || n < tc.queries:
				t.Errorf("%d packets, %d of them copies sent again; want at least %d packets", n, a.Resends, tc.queries)
			default: // one question: its first packet (flaky's lost) and the copies sent again
				wantPackets(t, srv, "A", tc.name, 1, a)
			}
		})
	}
	if _, err := c.Lookup(ctx, "x.drop.bl.test", resolver.TypeA); !strings.Contains(err.Error(), "no answer (timed out) after 3 tries") {
		t.Errorf("a timeout must say so and how often it was tried: %v", err)
	}
}

func TestRetransmitWithinATry(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("lossy.bl.test", "127.0.0.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "lossy.bl.test", Kind: dnsbltest.Drop, Times: 1})
	// a long timeout, no retries: the lost packet is sent again after the RTO,
	// and the query still succeeds in its one try
	c, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 5 * time.Second, Retries: 0})
	a, err := c.Lookup(context.Background(), "lossy.bl.test", resolver.TypeA)
	if err != nil || len(a.Addrs) != 1 || srv.Queries("A", "lossy.bl.test") != 2 {
		t.Fatalf("got %+v %v after %d queries", a, err, srv.Queries("A", "lossy.bl.test"))
	}
	// the answer says a copy had to be sent again, and that it was that copy
	// which got the answer: the first was lost (the checker's window shrinks on it)
	if a.Resends != 1 || !a.Lost {
		t.Fatalf("Resends = %d, Lost = %v; want 1 and true", a.Resends, a.Lost)
	}
	b, err := c.Lookup(context.Background(), "lossy.bl.test", resolver.TypeTXT)
	if err != nil || b.Resends != 0 {
		t.Fatalf("an answer to the first copy: Resends = %d (%v), want 0", b.Resends, err)
	}
}

func TestServerFailover(t *testing.T) {
	good := dnsbltest.NewServer()
	defer good.Close()
	good.A("ok.bl.test", "127.0.0.2")
	dead := dnsbltest.NewServer()
	dead.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop})
	defer dead.Close()
	c := newClient(t, 1, dead.Addr, good.Addr)
	a, err := c.Lookup(context.Background(), "ok.bl.test", resolver.TypeA)
	if err != nil || len(a.Addrs) != 1 || a.Server != good.Addr {
		t.Fatalf("the retry must go to the next server: %+v %v", a, err)
	}
}

func TestUnreachableServer(t *testing.T) {
	// a UDP port with nobody listening: the client must report an error, never an answer
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	c := newClient(t, 0, addr)
	a, err := c.Lookup(context.Background(), "x.bl.test", resolver.TypeA)
	if err == nil {
		t.Fatalf("got an answer from nowhere: %+v", a)
	}
	// said in the system's words, without the system call's name
	var re *resolver.Error
	if errors.As(err, &re) && re.Kind == resolver.Network && strings.Contains(re.Detail, ":") {
		t.Fatalf("network error detail %q names a system call", re.Detail)
	}
}

func TestCanceled(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newClient(t, 3, srv.Addr).Lookup(ctx, "x.bl.test", resolver.TypeA)
	if kindOf(err) != resolver.Canceled {
		t.Fatalf("got %v", err)
	}
}

// TestCanceledWhileWaiting: a query already sent to a server that never answers
// ends as Canceled when its context ends, long before its timeout.
func TestCanceledWhileWaiting(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop})
	c, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: time.Minute})
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	p := c.Start(ctx, "x.bl.test", resolver.TypeA)
	done := make(chan error, 1)
	go func() { _, err := p.Wait(); done <- err }()
	cancel()
	select {
	case err := <-done:
		if kindOf(err) != resolver.Canceled {
			t.Fatalf("got %v, want Canceled", err)
		}
	case <-time.After(30 * time.Second): // a hang, not a slow machine
		t.Fatal("the query did not end when its context was canceled")
	}
}

func TestParseServer(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"127.0.0.1", "127.0.0.1:53", ""},
		{"127.0.0.1:5353", "127.0.0.1:5353", ""},
		{"::1", "[::1]:53", ""},
		{"[2001:db8::1]:5300", "[2001:db8::1]:5300", ""},
		{"dns.example", "", "not HOST or HOST:PORT"},
		{"dns.example:53", "", "not an IP address"},
		{"127.0.0.1:99999", "", "port"},
		{"", "", "empty"},
		{"255.255.255.255", "", "broadcast"},
		{"255.255.255.255:53", "", "broadcast"},
		{"224.0.0.1", "", "multicast"},
		{"[ff02::1]:53", "", "multicast"},
		{"ff02::1", "", "multicast"},
		{"0.0.0.0", "", "unspecified"},
		{"[::]:53", "", "unspecified"},
		{"::ffff:255.255.255.255", "", "broadcast"},
		{"fe80::1%eth0", "", "zoned"},
	}
	for _, tc := range tests {
		got, err := resolver.ParseServer(tc.in)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseServer(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestSystemServers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "resolv.conf")
	os.WriteFile(p, []byte("# comment\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions ndots:1\n"), 0o644)
	got, err := resolver.SystemServers(p)
	if err != nil || len(got) != 2 || got[0] != "192.0.2.53:53" || got[1] != "[2001:db8::53]:53" {
		t.Fatalf("got %v %v", got, err)
	}
	// the library names the file; the CLI adds its flag (use --resolver)
	if _, err := resolver.SystemServers(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") ||
		strings.Contains(err.Error(), "--") {
		t.Fatalf("a missing resolv.conf must be named, and no CLI flag: %v", err)
	}
}

func TestTXTBytes(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	raw := "a\x1b[2J\x07 \"q\" \u202e é\xff" + strings.Repeat("x", 300)
	srv.TXT("t.bl.test", raw)
	a, err := newClient(t, 0, srv.Addr).Lookup(context.Background(), "t.bl.test", resolver.TypeTXT)
	if err != nil || len(a.TXT) != 1 || a.TXT[0] != raw {
		t.Fatalf("TXT must come back as the bytes sent:\n got %q\nwant %q (%v)", a.TXT, raw, err)
	}
}

// TestForeignAnswersIgnored: on the shared sockets, an answer whose ID or
// question matches no waiting query (a late duplicate, a forgery) must not end
// a query; the real answer that follows must still be taken.
func TestForeignAnswersIgnored(t *testing.T) {
	addr := resolver.UDPTestServer(t, func(pc net.PacketConn, from net.Addr, pkt []byte) {
		q := new(dns.Msg)
		if q.Unpack(pkt) != nil {
			return
		}
		reply := func(id uint16, name string, a string) {
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeA)
			m.Id, m.Response = id, true
			rr, _ := dns.NewRR(name + " 60 IN A " + a)
			m.Answer = []dns.RR{rr}
			b, _ := m.Pack()
			pc.WriteTo(b, from)
		}
		reply(q.Id+1, q.Question[0].Name, "127.0.0.9")         // another ID
		reply(q.Id, "forged."+q.Question[0].Name, "127.0.0.9") // our ID, another question
		pc.WriteTo([]byte{byte(q.Id >> 8), byte(q.Id)}, from)  // too short to be DNS
		reply(q.Id, q.Question[0].Name, "127.0.0.2")           // the answer
	})
	c := newClient(t, 0, addr)
	defer c.Close()
	for i := 0; i < 20; i++ {
		name := "q" + strconv.Itoa(i) + ".bl.test"
		a, err := c.Lookup(context.Background(), name, resolver.TypeA)
		if err != nil || len(a.Addrs) != 1 || a.Addrs[0].String() != "127.0.0.2" {
			t.Fatalf("%s: got %+v %v, want the real answer 127.0.0.2", name, a, err)
		}
	}
}

// TestManyInFlight sends more queries at once than one socket's worth, each with
// its own answer, and checks that every answer reaches its own query.
func TestManyInFlight(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	const n = 600
	for i := 0; i < n; i++ {
		srv.A("h"+strconv.Itoa(i)+".bl.test", "127.0."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256))
	}
	c, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 5 * time.Second, Retries: 1})
	defer c.Close()
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			name := "h" + strconv.Itoa(i) + ".bl.test"
			want := "127.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
			a, err := c.Lookup(context.Background(), name, resolver.TypeA)
			switch {
			case err != nil:
				errs <- err
			case len(a.Addrs) != 1 || a.Addrs[0].String() != want:
				errs <- fmt.Errorf("%s: got %v, want %s", name, a.Addrs, want)
			default:
				errs <- nil
			}
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestClosedClient(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("ok.bl.test", "127.0.0.2")
	c := newClient(t, 0, srv.Addr)
	if _, err := c.Lookup(context.Background(), "ok.bl.test", resolver.TypeA); err != nil {
		t.Fatal(err)
	}
	c.Close()
	a, err := c.Lookup(context.Background(), "other.bl.test", resolver.TypeA)
	if err == nil {
		t.Fatalf("a closed client must not answer: %+v", a)
	}
	// a local limit is not a malformed answer from the server
	if k := kindOf(err); k != resolver.Network || !strings.Contains(err.Error(), "resolver closed") {
		t.Fatalf("got %v (%s), want a network error saying the resolver is closed", err, k)
	}
}

// TestBackoff: a query with no answer is sent again after the RTO, then after
// twice as long each time, until the timeout: more copies than a fixed few, but
// spaced out (a congested server is not hammered).
func TestBackoff(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("ok.bl.test", "127.0.0.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "drop.bl.test", Kind: dnsbltest.Drop})
	c, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 2 * time.Second, Retries: 0})
	defer c.Close()
	if _, err := c.Lookup(context.Background(), "ok.bl.test", resolver.TypeA); err != nil { // learns the RTT: RTO 10ms (minRTO)
		t.Fatal(err)
	}
	_, err := c.Lookup(context.Background(), "x.drop.bl.test", resolver.TypeA)
	// At most copies at 0, 10, 30, 70, 150, 310, 630, 1270 and 1910 ms (the
	// wait stops growing at 64 RTOs): the RTO is at least 10ms and a late clock
	// only sends fewer. The exact schedule is
	// TestBackoffSchedule's, on a clock of its own; a count within a wall-clock
	// window from below would fail on a loaded machine.
	if n := srv.Queries("A", "x.drop.bl.test"); kindOf(err) != resolver.Timeout || n < 1 || n > 9 {
		t.Fatalf("%d copies (%v), want a timeout after at most 9 in 2s", n, err)
	}
}

// TestStartShares: queries started together for the same name are sent once,
// every Pending gives the answer, and a later Start is answered from the cache.
func TestStartShares(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("ok.bl.test", "127.0.0.2")
	c := newClient(t, 0, srv.Addr)
	defer c.Close()
	ctx := context.Background()
	var ps []*resolver.Pending
	for i := 0; i < 5; i++ {
		ps = append(ps, c.Start(ctx, "OK.bl.test.", resolver.TypeA))
	}
	errs := make(chan error, len(ps))
	for _, p := range ps {
		go func() {
			a, err := p.Wait()
			if err == nil && (len(a.Addrs) != 1 || a.Addrs[0].String() != "127.0.0.2") {
				err = fmt.Errorf("got %v", a.Addrs)
			}
			errs <- err
		}()
	}
	for range ps {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if a, err := c.Start(ctx, "ok.bl.test", resolver.TypeA).Wait(); err != nil || len(a.Addrs) != 1 {
		t.Fatalf("cached: %+v %v", a, err)
	}
	shared, _ := ps[0].Wait()
	wantPackets(t, srv, "A", "ok.bl.test", 1, shared)
}

// TestStartAll: names started together are sent together, a name given twice
// is asked once, and each Pending gives its own name's answer.
func TestStartAll(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("a.bl.test", "127.0.0.2")
	srv.A("b.bl.test", "127.0.0.3")
	c := newClient(t, 0, srv.Addr)
	defer c.Close()
	ctx := context.Background()
	b, err := c.Lookup(ctx, "b.bl.test", resolver.TypeA) // now cached
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"a.bl.test", "b.bl.test", "A.bl.test.", "nx.bl.test"}
	ps := c.StartAll(ctx, names, resolver.TypeA)
	if len(ps) != len(names) || ps[0] != ps[2] {
		t.Fatalf("%d pendings; the same name twice must share one", len(ps))
	}
	want := []string{"127.0.0.2", "127.0.0.3", "127.0.0.2", ""}
	for i, p := range ps {
		a, err := p.Wait()
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		got := ""
		if len(a.Addrs) > 0 {
			got = a.Addrs[0].String()
		}
		if got != want[i] || (want[i] == "" && !a.NXDomain) {
			t.Errorf("%s: got %q (NXDOMAIN %v), want %q", names[i], got, a.NXDomain, want[i])
		}
	}
	a, _ := ps[0].Wait()
	wantPackets(t, srv, "A", "a.bl.test", 1, a)
	wantPackets(t, srv, "A", "b.bl.test", 1, b) // the second from the cache
}

// TestRetryWithoutWaiter: when a try times out, the next one is sent at once,
// not when someone waits for the Pending (a caller waiting for several in turn
// would otherwise add their timeouts up). The second try goes to the second
// server, which nothing else asks: it is asked while nobody waits. (Counting
// the copies one server got could not tell the tries apart: on a loaded
// machine a try's clock may reach its deadline before its copy is due.)
func TestRetryWithoutWaiter(t *testing.T) {
	var srvs []*dnsbltest.Server
	for range 2 {
		srv := dnsbltest.NewServer()
		defer srv.Close()
		srv.A("slow.bl.test", "127.0.0.2")
		srv.AddFault(dnsbltest.Fault{Suffix: "slow.bl.test", Kind: dnsbltest.Drop, Times: 1000})
		srvs = append(srvs, srv)
	}
	c, _ := resolver.New(resolver.Config{Servers: []string{srvs[0].Addr, srvs[1].Addr}, Timeout: 200 * time.Millisecond, Retries: 1})
	defer c.Close()
	p := c.Start(context.Background(), "slow.bl.test", resolver.TypeA)
	// the first try ends 200 ms after Start; the bound only ends a failing test
	for end := time.Now().Add(20 * time.Second); srvs[1].Queries("A", "slow.bl.test") == 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srvs[1].Queries("A", "slow.bl.test"); n == 0 {
		t.Fatalf("the second try was not sent (first server asked %d times): it waited for a waiter",
			srvs[0].Queries("A", "slow.bl.test"))
	}
	if _, err := p.Wait(); kindOf(err) != resolver.Timeout {
		t.Fatalf("got %v, want a timeout after both tries", err)
	}
}

// TestOversizedUDPAnswer: an answer too large for UDP is asked again over TCP,
// which gives it whole (an answer cut by the reader's buffer is tested in
// TestCutAnswer).
func TestOversizedUDPAnswer(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	var parts []string
	for i := range 7 { // 1,428 bytes: more than the 1,232-byte buffer
		parts = append(parts, fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 200)))
	}
	srv.TXT("big.bl.test", parts...)
	c := newClient(t, 0, srv.Addr)
	defer c.Close()
	a, err := c.Lookup(context.Background(), "big.bl.test", resolver.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.TXT, ""); len(got) != 7*204 {
		t.Fatalf("got %d bytes of TXT, want the whole %d-byte record", len(got), 7*204)
	}
	wantPackets(t, srv, "TXT", "big.bl.test", 2, a) // UDP, then TCP
}

// TestSlowIsNotLost: a server slower than the RTO gets a second copy, but its
// answer to the first says nothing was lost (each copy has its own ID).
func TestSlowIsNotLost(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("slow.bl.test", "127.0.0.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "slow.bl.test", Kind: dnsbltest.Delay, Delay: 150 * time.Millisecond})
	srv.A("ok.bl.test", "127.0.0.2")
	c, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 5 * time.Second, Retries: 0})
	defer c.Close()
	if _, err := c.Lookup(context.Background(), "ok.bl.test", resolver.TypeA); err != nil { // learns the RTT: RTO 50ms
		t.Fatal(err)
	}
	a, err := c.Lookup(context.Background(), "slow.bl.test", resolver.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if a.Resends < 1 || a.Lost {
		t.Fatalf("Resends = %d, Lost = %v; want a copy sent again and the first one answered", a.Resends, a.Lost)
	}
}

// A truncated answer whose TCP path is dead ends with the try's own timeout:
// the TCP fallback shares the try's deadline (miekg/dns would give the read the
// whole timeout again). The test is bounded by its context, not by a clock.
func TestTruncatedWithDeadTCP(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("big.bl.test", "127.0.0.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "big.bl.test", Kind: dnsbltest.TruncateDeadTCP})
	c := newClient(t, 1, srv.Addr)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Lookup(ctx, "big.bl.test", resolver.TypeA)
	if kindOf(err) != resolver.Timeout || ctx.Err() != nil {
		t.Errorf("error %v (kind %q), want a timeout of the query's own", err, kindOf(err))
	}
	if n := srv.Queries("A", "big.bl.test"); n < 4 { // each try: UDP (TC), then TCP
		t.Errorf("%d queries, want UDP and TCP for each of 2 tries", n)
	}
}

// Answers carry their TTL: the least of the records used, or for a negative
// answer the SOA's (RFC 2308); the cache keeps nothing longer.
func TestAnswerTTL(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.RR("short.bl.test. 7 IN A 127.0.0.2")
	srv.RR("short.bl.test. 3 IN A 127.0.0.3")
	srv.RR("alias.bl.test. 5 IN CNAME short.bl.test.")
	srv.SetTTL(0, 9*time.Second)
	c := newClient(t, 0, srv.Addr)
	defer c.Close()
	for name, want := range map[string]time.Duration{"short.bl.test": 3 * time.Second,
		"alias.bl.test": 3 * time.Second, "nx.bl.test": 9 * time.Second} {
		a, err := c.Lookup(context.Background(), name, resolver.TypeA)
		if err != nil || a.TTL != want {
			t.Errorf("%s: TTL %v (%v), want %v", name, a.TTL, err, want)
		}
	}
}

// Forget drops the cached answers of its zones and below, and no others (not
// those of a zone whose name only ends the same); an answer from the cache
// keeps the time it first came.
func TestForget(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.SetTTL(300*time.Second, 300*time.Second)
	srv.A("2.0.0.127.bl.test", "127.0.0.2")
	srv.A("2.0.0.127.other.test", "127.0.0.2")
	srv.A("2.0.0.127.xbl.test", "127.0.0.2")
	srv.A("bl2.test", "127.0.0.2")
	c := newClient(t, 0, srv.Addr)
	defer c.Close()
	answers := map[string][]*resolver.Answer{}
	ask := func(name string) *resolver.Answer {
		a, err := c.Lookup(context.Background(), name, resolver.TypeA)
		if err != nil {
			t.Fatal(err)
		}
		answers[name] = append(answers[name], a)
		return a
	}
	first := ask("2.0.0.127.bl.test")
	ask("2.0.0.127.other.test")
	ask("2.0.0.127.xbl.test")
	ask("bl2.test")
	if again := ask("2.0.0.127.bl.test"); !again.At.Equal(first.At) || first.At.IsZero() {
		t.Errorf("a cached answer's At %v, want the first's %v", again.At, first.At)
	}
	c.Forget("BL.test.", "bl2.test")
	for _, name := range []string{"2.0.0.127.bl.test", "2.0.0.127.other.test", "2.0.0.127.xbl.test", "bl2.test"} {
		ask(name)
	}
	for name, want := range map[string]int{
		"2.0.0.127.bl.test":    2, // forgotten
		"bl2.test":             2, // forgotten: the zone's own name
		"2.0.0.127.other.test": 1, // another zone's: still cached
		"2.0.0.127.xbl.test":   1, // a zone that only ends like one forgotten
	} {
		if want == 1 { // cached: the second answer is the first
			wantPackets(t, srv, "A", name, 1, answers[name][0])
		} else {
			wantPackets(t, srv, "A", name, 2, answers[name][0], answers[name][len(answers[name])-1])
		}
	}
}

// The cache has no cliff: when it is full the answer used least recently
// makes room, so a target asked again and again survives a flood of others
// (a /23 sweep in a long-lived exporter used to empty it whole).
func TestCacheKeepsRecentlyUsed(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.SetTTL(time.Hour, time.Hour)
	srv.A("hot.bl.test", "127.0.0.2")
	// 514 lookups, each of which must be answered: no short try to time out
	// on a loaded machine (the cache is what is tested, not the timeout)
	c, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 5 * time.Second, CacheSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	hot, err := c.Lookup(ctx, "hot.bl.test", resolver.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	var n0 *resolver.Answer
	for i := range 512 { // eight times the cache's size
		a, err := c.Lookup(ctx, fmt.Sprintf("n%d.bl.test", i), resolver.TypeA)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			n0 = a
		}
		if i%16 == 0 { // the hot name is used now and then during the flood
			if _, err := c.Lookup(ctx, "hot.bl.test", resolver.TypeA); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantPackets(t, srv, "A", "hot.bl.test", 1, hot) // once: answered from the cache after
	// the names of the flood's start were used least recently: they made
	// room, and a new answer comes (an answer from the cache keeps the time
	// it first came)
	again, err := c.Lookup(ctx, "n0.bl.test", resolver.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if again.At.Equal(n0.At) {
		t.Error("n0.bl.test still cached after 500 newer answers in a cache of 64")
	}
}

// TestClientOwnsItsWindow: the Client bounds its queries in flight itself.
// StartAll waits for slots, which come back as answers come, whether or not
// anyone reads them; IfFree sends nothing when no slot is free, Unbounded
// takes none, and a query still waiting for a slot when its context ends is
// not sent.
func TestClientOwnsItsWindow(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	var names []string
	for i := range 10 {
		names = append(names, fmt.Sprintf("n%d.bl.test", i))
		srv.A(names[i], "127.0.0.2")
	}
	srv.A("u.bl.test", "127.0.0.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "drop.bl.test", Kind: dnsbltest.Drop})
	c, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 30 * time.Second, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for i, p := range c.StartAll(ctx, names, resolver.TypeA) { // ten through four slots, none read
		if p == nil {
			t.Fatalf("%s not sent", names[i])
		}
	}
	held := c.StartAll(ctx, []string{"1.drop.bl.test", "2.drop.bl.test", "3.drop.bl.test", "4.drop.bl.test"}, resolver.TypeA)
	if slices.Contains(held, nil) {
		t.Fatal("the window's four slots were not all given back")
	}
	if p := c.StartAll(resolver.IfFree(ctx), []string{"u.bl.test"}, resolver.TypeTXT)[0]; p != nil {
		t.Error("IfFree sent a query with no slot free")
	}
	if a, err := c.Start(resolver.Unbounded(ctx), "u.bl.test", resolver.TypeA).Wait(); err != nil || len(a.Addrs) != 1 {
		t.Errorf("an unbounded query with the window full: %v, %v", a, err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if p := c.StartAll(done, []string{"w.bl.test"}, resolver.TypeA)[0]; p != nil {
		t.Error("a query whose context ended while it waited for a slot was sent")
	}
	if _, err := c.Start(done, "w.bl.test", resolver.TypeA).Wait(); kindOf(err) != resolver.Canceled {
		t.Errorf("Start of a query never sent: %v, want canceled", err)
	}
}

// TestJoinedBeforeSent: a Pending that a second caller joins while its query
// still waits for a window slot is waited for by several goroutines at once,
// before it is sent; each gets the one answer when it comes.
func TestJoinedBeforeSent(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("x.bl.test", "127.0.0.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "drop.bl.test", Kind: dnsbltest.Drop})
	c, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 300 * time.Millisecond, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if p := c.StartAll(ctx, []string{"1.drop.bl.test"}, resolver.TypeA)[0]; p == nil { // holds the one slot until it times out
		t.Fatal("the first query was not sent")
	}
	first := make(chan *resolver.Pending, 1)
	go func() { first <- c.StartAll(ctx, []string{"x.bl.test"}, resolver.TypeA)[0] }() // waits for the slot
	// the bound only ends a failing test
	for end := time.Now().Add(20 * time.Second); c.Stats().Sent < 2 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	joined := c.Start(ctx, "x.bl.test", resolver.TypeA) // shared, not sent
	if st := c.Stats(); st.Shared != 1 || st.Sent != 2 {
		t.Fatalf("the second caller did not join the query in flight: %+v", st)
	}
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			a, err := joined.Wait()
			if err == nil && (len(a.Addrs) != 1 || a.Addrs[0].String() != "127.0.0.2") {
				err = fmt.Errorf("got %v", a.Addrs)
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if p := <-first; p != joined {
		t.Error("the caller that sent the query and the one that joined it hold different Pendings")
	}
	a, _ := joined.Wait()
	wantPackets(t, srv, "A", "x.bl.test", 1, a)
}

// A caller that joined another's query in flight is not cut short when that
// other gives up: two probes of one target with different scrape timeouts.
// The second is answered, asking again once the first's query has ended.
func TestJoinerOutlivesOwner(t *testing.T) {
	srv := dnsbltest.NewServer()
	defer srv.Close()
	srv.A("slow.bl.test", "127.0.0.2")
	srv.AddFault(dnsbltest.Fault{Suffix: "slow.bl.test", Kind: dnsbltest.Delay, Delay: 100 * time.Millisecond})
	c, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	short, cancel := context.WithCancel(context.Background())
	owner := c.Start(short, "slow.bl.test", resolver.TypeA)
	long, cancelLong := context.WithTimeout(context.Background(), 20*time.Second) // only ends a failing test
	defer cancelLong()
	joiner := c.Start(long, "slow.bl.test", resolver.TypeA)
	if st := c.Stats(); st.Shared != 1 {
		t.Fatalf("the second caller did not join the query in flight: %+v", st)
	}
	cancel() // the first caller gives up
	if _, err := owner.Wait(); err == nil {
		t.Fatal("the caller that gave up was answered")
	}
	a, err := joiner.Wait()
	if err != nil || len(a.Addrs) != 1 || a.Addrs[0].String() != "127.0.0.2" {
		t.Fatalf("the caller with time left: %+v, %v; want its answer", a, err)
	}
	// the same context's callers share one Pending, as before
	if p, q := c.Start(long, "x.bl.test", resolver.TypeA), c.Start(long, "x.bl.test", resolver.TypeA); p != q {
		t.Error("one context's two lookups of a name hold different Pendings")
	}
}

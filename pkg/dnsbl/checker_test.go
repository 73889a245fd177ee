package dnsbl_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// clock is a test clock that the resolver's cache and the checker's health share.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// longLived is a Checker as an exporter keeps one: one resolver, health kept
// for healthTTL, on a fake clock.
type longLived struct {
	srv   *dnsbltest.Server
	clock *clock
	ck    *dnsbl.Checker
	rec   *recorder // the queries the Checker started
}

func newLongLived(t *testing.T, healthTTL time.Duration, only ...string) *longLived {
	t.Helper()
	w := newWorld(t)
	w.srv.SetTTL(60*time.Second, 30*time.Second)
	lists, _, err := w.cat.Select(catalog.Selection{Only: only, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	client, err := resolver.New(resolver.Config{Servers: []string{w.srv.Addr}, Timeout: answeredTry,
		Retries: 1, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	rec := &recorder{Resolver: client}
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: rec, HealthTTL: healthTTL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ck.Close() })
	return &longLived{srv: w.srv, clock: clk, ck: ck, rec: rec}
}

func (l *longLived) check(t *testing.T, addr string) *dnsbl.Result {
	t.Helper()
	res, err := l.ck.CheckAddr(context.Background(), netip.MustParseAddr(addr))
	if err != nil {
		t.Fatalf("CheckAddr(%s): %v", addr, err)
	}
	return res
}

func statusOf(t *testing.T, res *dnsbl.Result, list string) dnsbl.Status {
	t.Helper()
	if len(res.Targets) != 1 {
		t.Fatalf("%d targets kept, want 1 (the result is kept by default)", len(res.Targets))
	}
	for _, c := range res.Targets[0].Checks {
		if c.List.ID == list {
			return c.Status
		}
	}
	t.Fatalf("no check of %s in %+v", list, res.Targets[0].Checks)
	return ""
}

// A delisting shows once the listing's TTL has passed, and not before: the
// answer is cached for its TTL, so a second check within it sends no query.
func TestCheckerDelisting(t *testing.T) {
	l := newLongLived(t, dnsbl.DefaultHealthTTL, "ipbl")
	l.srv.List("ip.bl.test", "192.0.2.10", []string{"127.0.0.2"})
	first := l.check(t, "192.0.2.10")
	if got := statusOf(t, first, "ipbl"); got != dnsbl.Listed {
		t.Fatalf("first check: %s, want listed", got)
	}
	if first.Queries == 0 {
		t.Error("the first check counted no query")
	}
	l.srv.Unlist("ip.bl.test", "192.0.2.10")
	// the client's questions sent, not the server's packets: a copy of a
	// first check's query, sent again after the RTO on a busy machine, can
	// reach the server after that check ended
	client := l.rec.Resolver.(*resolver.Client)
	before := client.Stats().Sent
	res := l.check(t, "192.0.2.10")
	if got := statusOf(t, res, "ipbl"); got != dnsbl.Listed {
		t.Errorf("within the TTL: %s, want listed (the cached answer)", got)
	}
	if n := client.Stats().Sent - before; n != 0 || res.Queries != 0 {
		t.Errorf("the second check within the TTL sent %d queries (Result.Queries %d), want 0", n, res.Queries)
	}
	if res.Lists[0].Health.State != dnsbl.HealthOK {
		t.Errorf("health %s, want ok (kept from the first check)", res.Lists[0].Health.State)
	}
	l.clock.advance(61 * time.Second)
	if got := statusOf(t, l.check(t, "192.0.2.10"), "ipbl"); got != dnsbl.Clean {
		t.Errorf("after the TTL: %s, want clean (delisted)", got)
	}
}

// A list that dies after the first check is seen failing once the health TTL
// has passed: its checks are then never clean.
func TestCheckerListDies(t *testing.T) {
	l := newLongLived(t, time.Minute, "ipbl")
	res := l.check(t, "192.0.2.20")
	if got := statusOf(t, res, "ipbl"); got != dnsbl.Clean {
		t.Fatalf("healthy list: %s, want clean", got)
	}
	// the list now answers everything, as a dead zone parked on a wildcard does
	l.srv.Wildcard("ip.bl.test", "127.0.0.2")
	l.clock.advance(61 * time.Second) // past the health TTL and the negative answer's
	res = l.check(t, "192.0.2.21")
	if h := res.Lists[0].Health.State; h != dnsbl.HealthListsEverything {
		t.Errorf("health after the list died: %s, want %s", h, dnsbl.HealthListsEverything)
	}
	if got := statusOf(t, res, "ipbl"); got == dnsbl.Listed || got == dnsbl.Clean {
		t.Errorf("a check through a dead list: %s, want neither listed nor clean", got)
	}
}

// The health probes are made once per health TTL, not once a check.
func TestCheckerHealthKept(t *testing.T) {
	// The probes the Checker started are counted, not the packets the server
	// got: a machine too busy to read an answer within the resolver's RTO
	// (10ms, under -race and load) sends a copy, which can reach the server
	// after the check that asked has ended.
	l := newLongLived(t, time.Minute, "ipbl")
	point := dnsbltest.QueryName("127.0.0.2", "ip.bl.test")
	l.check(t, "192.0.2.30")
	if n := l.rec.asked("A", point); n != 1 || l.srv.Queries("A", point) == 0 {
		t.Fatalf("the first check asked the test point %d times (%d packets), want once", n, l.srv.Queries("A", point))
	}
	for _, a := range []string{"192.0.2.31", "192.0.2.32", "192.0.2.33"} {
		l.check(t, a)
	}
	if n := l.rec.asked("A", point); n != 1 {
		t.Errorf("test point asked again within the health TTL: %d times in four checks", n)
	}
	l.clock.advance(2 * time.Minute)
	l.check(t, "192.0.2.34")
	if n := l.rec.asked("A", point); n != 2 {
		t.Errorf("test point asked %d times after the health TTL, want twice", n)
	}
}

// Many goroutines share one Checker: each gets its own target's verdict.
func TestCheckerConcurrent(t *testing.T) {
	l := newLongLived(t, time.Minute, "ipbl", "v4bl")
	for i := range 10 {
		if i%2 == 0 {
			l.srv.List("ip.bl.test", fmt.Sprintf("192.0.2.%d", 100+i), []string{"127.0.0.4"})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := g % 10
			addr := fmt.Sprintf("192.0.2.%d", 100+i)
			res, err := l.ck.CheckAddr(context.Background(), netip.MustParseAddr(addr))
			if err != nil {
				errs <- err
				return
			}
			want := dnsbl.Clean
			if i%2 == 0 {
				want = dnsbl.Listed
			}
			for _, c := range res.Targets[0].Checks {
				if c.List.ID == "ipbl" && (c.Status != want || c.Subject != addr) {
					errs <- fmt.Errorf("%s on ipbl: %s %s, want %s", addr, c.Subject, c.Status, want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A closed Checker refuses calls; a resolver that answers nothing is an error,
// not only English in the summary.
func TestCheckerErrors(t *testing.T) {
	l := newLongLived(t, 0, "ipbl")
	if err := l.ck.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ck.CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.1")); !errors.Is(err, dnsbl.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	if _, err := dnsbl.New(dnsbl.Options{}); err == nil {
		t.Error("New without a resolver: no error")
	}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // a resolver that never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	client, err := resolver.New(resolver.Config{Servers: []string{pc.LocalAddr().String()}, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cat, err := catalog.Parse([]byte(testCatalog), "test")
	if err != nil {
		t.Fatal(err)
	}
	lists, _, err := cat.Select(catalog.Selection{Only: []string{"ipbl"}, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: client})
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	res, err := ck.CheckAddr(context.Background(), netip.MustParseAddr("192.0.2.1"))
	if !errors.Is(err, dnsbl.ErrNoAnswers) {
		t.Errorf("a silent resolver: %v, want ErrNoAnswers", err)
	}
	if res == nil || res.Outcome(false) != dnsbl.OutcomeIncomplete {
		t.Errorf("a silent resolver's result: %+v, want an incomplete one", res)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := ck.CheckAddr(ctx, netip.MustParseAddr("192.0.2.1")); !errors.Is(err, context.Canceled) ||
		res.Outcome(false) != dnsbl.OutcomeInterrupted {
		t.Errorf("a canceled call: %v, outcome %v; want context.Canceled and interrupted", err, res.Outcome(false))
	}
}

// With NS, a domain's name servers' addresses are checked too, each saying so;
// without it, they are not asked.
func TestCheckerNameServers(t *testing.T) {
	w := newWorld(t)
	w.srv.A("www.example.test", "192.0.2.80")
	w.srv.RR("example.test. 60 IN NS ns1.example.test.")
	w.srv.RR("example.test. 60 IN NS ns2.other.test.")
	w.srv.A("ns1.example.test", "192.0.2.53")
	w.srv.A("ns2.other.test", "198.51.100.53")
	w.srv.List("ip.bl.test", "198.51.100.53", []string{"127.0.0.2"})
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"ipbl"}})
	client := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: 200 * time.Millisecond})
	tg, _ := dnsbl.ParseTarget("www.example.test")
	for _, ns := range []bool{false, true} {
		ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: client, NS: ns})
		if err != nil {
			t.Fatal(err)
		}
		res, err := ck.Check(context.Background(), tg)
		ck.Close()
		if err != nil {
			t.Fatal(err)
		}
		via := map[string]string{}
		for _, s := range res.Targets[0].Subjects {
			via[s.Name] = strings.Join(s.Via, ",")
		}
		if !ns {
			if _, asked := via["198.51.100.53"]; asked || w.srv.Queries("NS", "example.test") != 0 {
				t.Errorf("without NS the name servers were followed: %v", via)
			}
			continue
		}
		if via["192.0.2.53"] != "NS ns1.example.test" || via["198.51.100.53"] != "NS ns2.other.test" {
			t.Errorf("name servers' subjects: %v", via)
		}
		// a list of mail senders: a name server's address on it is noted, not listed
		if c := find(res, "198.51.100.53", "ipbl"); c.Status != dnsbl.Noted || len(c.Codes) == 0 {
			t.Errorf("a listed name server: %+v", c)
		}
	}
}

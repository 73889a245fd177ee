package dnsbl_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// callRecorder is a fake resolver that keeps the names of each StartAll call.
type callRecorder struct {
	*fakeResolver
	mu    sync.Mutex
	calls [][]string
}

func (c *callRecorder) Start(ctx context.Context, name string, t resolver.Type) *resolver.Pending {
	return c.StartAll(ctx, []string{name}, t)[0]
}

func (c *callRecorder) StartAll(ctx context.Context, names []string, t resolver.Type) []*resolver.Pending {
	c.mu.Lock()
	c.calls = append(c.calls, append([]string(nil), names...))
	c.mu.Unlock()
	return c.fakeResolver.StartAll(ctx, names, t)
}

// TestHealthQueriesLeaveTogether: a one-address check's health queries (the
// test points of every list it asks, and the resolver's made-up names) leave
// in one call, not
// one by one from each list's goroutine, which spread them over a millisecond
// or two that the check then waits for; and each is asked once.
func TestHealthQueriesLeaveTogether(t *testing.T) {
	lists := fakeLists(t)
	for _, rate := range []float64{0, 50} { // within the default per-list rate too
		f := &callRecorder{fakeResolver: newFake()}
		f.zone("ip.bl.test", "127.0.0.2")
		f.zone("v4.bl.test", "127.0.0.2")
		f.zone("dom.bl.test", "127.0.1.2")
		ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: f, Rate: rate})
		if err != nil {
			t.Fatal(err)
		}
		target, _ := dnsbl.ParseTarget("192.0.2.99")
		if _, err := ck.Check(context.Background(), target); err != nil {
			t.Fatal(err)
		}
		ck.Close()
		asked := map[string]int{}
		batch := -1 // the call that carries the test points
		for i, names := range f.calls {
			for _, n := range names {
				asked[n]++
				if n == "2.0.0.127.ip.bl.test" {
					batch = i
				}
			}
		}
		if batch < 0 {
			t.Fatalf("rate %v: the test point was never asked: %q", rate, f.calls)
		}
		want := []string{"2.0.0.127.ip.bl.test", "1.0.0.127.ip.bl.test", "2.0.0.127.v4.bl.test",
			"1.0.0.127.v4.bl.test"}
		for _, n := range []string{"test.dom.bl.test", "invalid.dom.bl.test"} {
			if asked[n] > 0 { // no subject is asked of the domain list: its test points are not asked either
				t.Errorf("rate %v: the unused list's %s was asked (calls %q)", rate, n, f.calls)
			}
		}
		got := strings.Join(f.calls[batch], " ")
		for _, n := range want {
			if !strings.Contains(" "+got+" ", " "+n+" ") {
				t.Errorf("rate %v: %s not in the batch %q (calls %q)", rate, n, got, f.calls)
			}
		}
		if !strings.Contains(got, "blcheck-nx-") {
			t.Errorf("rate %v: the resolver's made-up names are not in the batch %q", rate, got)
		}
		for n, k := range asked {
			if k > 1 && !strings.Contains(n, "192") { // the target's own queries may be asked twice (A, TXT)
				t.Errorf("rate %v: %s asked %d times", rate, n, k)
			}
		}
	}
}

// TestHealthBatchSharesAZone: two lists of the same zone (the catalog allows
// it) have the same test points; the batch asks each once, and both lists'
// health checks read it: none is asked again.
func TestHealthBatchSharesAZone(t *testing.T) {
	cat, err := catalog.Parse([]byte(`
- {id: one, name: One, zone: ip.bl.test, kind: ip, families: [ipv4], default: true, status: active, codes: {127.0.0.2: listed}}
- {id: two, name: Two, zone: ip.bl.test, kind: ip, families: [ipv4], default: true, status: active, codes: {127.0.0.2: listed}}
`), "test")
	if err != nil {
		t.Fatal(err)
	}
	lists, _, err := cat.Select(catalog.Selection{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	f := &callRecorder{fakeResolver: newFake()}
	f.zone("ip.bl.test", "127.0.0.2")
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: f, Rate: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	target, _ := dnsbl.ParseTarget("192.0.2.99")
	res, err := ck.Check(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"2.0.0.127.ip.bl.test A", "1.0.0.127.ip.bl.test A"} {
		if k := slices.Index(f.asked, n); k < 0 || slices.Index(f.asked[k+1:], n) >= 0 {
			t.Errorf("%s asked %d times, want once (asked: %q)", n, count(f.asked, n), f.asked)
		}
	}
	for _, l := range res.Lists {
		if l.Health.State != dnsbl.HealthOK {
			t.Errorf("%s: health %+v", l.List.ID, l.Health)
		}
	}
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// TestLateHealthQueriesLeaveTogether: a domain's check opens the probe gate
// with the domain list's test points; the address lists are first asked for
// its address, later, and their test points then leave together in one
// call, not one by one from each list's health check; each is asked once.
func TestLateHealthQueriesLeaveTogether(t *testing.T) {
	f := &callRecorder{fakeResolver: newFake()}
	f.zone("ip.bl.test", "127.0.0.2")
	f.zone("v4.bl.test", "127.0.0.2")
	f.zone("dom.bl.test", "127.0.1.2")
	f.set("example.com", resolver.TypeA, "192.0.2.1")
	ck, err := dnsbl.New(dnsbl.Options{Lists: fakeLists(t), Resolver: f})
	if err != nil {
		t.Fatal(err)
	}
	target, _ := dnsbl.ParseTarget("example.com")
	res, err := ck.Check(context.Background(), target)
	ck.Close()
	if err != nil {
		t.Fatal(err)
	}
	late := []string{"2.0.0.127.ip.bl.test", "1.0.0.127.ip.bl.test", "2.0.0.127.v4.bl.test", "1.0.0.127.v4.bl.test"}
	asked := map[string]int{}
	call := -1 // the call that carries the address lists' test points
	for i, names := range f.calls {
		for _, n := range names {
			asked[n]++
			if n == late[0] {
				call = i
			}
		}
	}
	if call < 0 {
		t.Fatalf("the address list's test point was never asked: %q", f.calls)
	}
	for _, n := range late {
		if !slices.Contains(f.calls[call], n) {
			t.Errorf("%s not in the call %q (calls %q)", n, f.calls[call], f.calls)
		}
		if asked[n] != 1 {
			t.Errorf("%s asked %d times", n, asked[n])
		}
	}
	for _, l := range res.Lists {
		if l.Health.State != dnsbl.HealthOK {
			t.Errorf("%s's health: %+v, want ok", l.List.ID, l.Health)
		}
	}
}

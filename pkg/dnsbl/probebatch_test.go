package dnsbl

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// askLog is a resolver that answers every name at once with 127.0.0.2 and
// keeps the names it was asked, call by call.
type askLog struct {
	mu    sync.Mutex
	asked []string
}

func (f *askLog) Lookup(ctx context.Context, name string, t resolver.Type) (*resolver.Answer, error) {
	return f.Start(ctx, name, t).Wait()
}

func (f *askLog) Start(ctx context.Context, name string, t resolver.Type) *resolver.Pending {
	return f.StartAll(ctx, []string{name}, t)[0]
}

func (f *askLog) StartAll(_ context.Context, names []string, _ resolver.Type) []*resolver.Pending {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps := make([]*resolver.Pending, len(names))
	for i, n := range names {
		f.asked = append(f.asked, n)
		ps[i] = resolver.Answered(answer("127.0.0.2"), nil)
	}
	return ps
}

func (f *askLog) Servers() []string { return []string{"127.0.0.1:53"} }
func (f *askLog) Concurrency() int  { return 8 }

// TestConfirmationSkipsProbeBatch: two lists of one zone register the same
// test points, sent once in the probe batch. The first list's confirmation
// (a check not gated, asked after an answer came) must ask them again, not
// take the second list's share of the batch, whose queries left before it.
func TestConfirmationSkipsProbeBatch(t *testing.T) {
	cat, err := catalog.Parse([]byte(`
- {id: one, name: One, zone: ip.bl.test, kind: ip, families: [ipv4], default: true, status: active, codes: {127.0.0.2: listed}}
`), "test")
	if err != nil {
		t.Fatal(err)
	}
	sel, _, err := cat.Select(catalog.Selection{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	f := &askLog{}
	r := &runner{o: Options{Resolver: f}}
	l := &listState{Selected: &sel[0], zone: sel[0].SecretZone()}
	names := testNames(l)
	if len(names) == 0 {
		t.Fatal("the list has no test point")
	}
	ctx := context.Background()
	r.probes.register(l, names...) // the first list of the zone
	r.probes.register(l, names...) // the second
	r.probes.send(ctx, f)
	r.probeHealth(ctx, l, false, true) // the first list's gated check
	f.mu.Lock()
	before := len(f.asked)
	f.mu.Unlock()
	r.probeHealth(ctx, l, false, false) // its confirmation
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		if !slices.Contains(f.asked[before:], n) {
			t.Errorf("the confirmation took %s from the batch; asked since: %q", n, f.asked[before:])
		}
	}
}

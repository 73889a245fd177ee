package dnsbl_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// fakeResolver is a resolver.Resolver from a map, "name TYPE" → answer or
// error, with no server and no socket: what the engine's tests of its own
// logic run on. A name it does not know does not exist (NXDOMAIN), unless
// everything is set (a resolver that invents answers).
type fakeResolver struct {
	answers    map[string]*resolver.Answer
	errs       map[string]error
	everything *resolver.Answer

	mu    sync.Mutex
	asked []string
}

func newFake() *fakeResolver {
	return &fakeResolver{answers: map[string]*resolver.Answer{}, errs: map[string]error{}}
}

// zone makes zone a healthy list: its RFC 5782 test points listed with code.
func (f *fakeResolver) zone(zone, code string) {
	for _, s := range []string{"127.0.0.2", "::ffff:7f00:2", "test"} {
		f.set(dnsbltest.QueryName(s, zone), resolver.TypeA, code)
	}
}

func (f *fakeResolver) set(name string, t resolver.Type, values ...string) {
	a := &resolver.Answer{Name: name}
	for _, v := range values {
		if ip, err := netip.ParseAddr(v); err == nil && t != resolver.TypeTXT {
			a.Addrs = append(a.Addrs, ip)
		} else {
			a.TXT = append(a.TXT, v)
		}
	}
	f.answers[name+" "+t.String()] = a
}

func (f *fakeResolver) Lookup(ctx context.Context, name string, t resolver.Type) (*resolver.Answer, error) {
	return f.Start(ctx, name, t).Wait()
}

func (f *fakeResolver) Start(ctx context.Context, name string, t resolver.Type) *resolver.Pending {
	return f.StartAll(ctx, []string{name}, t)[0]
}

func (f *fakeResolver) StartAll(ctx context.Context, names []string, t resolver.Type) []*resolver.Pending {
	ps := make([]*resolver.Pending, len(names))
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, name := range names {
		key := strings.ToLower(name) + " " + t.String()
		f.asked = append(f.asked, key)
		switch a, ok := f.answers[key]; {
		case ctx.Err() != nil:
			ps[i] = resolver.Answered(nil, &resolver.Error{Kind: resolver.Canceled, Name: name})
		case f.errs[key] != nil:
			ps[i] = resolver.Answered(nil, f.errs[key])
		case ok:
			ps[i] = resolver.Answered(a, nil)
		case f.everything != nil:
			ps[i] = resolver.Answered(f.everything, nil)
		default:
			ps[i] = resolver.Answered(&resolver.Answer{Name: name, NXDomain: true}, nil)
		}
	}
	return ps
}

func (f *fakeResolver) Servers() []string { return []string{"fake"} }
func (f *fakeResolver) Concurrency() int  { return 32 }

// fakeLists are the test catalog's keyless lists: an IP list, an IPv4 one
// and a domain one.
func fakeLists(t *testing.T) []catalog.Selected {
	t.Helper()
	cat, err := catalog.Parse([]byte(testCatalog), "test")
	if err != nil {
		t.Fatal(err)
	}
	lists, _, err := cat.Select(catalog.Selection{Only: []string{"ipbl", "v4bl", "dombl"}, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return lists
}

// TestRunOnFakeResolver is the engine's plan, judge and run over a fake
// resolver: verdicts, failures and the resolver's lies, with no server.
func TestRunOnFakeResolver(t *testing.T) {
	lists := fakeLists(t)
	timeout := &resolver.Error{Kind: resolver.Timeout, Tries: 2}
	tests := []struct {
		name   string
		target string
		setup  func(f *fakeResolver)
		want   map[string]dnsbl.Status // "subject list" → status
		reason string                  // of the first listing
		err    error                   // of Run
		// rewrites: the resolver is found to invent answers (its answers,
		// outside 127.0.0.0/8, are errors of the lists)
		rewrites bool
	}{
		{name: "a listing with its reason, clean elsewhere", target: "192.0.2.99",
			setup: func(f *fakeResolver) {
				f.set("99.2.0.192.ip.bl.test", resolver.TypeA, "127.0.0.4")
				f.set("99.2.0.192.ip.bl.test", resolver.TypeTXT, "infected: see https://ip.bl.test/")
			},
			want:   map[string]dnsbl.Status{"192.0.2.99 ipbl": dnsbl.Listed, "192.0.2.99 v4bl": dnsbl.Clean},
			reason: "infected: see https://ip.bl.test/"},
		{name: "a timeout is an error, never clean", target: "192.0.2.99",
			setup: func(f *fakeResolver) { f.errs["99.2.0.192.ip.bl.test A"] = timeout },
			want:  map[string]dnsbl.Status{"192.0.2.99 ipbl": dnsbl.Error, "192.0.2.99 v4bl": dnsbl.Clean}},
		{name: "an IPv6 address skips the IPv4-only list", target: "2001:db8::7",
			want: map[string]dnsbl.Status{"2001:db8::7 ipbl": dnsbl.Clean, "2001:db8::7 v4bl": dnsbl.Skipped}},
		{name: "a domain and its address", target: "example.com",
			setup: func(f *fakeResolver) {
				f.set("example.com", resolver.TypeA, "192.0.2.1")
				f.set("example.com.dom.bl.test", resolver.TypeA, "127.0.1.2")
			},
			want: map[string]dnsbl.Status{"example.com dombl": dnsbl.Listed, "192.0.2.1 ipbl": dnsbl.Clean, "192.0.2.1 v4bl": dnsbl.Clean}},
		{name: "a resolver that invents answers voids every answer", target: "192.0.2.99",
			setup: func(f *fakeResolver) {
				f.everything = &resolver.Answer{Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.250")}}
			},
			want: map[string]dnsbl.Status{"192.0.2.99 ipbl": dnsbl.Error, "192.0.2.99 v4bl": dnsbl.Error}, rewrites: true},
		{name: "nothing answered", target: "192.0.2.99",
			setup: func(f *fakeResolver) {
				for _, z := range []string{"ip.bl.test", "v4.bl.test"} {
					f.errs["99.2.0.192."+z+" A"] = &resolver.Error{Kind: resolver.Refused}
				}
			},
			want: map[string]dnsbl.Status{"192.0.2.99 ipbl": dnsbl.Error, "192.0.2.99 v4bl": dnsbl.Error}, err: dnsbl.ErrNoAnswers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.zone("ip.bl.test", "127.0.0.2")
			f.zone("v4.bl.test", "127.0.0.2")
			f.zone("dom.bl.test", "127.0.1.2")
			if tt.setup != nil {
				tt.setup(f)
			}
			ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: f})
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			target, err := dnsbl.ParseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ck.Check(context.Background(), target)
			if !errors.Is(err, tt.err) || tt.err == nil && err != nil {
				t.Errorf("Run: %v, want %v", err, tt.err)
			}
			got := map[string]dnsbl.Status{}
			reason := ""
			for _, c := range res.Targets[0].Checks {
				got[c.Subject+" "+c.List.ID] = c.Status
				if c.Status == dnsbl.Listed && reason == "" {
					reason = c.Reason
				}
			}
			for k, st := range tt.want {
				if got[k] != st {
					t.Errorf("%s: %s, want %s (all: %v)", k, got[k], st, got)
				}
			}
			if tt.reason != "" && reason != tt.reason {
				t.Errorf("reason %q, want %q", reason, tt.reason)
			}
			if res.Resolver.RewritesNXDOMAIN != tt.rewrites {
				t.Errorf("resolver health %+v", res.Resolver)
			}
			healthOfUse(t, res, f, tt.err == nil && !tt.rewrites)
		})
	}
}

// healthOfUse checks that a list that a subject was asked of is healthy
// (unless !healthy: the run's failures are its lists'), and that one that
// none was (the domain list for an address, the IPv4 list for an IPv6 one)
// is unused, its test points not asked.
func healthOfUse(t *testing.T, res *dnsbl.Result, f *fakeResolver, healthy bool) {
	t.Helper()
	asked := map[string]bool{}
	for _, c := range res.Targets[0].Checks {
		asked[c.List.ID] = asked[c.List.ID] || c.Status != dnsbl.Skipped
	}
	for _, l := range res.Lists {
		want := dnsbl.HealthOK
		if !asked[l.List.ID] {
			want = dnsbl.HealthUnused
		}
		if (healthy || want == dnsbl.HealthUnused) && l.Health.State != want {
			t.Errorf("%s's health: %+v, want %s", l.List.ID, l.Health, want)
		}
		// nor a made-up name under its zone (the resolver's health check)
		if want == dnsbl.HealthUnused && slices.ContainsFunc(f.asked, func(q string) bool {
			return strings.Contains(q, l.Zone)
		}) {
			t.Errorf("%s is unused, but was asked: %q", l.List.ID, f.asked)
		}
	}
}

// TestRunOfNoTarget: a run of no target asks nothing (scan or dmarc that
// found nothing to check): every list is unused, and the resolver is not
// asked its made-up names either; unless it is a health check of the lists
// alone (AllHealth: blcheck lists --probe), which asks every list's test
// points and the resolver's names.
func TestRunOfNoTarget(t *testing.T) {
	for _, all := range []bool{false, true} {
		f := newFake()
		f.zone("ip.bl.test", "127.0.0.2")
		f.zone("v4.bl.test", "127.0.0.2")
		f.zone("dom.bl.test", "127.0.1.2")
		ck, err := dnsbl.New(dnsbl.Options{Lists: fakeLists(t), Resolver: f})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := ck.Run(context.Background(), func(func(dnsbl.Target) bool) {}, dnsbl.RunOptions{AllHealth: all})
		ck.Close()
		if len(res.Lists) != 3 {
			t.Fatalf("AllHealth %v: %d lists in the result, want 3", all, len(res.Lists))
		}
		want := dnsbl.HealthUnused
		if all {
			want = dnsbl.HealthOK
		}
		for _, l := range res.Lists {
			if l.Health.State != want {
				t.Errorf("AllHealth %v: %s's health: %+v, want %s", all, l.List.ID, l.Health, want)
			}
		}
		nx := slices.ContainsFunc(f.asked, func(q string) bool { return strings.HasPrefix(q, "blcheck-nx-") })
		if !all && len(f.asked) > 0 || all && (len(f.asked) < 7 || !nx) {
			t.Errorf("AllHealth %v: asked %q", all, f.asked)
		}
	}
}

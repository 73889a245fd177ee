package dnsbl_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// testCatalog is a small catalog whose zones the fake server serves.
const testCatalog = `
- {id: ipbl, name: IP BL, zone: ip.bl.test, kind: ip, families: [ipv4, ipv6], default: true, status: active,
   codes: {127.0.0.2: spam source, 127.0.0.4: infected host}, errors: {127.255.255.254: refused},
   delist: "https://ip.bl.test/lookup?ip={subject}"}
- {id: v4bl, name: IPv4 BL, zone: v4.bl.test, kind: ip, families: [ipv4], default: true, status: active,
   codes: {127.0.0.2: listed}}
- {id: dombl, name: Domain BL, zone: dom.bl.test, kind: domain, default: true, status: active,
   codes: {127.0.1.2: spam domain}}
- {id: keyed, name: Keyed BL, zone: "{key}.keyed.bl.test", kind: ip, families: [ipv4], default: true, status: active,
   key: {env: BLCHECK_TEST_KEY}, codes: {127.0.0.2: listed}}
`

type world struct {
	srv *dnsbltest.Server
	cat *catalog.Catalog
	rec *recorder // the queries the latest run started
	// timeout is run's per try: long, as every query is answered (a short
	// one could pass on a machine busy under -race, and turn a verdict into
	// an error); a test whose server drops queries sets a short one
	timeout time.Duration
}

// slowTry is the timeout of a try of a query that a test expects to time out.
const slowTry = 200 * time.Millisecond

// answeredTry is the timeout of a try of a query that a test expects answered.
const answeredTry = 5 * time.Second

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := dnsbltest.New(t)
	cat, err := catalog.Parse([]byte(testCatalog), "test")
	if err != nil {
		t.Fatal(err)
	}
	srv.Zone("ip.bl.test", "127.0.0.2")
	srv.Zone("v4.bl.test", "127.0.0.2")
	srv.Zone("dom.bl.test", "127.0.1.2")
	srv.Zone("sekrit.keyed.bl.test", "127.0.0.2")
	return &world{srv: srv, cat: cat, timeout: answeredTry}
}

func (w *world) run(t *testing.T, env map[string]string, only []string, inputs ...string) *dnsbl.Result {
	t.Helper()
	lists, _, err := w.cat.Select(catalog.Selection{Only: only, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	var targets []dnsbl.Target
	for _, in := range inputs {
		tg, err := dnsbl.ParseTarget(in)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	w.rec = &recorder{Resolver: newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: w.timeout, Retries: 1})}
	return runOnce(context.Background(), config{Lists: lists, Resolver: w.rec, Retain: true}, targets, dnsbl.Observer{})
}

func find(res *dnsbl.Result, subject, list string) dnsbl.Check {
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if c.Subject == subject && c.List.ID == list {
				return c
			}
		}
	}
	return dnsbl.Check{Status: "missing"}
}

func TestRunIP(t *testing.T) {
	w := newWorld(t)
	w.srv.List("ip.bl.test", "192.0.2.10", []string{"127.0.0.4"}, "infected: see https://elsewhere.example/192.0.2.10")
	w.srv.List("ip.bl.test", "192.0.2.12", []string{"127.0.0.4"}, "infected: see https://www.bl.test/record/SBL123.")
	w.srv.List("ip.bl.test", "2001:db8::25", []string{"127.0.0.2"})
	res := w.run(t, nil, nil, "192.0.2.10", "192.0.2.11", "192.0.2.12", "2001:db8::25")

	// a link in the TXT to another domain is shown as reason only, never as the list's page
	c := find(res, "192.0.2.10", "ipbl")
	if c.Status != dnsbl.Listed || !slices.Equal(c.Meanings, []string{"infected host"}) || c.Query != "10.2.0.192.ip.bl.test" ||
		c.Reason != "infected: see https://elsewhere.example/192.0.2.10" || c.DelistURL != "https://ip.bl.test/lookup?ip=192.0.2.10" {
		t.Errorf("listing: %+v", c)
	}
	// a link to the list's own domain is the page about this very listing
	if c := find(res, "192.0.2.12", "ipbl"); c.ListingURL != "https://www.bl.test/record/SBL123" || c.DelistURL != "https://ip.bl.test/lookup?ip=192.0.2.12" {
		t.Errorf("the TXT's own link: %+v", c)
	}
	if c := find(res, "192.0.2.11", "ipbl"); c.Status != dnsbl.Clean || c.Reason != "" || c.DelistURL != "" {
		t.Errorf("clean: %+v", c)
	}
	if c := find(res, "2001:db8::25", "ipbl"); c.Status != dnsbl.Listed {
		t.Errorf("IPv6 listing: %+v", c)
	}
	if c := find(res, "2001:db8::25", "v4bl"); c.Status != dnsbl.Skipped || !strings.Contains(errText(c), "no IPv6 data") {
		t.Errorf("IPv6 on an IPv4-only list: %+v", c)
	}
	if c := find(res, "192.0.2.10", "keyed"); c.Status != dnsbl.Skipped || !strings.Contains(errText(c), "$BLCHECK_TEST_KEY") {
		t.Errorf("keyed list without key: %+v", c)
	}
	if c := find(res, "192.0.2.10", "dombl"); c.Status != "missing" {
		t.Errorf("an address is never sent to a domain list: %+v", c)
	}
	s := res.Summary
	if s.Counts[dnsbl.Listed] != 3 || s.Subjects != 4 || len(s.Incomplete) != 0 {
		t.Errorf("summary %+v", s)
	}
}

// recorder is a resolver that notes every query started, as "TYPE name": what
// the engine asked, whether the resolver answered it from its cache, shared it
// with the same query in flight, or sent it (and, on a machine too busy to read
// the answer within the RTO, sent a copy again: the server counts packets).
type recorder struct {
	resolver.Resolver
	mu      sync.Mutex
	started []string
	pending map[string][]*resolver.Pending // by "TYPE name", for answers
}

func (r *recorder) note(t resolver.Type, names ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range names {
		r.started = append(r.started, t.String()+" "+n)
	}
}

func (r *recorder) Lookup(ctx context.Context, name string, t resolver.Type) (*resolver.Answer, error) {
	r.note(t, name)
	return r.Resolver.Lookup(ctx, name, t)
}

func (r *recorder) Start(ctx context.Context, name string, t resolver.Type) *resolver.Pending {
	r.note(t, name)
	p := r.Resolver.Start(ctx, name, t)
	r.keep(t, []string{name}, []*resolver.Pending{p})
	return p
}

func (r *recorder) StartAll(ctx context.Context, names []string, t resolver.Type) []*resolver.Pending {
	r.note(t, names...)
	ps := r.Resolver.StartAll(ctx, names, t)
	r.keep(t, names, ps)
	return ps
}

func (r *recorder) keep(t resolver.Type, names []string, ps []*resolver.Pending) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string][]*resolver.Pending{}
	}
	for i, p := range ps {
		if p != nil {
			r.pending[t.String()+" "+names[i]] = append(r.pending[t.String()+" "+names[i]], p)
		}
	}
}

// answer is the answer to the latest query of type t started for name, nil
// if none was started or it failed. An answer the resolver gave from its cache
// keeps the time it first came (At).
func (r *recorder) answer(t, name string) *resolver.Answer {
	r.mu.Lock()
	ps := r.pending[t+" "+name]
	r.mu.Unlock()
	if len(ps) == 0 {
		return nil
	}
	a, _ := ps[len(ps)-1].Wait()
	return a
}

// Sweep and Forget are the resolver's, if it has them (resolver.Client): the
// engine uses them when its resolver does.
func (r *recorder) Sweep() {
	if s, ok := r.Resolver.(interface{ Sweep() }); ok {
		s.Sweep()
	}
}

func (r *recorder) Forget(zones ...string) {
	if f, ok := r.Resolver.(interface{ Forget(...string) }); ok {
		f.Forget(zones...)
	}
}

// asked says how many queries of type t were started for name (exactly).
func (r *recorder) asked(t, name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.started {
		if q == t+" "+name {
			n++
		}
	}
	return n
}

// count says how many queries started were of type t, and for names ending in suffix.
func (r *recorder) count(t, suffix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.started {
		if strings.HasPrefix(q, t+" ") && strings.HasSuffix(q, suffix) {
			n++
		}
	}
	return n
}

func TestRunTXTPolicy(t *testing.T) {
	const listed, clean, blocked = "192.0.2.10", "192.0.2.11", "192.0.2.12"
	qListed, qClean := "10.2.0.192.ip.bl.test", "11.2.0.192.ip.bl.test"
	for _, tc := range []struct {
		name    string
		policy  dnsbl.TXTPolicy
		fault   *dnsbltest.Fault
		inputs  []string
		reason  string // the listing's reason
		txt     int    // TXT queries started for the listed name
		txtAll  int    // TXT queries started in all, -1 to skip
		cleanOK bool   // clean was asked TXT (eagerly)
	}{
		{name: "listed only", policy: dnsbl.TXTListed, inputs: []string{listed, clean, blocked},
			reason: "why", txt: 1, txtAll: 1},
		{name: "auto, small run", policy: dnsbl.TXTAuto, inputs: []string{listed, clean, blocked},
			reason: "why", txt: 1, txtAll: 3, cleanOK: true},
		{name: "auto, TXT dropped", policy: dnsbl.TXTAuto, inputs: []string{listed, clean, blocked},
			fault:  &dnsbltest.Fault{Suffix: "ip.bl.test", Type: "TXT", Kind: dnsbltest.Drop},
			reason: "", txt: 1, txtAll: 3, cleanOK: true},
		{name: "auto, TXT refused", policy: dnsbl.TXTAuto, inputs: []string{listed, clean, blocked},
			fault:  &dnsbltest.Fault{Suffix: "ip.bl.test", Type: "TXT", Kind: dnsbltest.Refused},
			reason: "", txt: 1, txtAll: 3, cleanOK: true},
		// a run with a range is bulk: A first, as with listed
		{name: "auto, a range", policy: dnsbl.TXTAuto, inputs: []string{listed, clean, blocked, "198.51.100.0/27"},
			reason: "why", txt: 1, txtAll: 1},
		// a domain with 32 addresses: only the run's first EagerSubjects
		// subjects are asked TXT with A
		{name: "auto, many subjects", policy: dnsbl.TXTAuto, inputs: []string{"many.test"}, txtAll: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.srv.List("ip.bl.test", listed, []string{"127.0.0.2"}, "why")
			w.srv.List("ip.bl.test", blocked, []string{"127.255.255.254"}, "you query through a public resolver")
			if tc.fault != nil {
				w.srv.AddFault(*tc.fault)
			}
			var many []string
			for i := range 32 {
				many = append(many, fmt.Sprintf("198.51.100.%d", i))
			}
			w.srv.A("many.test", many...)
			lists, _, err := w.cat.Select(catalog.Selection{Only: []string{"ipbl"}})
			if err != nil {
				t.Fatal(err)
			}
			var targets []dnsbl.Target
			for _, in := range tc.inputs {
				tg, err := dnsbl.ParseTarget(in)
				if err != nil {
					t.Fatal(err)
				}
				targets = append(targets, tg)
			}
			c, err := resolver.New(resolver.Config{Servers: []string{w.srv.Addr}, Timeout: 200 * time.Millisecond, Retries: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			rec := &recorder{Resolver: c}
			res := runOnce(context.Background(), config{Lists: lists, Resolver: rec, Retain: true, TXT: tc.policy},
				targets, dnsbl.Observer{})

			if tc.txtAll < 0 {
				// the first subject is the domain itself, which no list of this run takes
				if n := rec.count("TXT", ""); n != dnsbl.EagerSubjects-1 {
					t.Errorf("TXT asked %d times in a run of %d subjects, want %d (the eager addresses)",
						n, res.Summary.Subjects, dnsbl.EagerSubjects-1)
				}
				if n := rec.count("A", ".100.51.198.ip.bl.test"); n != 32 || res.Summary.Counts[dnsbl.Clean] != 32 {
					t.Errorf("%d addresses of the domain asked, %d clean; want 32", n, res.Summary.Counts[dnsbl.Clean])
				}
				return
			}
			if c := find(res, listed, "ipbl"); c.Status != dnsbl.Listed || c.Reason != tc.reason {
				t.Errorf("listing: %+v", c)
			}
			if c := find(res, clean, "ipbl"); c.Status != dnsbl.Clean || c.Reason != "" || errText(c) != "" {
				t.Errorf("clean: %+v", c)
			}
			if c := find(res, blocked, "ipbl"); c.Status != dnsbl.Blocked || c.Reason != "" {
				t.Errorf("a refusal keeps no reason: %+v", c)
			}
			// only the refused address (its one list blocked) is incomplete
			if want := []string{blocked + ": no list could be checked"}; !slices.Equal(res.Summary.Incomplete, want) {
				t.Errorf("incomplete: %q, want %q", res.Summary.Incomplete, want)
			}
			if n := rec.count("TXT", qListed); n != tc.txt {
				t.Errorf("TXT asked %d times for the listing, want %d", n, tc.txt)
			}
			if n := rec.count("TXT", qClean); (n == 1) != tc.cleanOK || n > 1 {
				t.Errorf("TXT asked %d times for the clean address (eagerly: %v)", n, tc.cleanOK)
			}
			if n := rec.count("TXT", ""); n != tc.txtAll {
				t.Errorf("TXT asked %d times in all, want %d", n, tc.txtAll)
			}
		})
	}
}

func TestRunDomainExpansion(t *testing.T) {
	w := newWorld(t)
	w.srv.A("www.example.test", "192.0.2.10", "2001:db8::10")
	w.srv.MX("www.example.test", 10, "mx.example.test")
	w.srv.MX("www.example.test", 20, "mx2.example.test")
	w.srv.A("mx.example.test", "192.0.2.10", "192.0.2.11") // .10 is reached twice: one subject
	w.srv.A("mx2.example.test", "10.1.2.3")
	w.srv.List("ip.bl.test", "192.0.2.11", []string{"127.0.0.4"})
	w.srv.List("dom.bl.test", "example.test", []string{"127.0.1.2"})
	res := w.run(t, nil, nil, "www.example.test")

	tr := res.Targets[0]
	var got []string
	for _, s := range tr.Subjects {
		got = append(got, s.Name+" "+strings.Join(s.Via, ","))
	}
	want := []string{"example.test input www.example.test", "192.0.2.10 A,MX mx.example.test", "2001:db8::10 AAAA",
		"192.0.2.11 MX mx.example.test", "10.1.2.3 MX mx2.example.test"}
	if !slices.Equal(got, want) {
		t.Errorf("subjects:\n got %q\nwant %q", got, want)
	}
	// asked once by the engine (the server counts packets, a copy sent again
	// after the RTO among them), and sent
	if n := w.rec.asked("A", "10.2.0.192.ip.bl.test"); n != 1 || w.srv.Queries("A", "10.2.0.192.ip.bl.test") == 0 {
		t.Errorf("a subject reached twice must be queried once, got %d (%d packets)", n, w.srv.Queries("A", "10.2.0.192.ip.bl.test"))
	}
	if c := find(res, "10.1.2.3", "ipbl"); c.Status != dnsbl.Skipped || !strings.Contains(errText(c), "private address") {
		t.Errorf("a private address from DNS must be skipped: %+v", c)
	}
	if c := find(res, "example.test", "dombl"); c.Status != dnsbl.Listed {
		t.Errorf("domain listing: %+v", c)
	}
	if c := find(res, "192.0.2.11", "ipbl"); c.Status != dnsbl.Listed {
		t.Errorf("MX host listing: %+v", c)
	}
}

func TestRunFaults(t *testing.T) {
	w := newWorld(t)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "v4.bl.test", Kind: dnsbltest.Drop})
	w.timeout = slowTry
	res := w.run(t, nil, nil, "192.0.2.20")
	c := find(res, "192.0.2.20", "v4bl")
	if c.Status != dnsbl.Error || !strings.Contains(errText(c), "timed out") {
		t.Errorf("a list that times out must be an error, never clean: %+v", c)
	}
	if c := find(res, "192.0.2.20", "ipbl"); c.Status != dnsbl.Clean {
		t.Errorf("one list's failure must not touch another: %+v", c)
	}
	if len(res.Summary.Incomplete) != 0 {
		t.Errorf("one failed list of several is a warning, not an incomplete check: %v", res.Summary.Incomplete)
	}
	if got := res.Lists[1].Health.State; got != dnsbl.HealthNoAnswer {
		t.Errorf("health of a dead-silent list: %s", got)
	}
}

func TestRunUnreachableResolver(t *testing.T) {
	w := newWorld(t)
	w.srv.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Drop})
	w.timeout = slowTry
	res := w.run(t, nil, nil, "192.0.2.30", "example.test")
	if res.Summary.Counts[dnsbl.Clean] != 0 || res.Summary.Counts[dnsbl.Listed] != 0 {
		t.Errorf("nothing may be clean or listed when nothing answered: %+v", res.Summary.Counts)
	}
	if len(res.Summary.Incomplete) == 0 {
		t.Fatal("an unreachable resolver must make the run incomplete")
	}
	joined := strings.Join(res.Summary.Incomplete, "\n")
	if !strings.Contains(joined, "192.0.2.30: no list could be checked") || !strings.Contains(joined, "lookup for example.test failed") {
		t.Errorf("incomplete reasons: %s", joined)
	}
}

func TestRunUntrustedLists(t *testing.T) {
	w := newWorld(t)
	w.srv.Wildcard("v4.bl.test", "127.0.0.2") // a dead list that lists the world
	w.srv.Unlist("ip.bl.test", "127.0.0.2")
	w.srv.List("ip.bl.test", "127.0.0.2", []string{"127.255.255.254"}) // refuses this resolver
	w.srv.List("ip.bl.test", "192.0.2.40", []string{"127.255.255.254"})
	res := w.run(t, nil, nil, "192.0.2.40")
	if c := find(res, "192.0.2.40", "v4bl"); c.Status != dnsbl.Unreliable || !strings.Contains(errText(c), "answers everything") {
		t.Errorf("wildcard list: %+v", c)
	}
	if c := find(res, "192.0.2.40", "ipbl"); c.Status != dnsbl.Blocked {
		t.Errorf("refusing list: %+v", c)
	}
	if res.Summary.Counts[dnsbl.Listed] != 0 {
		t.Errorf("no false listing: %+v", res.Summary.Counts)
	}
	health := map[string]dnsbl.HealthState{}
	for _, l := range res.Lists {
		health[l.List.ID] = l.Health.State
	}
	if health["v4bl"] != dnsbl.HealthListsEverything || health["ipbl"] != dnsbl.HealthBlocked || health["keyed"] != dnsbl.HealthNeedsKey {
		t.Errorf("health: %v", health)
	}
}

// A list that publishes no test point is untested, not ok and not unreliable:
// only the point no list may list is asked, and its verdicts stand.
func TestRunUntestedList(t *testing.T) {
	srv := dnsbltest.New(t)
	cat, err := catalog.Parse([]byte(`
- {id: notest, name: No test point, zone: notest.bl.test, kind: ip, families: [ipv4], default: true, status: active, codes: {127.0.0.2: listed}, tests: none}
- {id: wild, name: Wildcard, zone: wild.bl.test, kind: ip, families: [ipv4], default: true, status: active, codes: {127.0.0.2: listed}, tests: none}
`), "test")
	if err != nil {
		t.Fatal(err)
	}
	srv.Unlist("notest.bl.test", "127.0.0.2")
	srv.List("notest.bl.test", "192.0.2.50", []string{"127.0.0.2"})
	srv.Wildcard("wild.bl.test", "127.0.0.2")
	lists, _, _ := cat.Select(catalog.Selection{})
	target, _ := dnsbl.ParseTarget("192.0.2.50")
	rs, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	res := runOnce(context.Background(), config{Lists: lists, Resolver: rs, Retain: true}, []dnsbl.Target{target}, dnsbl.Observer{})
	health := map[string]dnsbl.HealthState{}
	for _, l := range res.Lists {
		health[l.List.ID] = l.Health.State
	}
	if health["notest"] != dnsbl.HealthUntested || health["wild"] != dnsbl.HealthListsEverything {
		t.Errorf("health: %v", health)
	}
	if c := find(res, "192.0.2.50", "notest"); c.Status != dnsbl.Listed {
		t.Errorf("an untested list's listing stands: %+v", c)
	}
}

func TestRunRewritingResolver(t *testing.T) {
	w := newWorld(t)
	w.srv.AddFault(dnsbltest.Fault{Suffix: ".", Kind: dnsbltest.Rewrite, Addr: "198.51.100.200"})
	w.srv.List("ip.bl.test", "192.0.2.51", []string{"127.0.0.2"})
	res := w.run(t, nil, nil, "192.0.2.50", "192.0.2.51")
	if res.Summary.Counts[dnsbl.Listed] != 0 || res.Summary.Counts[dnsbl.Clean] != 0 {
		t.Errorf("a rewriting resolver must yield neither listed nor clean: %+v", res.Summary.Counts)
	}
	if c := find(res, "192.0.2.50", "ipbl"); c.Status != dnsbl.Error || !strings.Contains(errText(c), "198.51.100.200") {
		t.Errorf("%+v", c)
	}
	if c := find(res, "192.0.2.51", "ipbl"); c.Status != dnsbl.Unreliable {
		t.Errorf("not even a real listing counts through a rewriting resolver: %+v", c)
	}
	rh := res.Resolver
	if !rh.RewritesNXDOMAIN || rh.Answer != "198.51.100.200" || !strings.HasSuffix(rh.Probe, ".ip.bl.test") {
		t.Errorf("resolver diagnosis: %+v", rh)
	}
	if len(res.Summary.Incomplete) == 0 || !strings.Contains(res.Summary.Incomplete[0], "invents answers") {
		t.Errorf("the run must be incomplete, first because of the resolver: %v", res.Summary.Incomplete)
	}
}

func TestRunKeyedZone(t *testing.T) {
	w := newWorld(t)
	w.srv.List("sekrit.keyed.bl.test", "192.0.2.60", []string{"127.0.0.2"})
	res := w.run(t, map[string]string{"BLCHECK_TEST_KEY": "sekrit"}, []string{"keyed"}, "192.0.2.60")
	c := find(res, "192.0.2.60", "keyed")
	if c.Status != dnsbl.Listed {
		t.Fatalf("keyed listing: %+v", c)
	}
	if strings.Contains(c.Query+c.Zone+errText(c)+c.Reason, "sekrit") || c.Query != "60.2.0.192.{key}.keyed.bl.test" {
		t.Errorf("the key must never appear in a result: %+v", c)
	}
}

func TestRunStreamsAndCIDR(t *testing.T) {
	w := newWorld(t)
	w.srv.List("v4.bl.test", "198.51.100.7", []string{"127.0.0.2"})
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"v4bl"}})
	tg, _ := dnsbl.ParseTarget("198.51.100.0/28")
	res := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: time.Second, Concurrency: 4})
	var mu sync.Mutex
	var streamed []string
	targetsDone := 0
	out := runOnce(context.Background(), config{Lists: lists, Resolver: res}, []dnsbl.Target{tg},
		dnsbl.Observer{
			Check: func(_ *dnsbl.TargetResult, c dnsbl.Check) {
				mu.Lock()
				streamed = append(streamed, c.Subject+" "+string(c.Status))
				mu.Unlock()
			},
			Target: func(*dnsbl.TargetResult) { targetsDone++ },
		})
	if len(streamed) != 16 || !slices.Contains(streamed, "198.51.100.7 listed") || targetsDone != 1 {
		t.Errorf("streamed %d checks (%v), %d targets", len(streamed), streamed, targetsDone)
	}
	if len(out.Targets) != 0 {
		t.Error("without Retain nothing is kept")
	}
	if out.Summary.Counts[dnsbl.Listed] != 1 || out.Summary.Checks != 16 {
		t.Errorf("summary %+v", out.Summary)
	}
}

func TestRunCanceled(t *testing.T) {
	w := newWorld(t)
	// the lists never answer, and their queries would time out after a
	// minute: a run that waited for either would outlast the bound below,
	// which only ends a failing test (no time is measured)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "bl.test", Kind: dnsbltest.Drop})
	lists, _, _ := w.cat.Select(catalog.Selection{})
	tg, _ := dnsbl.ParseTarget("192.0.2.70")
	res := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel) // as Ctrl-C does
	done := make(chan *dnsbl.Result, 1)
	go func() {
		done <- runOnce(ctx, config{Lists: lists, Resolver: res, Retain: true}, []dnsbl.Target{tg}, dnsbl.Observer{})
	}()
	select {
	case out := <-done:
		if out.Summary.Counts[dnsbl.Clean] != 0 || !slices.Contains(out.Summary.Incomplete, "the run was interrupted") {
			t.Errorf("an interrupted run is incomplete and nothing is clean: %+v", out.Summary)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the canceled run waited for its queries' answers or their one-minute timeout")
	}
}

func TestRunSPF(t *testing.T) {
	w := newWorld(t)
	w.srv.TXT("example.test", "v=spf1 ip4:198.51.100.0/30 ip4:203.0.113.0/16 include:_spf.partner.test a:mx.example.test redirect=ignored.test -all")
	w.srv.TXT("example.test", "google-site-verification=abc")
	w.srv.A("mx.example.test", "192.0.2.11")
	w.srv.TXT("_spf.partner.test", "v=spf1 ip4:198.51.100.77 ip6:2001:db8::/126 include:example.test ~all") // a loop back
	w.srv.List("ip.bl.test", "198.51.100.77", []string{"127.0.0.2"})
	w.srv.TXT("many.test", "v=spf1 "+strings.Repeat("include:x.test ", 11)+"-all")
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"ipbl"}})
	res := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: 200 * time.Millisecond})
	var targets []dnsbl.Target
	for _, in := range []string{"example.test", "many.test"} {
		tg, _ := dnsbl.ParseTarget(in)
		targets = append(targets, tg)
	}
	out := runOnce(context.Background(), config{Lists: lists, Resolver: res, Retain: true, SPF: true}, targets, dnsbl.Observer{})
	via := map[string]string{}
	skip := map[string]error{}
	for _, s := range out.Targets[0].Subjects {
		via[s.Name] = strings.Join(s.Via, ",")
		skip[s.Name] = s.Skip
	}
	for subject, want := range map[string]string{
		"198.51.100.2":  "SPF ip4:198.51.100.0/30",
		"198.51.100.77": "SPF include:_spf.partner.test > ip4:198.51.100.77",
		"2001:db8::3":   "SPF include:_spf.partner.test > ip6:2001:db8::/126",
		"192.0.2.11":    "SPF a:mx.example.test",
	} {
		if via[subject] != want {
			t.Errorf("%s via %q, want %q", subject, via[subject], want)
		}
	}
	if err := skip["203.0.0.0/16"]; !errors.Is(err, dnsbl.ErrSkipRange) || !strings.Contains(err.Error(), "larger than /24") {
		t.Errorf("a large range must be reported as skipped: %v", skip)
	}
	if c := find(out, "198.51.100.77", "ipbl"); c.Status != dnsbl.Listed {
		t.Errorf("an SPF-authorised address listed: %+v", c)
	}
	notes := strings.Join(out.Targets[0].Notes, "\n")
	if !strings.Contains(notes, "SPF loop at example.test") {
		t.Errorf("notes: %s", notes)
	}
	if n := strings.Join(out.Targets[1].Notes, "\n"); !strings.Contains(n, "over SPF's limit of 10 DNS lookups") {
		t.Errorf("lookup limit: %s", n)
	}
}

// TestRunSPFLookupFailures: an SPF lookup that fails leaves senders unchecked,
// so it is a problem that makes the target incomplete, never silence.
func TestRunSPFLookupFailures(t *testing.T) {
	w := newWorld(t)
	w.srv.TXT("example.test", "v=spf1 a:down.test mx:refused.test include:gone.test ip4:198.51.100.1 -all")
	w.srv.AddFault(dnsbltest.Fault{Suffix: "down.test", Kind: dnsbltest.Drop})
	w.srv.AddFault(dnsbltest.Fault{Suffix: "refused.test", Kind: dnsbltest.Refused})
	w.srv.AddFault(dnsbltest.Fault{Suffix: "gone.test", Kind: dnsbltest.ServFail})
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"ipbl"}})
	res := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: 200 * time.Millisecond})
	defer res.Close()
	tg, _ := dnsbl.ParseTarget("example.test")
	out := runOnce(context.Background(), config{Lists: lists, Resolver: res, Retain: true, SPF: true},
		[]dnsbl.Target{tg}, dnsbl.Observer{})
	problems := strings.Join(out.Targets[0].Problems, "\n")
	for _, want := range []string{
		"SPF a:down.test: A lookup for down.test failed: no answer (timed out)",
		"SPF a:down.test: AAAA lookup for down.test failed",
		"SPF mx:refused.test: MX lookup for refused.test failed: REFUSED",
		"SPF include:gone.test: TXT lookup for gone.test failed: SERVFAIL",
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	if len(out.Summary.Incomplete) < 4 {
		t.Errorf("failed SPF lookups must make the run incomplete: %q", out.Summary.Incomplete)
	}
	if c := find(out, "198.51.100.1", "ipbl"); c.Status != dnsbl.Clean {
		t.Errorf("what could be read is still checked: %+v", c)
	}
}

// TestRunTinyConcurrency: with fewer slots than one subject has lists, answers
// wait for their lists' health while the subject's other queries wait for a
// slot; the run must neither deadlock nor lose a check, and listings still get
// their reason.
func TestRunTinyConcurrency(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		w := newWorld(t)
		w.srv.List("ip.bl.test", "192.0.2.99", []string{"127.0.0.2"}, "why")
		w.srv.List("v4.bl.test", "192.0.2.99", []string{"127.0.0.2"}, "why too")
		lists, _, _ := w.cat.Select(catalog.Selection{})
		var targets []dnsbl.Target
		for _, in := range []string{"192.0.2.99", "192.0.2.1", "192.0.2.2", "example.test"} {
			tg, _ := dnsbl.ParseTarget(in)
			targets = append(targets, tg)
		}
		res := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: time.Second, Concurrency: n})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out := runOnce(ctx, config{Lists: lists, Resolver: res, Retain: true}, targets, dnsbl.Observer{})
		if ctx.Err() != nil {
			t.Fatalf("concurrency %d: the run did not finish", n)
		}
		cancel()
		if out.Summary.Counts[dnsbl.Listed] != 2 || out.Summary.Counts[dnsbl.Error] != 0 {
			t.Errorf("concurrency %d: %+v", n, out.Summary.Counts)
		}
		for _, c := range out.Targets[0].Checks {
			if c.Status == dnsbl.Listed && !strings.HasPrefix(c.Reason, "why") {
				t.Errorf("concurrency %d: listing without its reason: %+v", n, c)
			}
		}
	}
}

// TestRunLossyServer: a server that drops many queries makes the window shrink;
// the run still completes every check, with no error and no check lost.
func TestRunLossyServer(t *testing.T) {
	w := newWorld(t)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "v4.bl.test", Kind: dnsbltest.Drop, Times: 40})
	var targets []dnsbl.Target
	for i := range 200 {
		tg, _ := dnsbl.ParseTarget(fmt.Sprintf("192.0.2.%d", i))
		targets = append(targets, tg)
	}
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"ipbl", "v4bl"}})
	res := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: 2 * time.Second, Concurrency: 64})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := runOnce(ctx, config{Lists: lists, Resolver: res, Retain: true}, targets, dnsbl.Observer{})
	if ctx.Err() != nil {
		t.Fatal("the run did not finish")
	}
	if out.Summary.Checks != 400 || out.Summary.Counts[dnsbl.Clean] != 400 {
		t.Fatalf("want 400 clean checks, got %d: %+v", out.Summary.Checks, out.Summary.Counts)
	}
	if n := w.srv.Queries("A", "1.2.0.192.v4.bl.test"); n < 1 {
		t.Fatalf("the lossy list was not asked (%d queries)", n)
	}
}

// One resolver client kept across runs (a long-lived process) keeps answers no
// longer than their TTL: a second run within the TTL sends no query, and a
// delisting shows once the TTL has passed; a list that dies after the first
// run is seen as failing once its test points' TTL has passed.
func TestRunReusedClientHonoursTTL(t *testing.T) {
	srv := dnsbltest.New(t)
	srv.SetTTL(time.Second, time.Second)
	cat, err := catalog.Parse([]byte(testCatalog), "test")
	if err != nil {
		t.Fatal(err)
	}
	srv.Zone("ip.bl.test", "127.0.0.2")
	srv.Zone("v4.bl.test", "127.0.0.2")
	srv.List("ip.bl.test", "192.0.2.70", []string{"127.0.0.4"})
	lists, _, _ := cat.Select(catalog.Selection{Only: []string{"ipbl", "v4bl"}})
	target, _ := dnsbl.ParseTarget("192.0.2.70")
	client, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	rec := &recorder{Resolver: client}
	run := func() *dnsbl.Result {
		return runOnce(context.Background(), config{Lists: lists, Resolver: rec, Retain: true, TXT: dnsbl.TXTListed},
			[]dnsbl.Target{target}, dnsbl.Observer{})
	}
	if c := find(run(), "192.0.2.70", "ipbl"); c.Status != dnsbl.Listed {
		t.Fatalf("first run: %+v", c)
	}
	// the answer is the first run's, kept with the time it came: the server's
	// count of packets could not say it (a copy of the first run's query, sent
	// again after its RTO on a busy machine, can reach the server after that
	// run's answer was read), nor the client's count of queries sent (the
	// second run probes the lists' health again, past the cache)
	const q = "70.2.0.192.ip.bl.test"
	first := rec.answer("A", q)
	if c := find(run(), "192.0.2.70", "ipbl"); c.Status != dnsbl.Listed || first == nil || rec.answer("A", q) == nil || !rec.answer("A", q).At.Equal(first.At) {
		t.Errorf("within the TTL the answer comes from the cache: %+v, answers %+v then %+v", c, first, rec.answer("A", q))
	}
	srv.Unlist("ip.bl.test", "192.0.2.70")
	srv.Unlist("v4.bl.test", "127.0.0.2") // the list dies: its test point is gone
	time.Sleep(1100 * time.Millisecond)   // past every TTL of the world
	res := run()
	if c := find(res, "192.0.2.70", "ipbl"); c.Status != dnsbl.Clean {
		t.Errorf("after the TTL the delisting shows: %+v", c)
	}
	for _, l := range res.Lists {
		if l.List.ID == "v4bl" && l.Health.State != dnsbl.HealthMissing {
			t.Errorf("a list that died is seen within its TTL: %s", l.Health.State)
		}
	}
}

// A failed check carries an error that errors.Is tells apart, and the run an
// Outcome: a program need not read English.
func TestRunTypedErrorsAndOutcome(t *testing.T) {
	w := newWorld(t)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "1.2.0.192.ip.bl.test", Kind: dnsbltest.ServFail})
	w.srv.AddFault(dnsbltest.Fault{Suffix: "2.2.0.192.ip.bl.test", Kind: dnsbltest.Refused})
	w.srv.AddFault(dnsbltest.Fault{Suffix: "3.2.0.192.ip.bl.test", Kind: dnsbltest.Drop})
	w.timeout = slowTry
	w.srv.List("ip.bl.test", "192.0.2.4", []string{"198.51.100.1"})
	w.srv.List("ip.bl.test", "192.0.2.5", []string{"127.255.255.254"})
	w.srv.List("ip.bl.test", "192.0.2.6", []string{"127.0.0.4"})
	res := w.run(t, nil, []string{"ipbl"}, "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6", "192.0.2.7")
	for subject, want := range map[string]error{"192.0.2.1": dnsbl.ErrServFail, "192.0.2.2": dnsbl.ErrRefused,
		"192.0.2.3": dnsbl.ErrTimeout, "192.0.2.4": dnsbl.ErrBadAnswer, "192.0.2.5": dnsbl.ErrRefusedByList} {
		c := find(res, subject, "ipbl")
		if !errors.Is(c.Err, want) || c.Err.Error() != errText(c) || c.Err.Error() == "" {
			t.Errorf("%s: Err %v (%s), want one that is %v", subject, c.Err, c.Status, want)
		}
	}
	// the resolver's own error is kept: the server asked and how many tries
	for _, subject := range []string{"192.0.2.1", "192.0.2.3"} {
		var re *resolver.Error
		var ce *dnsbl.CheckError
		if c := find(res, subject, "ipbl"); !errors.As(c.Err, &re) || re.Server != w.srv.Addr || re.Tries < 1 ||
			!errors.As(c.Err, &ce) || ce.Cause != error(re) {
			t.Errorf("%s: Err %#v, want the *resolver.Error with its server and tries", subject, c.Err)
		}
	}
	for _, subject := range []string{"192.0.2.6", "192.0.2.7"} {
		if c := find(res, subject, "ipbl"); c.Err != nil {
			t.Errorf("%s (%s) has an error: %v", subject, c.Status, c.Err)
		}
	}
	if got := res.Outcome(false); got != dnsbl.OutcomeListed {
		t.Errorf("outcome %v, want listed", got)
	}
	w.timeout = answeredTry // nothing dropped from here on
	clean := w.run(t, nil, []string{"ipbl"}, "192.0.2.7")
	if clean.Outcome(false) != dnsbl.OutcomeClean || clean.Outcome(true) != dnsbl.OutcomeClean {
		t.Errorf("clean run: %v", clean.Outcome(false))
	}
	failed := w.run(t, nil, []string{"ipbl"}, "192.0.2.1")
	if failed.Outcome(false) != dnsbl.OutcomeIncomplete {
		t.Errorf("every list failed: %v, want incomplete", failed.Outcome(false))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"ipbl"}})
	rs := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}})
	defer rs.Close()
	tg, _ := dnsbl.ParseTarget("192.0.2.7")
	if got := runOnce(ctx, config{Lists: lists, Resolver: rs}, []dnsbl.Target{tg}, dnsbl.Observer{}).Outcome(false); got != dnsbl.OutcomeInterrupted {
		t.Errorf("canceled run: %v", got)
	}
}

// Skip reasons are typed: a program tells a private address from a list of
// the other family or one that needs a key without reading the words.
func TestSkipReasonsTyped(t *testing.T) {
	w := newWorld(t)
	w.srv.A("private.test", "10.1.2.3")
	res := w.run(t, nil, []string{"ipbl", "v4bl", "keyed"}, "private.test", "2001:db8::25", "192.0.2.10")
	for _, tc := range []struct {
		subject, list string
		want          error
	}{
		{"10.1.2.3", "ipbl", dnsbl.ErrSkipPrivate},
		{"2001:db8::25", "v4bl", dnsbl.ErrSkipFamily},
		{"192.0.2.10", "keyed", dnsbl.ErrSkipKey},
	} {
		c := find(res, tc.subject, tc.list)
		if c.Status != dnsbl.Skipped || !errors.Is(c.Err, tc.want) {
			t.Errorf("%s on %s: %s %v, want skipped, %v", tc.subject, tc.list, c.Status, c.Err, tc.want)
		}
	}
	for _, s := range res.Targets[0].Subjects {
		if s.Name == "10.1.2.3" && !errors.Is(s.Skip, dnsbl.ErrSkipPrivate) {
			t.Errorf("subject %s: Skip %v", s.Name, s.Skip)
		}
	}
}

// txtContexts is a resolver that keeps the contexts its TXT queries were
// started with.
type txtContexts struct {
	resolver.Resolver
	mu   sync.Mutex
	ctxs []context.Context
}

func (r *txtContexts) StartAll(ctx context.Context, names []string, t resolver.Type) []*resolver.Pending {
	if t == resolver.TypeTXT {
		r.mu.Lock()
		r.ctxs = append(r.ctxs, ctx)
		r.mu.Unlock()
	}
	return r.Resolver.StartAll(ctx, names, t)
}

// No work outlives Run: an eager TXT query whose answer is not needed (the
// subject is clean) and never comes is canceled when the run ends, not left to
// its timeout; Run does not wait for it either.
func TestRunLeavesNoQueryBehind(t *testing.T) {
	w := newWorld(t)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "ip.bl.test", Type: "TXT", Kind: dnsbltest.Drop})
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"ipbl"}})
	rs, err := resolver.New(resolver.Config{Servers: []string{w.srv.Addr}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	rec := &txtContexts{Resolver: rs}
	tg, _ := dnsbl.ParseTarget("192.0.2.99")
	done := make(chan *dnsbl.Result)
	go func() {
		done <- runOnce(context.Background(), config{Lists: lists, Resolver: rec, Retain: true}, []dnsbl.Target{tg}, dnsbl.Observer{})
	}()
	var res *dnsbl.Result
	select {
	case res = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run waited for a TXT answer it does not need")
	}
	if c := find(res, "192.0.2.99", "ipbl"); c.Status != dnsbl.Clean {
		t.Fatalf("check: %+v", c)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.ctxs) == 0 {
		t.Fatal("test setup: no eager TXT query was sent")
	}
	for _, ctx := range rec.ctxs {
		if ctx.Err() == nil {
			t.Error("an eager TXT query is still alive after Run returned")
		}
	}
}

// config is what these tests ask of a one-shot run: a Checker's options, and
// whether the run keeps its targets (Retain) or streams them.
type config struct {
	Lists        []catalog.Selected
	Resolver     resolver.Resolver
	Rate         float64
	AllowPrivate bool
	Retain       bool
	NoHealth     bool
	Shard        dnsbl.Shard
	SPF          bool
	PTR          bool
	TXT          dnsbl.TXTPolicy
}

// runOnce is a one-shot run, as the CLI makes one: a Checker for one call.
func runOnce(ctx context.Context, cfg config, targets []dnsbl.Target, obs dnsbl.Observer) *dnsbl.Result {
	ck, err := dnsbl.New(dnsbl.Options{Lists: cfg.Lists, Resolver: cfg.Resolver,
		Rate: cfg.Rate, AllowPrivate: cfg.AllowPrivate, NoHealth: cfg.NoHealth, SPF: cfg.SPF, PTR: cfg.PTR, TXT: cfg.TXT})
	if err != nil {
		panic(err)
	}
	defer ck.Close()
	ranges := slices.ContainsFunc(targets, func(t dnsbl.Target) bool { return t.Kind == dnsbl.KindCIDR })
	res, _ := ck.Run(ctx, slices.Values(targets), dnsbl.RunOptions{Observer: obs, Shard: cfg.Shard,
		Eager: dnsbl.EagerRun(cfg.TXT, len(targets), ranges), Stream: !cfg.Retain})
	return res
}

// newClient is a resolver client closed when the test ends.
func newClient(tb testing.TB, cfg resolver.Config) *resolver.Client {
	tb.Helper()
	c, err := resolver.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// errText is a check's failure or skip reason, as people read it.
func errText(c dnsbl.Check) string {
	if c.Err == nil {
		return ""
	}
	return c.Err.Error()
}

// A run whose context ends while its first subject is being planned (a
// --deadline of a millisecond) is never more than it checked, and the
// resolver's health check does not read the plan of made-up names while the
// first subject writes it (go test -race found that).
func TestRunEndsWhilePlanning(t *testing.T) {
	w := newWorld(t)
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"ipbl", "v4bl"}})
	rs := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}})
	defer rs.Close()
	var targets []dnsbl.Target
	for i := range 4 {
		tg, _ := dnsbl.ParseTarget(fmt.Sprintf("192.0.2.%d", 20+i))
		targets = append(targets, tg)
	}
	for i := range 60 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%12)*25*time.Microsecond)
		res := runOnce(ctx, config{Lists: lists, Resolver: rs}, targets, dnsbl.Observer{})
		cancel()
		switch got := res.Outcome(false); got {
		case dnsbl.OutcomeInterrupted, dnsbl.OutcomeIncomplete: // cut short, or its health checks were
		case dnsbl.OutcomeClean: // finished in time: every check and health check answered
			if res.Summary.Interrupted {
				t.Fatalf("run %d: clean, yet interrupted", i)
			}
		default:
			t.Fatalf("run %d: outcome %v, want interrupted, incomplete or clean", i, got)
		}
	}
}

// A list that answers nothing, neither its test points nor the first of its
// queries, is not asked the rest of a range: each query would only wait out
// its timeout for the same error (a /24 through a dead resolver took 78 s).
// What was not sent is an error, never clean; the lists that answer are
// asked everything.
func TestRunStopsAskingSilentList(t *testing.T) {
	w := newWorld(t)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "v4.bl.test", Kind: dnsbltest.Drop})
	lists, _, _ := w.cat.Select(catalog.Selection{Only: []string{"ipbl", "v4bl"}})
	rs := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: slowTry, Retries: 1, Concurrency: 16})
	tg, _ := dnsbl.ParseTarget("192.0.2.0/25")
	res := runOnce(context.Background(), config{Lists: lists, Resolver: rs, Retain: true}, []dnsbl.Target{tg}, dnsbl.Observer{})
	notSent := 0
	for i := range 128 {
		addr := fmt.Sprintf("192.0.2.%d", i)
		if c := find(res, addr, "ipbl"); c.Status != dnsbl.Clean {
			t.Errorf("%s on the list that answers: %s %s", addr, c.Status, errText(c))
		}
		c := find(res, addr, "v4bl")
		if c.Status != dnsbl.Error || !errors.Is(c.Err, dnsbl.ErrTimeout) {
			t.Fatalf("%s on the silent list: %s %s, want an error", addr, c.Status, errText(c))
		}
		if strings.Contains(errText(c), "not sent") {
			notSent++
		}
	}
	t.Logf("%d of 128 not sent; %d queries in all", notSent, w.srv.TotalQueries())
	if notSent == 0 {
		t.Error("every address was asked of a list that had answered nothing")
	}
	if got := res.Outcome(true); got != dnsbl.OutcomeIncomplete {
		t.Errorf("outcome %s by the rule that every list must answer, want incomplete", got)
	}
}

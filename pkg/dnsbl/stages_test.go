package dnsbl

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// mapDNS answers the expand stage from a map, "name TYPE" → answer: a name
// missing from it has no records of the type (NOERROR, empty); one in fail
// fails with a timeout. No server is involved.
type mapDNS struct {
	answers map[string]*resolver.Answer
	fail    map[string]bool
}

func (m mapDNS) lookup(_ context.Context, name string, t resolver.Type) (*resolver.Answer, error) {
	key := name + " " + t.String()
	if m.fail[key] {
		return nil, &resolver.Error{Kind: resolver.Timeout, Name: name, Tries: 2}
	}
	if a, ok := m.answers[key]; ok {
		return a, nil
	}
	return &resolver.Answer{Name: name}, nil
}

func addrs(ss ...string) *resolver.Answer { return answer(ss...) }

// subjectLine is a subject as the tests compare it: name, vias, and skipped or not.
func subjectLine(s Subject) string {
	line := s.Name + " <" + strings.Join(s.Via, ", ") + ">"
	if s.Skip != nil {
		line += " skipped"
	}
	return line
}

func mxAnswer(hosts ...string) *resolver.Answer {
	a := &resolver.Answer{}
	for i, h := range hosts {
		a.MX = append(a.MX, resolver.MX{Host: h, Pref: uint16(10 * (i + 1))})
	}
	return a
}

// expandWorld is the DNS TestExpand's targets have, by "name TYPE".
func expandWorld() map[string]*resolver.Answer {
	return map[string]*resolver.Answer{
		"example.com A":         addrs("192.0.2.1"),
		"example.com AAAA":      addrs("2001:db8::1"),
		"example.com MX":        mxAnswer("mx1.example.com", "mx2.example.net"),
		"mx1.example.com A":     addrs("192.0.2.1", "192.0.2.2"),
		"mx2.example.net A":     addrs("198.51.100.7"),
		"example.com NS":        {NS: []string{"ns1.example.org"}},
		"ns1.example.org A":     addrs("203.0.113.53"),
		"example.com TXT":       {TXT: []string{"v=spf1 ip4:203.0.113.8/31 include:_spf.example.org -all"}},
		"_spf.example.org TXT":  {TXT: []string{"v=spf1 ip4:198.51.100.9 -all"}},
		"private.example.com A": addrs("10.1.2.3"),
		"gone.example.com A":    {NXDomain: true},
		"gone.example.com AAAA": {NXDomain: true},
		"gone.example.com MX":   {NXDomain: true},
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		o        expandOptions
		fail     []string
		extra    map[string]*resolver.Answer
		subjects []string
		problem  string // in one of the problems ("" none)
		note     string // in one of the notes ("" any)
	}{
		{name: "host and MX addresses, each once with every via", target: "example.com",
			subjects: []string{"example.com <input>", "192.0.2.1 <A, MX mx1.example.com>", "2001:db8::1 <AAAA>",
				"192.0.2.2 <MX mx1.example.com>", "198.51.100.7 <MX mx2.example.net>"}},
		{name: "name servers when asked", target: "example.com", o: expandOptions{NS: true},
			subjects: []string{"example.com <input>", "192.0.2.1 <A, MX mx1.example.com>", "2001:db8::1 <AAAA>",
				"192.0.2.2 <MX mx1.example.com>", "198.51.100.7 <MX mx2.example.net>", "203.0.113.53 <NS ns1.example.org>"}},
		{name: "SPF senders when asked, includes followed", target: "example.com", o: expandOptions{SPF: true},
			subjects: []string{"example.com <input>", "192.0.2.1 <A, MX mx1.example.com>", "2001:db8::1 <AAAA>",
				"192.0.2.2 <MX mx1.example.com>", "198.51.100.7 <MX mx2.example.net>",
				"203.0.113.8 <SPF ip4:203.0.113.8/31>", "203.0.113.9 <SPF ip4:203.0.113.8/31>",
				"198.51.100.9 <SPF include:_spf.example.org > ip4:198.51.100.9>"}},
		{name: "a failed MX host lookup is a problem, not a dead MX", target: "example.com",
			fail:     []string{"mx2.example.net A", "mx2.example.net AAAA"},
			subjects: []string{"example.com <input>", "192.0.2.1 <A, MX mx1.example.com>", "2001:db8::1 <AAAA>", "192.0.2.2 <MX mx1.example.com>"},
			problem:  "A lookup for mx2.example.net failed"},
		{name: "an MX host without addresses is noted", target: "example.com",
			extra:    map[string]*resolver.Answer{"mx2.example.net A": {NXDomain: true}},
			subjects: []string{"example.com <input>", "192.0.2.1 <A, MX mx1.example.com>", "2001:db8::1 <AAAA>", "192.0.2.2 <MX mx1.example.com>"},
			note:     "MX host mx2.example.net does not exist"},
		{name: "a private address from DNS is skipped", target: "private.example.com",
			subjects: []string{"example.com <input private.example.com>", "10.1.2.3 <A> skipped"}},
		{name: "unless private addresses are allowed", target: "private.example.com", o: expandOptions{AllowPrivate: true},
			subjects: []string{"example.com <input private.example.com>", "10.1.2.3 <A>"}},
		{name: "the host name too, for lists of host names", target: "private.example.com", o: expandOptions{Hostnames: true},
			subjects: []string{"example.com <input private.example.com>", "private.example.com <host name>", "10.1.2.3 <A> skipped"}},
		{name: "a host that does not exist", target: "gone.example.com",
			subjects: []string{"example.com <input gone.example.com>"}, note: "gone.example.com does not exist in DNS"},
		{name: "a null MX", target: "example.com", extra: map[string]*resolver.Answer{"example.com MX": mxAnswer("")},
			subjects: []string{"example.com <input>", "192.0.2.1 <A>", "2001:db8::1 <AAAA>"}, note: "null MX"},
		{name: "a test point asks nothing", target: "dbltest.com", subjects: []string{"dbltest.com <input>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mapDNS{answers: expandWorld(), fail: map[string]bool{}}
			for k, v := range tt.extra {
				m.answers[k] = v
			}
			for _, k := range tt.fail {
				m.fail[k] = true
			}
			var asked atomic.Int64 // expand looks up in parallel
			lookup := func(ctx context.Context, name string, qt resolver.Type) (*resolver.Answer, error) {
				asked.Add(1)
				return m.lookup(ctx, name, qt)
			}
			target, err := ParseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			subjects, problems, notes := expand(context.Background(), target, lookup, tt.o)
			var got []string
			for _, s := range subjects {
				got = append(got, subjectLine(s))
			}
			if !slices.Equal(got, tt.subjects) {
				t.Errorf("subjects:\n got %q\nwant %q", got, tt.subjects)
			}
			if tt.problem == "" && len(problems) > 0 || tt.problem != "" && !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.problem) }) {
				t.Errorf("problems %q, want one with %q", problems, tt.problem)
			}
			if tt.note != "" && !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, tt.note) }) {
				t.Errorf("notes %q, want one with %q", notes, tt.note)
			}
			if n := asked.Load(); target.IsTestName() && n > 0 {
				t.Errorf("a test point made %d lookups", n)
			}
		})
	}
}

func TestExpandSPF(t *testing.T) {
	tests := []struct {
		name    string
		records map[string]string // domain → its TXT
		addrs   []string
		skipped []string
		problem bool
	}{
		{name: "ranges up to a /24 expanded", records: map[string]string{"example.com": "v=spf1 ip4:192.0.2.4/31 ip6:2001:db8::1 -all"},
			addrs: []string{"192.0.2.4", "192.0.2.5", "2001:db8::1"}},
		{name: "a larger range skipped", records: map[string]string{"example.com": "v=spf1 ip4:198.51.0.0/16 -all"},
			skipped: []string{"198.51.0.0/16"}},
		{name: "a loop followed once", records: map[string]string{"example.com": "v=spf1 include:example.net -all",
			"example.net": "v=spf1 include:example.com ip4:203.0.113.1 -all"}, addrs: []string{"203.0.113.1"}},
		{name: "no SPF record", records: map[string]string{"example.com": "google-site-verification=x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mapDNS{answers: map[string]*resolver.Answer{}}
			for d, txt := range tt.records {
				m.answers[d+" TXT"] = &resolver.Answer{TXT: []string{txt}}
			}
			found, skipped, _, problems := expandSPF(context.Background(), m.lookup, "example.com")
			var got, gotSkipped []string
			for _, a := range found {
				got = append(got, a.addr.String())
			}
			for _, s := range skipped {
				gotSkipped = append(gotSkipped, s.Name)
			}
			if !slices.Equal(got, tt.addrs) || !slices.Equal(gotSkipped, tt.skipped) || (len(problems) > 0) != tt.problem {
				t.Errorf("got %q, skipped %q, problems %q; want %q, %q", got, gotSkipped, problems, tt.addrs, tt.skipped)
			}
		})
	}
}

// planLists are made-up lists: their fields are all plan reads.
func planLists() []*listState {
	lists := []catalog.Selected{
		{List: &catalog.List{ID: "v4", Name: "V4", Zone: "v4.example.net", Kind: catalog.KindIP, Families: []string{catalog.FamilyIPv4}}},
		{List: &catalog.List{ID: "both", Name: "Both", Zone: "both.example.net", Kind: catalog.KindIP, Families: []string{catalog.FamilyIPv4, catalog.FamilyIPv6}}},
		{List: &catalog.List{ID: "dom", Name: "Dom", Zone: "dom.example.net", Kind: catalog.KindDomain}},
		{List: &catalog.List{ID: "hosts", Name: "Hosts", Zone: "hosts.example.net", Kind: catalog.KindDomain, Hostnames: true, IPSubjects: true}},
		{List: &catalog.List{ID: "keyed", Name: "Keyed", Zone: "{key}.keyed.example.net", Kind: catalog.KindIP,
			Families: []string{catalog.FamilyIPv4}, Key: &catalog.Key{Env: "KEYED_KEY"}}},
		{List: &catalog.List{ID: "set", Name: "Set", Zone: "{key}.set.example.net", Kind: catalog.KindIP,
			Families: []string{catalog.FamilyIPv4}, Key: &catalog.Key{Env: "SET_KEY"}}, KeyValue: "s3cr3t"},
	}
	var ls []*listState
	for i := range lists {
		ls = append(ls, &listState{Selected: &lists[i], pos: i, zone: lists[i].SecretZone()})
	}
	return ls
}

func TestPlan(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::1")
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 50) + ".example"
	tests := []struct {
		name    string
		subject Subject
		link    bool
		jobs    []string // list id: name asked (shown name, where it differs)
		done    []string // list id: status (error kind)
	}{
		{name: "an IPv4 address: the IP lists, reversed once for all",
			subject: Subject{Name: "192.0.2.7", Type: SubjectIP, Addr: v4},
			jobs:    []string{"v4: 7.2.0.192.v4.example.net", "both: 7.2.0.192.both.example.net", "set: 7.2.0.192.s3cr3t.set.example.net (7.2.0.192.{key}.set.example.net)"},
			done:    []string{"keyed: skipped (not asked: the list needs an account key)"}},
		{name: "an IPv6 address: an IPv4-only list is skipped",
			subject: Subject{Name: "2001:db8::1", Type: SubjectIP, Addr: v6},
			jobs:    []string{"both: 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.both.example.net"},
			done:    []string{"v4: skipped (not asked: the list has no data for the address family)", "keyed: skipped (not asked: the list has no data for the address family)", "set: skipped (not asked: the list has no data for the address family)"}},
		{name: "a link's address: the domain lists that list addresses too",
			subject: Subject{Name: "192.0.2.7", Type: SubjectIP, Addr: v4}, link: true,
			jobs: []string{"v4: 7.2.0.192.v4.example.net", "both: 7.2.0.192.both.example.net", "hosts: 7.2.0.192.hosts.example.net",
				"set: 7.2.0.192.s3cr3t.set.example.net (7.2.0.192.{key}.set.example.net)"},
			done: []string{"keyed: skipped (not asked: the list needs an account key)"}},
		{name: "a domain: the domain lists",
			subject: Subject{Name: "example.com", Type: SubjectDomain},
			jobs:    []string{"dom: example.com.dom.example.net", "hosts: example.com.hosts.example.net"}},
		{name: "a host name: the lists of host names only",
			subject: Subject{Name: "www.example.com", Type: SubjectDomain, Host: true},
			jobs:    []string{"hosts: www.example.com.hosts.example.net"}},
		{name: "a private address: skipped everywhere it applies",
			subject: Subject{Name: "10.0.0.1", Type: SubjectIP, Addr: netip.MustParseAddr("10.0.0.1"), Skip: checkErr(ErrSkipPrivate, "private")},
			done: []string{"v4: skipped (not asked: private address)", "both: skipped (not asked: private address)",
				"keyed: skipped (not asked: private address)", "set: skipped (not asked: private address)"}},
		{name: "a name too long to ask is an error, not a skip",
			subject: Subject{Name: long, Type: SubjectDomain},
			done:    []string{"dom: error (not asked)", "hosts: error (not asked)"}},
	}
	kinds := map[error]string{ErrSkipFamily: "the list has no data for the address family", ErrSkipKey: "the list needs an account key",
		ErrSkipPrivate: "private address", ErrNotAsked: ""}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, done := plan(tt.subject, 3, tt.link, planLists())
			var gotJobs, gotDone []string
			for _, j := range jobs {
				line := j.l.ID + ": " + j.name
				if j.shown != j.name {
					line += " (" + j.shown + ")"
				}
				gotJobs = append(gotJobs, line)
			}
			for _, c := range done {
				line := c.List.ID + ": " + string(c.Status)
				for kind, what := range kinds {
					if errors.Is(c.Err, kind) {
						line += " (not asked"
						if what != "" {
							line += ": " + what
						}
						line += ")"
					}
				}
				if c.subject != 3 || c.Subject != tt.subject.Name {
					t.Errorf("%s: check of subject %d %q", c.List.ID, c.subject, c.Subject)
				}
				gotDone = append(gotDone, line)
			}
			if !slices.Equal(gotJobs, tt.jobs) {
				t.Errorf("jobs:\n got %q\nwant %q", gotJobs, tt.jobs)
			}
			if !slices.Equal(gotDone, tt.done) {
				t.Errorf("done:\n got %q\nwant %q", gotDone, tt.done)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	cat := catalog.Default()
	zen := &catalog.Selected{List: cat.ByID("spamhaus-zen")}
	listed := Verdict{Status: Listed, Codes: []netip.Addr{netip.MustParseAddr("127.0.0.2")}}
	clean := Verdict{Status: Clean}
	pbl := Verdict{Status: Listed, Codes: []netip.Addr{netip.MustParseAddr("127.0.0.10")}}
	ok, bad := Health{State: HealthOK}, Health{State: HealthListsEverything, Detail: "it lists 127.0.0.1"}
	tests := []struct {
		name   string
		in     judgement
		status Status
		reason bool // the reason kept
		err    error
	}{
		{"a listing of a healthy list", judgement{Verdict: listed, Health: ok}, Listed, true, nil},
		{"a clean answer keeps no reason", judgement{Verdict: clean, Health: ok}, Clean, false, nil},
		{"a listing of a list that lists everything", judgement{Verdict: listed, Health: bad}, Unreliable, true, ErrUnreliable},
		{"a clean answer of a list that lists everything", judgement{Verdict: clean, Health: bad}, Unreliable, true, ErrUnreliable},
		{"a list that refuses the resolver", judgement{Verdict: listed, Health: Health{State: HealthBlocked, Detail: "refused"}}, Blocked, false, ErrRefusedByList},
		{"a listing proven after the answer stands whatever the run's health", judgement{Verdict: listed, Health: bad, Proven: true}, Listed, true, nil},
		{"through a resolver that invents answers", judgement{Verdict: clean, Health: ok, Resolver: ResolverHealth{RewritesNXDOMAIN: true}}, Unreliable, true, ErrUnreliable},
		{"a failed query stays failed", judgement{Verdict: Verdict{Status: Error, Err: checkErr(ErrTimeout, "timed out")}, Health: ok}, Error, false, ErrTimeout},
		{"a link host's listing by a code that counts", judgement{Verdict: listed, Health: ok, Role: catalog.RoleLinkHost, SubjectType: SubjectIP}, Listed, true, nil},
		{"a name server's PBL listing is noted", judgement{Verdict: pbl, Health: ok, Role: catalog.RoleNameServer, SubjectType: SubjectIP}, Noted, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Check = Check{Subject: "192.0.2.7", List: zen.List, Reason: "see https://example.org/", DelistURL: "https://example.org/delist"}
			c := judge(zen, tt.in)
			if c.Status != tt.status || (c.Reason != "") != tt.reason || tt.err != nil && !errors.Is(c.Err, tt.err) || tt.err == nil && c.Err != nil {
				t.Errorf("got %s (reason %q, err %v); want %s (reason %v, err %v)", c.Status, c.Reason, c.Err, tt.status, tt.reason, tt.err)
			}
			if c.Status != Listed && c.Status != Noted && c.DelistURL != "" {
				t.Errorf("%s with a delisting address %q", c.Status, c.DelistURL)
			}
			if c.Status == Noted && c.NotCounted == "" {
				t.Error("noted without saying why")
			}
		})
	}
}

// A list is silent (its queries not sent) only once its test points got no
// answer and silentAfter of its queries timed out with none answered; even
// then one query in scoutEvery goes, and one answer ends the silence.
func TestListSilent(t *testing.T) {
	l := &listState{done: make(chan struct{}), health: Health{State: HealthNoAnswer}}
	l.timeouts.Store(silentAfter)
	if err := l.silent(); err != nil {
		t.Fatalf("silent before its test points are in: %v", err)
	}
	close(l.done)
	if err := l.silent(); err != nil {
		t.Fatalf("the first query after the silence begins is not a scout: %v", err)
	}
	if err := l.silent(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("not silent: %v", err)
	}
	l.scoutAt.Add(-int64(scoutEvery)) // as if scoutEvery had passed
	if err := l.silent(); err != nil {
		t.Errorf("no scout after scoutEvery: %v", err)
	}
	if err := l.silent(); err == nil {
		t.Error("two scouts in a row")
	}
	l.answered.Store(1)
	if err := l.silent(); err != nil {
		t.Errorf("silent after an answer: %v", err)
	}
	l.answered.Store(0)
	for _, h := range []HealthState{HealthOK, HealthBlocked, HealthUnchecked, HealthInterrupted} {
		l.health.State = h
		if err := l.silent(); err != nil {
			t.Errorf("silent with health %s: %v", h, err)
		}
	}
	l.health.State = HealthNoAnswer
	l.timeouts.Store(silentAfter - 1)
	if err := l.silent(); err != nil {
		t.Errorf("silent after %d timeouts: %v", silentAfter-1, err)
	}
}

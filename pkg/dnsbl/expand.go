package dnsbl

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"

	"github.com/blcheck/blcheck/pkg/resolver"
)

// ViaPublicDomain is the via of a host's registered domain by the ICANN
// section of the Public Suffix List, where its registered domain is under a
// private suffix (Target.PublicDomain).
const ViaPublicDomain = "ICANN domain"

// MaxMXHosts bounds how many mail exchangers of one domain are followed.
const MaxMXHosts = 10

// MaxNSHosts bounds how many name servers of one domain are followed (Options.NS).
const MaxNSHosts = 8

// addrVia is an address found for a target, and where it came from.
type addrVia struct {
	addr netip.Addr
	via  string
}

// expansion is one domain target's lookups in progress: they run side by
// side, and write their results under mu.
type expansion struct {
	lookup LookupFunc
	ctx    context.Context
	t      Target

	wg              sync.WaitGroup
	mu              sync.Mutex
	problems, notes []string
	nx              map[string]bool // hosts whose address lookups said NXDOMAIN
	lookupFailed    map[string]bool // hosts whose address lookups failed (a problem each)
}

// LookupFunc makes one DNS query of a target's own records (A, AAAA, MX, NS,
// SPF's TXT): the expand stage's only way out, so that a test can answer from a map.
type LookupFunc func(ctx context.Context, name string, t resolver.Type) (*resolver.Answer, error)

// expandOptions are what expand needs of the Checker's options.
type expandOptions struct {
	NS, SPF, AllowPrivate bool
	Hostnames             bool // some list of the run lists host names
}

// expand turns a domain target into its subjects, as a receiver judges a sender:
// the registered domain for domain lists, and the addresses of the host and of
// its MX hosts for IP lists (and of its name servers, and its SPF senders, as o
// says). Each address says where it came from. It asks DNS through lookup only,
// and touches nothing else.
func expand(ctx context.Context, t Target, lookup LookupFunc, o expandOptions) (subjects []Subject, problems, notes []string) {
	subjects = domainSubjects(t, o.Hostnames)
	if t.IsTestName() { // a name the lists answer for; DNS has no records of it
		return subjects, nil, nil
	}
	e := &expansion{lookup: lookup, ctx: ctx, t: t, nx: map[string]bool{}, lookupFailed: map[string]bool{}}
	hostAddrs := make([][]addrVia, 2)
	e.addrs(t.Host, "", 0, hostAddrs)
	var hostNX bool
	var mx []resolver.MX
	if !t.NoMX {
		e.lookupThen(t.Host, resolver.TypeMX, func(a *resolver.Answer) { hostNX, mx = a.NXDomain, a.MX })
	}
	var ns []string
	if o.NS {
		e.lookupThen(t.Domain, resolver.TypeNS, func(a *resolver.Answer) { ns = a.NS })
	}
	e.wg.Wait()

	mxHosts := e.mxHosts(mx)
	mxAddrs := make([][]addrVia, 2*len(mxHosts))
	for i, h := range mxHosts {
		if ip, err := netip.ParseAddr(h); err == nil { // a broken MX that names an address
			mxAddrs[2*i] = []addrVia{{ip.Unmap(), "MX " + h}}
			continue
		}
		e.addrs(h, "MX "+h, i, mxAddrs)
	}
	ns = e.nsHosts(ns)
	nsAddrs := make([][]addrVia, 2*len(ns))
	for i, h := range ns {
		e.addrs(h, "NS "+h, i, nsAddrs)
	}
	e.wg.Wait()

	var found []addrVia
	for _, group := range append(append(hostAddrs, mxAddrs...), nsAddrs...) {
		found = append(found, group...)
	}
	e.deadMX(mxHosts, mxAddrs)
	var spfSkipped []Subject
	if o.SPF && !t.NoMX {
		spf, skipped, spfNotes, spfProblems := expandSPF(ctx, lookup, t.Host)
		for _, a := range spf {
			found = append(found, addrVia(a))
		}
		spfSkipped, e.notes = skipped, append(e.notes, spfNotes...)
		e.problems = append(e.problems, spfProblems...)
	}
	subjects = append(addressSubjects(subjects, found, o.AllowPrivate), spfSkipped...)
	e.hostNotes(hostNX, len(subjects))
	sort.Strings(e.problems)
	return subjects, e.problems, e.notes
}

// domainSubjects are a domain target's names: its registered domain, the
// domain under the ICANN suffix (for a hosting service's), and the full host
// name for the lists that list host names.
func domainSubjects(t Target, hostnames bool) []Subject {
	subjects := []Subject{{Name: t.Domain, Type: SubjectDomain, Via: []string{viaInput(t)}}}
	if t.PublicDomain != "" {
		// under a hosting service's suffix (site.netlify.app): its name under the
		// ICANN suffix too, which SpamAssassin asks for
		subjects = append(subjects, Subject{Name: t.PublicDomain, Type: SubjectDomain, Via: []string{ViaPublicDomain}})
	}
	if t.Host != t.Domain && hostnames {
		// hacked sites are listed by host name: asked of the lists that list them
		subjects = append(subjects, Subject{Name: t.Host, Type: SubjectDomain, Via: []string{"host name"}, Host: true})
	}
	return subjects
}

// addrs looks up host's A and AAAA records beside the other lookups, into
// out[order*2] and out[order*2+1]; via says where they came from ("" for
// the record type).
func (e *expansion) addrs(host, via string, order int, out [][]addrVia) {
	for i, qt := range []resolver.Type{resolver.TypeA, resolver.TypeAAAA} {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			a, err := e.lookup(e.ctx, host, qt)
			e.mu.Lock()
			defer e.mu.Unlock()
			if err != nil {
				e.problems = append(e.problems, fmt.Sprintf("%s lookup for %s failed: %v", qt, host, err))
				e.lookupFailed[host] = true
				return
			}
			if a.Capped > 0 {
				e.problems = append(e.problems, fmt.Sprintf("%s has more than %d %s records: %d were not read, so not checked",
					host, resolver.MaxAddrs, qt, a.Capped))
			}
			if a.NXDomain {
				e.nx[host] = true
			}
			var got []addrVia
			for _, ip := range a.Addrs {
				v := via
				if v == "" {
					v = qt.String()
				}
				got = append(got, addrVia{ip.Unmap(), v})
			}
			out[order*2+i] = got
		}()
	}
}

// lookupThen looks name up beside the address lookups and hands the answer
// to use (under mu); a failure is a problem of the target.
func (e *expansion) lookupThen(name string, qt resolver.Type, use func(*resolver.Answer)) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		a, err := e.lookup(e.ctx, name, qt)
		e.mu.Lock()
		defer e.mu.Unlock()
		if err != nil {
			e.problems = append(e.problems, fmt.Sprintf("%s lookup for %s failed: %v", qt, name, err))
			return
		}
		use(a)
	}()
}

// mxHosts are the MX hosts to follow, by preference, at most MaxMXHosts.
func (e *expansion) mxHosts(mx []resolver.MX) []string {
	sort.SliceStable(mx, func(i, j int) bool { return mx[i].Pref < mx[j].Pref })
	var hosts []string
	for _, m := range mx {
		if m.Host == "" {
			e.notes = append(e.notes, fmt.Sprintf("%s has a null MX: it says it accepts no mail", e.t.Host))
			continue
		}
		if !slices.Contains(hosts, m.Host) {
			hosts = append(hosts, m.Host)
		}
	}
	if len(hosts) > MaxMXHosts {
		e.notes = append(e.notes, fmt.Sprintf("%s has %d MX hosts; only the first %d are checked",
			e.t.Host, len(hosts), MaxMXHosts))
		hosts = hosts[:MaxMXHosts]
	}
	return hosts
}

// nsHosts are the name servers to follow, sorted, at most MaxNSHosts.
func (e *expansion) nsHosts(ns []string) []string {
	slices.Sort(ns)
	ns = slices.Compact(ns)
	if len(ns) > MaxNSHosts {
		e.notes = append(e.notes, fmt.Sprintf("%s has %d name servers; only the first %d are checked", e.t.Domain, len(ns), MaxNSHosts))
		ns = ns[:MaxNSHosts]
	}
	return ns
}

// deadMX notes each MX host without an address (its lookup did not fail).
func (e *expansion) deadMX(mxHosts []string, mxAddrs [][]addrVia) {
	for i, h := range mxHosts {
		if len(mxAddrs[2*i]) > 0 || len(mxAddrs[2*i+1]) > 0 || e.lookupFailed[h] {
			continue // it has addresses, or its lookup failed (a problem already)
		}
		why := "has no A or AAAA record"
		if e.nx[h] {
			why = "does not exist (NXDOMAIN)"
		}
		e.notes = append(e.notes, fmt.Sprintf("MX host %s %s: mail sent to %s through it cannot be delivered, "+
			"and nothing was checked for it", h, why, e.t.Host))
	}
}

// hostNotes says when the host does not exist, or has nothing but its domain to check.
func (e *expansion) hostNotes(hostNX bool, subjects int) {
	switch {
	case hostNX:
		e.notes = append(e.notes, fmt.Sprintf("%s does not exist in DNS (NXDOMAIN)", e.t.Host))
	case subjects == 1 && len(e.problems) == 0:
		what := "A, AAAA or MX records"
		if e.t.NoMX {
			what = "A or AAAA records"
		}
		e.notes = append(e.notes, fmt.Sprintf("%s has no %s: only the domain itself is checked", e.t.Host, what))
	}
}

// addressSubjects adds the addresses found to subjects, each once with every
// via it came by; one that is not public is skipped unless AllowPrivate.
func addressSubjects(subjects []Subject, found []addrVia, allowPrivate bool) []Subject {
	byAddr := map[netip.Addr]int{}
	for _, f := range found {
		if i, ok := byAddr[f.addr]; ok {
			if !slices.Contains(subjects[i].Via, f.via) {
				subjects[i].Via = append(subjects[i].Via, f.via)
			}
			continue
		}
		s := Subject{Name: f.addr.String(), Type: SubjectIP, Addr: f.addr, Via: []string{f.via}}
		if why := NotPublic(f.addr); why != "" && !allowPrivate {
			s.Skip = checkErr(ErrSkipPrivate, why+PrivateSkip)
		}
		byAddr[f.addr] = len(subjects)
		subjects = append(subjects, s)
	}
	return subjects
}

// PrivateSkip ends the Skip reason of an address that DNS handed back in a
// private, loopback, link-local or CGNAT range (Config.AllowPrivate sends it).
const PrivateSkip = " from DNS: not sent to public lists"

func viaInput(t Target) string {
	if t.Host != t.Domain {
		return "input " + t.Host
	}
	return "input"
}

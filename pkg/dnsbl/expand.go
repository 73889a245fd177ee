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

// expand turns a domain target into its subjects, as a receiver judges a sender:
// the registered domain for domain lists, and the addresses of the host and of
// its MX hosts for IP lists. Each address says where it came from.
func (r *runner) expand(ctx context.Context, t Target) (subjects []Subject, problems, notes []string) {
	subjects = append(subjects, Subject{Name: t.Domain, Type: SubjectDomain, Via: []string{viaInput(t)}})
	if t.PublicDomain != "" {
		// under a hosting service's suffix (site.netlify.app): its name under the
		// ICANN suffix too, which SpamAssassin asks for
		subjects = append(subjects, Subject{Name: t.PublicDomain, Type: SubjectDomain, Via: []string{ViaPublicDomain}})
	}
	if t.Host != t.Domain && slices.ContainsFunc(r.lists, func(l *listState) bool { return l.Hostnames }) {
		// hacked sites are listed by host name: asked of the lists that list them
		subjects = append(subjects, Subject{Name: t.Host, Type: SubjectDomain, Via: []string{"host name"}, Host: true})
	}

	type addrVia struct {
		addr netip.Addr
		via  string
	}
	var mu sync.Mutex
	var found []addrVia
	nx := map[string]bool{}           // hosts whose address lookups said NXDOMAIN
	lookupFailed := map[string]bool{} // hosts whose address lookups failed (a problem each)
	var wg sync.WaitGroup
	addrs := func(host, via string, order int, out *[][]addrVia) {
		for i, qt := range []resolver.Type{resolver.TypeA, resolver.TypeAAAA} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := r.lookup(ctx, host, qt)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s lookup for %s failed: %v", qt, host, err))
					lookupFailed[host] = true
					return
				}
				if a.Capped > 0 {
					problems = append(problems, fmt.Sprintf("%s has more than %d %s records: %d were not read, so not checked",
						host, resolver.MaxAddrs, qt, a.Capped))
				}
				if a.NXDomain {
					nx[host] = true
				}
				var got []addrVia
				for _, ip := range a.Addrs {
					v := via
					if v == "" {
						v = qt.String()
					}
					got = append(got, addrVia{ip.Unmap(), v})
				}
				(*out)[order*2+i] = got
			}()
		}
	}

	hostAddrs := make([][]addrVia, 2)
	addrs(t.Host, "", 0, &hostAddrs)
	// lookupThen looks name up beside the address lookups and hands the answer
	// to use (under mu); a failure is a problem of the target
	lookupThen := func(name string, qt resolver.Type, use func(*resolver.Answer)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := r.lookup(ctx, name, qt)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s lookup for %s failed: %v", qt, name, err))
				return
			}
			use(a)
		}()
	}
	var hostNX bool
	var mx []resolver.MX
	if !t.NoMX {
		lookupThen(t.Host, resolver.TypeMX, func(a *resolver.Answer) { hostNX, mx = a.NXDomain, a.MX })
	}
	var ns []string
	if r.o.NS {
		lookupThen(t.Domain, resolver.TypeNS, func(a *resolver.Answer) { ns = a.NS })
	}
	wg.Wait()

	sort.SliceStable(mx, func(i, j int) bool { return mx[i].Pref < mx[j].Pref })
	var mxHosts []string
	for _, m := range mx {
		if m.Host == "" {
			notes = append(notes, fmt.Sprintf("%s has a null MX: it says it accepts no mail", t.Host))
			continue
		}
		if !slices.Contains(mxHosts, m.Host) {
			mxHosts = append(mxHosts, m.Host)
		}
	}
	if len(mxHosts) > MaxMXHosts {
		notes = append(notes, fmt.Sprintf("%s has %d MX hosts; only the first %d are checked",
			t.Host, len(mxHosts), MaxMXHosts))
		mxHosts = mxHosts[:MaxMXHosts]
	}
	mxAddrs := make([][]addrVia, 2*len(mxHosts))
	for i, h := range mxHosts {
		if ip, err := netip.ParseAddr(h); err == nil { // a broken MX that names an address
			mxAddrs[2*i] = []addrVia{{ip.Unmap(), "MX " + h}}
			continue
		}
		addrs(h, "MX "+h, i, &mxAddrs)
	}
	slices.Sort(ns)
	ns = slices.Compact(ns)
	if len(ns) > MaxNSHosts {
		notes = append(notes, fmt.Sprintf("%s has %d name servers; only the first %d are checked", t.Domain, len(ns), MaxNSHosts))
		ns = ns[:MaxNSHosts]
	}
	nsAddrs := make([][]addrVia, 2*len(ns))
	for i, h := range ns {
		addrs(h, "NS "+h, i, &nsAddrs)
	}
	wg.Wait()

	for _, group := range append(append(hostAddrs, mxAddrs...), nsAddrs...) {
		found = append(found, group...)
	}
	for i, h := range mxHosts {
		if len(mxAddrs[2*i]) > 0 || len(mxAddrs[2*i+1]) > 0 || lookupFailed[h] {
			continue // it has addresses, or its lookup failed (a problem already)
		}
		why := "has no A or AAAA record"
		if nx[h] {
			why = "does not exist (NXDOMAIN)"
		}
		notes = append(notes, fmt.Sprintf("MX host %s %s: mail sent to %s through it cannot be delivered, "+
			"and nothing was checked for it", h, why, t.Host))
	}
	var spfSkipped []Subject
	if r.o.SPF && !t.NoMX {
		spf, skipped, spfNotes, spfProblems := r.expandSPF(ctx, t.Host)
		for _, a := range spf {
			found = append(found, addrVia(a))
		}
		spfSkipped, notes = skipped, append(notes, spfNotes...)
		problems = append(problems, spfProblems...)
	}
	byAddr := map[netip.Addr]int{}
	for _, f := range found {
		if i, ok := byAddr[f.addr]; ok {
			if !slices.Contains(subjects[i].Via, f.via) {
				subjects[i].Via = append(subjects[i].Via, f.via)
			}
			continue
		}
		s := Subject{Name: f.addr.String(), Type: SubjectIP, Addr: f.addr, Via: []string{f.via}}
		if why := NotPublic(f.addr); why != "" && !r.o.AllowPrivate {
			s.Skip = checkErr(ErrSkipPrivate, why+PrivateSkip)
		}
		byAddr[f.addr] = len(subjects)
		subjects = append(subjects, s)
	}
	subjects = append(subjects, spfSkipped...)
	switch {
	case hostNX:
		notes = append(notes, fmt.Sprintf("%s does not exist in DNS (NXDOMAIN)", t.Host))
	case len(subjects) == 1 && len(problems) == 0:
		what := "A, AAAA or MX records"
		if t.NoMX {
			what = "A or AAAA records"
		}
		notes = append(notes, fmt.Sprintf("%s has no %s: only the domain itself is checked", t.Host, what))
	}
	sort.Strings(problems)
	return subjects, problems, notes
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

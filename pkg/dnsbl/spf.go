package dnsbl

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/blcheck/blcheck/pkg/resolver"
)

// SPF limits: RFC 7208 allows 10 DNS-querying terms; ranges are expanded up to
// a /24 (IPv6 /120), larger ones are reported as skipped.
const (
	SPFLookupLimit = 10
	SPFMaxBitsV4   = 24
	SPFMaxBitsV6   = 120
)

// spfAddr is an address an SPF record authorises, with the mechanisms that led to it.
type spfAddr struct {
	addr netip.Addr
	via  string
}

type spfWalk struct {
	lookup   LookupFunc
	ctx      context.Context
	lookups  int
	addrs    []spfAddr
	skipped  []Subject // ranges too large to expand
	notes    []string
	problems []string        // lookups that failed: senders that could not be checked
	seen     map[string]bool // domains already followed (loops)
}

// expandSPF returns the addresses host's SPF record authorises. A lookup that
// failed is a problem, not a note: the senders behind it were not checked.
func expandSPF(ctx context.Context, lookup LookupFunc, host string) (addrs []spfAddr, skipped []Subject, notes, problems []string) {
	w := &spfWalk{lookup: lookup, ctx: ctx, seen: map[string]bool{}}
	w.record(host, "SPF")
	return w.addrs, w.skipped, w.notes, w.problems
}

// failed records a lookup that got no answer.
func (w *spfWalk) failed(step string, qt resolver.Type, name string, err error) {
	w.problems = append(w.problems, fmt.Sprintf("%s: %s lookup for %s failed: %v", step, qt, name, err))
}

// hostAddrs adds the A and AAAA addresses of host (or their ranges, with bits).
func (w *spfWalk) hostAddrs(host string, bits int, step string) {
	for _, qt := range []resolver.Type{resolver.TypeA, resolver.TypeAAAA} {
		a, err := w.lookup(w.ctx, host, qt)
		if err != nil {
			w.failed(step, qt, host, err)
			continue
		}
		for _, ip := range a.Addrs {
			w.withBits(ip, bits, step)
		}
	}
}

// record follows the SPF record of domain; via names the chain that led here.
func (w *spfWalk) record(domain, via string) {
	if w.seen[domain] {
		w.notes = append(w.notes, fmt.Sprintf("%s: SPF loop at %s, not followed again", via, domain))
		return
	}
	w.seen[domain] = true
	spf, ok := w.spfRecord(domain, via)
	if !ok {
		return
	}
	var redirect string
	hasAll := false
	for _, term := range strings.Fields(spf)[1:] {
		term = strings.TrimLeft(term, "+-~?")
		if k, v, ok := strings.Cut(term, "="); ok && !strings.Contains(k, ":") {
			if strings.EqualFold(k, "redirect") {
				redirect = v
			}
			continue
		}
		step := via + " " + term
		if via != "SPF" {
			step = via + " > " + term
		}
		all, more := w.mechanism(term, domain, step)
		hasAll = hasAll || all
		if !more {
			return
		}
	}
	if redirect != "" && !hasAll {
		step := via + " redirect=" + redirect
		if w.count(step) {
			w.record(strings.ToLower(strings.TrimSuffix(redirect, ".")), step)
		}
	}
}

// spfRecord looks up domain's SPF record: false when there is none to follow
// (said as a note, or a problem when the lookup failed).
func (w *spfWalk) spfRecord(domain, via string) (string, bool) {
	a, err := w.lookup(w.ctx, domain, resolver.TypeTXT)
	if err != nil {
		w.failed(via, resolver.TypeTXT, domain, err)
		return "", false
	}
	var spf []string
	for _, t := range a.TXT {
		if strings.EqualFold(t, "v=spf1") || strings.HasPrefix(strings.ToLower(t), "v=spf1 ") {
			spf = append(spf, t)
		}
	}
	switch {
	case len(spf) == 0:
		if via == "SPF" {
			w.notes = append(w.notes, fmt.Sprintf("%s has no SPF record", domain))
		} else {
			w.notes = append(w.notes, fmt.Sprintf("%s: %s has no SPF record", via, domain))
		}
		return "", false
	case len(spf) > 1:
		w.notes = append(w.notes, fmt.Sprintf("%s has %d SPF records, which is an error (RFC 7208): the first is followed", domain, len(spf)))
	}
	return spf[0], true
}

// mechanism follows one mechanism of domain's record: all says it was "all";
// more is false when the lookup limit is spent (the record is left).
func (w *spfWalk) mechanism(term, domain, step string) (all, more bool) {
	name, arg, _ := strings.Cut(term, ":")
	lname := strings.ToLower(name)
	switch {
	case lname == "all":
		return true, true
	case lname == "ip4" || lname == "ip6":
		w.ipRange(arg, step)
	case lname == "a" || strings.HasPrefix(lname, "a/"):
		if !w.count(step) {
			return false, false
		}
		target, bits := splitCIDR(arg, name, domain)
		w.hostAddrs(target, bits, step)
	case lname == "mx" || strings.HasPrefix(lname, "mx/"):
		if !w.count(step) {
			return false, false
		}
		w.mxAddrs(arg, name, domain, step)
	case lname == "include":
		if !w.count(step) {
			return false, false
		}
		w.record(strings.ToLower(strings.TrimSuffix(arg, ".")), step)
	case lname == "exists" || lname == "ptr":
		if !w.count(step) {
			return false, false
		}
		w.notes = append(w.notes, fmt.Sprintf("%s: authorises senders by a DNS rule, not by address: not expanded", step))
	}
	return false, true
}

// mxAddrs adds the addresses of the MX hosts an "mx" mechanism names (the
// first ten).
func (w *spfWalk) mxAddrs(arg, name, domain, step string) {
	target, bits := splitCIDR(arg, name, domain)
	mx, err := w.lookup(w.ctx, target, resolver.TypeMX)
	if err != nil {
		w.failed(step, resolver.TypeMX, target, err)
		return
	}
	for i, m := range mx.MX {
		if i == 10 || m.Host == "" {
			break
		}
		w.hostAddrs(m.Host, bits, step+" ("+m.Host+")")
	}
}

// count spends one of the RFC 7208 DNS lookups; false when none is left.
func (w *spfWalk) count(step string) bool {
	w.lookups++
	if w.lookups > SPFLookupLimit {
		if w.lookups == SPFLookupLimit+1 {
			w.notes = append(w.notes, fmt.Sprintf("%s: over SPF's limit of %d DNS lookups (receivers give up here): the rest is not followed",
				step, SPFLookupLimit))
		}
		return false
	}
	return true
}

// splitCIDR reads "a:domain/24" or "a/24": the domain to look up and the prefix length.
func splitCIDR(arg, name, domain string) (string, int) {
	target, bits := arg, -1
	for _, part := range []*string{&target, &name} {
		if i := strings.IndexByte(*part, '/'); i >= 0 {
			if b, err := strconv.Atoi(strings.SplitN((*part)[i+1:], "/", 2)[0]); err == nil {
				bits = b
			}
			*part = (*part)[:i]
		}
	}
	if target == "" {
		target = domain
	}
	return strings.ToLower(strings.TrimSuffix(target, ".")), bits
}

func (w *spfWalk) withBits(ip netip.Addr, bits int, step string) {
	ip = ip.Unmap()
	if bits < 0 || ip.Is4() && bits >= 32 || ip.Is6() && bits >= 128 {
		w.addrs = append(w.addrs, spfAddr{ip, step})
		return
	}
	if p, err := ip.Prefix(bits); err == nil {
		w.prefix(p, step)
	}
}

func (w *spfWalk) ipRange(arg, step string) {
	var p netip.Prefix
	if strings.Contains(arg, "/") {
		var err error
		if p, err = netip.ParsePrefix(arg); err != nil {
			w.notes = append(w.notes, fmt.Sprintf("%s: not an address range", step))
			return
		}
	} else {
		a, err := netip.ParseAddr(arg)
		if err != nil {
			w.notes = append(w.notes, fmt.Sprintf("%s: not an address", step))
			return
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	w.prefix(p.Masked(), step)
}

// prefix expands a range into addresses, or reports it as too large.
func (w *spfWalk) prefix(p netip.Prefix, step string) {
	max := SPFMaxBitsV4
	if p.Addr().Is6() {
		max = SPFMaxBitsV6
	}
	if p.Bits() < max {
		w.skipped = append(w.skipped, Subject{Name: p.String(), Type: SubjectIP, Via: []string{step},
			Skip: checkErr(ErrSkipRange, fmt.Sprintf("range larger than /%d, not expanded", max))})
		return
	}
	for a := p.Addr(); p.Contains(a); a = a.Next() {
		w.addrs = append(w.addrs, spfAddr{a, step})
	}
}

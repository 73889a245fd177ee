package dnsbl

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/blcheck/blcheck/pkg/resolver"
)

// reverseDNS checks an address's reverse DNS as receivers do (Gmail 5.7.25,
// Postfix "cannot find your hostname"): a PTR record must exist, and one of its
// names must resolve back to the address (forward-confirmed reverse DNS). It
// returns a note for people: what was found, and what to ask the provider for.
// A lookup that failed says so; it is never taken for a missing record.
func (r *runner) reverseDNS(ctx context.Context, a netip.Addr) string {
	name := ReverseIP(a) + map[bool]string{true: ".in-addr.arpa", false: ".ip6.arpa"}[a.Is4()]
	ans, err := r.lookup(ctx, name, resolver.TypePTR)
	switch {
	case err != nil:
		return fmt.Sprintf("reverse DNS of %s could not be checked: %v", a, err)
	case len(ans.PTR) == 0:
		return fmt.Sprintf("%s has no reverse DNS (no PTR record): many receivers refuse mail from it; "+
			"ask whoever runs the address (your provider) for a PTR record naming your mail server", a)
	}
	qt := resolver.TypeA
	if a.Is6() {
		qt = resolver.TypeAAAA
	}
	var failed []string
	for _, host := range ans.PTR {
		fwd, err := r.lookup(ctx, host, qt)
		if err != nil {
			failed = append(failed, host)
			continue
		}
		if slices.ContainsFunc(fwd.Addrs, func(b netip.Addr) bool { return b.Unmap() == a }) {
			return fmt.Sprintf("%s has reverse DNS %s, which resolves back to it (forward-confirmed)", a, host)
		}
	}
	if len(failed) == len(ans.PTR) {
		return fmt.Sprintf("%s has reverse DNS %s, but its forward lookup could not be checked", a, strings.Join(ans.PTR, ", "))
	}
	return fmt.Sprintf("%s has reverse DNS %s, which does not resolve back to it: receivers that check "+
		"(forward-confirmed reverse DNS) refuse its mail; make the name's A/AAAA record point at %s, or ask your "+
		"provider for a PTR record naming a host that does", a, strings.Join(ans.PTR, ", "), a)
}

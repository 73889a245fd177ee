package extract

import (
	"sort"
	"strings"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// Ignored is a host that was found and deliberately not checked.
type Ignored struct {
	Host      string
	Reason    string // "not a checkable host name", or IgnoredKnownGood
	Locations []Location
}

// IgnoredKnownGood is the reason of a host under one of the domains the caller
// said to leave out.
const IgnoredKnownGood = "ignored"

// Targets turns findings into targets to check, one per host, with every place
// each was found (by target index). Hosts under ignore (domains, with their
// subdomains), hosts that cannot be checked and names under no top-level
// domain that exists (host.corp.local) are returned as Ignored, never dropped
// silently. A host of a link is checked as receivers check it: its
// name and addresses, not its mail servers (NoMX), and its addresses only for
// what makes a link suspect (Link), as is an earlier relay's address; the
// server that delivered a message (Item.Sender) is judged as a mail sender.
func Targets(items []Item, ignore []string) ([]dnsbl.Target, map[int][]Location, []Ignored) {
	// sized once: a newsletter with 100,000 links to distinct hosts grows no
	// slice or map by doubling (which held twice its targets at the peak)
	distinct := make(map[string]struct{}, min(len(items), 1024))
	for _, it := range items {
		distinct[it.Host] = struct{}{}
	}
	locations := make(map[int][]Location, len(distinct))
	index := make(map[string]int, len(distinct))
	ignored := map[string]*Ignored{}
	var order []string
	targets := make([]dnsbl.Target, 0, len(distinct))
	for _, it := range items {
		if i, ok := index[it.Host]; ok {
			locations[i] = append(locations[i], it.Loc)
			targets[i].Link = targets[i].Link && !it.Sender
			targets[i].Relay = targets[i].Relay && it.Relay // also a link's: the URI lists are asked
			continue
		}
		if ig := ignored[it.Host]; ig != nil {
			ig.Locations = append(ig.Locations, it.Loc)
			continue
		}
		t, err := parseHost(it.Host)
		reason := ""
		switch {
		case err != nil:
			reason = "not a checkable host name"
		case t.Kind == dnsbl.KindDomain && underAny(t.Host, ignore):
			reason = IgnoredKnownGood
		case t.Kind == dnsbl.KindDomain && noSuchTLD(t.Host):
			reason = "under no top-level domain that exists (." + t.Host[strings.LastIndexByte(t.Host, '.')+1:] +
				"): not a name receivers can look up"
		}
		if reason != "" {
			ignored[it.Host] = &Ignored{Host: it.Host, Reason: reason, Locations: []Location{it.Loc}}
			order = append(order, it.Host)
			continue
		}
		t.NoMX, t.Link, t.Relay = true, !it.Sender, it.Relay
		index[it.Host] = len(targets)
		locations[len(targets)] = []Location{it.Loc}
		targets = append(targets, t)
	}
	out := make([]Ignored, 0, len(order))
	for _, h := range order {
		out = append(out, *ignored[h])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Reason < out[j].Reason })
	return targets, locations, out
}

func underAny(host string, domains []string) bool {
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// parseHost makes a host found into a target. A host name with an underscore
// in a label below its registered domain (my_shop.example.com), which browsers
// open and receivers look up, is checked as written, under its registered
// domain; one in the registered domain itself cannot be.
func parseHost(host string) (dnsbl.Target, error) {
	t, err := dnsbl.ParseTarget(host)
	if err == nil || !strings.Contains(host, "_") {
		return t, err
	}
	t, err2 := dnsbl.ParseTarget(strings.ReplaceAll(host, "_", "-"))
	if err2 != nil || t.Kind != dnsbl.KindDomain || !strings.HasSuffix(host, "."+t.Domain) {
		return dnsbl.Target{}, err
	}
	t.Input, t.Host = host, host
	return t, nil
}

// noSuchTLD reports whether host is under no top-level domain of the ICANN
// section of the Public Suffix List (mail.corp.local, makita.skynet, a
// Content-ID's 01d3ba12.f6c6aeb0): a name in no zone of the DNS. The names
// tests and documentation use (RFC 2606's .test and .example), which a test
// world answers, are names.
func noSuchTLD(host string) bool {
	tld := host[strings.LastIndexByte(host, '.')+1:]
	return tld != "test" && tld != "example" && dnsbl.PublicRegistered(host) == ""
}

package catalog

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Covers reports whether an IP list holds addresses of addr's family.
func (l *List) Covers(addr netip.Addr) bool {
	if l.Kind != KindIP {
		return false
	}
	want := FamilyIPv4
	if addr.Is6() { // an IPv4-mapped address (RFC 5782's IPv6 test points) is queried as IPv6
		want = FamilyIPv6
	}
	return slices.Contains(l.Families, want)
}

// Dead reports whether the list has shut down.
func (l *List) Dead() bool { return l.Status == StatusDead }

// Keyed reports whether the list needs an account key.
func (l *List) Keyed() bool { return l.Key != nil }

// KeyFrom returns the list's key from the environment lookup, or "".
func (l *List) KeyFrom(getenv func(string) string) string {
	if l.Key == nil {
		return ""
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	return strings.TrimSpace(getenv(l.Key.Env))
}

// QueryZone is the zone to query, with the key inserted for keyed lists.
func (l *List) QueryZone(key string) string {
	return strings.TrimSuffix(strings.ReplaceAll(l.Zone, KeyPlaceholder, key), ".")
}

// ErrorMeaning says whether addr is one of the list's error answers, and what it means.
func (l *List) ErrorMeaning(addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	for _, e := range l.errors {
		if e.prefix.Contains(addr) {
			return e.meaning, true
		}
	}
	return "", false
}

// Meanings decodes a listing answer (an address in 127.0.0.0/8 that is not an
// error) into what it means. It always returns at least one meaning.
func (l *List) Meanings(addr netip.Addr) []string {
	addr = addr.Unmap()
	if l.Bitmask && addr.Is4() {
		last := addr.As4()[3]
		var out []string
		var known byte
		for _, c := range l.codes {
			bit := c.addr.As4()[3]
			if last&bit != 0 {
				out = append(out, c.meaning)
				known |= bit
			}
		}
		if rest := last &^ known; rest != 0 || len(out) == 0 {
			out = append(out, l.undocumented(fmt.Sprintf("bits %#02x of %s", rest, addr)))
		}
		return out
	}
	for _, c := range l.codes {
		if c.addr == addr {
			return []string{c.meaning}
		}
	}
	return []string{l.undocumented(addr.String())}
}

func (l *List) undocumented(what string) string {
	if l.Meaning != "" {
		return l.Meaning
	}
	return fmt.Sprintf("listed (%s is not documented by the list)", what)
}

// DelistURL is the delisting or lookup page for subject, or "".
func (l *List) DelistURL(subject string) string {
	if l.Delist == "" {
		return ""
	}
	return strings.ReplaceAll(l.Delist, SubjectPlaceholder, url.QueryEscape(subject))
}

// RFC 5782 test points (section 5), used where a list names none of its own.
var (
	rfcListed4   = "127.0.0.2"
	rfcUnlisted4 = "127.0.0.1"
	rfcListed6   = "::ffff:7f00:2"
	rfcUnlisted6 = "::ffff:7f00:1"
	rfcListedD   = "test"
	rfcUnlistedD = "invalid"
)

// TestPoints returns the subjects that must be listed and that must not be listed
// for the list to be healthy: the list's own where the catalog gives them, else RFC 5782's.
func (l *List) TestPoints() (listed, unlisted []string) {
	if l.Tests != nil {
		listed, unlisted = l.Tests.Listed, l.Tests.Unlisted
	}
	if len(listed) == 0 {
		listed = l.rfcPoints(rfcListed4, rfcListed6, rfcListedD)
	}
	if len(unlisted) == 0 {
		unlisted = l.rfcPoints(rfcUnlisted4, rfcUnlisted6, rfcUnlistedD)
	}
	return listed, unlisted
}

func (l *List) rfcPoints(v4, v6, dom string) []string {
	if l.Kind == KindDomain {
		return []string{dom}
	}
	if slices.Contains(l.Families, FamilyIPv4) {
		return []string{v4}
	}
	return []string{v6}
}

// Line is the line of the catalog file where the entry starts (0 when unknown).
func (l *List) Line() int { return l.line }

package catalog

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Subjects says what the list is queried with: KindIP (IP lists and
// allowlists) or KindDomain.
func (l *List) Subjects() Kind {
	if l.Kind == KindAllow {
		return KindIP
	}
	return l.Kind
}

// Allow reports whether the list is an allowlist: a hit vouches for the subject.
func (l *List) Allow() bool { return l.Kind == KindAllow }

// Covers reports whether an IP list (or allowlist) holds addresses of addr's family.
func (l *List) Covers(addr netip.Addr) bool {
	if l.Subjects() != KindIP {
		return l.IPSubjects && addr.Is4() // URI lists list the IPv4 addresses of links
	}
	want := FamilyIPv4
	if addr.Is6() { // an IPv4-mapped address (RFC 5782's IPv6 test points) is queried as IPv6
		want = FamilyIPv6
	}
	return slices.Contains(l.Families, want)
}

// Dead reports whether the list has shut down.
func (l *List) Dead() bool { return l.Status == StatusDead }

// Untested reports whether the list publishes no test point (`tests: none`).
func (l *List) Untested() bool { return l.Tests != nil && l.Tests.None }

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
			bit := c.prefix.Addr().As4()[3]
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
	out := []string{l.undocumented(addr.String())}
	if m, ok := l.CodeMeaning(addr); ok {
		out[0] = m
	}
	if len(l.Trust) > 0 && addr.Is4() {
		if t, ok := l.Trust[fmt.Sprint(addr.As4()[3])]; ok {
			out = append(out, "trust: "+t)
		}
	}
	return out
}

// CodeMeaning is the meaning of a documented answer value (the most specific
// code that holds it), and whether there is one.
func (l *List) CodeMeaning(addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	for _, c := range l.codes {
		if c.prefix.Contains(addr) {
			return c.meaning, true
		}
	}
	return "", false
}

func (l *List) undocumented(what string) string {
	if l.Meaning != "" {
		return l.Meaning
	}
	return fmt.Sprintf("listed (%s is not documented by the list)", what)
}

// RemovalURL is the list's removal form for subject, or "".
func (l *List) RemovalURL(subject string) string {
	return strings.ReplaceAll(l.Removal, SubjectPlaceholder, url.QueryEscape(subject))
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
//
// A list whose catalog says `tests: none` has no listed point; its unlisted
// point is still RFC 5782's, which no list may list.
func (l *List) TestPoints() (listed, unlisted []string) {
	if l.Tests != nil && l.Tests.None {
		return nil, l.rfcPoints(rfcUnlisted4, rfcUnlisted6, rfcUnlistedD)
	}
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

// Package dnsbl is blcheck's checker library: it parses targets, expands them
// into subjects, plans queries against a catalog, runs them with bounded
// concurrency through one resolver, and classifies every answer honestly.
package dnsbl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// TargetKind is the JSON "kind" of a target.
type TargetKind string

// The target kinds of the contract.
const (
	KindIP     TargetKind = "ip"
	KindCIDR   TargetKind = "cidr"
	KindDomain TargetKind = "domain"
)

// Largest ranges a CIDR target may have.
const (
	MinBitsIPv4 = 16
	MinBitsIPv6 = 112
)

// Target is one parsed TARGET argument.
type Target struct {
	Input  string       // as typed
	Kind   TargetKind   // ip, cidr or domain
	Form   string       // how it was written: ip, cidr, domain, url or email
	Addr   netip.Addr   // KindIP
	Prefix netip.Prefix // KindCIDR
	Host   string       // KindDomain: the host name, A-label form, lower case
	Domain string       // KindDomain: its registered domain (Public Suffix List)
	// PublicDomain is, for a host under a private suffix of the Public Suffix
	// List (insta-club.netlify.app), its registered domain by the ICANN section
	// alone (netlify.app), which SpamAssassin asks the URI lists for; "" when it
	// is Domain.
	PublicDomain string
	// NoMX leaves out the MX hosts of a domain: for the host of a link, receivers
	// judge the domain and its addresses, not where its mail goes.
	NoMX bool
	// Link says the target is the host of a link in a message (scan, a bounce's
	// returned message): receivers judge its addresses only by what makes a link
	// suspect (catalog LinkCodes), not by who may send mail.
	Link bool
	// Relay says the target is the address of a relay in a message's Received
	// headers, not the server that delivered it (and not also a link's): judged
	// as a link host's address is, on the IP lists, by what makes it suspect;
	// never asked of the URI lists, which list the hosts of links, not the
	// servers a message passed through.
	Relay bool
}

// TargetError is a target that cannot be checked.
type TargetError struct {
	Input  string
	Reason string
	Where  string // "file:line" when read from a file
}

func (e *TargetError) Error() string {
	where := ""
	if e.Where != "" {
		where = e.Where + ": "
	}
	return fmt.Sprintf("%sbad target %q: %s", where, e.Input, e.Reason)
}

var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.StrictDomainName(true),
	idna.Transitional(false),
)

// ParseTarget parses an IP address, a CIDR range, a domain or host name (IDN
// allowed), a URL or an e-mail address.
func ParseTarget(input string) (Target, error) {
	s := strings.TrimSpace(input)
	bad := func(format string, a ...any) (Target, error) {
		return Target{}, &TargetError{Input: redactUserText(input), Reason: fmt.Sprintf(format, a...)}
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > 2048 {
		return bad("longer than 2048 characters")
	}
	if !utf8.ValidString(s) {
		return bad("is not valid UTF-8 text (a file in another encoding, such as Latin-1?)")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return bad("contains control characters")
	}
	if name := strings.ToLower(strings.TrimSuffix(s, ".")); name == testListedName || name == testUnlistedName {
		// RFC 5782's test names for domain lists: checked on them as they are
		return Target{Input: input, Kind: KindDomain, Form: "domain", Host: name, Domain: name, NoMX: true}, nil
	}
	if strings.Contains(s, "@") && !strings.Contains(s, "://") && !strings.HasPrefix(strings.ToLower(s), "mailto:") {
		return emailTarget(input, s) // may be "Name <local@domain>"
	}
	if strings.ContainsAny(s, " \t") {
		return bad("contains spaces")
	}
	switch {
	case strings.Contains(s, "://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return bad("not a URL with a host")
		}
		if u.User != nil { // said and logged as the target: never its secret
			input = redactUser(u)
		}
		if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ftp" {
			return bad("URL scheme %q: only http, https and ftp URLs have a host to check", u.Scheme)
		}
		t, err := hostTarget(input, u.Hostname())
		t.Form = "url"
		return t, err
	case strings.HasPrefix(strings.ToLower(s), "mailto:"):
		return emailTarget(input, s[len("mailto:"):])
	case strings.Contains(s, "/"):
		if p, err := netip.ParsePrefix(s); err == nil {
			return cidrTarget(input, p)
		}
		host, _, _ := strings.Cut(s, "/")
		if _, err := netip.ParseAddr(host); err == nil || !strings.Contains(host, ".") {
			return bad("not a CIDR range (address/bits) or a URL")
		}
		t, err := hostTarget(input, host) // www.example.com/path: a URL without its scheme
		t.Form = "url"
		return t, err
	}
	return hostTarget(input, s)
}

// redactUser is u as shown, its user name and password each replaced by
// "xxxxx": either may be a secret (a password, or a token given as the user
// name), and a target is printed, logged and sent as a Prometheus label. Only
// the host is checked.
func redactUser(u *url.URL) string {
	c := *u
	if _, ok := u.User.Password(); ok {
		c.User = url.UserPassword("xxxxx", "xxxxx")
	} else {
		c.User = url.User("xxxxx")
	}
	return c.String()
}

// redactUserText is redactUser for a URL that does not parse, as the error
// that refuses it says it: the user information before the first '@' of its
// authority (up to the first '/', '?' or '#' after "://") replaced.
func redactUserText(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	auth := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth = rest[:i]
	}
	at := strings.LastIndex(auth, "@")
	if at < 0 {
		return s
	}
	user := "xxxxx"
	if strings.Contains(auth[:at], ":") {
		user += ":xxxxx"
	}
	return scheme + "://" + user + rest[at:]
}

func emailTarget(input, s string) (Target, error) {
	addr := s
	if a, err := mail.ParseAddress(s); err == nil {
		addr = a.Address
	} else if strings.ContainsAny(s, " \t<>") {
		return Target{}, &TargetError{Input: input, Reason: "not an e-mail address (local@domain)"}
	}
	at := strings.LastIndex(addr, "@")
	if at <= 0 || at == len(addr)-1 {
		return Target{}, &TargetError{Input: input, Reason: "not an e-mail address (local@domain)"}
	}
	host := addr[at+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") { // user@[192.0.2.1]
		host = strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
		host = strings.TrimPrefix(strings.TrimPrefix(host, "IPv6:"), "ipv6:")
	}
	t, err := hostTarget(input, host)
	t.Form = "email"
	return t, err
}

func cidrTarget(input string, p netip.Prefix) (Target, error) {
	if p.Addr().Zone() != "" {
		return Target{}, &TargetError{Input: input, Reason: "zoned IPv6 addresses are not supported"}
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.Addr().Is4() && p.Bits() < MinBitsIPv4 {
		return Target{}, &TargetError{Input: input,
			Reason: fmt.Sprintf("range too large: IPv4 ranges go up to /%d (65,536 addresses)", MinBitsIPv4)}
	}
	if p.Addr().Is6() && p.Bits() < MinBitsIPv6 {
		return Target{}, &TargetError{Input: input,
			Reason: fmt.Sprintf("range too large: IPv6 ranges go up to /%d (65,536 addresses)", MinBitsIPv6)}
	}
	return Target{Input: input, Kind: KindCIDR, Form: "cidr", Prefix: p.Masked()}, nil
}

func hostTarget(input, host string) (Target, error) {
	host = strings.TrimSuffix(host, ".")
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		if a.Zone() != "" {
			return Target{}, &TargetError{Input: input, Reason: "zoned IPv6 addresses are not supported"}
		}
		return Target{Input: input, Kind: KindIP, Form: "ip", Addr: a.Unmap()}, nil
	}
	if h, port, ok := strings.Cut(host, ":"); ok && h != "" && strings.Trim(port, "0123456789") == "" {
		return Target{}, &TargetError{Input: input, Reason: fmt.Sprintf("a port (:%s) is not part of a host name: give %s alone", port, h)}
	}
	ascii, err := idnaProfile.ToASCII(host)
	if err != nil {
		return Target{}, &TargetError{Input: input, Reason: "not a valid domain name: " + idnaReason(err)}
	}
	ascii = strings.ToLower(ascii)
	if err := checkHostname(ascii); err != nil {
		return Target{}, &TargetError{Input: input, Reason: err.Error()}
	}
	reg, err := publicsuffix.EffectiveTLDPlusOne(ascii)
	public := PublicRegistered(ascii)
	if err != nil {
		if public == "" {
			return Target{}, &TargetError{Input: input, Reason: "a public suffix (like com or co.uk), not a registered domain"}
		}
		// the host is itself a private suffix (s3.amazonaws.com, github.io):
		// checked as what it is registered as under the ICANN suffix
		reg = public
	}
	t := Target{Input: input, Kind: KindDomain, Form: "domain", Host: ascii, Domain: reg}
	if public != reg {
		t.PublicDomain = public
	}
	return t, nil
}

// PublicRegistered is host's registered domain by the ICANN section of the
// Public Suffix List alone, leaving out its private section (hosting and cloud
// services: netlify.app, s3.amazonaws.com, github.io): netlify.app for
// insta-club.netlify.app, amazonaws.com for s3.amazonaws.com. It is "" for a
// host that is an ICANN suffix itself (com, co.uk) or under no ICANN suffix.
func PublicRegistered(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	prev := -1 // where the label before the candidate suffix starts
	for i := 0; i <= len(host); {
		suffix := host[i:]
		if ps, icann := publicsuffix.PublicSuffix(suffix); ps == suffix && icann && suffix != "" {
			if prev < 0 {
				return "" // the host is a public suffix itself
			}
			return host[prev:]
		}
		dot := strings.IndexByte(suffix, '.')
		if dot < 0 {
			return ""
		}
		prev, i = i, i+dot+1
	}
	return ""
}

// idnaReason says in plain words why x/net/idna refused a name.
func idnaReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	msg = strings.TrimPrefix(msg, "idna: ")
	var r rune
	if _, scanErr := fmt.Sscanf(msg, "disallowed rune U+%X", &r); scanErr == nil {
		return fmt.Sprintf("it contains %q, which a domain name cannot hold", r)
	}
	return msg
}

func checkHostname(h string) error {
	if len(h) > 253 {
		return errors.New("domain name longer than 253 characters")
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return errors.New("not an IP address, range, URL, e-mail address or domain name with a dot")
	}
	for _, l := range labels {
		if l == "" {
			return errors.New("domain name has an empty label")
		}
		if len(l) > 63 {
			return errors.New("domain name has a label longer than 63 characters")
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return errors.New("not a valid IP address, and an all-numeric name is not a domain")
	}
	return nil
}

// Size is the number of addresses a target stands for (1 but for ranges).
func (t Target) Size() int {
	if t.Kind != KindCIDR {
		return 1
	}
	n := new(big.Int).Lsh(big.NewInt(1), uint(t.Prefix.Addr().BitLen()-t.Prefix.Bits()))
	return int(n.Int64())
}

// maxLine bounds one line of a targets file.
const maxLine = 1 << 20

// ReadTargets reads targets one per line, or several on a line separated by
// spaces or tabs, from r: blank lines and # comments are skipped, and so is
// anything after a # on a line. name is used in messages.
// Every bad line is reported; nothing is returned unless all lines are good.
func ReadTargets(r io.Reader, name string) ([]Target, error) {
	var out []Target
	if err := ScanTargets(r, name, func(t Target) { out = append(out, t) }); err != nil {
		return nil, err
	}
	return out, nil
}

// parseLine reads one line of targets: one target ("Name <local@domain>" too),
// or several separated by spaces or tabs.
func parseLine(text string) ([]Target, []error) {
	t, err := ParseTarget(text)
	if err == nil {
		return []Target{t}, nil
	}
	fields := strings.Fields(text)
	if len(fields) < 2 {
		return nil, []error{err}
	}
	var ts []Target
	var errs []error
	for _, f := range fields {
		t, err := ParseTarget(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ts = append(ts, t)
	}
	if len(ts) == 0 { // no target at all: the line is said whole
		return nil, []error{err}
	}
	return ts, errs
}

// ScanTargets reads targets as ReadTargets does, handing each good one to fn
// as it is read and keeping none: a file of a million addresses can be
// validated, then read again as it is checked, in flat memory. The error
// reports every bad line (up to 20), with its number.
func ScanTargets(r io.Reader, name string, fn func(Target)) error {
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.Index(text, "#"); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(strings.TrimPrefix(text, "\ufeff"))
		if text == "" {
			continue
		}
		ts, lineErrs := parseLine(text)
		for _, err := range lineErrs {
			var te *TargetError
			if errors.As(err, &te) {
				te.Where = fmt.Sprintf("%s:%d", name, line)
			}
		}
		errs = append(errs, lineErrs...)
		if len(errs) >= 20 {
			errs = append(errs, fmt.Errorf("%s: stopping after 20 bad lines", name))
			break
		}
		if len(errs) == 0 {
			for _, t := range ts {
				fn(t)
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line %d is longer than %d MiB: this is not a list of targets", line+1, maxLine>>20)
		}
		errs = append(errs, fmt.Errorf("%s: %v", name, err))
	}
	return errors.Join(errs...)
}

// RFC 5782's test points (section 5): every list must list the first of each
// pair and no list may list the second.
var (
	testListed4   = netip.MustParseAddr("127.0.0.2")
	testUnlisted4 = netip.MustParseAddr("127.0.0.1")
)

const (
	testListedName   = "test"
	testUnlistedName = "invalid"
)

// IsTestName says whether the target is one of RFC 5782's test names (test,
// invalid), which are asked of the domain lists as they are and have no
// addresses to look up.
func (t Target) IsTestName() bool {
	return t.Kind == KindDomain && (t.Host == testListedName || t.Host == testUnlistedName)
}

// TestPoint says, for one of RFC 5782's test points (127.0.0.2 and the name
// "test", which every list must list; 127.0.0.1 and "invalid", which none may),
// what the answer is expected to be and what it shows; "" for any other target.
// Someone trying blcheck out types 127.0.0.2 first.
func (t Target) TestPoint() string {
	var what string
	listed := false
	switch {
	case t.Kind == KindIP && t.Addr == testListed4:
		what, listed = "127.0.0.2 is the test point that every IP list must list", true
	case t.Kind == KindIP && t.Addr == testUnlisted4:
		what = "127.0.0.1 is the test point that no IP list may list"
	case t.Kind == KindDomain && t.Host == testListedName:
		what, listed = `"test" is the test name that every domain list must list`, true
	case t.Kind == KindDomain && t.Host == testUnlistedName:
		what = `"invalid" is the test name that no domain list may list`
	default:
		return ""
	}
	if listed {
		return what + " (RFC 5782): LISTED is the expected answer (the lists and the resolver work; nothing to delist)."
	}
	return what + " (RFC 5782): clean is the expected answer; a list that lists it is broken."
}

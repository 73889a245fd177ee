package dnsbl

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// Status is the verdict on one (subject, list) pair. The values are blcheck's contract.
type Status string

// The statuses.
const (
	Listed     Status = "listed"     // an A record in 127.0.0.0/8 that is not one of the list's error codes
	Clean      Status = "clean"      // NXDOMAIN, or NOERROR without an A record
	Blocked    Status = "blocked"    // the list refused this resolver (its documented error codes)
	Error      Status = "error"      // timeout, SERVFAIL, REFUSED, malformed or unexpected answer
	Unreliable Status = "unreliable" // the list failed its health check in this run
	Skipped    Status = "skipped"    // not applicable (family, private address, missing key)
	// Allowlisted is an allowlist's hit (kind: allow): information that vouches
	// for the subject, never a listing and never a reason to fail.
	Allowlisted Status = "allowlisted"
	// Noted is a listing that does not count in the subject's role: a link
	// host's or a name server's address listed for a code that is not among the
	// list's link codes (Spamhaus PBL). It is shown with its codes, never a
	// listing and never a reason to fail; Check.NotCounted says why.
	Noted Status = "noted"
)

// Statuses lists every status, in the order reports count them.
var Statuses = slices.Clone(statusOrder[:])

// statusOrder is Statuses as an array: a tally's length.
var statusOrder = [...]Status{Listed, Clean, Blocked, Error, Unreliable, Skipped, Allowlisted, Noted}

// Verdict is what one answer means for one list.
type Verdict struct {
	Status   Status
	Codes    []netip.Addr
	Meanings []string
	Error    string
	// Err is the failure as an error that errors.Is matches with ErrTimeout,
	// ErrRefusedByList...; nil unless Status is Error, Blocked or Unreliable.
	Err error
	// Foreign is set when the answer held an address outside 127.0.0.0/8, which no
	// list may use: a rewriting resolver or a dead zone taken over by a parking page.
	Foreign bool
}

var loopback = netip.MustParsePrefix("127.0.0.0/8")

// Classify reads one A-record answer (or the error that took its place) for list l.
// It never calls a failed query clean and never calls an answer that is not a
// listing listed.
func Classify(l *catalog.List, a *resolver.Answer, err error) Verdict {
	if err != nil {
		return Verdict{Status: Error, Error: err.Error(), Err: &CheckError{Kind: kindOf(err), Msg: err.Error(), Cause: err}}
	}
	if a == nil {
		return failed(Error, ErrNetwork, "no answer")
	}
	if a.Capped > 0 {
		return failed(Error, ErrBadAnswer, fmt.Sprintf("the answer held more than %d addresses (%d more were not read); "+
			"a list answers with a few codes, so a partly read answer is not a listing", resolver.MaxAddrs, a.Capped))
	}
	if a.NXDomain || len(a.Addrs) == 0 {
		if !a.NXDomain && a.Extra > 0 {
			return failed(Error, ErrBadAnswer, "the answer held records for another name only")
		}
		return Verdict{Status: Clean}
	}
	var v Verdict
	var foreign, blocked, listed, unknown []string
	var blockedWhy []string
	for _, addr := range a.Addrs {
		addr = addr.Unmap()
		s := addr.String()
		if !slices.Contains(v.Codes, addr) {
			v.Codes = append(v.Codes, addr)
		}
		switch {
		case !addr.Is4() || !loopback.Contains(addr):
			foreign = appendUnique(foreign, s)
		default:
			if why, isErr := l.ErrorMeaning(addr); isErr {
				blocked = appendUnique(blocked, s)
				blockedWhy = appendUnique(blockedWhy, why)
				continue
			}
			if _, documented := l.CodeMeaning(addr); l.OnlyCodes && !documented {
				unknown = appendUnique(unknown, s)
				continue
			}
			listed = appendUnique(listed, s)
			for _, m := range l.Meanings(addr) {
				v.Meanings = appendUnique(v.Meanings, m)
			}
		}
	}
	switch {
	case len(foreign) > 0:
		v.Status, v.Foreign, v.Meanings = Error, true, nil
		v.Error = fmt.Sprintf("unexpected answer %s (outside 127.0.0.0/8, so not a listing: a resolver that "+
			"rewrites answers, or a dead list)", strings.Join(foreign, ", "))
		v.Err = checkErr(ErrBadAnswer, v.Error)
	case len(listed) > 0:
		v.Status = Listed
		if l.Allow() {
			v.Status = Allowlisted
		}
	case len(unknown) > 0:
		v.Status, v.Meanings = Error, nil
		v.Error = fmt.Sprintf("answer %s is not one of the list's own codes, so it is not a listing "+
			"(the list says any other answer may be a rejection)", strings.Join(unknown, ", "))
		v.Err = checkErr(ErrBadAnswer, v.Error)
	default:
		v.Status, v.Meanings = Blocked, nil
		v.Error = fmt.Sprintf("%s: %s", strings.Join(blocked, ", "), strings.Join(blockedWhy, "; "))
		v.Err = checkErr(ErrRefusedByList, v.Error)
	}
	return v
}

// failed is the verdict of a check that failed, with its error.
func failed(st Status, kind error, msg string) Verdict {
	return Verdict{Status: st, Error: msg, Err: checkErr(kind, msg)}
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// reasonURL returns the first http(s) URL in a listing's TXT reason whose host
// belongs to the list's own domain (that of its zone or of its catalog lookup
// page), or "": Spamhaus's TXT points at the page about this very listing, which
// beats any template. A link to anywhere else is never promoted.
func reasonURL(l *catalog.List, reason string) string {
	if !strings.Contains(reason, "http") {
		return ""
	}
	own := map[string]bool{}
	for _, host := range []string{strings.ReplaceAll(l.Zone, catalog.KeyPlaceholder, "key"), hostOf(l.Delist)} {
		if d := registered(host); d != "" {
			own[d] = true
		}
	}
	for _, field := range strings.FieldsFunc(reason, func(r rune) bool {
		return r == ' ' || r == '"' || r == '<' || r == '>' || r == '|' || r == ';' || r == ','
	}) {
		i := strings.Index(field, "http")
		if i < 0 {
			continue
		}
		u, err := url.Parse(strings.TrimRight(field[i:], ".)"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		if d := registered(u.Hostname()); d != "" && own[d] {
			return u.String()
		}
	}
	return ""
}

func hostOf(raw string) string {
	u, err := url.Parse(strings.ReplaceAll(raw, catalog.SubjectPlaceholder, "x"))
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func registered(host string) string {
	d, err := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(strings.TrimSuffix(host, ".")))
	if err != nil {
		return ""
	}
	return d
}

// JoinCodes writes codes as a list answered ("127.0.0.2, 127.0.0.4").
func JoinCodes(codes []netip.Addr) string {
	var b strings.Builder
	for i, c := range codes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.String())
	}
	return b.String()
}

package dnsbl

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/blcheck/blcheck/pkg/resolver"
)

const hexDigits = "0123456789abcdef"

// ReverseIP returns the DNSBL form of an address: the four octets reversed for
// IPv4 ("2.0.0.127"), all 32 nibbles reversed for IPv6, as in ip6.arpa. An
// IPv4-mapped IPv6 address (RFC 5782's IPv6 test points) keeps the IPv6 form.
func ReverseIP(a netip.Addr) string {
	var b strings.Builder
	if a.Is4() {
		o := a.As4()
		b.Grow(15)
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(o[i])))
			if i > 0 {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	o := a.As16()
	b.Grow(63)
	for i := 15; i >= 0; i-- {
		b.WriteByte(hexDigits[o[i]&0x0f])
		b.WriteByte('.')
		b.WriteByte(hexDigits[o[i]>>4])
		if i > 0 {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// ErrNameTooLong is a query name over DNS's 253 characters.
var ErrNameTooLong = errors.New("query name longer than 253 characters")

// QueryName is the name asked of zone for subject: an address reversed, a domain as is.
func QueryName(subject Subject, zone string) (string, error) {
	var name string
	if subject.Type == SubjectIP {
		name = ReverseIP(subject.Addr) + "." + zone
	} else {
		name = subject.Name + "." + zone
	}
	if len(name) > 253 {
		return "", ErrNameTooLong
	}
	return name, nil
}

// NotPublic says why an address should not be sent to public lists (a
// private, loopback, link-local, multicast or reserved one), or "". It is
// resolver.NotPublic, which the direct walk also asks of name servers.
func NotPublic(a netip.Addr) string { return resolver.NotPublic(a) }

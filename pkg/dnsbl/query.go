package dnsbl

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
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

// special address ranges that DNS may hand back but public lists must not be asked about
var specialRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared CGNAT address (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	{netip.MustParsePrefix("fc00::/7"), "unique local address (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address"},
}

// NotPublic says why an address should not be sent to public lists, or "".
func NotPublic(a netip.Addr) string {
	a = a.Unmap()
	for _, r := range specialRanges {
		if r.prefix.Contains(a) {
			return r.what
		}
	}
	return ""
}

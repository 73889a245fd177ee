package resolver

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// MaxRootHintsSize bounds a root hints file: IANA's is about 3 KB.
const MaxRootHintsSize = 64 << 10

// namedRoot is IANA's root hints (https://www.internic.net/domain/named.root,
// "last update: November 05, 2024"), the records BIND and unbound start from.
const namedRoot = `
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
.                        3600000      NS    B.ROOT-SERVERS.NET.
B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b
.                        3600000      NS    C.ROOT-SERVERS.NET.
C.ROOT-SERVERS.NET.      3600000      A     192.33.4.12
C.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2::c
.                        3600000      NS    D.ROOT-SERVERS.NET.
D.ROOT-SERVERS.NET.      3600000      A     199.7.91.13
D.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2d::d
.                        3600000      NS    E.ROOT-SERVERS.NET.
E.ROOT-SERVERS.NET.      3600000      A     192.203.230.10
E.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:a8::e
.                        3600000      NS    F.ROOT-SERVERS.NET.
F.ROOT-SERVERS.NET.      3600000      A     192.5.5.241
F.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2f::f
.                        3600000      NS    G.ROOT-SERVERS.NET.
G.ROOT-SERVERS.NET.      3600000      A     192.112.36.4
G.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:12::d0d
.                        3600000      NS    H.ROOT-SERVERS.NET.
H.ROOT-SERVERS.NET.      3600000      A     198.97.190.53
H.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:1::53
.                        3600000      NS    I.ROOT-SERVERS.NET.
I.ROOT-SERVERS.NET.      3600000      A     192.36.148.17
I.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fe::53
.                        3600000      NS    J.ROOT-SERVERS.NET.
J.ROOT-SERVERS.NET.      3600000      A     192.58.128.30
J.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:c27::2:30
.                        3600000      NS    K.ROOT-SERVERS.NET.
K.ROOT-SERVERS.NET.      3600000      A     193.0.14.129
K.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fd::1
.                        3600000      NS    L.ROOT-SERVERS.NET.
L.ROOT-SERVERS.NET.      3600000      A     199.7.83.42
L.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:9f::42
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
M.ROOT-SERVERS.NET.      3600000      AAAA  2001:dc3::35
`

// RootHints are the root name servers a walk starts from: each server's name
// and addresses, in the order of the file.
type RootHints []NameServer

// DefaultRootHints returns IANA's root servers, IPv4 and IPv6.
func DefaultRootHints() RootHints {
	h, err := ParseRootHints([]byte(namedRoot))
	if err != nil {
		panic("resolver: the built-in root hints do not parse: " + err.Error())
	}
	return h
}

// ParseRootHints reads root hints in the named.root format that BIND and
// unbound read: ". NS name" records and the names' A and AAAA records, with ;
// comments; a TTL and the class IN may be given or not. Addresses of names that
// no NS record names are ignored; an NS record without an address is an error,
// as is a file without any server, a record of another kind or owner, or a
// line that is not a record. data is read up to MaxRootHintsSize.
func ParseRootHints(data []byte) (RootHints, error) {
	if len(data) > MaxRootHintsSize {
		return nil, fmt.Errorf("root hints: larger than %d bytes (IANA's file is about 3 KB)", MaxRootHintsSize)
	}
	var order []string
	named := map[string]bool{}
	addrs := map[string][]netip.Addr{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxRootHintsSize)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), ";")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		owner, typ, value, err := hintFields(f)
		if err != nil {
			return nil, fmt.Errorf("root hints, line %d: %v", n, err)
		}
		switch typ {
		case "NS":
			if owner != "" {
				return nil, fmt.Errorf("root hints, line %d: an NS record of %q, not of the root \".\"", n, owner+".")
			}
			host := canonical(value)
			if host == "" || strings.ContainsAny(host, " \t\\") {
				return nil, fmt.Errorf("root hints, line %d: %q is not a host name", n, value)
			}
			if !named[host] {
				named[host] = true
				order = append(order, host)
			}
		case "A", "AAAA":
			a, err := netip.ParseAddr(value)
			if err != nil || a.Zone() != "" || a.Is4() != (typ == "A") || a.Is4In6() {
				return nil, fmt.Errorf("root hints, line %d: %q is not an %s address", n, value, typ)
			}
			if len(addrs[owner]) < MaxAddrs {
				addrs[owner] = append(addrs[owner], a)
			}
		default:
			return nil, fmt.Errorf("root hints, line %d: a %s record (only NS, A and AAAA belong in root hints)", n, typ)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("root hints: %v", err)
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("root hints: no \". NS\" record names a root server")
	}
	hints := make(RootHints, 0, len(order))
	for _, host := range order {
		if len(addrs[host]) == 0 {
			return nil, fmt.Errorf("root hints: the root server %s has no A or AAAA record", host)
		}
		hints = append(hints, NameServer{Name: host, Addrs: addrs[host]})
	}
	return hints, nil
}

// hintFields reads one record "OWNER [TTL] [IN] TYPE VALUE".
func hintFields(f []string) (owner, typ, value string, err error) {
	if len(f) < 3 || len(f) > 5 {
		return "", "", "", fmt.Errorf("%q is not a record (OWNER [TTL] [IN] TYPE VALUE)", strings.Join(f, " "))
	}
	owner, rest := canonical(f[0]), f[1:len(f)-1]
	if len(rest) > 0 && isNumber(rest[0]) {
		rest = rest[1:]
	}
	if len(rest) > 0 && strings.EqualFold(rest[0], "IN") {
		rest = rest[1:]
	}
	if len(rest) != 1 {
		return "", "", "", fmt.Errorf("%q is not a record (OWNER [TTL] [IN] TYPE VALUE)", strings.Join(f, " "))
	}
	return owner, strings.ToUpper(rest[0]), f[len(f)-1], nil
}

func isNumber(s string) bool {
	for _, c := range []byte(s) {
		if !isDigit(c) {
			return false
		}
	}
	return s != ""
}

// canonical is a DNS name in lower case without its trailing dot ("" for the root).
func canonical(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

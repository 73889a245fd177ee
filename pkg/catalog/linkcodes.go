package catalog

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Role is what a subject is to the message it was found in, where receivers
// judge it by other codes than a mail sender's.
type Role int

// The roles.
const (
	RoleSender     Role = iota // a mail sender, or a subject with no other role: every code counts
	RoleLinkHost               // a link's host, or its address
	RoleNameServer             // the address of a linked domain's name server
	RoleRelay                  // the address of an earlier relay in a message's Received headers
)

// LinkCodes are a list's codes that count for a link host, for a name server
// and for an earlier relay (catalog key link_codes). In lists.yaml:
//
//	link_codes: {host: [127.0.0.2, 127.0.0.4], name_server: [127.0.0.2], relay: [127.0.0.2]}
//
// A plain list of codes (link_codes: [127.0.0.2]) counts for the three. An
// earlier relay is judged by the host codes where relay is not given: a relay
// is suspect for what a link's address is (a spam source, an infected host),
// not for being in a dynamic range.
type LinkCodes struct {
	Host       []string `yaml:"host" json:"host"`
	NameServer []string `yaml:"name_server" json:"name_server"`
	Relay      []string `yaml:"relay,omitempty" json:"relay"` // nil: the host codes; empty: none
}

// UnmarshalYAML reads the mapping, or a plain sequence that gives both roles
// the same codes.
func (lc *LinkCodes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var codes []string
		if err := n.Decode(&codes); err != nil {
			return err
		}
		lc.Host, lc.NameServer = codes, slices.Clone(codes)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: link_codes is a mapping (host, name_server, relay) or a list of codes", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "host" && k != "name_server" && k != "relay" {
			return fmt.Errorf("line %d: link_codes: unknown key %q (host, name_server or relay)", n.Content[i].Line, k)
		}
	}
	type plain LinkCodes
	return n.Decode((*plain)(lc))
}

func (lc *LinkCodes) validate(l *List) error {
	if lc == nil {
		return nil
	}
	if l.Kind != KindIP && l.Kind != KindDomain {
		return errors.New("link_codes: only for IP and domain lists")
	}
	if l.Kind == KindDomain && len(lc.NameServer) > 0 {
		return errors.New("link_codes: name_server codes are for IP lists (a name server is judged by its address)")
	}
	if l.Kind == KindDomain && lc.Relay != nil {
		return errors.New("link_codes: relay codes are for IP lists (a relay is judged by its address)")
	}
	for _, c := range slices.Concat(lc.Host, lc.NameServer, lc.Relay) {
		a, err := netip.ParseAddr(c)
		if err != nil || !a.Is4() {
			return fmt.Errorf("link_codes: %q must be an address the list answers", c)
		}
		if _, ok := l.Codes[c]; !ok && !l.Bitmask {
			return fmt.Errorf("link_codes: %s is not one of the list's codes", a)
		}
	}
	return nil
}

// codes returns the codes that count in role; ok is false when the list
// says nothing for the role.
func (lc *LinkCodes) codes(r Role) ([]string, bool) {
	switch {
	case lc == nil:
		return nil, false
	case r == RoleLinkHost:
		return lc.Host, true
	case r == RoleNameServer:
		return lc.NameServer, true
	case r == RoleRelay && lc.Relay != nil:
		return lc.Relay, true
	case r == RoleRelay:
		return lc.Host, true
	}
	return nil, false
}

// RoleCodes are the codes of l that count for a subject in role r, and
// whether l says which (LinkCodes); nil and false for a sender.
func (l *List) RoleCodes(r Role) ([]string, bool) { return l.LinkCodes.codes(r) }

// CountsAs reports whether a listing with codes counts for a subject in role
// r. A sender's listing always counts. For a link host or a name server:
// when one of the codes is among the list's codes for the role (for a
// bitmask list, one of its bits); an IP list that gives no codes for the
// role is not one receivers judge such subjects by, and a domain list that
// gives none counts every listing.
func (l *List) CountsAs(r Role, codes []netip.Addr) bool {
	if r == RoleSender {
		return true
	}
	want, ok := l.RoleCodes(r)
	if !ok {
		return l.Kind != KindIP
	}
	var mask byte
	if l.Bitmask {
		for _, w := range want {
			if a, err := netip.ParseAddr(w); err == nil && a.Is4() {
				mask |= a.As4()[3]
			}
		}
	}
	for _, c := range codes {
		c = c.Unmap()
		if slices.Contains(want, c.String()) || l.Bitmask && c.Is4() && c.As4()[3]&mask != 0 {
			return true
		}
	}
	return false
}

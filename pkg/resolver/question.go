package resolver

import (
	"strings"

	"github.com/miekg/dns"
)

// question is one query as the UDP multiplexer packs it: a plain recursive
// question (name without its final dot, type; RD set, no EDNS), packed by hand
// into the batch's buffer, or msg when set (the iterator's own query, RD clear
// and with EDNS0). A bulk run asks hundreds of thousands of plain questions:
// building a dns.Msg, its FQDN and its packed copy for each was three of the
// allocations of every query.
type question struct {
	name  string // as asked, without the final dot
	qtype uint16
	msg   *dns.Msg
}

func msgQuestion(m *dns.Msg) question {
	return question{name: strings.TrimSuffix(m.Question[0].Name, "."), qtype: m.Question[0].Qtype, msg: m}
}

// Msg is the question as a dns.Msg, for TCP.
func (q question) Msg() *dns.Msg {
	if q.msg != nil {
		return q.msg.Copy()
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(q.name), q.qtype)
	m.RecursionDesired = true
	return m
}

// plain says whether the name can be packed label by label and reads back
// as itself: no empty label, labels of at most 63 bytes, at most 253 bytes in
// all, and only printable bytes that miekg/dns does not escape (q.is compares
// the question as miekg/dns prints it; readNegative as it is on the wire).
// Every name blcheck makes is plain: zones, reversed addresses, IDNA hosts.
func (q question) plain() bool {
	if q.msg != nil || len(q.name) == 0 || len(q.name) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(q.name); i++ {
		if i == len(q.name) || q.name[i] == '.' {
			if n := i - start; n == 0 || n > 63 {
				return false
			}
			start = i + 1
			continue
		}
		switch b := q.name[i]; {
		case b <= ' ' || b > '~':
			return false
		case b == '\\' || b == '\'' || b == '@' || b == ';' || b == '(' || b == ')' || b == '"':
			return false
		}
	}
	return true
}

// wireLen is how long the packed plain question is: the header, the name's
// labels with their length bytes and the root's, the type and the class.
func (q question) wireLen() int { return 12 + len(q.name) + 2 + 4 }

// appendWire appends the query, ID 0, to b.
func (q question) appendWire(b []byte) ([]byte, error) {
	if !q.plain() {
		m := q.msg
		if m == nil {
			m = q.Msg()
		}
		wire, err := m.Pack()
		return append(b, wire...), err
	}
	return q.appendPlain(b), nil
}

// appendPlain appends the plain question's query, ID 0, to b.
func (q question) appendPlain(b []byte) []byte {
	// ID, flags (RD), one question, no other records
	b = append(b, 0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	start := 0
	for i := 0; i <= len(q.name); i++ {
		if i == len(q.name) || q.name[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, q.name[start:i]...)
			start = i + 1
		}
	}
	return append(b, 0, byte(q.qtype>>8), byte(q.qtype), 0, dns.ClassINET)
}

// is says whether an answer's question (name in FQDN form, type) is q.
func (q question) is(name string, qtype uint16) bool {
	return qtype == q.qtype && len(name) == len(q.name)+1 && name[len(name)-1] == '.' &&
		strings.EqualFold(name[:len(q.name)], q.name)
}

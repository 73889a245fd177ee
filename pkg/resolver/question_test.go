package resolver

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// packed is what miekg/dns packs for a recursive question, ID 0.
func packed(t testing.TB, name string, qtype uint16) []byte {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.Id = 0
	wire, err := m.Pack()
	if err != nil {
		t.Fatalf("%q: %v", name, err)
	}
	return wire
}

// TestQuestionWire: a plain question packed by hand is byte for byte what
// miekg/dns packs; a name that is not plain (escapes, empty labels) is left to
// miekg/dns; an answer's question matches it whatever its case.
func TestQuestionWire(t *testing.T) {
	for _, tt := range []struct {
		name  string
		qtype uint16
		plain bool
	}{
		{"2.0.0.127.zen.spamhaus.org", dns.TypeA, true},
		{"Example.COM.dbl.spamhaus.org", dns.TypeTXT, true},
		{"xn--bcher-kva.example.dom.bl.test", dns.TypeA, true},
		{"a", dns.TypeNS, true},
		{"_spf.example.com", dns.TypeTXT, true},
		{"a\\.b.example", dns.TypeA, false},
		{"a..b", dns.TypeA, false},
		{"", dns.TypeNS, false},
	} {
		q := question{name: tt.name, qtype: tt.qtype}
		if q.plain() != tt.plain {
			t.Errorf("%q: plain %v, want %v", tt.name, q.plain(), tt.plain)
		}
		got, err := q.appendWire(nil)
		if !tt.plain {
			continue // miekg/dns's own packing, or its error
		}
		if err != nil || !bytes.Equal(got, packed(t, tt.name, tt.qtype)) {
			t.Errorf("%q: packed %x (%v), want %x", tt.name, got, err, packed(t, tt.name, tt.qtype))
		}
		if len(got) != q.wireLen() {
			t.Errorf("%q: %d bytes, wireLen says %d", tt.name, len(got), q.wireLen())
		}
		if !q.is(dns.Fqdn(tt.name), tt.qtype) || !q.is(dns.Fqdn(upper(tt.name)), tt.qtype) {
			t.Errorf("%q: its own question does not match", tt.name)
		}
		if q.is(dns.Fqdn(tt.name), tt.qtype+1) || q.is(tt.name, tt.qtype) || q.is("x"+dns.Fqdn(tt.name), tt.qtype) {
			t.Errorf("%q: another question matches", tt.name)
		}
	}
}

func upper(s string) string { return string(bytes.ToUpper([]byte(s))) }

// FuzzQuestionWire: whatever the name, a question the mux packs by hand is
// what miekg/dns packs, and one it cannot pack by hand goes to miekg/dns.
func FuzzQuestionWire(f *testing.F) {
	for _, s := range []string{"2.0.0.127.zen.spamhaus.org", "a..b", "x\\046y", "", ".", "ab.", "-.-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if len(name) > 300 {
			return
		}
		q := question{name: name, qtype: dns.TypeA}
		got, err := q.appendWire(nil)
		if !q.plain() {
			return
		}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		m.RecursionDesired = true
		m.Id = 0
		want, werr := m.Pack()
		if werr != nil {
			return // miekg/dns refuses a name we would pack: never asked (QueryName validates)
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%q: packed %x (%v), miekg/dns %x", name, got, err, want)
		}
	})
}

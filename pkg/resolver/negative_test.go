package resolver

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// negativeWire is a negative answer to name's A query as a server would send
// it: rcode, the SOAs (TTL, minimum) in authority, the OPT of EDNS0 if edns.
func negativeWire(t testing.TB, name string, rcode int, soas [][2]uint32, edns bool) []byte {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.Response, m.Rcode, m.RecursionAvailable = true, rcode, true
	for _, s := range soas {
		m.Ns = append(m.Ns, &dns.SOA{Hdr: dns.RR_Header{Name: "bl.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: s[0]},
			Ns: "ns.bl.test.", Mbox: "hostmaster.bl.test.", Serial: 1, Refresh: 2, Retry: 3, Expire: 4, Minttl: s[1]})
	}
	m.Ns = append(m.Ns, &dns.NS{Hdr: dns.RR_Header{Name: "bl.test.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns.bl.test."})
	if edns {
		m.SetEdns0(1232, false)
	}
	wire, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return wire
}

// forwardPointers is an NXDOMAIN whose SOA's names point forward into the NS
// record that follows it.
var forwardPointers = mustHex("12348183000100000002000001320130013003313932037a656e02626c047465737400000100" +
	"01c01600060001" + "00000e100018c057c057" + "00000001000000020000000300000004" + "0000012c" +
	"c0160002000100" + "00003c0005026e73c016")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// echoed is q's own query as an echo service would send it back.
func echoed(t testing.TB, q question) []byte {
	wire, err := q.appendWire(nil)
	if err != nil {
		t.Fatal(err)
	}
	wire[3] = dns.RcodeNameError // even with an NXDOMAIN code, not an answer (QR clear)
	return wire
}

// TestReadNegative: NXDOMAIN and no-data answers are read without unpacking,
// with the TTL the full reading gives (the least of each SOA's TTL and
// minimum); anything else is left to miekg/dns.
func TestReadNegative(t *testing.T) {
	q := question{name: "2.0.0.192.zen.bl.test", qtype: dns.TypeA}
	for _, tt := range []struct {
		name string
		wire []byte
		want negative
		ok   bool
	}{
		{"nxdomain", negativeWire(t, q.name, dns.RcodeNameError, [][2]uint32{{3600, 300}}, false), negative{dns.RcodeNameError, 300}, true},
		{"no data, edns", negativeWire(t, q.name, dns.RcodeSuccess, [][2]uint32{{120, 900}}, true), negative{dns.RcodeSuccess, 120}, true},
		{"no soa", negativeWire(t, q.name, dns.RcodeNameError, nil, false), negative{dns.RcodeNameError, 0}, true},
		{"two soas", negativeWire(t, q.name, dns.RcodeNameError, [][2]uint32{{600, 500}, {100, 400}}, false), negative{dns.RcodeNameError, 100}, true},
		{"case changed (0x20)", negativeWire(t, "2.0.0.192.ZEN.bl.TEST", dns.RcodeNameError, [][2]uint32{{60, 60}}, false), negative{dns.RcodeNameError, 60}, true},
		{"another name", negativeWire(t, "3.0.0.192.zen.bl.test", dns.RcodeNameError, nil, false), negative{}, false},
		{"a longer name", negativeWire(t, "x.2.0.0.192.zen.bl.test", dns.RcodeNameError, nil, false), negative{}, false},
		{"servfail", negativeWire(t, q.name, dns.RcodeServerFailure, nil, false), negative{}, false},
		{"refused", negativeWire(t, q.name, dns.RcodeRefused, nil, false), negative{}, false},
		{"cut short", negativeWire(t, q.name, dns.RcodeNameError, [][2]uint32{{60, 60}}, false)[:40], negative{}, false},
		// the SOA's names point into the NS record after it: miekg/dns reads
		// a record's data cut at its end, and calls this malformed (review)
		{"a name pointing past its record", forwardPointers, negative{}, false},
		{"our own query sent back", echoed(t, q), negative{}, false},
	} {
		got, ok := readNegative(tt.wire, q)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("%s: %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	// a listing, a truncated answer and a query that is not plain go to miekg/dns
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(q.name), dns.TypeA)
	m.Response = true
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: dns.Fqdn(q.name), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{127, 0, 0, 2}}}
	listed, _ := m.Pack()
	m.Answer, m.Truncated, m.Rcode = nil, true, dns.RcodeNameError
	cut, _ := m.Pack()
	for name, wire := range map[string][]byte{"listed": listed, "truncated": cut} {
		if _, ok := readNegative(wire, q); ok {
			t.Errorf("%s read as negative", name)
		}
	}
	if _, ok := readNegative(negativeWire(t, q.name, dns.RcodeNameError, nil, false), msgQuestion(m)); ok {
		t.Error("a query of the iterator's (its own dns.Msg) read as negative")
	}
}

// FuzzReadNegative: whatever the bytes, an answer read as negative is one the
// full reading (miekg/dns and parse) reads the same: the question, the rcode,
// no answer records, and the same TTL.
func FuzzReadNegative(f *testing.F) {
	f.Add(negativeWire(f, "2.0.0.192.zen.bl.test", dns.RcodeNameError, [][2]uint32{{3600, 300}}, true))
	f.Add(negativeWire(f, "2.0.0.192.zen.bl.test", dns.RcodeSuccess, [][2]uint32{{60, 900}, {30, 40}}, false))
	f.Add(forwardPointers)
	q := question{name: "2.0.0.192.zen.bl.test", qtype: dns.TypeA}
	f.Fuzz(func(t *testing.T, wire []byte) {
		if len(wire) > 4096 {
			return
		}
		neg, ok := readNegative(wire, q)
		if !ok {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			t.Fatalf("read as %+v, but miekg/dns cannot unpack it: %v", neg, err)
		}
		if len(m.Question) != 1 || !q.is(m.Question[0].Name, m.Question[0].Qtype) || len(m.Answer) != 0 || m.Truncated {
			t.Fatalf("read as %+v, but it is %v", neg, m)
		}
		a, err := parse(q, m, q.name, TypeA, time.Millisecond, "s")
		if err != nil || a.NXDomain != (neg.rcode == dns.RcodeNameError) || m.Rcode != neg.rcode ||
			a.TTL != neg.answer(nil, q.name, 0, "").TTL {
			t.Fatalf("read as %+v (TTL %v), the full reading gives rcode %d %+v, %v", neg, neg.answer(nil, q.name, 0, "").TTL, m.Rcode, a, err)
		}
	})
}

// FuzzSkipName: skipName ends a name where miekg/dns's UnpackDomainName does,
// and fails where it fails.
func FuzzSkipName(f *testing.F) {
	m := negativeWire(f, "2.0.0.192.zen.bl.test", dns.RcodeNameError, [][2]uint32{{3600, 300}}, true)
	f.Add(m, 12)
	f.Add(m, len(m)-40)
	f.Add([]byte{0xC0, 0x00}, 0)
	f.Add([]byte{3, 'a', 'b', 'c', 0xC0, 0x00}, 0)
	f.Fuzz(func(t *testing.T, msg []byte, off int) {
		if len(msg) > 1024 || off < 0 || off > len(msg) {
			return
		}
		end, ok := skipName(msg, off)
		_, wantEnd, err := dns.UnpackDomainName(msg, off)
		if ok != (err == nil) || ok && end != wantEnd {
			t.Fatalf("skipName(%x, %d) = %d, %v; UnpackDomainName ends at %d, %v", msg, off, end, ok, wantEnd, err)
		}
	})
}

// TestEchoIsNoAnswer: a server that sends each query back as it came (an echo
// service where a resolver was expected) gives no answer: the query times out,
// it is never read as "no data", that is clean.
func TestEchoIsNoAnswer(t *testing.T) {
	addr := UDPTestServer(t, func(pc net.PacketConn, from net.Addr, pkt []byte) { _, _ = pc.WriteTo(pkt, from) })
	c, err := New(Config{Servers: []string{addr}, Timeout: 300 * time.Millisecond, Retries: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, name := range []string{"2.0.0.192.zen.bl.test", "example.com"} {
		a, err := c.Lookup(context.Background(), name, TypeA)
		var re *Error
		if !errors.As(err, &re) || re.Kind != Timeout {
			t.Errorf("%s: %+v, %v; want a timeout", name, a, err)
		}
	}
}

// TestTCPEchoIsNoAnswer: over TCP too (after a truncated answer), our own
// query sent back is no answer: an error, never "no data".
func TestTCPEchoIsNoAnswer(t *testing.T) {
	addr := UDPTestServer(t, func(pc net.PacketConn, from net.Addr, pkt []byte) {
		m := new(dns.Msg)
		if m.Unpack(pkt) != nil {
			return
		}
		m.Response, m.Truncated = true, true // ask again over TCP
		b, _ := m.Pack()
		_, _ = pc.WriteTo(b, from)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("no TCP on the UDP port: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
				buf := make([]byte, 2+512)
				if n, err := io.ReadAtLeast(conn, buf, 2); err == nil {
					_, _ = conn.Write(buf[:n]) // the length and the query, as they came
				}
			}()
		}
	}()
	c, err := New(Config{Servers: []string{addr}, Timeout: time.Second, Retries: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := c.Lookup(context.Background(), "2.0.0.192.zen.bl.test", TypeA)
	if err == nil {
		t.Fatalf("an echo over TCP read as an answer: %+v", a)
	}
}

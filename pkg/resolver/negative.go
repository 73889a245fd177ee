package resolver

import (
	"encoding/binary"
	"time"

	"github.com/miekg/dns"
)

// negative is what is used of the commonest answer, a blacklist's "not
// listed": NXDOMAIN (or NOERROR with no records: no data), and the negative
// caching TTL of the SOA in its authority section (RFC 2308), 0 without one.
type negative struct {
	rcode int
	ttl   uint32
}

// readNegative reads a negative answer to the plain question q without
// building a dns.Msg: the answer to most queries of a bulk run, whose full
// unpacking (a message, its question, each record and its names) made about a
// third of a run's allocations. It takes only the shape servers send (the
// question as asked, no answer records, SOA and NS records in authority, an
// OPT without options in additional), checked as strictly as miekg/dns
// checks it (its own name reader, exact record lengths, nothing left over):
// ok is false for anything else, which miekg/dns reads as before.
// FuzzReadNegative holds it to that.
func readNegative(buf []byte, q question) (n negative, ok bool) {
	if !q.plain() {
		return n, false
	}
	return readPlainNegative(buf, q)
}

// readPlainNegative is readNegative for a question known to be plain: the
// multiplexer knows it from when it packed the query.
func readPlainNegative(buf []byte, q question) (n negative, ok bool) {
	if len(buf) < 12 {
		return n, false
	}
	flags := binary.BigEndian.Uint16(buf[2:])
	qd, an := binary.BigEndian.Uint16(buf[4:]), binary.BigEndian.Uint16(buf[6:])
	ns, ar := binary.BigEndian.Uint16(buf[8:]), binary.BigEndian.Uint16(buf[10:])
	n.rcode = int(flags & 0xF)
	const qr, opcode, tc = 1 << 15, 0xF << 11, 1 << 9
	if flags&qr == 0 || flags&(opcode|tc) != 0 || n.rcode != dns.RcodeSuccess && n.rcode != dns.RcodeNameError ||
		qd != 1 || an != 0 || ar > 1 {
		return n, false
	}
	off := 12 + len(q.name) + 2 // after the question's name, as packed
	if len(buf) < off+4 || !q.echoed(buf[12:]) ||
		binary.BigEndian.Uint16(buf[off:]) != q.qtype || binary.BigEndian.Uint16(buf[off+2:]) != dns.ClassINET {
		return n, false
	}
	off += 4
	found := false
	for range ns {
		var rr rrHead
		if rr, off, ok = readHead(buf, off); !ok {
			return n, false
		}
		switch {
		case rr.class != dns.ClassINET:
			return n, false
		case rr.rtype == dns.TypeNS:
			// miekg/dns reads a record's data within the record: a name in it
			// may not point past its end
			if end, ok := skipName(buf[:off], rr.rdata); !ok || end != off {
				return n, false
			}
		case rr.rtype == dns.TypeSOA:
			minTTL, ok := soaMinimum(buf[:off], rr.rdata, off)
			if !ok {
				return n, false
			}
			if ttl := min(rr.ttl, minTTL); !found || ttl < n.ttl {
				n.ttl, found = ttl, true
			}
		default:
			return n, false
		}
	}
	for range ar { // EDNS0's OPT, without options
		var rr rrHead
		// with no extended RCODE (the TTL's first byte), which would change the rcode
		if rr, off, ok = readHead(buf, off); !ok || rr.rtype != dns.TypeOPT || rr.rdata != off || rr.name != 1 || rr.ttl>>24 != 0 {
			return n, false
		}
	}
	return n, off == len(buf)
}

// rrHead is a record's header: the length of its owner name on the wire, its
// type, class and TTL, and where its data starts (it ends where readHead
// returns).
type rrHead struct {
	name         int
	rtype, class uint16
	ttl          uint32
	rdata        int
}

// readHead reads the record at off and returns its header and where the next
// record starts.
func readHead(buf []byte, off int) (rr rrHead, next int, ok bool) {
	end, ok := skipName(buf, off)
	if !ok || end+10 > len(buf) {
		return rr, 0, false
	}
	rr.name = end - off
	rr.rtype, rr.class = binary.BigEndian.Uint16(buf[end:]), binary.BigEndian.Uint16(buf[end+2:])
	rr.ttl = binary.BigEndian.Uint32(buf[end+4:])
	rr.rdata = end + 10
	next = rr.rdata + int(binary.BigEndian.Uint16(buf[end+8:]))
	return rr, next, next <= len(buf)
}

// soaMinimum reads the minimum of the SOA whose data is buf[off:end], which it
// must fill exactly.
func soaMinimum(buf []byte, off, end int) (uint32, bool) {
	for range 2 { // the primary server and the mailbox
		var ok bool
		if off, ok = skipName(buf, off); !ok {
			return 0, false
		}
	}
	if off+20 != end {
		return 0, false
	}
	return binary.BigEndian.Uint32(buf[off+16:]), true
}

// skipName is miekg/dns's UnpackDomainName (v1.1.73) without the name: where
// the name at off ends, and whether UnpackDomainName reads it without error
// (in bounds, at most 255 octets, at most 126 compression pointers, no
// reserved label type). FuzzSkipName holds it to that; the same verdict needs
// the same slice (miekg/dns reads a record's data cut at the record's end).
func skipName(msg []byte, off int) (int, bool) {
	const maxWire, maxPointers = 255, (255+1)/2 - 2
	end, budget, ptr := 0, maxWire, 0
	for {
		if off >= len(msg) {
			return 0, false
		}
		c := int(msg[off])
		off++
		switch c & 0xC0 {
		case 0x00:
			if c == 0x00 {
				if ptr == 0 {
					end = off
				}
				return end, true
			}
			if off+c > len(msg) {
				return 0, false
			}
			if budget -= c + 1; budget <= 0 {
				return 0, false
			}
			off += c
		case 0xC0:
			if off >= len(msg) {
				return 0, false
			}
			c1 := msg[off]
			off++
			if ptr == 0 {
				end = off
			}
			if ptr++; ptr > maxPointers {
				return 0, false
			}
			off = (c^0xC0)<<8 | int(c1)
		default:
			return 0, false
		}
	}
}

// echoed says whether wire starts with q's name as it was packed, label for
// label, whatever the case (a resolver may randomise it: DNS 0x20). Compared
// on the wire, a label holding a dot cannot pass for two.
func (q question) echoed(wire []byte) bool {
	off, start := 0, 0
	for i := 0; i <= len(q.name); i++ {
		if i < len(q.name) && q.name[i] != '.' {
			continue
		}
		label := q.name[start:i]
		if off+1+len(label) > len(wire) || int(wire[off]) != len(label) || !equalFoldASCII(wire[off+1:off+1+len(label)], label) {
			return false
		}
		off, start = off+1+len(label), i+1
	}
	return off < len(wire) && wire[off] == 0
}

// equalFoldASCII is strings.EqualFold for ASCII bytes against a string, without
// converting either.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// answer is the negative answer for name, written into room (a new Answer if
// room is nil).
func (n negative) answer(room *Answer, name string, rtt time.Duration, server string) *Answer {
	if room == nil {
		room = new(Answer)
	}
	*room = Answer{Name: name, NXDomain: n.rcode == dns.RcodeNameError, RTT: rtt, Server: server,
		TTL: time.Duration(n.ttl) * time.Second}
	return room
}

// Package dnsbltest runs an in-process fake resolver and DNSBL server on
// 127.0.0.1:0 (UDP and TCP), in the style of net/http/httptest: zones are data,
// and faults (drop, delay, SERVFAIL, REFUSED, truncation, foreign answers) are
// set per name suffix. It is for tests; it never touches the network beyond loopback.
package dnsbltest

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FaultKind is what the server does instead of answering normally.
type FaultKind int

// The faults.
const (
	Drop      FaultKind = iota + 1 // no reply at all (a timeout for the client)
	Delay                          // reply after Fault.Delay
	ServFail                       // rcode SERVFAIL
	Refused                        // rcode REFUSED
	Truncate                       // UDP replies have TC set and no records; TCP answers normally
	Rewrite                        // NXDOMAIN becomes an A record Fault.Addr (an ad-serving resolver)
	WrongName                      // the answer carries the records under another name
	// TruncateDeadTCP sets TC on UDP replies, and never answers over TCP (the
	// connection is accepted, then nothing comes until the server closes).
	TruncateDeadTCP
	// NXDomain answers NXDOMAIN for every name (a list that died empty, or a
	// resolver without a way out: no Internet, a captive portal).
	NXDomain
	// Gather holds each reply until queries for Fault.Group's count of names,
	// over every fault of the group, have come (or the server closes): names
	// answered only if a client asks them at once, not one after another (a
	// copy of a query sent again does not count twice).
	Gather
)

// Group is the queries a Gather fault holds: all are answered once n names
// have been asked. A group belongs to one Server (its faults are counted
// under that server's lock).
type Group struct {
	n    int
	seen map[string]bool // guarded by the Server's mu
	all  chan struct{}   // closed when the n-th name has come
}

// NewGroup returns a group that holds replies until n names (at least one)
// have been asked.
func NewGroup(n int) *Group {
	if n < 1 {
		panic("dnsbltest: a Group holds replies until at least one name is asked")
	}
	return &Group{n: n, seen: map[string]bool{}, all: make(chan struct{})}
}

// Fault applies to every query whose name ends in Suffix, of type Type ("TXT")
// or of every type if Type is empty.
type Fault struct {
	Suffix string
	Type   string
	Kind   FaultKind
	Delay  time.Duration
	Addr   string
	Times  int    // how many queries it affects; 0 means all
	Group  *Group // Gather's
}

type rrKey struct {
	name  string
	qtype uint16
}

// Server is a fake DNS server. Its zero value is not usable; call NewServer.
type Server struct {
	Addr string // 127.0.0.1:port, for both UDP and TCP

	// the TTL of the records A, MX and TXT add, and the SOA TTL and MINIMUM of
	// negative answers (0: 60 s), which caches keep them by; see SetTTL
	recordTTL, negativeTTL time.Duration

	udp, tcp *dns.Server

	mu        sync.Mutex
	rrs       map[rrKey][]dns.RR
	names     map[string]bool
	wildcards map[string]string // zone -> A value answered for every name below it
	faults    []*Fault
	queries   map[string]int // "TYPE name" -> count
	quit      chan struct{}  // closed by Close: handlers that hang give up
	soaRR     *dns.SOA       // of negative answers
	// authoritative mode (Authoritative): the zones served, and the zone cuts
	// below them with their name servers
	auth []string
	cuts map[string][]NS
	last *dns.Msg // the latest query, as it came
}

// NS is a name server of a delegation: its host name and its glue addresses
// (none for a glueless delegation).
type NS struct {
	Name  string
	Addrs []string
}

// New starts a server as NewServer does, for one test or benchmark: it is
// closed when tb's test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := NewServer()
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a server on 127.0.0.1 with a free port, UDP and TCP on the
// same port, and returns once both are ready. It panics if it cannot listen.
func NewServer() *Server {
	s := &Server{
		rrs:       map[rrKey][]dns.RR{},
		names:     map[string]bool{},
		wildcards: map[string]string{},
		queries:   map[string]int{},
		quit:      make(chan struct{}),
	}
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; i < 10; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			continue
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil || ln == nil {
		panic("dnsbltest: cannot listen on 127.0.0.1")
	}
	s.Addr = pc.LocalAddr().String()
	udpUp, tcpUp := make(chan struct{}), make(chan struct{})
	s.udp = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serveUDP),
		NotifyStartedFunc: func() { close(udpUp) }}
	s.tcp = &dns.Server{Listener: ln, Handler: dns.HandlerFunc(s.serveTCP),
		NotifyStartedFunc: func() { close(tcpUp) }}
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	<-udpUp
	<-tcpUp
	return s
}

// Close stops the server.
func (s *Server) Close() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	_ = s.udp.Shutdown()
	_ = s.tcp.Shutdown()
}

func fqdn(name string) string { return dns.Fqdn(strings.ToLower(name)) }

func (s *Server) add(rr dns.RR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := rr.Header()
	h.Name = fqdn(h.Name)
	k := rrKey{h.Name, h.Rrtype}
	s.rrs[k] = append(s.rrs[k], rr)
	s.names[h.Name] = true
}

// RR adds a record in zone-file syntax, e.g. "example.test. 60 IN A 192.0.2.1".
func (s *Server) RR(text string) {
	rr, err := dns.NewRR(text)
	if err != nil {
		panic(fmt.Sprintf("dnsbltest: bad record %q: %v", text, err))
	}
	s.add(rr)
}

// A adds A or AAAA records for name.
func (s *Server) A(name string, addrs ...string) {
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: s.ttl()}
		if ip.Is4() {
			hdr.Rrtype = dns.TypeA
			s.add(&dns.A{Hdr: hdr, A: ip.AsSlice()})
		} else {
			hdr.Rrtype = dns.TypeAAAA
			s.add(&dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()})
		}
	}
}

// SetTTL sets the TTL of the records added from now on, and the negative TTL
// (the SOA's TTL and MINIMUM, RFC 2308) of negative answers; 0 means 60 s.
func (s *Server) SetTTL(records, negative time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordTTL, s.negativeTTL = records, negative
}

func (s *Server) ttl() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recordTTL == 0 {
		return 60
	}
	return uint32(s.recordTTL / time.Second)
}

// MX adds a mail exchanger for name.
func (s *Server) MX(name string, pref uint16, host string) {
	s.add(&dns.MX{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: s.ttl()},
		Preference: pref, Mx: dns.Fqdn(host)})
}

// TXT adds a TXT record for name. Strings longer than DNS's 255 bytes are split
// into several character-strings, as servers do.
func (s *Server) TXT(name string, text ...string) {
	var parts []string
	for _, t := range text {
		for len(t) > 255 {
			parts = append(parts, t[:255])
			t = t[255:]
		}
		parts = append(parts, t)
	}
	s.add(&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: s.ttl()}, Txt: parts})
}

// QueryName is subject's name in zone: reversed octets for IPv4, 32 reversed
// nibbles for IPv6, the name itself for a domain.
func QueryName(subject, zone string) string {
	if a, err := netip.ParseAddr(subject); err == nil {
		var parts []string
		if a.Is4() {
			b := a.As4()
			for i := 3; i >= 0; i-- {
				parts = append(parts, fmt.Sprint(b[i]))
			}
		} else {
			b := a.As16()
			for i := 15; i >= 0; i-- {
				parts = append(parts, fmt.Sprintf("%x", b[i]&0xf), fmt.Sprintf("%x", b[i]>>4))
			}
		}
		return strings.Join(parts, ".") + "." + zone
	}
	return subject + "." + zone
}

// List lists subject (an address or a domain) in zone with the given A values,
// and an optional TXT reason.
func (s *Server) List(zone, subject string, codes []string, txt ...string) {
	name := QueryName(subject, zone)
	s.A(name, codes...)
	if len(txt) > 0 {
		s.TXT(name, txt...)
	}
}

// Unlist removes every record of subject in zone.
func (s *Server) Unlist(zone, subject string) {
	name := fqdn(QueryName(subject, zone))
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.rrs {
		if k.name == name {
			delete(s.rrs, k)
		}
	}
	delete(s.names, name)
}

// Zone sets up zone as a healthy DNSBL: its RFC 5782 test points (127.0.0.2,
// ::ffff:7f00:2 and "test" listed with code; 127.0.0.1 and "invalid" not).
func (s *Server) Zone(zone, code string) {
	for _, subject := range []string{"127.0.0.2", "::ffff:7f00:2", "test"} {
		s.List(zone, subject, []string{code})
	}
	// the zone apex exists, so that names below it get NXDOMAIN, not a referral
	s.mu.Lock()
	s.names[fqdn(zone)] = true
	s.mu.Unlock()
}

// Wildcard makes zone answer code for every name below it (a dead list that
// "lists the world").
func (s *Server) Wildcard(zone, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wildcards[fqdn(zone)] = code
}

// Unwildcard undoes Wildcard.
func (s *Server) Unwildcard(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.wildcards, fqdn(zone))
}

// ClearFaults removes every fault: the server answers normally again.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// AddFault adds a fault.
func (s *Server) AddFault(f Fault) {
	if f.Kind == Gather && f.Group == nil {
		panic("dnsbltest: a Gather fault needs its Group (NewGroup)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Suffix = fqdn(f.Suffix)
	s.faults = append(s.faults, &f)
}

// Queries reports how many queries of type qtype ("A", "TXT", ...) for name arrived.
func (s *Server) Queries(qtype, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[qtype+" "+fqdn(name)]
}

// Questions reports how many different questions (a type and a name) arrived.
// A question asked twice counts once, and so does a copy of a query that the
// client sent again because no answer came within its RTO (each copy has its
// own ID, and a machine busy under -race can delay an answer past 10ms):
// compared with the questions the client says it sent (resolver.Client's
// Stats, Iterator.Sent), it tells a question asked twice from a packet sent
// twice.
func (s *Server) Questions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queries)
}

// LastQuery returns a copy of the latest query that arrived (its flags and
// EDNS0 record as sent), or nil.
func (s *Server) LastQuery() *dns.Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return nil
	}
	return s.last.Copy()
}

// TotalQueries reports how many queries arrived in all.
func (s *Server) TotalQueries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.queries {
		n += c
	}
	return n
}

func (s *Server) serveUDP(w dns.ResponseWriter, r *dns.Msg) { s.serve(w, r, true) }
func (s *Server) serveTCP(w dns.ResponseWriter, r *dns.Msg) { s.serve(w, r, false) }

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg, udp bool) {
	if len(r.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	s.queries[dns.TypeToString[q.Qtype]+" "+name]++
	s.last = r.Copy()
	fault := s.faultOf(name, q.Qtype)
	m, ok := s.authAnswer(r, name, q.Qtype)
	if !ok {
		m = s.answer(r, name, q.Qtype)
	}
	s.mu.Unlock()

	if fault != nil {
		if m = s.apply(fault, r, m, udp); m == nil {
			return // no reply
		}
	}
	if udp {
		m.Truncate(dns.MinMsgSize) // sets TC when the answer does not fit, as real servers do
	}
	_ = w.WriteMsg(m)
}

// faultOf is the first fault that applies to a query, counted as used (Times,
// a Gather's names); nil if none. It is called with mu held.
func (s *Server) faultOf(name string, qtype uint16) *Fault {
	for _, f := range s.faults {
		if (name == f.Suffix || strings.HasSuffix(name, "."+f.Suffix) || f.Suffix == ".") && f.Times >= 0 &&
			(f.Type == "" || f.Type == dns.TypeToString[qtype]) {
			if f.Times > 0 {
				f.Times--
				if f.Times == 0 {
					f.Times = -1 // used up
				}
			}
			if g := f.Group; f.Kind == Gather && !g.seen[name] {
				if g.seen[name] = true; len(g.seen) == g.n {
					close(g.all)
				}
			}
			return f
		}
	}
	return nil
}

// apply returns the reply fault makes of m, the answer to r; nil for none.
func (s *Server) apply(fault *Fault, r, m *dns.Msg, udp bool) *dns.Msg {
	q := r.Question[0]
	switch fault.Kind {
	case Drop:
		return nil
	case Delay:
		select { // a server being closed does not wait out its delays
		case <-time.After(fault.Delay):
		case <-s.quit:
			return nil
		}
	case Gather:
		select {
		case <-fault.Group.all:
		case <-s.quit:
			return nil
		}
	case ServFail:
		m = new(dns.Msg)
		m.SetRcode(r, dns.RcodeServerFailure)
	case Refused:
		m = new(dns.Msg)
		m.SetRcode(r, dns.RcodeRefused)
	case Truncate, TruncateDeadTCP:
		if udp {
			m = new(dns.Msg)
			m.SetReply(r)
			m.Truncated = true
		} else if fault.Kind == TruncateDeadTCP {
			<-s.quit
			return nil
		}
	case NXDomain:
		m = new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		s.mu.Lock()
		m.Ns = s.soa()
		s.mu.Unlock()
	case Rewrite:
		if m.Rcode == dns.RcodeNameError && q.Qtype == dns.TypeA {
			m = new(dns.Msg)
			m.SetReply(r)
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA,
				Class: dns.ClassINET, Ttl: 60}, A: netip.MustParseAddr(fault.Addr).AsSlice()}}
		}
	case WrongName:
		for _, rr := range m.Answer {
			rr.Header().Name = "elsewhere.invalid."
		}
	}
	return m
}

// Authoritative makes the server answer as an authoritative server of zones
// (rbldnsd, NSD), not as a resolver: AA set and RA not, negative answers carry
// the zone's SOA, names below a Delegate cut get a referral, and names outside
// every zone get REFUSED.
func (s *Server) Authoritative(zones ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range zones {
		s.auth = append(s.auth, fqdn(z))
	}
	if s.cuts == nil {
		s.cuts = map[string][]NS{}
	}
}

// Delegate makes child a zone cut of an Authoritative server: queries for it and
// the names below it are answered with a referral to servers (NS records in the
// authority section, their addresses as glue).
func (s *Server) Delegate(child string, servers ...NS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cuts == nil {
		s.cuts = map[string][]NS{}
	}
	s.cuts[fqdn(child)] = servers
}

// under says whether name is zone or below it (both fully qualified).
func under(name, zone string) bool {
	return zone == "." || name == zone || strings.HasSuffix(name, "."+zone)
}

// authAnswer is the reply of an Authoritative server; s.mu is held. ok is false
// when the server is not authoritative.
func (s *Server) authAnswer(r *dns.Msg, name string, qtype uint16) (*dns.Msg, bool) {
	if s.auth == nil {
		return nil, false
	}
	zone := ""
	for _, z := range s.auth {
		if under(name, z) && len(z) > len(zone) {
			zone = z
		}
	}
	m := new(dns.Msg)
	m.SetReply(r)
	if zone == "" {
		m.Rcode = dns.RcodeRefused
		return m, true
	}
	cut := ""
	for c := range s.cuts {
		if under(name, c) && c != zone && under(c, zone) && len(c) > len(cut) {
			cut = c
		}
	}
	if cut != "" {
		for _, ns := range s.cuts[cut] {
			m.Ns = append(m.Ns, &dns.NS{Hdr: dns.RR_Header{Name: cut, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: s.ttlLocked()},
				Ns: fqdn(ns.Name)})
			for _, a := range ns.Addrs {
				ip := netip.MustParseAddr(a)
				hdr := dns.RR_Header{Name: fqdn(ns.Name), Class: dns.ClassINET, Ttl: s.ttlLocked()}
				if ip.Is4() {
					hdr.Rrtype = dns.TypeA
					m.Extra = append(m.Extra, &dns.A{Hdr: hdr, A: ip.AsSlice()})
				} else {
					hdr.Rrtype = dns.TypeAAAA
					m.Extra = append(m.Extra, &dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()})
				}
			}
		}
		return m, true
	}
	a := s.answer(r, name, qtype)
	a.RecursionAvailable, a.Authoritative = false, true
	for _, rr := range a.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			c := *soa
			c.Hdr.Name = zone
			a.Ns = []dns.RR{&c}
		}
	}
	return a, true
}

func (s *Server) ttlLocked() uint32 {
	if s.recordTTL == 0 {
		return 60
	}
	return uint32(s.recordTTL / time.Second)
}

// answer builds the normal reply; s.mu is held.
func (s *Server) answer(r *dns.Msg, name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	for hop := 0; hop < 8; hop++ { // follow CNAMEs as a recursive resolver would
		if rrs := s.rrs[rrKey{name, qtype}]; len(rrs) > 0 {
			for _, rr := range rrs {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
			return m
		}
		cn := s.rrs[rrKey{name, dns.TypeCNAME}]
		if len(cn) == 0 || qtype == dns.TypeCNAME {
			break
		}
		m.Answer = append(m.Answer, dns.Copy(cn[0]))
		name = cn[0].(*dns.CNAME).Target
	}
	if len(m.Answer) > 0 {
		return m
	}
	if s.names[name] {
		m.Ns = s.soa()
		return m // NOERROR, no records of that type
	}
	for zone, code := range s.wildcards {
		if strings.HasSuffix(name, "."+zone) {
			if qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA,
					Class: dns.ClassINET, Ttl: 60}, A: netip.MustParseAddr(code).AsSlice()})
			}
			return m
		}
	}
	m.Rcode = dns.RcodeNameError
	m.Ns = s.soa()
	return m
}

// soa is the authority section of a negative answer, as real servers send it:
// its TTL and MINIMUM are the negative TTL of SetTTL (RFC 2308).
// The record is made once (s.mu is held) and shared: packing only reads it.
func (s *Server) soa() []dns.RR {
	ttl := uint32(s.negativeTTL / time.Second)
	if s.negativeTTL == 0 {
		ttl = 60
	}
	if s.soaRR == nil || s.soaRR.Minttl != ttl {
		s.soaRR = &dns.SOA{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
			Ns: "ns.dnsbltest.", Mbox: "hostmaster.dnsbltest.", Serial: 1, Refresh: 60, Retry: 60, Expire: 600, Minttl: ttl}
	}
	return []dns.RR{s.soaRR}
}

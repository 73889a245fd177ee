package resolver

// The zone-apex iterator: blcheck's own walk from the root servers to a list
// zone's name servers, for asking a list directly when the configured resolver
// is refused (--direct).
//
// Why not a library. domainr/dnsr races two name servers at once (which doubles
// the load on a list's servers), knows IPv4 name servers only and sends no EDNS;
// linkdata/recursive minimises query names (RFC 9156), and a minimising walk
// asks rbldnsd for an empty non-terminal, which rbldnsd answers with NXDOMAIN
// (spamhaus/rbldnsd#17): a listing read as clean (ISC's "QNAME Minimization and
// Spamhaus", unbound#1239). Neither caches delegations by zone for a long-lived
// caller, nor lets a test point the walk at loopback ports. The walk below is a
// few hundred lines on miekg/dns and this package's own UDP transport:
//
//   - the walk asks for the list zone's own name (its apex, which exists), never
//     for a name between the apex and the query name; the query itself carries
//     the full name;
//   - RD=0, EDNS0 with a 1232-byte payload (again without it after FORMERR or
//     NOTIMP without OPT), TCP when an answer is truncated;
//   - one server at a time: the next on a timeout, SERVFAIL, REFUSED, an answer
//     to another question or a lame answer (not authoritative and no referral
//     below the zone asked, or an authority section from another zone: an SOA
//     or name servers above or beside it); a server that timed out is tried
//     last for a while, as one that answered badly is for that zone; with
//     Retries, those that timed out but answer other questions are asked again;
//   - referrals are cached by their TTL (30 s at least) and shared by every
//     caller; walks in progress are shared (one root query per top-level
//     domain, however many lists and lookups ask at once); referrals below the
//     apex are followed (the keyed DQS zones); glue out of the referring zone's
//     bailiwick is ignored; glueless name servers are resolved by a walk of
//     their own (CNAMEs followed), and a circle of them fails at once;
//   - name servers at loopback, private or other non-public addresses are not
//     asked, unless the root hints are such addresses themselves (a lab, a test);
//   - CNAMEs (and DNAMEs without their CNAME) are followed inside the list's
//     zone only, a few at most;
//   - each server tried has the per-query timeout, and one lookup (walk
//     included) has a total bound.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// NameServer is a zone's name server: its host name and the addresses known.
type NameServer struct {
	Name  string // lower case, no trailing dot
	Addrs []netip.Addr
}

// Delegation is the name servers that answer for a zone.
type Delegation struct {
	// Zone is the zone whose servers these are: the list zone itself, or the
	// zone that holds it when no zone cut lies between ("" for the root).
	Zone    string
	Servers []NameServer
	// Expires is when the referral that gave these servers runs out (the least
	// TTL of its NS records); the zero time for the root hints.
	Expires time.Time
}

// IteratorConfig configures an Iterator.
type IteratorConfig struct {
	// Hints are the root servers (nil: DefaultRootHints).
	Hints RootHints
	// Timeout bounds the wait for each server tried (0: 3s).
	Timeout time.Duration
	// Retries is how many more times the servers that timed out are tried
	// when no server answered (as the Client's Retries), within Total.
	Retries int
	// Total bounds one lookup, the walk from the root included (0: three
	// timeouts).
	Total time.Duration
	// MaxCacheTTL caps how long a referral is kept (0: six hours).
	MaxCacheTTL time.Duration
	// Now is the clock of the delegation cache, for tests; nil means time.Now.
	Now func() time.Time
	// ServerAddr turns a name server's address into the host:port asked (nil:
	// port 53). For tests, which run every server on loopback ports.
	ServerAddr func(netip.Addr) string
}

// Iterator asks list zones' own name servers, found by a walk from the root.
// It is safe for concurrent use, and meant to be shared by every caller of a
// long-lived program: its delegation cache is.
type Iterator struct {
	cfg   IteratorConfig
	hints func() RootHints // cfg.Hints, or the built-in ones, read at the first walk
	tr    *Client          // transport: UDP sockets per server, TCP on truncation

	mu       sync.Mutex
	zones    map[string]*Delegation // by the zone asked for: its servers
	steps    map[string]*step       // walks in progress, shared
	slow     map[netip.Addr]time.Time
	alive    map[netip.Addr]time.Time // until when a server that answered is taken to be up (Retries)
	bad      map[zoneServer]time.Time // servers that answered badly for a zone: tried last until then
	answers  map[queryKey]cached      // answers by their TTL, as the Client keeps them
	rootDown time.Time                // the root servers did not answer: until then, say so at once
	lab      bool                     // the root hints are not public addresses: every address is asked (NotPublic)
	next     atomic.Uint32

	sent atomic.Int64
}

// step is one question of a walk in progress, shared by the walks that need it.
type step struct {
	done chan struct{}
	err  error
	// the step that the walk taking this one takes in its turn (a glueless
	// name server's walk), and the step of another walk it waits for; it.mu
	child, waiting *step
}

// Bounds of a walk.
const (
	maxReferrals  = 8                // referrals followed in one lookup
	maxGlueDepth  = 3                // glueless name servers resolved within each other's walks
	slowFor       = time.Minute      // a server that timed out is tried last for this long
	rootDownFor   = 30 * time.Second // a root that did not answer is not asked again for this long
	directPayload = 1232             // EDNS0 UDP payload size (the DNS flag day 2020 value)
	// a referral is kept this long at least: one with TTL 0 would be gone
	// before the walk that got it could take its next step
	minReferralTTL = 30 * time.Second
)

// ErrRootUnreachable is the error (errors.Is) of a lookup whose walk could not
// get an answer from any root server: outgoing DNS is filtered, most likely.
var ErrRootUnreachable = errors.New("no root server answered: outgoing DNS (port 53) may be filtered")

// errLame marks a server that answered for a zone it does not serve.
var errLame = errors.New("lame server")

// NewIterator returns an Iterator. It sends nothing until asked.
func NewIterator(cfg IteratorConfig) (*Iterator, error) {
	hints := func() RootHints { return cfg.Hints }
	switch {
	case cfg.Hints == nil: // read at the first walk: most runs never walk
		hints = sync.OnceValue(DefaultRootHints)
	case len(cfg.Hints) == 0:
		return nil, errors.New("no root server to start from")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Total <= 0 {
		cfg.Total = 3 * cfg.Timeout
	}
	if cfg.MaxCacheTTL <= 0 {
		cfg.MaxCacheTTL = 6 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ServerAddr == nil {
		cfg.ServerAddr = func(a netip.Addr) string { return net.JoinHostPort(a.String(), "53") }
	}
	tr, err := New(Config{Servers: []string{"direct"}, Timeout: cfg.Timeout, MaxCacheTTL: -1})
	if err != nil {
		return nil, err
	}
	it := &Iterator{cfg: cfg, hints: hints, tr: tr, zones: map[string]*Delegation{}, steps: map[string]*step{},
		slow: map[netip.Addr]time.Time{}, alive: map[netip.Addr]time.Time{}, bad: map[zoneServer]time.Time{}, answers: map[queryKey]cached{}}
	for _, s := range cfg.Hints {
		it.lab = it.lab || slices.ContainsFunc(s.Addrs, func(a netip.Addr) bool { return NotPublic(a) != "" })
	}
	return it, nil
}

// onLoopback says whether host:port is on a loopback address.
func onLoopback(server string) bool {
	host, _, err := net.SplitHostPort(server)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// Close releases the sockets.
func (it *Iterator) Close() { it.tr.Close() }

// Sent is the number of queries the Iterator has sent.
func (it *Iterator) Sent() int64 { return it.sent.Load() }

// Timeout is the bound of one lookup, walk included.
func (it *Iterator) Timeout() time.Duration { return it.cfg.Total }

// Lookup asks the name servers of zone (found from the root, or from the cache)
// for name's records of type t. name must be zone or below it; it is sent whole.
// Errors are *Error, as the Client's; a walk that no root server answered
// matches ErrRootUnreachable.
func (it *Iterator) Lookup(ctx context.Context, zone, name string, t Type) (*Answer, error) {
	zone, name = canonical(zone), canonical(name)
	if !isBelow(name, zone) {
		return nil, &Error{Kind: Malformed, Name: name, Detail: fmt.Sprintf("%s is not in the zone %s", name, zone)}
	}
	key := queryKey{name, t}
	useCache := ctx.Value(noCache{}) == nil // a health probe asks the server (WithoutCache)
	if a := it.cachedAnswer(key); a != nil && useCache {
		return a, nil
	}
	lctx, cancel := context.WithTimeout(ctx, it.cfg.Total)
	defer cancel()
	a, err := it.lookup(lctx, zone, name, t, 0)
	if err == nil && useCache {
		it.keepAnswer(key, a)
	}
	if err != nil && ctx.Err() == nil && lctx.Err() != nil {
		var re *Error
		if !errors.As(err, &re) || re.Kind == Canceled {
			err = &Error{Kind: Timeout, Name: name, Detail: fmt.Sprintf("no answer within %v (walk included)", it.cfg.Total)}
		}
	}
	return a, err
}

// maxDirectAnswers bounds the answer cache; it is emptied when full.
const maxDirectAnswers = 4096

func (it *Iterator) cachedAnswer(key queryKey) *Answer {
	it.mu.Lock()
	defer it.mu.Unlock()
	e, ok := it.answers[key]
	if !ok {
		return nil
	}
	if !it.cfg.Now().Before(e.expires) {
		delete(it.answers, key)
		return nil
	}
	return e.a
}

// keepAnswer caches an answer for its TTL, at most an hour: a long-lived
// caller (an exporter scraped every 15 s) does not ask a list again meanwhile.
func (it *Iterator) keepAnswer(key queryKey, a *Answer) {
	ttl := min(a.TTL, DefaultMaxCacheTTL)
	if ttl <= 0 {
		return
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	if len(it.answers) >= maxDirectAnswers {
		clear(it.answers)
	}
	it.answers[key] = cached{a, it.cfg.Now().Add(ttl)}
}

// Start is Lookup in a goroutine of its own: its Pending gives the answer.
func (it *Iterator) Start(ctx context.Context, zone, name string, t Type) *Pending {
	p := new(Pending)
	p.ready.Add(1)
	go func() {
		p.a, p.err = it.Lookup(ctx, zone, name, t)
		p.once.Do(func() {})
		p.ready.Done()
	}()
	return p
}

// Delegation returns the servers that answer for zone, walking from the root
// when the cache does not know them.
func (it *Iterator) Delegation(ctx context.Context, zone string) (Delegation, error) {
	lctx, cancel := context.WithTimeout(ctx, it.cfg.Total)
	defer cancel()
	d, err := it.delegation(lctx, canonical(zone), 0)
	if err != nil {
		return Delegation{}, err
	}
	return *d, nil
}

func (it *Iterator) lookup(ctx context.Context, zone, name string, t Type, depth int) (*Answer, error) {
	d, err := it.delegation(ctx, zone, depth)
	if err != nil {
		return nil, err
	}
	for hop := 0; ; hop++ {
		resp, server, err := it.exchange(ctx, d, name, t, depth)
		if err != nil {
			return nil, err
		}
		child := it.referralOf(resp, d.Zone, name)
		if child == nil {
			a, next, err := it.answer(resp, zone, name, t, server)
			if err != nil || next == "" {
				return a, err
			}
			if hop >= maxCNAME {
				return nil, &Error{Kind: Malformed, Name: name, Server: server, Detail: "too many CNAMEs"}
			}
			name = next // a CNAME inside the zone whose target the answer did not hold
			continue
		}
		if hop >= maxReferrals {
			return nil, &Error{Kind: Malformed, Name: name, Server: server, Detail: "too many referrals"}
		}
		d = it.keep(child)
	}
}

// answer reads an authoritative answer: CNAMEs are followed inside zone only.
// next is the CNAME target to ask for when the answer stopped at it.
func (it *Iterator) answer(resp *dns.Msg, zone, name string, t Type, server string) (*Answer, string, error) {
	a, err := parse(question{name: strings.TrimSuffix(name, "."), qtype: uint16(t)}, resp, name, t, 0, server)
	if err != nil {
		return nil, "", err
	}
	owner := dns.Fqdn(name)
	seen := map[string]bool{canonical(owner): true}
	for hop := 0; ; hop++ {
		next := ""
		for _, rr := range resp.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(rr.Header().Name, owner) {
				next = cn.Target
			}
		}
		if next == "" {
			next = dnameTarget(resp, owner)
		}
		if next == "" {
			break
		}
		if !isBelow(canonical(next), zone) {
			return nil, "", &Error{Kind: Malformed, Name: name, Server: server,
				Detail: fmt.Sprintf("a CNAME to %s, outside the list's zone %s", canonical(next), zone), Err: cnameOut(canonical(next))}
		}
		if seen[canonical(next)] || hop >= maxCNAME {
			return nil, "", &Error{Kind: Malformed, Name: name, Server: server, Detail: "a CNAME loop, or too many CNAMEs"}
		}
		seen[canonical(next)] = true
		owner = next
	}
	if owner != dns.Fqdn(name) && !a.NXDomain && len(a.Addrs)+len(a.TXT)+len(a.MX)+len(a.PTR)+len(a.NS) == 0 {
		return a, canonical(owner), nil
	}
	return a, "", nil
}

// dnameTarget is the name a DNAME of the answer makes of owner when the answer
// holds no CNAME for it (RFC 6672 5.2: a server without DNAME support in its
// resolvers' mind sends one; an old server sends the DNAME alone, which read as
// no data would be clean); "" when no DNAME applies.
func dnameTarget(resp *dns.Msg, owner string) string {
	for _, rr := range resp.Answer {
		d, ok := rr.(*dns.DNAME)
		if !ok {
			continue
		}
		from := dns.Fqdn(strings.ToLower(d.Hdr.Name))
		lower := strings.ToLower(dns.Fqdn(owner))
		if prefix, ok := strings.CutSuffix(lower, "."+from); ok && from != "." {
			if target := prefix + "." + dns.Fqdn(d.Target); len(target) <= 254 {
				return target
			}
		}
	}
	return ""
}

// delegation finds the servers of zone: from the cache, else by walking down
// from the nearest cached ancestor (or the root hints). Each step is shared by
// the walks that need the same answer at the same time.
func (it *Iterator) delegation(ctx context.Context, zone string, depth int) (*Delegation, error) {
	for range maxReferrals + 2 {
		d, exact := it.closest(zone)
		if exact {
			return d, nil
		}
		if d.Zone == "" && it.isRootDown() {
			return nil, &Error{Kind: Timeout, Name: zone, Detail: ErrRootUnreachable.Error(), Err: ErrRootUnreachable}
		}
		// the walks toward zones under the same child of d share one question;
		// if its answer does not lead toward zone, zone's own question is asked
		if err := it.share(ctx, d.Zone+"|"+childOf(zone, d.Zone), d, zone, depth); err != nil {
			return nil, err
		}
		if d2, exact := it.closest(zone); exact || d2.Zone != d.Zone {
			continue
		}
		if err := it.share(ctx, d.Zone+"|"+zone, d, zone, depth); err != nil {
			return nil, err
		}
		if d2, exact := it.closest(zone); !exact && d2.Zone == d.Zone {
			return nil, &Error{Kind: Malformed, Name: zone, Detail: "the walk made no progress"}
		}
	}
	return nil, &Error{Kind: Malformed, Name: zone, Detail: "too many referrals"}
}

// share asks d's servers for zone's name servers, or waits for the same step
// another walk is making.
func (it *Iterator) share(ctx context.Context, key string, d *Delegation, zone string, depth int) error {
	held := heldOf(ctx)
	it.mu.Lock()
	s, busy := it.steps[key]
	switch {
	case !busy:
		// another walk may have taken this step, and finished it, since d was
		// found: then the cache already leads further, and nothing is asked
		if c, exact := it.closestLocked(zone); exact || c.Zone != d.Zone {
			it.mu.Unlock()
			return nil
		}
		s = &step{done: make(chan struct{})}
		it.steps[key] = s
		if held != nil {
			held.s.child = s
		}
	case held != nil && waitsOnItself(held, s):
		it.mu.Unlock()
		// the walk taking that step waits, at the end, for this one: the
		// names of d's servers are found only through d's zone itself
		z := zoneName(d.Zone)
		return &Error{Kind: Network, Name: zone, Err: errCircular, Detail: fmt.Sprintf(
			"no name server address for %s: its name servers are found only through %s itself (a circular glueless delegation)", z, z)}
	case held != nil:
		held.s.waiting = s
	}
	it.mu.Unlock()
	if busy {
		defer func() {
			if held != nil {
				it.mu.Lock()
				held.s.waiting = nil
				it.mu.Unlock()
			}
		}()
		select {
		case <-s.done:
			var re *Error
			if errors.As(s.err, &re) && re.Kind == Canceled && ctx.Err() == nil {
				return it.share(ctx, key, d, zone, depth) // the walk that asked was canceled, not this one
			}
			return s.err
		case <-ctx.Done():
			return &Error{Kind: Canceled, Name: zone}
		}
	}
	err := it.walkStep(context.WithValue(ctx, heldKey{}, &heldStep{s, held}), d, zone, depth)
	it.mu.Lock()
	s.err = err
	delete(it.steps, key)
	if held != nil && held.s.child == s {
		held.s.child = nil
	}
	it.mu.Unlock()
	close(s.done)
	return err
}

// heldStep is a step of a walk in progress that the walk (ctx) takes itself,
// and the steps further up it is part of.
type heldStep struct {
	s  *step
	up *heldStep
}

type heldKey struct{}

func heldOf(ctx context.Context) *heldStep {
	h, _ := ctx.Value(heldKey{}).(*heldStep)
	return h
}

// waitsOnItself says whether a walk that takes the steps held, waiting for s,
// would wait for itself: s is one of held, or the walk taking s waits (in a
// step of its own further down, a glueless name server's walk) for a step
// whose walk waits... for one of held. Glueless name servers whose names are
// in zones served only by each other make such a circle, within one walk or
// between walks at once. it.mu is held.
func waitsOnItself(held *heldStep, s *step) bool {
	has := func(s *step) bool {
		for h := held; h != nil; h = h.up {
			if h.s == s {
				return true
			}
		}
		return false
	}
	for range 64 { // the steps of walks in progress: a few at most
		for ; ; s = s.child { // the innermost step of the walk taking s
			if has(s) {
				return true
			}
			if s.child == nil {
				break
			}
		}
		if s.waiting == nil {
			return false
		}
		s = s.waiting
	}
	return false
}

// errCircular marks a walk that needs itself: glueless name servers whose
// names are in zones served only by each other.
var errCircular = errors.New("circular glueless delegation")

// walkStep asks d's servers for zone's NS records and caches what it learns: a
// referral below d, or that d's servers answer for zone themselves.
func (it *Iterator) walkStep(ctx context.Context, d *Delegation, zone string, depth int) error {
	resp, _, err := it.exchange(ctx, d, zone, TypeNS, depth)
	if err != nil {
		if d.Zone == "" && rootSilent(err) && !errors.Is(ctx.Err(), context.Canceled) {
			it.mu.Lock()
			it.rootDown = it.cfg.Now().Add(rootDownFor)
			it.mu.Unlock()
			return &Error{Kind: Timeout, Name: zone, Detail: ErrRootUnreachable.Error(), Err: ErrRootUnreachable}
		}
		var re *Error
		if d.Zone != "" && errors.As(err, &re) && (re.Kind == Refused || re.Kind == BadRcode) {
			// rbldnsd refuses NS queries (and some list servers every type
			// but A and TXT): d's servers are taken to answer for zone, and
			// the query itself says whether they do
			it.alias(d, zone)
			return nil
		}
		return err
	}
	if child := it.referralOf(resp, d.Zone, zone); child != nil {
		it.keep(child)
		return nil
	}
	// an answer (the zone's NS records, none, or NXDOMAIN) from d's servers:
	// they are the ones to ask for names in zone
	it.alias(d, zone)
	return nil
}

// alias caches d's servers as those of zone, below d with no zone cut between.
func (it *Iterator) alias(d *Delegation, zone string) {
	it.mu.Lock()
	it.zones[zone] = &Delegation{Zone: d.Zone, Servers: d.Servers, Expires: d.Expires}
	it.mu.Unlock()
}

// rootSilent says whether a failed exchange with the root means that no root
// server could be reached (timeouts, network errors), not that one answered badly.
func rootSilent(err error) bool {
	var re *Error
	return errors.As(err, &re) && (re.Kind == Timeout || re.Kind == Network || re.Kind == Canceled)
}

func (it *Iterator) isRootDown() bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.cfg.Now().Before(it.rootDown)
}

// keep caches a referral and returns it.
func (it *Iterator) keep(d *Delegation) *Delegation {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.zones[d.Zone] = d
	it.rootDown = time.Time{} // a referral came: the way out is open
	return d
}

// closest returns the cached delegation of zone (exact) or of its nearest
// ancestor; the root hints when none is cached. Expired entries are dropped.
func (it *Iterator) closest(zone string) (*Delegation, bool) {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.closestLocked(zone)
}

// closestLocked is closest with it.mu held.
func (it *Iterator) closestLocked(zone string) (*Delegation, bool) {
	now := it.cfg.Now()
	for name := zone; ; name = parentOf(name) {
		if d, ok := it.zones[name]; ok {
			if !d.Expires.IsZero() && !now.Before(d.Expires) {
				delete(it.zones, name)
			} else {
				return d, name == zone
			}
		}
		if name == "" {
			return &Delegation{Servers: it.hints()}, zone == ""
		}
	}
}

// referral reads resp as a referral to a zone below zone and at or above name:
// the child's delegation, glue included; nil if resp is not one.
func (it *Iterator) referralOf(resp *dns.Msg, zone, name string) *Delegation {
	return referralAt(resp, zone, name, it.cfg.Now(), it.cfg.MaxCacheTTL)
}

func referralAt(resp *dns.Msg, zone, name string, now time.Time, maxTTL time.Duration) *Delegation {
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) > 0 || resp.Authoritative && hasSOA(resp) {
		return nil
	}
	d := &Delegation{}
	var ttl uint32
	for _, rr := range resp.Ns {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		owner := canonical(ns.Hdr.Name)
		if owner == zone || !isBelow(owner, zone) || !isBelow(name, owner) || d.Zone != "" && owner != d.Zone {
			continue // not a cut below zone toward name: a lame or upward referral
		}
		if d.Zone == "" || ns.Hdr.Ttl < ttl {
			ttl = ns.Hdr.Ttl
		}
		d.Zone = owner
		host := canonical(ns.Ns)
		if !slices.ContainsFunc(d.Servers, func(s NameServer) bool { return s.Name == host }) && len(d.Servers) < MaxAddrs {
			d.Servers = append(d.Servers, NameServer{Name: host})
		}
	}
	if d.Zone == "" {
		return nil
	}
	for i := range d.Servers {
		if !isBelow(d.Servers[i].Name, zone) {
			// glue out of the referring zone's bailiwick is not its to give
			// (RFC 2181 5.4.1): a poisoned address, or a stale one; the
			// name is resolved by a walk of its own
			continue
		}
		for _, rr := range resp.Extra {
			if !strings.EqualFold(canonical(rr.Header().Name), d.Servers[i].Name) || len(d.Servers[i].Addrs) >= MaxAddrs {
				continue
			}
			switch r := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(r.A.To4()); ok {
					d.Servers[i].Addrs = append(d.Servers[i].Addrs, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(r.AAAA.To16()); ok && !a.Is4In6() {
					d.Servers[i].Addrs = append(d.Servers[i].Addrs, a)
				}
			}
		}
	}
	d.Expires = now.Add(min(max(time.Duration(ttl)*time.Second, minReferralTTL), maxTTL))
	return d
}

func hasSOA(resp *dns.Msg) bool {
	for _, rr := range resp.Ns {
		if _, ok := rr.(*dns.SOA); ok {
			return true
		}
	}
	return false
}

// exchange asks d's servers for name's records of type t, one server at a
// time, until one answers: an authoritative answer or a referral below d. The
// next server is tried on a timeout, a network error, SERVFAIL, REFUSED or a
// lame answer. Glueless servers are resolved when no server with an address
// answered; then, Retries times, the servers that timed out are tried again.
func (it *Iterator) exchange(ctx context.Context, d *Delegation, name string, t Type, depth int) (*dns.Msg, string, error) {
	var last error = &Error{Kind: Network, Name: name, Detail: "no name server address for " + zoneName(d.Zone)}
	tried := map[netip.Addr]bool{}
	var timedOut []netip.Addr
	for pass := 0; pass < 2+it.cfg.Retries; pass++ {
		var addrs []netip.Addr
		switch {
		case pass == 0:
			addrs = it.order(d, tried)
		case pass == 1:
			var gerr error
			addrs, gerr = it.glueless(ctx, d, depth, tried)
			if ctx.Err() != nil {
				return nil, "", &Error{Kind: Canceled, Name: name}
			}
			var re *Error
			if len(addrs) == 0 && errors.Is(gerr, errCircular) && errors.As(gerr, &re) {
				last = &Error{Kind: Network, Name: name, Err: errCircular, Detail: re.Detail}
			}
		default:
			// --retries: the servers that timed out, but answered other
			// questions lately, are tried again (a server that rate-limits
			// drops some answers); a dead one is not waited for again
			addrs, timedOut = it.answering(timedOut), nil
		}
		for _, a := range addrs {
			if ctx.Err() != nil {
				return nil, "", &Error{Kind: Canceled, Name: name}
			}
			tried[a] = true
			resp, server, err := it.ask(ctx, a, d.Zone, name, t)
			if err == nil {
				return resp, server, nil
			}
			last = err
			var re *Error
			if errors.As(err, &re) && re.Kind == Canceled {
				return nil, "", err
			}
			switch {
			case re == nil:
			case re.Kind == Timeout:
				timedOut = append(timedOut, a)
			case re.Kind != Network && t != TypeNS: // not rbldnsd's refusal of NS queries
				it.answeredBadly(d.Zone, a)
			}
		}
	}
	return nil, "", last
}

// answering returns those of addrs that answered some question lately.
func (it *Iterator) answering(addrs []netip.Addr) []netip.Addr {
	it.mu.Lock()
	defer it.mu.Unlock()
	now := it.cfg.Now()
	return slices.DeleteFunc(addrs, func(a netip.Addr) bool { return !now.Before(it.alive[a]) })
}

// zoneServer is a name server of a zone.
type zoneServer struct {
	zone string
	addr netip.Addr
}

// note marks the server at a in m (slow, alive) for slowFor. The maps are
// bounded as the answer cache is: a long-lived exporter meets the servers of
// its lists only, but nothing else keeps an address from staying for good.
func (it *Iterator) note(m map[netip.Addr]time.Time, a netip.Addr) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if len(m) >= maxDirectAnswers {
		clear(m)
	}
	m[a] = it.cfg.Now().Add(slowFor)
}

// answeredBadly notes that the server at a answered a question in zone with
// SERVFAIL, REFUSED, another rcode or a lame answer: it is tried last for
// zone for a while, as one that timed out is for every zone.
func (it *Iterator) answeredBadly(zone string, a netip.Addr) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if len(it.bad) >= maxDirectAnswers {
		clear(it.bad)
	}
	it.bad[zoneServer{zone, a}] = it.cfg.Now().Add(slowFor)
}

// order returns the addresses of d's servers to try, not tried yet: those that
// timed out lately, or answered badly for d's zone, last; each part from a
// rotating start (the load shared).
func (it *Iterator) order(d *Delegation, tried map[netip.Addr]bool) []netip.Addr {
	it.mu.Lock()
	defer it.mu.Unlock()
	var fast, slow []netip.Addr
	now := it.cfg.Now()
	for _, s := range d.Servers {
		for _, a := range s.Addrs {
			switch {
			case tried[a] || slices.Contains(fast, a) || slices.Contains(slow, a):
			case now.Before(it.slow[a]) || now.Before(it.bad[zoneServer{d.Zone, a}]):
				slow = append(slow, a)
			default:
				fast = append(fast, a)
			}
		}
	}
	k := it.next.Add(1) - 1
	return append(rotate(fast, k), rotate(slow, k)...)
}

// rotate returns addrs from its k-th (modulo its length) on, then the ones
// before.
func rotate(addrs []netip.Addr, k uint32) []netip.Addr {
	if len(addrs) < 2 {
		return addrs
	}
	i := int(k % uint32(len(addrs)))
	return append(addrs[i:len(addrs):len(addrs)], addrs[:i]...)
}

// glueless resolves the addresses of d's servers that came without any, and
// keeps them in d (shared with the cache).
func (it *Iterator) glueless(ctx context.Context, d *Delegation, depth int, tried map[netip.Addr]bool) ([]netip.Addr, error) {
	if depth >= maxGlueDepth {
		return nil, nil
	}
	var last error
	for i := range d.Servers {
		it.mu.Lock()
		s := d.Servers[i] // another lookup may be resolving it too
		it.mu.Unlock()
		if len(s.Addrs) == 0 && isBelow(s.Name, d.Zone) && d.Zone != "" {
			continue // a server inside its own zone without glue cannot be found
		}
		addrs := s.Addrs
		if len(addrs) == 0 {
			for _, t := range []Type{TypeA, TypeAAAA} {
				a, err := it.address(ctx, s.Name, t, depth+1)
				if err == nil {
					addrs = append(addrs, a...)
				} else {
					last = err
				}
			}
			it.mu.Lock()
			d.Servers[i].Addrs = addrs
			it.mu.Unlock()
		}
		// addresses not tried yet: those just found, or found by another
		// lookup since this one began
		var out []netip.Addr
		for _, a := range addrs {
			if !tried[a] {
				out = append(out, a)
			}
		}
		if len(out) > 0 {
			return out, nil // one server found is enough to go on
		}
	}
	return nil, last
}

// cnameOut is the target of a CNAME that leads out of the zone asked.
type cnameOut string

func (c cnameOut) Error() string { return "a CNAME to " + string(c) }

// address looks up a name server's addresses of type t, following CNAMEs into
// other zones (a name server's name should not be one, RFC 2181 10.3, but
// resolvers follow it, and lists have had such names): each target is walked
// to, a few at most.
func (it *Iterator) address(ctx context.Context, name string, t Type, depth int) ([]netip.Addr, error) {
	for range maxCNAME {
		a, err := it.lookup(ctx, name, name, t, depth)
		var next cnameOut
		if !errors.As(err, &next) {
			if err != nil {
				return nil, err
			}
			return a.Addrs, nil
		}
		name = string(next)
	}
	return nil, &Error{Kind: Malformed, Name: name, Detail: "too many CNAMEs"}
}

// ask sends one query to one server: RD=0, EDNS0, the full name; TCP when the
// answer is truncated. A server that answers for a zone it does not serve is lame.
func (it *Iterator) ask(ctx context.Context, a netip.Addr, zone, name string, t Type) (*dns.Msg, string, error) {
	server := it.cfg.ServerAddr(a)
	// A delegation that names a server at such an address (a parked domain's
	// NS at 127.0.0.1, glue to 10.0.0.1) would have the walk ask this machine
	// or its network, which resolvers do not (unbound's do-not-query-localhost
	// and private-address); a walk from root hints that are not public
	// themselves (a test's, a lab's) asks them.
	if why := NotPublic(a); why != "" && !it.lab {
		return nil, server, &Error{Kind: Network, Name: name, Server: server,
			Detail: fmt.Sprintf("the name server address %s (%s) is not asked", a, why)}
	}
	if testing.Testing() && !onLoopback(server) {
		// a test must never query the internet: its servers are on loopback
		return nil, server, &Error{Kind: Network, Name: name, Server: server,
			Detail: "a test asked a name server outside loopback: give the test loopback root hints"}
	}
	resp, err := it.send(ctx, a, server, name, t, true)
	if err == nil && (resp.Rcode == dns.RcodeFormatError || resp.Rcode == dns.RcodeNotImplemented) && resp.IsEdns0() == nil {
		// a server that does not know EDNS (RFC 6891 7: FORMERR or NOTIMP
		// without an OPT record) is asked again without it
		resp, err = it.send(ctx, a, server, name, t, false)
	}
	if err != nil {
		return nil, server, err
	}
	if len(resp.Question) != 1 || !strings.EqualFold(resp.Question[0].Name, dns.Fqdn(name)) || resp.Question[0].Qtype != uint16(t) {
		// over UDP such an answer is dropped as not ours; over TCP (after a
		// truncated answer) it is this server's only answer
		return nil, server, &Error{Kind: Malformed, Name: name, Server: server, Tries: 1, Detail: "the answer is for a different question"}
	}
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	case dns.RcodeServerFailure:
		return nil, server, &Error{Kind: ServFail, Name: name, Server: server, Tries: 1}
	case dns.RcodeRefused:
		return nil, server, &Error{Kind: Refused, Name: name, Server: server, Tries: 1}
	default:
		return nil, server, &Error{Kind: BadRcode, Name: name, Server: server, Tries: 1, Detail: dns.RcodeToString[resp.Rcode]}
	}
	if !resp.Authoritative && it.referralOf(resp, zone, name) == nil {
		return nil, server, &Error{Kind: Malformed, Name: name, Server: server, Tries: 1, Err: errLame,
			Detail: fmt.Sprintf("lame: the server does not answer for %s (no authoritative answer, no referral)", zoneName(zone))}
	}
	if other := foreignAuthority(resp, zone, name); other != "" {
		return nil, server, &Error{Kind: Malformed, Name: name, Server: server, Tries: 1, Err: errLame,
			Detail: fmt.Sprintf("lame: the server answers from %s, not from %s", other, zoneName(zone))}
	}
	return resp, server, nil
}

// send makes one exchange with the server at a (server): RD=0, the full name,
// EDNS0 if edns; TCP when the answer is truncated. A timeout marks the server
// slow.
func (it *Iterator) send(ctx context.Context, a netip.Addr, server, name string, t Type, edns bool) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), uint16(t))
	q.RecursionDesired = false
	if edns {
		q.SetEdns0(directPayload, false)
	}
	it.sent.Add(1)
	if n, ok := ctx.Value(counterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	var resends int
	var late bool
	win := it.tr.windowOf(server) // each name server its own window, as the resolver has
	seq := win.Acquire(ctx)
	if seq == 0 {
		return nil, &Error{Kind: Canceled, Name: name, Server: server}
	}
	rep, _, err := it.tr.try(ctx, msgQuestion(q), server, true, &resends, &late)
	win.Release(seq, late)
	if err != nil {
		e := classifyNetErr(ctx, err)
		e.Name, e.Server, e.Tries = name, server, 1
		if e.Kind == Timeout {
			it.note(it.slow, a)
		}
		return nil, e
	}
	it.note(it.alive, a)
	return rep.msg, nil // the iterator's own questions are never read as negatives
}

// foreignAuthority names the zone of an answer's authority section that is not
// the one asked (zone, or a zone below it that holds name): the SOA of a
// negative answer from another zone (a server that serves the root, or a parent
// zone's stale copy, says NXDOMAIN for every name it does not hold), or name
// servers above or beside zone (an upward referral, with AA set or not). Such
// an answer says nothing about zone: its NXDOMAIN or no data is never clean.
// "" when the authority section is the zone's own.
func foreignAuthority(resp *dns.Msg, zone, name string) string {
	for _, rr := range resp.Ns {
		owner := canonical(rr.Header().Name)
		switch rr.(type) {
		case *dns.SOA:
			if !isBelow(owner, zone) || !isBelow(name, owner) {
				return zoneName(owner)
			}
		case *dns.NS:
			if !isBelow(owner, zone) {
				return zoneName(owner)
			}
		}
	}
	return ""
}

// isBelow says whether name is zone or a name in it ("" is the root).
func isBelow(name, zone string) bool {
	return zone == "" || name == zone || strings.HasSuffix(name, "."+zone)
}

// parentOf is the name one label up ("" above a top-level name).
func parentOf(name string) string {
	if _, rest, ok := strings.Cut(name, "."); ok {
		return rest
	}
	return ""
}

// childOf is the name one label below zone on the way to name.
func childOf(name, zone string) string {
	if name == zone {
		return name
	}
	head := name
	if zone != "" {
		head = strings.TrimSuffix(name, "."+zone)
	}
	if i := strings.LastIndexByte(head, '.'); i >= 0 {
		head = head[i+1:]
	}
	if zone == "" {
		return head
	}
	return head + "." + zone
}

func zoneName(zone string) string {
	if zone == "" {
		return "the root"
	}
	return zone
}

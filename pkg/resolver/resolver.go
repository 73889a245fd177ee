// Package resolver is blcheck's one DNS layer: UDP with TCP on truncation, a
// per-query timeout, retries on timeout and SERVFAIL only (never on NXDOMAIN),
// several servers, and deduplication of identical queries in flight.
//
// It is the only package that uses github.com/miekg/dns for queries; its API
// speaks net/netip and its own types. It uses miekg/dns for messages (packing,
// parsing) and for TCP, but not its UDP client: a dns.Conn carries one
// outstanding query at a time (dns.Client.ExchangeContext dials a socket per
// query, or waits for the answer on a shared Conn before the next query can
// use it), and dns.Client shares nothing between identical queries in flight.
// A bulk run keeps hundreds of queries in flight to one server, so the UDP
// multiplexer (udpMux: a few long-lived sockets, answers matched by ID and
// question, batched sends and reads on Linux) and the sharing of in-flight
// queries (Client.inflight) are written here by hand.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Type is a DNS query type.
type Type uint16

// The query types blcheck uses.
const (
	TypeA    Type = Type(dns.TypeA)
	TypeAAAA Type = Type(dns.TypeAAAA)
	TypeMX   Type = Type(dns.TypeMX)
	TypeTXT  Type = Type(dns.TypeTXT)
	TypePTR  Type = Type(dns.TypePTR)
	TypeNS   Type = Type(dns.TypeNS)
)

func (t Type) String() string { return dns.TypeToString[uint16(t)] }

// Limits on what is taken from one answer, so a hostile server cannot make us
// hold or print unbounded data.
const (
	MaxAddrs    = 32
	MaxTXT      = 8
	MaxTXTBytes = 2048
	maxCNAME    = 8
)

// MX is one mail exchanger.
type MX struct {
	Pref uint16
	Host string // lower case, no trailing dot; "" for a null MX (RFC 7505)
}

// Answer is a DNS answer that came back with NOERROR or NXDOMAIN.
type Answer struct {
	Name     string
	NXDomain bool
	Addrs    []netip.Addr // A or AAAA records of Name (CNAMEs followed)
	TXT      []string     // TXT records of Name, each record's strings joined
	MX       []MX
	PTR      []string // PTR records of Name: host names, lower case, no trailing dot
	NS       []string // NS records of Name: host names, lower case, no trailing dot
	Extra    int      // records of the asked type that belonged to another name (ignored)
	// Capped counts the A or AAAA records past MaxAddrs that were not kept: the
	// answer was only partly read.
	Capped int
	// TTL is how long the answer may be kept: the least TTL of the records it
	// was read from, or for NXDOMAIN and NOERROR without records the SOA's
	// negative TTL (RFC 2308: the lesser of its TTL and MINIMUM); 0 without one.
	TTL    time.Duration
	RTT    time.Duration
	Server string
	// Resends counts the copies of the query sent again because no answer came
	// within an RTO, over all tries.
	Resends int
	// Lost says that the answer came to a copy sent again, not to the first: a
	// packet was lost on the way (each copy has its own ID, so an answer to the
	// first copy that came late says only that the server was slow).
	Lost bool
	// At is when the answer came, from time.Now (its monotonic reading orders it
	// against other events of this process); an answer given again from the
	// cache keeps the time it first came. A long-lived checker confirms a listing
	// by the list's test points asked after At.
	At time.Time
}

// ErrorKind classifies a failed query.
type ErrorKind string

// The kinds of failure.
const (
	Timeout   ErrorKind = "timeout"
	ServFail  ErrorKind = "servfail"
	Refused   ErrorKind = "refused"
	Network   ErrorKind = "network"
	Malformed ErrorKind = "malformed"
	BadRcode  ErrorKind = "rcode"
	Canceled  ErrorKind = "canceled"
)

// Error is a query that got no usable answer.
type Error struct {
	Kind   ErrorKind
	Name   string
	Server string
	Tries  int
	Detail string
	// Err is a cause that errors.Is can match (ErrRootUnreachable), or nil.
	Err error
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var msg string
	switch e.Kind {
	case Timeout:
		msg = "no answer (timed out)"
	case ServFail:
		msg = "SERVFAIL (the server failed to answer)"
	case Refused:
		msg = "REFUSED (the server will not answer this query)"
	case Network:
		msg = "network error"
	case Malformed:
		msg = "malformed answer"
	case Canceled:
		msg = "interrupted"
	default:
		msg = "unexpected response"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Tries > 1 {
		msg += fmt.Sprintf(" after %d tries", e.Tries)
	}
	if e.Server != "" {
		msg += " from " + e.Server
	}
	return msg
}

// Resolver answers DNS questions. *Client implements it; tests may use fakes.
type Resolver interface {
	Lookup(ctx context.Context, name string, t Type) (*Answer, error)
	Start(ctx context.Context, name string, t Type) *Pending
	StartAll(ctx context.Context, names []string, t Type) []*Pending
	Servers() []string
	// Concurrency is the most queries the resolver keeps in flight, for every
	// caller together: a caller sizes its queues by it. The resolver bounds
	// them itself (StartAll waits for its window); a caller never does.
	Concurrency() int
}

// Config configures a Client.
type Config struct {
	Servers []string      // host:port; see ParseServer
	Timeout time.Duration // per try; default 3s
	Retries int           // extra tries after a timeout or SERVFAIL
	// CacheSize bounds the answer cache (0: DefaultCacheSize answers). Only
	// answers are cached, never failures. When it is full, the answer used
	// least recently makes room: a target asked again and again stays cached
	// while a sweep of many others passes through.
	CacheSize int
	// MaxCacheTTL caps how long an answer is kept (0: an hour). An answer is
	// never kept longer than its DNS TTL, nor a negative one longer than its
	// SOA allows (RFC 2308): a long-lived client sees a delisting once the
	// list's TTL has passed. A negative MaxCacheTTL turns the cache off.
	MaxCacheTTL time.Duration
	// Concurrency is the most queries in flight at once, shared by every
	// caller (0: DefaultConcurrency); fewer at first (FirstBurst, doubling each
	// round trip) and while the server drops some.
	Concurrency int
	// Now is the clock the cache's expiry reads, for tests; nil means time.Now.
	Now func() time.Time
}

// DefaultConcurrency is the number of queries in flight when Config leaves it unset.
const DefaultConcurrency = 128

// DefaultCacheSize is the number of answers cached when Config leaves it unset.
const DefaultCacheSize = 4096

// DefaultMaxCacheTTL is the cap on an answer's time in the cache.
const DefaultMaxCacheTTL = time.Hour

// cached is an answer in the cache, until it expires.
type cached struct {
	a       *Answer
	expires time.Time
}

// Client is the DNS client blcheck uses.
type Client struct {
	servers []string
	timeout time.Duration
	retries int
	tcp     *dns.Client

	mu       sync.Mutex
	cache    *lru // guarded by mu; expiry checked on read
	inflight map[queryKey]*Pending
	maxTTL   time.Duration
	now      func() time.Time // the clock, for tests

	muxes   sync.Map    // server -> *udpMux
	closed  atomic.Bool // set by Close, before it closes the muxes
	winMu   sync.Mutex
	windows map[string]*Window // one per server asked, made on first use
	conc    int                // Config.Concurrency: each window's most

	// rtt is the round trip of the window's queries (not the health probes,
	// which a caching resolver answers from its cache), for retransmission
	rtt rttEstimate

	hits, shared, sent atomic.Int64 // Stats
}

// New returns a Client. It needs at least one server.
func New(cfg Config) (*Client, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("no DNS resolver configured")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.MaxCacheTTL == 0 {
		cfg.MaxCacheTTL = DefaultMaxCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	return &Client{
		servers:  cfg.Servers,
		timeout:  cfg.Timeout,
		retries:  cfg.Retries,
		tcp:      &dns.Client{Net: "tcp", Timeout: cfg.Timeout},
		cache:    newLRU(cfg.CacheSize),
		inflight: map[queryKey]*Pending{},
		maxTTL:   cfg.MaxCacheTTL,
		now:      cfg.Now,
		windows:  map[string]*Window{},
		conc:     cfg.Concurrency,
	}, nil
}

// Window returns the window of the server queried first (for tests and
// figures): the Client takes a slot of it for each query it sends, and gives it
// back when the query's first try ends, with whether its packets were lost.
func (c *Client) Window() *Window { return c.windowOf(c.servers[0]) }

// windowOf is server's window, made on first use.
func (c *Client) windowOf(server string) *Window {
	c.winMu.Lock()
	defer c.winMu.Unlock()
	w := c.windows[server]
	if w == nil {
		w = newWindow(c.conc, FirstBurst)
		c.windows[server] = w
	}
	return w
}

// Concurrency is the most queries the Client keeps in flight to one server.
func (c *Client) Concurrency() int { return c.conc }

// Servers returns the servers in use, host:port.
func (c *Client) Servers() []string { return append([]string(nil), c.servers...) }

// Lookup asks for name's records of type t. NXDOMAIN and NOERROR are answers;
// everything else is an *Error. Identical lookups in flight are made once.
func (c *Client) Lookup(ctx context.Context, name string, t Type) (*Answer, error) {
	return c.Start(ctx, name, t).Wait()
}

// Pending is a query that Start has sent; Wait gives its answer. A try that
// times out is tried again at once, waited for or not; a Pending that nobody
// waits for ends at its timeout, or when its context does.
type Pending struct {
	c     *Client
	ctx   context.Context
	key   queryKey // the name asked (lower case, no final dot) and the type
	first *muxCall // the first try, sent by Start
	sent  time.Time
	err0  error // the first try could not be sent
	// ready holds one count (claim's) until the fields above are set: a
	// WaitGroup, which several callers may wait for, and which costs no
	// allocation of its own as a channel closed would
	ready sync.WaitGroup
	// win and seq: the window slot the query holds (win nil: none), given back
	// once (freed) when its first try ends, or when it could not be sent
	win   *Window
	seq   uint64
	freed atomic.Bool
	once  sync.Once
	a     *Answer
	err   error
	// noStore keeps the answer out of the cache (WithoutCache)
	noStore bool
	// room is where a negative answer is written (nil: an Answer of its
	// own), a piece of one slab for the batch's (claim): most answers of a
	// bulk run are negative, and are cached with the rest of their batch
	room *Answer
	// joined is, for a caller that joined another's query in flight (claim),
	// that query: its answer is this one's, unless its caller gave up first
	joined *Pending
}

// joinedBy is p for a caller, with ctx, who asks the same question while p
// is in flight: p itself when p cannot end before ctx does (its context is
// never canceled, or is canceled with ctx: one caller's queries), else a
// Pending that shares p's answer but asks again should p end because its own
// caller gave up while ctx has time left (a probe with a shorter scrape
// timeout than another's, for one target).
func (p *Pending) joinedBy(ctx context.Context) *Pending {
	if done := p.ctx.Done(); done == nil || done == ctx.Done() {
		return p
	}
	return &Pending{c: p.c, ctx: ctx, key: p.key, joined: p}
}

// waitJoined is Wait for a caller that joined another's query.
func (p *Pending) waitJoined() (*Answer, error) {
	a, err := p.joined.Wait()
	var re *Error
	if errors.As(err, &re) && re.Kind == Canceled && p.joined.ctx.Err() != nil && p.ctx.Err() == nil {
		return p.c.Lookup(p.ctx, p.key.name, p.key.t) // the query's caller gave up, this one did not: asked again
	}
	return a, err
}

// Start sends the query for name's records of type t and returns once it is
// sent (StartAll), so that one goroutine can have many queries in flight. A
// cached answer, or an identical query already in flight, is shared instead of
// asked again.
func (c *Client) Start(ctx context.Context, name string, t Type) *Pending {
	if p := c.StartAll(ctx, []string{name}, t)[0]; p != nil {
		return p
	}
	return Answered(nil, &Error{Kind: Canceled, Name: name})
}

// StartAll is Start for several names at once. Their queries take slots of the
// server's window: those that have one leave together in one system call
// (sendmmsg, about half as much a query as one write each), and StartAll waits
// for slots to free up for the rest, so that it returns when all are sent. A
// query's slot is given back when its first try ends (its answer came, or its
// time ran out), whoever reads the answer, with whether its packets were lost:
// the window's loss signal. A name whose query was not sent has a nil Pending:
// ctx ended while it waited for a slot, or (IfFree) no slot was free at once.
// Queries under Unbounded take no slot.
func (c *Client) StartAll(ctx context.Context, names []string, t Type) []*Pending {
	ps, fresh := c.claim(ctx, names, t)
	if len(fresh) == 0 {
		return ps
	}
	c.sent.Add(int64(len(fresh)))
	if n, ok := ctx.Value(counterKey{}).(*atomic.Int64); ok {
		n.Add(int64(len(fresh)))
	}
	win := c.windowOf(c.servers[0])
	if ctx.Value(unbounded{}) != nil {
		win = nil
	}
	for start := 0; start < len(fresh); {
		end := start + takeSlots(ctx, win, fresh[start:])
		if end == start { // ctx ended waiting: the rest are not sent
			c.unsent(ps, fresh[start:])
			break
		}
		c.send(ctx, fresh[start:end])
		start = end
	}
	return ps
}

// claim finds names' answers in the cache or in flight, and makes the Pendings
// of the rest (fresh), registered in flight. Under IfFree, a fresh query that
// finds no free slot at once is given none: its Pending is nil. The fresh
// Pendings, and the room for their negative answers, are pieces of two slabs
// made at the first: a batch's queries are answered, and their Pendings
// dropped, at about the same time. The answers are kept apart, so that a
// cached answer keeps no Pending (nor its query's buffers) alive; a cached
// negative answer does keep its batch's room alive, a few kilobytes at most
// (a subject's lists, or a run's test points), until the last of them leaves
// the cache: the entries of a batch are made and evicted at about one time.
func (c *Client) claim(ctx context.Context, names []string, t Type) (ps, fresh []*Pending) {
	ps = make([]*Pending, len(names))
	uncached := ctx.Value(noCache{}) != nil
	ifFree := ctx.Value(ifFree{}) != nil
	var win *Window
	if ifFree {
		win = c.windowOf(c.servers[0])
	}
	var slab []Pending
	var rooms []Answer
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, name := range names {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		key := queryKey{name, t}
		if !uncached { // a health probe neither reads the cache nor makes an entry recently used
			if e, ok := c.cache.Get(key); ok {
				if c.now().Before(e.expires) {
					ps[i] = Answered(e.a, nil)
					c.hits.Add(1)
					continue
				}
				c.cache.Remove(key) // past its TTL: asked again
			}
		}
		if p, ok := c.inflight[key]; ok && p.ctx.Err() == nil { // a canceled caller's query is not joined
			ps[i] = p.joinedBy(ctx)
			c.shared.Add(1)
			continue
		}
		var seq uint64
		if ifFree {
			if seq = win.TryAcquire(); seq == 0 {
				continue // not sent: nil
			}
		}
		if fresh == nil {
			slab = make([]Pending, len(names)-i) // room for the rest
			rooms = make([]Answer, len(slab))
			fresh = make([]*Pending, 0, len(slab))
		}
		p := &slab[len(fresh)]
		*p = Pending{c: c, ctx: ctx, key: key, noStore: uncached, room: &rooms[len(fresh)]}
		if seq != 0 {
			p.win, p.seq = win, seq
		}
		p.ready.Add(1)
		c.inflight[key] = p
		ps[i] = p
		fresh = append(fresh, p)
	}
	return ps, fresh
}

// takeSlots gets slots of win for the first of ps, waiting for one, and for
// as many of the rest as are free at once: they leave together. It returns
// how many have a slot, 0 if ctx ended first. The slots are taken in the
// caller's turn: a window that gives back an eighth of its slots at once has
// one caller send them, not several callers a slot or two each. Queries that
// claim gave their slots already (IfFree) wait for no turn: they would hold
// slots while waiting behind a caller who waits for one.
func takeSlots(ctx context.Context, win *Window, ps []*Pending) int {
	if win != nil && ps[0].win == nil {
		if !win.enter(ctx) {
			return 0
		}
		defer win.leave()
	}
	n := 0
	for n < len(ps) && ps[n].take(ctx, win, n > 0) {
		n++
	}
	return n
}

// take gets the query a slot of win, unless it has one or win is nil:
// waiting for it (until ctx ends), or only if one is free at once (noWait).
func (p *Pending) take(ctx context.Context, win *Window, noWait bool) bool {
	if win == nil || p.win != nil {
		return true
	}
	if noWait {
		p.seq = win.TryAcquire()
	} else {
		p.seq = win.Acquire(ctx)
	}
	if p.seq == 0 {
		return false
	}
	p.win = win
	return true
}

// send sends fresh queries that have their slots, in one batch.
func (c *Client) send(ctx context.Context, fresh []*Pending) {
	if ctx.Err() == nil {
		b := batchPool.Get().(*batchLists)
		b.size(len(fresh))
		for i, p := range fresh {
			b.qs[i] = p.question()
			b.expired[i] = p
		}
		now := time.Now()
		c.mux(c.servers[0]).startAll(ctx, b.qs, now, c.timeout, b.expired, b.mqs, b.errs)
		for i, p := range fresh {
			p.sent, p.first, p.err0 = now, b.mqs[i], b.errs[i]
			if p.first == nil && p.err0 == nil {
				p.err0 = errClosed
			}
		}
		b.put()
	}
	for _, p := range fresh {
		if p.first == nil {
			p.ended(false) // not sent: its slot is free at once
		}
		p.ready.Done()
	}
}

// batchLists are the lists a batch is sent with (send), reused from batch
// to batch (batchPool): its questions, whom to tell of their timeouts, and
// for each its call or the error that kept it from being sent.
type batchLists struct {
	qs      []question
	expired []expirer
	mqs     []*muxCall
	errs    []error
}

var batchPool = sync.Pool{New: func() any { return new(batchLists) }}

// size makes each list n long.
func (b *batchLists) size(n int) {
	b.qs = slices.Grow(b.qs[:0], n)[:n]
	b.expired = slices.Grow(b.expired[:0], n)[:n]
	b.mqs = slices.Grow(b.mqs[:0], n)[:n]
	b.errs = slices.Grow(b.errs[:0], n)[:n]
}

// put clears the lists (keeping no query alive) and gives them back.
func (b *batchLists) put() {
	clear(b.qs)
	clear(b.expired)
	clear(b.mqs)
	clear(b.errs)
	batchPool.Put(b)
}

// unsent drops the fresh queries that were never sent: their Pendings are nil,
// and out of the queries in flight.
func (c *Client) unsent(ps, fresh []*Pending) {
	c.mu.Lock()
	for _, p := range fresh {
		if c.inflight[p.key] == p {
			delete(c.inflight, p.key)
		}
		if i := slices.Index(ps, p); i >= 0 {
			ps[i] = nil
		}
		p.ended(false)
		p.err0 = &Error{Kind: Canceled, Name: p.key.name}
		p.ready.Done() // a caller that joined it meanwhile is told
	}
	c.mu.Unlock()
}

// ended gives the query's window slot back, once.
func (p *Pending) ended(lost bool) {
	if p.win != nil && p.freed.CompareAndSwap(false, true) {
		p.win.Release(p.seq, lost)
	}
}

// noCache marks a context whose queries skip the answer cache.
type noCache struct{}

// unbounded and ifFree mark contexts whose queries take no window slot, or one
// only if it is free at once.
type (
	unbounded struct{}
	ifFree    struct{}
)

// Unbounded returns a context whose queries take no slot of the window, nor
// wait for one: a few queries that others in flight wait for (a list's test
// points), which must never queue behind them.
func Unbounded(ctx context.Context) context.Context { return context.WithValue(ctx, unbounded{}, true) }

// IfFree returns a context under which StartAll sends a query only if a slot
// of the window is free at once: its Pending is nil otherwise. For queries
// worth sending only when they cost no wait (a TXT asked beside its A).
func IfFree(ctx context.Context) context.Context { return context.WithValue(ctx, ifFree{}, true) }

// WithoutCache returns a context whose lookups are asked of the server, not
// answered from the cache, and not kept in it: a health check, which must say
// how a list is now. An identical query in flight is still shared.
func WithoutCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, noCache{}, true)
}

// Forget drops the cached answers of each zone and of every name below it: a
// list whose health turned bad may have lied in them. Queries in flight are
// not affected. The cache is walked once for all the zones: a run's end that
// forgets several lists' zones walks a cache of thousands of answers once, not
// once a list.
func (c *Client) Forget(zones ...string) {
	if len(zones) == 0 {
		return
	}
	norm := make([]string, len(zones))
	for i, z := range zones {
		norm[i] = strings.ToLower(strings.TrimSuffix(z, "."))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.cache.Keys() {
		for _, zone := range norm {
			if under(k.name, zone) {
				c.cache.Remove(k)
				break
			}
		}
	}
}

// under says whether name is zone or a name below it.
func under(name, zone string) bool {
	return strings.HasSuffix(name, zone) &&
		(len(name) == len(zone) || name[len(name)-len(zone)-1] == '.')
}

// counterKey marks a context whose queries are counted.
type counterKey struct{}

// WithCounter returns a context under which every query sent to a server (not
// answered from the cache, nor shared with an identical one in flight) adds one
// to n: what one probe or run cost the server.
func WithCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, counterKey{}, n)
}

// Stats counts the lookups a Client answered from its cache (Hits), shared with
// an identical query in flight (Shared) and sent to a server (Sent).
type Stats struct {
	Hits, Shared, Sent int64
}

// Stats returns the Client's counts since it was made.
func (c *Client) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Shared: c.shared.Load(), Sent: c.sent.Load()}
}

// queryKey names a query in the cache and among those in flight.
type queryKey struct {
	name string
	t    Type
}

// question is the Pending's query as the multiplexer packs it.
func (p *Pending) question() question {
	return question{name: p.key.name, qtype: uint16(p.key.t)}
}

// expire runs when the Pending's first try times out: the next try must not wait
// for someone to wait, since a caller waiting for several Pendings in turn would
// otherwise add their timeouts up.
func (p *Pending) expire() { _, _ = p.Wait() }

// Answered is a Pending whose answer is already in: a cached answer, or a fake
// Resolver's (tests of the packages above need no server).
func Answered(a *Answer, err error) *Pending {
	p := &Pending{a: a, err: err} // ready has no count: Wait does not wait
	p.once.Do(func() {})
	return p
}

// Wait returns the answer: the first try's, or a retry's after a timeout or
// SERVFAIL. Several goroutines may wait for the same Pending.
func (p *Pending) Wait() (*Answer, error) {
	if p.joined != nil {
		return p.waitJoined()
	}
	p.ready.Wait()
	p.once.Do(p.resolve)
	return p.a, p.err
}

func (p *Pending) resolve() {
	c := p.c
	p.a, p.err = c.exchange(p)
	p.ended(Lost(p.a, p.err)) // if its first try's end did not already
	if p.a != nil {
		p.a.At = time.Now()
	}
	c.mu.Lock()
	if c.inflight[p.key] == p {
		delete(c.inflight, p.key)
	}
	if ttl := min(p.a.ttl(), c.maxTTL); p.err == nil && ttl > 0 && !p.noStore {
		c.cache.Add(p.key, cached{p.a, c.now().Add(ttl)}) // evicts the least recently used when full
	}
	c.mu.Unlock()
}

func (c *Client) exchange(p *Pending) (*Answer, error) {
	ctx, name, q := p.ctx, p.key.name, p.question()
	tries := 1 + c.retries
	var last *Error
	resends, late := 0, false
	for i := 0; i < tries; i++ {
		// an answer that came before ctx ended is read, not thrown away: a
		// caller that reads its answers in turn (dnsbl's takers) may come to it
		// after a stop, having waited for a server that never answered
		if err := ctx.Err(); err != nil && (i > 0 || p.first == nil || !p.first.answered()) {
			if i == 0 && p.first != nil {
				p.first.stop()
			}
			return nil, &Error{Kind: Canceled, Name: name, Tries: i}
		}
		server := c.servers[i%len(c.servers)]
		var resp reply
		var rtt time.Duration
		var err error
		switch {
		case i == 0 && p.err0 != nil:
			err = p.err0
		case i == 0:
			resp, rtt, err = c.await(ctx, q, p.first, p.sent, server, p.win != nil, &resends, &late)
		default:
			resends++ // a new try is a copy sent again too
			resp, rtt, err = c.try(ctx, q, server, p.win != nil, &resends, &late)
		}
		if err != nil {
			last = classifyNetErr(ctx, err)
			last.Name, last.Server, last.Tries = name, server, i+1
			if last.Kind == Canceled || last.Kind == Malformed {
				return nil, last
			}
			continue // timeout or network error: try again
		}
		switch resp.rcode() {
		case dns.RcodeSuccess, dns.RcodeNameError:
			var a *Answer
			var err error
			if resp.isNeg {
				a = resp.neg.answer(p.room, name, rtt, server)
			} else {
				a, err = parse(q, resp.msg, name, p.key.t, rtt, server)
			}
			if a != nil {
				a.Resends, a.Lost = resends, late
			}
			return a, err
		case dns.RcodeServerFailure:
			last = &Error{Kind: ServFail, Name: name, Server: server, Tries: i + 1}
			continue
		case dns.RcodeRefused:
			return nil, &Error{Kind: Refused, Name: name, Server: server, Tries: i + 1}
		default:
			return nil, &Error{Kind: BadRcode, Name: name, Server: server, Tries: i + 1,
				Detail: dns.RcodeToString[resp.rcode()]}
		}
	}
	return nil, last
}

// rto is how long a try waits before sending its query again: the larger of
// four smoothed round trips and the smoothed round trip plus four times its
// variation (RFC 6298), at least minRTO, at most half the timeout; 500ms before
// any round trip is known. A lost UDP packet then costs about one RTO, not a
// whole timeout.
func (c *Client) rto() time.Duration {
	srtt, rttvar := c.rtt.get()
	if srtt == 0 {
		return min(500*time.Millisecond, c.timeout/2)
	}
	return min(max(4*srtt, srtt+4*rttvar, minRTO), c.timeout/2)
}

// minRTO is the shortest wait before a query is sent again. A server that
// answers in a millisecond (an rbldnsd mirror on the same network, or on the
// machine) and drops queries when its socket buffer is full would otherwise
// have each lost query hold its window slot for much longer than the run needs
// it. A -c 256 run against rbldnsd loses 100 to 170 queries to its full socket
// buffer, as dnsperf's own run does; those lost near the end are the run's
// tail. With 50ms, the 1024-address run of compare.py took 170-240 ms; with
// 20ms 145-200; with 10ms (and its clock's tick at a quarter of the RTO, not
// 5ms) its median rose from 0.80 to 0.88 and from 0.91 to 1.06 times dnsperf's
// queries a second in two interleaved sets. 10ms is still ten round trips of
// such a server. A server whose answers vary (a resolver that answers some from
// its cache and asks the lists for others) has a variation that keeps its RTO
// well above this.
const minRTO = 10 * time.Millisecond

// rttEstimate is the smoothed round trip and its variation (RFC 6298).
type rttEstimate struct {
	mu           sync.Mutex
	srtt, rttvar time.Duration
}

func (e *rttEstimate) get() (srtt, rttvar time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srtt, e.rttvar
}

func (e *rttEstimate) observe(rtt time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srtt == 0 {
		e.srtt, e.rttvar = rtt, rtt/2
		return
	}
	e.rttvar += (max(e.srtt-rtt, rtt-e.srtt) - e.rttvar) / 4
	e.srtt += (rtt - e.srtt) / 8
}

// try makes one exchange with server: see await.
func (c *Client) try(ctx context.Context, q question, server string, sample bool, resends *int, late *bool) (reply, time.Duration, error) {
	start := time.Now()
	var mqs [1]*muxCall
	var errs [1]error
	c.mux(server).startAll(ctx, []question{q}, start, c.timeout, nil, mqs[:], errs[:])
	mq, err := mqs[0], errs[0]
	if err != nil {
		return reply{}, 0, err
	}
	if mq == nil {
		return reply{}, 0, errClosed
	}
	return c.await(ctx, q, mq, start, server, sample, resends, late)
}

// reply is what a try got: the message, or (isNeg) the negative answer read
// from it without unpacking.
type reply struct {
	msg   *dns.Msg
	neg   negative
	isNeg bool
}

func (r reply) rcode() int {
	if r.isNeg {
		return r.neg.rcode
	}
	return r.msg.Rcode
}

// await waits for the answer to a try sent at start. The socket's clock sends
// the query again after an RTO without an answer, then after twice as long, and
// so on (any answer to any copy counts), and ends the try at the timeout or when
// ctx is done; a truncated answer is asked again over TCP. Each copy sent again
// is counted in *resends, and *late is set when the answer came to one of them.
// The round trip is a sample of the RTO's estimate when sample is set.
func (c *Client) await(ctx context.Context, q question, mq *muxCall, start time.Time, server string, sample bool, resends *int, late *bool) (reply, time.Duration, error) {
	r := mq.wait() // said once the call is over (finish): nothing is left to stop
	*resends += r.sent - 1
	*late = r.copy > 1
	rtt := r.at.Sub(start)
	if r.err != nil {
		return reply{}, rtt, r.err
	}
	if r.copy == 1 && sample {
		// Each copy has its own ID, so an answer to the first is a round trip
		// from the first send even when copies followed it (Karn's ambiguity
		// does not arise). Sampling only queries sent once would never see an
		// answer slower than the RTO: after a few cache hits, a caching
		// resolver's misses would all be sent again every 10ms and never
		// raise it.
		c.rtt.observe(rtt)
	}
	if r.isNeg {
		return reply{neg: r.neg, isNeg: true}, rtt, nil
	}
	if r.msg.Truncated {
		msg, rtt, err := c.overTCP(ctx, q, server, start.Add(c.timeout))
		return reply{msg: msg}, rtt, err
	}
	return reply{msg: r.msg}, rtt, nil
}

// overTCP asks q again over TCP after a truncated answer, within the try's own
// deadline: miekg/dns gives each read and write of an exchange the client's
// whole timeout again, so the connection is closed when the deadline passes.
func (c *Client) overTCP(ctx context.Context, q question, server string, deadline time.Time) (*dns.Msg, time.Duration, error) {
	tctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := c.tcp.DialContext(tctx, server)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(tctx, func() { conn.Close() })
	defer stop()
	tq := q.Msg()
	tq.Id = dns.Id()
	resp, rtt, err := c.tcp.ExchangeWithConnContext(tctx, tq, conn)
	if err != nil && tctx.Err() != nil {
		return nil, rtt, tctx.Err() // the deadline (or ctx) ended it, not the server
	}
	if err == nil && (!resp.Response || resp.Opcode != dns.OpcodeQuery) {
		return nil, rtt, errNotAnswer // miekg/dns checks only the ID; parse checks the question
	}
	return resp, rtt, err
}

// errNotAnswer is a TCP reply that is not an answer (QR clear, or another
// opcode than QUERY): our own query sent back, say.
var errNotAnswer = errors.New("the reply over TCP is not an answer")

// Sweep has the clock of every socket look at its queries now, not at its
// next tick: a query whose context has ended is ended at once. A caller that
// cancels queries and then waits for them to end (a run's end, which cancels
// the TXT queries it no longer needs) calls it after the cancel.
func (c *Client) Sweep() {
	c.muxes.Range(func(_, v any) bool {
		m := v.(*udpMux)
		for i := range m.socks {
			if s := m.socks[i].Load(); s != nil {
				s.sweep()
			}
		}
		return true
	})
}

func (c *Client) mux(server string) *udpMux {
	if m, ok := c.muxes.Load(server); ok {
		return m.(*udpMux)
	}
	v, _ := c.muxes.LoadOrStore(server, newUDPMux(server, c.rto))
	m := v.(*udpMux)
	if c.closed.Load() { // made after Close looked: it dials nothing (errClosed)
		m.close()
	}
	return m
}

// Prepare dials the socket that the first queries will leave from, so that
// they need not wait for it: a front end calls it in a goroutine of its own as
// soon as it has the Client, while it plans what to ask. Dialling a UDP socket
// sends nothing. A failure is left for the first queries to meet and report.
func (c *Client) Prepare(ctx context.Context) {
	_ = c.mux(c.servers[0]).prepare(ctx)
}

// Close releases the sockets; queries still waiting end with an error, and
// those started after it (a Prepare still on its way included) dial nothing.
func (c *Client) Close() {
	c.closed.Store(true) // a mux made from now on is closed at once (mux)
	c.muxes.Range(func(_, v any) bool {
		v.(*udpMux).close()
		return true
	})
	c.winMu.Lock()
	for _, w := range c.windows {
		w.stop()
	}
	c.winMu.Unlock()
}

func classifyNetErr(ctx context.Context, err error) *Error {
	if ctx.Err() != nil {
		return &Error{Kind: Canceled}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Kind: Timeout}
	}
	if errors.Is(err, errClosed) || errors.Is(err, errTooMany) {
		// our own limits, not the server's answer
		return &Error{Kind: Network, Detail: err.Error()}
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		// the system's words ("connection refused"), not the system call's name
		detail := oe.Err.Error()
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			detail = se.Err.Error()
		}
		return &Error{Kind: Network, Detail: detail}
	}
	// miekg/dns reports unpackable messages as plain errors
	return &Error{Kind: Malformed, Detail: err.Error()}
}

// parse takes from resp only what belongs to the question: records of name
// (following CNAMEs) and of type t.
func parse(q question, resp *dns.Msg, name string, t Type, rtt time.Duration, server string) (*Answer, error) {
	if len(resp.Question) != 1 || !q.is(resp.Question[0].Name, resp.Question[0].Qtype) {
		return nil, &Error{Kind: Malformed, Name: name, Server: server, Tries: 1,
			Detail: "the answer is for a different question"}
	}
	a := &Answer{Name: name, NXDomain: resp.Rcode == dns.RcodeNameError, RTT: rtt, Server: server}
	owner, chain := followCNAMEs(resp, resp.Question[0].Name, t) // the name asked, as answered
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype != uint16(t) {
			continue
		}
		if !strings.EqualFold(rr.Header().Name, owner) {
			a.Extra++
			continue
		}
		a.add(rr)
	}
	used := !a.NXDomain && (len(a.Addrs) > 0 || len(a.TXT) > 0 || len(a.MX) > 0 || len(a.PTR) > 0 || len(a.NS) > 0)
	a.TTL = answerTTL(resp, name, chain, t, used)
	return a, nil
}

// followCNAMEs follows the answer's CNAME chain from owner (up to maxCNAME
// hops) for a query of type t: the name the records are under, and the
// targets followed (for the TTL).
func followCNAMEs(resp *dns.Msg, owner string, t Type) (string, []string) {
	var chain []string
	for hop := 0; hop < maxCNAME; hop++ {
		next := ""
		for _, rr := range resp.Answer {
			if !strings.EqualFold(rr.Header().Name, owner) {
				continue
			}
			if cn, ok := rr.(*dns.CNAME); ok && t != Type(dns.TypeCNAME) {
				next = cn.Target
			}
		}
		if next == "" {
			break
		}
		owner = next
		chain = append(chain, owner)
	}
	return owner, chain
}

// add keeps one record of the answer's type, within the bounds on each kind.
func (a *Answer) add(rr dns.RR) {
	switch r := rr.(type) {
	case *dns.A:
		if len(a.Addrs) >= MaxAddrs {
			a.Capped++
		} else if ip, ok := netip.AddrFromSlice(r.A.To4()); ok {
			a.Addrs = append(a.Addrs, ip)
		}
	case *dns.AAAA:
		if len(a.Addrs) >= MaxAddrs {
			a.Capped++
		} else if ip, ok := netip.AddrFromSlice(r.AAAA.To16()); ok {
			a.Addrs = append(a.Addrs, ip)
		}
	case *dns.TXT:
		if len(a.TXT) < MaxTXT {
			s := unescapeTXT(strings.Join(r.Txt, ""))
			if len(s) > MaxTXTBytes {
				s = s[:MaxTXTBytes]
			}
			a.TXT = append(a.TXT, s)
		}
	case *dns.MX:
		host := strings.ToLower(strings.TrimSuffix(r.Mx, "."))
		a.MX = append(a.MX, MX{Pref: r.Preference, Host: host})
	case *dns.PTR:
		if len(a.PTR) < MaxAddrs {
			a.PTR = append(a.PTR, strings.ToLower(strings.TrimSuffix(r.Ptr, ".")))
		}
	case *dns.NS:
		if len(a.NS) < MaxAddrs {
			a.NS = append(a.NS, strings.ToLower(strings.TrimSuffix(r.Ns, ".")))
		}
	}
}

func (a *Answer) ttl() time.Duration {
	if a == nil {
		return 0
	}
	return a.TTL
}

// answerTTL is the least TTL of the records of the answer that were used (those
// of name and of the CNAME targets followed from it), or the negative TTL of the
// SOA in the authority section for an answer without them.
func answerTTL(resp *dns.Msg, name string, chain []string, t Type, used bool) time.Duration {
	least := uint32(0)
	found := false
	take := func(ttl uint32) {
		if !found || ttl < least {
			least, found = ttl, true
		}
	}
	if used {
		for _, rr := range resp.Answer {
			h := rr.Header()
			if h.Rrtype != uint16(t) && h.Rrtype != dns.TypeCNAME {
				continue
			}
			owner := strings.TrimSuffix(h.Name, ".")
			match := strings.EqualFold(owner, name)
			for _, c := range chain {
				match = match || strings.EqualFold(h.Name, c)
			}
			if match {
				take(h.Ttl)
			}
		}
	} else {
		for _, rr := range resp.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				take(min(soa.Hdr.Ttl, soa.Minttl))
			}
		}
	}
	return time.Duration(least) * time.Second
}

// unescapeTXT undoes miekg/dns's presentation escapes (\DDD and \X) so that TXT
// text is the bytes the server sent; the renderers make it safe to print.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if v, err := strconv.Atoi(s[i+1 : i+4]); err == nil && v < 256 {
				b = append(b, byte(v))
				i += 3
				continue
			}
		}
		b = append(b, s[i+1])
		i++
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParseServer turns HOST, HOST:PORT, IPv6, [IPv6]:PORT into host:port (port 53 by
// default). HOST must be an IP address: a resolver's own name cannot be resolved
// before there is a resolver.
func ParseServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty resolver address")
	}
	host, port := s, "53"
	if _, err := netip.ParseAddr(s); err != nil {
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "", fmt.Errorf("resolver %q is not HOST or HOST:PORT", s)
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("resolver %q: %q is not an IP address", s, host)
	}
	if a.Zone() != "" {
		return "", fmt.Errorf("resolver %q: zoned addresses are not supported", s)
	}
	if why := notUnicast(a); why != "" {
		return "", fmt.Errorf("resolver %q: %s is %s, not one server's address", s, a, why)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("resolver %q: port %q is not a number from 1 to 65535", s, port)
	}
	return net.JoinHostPort(a.String(), port), nil
}

// notUnicast says why a can be no resolver's address: queries to it would go
// to every host of a network, or nowhere.
func notUnicast(a netip.Addr) string {
	switch u := a.Unmap(); {
	case u.IsUnspecified():
		return "the unspecified address"
	case u.IsMulticast():
		return "a multicast address"
	case u == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	}
	return ""
}

// SystemServers reads the name servers from a resolv.conf file.
func SystemServers(path string) ([]string, error) {
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the system resolver from %s: %v", path, err)
	}
	var out []string
	for _, s := range cfg.Servers {
		hp, err := ParseServer(net.JoinHostPort(s, cfg.Port))
		if err == nil {
			out = append(out, hp)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no usable nameserver", path)
	}
	return out, nil
}

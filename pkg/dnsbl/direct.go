package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/blcheck/blcheck/internal/lazyre"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// DirectMode says when a list is asked at its own name servers, found from the
// root (Options.Iterator), instead of through the resolver.
type DirectMode int

const (
	// DirectNever asks the resolver only. It is the zero value: a program asks
	// lists directly only when it says so.
	DirectNever DirectMode = iota
	// DirectAuto asks the resolver first; a list that refuses it (one of its
	// refusal codes, or REFUSED or SERVFAIL for its zone) is asked again at its
	// own servers, and stays asked there while its delegation's TTL lasts.
	DirectAuto
	// DirectAlways asks every list at its own servers; the resolver only
	// expands the targets (A, MX, SPF...).
	DirectAlways
)

// DirectModes are the modes' names, in the order a usage message lists them.
var DirectModes = []string{"auto", "always", "never"}

func (m DirectMode) String() string {
	switch m {
	case DirectAuto:
		return "auto"
	case DirectAlways:
		return "always"
	}
	return "never"
}

// ParseDirectMode reads "auto", "always" or "never".
func ParseDirectMode(s string) (DirectMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto":
		return DirectAuto, nil
	case "always":
		return DirectAlways, nil
	case "never":
		return DirectNever, nil
	}
	return DirectNever, fmt.Errorf("%q is not a direct mode: use auto, always or never", s)
}

// Asked is how a check's list was asked (JSON "asked").
type Asked string

// The ways of asking.
const (
	AskedResolver Asked = "resolver" // through the configured resolver
	AskedDirect   Asked = "direct"   // at the list's own name servers
)

// DirectReport is what a run found out asking lists at their own servers.
type DirectReport struct {
	// Lists are the lists asked directly in this run, in the run's list order.
	Lists []*catalog.List
	// Refused are the lists that refused even the direct query: they refuse
	// this machine itself.
	Refused []DirectRefusal
	// Failed are the lists that refused the resolver and whose own servers did
	// not answer either (silent, lame, out of reach): the resolver's refusal
	// was kept. Not those of Unreachable.
	Failed []DirectFailure
	// Unreachable is set when direct queries could not get out (no root server
	// answered); Error says so. The resolver's answers were kept.
	Unreachable bool
	Error       string
}

// DirectFailure is a list whose direct query got no answer: why, the first
// time in the run.
type DirectFailure struct {
	List  *catalog.List
	Error string
}

// DirectRefusal is a list that refused a query sent from this machine to its
// own servers.
type DirectRefusal struct {
	List  *catalog.List
	Codes []netip.Addr // its refusal codes, or none for a REFUSED rcode
	// Why is the catalog's word on the code, or the rcode.
	Why string
	// Saw is the address the list says it saw, when its TXT answer names one
	// (URIBL's does); TXT is that answer.
	Saw netip.Addr
	TXT string
}

// refusedByResolver says whether a verdict through the resolver is worth asking
// again at the list's own servers: the list's refusal codes, REFUSED or SERVFAIL.
func refusedByResolver(v Verdict) bool {
	return v.Status == Blocked || errors.Is(v.Err, ErrRefused) || errors.Is(v.Err, ErrServFail)
}

// refusedDirectly says whether a direct verdict is a refusal of this machine.
func refusedDirectly(v Verdict) bool {
	return v.Status == Blocked || errors.Is(v.Err, ErrRefused)
}

// start sends one query of list l: at its own servers when direct, else
// through the resolver.
func (r *runner) start(ctx context.Context, l *listState, direct bool, name string, t resolver.Type) *resolver.Pending {
	if direct {
		return r.o.Iterator.Start(ctx, l.zone, name, t)
	}
	return r.o.Resolver.Start(ctx, name, t)
}

// askedOf is how a query was sent.
func askedOf(direct bool) Asked {
	if direct {
		return AskedDirect
	}
	return AskedResolver
}

// askDirect asks name of l's own servers after the resolver's answer v was a
// refusal (DirectAuto), and returns the answer to use: the direct one, or the
// resolver's when the direct query could not be made (no way out, the list's
// servers silent), which is then noted once.
func (r *runner) askDirect(ctx context.Context, l *listState, name string, a *resolver.Answer, v Verdict) (*resolver.Answer, Verdict, bool) {
	l.direct.Store(true)
	if l.limiter != nil && l.limiter.Wait(ctx) != nil {
		return a, v, false
	}
	da, derr := r.o.Iterator.Lookup(ctx, l.zone, name, resolver.TypeA)
	if derr != nil && isCanceled(derr) {
		return nil, Verdict{Status: Error, Error: ErrInterrupted.Error(),
			Err: &CheckError{Kind: ErrInterrupted, Msg: ErrInterrupted.Error(), Cause: derr}}, true
	}
	if derr != nil && kindOf(derr) != ErrRefused {
		r.directFailed(l, derr)
		return a, v, false
	}
	dv := Classify(l.List, da, derr)
	l.askedDirect.Store(true)
	r.ck.stayDirect(ctx, l.pos, r.o.Iterator, l.zone)
	return da, dv, true
}

// directFailed notes a direct query that got no answer: the root unreachable
// is said once for the run, a list's own servers' failure once for the list.
func (r *runner) directFailed(l *listState, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := &r.result.Direct
	switch {
	case errors.Is(err, resolver.ErrRootUnreachable):
		if !d.Unreachable {
			d.Unreachable = true
			d.Error = err.Error()
		}
	case !slices.ContainsFunc(d.Failed, func(f DirectFailure) bool { return f.List == l.List }):
		d.Failed = append(d.Failed, DirectFailure{List: l.List, Error: err.Error()})
	}
}

// refusal records that l refused a direct query (once per list and run), with
// the address it says it saw when its TXT answer names one.
func (r *runner) refusal(ctx context.Context, l *listState, name string, v Verdict) {
	if !l.refusedOnce.CompareAndSwap(false, true) {
		return
	}
	ref := DirectRefusal{List: l.List, Codes: v.Codes, Why: v.Error}
	if i := strings.Index(ref.Why, ": "); i >= 0 && v.Status == Blocked {
		ref.Why = ref.Why[i+2:] // "127.0.0.1: URIBL refuses..." → the meaning
	}
	if v.Status == Blocked {
		if txt, err := r.o.Iterator.Lookup(ctx, l.zone, name, resolver.TypeTXT); err == nil && len(txt.TXT) > 0 {
			ref.TXT = strings.Join(txt.TXT, " | ")
			ref.Saw = SawAddr(ref.TXT)
		}
	}
	r.mu.Lock()
	r.result.Direct.Refused = append(r.result.Direct.Refused, ref)
	r.mu.Unlock()
	if r.obs.Refused != nil {
		r.obsMu.Lock()
		r.obs.Refused(ref)
		r.obsMu.Unlock()
	}
}

var sawRE = lazyre.New(`[0-9A-Fa-f:.]{3,45}`) // compiled when a list first refuses

// SawAddr finds the address a refusal's TXT names ("... your IP 192.0.2.1",
// "[Your DNS IP: 192.0.2.1]"): the last public address in it, or the zero Addr.
func SawAddr(txt string) netip.Addr {
	var saw netip.Addr
	for _, m := range sawRE().FindAllString(txt, 8) {
		a, err := netip.ParseAddr(strings.Trim(m, ".:"))
		if err == nil && NotPublic(a) == "" {
			saw = a.Unmap()
		}
	}
	return saw
}

// finishDirect completes the run's DirectReport: the lists asked directly, and
// what makes the run incomplete.
func (r *runner) finishDirect() {
	d := &r.result.Direct
	for _, l := range r.lists {
		if l.askedDirect.Load() {
			d.Lists = append(d.Lists, l.List)
		}
	}
	slices.SortStableFunc(d.Refused, func(a, b DirectRefusal) int { return strings.Compare(a.List.ID, b.List.ID) })
	slices.SortStableFunc(d.Failed, func(a, b DirectFailure) int { return strings.Compare(a.List.ID, b.List.ID) })
	r.result.Summary.Incomplete = append(r.result.Summary.Incomplete, d.Incomplete()...)
}

// Incomplete is what the report makes the run incomplete for: each list that
// refused this machine, each whose own servers did not answer, and direct
// queries that could not get out (in that order).
func (d DirectReport) Incomplete() []string {
	var out []string
	for _, ref := range d.Refused {
		out = append(out, fmt.Sprintf("%s refuses queries from this machine too (asked at its own servers): %s", ref.List.Name, ref.Why))
	}
	for _, f := range d.Failed {
		out = append(out, fmt.Sprintf("%s could not be asked through the resolver (a refusal or SERVFAIL), and its own name "+
			"servers did not answer either (%s): its checks keep the resolver's answer", f.List.Name, f.Error))
	}
	if d.Unreachable {
		out = append(out, "the lists' own servers could not be asked ("+d.Error+"); the resolver's answers are kept")
	}
	return out
}

// stayDirect keeps list pos asked directly, in the calls to come, until its
// delegation expires.
func (c *Checker) stayDirect(ctx context.Context, pos int, it *resolver.Iterator, zone string) {
	d, err := it.Delegation(ctx, zone) // cached by the query just made
	if err != nil || d.Expires.IsZero() {
		return
	}
	c.mu.Lock()
	if d.Expires.After(c.directUntil[pos]) {
		c.directUntil[pos] = d.Expires
	}
	c.mu.Unlock()
}

// startsDirect says whether list pos is asked directly from a call's start.
func (c *Checker) startsDirect(pos int) bool {
	switch c.opts.Direct {
	case DirectAlways:
		return true
	case DirectAuto:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.opts.Now().Before(c.directUntil[pos])
	}
	return false
}

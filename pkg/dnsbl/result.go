package dnsbl

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// SubjectType is what a subject is.
type SubjectType string

// The subject types.
const (
	SubjectIP     SubjectType = "ip"
	SubjectDomain SubjectType = "domain"
)

// Subject is one thing actually looked up: an address or a domain, with where it came from.
type Subject struct {
	Name string
	Type SubjectType
	// Via says where the subject came from: "input", "A of example.org", "MX", "SPF ip4"...
	Via []string
	// Skip says why the subject is not sent to the lists, or nil: a *CheckError
	// that errors.Is matches with ErrSkipPrivate or ErrSkipRange.
	Skip error
	Addr netip.Addr // the address, for an IP subject
	// Host marks a full host name (shop.example.com) asked beside its registered
	// domain, of the domain lists that list host names (catalog Hostnames) only.
	Host bool
}

// Check is the verdict on one (subject, list) pair. Its JSON form, blcheck's
// contract, is report.CheckDoc.
type Check struct {
	Subject string
	List    *catalog.List
	Zone    string // as shown: a keyed zone keeps its {key} placeholder
	Query   string // the name asked, as shown
	Status  Status
	// Codes are the addresses the list answered; Meanings what the catalog says
	// of them, in the same order where known.
	Codes     []netip.Addr
	Meanings  []string
	Reason    string // the listing's TXT record, for a listing
	DelistURL string // the catalog's page for the subject on this list
	// ListingURL is the list's own page about this listing, named in its TXT
	// reason (an SBL record, a SURBL lookup), where it is not DelistURL.
	ListingURL string
	// SameAs is, for a listing that an earlier target of the run already has
	// (the registered domain of two links, an address two hosts share), that
	// target's input: the same listing, counted once, there.
	SameAs string
	RTT    time.Duration // of the A query
	// Err says why the check failed (error, blocked, unreliable) or was
	// skipped, nil otherwise: a *CheckError whose text is for people and whose
	// kind errors.Is matches (ErrTimeout, ErrServFail, ErrRefused, ErrNetwork,
	// ErrBadAnswer, ErrRefusedByList, ErrUnreliable, ErrInterrupted,
	// ErrNotAsked; for a skip ErrSkipPrivate, ErrSkipRange, ErrSkipFamily,
	// ErrSkipKey), and whose cause errors.As finds: the *resolver.Error, with
	// the server asked and how many tries.
	Err error
	// DuplicateOf is set on a listing that another list of the run already
	// reports for the same subject (XBL inside ZEN, by the catalog's part_of): it
	// is the same listing, counted once, under that list.
	DuplicateOf *catalog.List
	// NotCounted says why a check is Noted: a link host's or a name server's
	// address listed for something that does not make a link suspect (Spamhaus
	// PBL, a list about who may send mail).
	NotCounted string
	// Asked says how the list was asked: through the resolver, or at its own
	// servers (Options.Direct); "" for a check that sent no query.
	Asked Asked

	subject, list int // positions, for a stable order
}

// TargetResult is everything found for one target.
type TargetResult struct {
	Index    int
	Target   Target
	Subjects []Subject
	Checks   []Check
	// Problems are failures that make this target's check incomplete.
	Problems []string
	// Notes are facts worth telling that do not make the check incomplete.
	Notes []string
	// Interrupted is set when the run was stopped (its context canceled) before
	// this target was finished: it is never clean, however its checks read.
	// Started is false for a target the run never reached.
	Interrupted bool
	Started     bool
	// SubjectsDone counts the subjects whose every check was answered;
	// SubjectsTotal is how many the target stands for (0 when not known: a
	// domain not yet expanded, a range split by --shard).
	SubjectsDone, SubjectsTotal int
	// Failed counts this target's checks of blacklists that failed (error,
	// blocked, unreliable), interruptions aside: with the strict rule, any makes
	// the target incomplete. An allowlist's failure is not counted.
	Failed int

	asked, recorded int // checks a list answered or failed to answer (not skipped); all checks
}

// NotAsked is the problem of a target no list was asked about: every check of
// its subjects was skipped (an IPv6 address and IPv4-only lists, a private
// address, lists that need a key), or it had none. It is not clean: nothing
// answered for it.
func NotAsked(input string) string { return input + ": no list was asked about it" }

// NoListChecked is the problem of a subject whose every list failed (error,
// blocked, unreliable): nothing was learnt of it.
func NoListChecked(subject string) string { return subject + noListChecked }

const noListChecked = ": no list could be checked"

// NoListCheckedSubject is the subject of a NoListChecked problem, and whether
// p is one: a front end may sum up a range's many.
func NoListCheckedSubject(p string) (string, bool) { return strings.CutSuffix(p, noListChecked) }

// OnlyNotAsked reports whether the target's one problem is that no list was
// asked about it (NotAsked): a front end that says so in its verdict need not
// say it again.
func (t *TargetResult) OnlyNotAsked() bool {
	return len(t.Problems) == 1 && t.Problems[0] == NotAsked(t.Target.Input)
}

func isCanceled(err error) bool {
	var re *resolver.Error
	return errors.Is(err, context.Canceled) || errors.As(err, &re) && re.Kind == resolver.Canceled
}

// ListHealth is one list's health in this run.
type ListHealth struct {
	List   *catalog.List
	Zone   string // as shown: a keyed zone keeps its {key} placeholder
	Health Health
	// Direct is set when the run asked the list at its own servers.
	Direct bool
	// Answered and Failed count the run's checks of this list that it answered
	// (listed, clean, allowlisted) and that failed (error, blocked, unreliable;
	// an interruption is neither): a list whose every query failed is failing,
	// whatever its health probes said.
	Answered, Failed int
	// Failures counts the failed checks by status (error, blocked, unreliable).
	Failures map[Status]int
}

// EveryQueryFailed reports whether the list was asked and never answered.
func (l ListHealth) EveryQueryFailed() bool { return l.Failed > 0 && l.Answered == 0 }

// Summary counts what a run found.
type Summary struct {
	Targets  int
	Subjects int
	Checks   int
	// Interrupted is set when the run's context was canceled before it ended.
	Interrupted bool
	Counts      map[Status]int
	// Duplicates counts the listed checks that repeat another list's listing
	// of the same subject (Check.DuplicateOf): Counts[Listed] less Duplicates
	// is the number of listings.
	Duplicates int
	// Repeats counts the listed checks of a subject that an earlier target of
	// the run already has listed on the same list (Check.SameAs): a name found in
	// several places is one listing.
	Repeats int
	// Failed counts the checks of blacklists that failed (error, blocked,
	// unreliable), interruptions and allowlists aside: with the strict rule, any
	// makes the run incomplete.
	Failed int
	// Incomplete lists why the run could not check everything it should have
	// (ReasonInterrupted for a run stopped before its end).
	Incomplete []string
}

// ResolverHealth is what the run found out about the resolver itself.
type ResolverHealth struct {
	// RewritesNXDOMAIN is set when a name that cannot exist got an address: the
	// resolver invents answers (ad or "search help" pages, some filters), so no
	// blacklist answer through it means anything.
	RewritesNXDOMAIN bool
	Answer           string // the address it invented
	Probe            string // the name asked
}

// Result is the outcome of a run.
type Result struct {
	Targets  []*TargetResult // in input order; empty unless Config.Retain
	Lists    []ListHealth
	Resolver ResolverHealth
	// Direct says which lists were asked at their own servers, and which of
	// them refused even that (Options.Direct).
	Direct  DirectReport
	Summary Summary
	Started time.Time
	Elapsed time.Duration
	// Queries counts the DNS queries the run sent (to the resolver, or to the lists'
	// own servers when asked directly); answers from
	// the cache, or shared with another caller's identical query, are not counted.
	Queries int
}

// Observer receives results as they complete. Calls are serialised, and a
// target's checks are told before the target. The TargetResult told with a
// check is still being filled: read its Target, not its Checks, until it is
// told itself.
type Observer struct {
	Check  func(t *TargetResult, c Check)
	Target func(t *TargetResult)
	// Refused is told, once per list, when a list refuses even the query sent
	// to its own name servers (Options.Direct), before that check is told: a
	// streaming front end can say so before the verdicts it makes incomplete.
	Refused func(DirectRefusal)
}

// Outcome is what a run comes to, for a program to act on: the CLI maps it to
// its exit code in one switch, an exporter to its metrics.
type Outcome int

// The outcomes, most telling first: an interrupted run says nothing for what
// it did not finish, even where it found a listing.
const (
	OutcomeClean       Outcome = iota // everything that could be checked is clean
	OutcomeListed                     // at least one subject is listed
	OutcomeIncomplete                 // nothing listed, but something could not be checked
	OutcomeInterrupted                // the run was stopped before its end
)

func (o Outcome) String() string {
	return [...]string{"clean", "listed", "incomplete", "interrupted"}[o]
}

// Outcome is the run's outcome. With strict (blcheck's default), a check of a
// blacklist that failed (error, blocked, unreliable) makes an otherwise clean
// run incomplete: clean means every applicable list answered for every
// subject. Without it, a run is incomplete only when something could not be
// checked at all (Summary.Incomplete: a subject no list answered for, the
// resolver). Skipped, noted and allowlisted checks never change it.
func (r *Result) Outcome(strict bool) Outcome {
	return outcome(r.Summary.Interrupted, r.Summary.Listings() > 0, r.incomplete(strict))
}

// Complete reports whether every applicable list answered for every subject,
// in time, whether or not something is listed: the strict rule.
func (r *Result) Complete() bool { return !r.Summary.Interrupted && !r.incomplete(true) }

func (r *Result) incomplete(strict bool) bool {
	return len(r.Summary.Incomplete) > 0 || strict && r.Summary.Failed > 0
}

func outcome(interrupted, listed, incomplete bool) Outcome {
	switch {
	case interrupted:
		return OutcomeInterrupted
	case listed:
		return OutcomeListed
	case incomplete:
		return OutcomeIncomplete
	}
	return OutcomeClean
}

// Outcome is one target's outcome, by the rule of Result.Outcome. What the
// run as a whole found (an unread file) is the run's, not the target's, but a
// resolver that invents answers (rewrites) voids every target.
func (t *TargetResult) Outcome(strict, rewrites bool) Outcome {
	listed := false
	for _, c := range t.Checks {
		if c.Status == Listed && c.DuplicateOf == nil {
			listed = true
			break
		}
	}
	return outcome(t.Interrupted, listed, t.incomplete(strict, rewrites))
}

// Complete reports whether every applicable list answered for every subject
// of the target, in time (the strict rule).
func (t *TargetResult) Complete(rewrites bool) bool {
	return !t.Interrupted && !t.incomplete(true, rewrites)
}

func (t *TargetResult) incomplete(strict, rewrites bool) bool {
	return len(t.Problems) > 0 || rewrites || strict && t.Failed > 0
}

// The errors a failed check's Err matches with errors.Is, so that a program
// can tell a timeout from a refusal without reading English.
var (
	ErrTimeout       = errors.New("no answer (timed out)")
	ErrServFail      = errors.New("SERVFAIL")
	ErrRefused       = errors.New("REFUSED")
	ErrNetwork       = errors.New("network error")
	ErrBadAnswer     = errors.New("bad answer")          // malformed, outside 127/8, capped, another list's code
	ErrRefusedByList = errors.New("refused by the list") // one of the list's own refusal codes
	ErrUnreliable    = errors.New("the list failed its health check")
	// ErrInterrupted is the kind of a check whose query the run's cancellation
	// cut short: it says nothing about the list or the resolver.
	ErrInterrupted = errors.New("not answered: the run was interrupted")
	ErrNotAsked    = errors.New("the subject cannot be asked of the list") // its query name is not a DNS name
)

// The reasons a subject or a check is skipped (Subject.Skip, a skipped
// check's Err), for errors.Is.
var (
	// ErrSkipPrivate: an address DNS handed back in a private, loopback,
	// link-local, CGNAT or unspecified range (Options.AllowPrivate sends it).
	ErrSkipPrivate = errors.New("not a public address")
	ErrSkipRange   = errors.New("range too large to expand")           // an SPF range
	ErrSkipFamily  = errors.New("the list has no data for its family") // IPv6 on an IPv4 list
	ErrSkipKey     = errors.New("the list needs an account key")
)

// CheckError is why a check failed or was skipped: Msg for people, Kind (a
// sentinel above) and Cause (the resolver's *resolver.Error, or nil) for
// errors.Is and errors.As.
type CheckError struct {
	Kind  error
	Msg   string
	Cause error
}

func (e *CheckError) Error() string { return e.Msg }

// Unwrap returns the kind and the cause.
func (e *CheckError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// isKind is errors.Is(err, kind) for a check's error, without the slice that
// CheckError.Unwrap makes: record asks it of every check, and a skipped one
// (a keyed list without its key, for every subject of a bulk run) has one.
func isKind(err, kind error) bool {
	if e, ok := err.(*CheckError); ok {
		return errors.Is(e.Kind, kind) || e.Cause != nil && errors.Is(e.Cause, kind)
	}
	return errors.Is(err, kind)
}

// checkErr is a CheckError of kind with msg.
func checkErr(kind error, msg string) *CheckError { return &CheckError{Kind: kind, Msg: msg} }

// kindOf maps a resolver failure to its sentinel.
func kindOf(err error) error {
	var re *resolver.Error
	if !errors.As(err, &re) {
		return ErrNetwork
	}
	switch re.Kind {
	case resolver.Timeout:
		return ErrTimeout
	case resolver.ServFail:
		return ErrServFail
	case resolver.Refused:
		return ErrRefused
	case resolver.Canceled:
		return ErrInterrupted
	case resolver.Malformed:
		return ErrBadAnswer
	}
	return ErrNetwork
}

// Listings is the number of listings found, each counted once (Duplicates).
// Noted checks are not listings.
func (s Summary) Listings() int { return s.Counts[Listed] - s.Duplicates - s.Repeats }

package dnsbl

import (
	"errors"

	"github.com/blcheck/blcheck/pkg/resolver"
)

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

// Outcome is the run's outcome. With strict, a check that failed (error,
// blocked, unreliable) makes an otherwise clean run incomplete.
func (r *Result) Outcome(strict bool) Outcome {
	c := r.Summary.Counts
	switch {
	case r.Summary.Interrupted:
		return OutcomeInterrupted
	case c[Listed] > 0:
		return OutcomeListed
	case len(r.Summary.Incomplete) > 0:
		return OutcomeIncomplete
	case strict && c[Error]+c[Blocked]+c[Unreliable] > 0:
		return OutcomeIncomplete
	}
	return OutcomeClean
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
	ErrInterrupted   = errors.New(InterruptedError)
	ErrNotAsked      = errors.New("the subject cannot be asked of the list") // its query name is not a DNS name
)

// checkError wraps a failed check's text with the sentinel it matches.
type checkError struct {
	kind error
	msg  string
}

func (e *checkError) Error() string { return e.msg }
func (e *checkError) Unwrap() error { return e.kind }

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

package report

import "github.com/blcheck/blcheck/pkg/dnsbl"

// Verdict is what a run comes to, decided once and read by every format and
// by the exit code: the outcome (clean, listed, incomplete, interrupted) and
// whether the check was complete (every applicable list answered for every
// subject, in time), which a listing does not hide: blcheck_probe_success.
type Verdict struct {
	Outcome  dnsbl.Outcome
	Complete bool
	// Strict is the rule the outcome was decided by (blcheck's default); the
	// lenient rule of earlier releases calls a run incomplete only when every
	// list failed for some subject. Complete is always by the strict rule.
	Strict bool
}

// NewVerdict decides a run's verdict.
func NewVerdict(res *dnsbl.Result, strict bool) Verdict {
	return Verdict{Outcome: res.Outcome(strict), Complete: res.Complete(), Strict: strict}
}

// Interrupted is the verdict of a run stopped before its end (a probe out of
// time): never complete.
func Interrupted() Verdict {
	return Verdict{Outcome: dnsbl.OutcomeInterrupted, Strict: true}
}

// ExitCode is the contract's exit code for the verdict.
func (v Verdict) ExitCode() int { return ExitCode(v.Outcome) }

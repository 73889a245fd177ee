package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blcheck/blcheck/pkg/bounce"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
)

// View is what every format renders: the engine's result, untouched after the
// run, and what the front ends add to it (where each target was found, the
// bounce and its diagnosis, the changes since the last run, hints, warnings,
// what they could not read), with the run's one Verdict. A front end builds
// it, calls Decide, and hands it to a Renderer.
type View struct {
	Result    *dnsbl.Result
	Resolvers []string
	Warnings  []string
	// Names maps list ids to catalog entries, for their names.
	Names map[string]*catalog.List
	// Locations says where scan and bounce found each target (by target index);
	// Ignored is what they left out.
	Locations map[int][]extract.Location
	Ignored   []IgnoredDoc
	// Bounce and Diagnosis are set by blcheck bounce.
	Bounce    *bounce.Report
	Diagnosis *bounce.Diagnosis
	// Changes holds each check's change since the last run, by ChangeKey, and
	// ListChanges the lists whose health changed (--state); nil without state.
	Changes     map[string]string
	ListChanges []ListChange
	// Hint, if set, is what a front end adds to a skip reason of the engine's
	// ("" for none): the CLI names the flag that sends a private address.
	Hint func(reason error) string
	// Incomplete is what the front end could not check, beside what the run
	// itself could not (Result.Summary.Incomplete): a file not fully read, an
	// input that changed while read, a state that could not be saved.
	Incomplete []string
	// DMARC is set by blcheck dmarc: the reports' sources, said in place of the
	// per-target lines, and its exit rule (a listed forger does not fail the run).
	DMARC *DMARCDoc
	// Deadline is set when the run was stopped by the front end's deadline
	// (--deadline), not by a signal: what did not finish is "not checked
	// (deadline)", and the run is incomplete (exit 3) or listed, never
	// interrupted (130).
	Deadline time.Duration
	// Verdict is the run's one verdict, set by Decide.
	Verdict Verdict
}

// stopped says why the run stopped before its end: interrupted, or its deadline.
func (v *View) stopped() string {
	if v.Deadline > 0 {
		return StoppedAt(v.Deadline)
	}
	return "interrupted"
}

// StoppedAt is why a run stopped by its deadline stopped, as View.stopped says it.
func StoppedAt(d time.Duration) string { return fmt.Sprintf("stopped at the --deadline of %v", d) }

// notAnswered is the error of a check a run stopped before its answer: the
// engine's ErrInterrupted, in the words of why the run stopped.
func notAnswered(stopped string) string { return "not answered: the run was " + stopped }

// DeadlineReason is what a run stopped by its deadline says it did not finish.
func DeadlineReason(d time.Duration) string {
	return fmt.Sprintf("the --deadline of %v passed before every check was answered", d)
}

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

// Decide sets the view's verdict: the result's outcome by the rule (strict or
// not), made incomplete by what the front end could not check.
func (v *View) Decide(strict bool) {
	res := v.Result
	out := res.Outcome(strict)
	if v.DMARC != nil {
		out = v.DMARC.outcome(res, strict, out)
	}
	if out == dnsbl.OutcomeInterrupted && v.Deadline > 0 { // what finished is reported; the rest is not clean
		out = dnsbl.OutcomeIncomplete
		if res.Summary.Listings() > 0 {
			out = dnsbl.OutcomeListed
		}
	}
	if out == dnsbl.OutcomeClean && len(v.Incomplete) > 0 {
		out = dnsbl.OutcomeIncomplete
	}
	v.Verdict = Verdict{Outcome: out, Complete: res.Complete() && len(v.Incomplete) == 0, Strict: strict}
}

// Interrupt sets the verdict of a run stopped before its end (a probe out of
// time): never complete.
func (v *View) Interrupt() {
	v.Verdict = Verdict{Outcome: dnsbl.OutcomeInterrupted, Strict: v.Verdict.Strict}
}

// ExitCode is the contract's exit code for the verdict (summary.exit_code).
func (v Verdict) ExitCode() int { return ExitCode(v.Outcome) }

// ExitCode is the contract's exit code for an outcome: 0 clean, 1 listed, 3
// incomplete, 130 interrupted.
func ExitCode(o dnsbl.Outcome) int {
	switch o {
	case dnsbl.OutcomeInterrupted:
		return 130
	case dnsbl.OutcomeListed:
		return 1
	case dnsbl.OutcomeIncomplete:
		return 3
	}
	return 0
}

// AllIncomplete is everything that made the run incomplete: the run's own
// reasons, then the front end's.
func (v *View) AllIncomplete() []string {
	own := v.Result.Summary.Incomplete
	if v.Deadline > 0 && slices.Contains(own, dnsbl.ReasonInterrupted) { // the deadline's reason says why
		own = slices.DeleteFunc(slices.Clone(own), func(r string) bool { return r == dnsbl.ReasonInterrupted })
	}
	if len(v.Incomplete) == 0 {
		return own
	}
	return append(append([]string(nil), own...), v.Incomplete...)
}

// skip is a skip reason as shown: with the front end's hint.
func (v *View) skip(reason error) string { return withHint(reason, v.Hint) }

// withHint is an error's text, and the hint a front end adds to it.
func withHint(err error, hint func(error) string) string {
	if err == nil {
		return ""
	}
	if hint == nil {
		return err.Error()
	}
	return err.Error() + hint(err)
}

// errText is an error's text, or "".
func errText(err error) string { return withHint(err, nil) }

// name is a list's name, or its id.
func (v *View) name(id string) string {
	if l := v.Names[id]; l != nil {
		return l.Name
	}
	return id
}

// Options are how a view is rendered: what the format flags say.
type Options struct {
	Color bool
	Quiet bool // text: only listings, problems and (with state) changes
	// Probe says the text is a probe's trace (blcheck serve &debug=true): it
	// names the outcome, not a process exit code.
	Probe bool
	// Warning and Critical are Nagios's thresholds, in listings.
	Warning, Critical int
	// Now is when -o prometheus says the run ended.
	Now time.Time
	// Lines is the JSON lines writer that streamed the checks during the run:
	// jsonl then only flushes it. Without it jsonl writes the view's checks.
	Lines *JSONLines
	// Locations is where scan and bounce found each target, for the lines
	// streamed before there is a view (View.Locations, known before the run).
	Locations map[int][]extract.Location
}

// Renderer writes a view in one format, and returns the first write error.
type Renderer func(w io.Writer, v *View, o Options) error

// renderers is every format, by the name --format takes.
var renderers = map[string]Renderer{
	"text":       renderText,
	"json":       renderJSON,
	"jsonl":      renderJSONLines,
	"nagios":     renderNagios,
	"github":     renderGitHub,
	"prometheus": renderPrometheus,
}

// Lookup returns the renderer of a format.
func Lookup(format string) (Renderer, bool) {
	r, ok := renderers[format]
	return r, ok
}

// Formats are the formats there are renderers for, sorted.
func Formats() []string {
	var out []string
	for f := range renderers {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// NotChecked names the blacklists that could not be used for some subject,
// each with how its checks failed ("spamhaus-zen (1 blocked)"), at most max of
// them and how many more: what makes a run incomplete by the strict rule.
func NotChecked(res *dnsbl.Result, max int) string {
	var parts []string
	more, asked, failedAll := 0, 0, 0
	total := map[dnsbl.Status]int{}
	for _, l := range res.Lists {
		if l.List.Allow() || l.Answered+l.Failed == 0 {
			continue
		}
		asked++
		if l.Answered == 0 {
			failedAll++
		}
		for st, n := range l.Failures {
			total[st] += n
		}
	}
	if asked > 2 && failedAll == asked { // the resolver or the path to it, not the lists: said once
		return fmt.Sprintf("any of the %d lists (%s)", asked, failedParts(total))
	}
	for _, l := range res.Lists {
		if l.List.Allow() || len(l.Failures) == 0 {
			continue
		}
		if len(parts) == max {
			more++
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", l.List.ID, failedParts(l.Failures)))
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(parts, ", ")
}

// failedParts says how many checks failed, by how: "1 error, 2 blocked".
func failedParts(by map[dnsbl.Status]int) string {
	var parts []string
	if n := by[dnsbl.Error]; n > 0 {
		parts = append(parts, plural(n, "error"))
	}
	if n := by[dnsbl.Blocked]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d blocked", n))
	}
	if n := by[dnsbl.Unreliable]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d unreliable", n))
	}
	return strings.Join(parts, ", ")
}

package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// Nagios states, the monitoring-plugin convention.
const (
	NagiosOK       = 0
	NagiosWarning  = 1
	NagiosCritical = 2
	NagiosUnknown  = 3
)

// renderNagios writes one status line with perfdata, then one line per
// listing (a plugin's long output): the state NagiosState gives.
func renderNagios(w io.Writer, v *View, o Options) error {
	state, text, details := nagios(v, o.Warning, o.Critical)
	s := summarize(v)
	name := [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[state]
	_, err := fmt.Fprintf(w, "BLCHECK %s - %s | listed=%d;%d;%d;0;%d clean=%d error=%d blocked=%d unreliable=%d skipped=%d time=%.3fs\n",
		name, text, s.Listed, o.Warning, o.Critical, s.Checks, s.Clean, s.Error, s.Blocked, s.Unreliable, s.Skipped, v.Result.Elapsed.Seconds())
	for _, d := range details {
		if err == nil {
			_, err = fmt.Fprintln(w, d)
		}
	}
	return err
}

// NagiosState is the monitoring-plugin state of a view, its exit code with
// --format nagios: CRITICAL at critical or more listings, WARNING at warning
// or more, UNKNOWN when the verdict is incomplete or interrupted, else OK.
func NagiosState(v *View, warning, critical int) int {
	state, _, _ := nagios(v, warning, critical)
	return state
}

// nagiosListings are the lists that list something (sorted), the long
// output (one line per listing, and what a test point target is), and the
// targets with a listing, one per target of the run (a target whose listing
// repeats another's, the same address reached twice, is listed too).
func nagiosListings(res *dnsbl.Result) (lists, details, targets []string) {
	listedOn := map[string]bool{}
	for _, tr := range res.Targets {
		if n := tr.Target.TestPoint(); n != "" {
			details = append(details, n)
		}
		if slices.ContainsFunc(tr.Checks, func(c dnsbl.Check) bool { return c.Status == dnsbl.Listed }) {
			targets = append(targets, Sanitize(tr.Target.Input, 100))
		}
		for _, c := range tr.Checks {
			if c.Status == dnsbl.Listed && c.DuplicateOf == nil && c.SameAs == "" {
				listedOn[c.List.ID] = true
				who := tr.Target.Input
				if c.Subject != who {
					who += " (" + c.Subject + ")"
				}
				details = append(details, fmt.Sprintf("%s listed on %s: %s", Sanitize(who, 200), c.List.ID,
					Sanitize(strings.Join(c.Meanings, "; "), 200)))
			}
		}
	}
	for l := range listedOn {
		lists = append(lists, l)
	}
	sort.Strings(lists)
	return lists, details, targets
}

// listedWhat names the targets a listing is about in the status line: all of
// them as what names them, or, when only some are listed, those (the line must
// not say a clean target is listed) and how many of the run's they are.
func listedWhat(what string, listed []string, total int) string {
	var names []string // a target given twice is named once
	for _, n := range listed {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	switch {
	case len(listed) == total:
		return what
	case len(names) > 3:
		return fmt.Sprintf("%d of %d targets", len(listed), total)
	}
	return fmt.Sprintf("%s (%d of %d targets)", strings.Join(names, ", "), len(listed), total)
}

// listsChecked counts the lists that answered for every subject; one that
// failed for some is named apart, with how it failed.
func listsChecked(res *dnsbl.Result) int {
	n := 0
	for _, l := range res.Lists {
		if l.Health.State != dnsbl.HealthNeedsKey && !l.List.Allow() && l.Answered > 0 && len(l.Failures) == 0 {
			n++
		}
	}
	return n
}

// nagios decides a view's Nagios state, status text and long output.
func nagios(v *View, warning, critical int) (int, string, []string) {
	res := v.Result
	s := summarize(v)
	lists, details, listedTargets := nagiosListings(res)
	var targets, names []string // names: a target given twice is named once
	for _, tr := range res.Targets {
		targets = append(targets, Sanitize(tr.Target.Input, 100))
		if !slices.Contains(names, targets[len(targets)-1]) && len(names) <= 3 {
			names = append(names, targets[len(targets)-1])
		}
	}
	what := strings.Join(names, ", ")
	if len(names) > 3 {
		what = fmt.Sprintf("%d targets", len(targets))
	}
	checkedLists := listsChecked(res)
	notChecked := NotChecked(res, 5)
	state, text := NagiosOK, fmt.Sprintf("%s not listed on %s", what, plural(checkedLists, "list"))
	switch {
	case len(targets) == 0: // an empty --shard: no target, nothing unchecked
		text = "nothing to check: no target in this run"
	case checkedLists == 0 && nothingAsked(res.Summary):
		text = what + " not checked: no list was asked about it" // not "not listed on 0 lists"
	}
	if notChecked != "" {
		text += "; not checked: " + notChecked
	}
	cause, n, down := ResolverDown(res) // nothing answered: the one cause worth the status line
	switch {
	case s.Listed >= critical && s.Listed > 0:
		state = NagiosCritical
	case s.Listed >= warning && s.Listed > 0:
		state = NagiosWarning
	case v.Verdict.Outcome == dnsbl.OutcomeInterrupted || res.Summary.Interrupted && v.Deadline > 0:
		finished, cut, notStarted := interruptedCounts(res)
		state, text = NagiosUnknown, fmt.Sprintf("%s: %s finished, %d cut short, %d not started%s", v.stopped(), plural(finished, "target"),
			cut, notStarted, unansweredNote(res))
	case res.Resolver.RewritesNXDOMAIN:
		state, text = NagiosUnknown, "the resolver invents answers (rewrites NXDOMAIN): nothing could be checked"
	case down:
		state, text = NagiosUnknown, fmt.Sprintf("the resolver, or the path to it, is down: all %d lists asked failed the same way (%s), "+
			"so nothing could be checked", n, Sanitize(cause, 200))
	case len(v.AllIncomplete()) > 0:
		state, text = NagiosUnknown, "incomplete: "+Sanitize(v.AllIncomplete()[0], 200)
	case v.Verdict.Outcome == dnsbl.OutcomeIncomplete,
		v.Verdict.Strict && !v.Verdict.Complete: // listed below --warning, and not every list answered
		state = NagiosUnknown
	}
	below := s.Listed > 0 && (state == NagiosOK || state == NagiosUnknown && !res.Resolver.RewritesNXDOMAIN && !res.Summary.Interrupted)
	if state == NagiosCritical || state == NagiosWarning || below {
		text = nagiosListed(v, listedWhat(what, listedTargets, len(targets)), lists, s.Listed, warning, below, notChecked)
	}
	return state, text, details
}

// nagiosListed is the status text of a run that listed something: how often
// and where, and what keeps it from being the whole story (a state under
// --warning, lists not checked, why the run is incomplete, a stop).
func nagiosListed(v *View, what string, lists []string, listed, warning int, below bool, notChecked string) string {
	res := v.Result
	times := fmt.Sprintf("%d times", listed)
	if listed == 1 {
		times = "once"
	}
	text := fmt.Sprintf("%s listed %s on %s", what, times, strings.Join(lists, ", "))
	if below { // under the thresholds, but never "not listed"
		text += fmt.Sprintf(" (below --warning %d)", warning)
	}
	if notChecked != "" && !res.Summary.Interrupted { // more listings may be there: the count is a floor
		text += "; not checked: " + notChecked
	}
	if inc := v.AllIncomplete(); below && len(inc) > 0 { // why it is UNKNOWN, when no list's failure says it
		text += "; incomplete: " + Sanitize(inc[0], 200)
	}
	if res.Summary.Interrupted {
		_, cut, notStarted := interruptedCounts(res)
		text += fmt.Sprintf(" (the run was %s: %d cut short, %d not started%s)", v.stopped(), cut, notStarted, unansweredNote(res))
	}
	return text
}

// unansweredNote names, for Nagios's status line, the lists a stopped run was
// still waiting for: the ones to give more time or leave out.
func unansweredNote(res *dnsbl.Result) string {
	ids := unansweredLists(res)
	switch {
	case len(ids) == 0:
		return ""
	case len(ids) <= maxNamedUnanswered:
		return "; not answered: " + strings.Join(ids, ", ")
	}
	return fmt.Sprintf("; %d lists not answered", len(ids))
}

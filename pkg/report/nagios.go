package report

import (
	"fmt"
	"io"
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

// Nagios writes one status line with perfdata, then one line per listing (a
// plugin's long output), and returns the plugin exit code: CRITICAL at critical
// or more listings, WARNING at warning or more, UNKNOWN when the check is
// incomplete (or, with strict, when any list failed), else OK.
func Nagios(w io.Writer, res *dnsbl.Result, warning, critical int, strict bool) (int, error) {
	s := Summarize(res, 0)
	listedOn := map[string]bool{}
	var details []string
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if c.Status == dnsbl.Listed && c.DuplicateOf == nil && c.NotCounted == "" {
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
	var lists []string
	for l := range listedOn {
		lists = append(lists, l)
	}
	sort.Strings(lists)
	var targets []string
	for _, tr := range res.Targets {
		targets = append(targets, Sanitize(tr.Target.Input, 100))
	}
	what := strings.Join(targets, ", ")
	if len(targets) > 3 {
		what = fmt.Sprintf("%d targets", len(targets))
	}
	failed := s.Error + s.Blocked + s.Unreliable
	// a list counts as checked when it answered (listed or clean) for something;
	// one that only failed is named, with how it failed
	answered, failedHow := map[string]bool{}, map[string]dnsbl.Status{}
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			switch c.Status {
			case dnsbl.Listed, dnsbl.Clean:
				answered[c.List.ID] = true
			case dnsbl.Error, dnsbl.Blocked, dnsbl.Unreliable:
				failedHow[c.List.ID] = c.Status
			}
		}
	}
	checkedLists := 0
	var notChecked []string
	for _, l := range res.Lists {
		switch {
		case l.Health.State == dnsbl.HealthNeedsKey || l.List.Allow(): // an allowlist lists nobody
		case answered[l.List.ID]:
			checkedLists++
		case failedHow[l.List.ID] != "":
			notChecked = append(notChecked, fmt.Sprintf("%s (%s)", l.List.ID, failedHow[l.List.ID]))
		}
	}
	state, text := NagiosOK, fmt.Sprintf("%s not listed on %d lists", what, checkedLists)
	if len(notChecked) > 0 {
		text += fmt.Sprintf("; %d not checked: %s", len(notChecked), strings.Join(notChecked, ", "))
	}
	switch {
	case s.Listed >= critical && s.Listed > 0:
		state = NagiosCritical
	case s.Listed >= warning && s.Listed > 0:
		state = NagiosWarning
	case res.Summary.Interrupted:
		finished, cut, notStarted := interruptedCounts(res)
		state, text = NagiosUnknown, fmt.Sprintf("interrupted: %s finished, %d cut short, %d not started", plural(finished, "target"), cut, notStarted)
	case res.Resolver.RewritesNXDOMAIN:
		state, text = NagiosUnknown, "the resolver invents answers (rewrites NXDOMAIN): nothing could be checked"
	case len(res.Summary.Incomplete) > 0:
		state, text = NagiosUnknown, "incomplete: "+Sanitize(res.Summary.Incomplete[0], 200)
	case strict && failed > 0:
		state = NagiosUnknown
		if len(notChecked) == 0 {
			text += fmt.Sprintf("; %d checks failed", failed)
		}
	}
	if state == NagiosCritical || state == NagiosWarning {
		times := fmt.Sprintf("%d times", s.Listed)
		if s.Listed == 1 {
			times = "once"
		}
		text = fmt.Sprintf("%s listed %s on %s", what, times, strings.Join(lists, ", "))
		if res.Summary.Interrupted {
			_, cut, notStarted := interruptedCounts(res)
			text += fmt.Sprintf(" (the run was interrupted: %d cut short, %d not started)", cut, notStarted)
		}
	}
	if failed > 0 && state == NagiosOK && len(notChecked) == 0 {
		text += fmt.Sprintf(" (%d checks failed)", failed)
	}
	name := [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[state]
	_, err := fmt.Fprintf(w, "BLCHECK %s - %s | listed=%d;%d;%d;0;%d clean=%d error=%d blocked=%d unreliable=%d skipped=%d time=%.3fs\n",
		name, text, s.Listed, warning, critical, s.Checks, s.Clean, s.Error, s.Blocked, s.Unreliable, s.Skipped, res.Elapsed.Seconds())
	for _, d := range details {
		fmt.Fprintln(w, d)
	}
	return state, err
}

package report

import "github.com/blcheck/blcheck/pkg/dnsbl"

// minSameFailures is how many lists must fail the same way before the
// resolver, not the lists, is blamed (as a subject's "all N lists" error line).
const minSameFailures = 3

// ResolverDown reports whether no list of the run answered anything, three
// lists or more failing their test points with the same error word for word
// (a dead resolver's "connection refused", a path that drops every packet):
// then the resolver, or the path to it, is at fault, not the lists. It returns
// that error and how many lists met it.
func ResolverDown(res *dnsbl.Result) (cause string, lists int, down bool) {
	for _, l := range res.Lists {
		if l.Answered > 0 {
			return "", 0, false // some list answered through it
		}
		switch l.Health.State {
		case dnsbl.HealthNeedsKey, dnsbl.HealthUnused, dnsbl.HealthUntested, dnsbl.HealthInterrupted:
			continue // not asked, or nothing known
		case dnsbl.HealthNoAnswer:
		default:
			return "", 0, false // it answered its test points, rightly or not
		}
		why := l.Health.Cause
		if why == "" || cause != "" && why != cause {
			return "", 0, false
		}
		cause = why
		lists++
	}
	return cause, lists, lists >= minSameFailures
}

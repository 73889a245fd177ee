package report

import (
	"io"
	"strings"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// ListChange is a list whose health changed since the last run.
type ListChange struct {
	List   *catalog.List
	Change string // list-failing or list-recovered
	Health dnsbl.Health
}

// renderChanges writes only what changed since the last run (-q with --state):
// new listings, delistings, lists that began failing or recovered. Nothing
// changed, nothing printed: a cron mail means news. What could not be checked
// is the exit code's to say (3), and the resolver's problem is said, and so is
// a run stopped before its end (a signal, --deadline): its unfinished targets
// could bring no news.
func renderChanges(w io.Writer, v *View) error {
	res, changes := v.Result, v.Changes
	t := &text{w: w, v: v}
	t.init()
	if err := dmarcChanges(w, v.DMARC); err != nil {
		return err
	}
	t.directProblems(res) // what refuses this machine itself is no change to wait for
	if t.resolverProblem(res, v.Resolvers) {
		return t.err
	}
	forgers := v.DMARC.forgers()
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			who := Sanitize(c.Subject, 200)
			if c.Subject != tr.Target.Input {
				who += " (" + Sanitize(tr.Target.Input, 200) + ")"
			}
			switch changes[ChangeKey(c)] {
			case "new-listing":
				t.p("NEW LISTING  %s on %s (%s): %s\n", who, t.name(c.List.ID), c.Zone, Sanitize(strings.Join(c.Meanings, "; "), 300))
				switch {
				case forgers[c.Subject] != "": // blcheck dmarc: not the domain's mail, not its to delist
					t.p("             %s\n", forgers[c.Subject])
				case c.Reason != "" && NamesURL(c.Reason, c.DelistURL):
					t.p("             reason, delist: %s\n", Sanitize(c.Reason, 300)) // the URL once
				default:
					if c.Reason != "" {
						t.p("             reason: %s\n", Sanitize(c.Reason, 300))
					}
					if c.DelistURL != "" {
						t.p("             delist: %s\n", Sanitize(c.DelistURL, 300))
					}
				}
			case "delisted":
				t.p("DELISTED     %s from %s (%s)\n", who, t.name(c.List.ID), c.Zone)
			}
		}
	}
	t.listChanges(v)
	if res.Summary.Interrupted { // news every time: what was not finished was compared with nothing
		finished, cut, notStarted := interruptedCounts(res)
		t.p("NOT FINISHED the run was %s: %s finished, %d cut short, %d not started%s: what was not finished is not clean\n",
			v.stopped(), plural(finished, "target"), cut, notStarted, unansweredNote(res))
	}
	return t.err
}

// listChanges says which lists began failing or recovered. A resolver that
// answered nothing, every list failing the same way, is one line, not one
// blaming each list; so are three lists or more that recovered together.
func (t *text) listChanges(v *View) {
	cause, n, down := ResolverDown(v.Result)
	if down {
		t.p("RESOLVER FAILING no list answered through %s (%d lists failed the same way; the resolver, or the path to it, "+
			"is at fault, not the lists): %s\n", strings.Join(v.Resolvers, ", "), n, Sanitize(cause, 300))
	}
	var recovered []string
	for _, l := range v.ListChanges {
		switch {
		case l.Change == "list-failing" && down && l.Health.State == dnsbl.HealthNoAnswer:
		case l.Change == "list-failing":
			t.p("LIST FAILING %s (%s): %s: %s\n", l.List.Name, l.List.Zone, l.Health.State, Sanitize(l.Health.Detail, 300))
		case l.Change == "list-recovered":
			recovered = append(recovered, l.List.ID)
		}
	}
	if len(recovered) >= minSameFailures {
		t.p("RECOVERED    %d lists answer properly again: %s\n", len(recovered), strings.Join(recovered, ", "))
		return
	}
	for _, l := range v.ListChanges {
		if l.Change == "list-recovered" {
			t.p("RECOVERED    %s (%s) answers properly again\n", l.List.Name, l.List.Zone)
		}
	}
}

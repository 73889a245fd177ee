package report

import (
	"fmt"
	"strings"

	"github.com/blcheck/blcheck/pkg/bounce"
)

// Diagnosis writes the answer to "why was my mail rejected?" before the details.
func (t *text) diagnosis(rep *bounce.Report, d *bounce.Diagnosis) {
	t.p("%s\n", t.bold.Sprint("What the receiver said"))
	t.p("  %s\n", Sanitize(d.Said, 600))
	if len(rep.Hints) > 0 {
		var hints []string
		for _, h := range rep.Hints {
			if strings.EqualFold(h.Text, h.Name) || h.Name == "" {
				hints = append(hints, h.Text)
			} else {
				hints = append(hints, fmt.Sprintf("%s (%q)", h.Name, h.Text))
			}
		}
		t.p("  It names: %s\n", Sanitize(strings.Join(hints, ", "), 300))
	}
	t.p("\n")
	if d.Cause.Words != "" {
		t.p("%s\n  %s\n\n", t.bold.Sprint("The cause"), Sanitize(d.Cause.Words, 600))
	}
	if d.Provider != nil {
		heading := "A provider's own block list"
		if d.Cause.Kind != bounce.CauseProvider {
			heading = "The provider"
		}
		t.p("%s\n", t.bold.Sprint(heading))
		t.p("  %s: %s\n", d.Provider.Name, d.Provider.Why)
		if d.Provider.Code != "" {
			t.p("  %s\n", Sanitize(d.Provider.Code, 300))
		}
		t.p("  Fix: %s\n", d.Provider.Remedy)
		if d.Provider.Link != "" {
			t.p("  The bounce's own link: %s\n", Sanitize(d.Provider.Link, 300))
		}
		t.p("\n")
	}
	if len(d.Findings) > 0 {
		t.p("%s\n", t.red.Sprint("What is listed"))
		for _, f := range d.Findings {
			t.p("  %s.\n", Sanitize(f.Sentence, 600))
			said := ""
			for _, u := range f.Delist {
				if said == "" && NamesURL(f.Reason, u) {
					said = u // the reason names its delisting page: said once
				}
			}
			switch {
			case said != "":
				t.p("    reason, delist: %s\n", Sanitize(f.Reason, 300))
			case f.Reason != "":
				t.p("    reason: %s\n", Sanitize(f.Reason, 300))
			}
			for _, u := range f.Delist {
				if u != said {
					t.p("    delist: %s\n", Sanitize(u, 300))
				}
			}
		}
		t.p("\n%s\n  %s\n\n", t.bold.Sprint("What to fix first"), Sanitize(d.Findings[0].Advice, 600))
	} else if d.Summary != d.Cause.Words {
		t.p("%s\n  %s\n\n", t.bold.Sprint("Diagnosis"), Sanitize(d.Summary, 600))
	}
	t.quiet = true // the details: listings and problems only
	if d.Cause.NothingToCheck() || len(t.v.Result.Targets) == 0 {
		return // nothing was checked: no details
	}
	t.heading = t.dim.Sprint("Details:") + "\n\n" // only over details that come: -q's clean targets say nothing
}

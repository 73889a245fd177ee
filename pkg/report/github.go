package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
)

// MaxAnnotations is how many annotations of one kind GitHub shows for a step;
// what is past it is said in a notice instead of being lost.
const MaxAnnotations = 10

// ghFinding is one listed target: every list it is on, and every place it is.
type ghFinding struct {
	input   string
	lists   []string // "spamhaus-dbl (phishing domain)"
	delist  []string
	places  []extract.Location
	subject string
}

// listedFindings groups a run's listings by target, most lists first.
func listedFindings(v *View) []ghFinding {
	res, locs := v.Result, v.Locations
	var out []ghFinding
	for _, tr := range res.Targets {
		f := ghFinding{input: tr.Target.Input, places: locs[tr.Index]}
		for _, c := range tr.Checks {
			if c.Status != dnsbl.Listed || c.DuplicateOf != nil {
				continue
			}
			what := c.List.ID
			if len(c.Meanings) > 0 {
				what += " (" + strings.Join(c.Meanings, "; ") + ")"
			}
			if c.Subject != tr.Target.Input && f.subject == "" {
				f.subject = c.Subject
			}
			f.lists = append(f.lists, what)
			if c.DelistURL != "" && !contains(f.delist, c.DelistURL) {
				f.delist = append(f.delist, c.DelistURL)
			}
		}
		if len(f.lists) > 0 {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].lists) > len(out[j].lists) })
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (f ghFinding) message() string {
	who := f.input
	if f.subject != "" {
		who += " (" + f.subject + ")"
	}
	msg := fmt.Sprintf("%s is listed on %s", who, strings.Join(f.lists, ", "))
	if len(f.delist) > 0 {
		msg += ". Delist: " + strings.Join(f.delist, " ")
	}
	return msg
}

// fileLine is where an annotation points: the line in the file, also for a
// finding inside a MIME part.
func fileLine(l extract.Location) int {
	if l.Part != "" && l.FileLine > 0 {
		return l.FileLine
	}
	return l.Line
}

// renderGitHub writes GitHub Actions workflow commands: one error annotation
// per listed finding and place (its lists in the text, the most listed
// first), a warning for what could not be checked, at most MaxAnnotations of
// each with a notice for the rest, and a notice with the summary.
func renderGitHub(w io.Writer, v *View, _ Options) error {
	res, exitCode := v.Result, v.Verdict.ExitCode()
	errors, leftErrors := 0, 0
	for _, f := range listedFindings(v) {
		places := f.places
		if len(places) == 0 {
			places = []extract.Location{{}}
		}
		for _, l := range places {
			if errors == MaxAnnotations {
				leftErrors++
				continue
			}
			errors++
			if l.File == "" {
				fmt.Fprintf(w, "::error title=blcheck: listed::%s\n", ghData(f.message()))
				continue
			}
			fmt.Fprintf(w, "::error file=%s,line=%d,title=%s::%s\n", ghProp(l.File), fileLine(l),
				ghProp("blcheck: listed domain in "+l.Where), ghData(f.message()))
		}
	}
	var warnings []string
	for _, tr := range res.Targets {
		warnings = append(warnings, tr.Problems...)
		if tr.Interrupted {
			warnings = append(warnings, fmt.Sprintf("%s: the run was %s, %s: not clean", tr.Target.Input, v.stopped(), progress(tr)))
		}
	}
	if res.Resolver.RewritesNXDOMAIN {
		fmt.Fprintf(w, "::error title=blcheck: resolver::%s\n", ghData("the resolver invents answers for names that do not exist; nothing could be checked"))
	}
	for _, l := range res.Lists {
		switch {
		case l.Health.State == dnsbl.HealthBlocked || l.Health.Untrusted():
			warnings = append(warnings, fmt.Sprintf("list %s: %s: %s", l.List.ID, l.Health.State, l.Health.Detail))
		case len(l.Failures) > 0 && !l.List.Allow(): // healthy, but it did not answer for every subject
			warnings = append(warnings, fmt.Sprintf("list %s did not answer for every subject (%s): the check is incomplete",
				l.List.ID, failedParts(l.Failures)))
		}
	}
	leftWarnings := 0
	for i, msg := range warnings {
		if i == MaxAnnotations {
			leftWarnings = len(warnings) - i
			break
		}
		fmt.Fprintf(w, "::warning title=blcheck: not checked::%s\n", ghData(msg))
	}
	if leftErrors+leftWarnings > 0 {
		fmt.Fprintf(w, "::notice title=blcheck: more::%s\n", ghData(fmt.Sprintf(
			"%d more listed places and %d more problems are not annotated (GitHub shows %d of each a step): "+
				"the step summary and -o json list them all", leftErrors, leftWarnings, MaxAnnotations)))
	}
	s := summarize(v)
	notChecked := ""
	if nc := NotChecked(res, 5); nc != "" {
		notChecked = "; not checked: " + nc
	}
	_, err := fmt.Fprintf(w, "::notice title=blcheck::%s\n", ghData(fmt.Sprintf(
		"%s, %s: %d listed, %d noted, %d clean, %d blocked, %s, %d unreliable, %d skipped (exit %d%s)",
		plural(s.Targets, "target"), plural(s.Checks, "check"), s.Listed, s.Noted, s.Clean, s.Blocked, plural(s.Error, "error"),
		s.Unreliable, s.Skipped, exitCode, notChecked)))
	return err
}

// GitHubSummary writes the Markdown for $GITHUB_STEP_SUMMARY: a table of what
// is listed, where and how to delist it, and what could not be checked.
func GitHubSummary(w io.Writer, v *View) error {
	res, exitCode := v.Result, v.Verdict.ExitCode()
	var b strings.Builder
	s := summarize(v)
	b.WriteString("## blcheck\n\n")
	findings := listedFindings(v)
	switch {
	case len(findings) > 0:
		fmt.Fprintf(&b, "**%d listed** of %d targets checked (exit %d).\n\n", len(findings), s.Targets, exitCode)
		b.WriteString("| Listed | On | Where | Delist |\n|---|---|---|---|\n")
		for _, f := range findings {
			var where []string
			for i, l := range f.places {
				if i == 3 {
					where = append(where, fmt.Sprintf("and %d more", len(f.places)-3))
					break
				}
				where = append(where, fmt.Sprintf("%s:%d", l.File, fileLine(l)))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(f.input), mdCell(strings.Join(f.lists, "; ")),
				mdCell(strings.Join(where, ", ")), mdCell(strings.Join(f.delist, " ")))
		}
	case v.Verdict.Outcome == dnsbl.OutcomeIncomplete:
		fmt.Fprintf(&b, "Nothing listed, but the check is **incomplete** (exit %d).\n", exitCode)
	default:
		fmt.Fprintf(&b, "Nothing listed: %d targets, %d checks (exit %d).\n", s.Targets, s.Checks, exitCode)
	}
	notChecked := slices.Clone(v.AllIncomplete()) // the failed lists are said whatever the rule (summary.incomplete: strict)
	if nc := NotChecked(res, 10); nc != "" {
		notChecked = append(notChecked, notAnsweredBy+nc)
	}
	for _, l := range res.Lists {
		if l.Health.State == dnsbl.HealthBlocked || l.Health.Untrusted() {
			notChecked = append(notChecked, fmt.Sprintf("list %s: %s: %s", l.List.ID, l.Health.State, l.Health.Detail))
		}
	}
	if len(notChecked) > 0 {
		b.WriteString("\n**Not checked:**\n\n")
		for _, n := range notChecked {
			fmt.Fprintf(&b, "- %s\n", mdCell(n))
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell makes network text safe in a Markdown table cell.
func mdCell(s string) string {
	s = Sanitize(s, 500)
	return strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "`", "'", "[", "\\[", "]", "\\]").Replace(s)
}

// ghData escapes a workflow command's message; control characters are dropped.
func ghData(s string) string {
	s = Sanitize(s, 1000)
	s = strings.ReplaceAll(s, "%", "%25")
	s = strings.ReplaceAll(s, "\r", "%0D")
	return strings.ReplaceAll(s, "\n", "%0A")
}

// ghProp escapes a workflow command's property value.
func ghProp(s string) string {
	s = ghData(s)
	s = strings.ReplaceAll(s, ":", "%3A")
	return strings.ReplaceAll(s, ",", "%2C")
}

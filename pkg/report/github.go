package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
)

// GitHub writes GitHub Actions workflow commands: an error annotation at every
// place a listed finding appears, so it shows on the pull request, a warning for
// what could not be checked, and a notice with the summary.
func GitHub(w io.Writer, res *dnsbl.Result, locs map[int][]extract.Location, exitCode int) error {
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if c.Status != dnsbl.Listed || c.DuplicateOf != "" {
				continue
			}
			msg := fmt.Sprintf("%s (%s) is listed on %s (%s): %s", tr.Target.Input, c.Subject, c.List, c.Zone,
				strings.Join(c.Meanings, "; "))
			if c.DelistURL != "" {
				msg += ". Delist: " + c.DelistURL
			}
			places := locs[tr.Index]
			if len(places) == 0 {
				fmt.Fprintf(w, "::error title=blcheck: listed::%s\n", ghData(msg))
			}
			for _, l := range places {
				fmt.Fprintf(w, "::error file=%s,line=%d,title=%s::%s\n", ghProp(l.File), l.Line,
					ghProp("blcheck: listed domain in "+l.Where), ghData(msg))
			}
		}
		for _, p := range tr.Problems {
			fmt.Fprintf(w, "::warning title=blcheck: not checked::%s\n", ghData(p))
		}
	}
	if res.Resolver.RewritesNXDOMAIN {
		fmt.Fprintf(w, "::error title=blcheck: resolver::%s\n", ghData("the resolver invents answers for names that do not exist; nothing could be checked"))
	}
	for _, l := range res.Lists {
		if l.Health.State == dnsbl.HealthBlocked || l.Health.Untrusted() {
			fmt.Fprintf(w, "::warning title=blcheck: list %s::%s\n", ghProp(l.List.ID), ghData(string(l.Health.State)+": "+l.Health.Detail))
		}
	}
	s := Summarize(res, exitCode)
	_, err := fmt.Fprintf(w, "::notice title=blcheck::%s\n", ghData(fmt.Sprintf(
		"%d targets, %d checks: %d listed, %d clean, %d blocked, %d error, %d unreliable, %d skipped (exit %d)",
		s.Targets, s.Checks, s.Listed, s.Clean, s.Blocked, s.Error, s.Unreliable, s.Skipped, exitCode)))
	return err
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

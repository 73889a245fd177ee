package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/blcheck/blcheck/pkg/catalog"
)

// ListsTable writes the catalog as a table for people.
func ListsTable(w io.Writer, lists []*catalog.List, getenv func(string) string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tDEFAULT\tZONE\tNAME")
	on, keyless, dead := 0, 0, 0
	for _, l := range lists {
		kind := "domain"
		if l.Kind == catalog.KindIP {
			var fams []string
			for _, f := range l.Families {
				fams = append(fams, strings.TrimPrefix(f, "ip"))
			}
			kind = "ip " + strings.Join(fams, "+")
		}
		def := "no"
		switch {
		case l.Dead():
			def = "dead"
			dead++
		case l.Default && l.Keyed():
			def = "key"
			on++
			if l.KeyFrom(getenv) != "" {
				def = "yes (key set)"
			}
		case l.Default:
			def = "yes"
			on++
			keyless++
		}
		name := l.Name
		switch {
		case l.Dead():
			died := l.Died
			if died == "" {
				died = "?"
			}
			name += fmt.Sprintf(" (dead since %s: %s)", died, l.Now)
		case l.Keyed():
			name += fmt.Sprintf(" (needs $%s)", l.Key.Env)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.ID, kind, def, l.Zone, Sanitize(name, 200))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d lists: %d on by default (%d need no key, %d need an account key), %d dead, %d off.\n",
		len(lists), on, keyless, on-keyless, dead, len(lists)-on-dead)
	return err
}

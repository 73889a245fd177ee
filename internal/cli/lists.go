package cli

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/report"
)

type listsOptions struct {
	catalogOptions
	resolverOptions
	format  string
	probe   bool
	noColor bool
}

const listsLong = `Show the catalog in use (the built-in lists.yaml, or --lists FILE), one entry per list:
its id (for --list and --exclude), what it holds, whether it is on by default, its zone
and name, then why each list that is off by default is off, and the free-use limits
per operator. With --list or --exclude, only the lists a check would use. Dead lists stay in the catalog, off, with the date and what they do now.
--format json prints a JSON array of the entries with the catalog's keys.

--probe asks every default list (or those named with --list) for its RFC 5782 test
points through the configured resolver, and shows whether each is ok, blocked (it
refuses this resolver), unreliable (it lists everything, misses its test point, or
answers outside 127.0.0.0/8) or not answering, with the round-trip time. Run it when
everything looks listed, or nothing does.

EXIT STATUS (--probe)
  0  every probed list is ok (or untested: it publishes no test point), and
     at least one is ok
  2  usage or input error
  3  some list is not ok, no list is ok, or the resolver invents answers
  130 interrupted (SIGINT, SIGTERM, SIGHUP) before every probe was answered`

func newListsCmd(s *streams) *cobra.Command {
	o := &listsOptions{}
	cmd := &cobra.Command{
		Use:   "lists [--format text|json] [--probe]",
		Short: "Show the catalog of blacklists in use, or probe their health",
		Long:  listsLong,
		Example: `  blcheck lists
  blcheck lists --format json | jq '.[] | select(.default) | .zone'
  blcheck lists --probe --resolver 127.0.0.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, known := report.Lookup(o.format); known && !cmd.Flags().Changed("format") && o.format != "json" {
				o.format = "text" // BLCHECK_FORMAT=nagios (or jsonl, prometheus) is for the checks
			}
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: use text or json", o.format)
			}
			if o.probe {
				return runProbe(cmd.Context(), s, o)
			}
			cat, err := o.load(s)
			if err != nil {
				return err
			}
			shown := cat.Lists
			if len(o.only) > 0 || len(o.exclude) > 0 { // the lists a run with these flags would use
				sel, warnings, err := o.selection(cat, s)
				if err != nil {
					return err
				}
				for _, w := range warnings {
					fmt.Fprintf(s.err, "blcheck: warning: %s\n", w)
				}
				shown = nil
				for _, l := range sel {
					shown = append(shown, l.List)
				}
			}
			if o.format == "json" {
				err = report.WriteJSON(s.out, report.CatalogEntries(shown))
			} else {
				err = report.ListsTable(s.out, shown, s.getenv)
			}
			if errors.Is(err, syscall.EPIPE) {
				// `blcheck lists | head`: the reader had what it wanted, and the
				// catalog holds no verdict to lose (unlike --probe's health)
				return nil
			}
			return err
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	o.catalogOptions.addFlags(cmd)
	o.resolverOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "o", "text", "output format: text or json (a $BLCHECK_FORMAT of the checks' own, such as nagios, leaves text)")
	f.BoolVar(&o.probe, "probe", false, "probe each list's health through the resolver")
	f.BoolVar(&o.noColor, "no-color", false, "no colour")
	return cmd
}

func runProbe(ctx context.Context, s *streams, o *listsOptions) error {
	_, lists, _, err := prepare(s, &o.catalogOptions, &o.resolverOptions, nil)
	if err != nil {
		return err
	}
	client, servers, err := o.client(s)
	if err != nil {
		return err
	}
	defer client.Close()
	it, err := o.iterator()
	if err != nil {
		return err
	} else if it != nil {
		defer it.Close()
	}
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: client, Rate: o.rate, Direct: o.mode, Iterator: it})
	if err != nil {
		return err
	}
	defer ck.Close()
	res, _ := ck.Run(ctx, func(func(dnsbl.Target) bool) {}, dnsbl.RunOptions{AllHealth: true}) // health only: no target
	code := exitClean
	if res.Resolver.RewritesNXDOMAIN {
		code = exitIncomplete
	}
	healthy := false // a list without a test point proves nothing, so it cannot be the healthy one
	for _, l := range res.Lists {
		healthy = healthy || l.Health.State == dnsbl.HealthOK
		if l.Health.State != dnsbl.HealthOK && l.Health.State != dnsbl.HealthNeedsKey && l.Health.State != dnsbl.HealthUntested {
			code = exitIncomplete
		}
	}
	if !healthy {
		code = exitIncomplete
	}
	interrupted := ctx.Err() != nil // Ctrl-C: what was cut short says nothing of its list
	if interrupted {
		code = exitInterrupt
	}
	if o.format == "json" {
		doc := report.NewProbeDocument(res, servers)
		doc.Interrupted = interrupted
		err = report.WriteJSON(s.out, doc)
	} else {
		err = report.ProbeTable(s.out, res, servers, colorEnabled(s, o.noColor))
		if interrupted && err == nil {
			_, err = fmt.Fprintln(s.out, "Interrupted: a list shown interrupted was cut short, which says nothing of it: probe again.")
		}
	}
	if err != nil {
		return err
	}
	if code != exitClean {
		return &exitError{code}
	}
	return nil
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/report"
)

type listsOptions struct {
	listsFile string
	format    string
}

func newListsCmd(s *streams) *cobra.Command {
	o := &listsOptions{}
	cmd := &cobra.Command{
		Use:   "lists [--format text|json]",
		Short: "Show the catalog of blacklists in use",
		Long: `Show the catalog in use (the built-in lists.yaml, or --lists FILE), one entry per list:
its id (for --list and --exclude), what it holds, whether it is on by default, its zone
and name. Dead lists stay in the catalog, off, with the date and what they do now.

--format json prints a JSON array of the entries with the catalog's keys.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: use text or json", o.format)
			}
			cat, err := (&catalogOptions{listsFile: o.listsFile}).load()
			if err != nil {
				return err
			}
			if o.format == "json" {
				return report.WriteJSON(s.out, report.CatalogEntries(cat.Lists))
			}
			return report.ListsTable(s.out, cat.Lists, s.getenv)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	cmd.Flags().StringVar(&o.listsFile, "lists", "", "load the catalog from `FILE` instead of the built-in one")
	cmd.Flags().StringVarP(&o.format, "format", "o", "text", "output format: text or json")
	return cmd
}

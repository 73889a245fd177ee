//go:build docs

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func init() { buildCommands = append(buildCommands, newDocsCmd) }

// newDocsCmd writes the man pages and shell completions (make docs). It is hidden:
// users get completions from `blcheck completion SHELL`. It is built only with
// -tags docs, so that the shipped binary does not carry the man-page renderer.
func newDocsCmd(s *streams, root func() *cobra.Command) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "docs --dir DIR",
		Short:  "Write man pages and shell completions into DIR",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			r := root()
			r.DisableAutoGenTag = true
			man, comp := filepath.Join(dir, "man"), filepath.Join(dir, "completions")
			for _, d := range []string{man, comp} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return usagef("--dir: %v", err)
				}
			}
			// The pages are dated by the commit (cobra would take SOURCE_DATE_EPOCH,
			// else today), so that two builds of one commit write the same bytes.
			b := readBuildInfo()
			header := &doc.GenManHeader{Title: "BLCHECK", Section: "1", Source: "blcheck " + b.version}
			if t, ok := b.commitTime(); ok {
				header.Date = &t
			}
			if err := doc.GenManTree(r, header, man); err != nil {
				return err
			}
			for name, gen := range map[string]func(string) error{
				"blcheck.bash": func(p string) error { return r.GenBashCompletionFileV2(p, true) },
				"_blcheck":     r.GenZshCompletionFile,
				"blcheck.fish": func(p string) error { return r.GenFishCompletionFile(p, true) },
			} {
				if err := gen(filepath.Join(comp, name)); err != nil {
					return err
				}
			}
			_, err := fmt.Fprintf(s.out, "wrote man pages to %s and completions to %s\n", man, comp)
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "docs", "where to write man/ and completions/")
	return cmd
}

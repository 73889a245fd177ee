//go:build docs

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

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
			manSections(r)
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

// heading is a section heading of a command's help: EXIT STATUS, ENVIRONMENT.
var heading = regexp.MustCompile(`^[A-Z][A-Z -]+( \([^)]*\))?$`)

// manSections makes each heading of every command's help a section of its man
// page (cobra puts the whole help under DESCRIPTION, as Markdown), its lines
// kept as they are laid out.
func manSections(c *cobra.Command) {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(c.Long, "\n") {
		switch {
		case heading.MatchString(line):
			b.WriteString("# " + line + "\n")
			in = true
		case in && line != "":
			b.WriteString("    " + line + "\n")
		default:
			b.WriteString(line + "\n")
		}
	}
	c.Long = strings.TrimSuffix(b.String(), "\n")
	for _, sub := range c.Commands() {
		manSections(sub)
	}
}

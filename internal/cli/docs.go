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
			// what --help lists, cobra adds when it runs: the pages list them too
			r.InitDefaultCompletionCmd()
			r.InitDefaultVersionFlag()
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
				"blcheck.ps1":  r.GenPowerShellCompletionFileWithDesc,
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
	c.Long = manMarkdown(c.Long)
	for _, sub := range c.Commands() {
		manSections(sub)
	}
}

// manMarkdown is a command's help text as the Markdown cobra renders into its
// man page: each heading a section whose lines are kept as they are laid out,
// and elsewhere each block of indented lines (a table of endpoints, a list)
// kept too, where Markdown would run it into the paragraph (from 1 to 3
// spaces, Markdown keeps no layout; 4 or a tab already make a code block).
func manMarkdown(long string) string {
	var b strings.Builder
	section, block := false, false
	prev := ""
	for _, line := range strings.Split(long, "\n") {
		indented := strings.HasPrefix(line, " ") && strings.TrimSpace(line) != ""
		switch {
		case heading.MatchString(line):
			b.WriteString("# " + line + "\n")
			section = true
		case section && line != "", block && line != "":
			b.WriteString("    " + line + "\n")
		case indented && !strings.HasPrefix(line, "    "):
			if prev != "" {
				b.WriteString("\n") // a code block starts after a blank line
			}
			b.WriteString("    " + line + "\n")
			block = true
		default:
			b.WriteString(line + "\n")
			block = false
		}
		prev = line
	}
	return strings.TrimSuffix(b.String(), "\n")
}

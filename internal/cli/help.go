package cli

import (
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/blcheck/blcheck/internal/lazyre"
	"github.com/blcheck/blcheck/pkg/catalog"
)

// Help's width: the terminal's, else 80; never narrower than minHelpWidth.
const (
	defaultHelpWidth = 80
	minHelpWidth     = 40
)

func init() {
	cobra.AddTemplateFunc("wrapFlags", func(fs *pflag.FlagSet, width int) string {
		return strings.TrimRight(wrapText(fs.FlagUsagesWrapped(0), width), " \n")
	})
	cobra.AddTemplateFunc("wrapText", wrapText)
	cobra.AddTemplateFunc("blcheckVersion", versionString) // the root's --version: the build is read only then
}

// wrapText lays s out in width columns: a paragraph of lines flush left is
// prose, joined and wrapped again; an indented line (a table row, an example)
// is kept as it is laid out, and only when it is longer than width broken at a
// space, continued under its text (after its first run of two spaces).
func wrapText(s string, width int) string {
	var out, para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, wrapWords(strings.Join(para, " "), "", width)...)
			para = nil
		}
	}
	for _, line := range strings.Split(s, "\n") {
		switch {
		case line != "" && line[0] != ' ':
			para = append(para, line)
		default:
			flush()
			out = append(out, breakLine(line, width)...)
		}
	}
	flush()
	return strings.Join(out, "\n")
}

// wrapWords fills lines of width columns with the words of text, each line
// begun with indent.
func wrapWords(text, indent string, width int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			out = append(out, line)
			line = ""
		}
		if line == "" {
			line = indent + w
		} else {
			line += " " + w
		}
	}
	return append(out, line)
}

// breakLine breaks an indented line longer than width at its last space that
// fits, continuing it under its text.
func breakLine(line string, width int) []string {
	if len(line) <= width {
		return []string{line}
	}
	hang := hangOf(line, width-20)
	cut := strings.LastIndex(line[:width+1], " ")
	if cut <= hang {
		return []string{line}
	}
	return append([]string{strings.TrimRight(line[:cut], " ")},
		wrapWords(line[cut+1:], strings.Repeat(" ", hang), width)...)
}

// terminalWidth is stdout's width when it is a terminal, else 0.
func terminalWidth() int {
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
		return w
	}
	return 0
}

// helpWidth is the width help is wrapped to: s.width when stdout is a terminal
// that says it, else 80.
func helpWidth(s *streams) int {
	if !s.outTTY || s.width <= 0 {
		return defaultHelpWidth
	}
	return max(s.width, minHelpWidth)
}

// setHelp makes root's help wrap its flags' descriptions to the width (cobra
// leaves each on one line, 302 characters for --txt), and completes the values
// of -l, --exclude, -o and the other flags with a fixed set of values.
func setHelp(root *cobra.Command, s *streams) {
	w := helpWidth(s)
	tmpl := root.UsageTemplate()
	for _, set := range []string{"Local", "Inherited"} {
		tmpl = strings.Replace(tmpl, "{{."+set+"Flags.FlagUsages | trimTrailingWhitespaces}}", fmt.Sprintf("{{wrapFlags .%sFlags %d}}", set, w), 1)
	}
	root.SetUsageTemplate(strings.Replace(tmpl, "{{.Example}}", fmt.Sprintf("{{wrapText .Example %d}}", w), 1))
	root.SetHelpTemplate(fmt.Sprintf("{{with (or .Long .Short)}}{{wrapText . %d | trimTrailingWhitespaces}}\n\n{{end}}"+
		"{{if or .Runnable .HasSubCommands}}{{.UsageString}}{{end}}", w))
	root.CompletionOptions.HiddenDefaultCmd = false
	strictHelpTopic(root)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		addCompletions(c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// strictHelpTopic makes `blcheck help TOPIC` a usage error (exit 2) when TOPIC
// is not a command: cobra's help command would find the root for it (the root
// takes targets as arguments) and print the root's help, exit 0, as if the
// topic were known. run then points to `blcheck --help`, which lists the
// commands. `blcheck help scan` is scan's help, as before.
func strictHelpTopic(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	for _, h := range root.Commands() {
		if h.Name() != "help" || h.Run == nil {
			continue
		}
		show := h.Run
		h.Run = nil
		h.RunE = func(c *cobra.Command, args []string) error {
			if cmd, rest, err := root.Find(args); len(args) > 0 && (err != nil || cmd == root || len(rest) > 0) {
				return usagef("unknown help topic %q", strings.Join(args, " "))
			}
			show(c, args)
			return nil
		}
	}
}

// formatValues reads a flag's values from its description: "output format:
// text, json or jsonl".
func formatValues(usage string) []string {
	rest, ok := strings.CutPrefix(usage, "output format: ")
	if !ok {
		return nil
	}
	if end := strings.IndexFunc(rest, func(r rune) bool { return r != ',' && r != ' ' && (r < 'a' || r > 'z') }); end >= 0 {
		rest = rest[:end]
	}
	return strings.FieldsFunc(strings.ReplaceAll(rest, " or ", ","), func(r rune) bool { return r == ',' || r == ' ' })
}

// addCompletions registers the completion of the values of c's flags that take
// a list's name or one of a fixed set of words.
func addCompletions(c *cobra.Command) {
	fixed := map[string][]string{
		"txt":    {"auto", "listed"},
		"direct": {"auto", "always", "never"},
	}
	if f := c.Flags().Lookup("format"); f != nil {
		if values := formatValues(f.Usage); len(values) > 0 {
			fixed["format"] = values
		}
	}
	for name, values := range fixed {
		if c.Flags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	for _, name := range []string{"list", "exclude"} {
		if c.Flags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, completeLists)
		}
	}
}

// completeLists completes a --list or --exclude value: "all", "default" and
// the built-in catalog's ids, each with its name; after a comma, the next one.
func completeLists(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	prefix := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		prefix = toComplete[:i+1]
	}
	out := []cobra.Completion{
		cobra.CompletionWithDesc(prefix+catalog.SelectAll, "every active list whose key is set"),
		cobra.CompletionWithDesc(prefix+catalog.SelectDefault, "the default lists"),
	}
	for _, l := range catalog.Default().Lists {
		if !l.Dead() {
			out = append(out, cobra.CompletionWithDesc(prefix+l.ID, l.Name))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// ansiEscape is a colour sequence of the text output: no width on a terminal.
var ansiEscape = lazyre.New("\x1b\\[[0-9;]*m")

// wrapTerminal breaks each line of text output longer than width (counting
// what a terminal shows, not colour sequences) at a space, continuing it two
// columns in from the line's own indentation. Lines are never broken inside a
// word: a long link stays whole, so it can be clicked.
func wrapTerminal(out []byte, width int) []byte {
	var b strings.Builder
	lines := strings.SplitAfter(string(out), "\n")
	for _, line := range lines {
		nl := strings.HasSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\n")
		hang := hangOf(ansiEscape().ReplaceAllString(line, ""), width/2)
		for {
			cut := breakAt(line, width, hang)
			if cut < 0 {
				break
			}
			b.WriteString(strings.TrimRight(line[:cut], " ") + "\n")
			line = strings.Repeat(" ", hang) + strings.TrimLeft(line[cut:], " ")
		}
		b.WriteString(line)
		if nl {
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// hangOf is where a broken line's continuation begins: under its text after
// its first run of two spaces ("ERROR  SpamCop ..."), else two columns in from
// its indentation; never past column most, if the indentation allows.
func hangOf(plain string, most int) int {
	body := strings.TrimLeft(plain, " ")
	indent := len(plain) - len(body)
	hang := indent + 2
	if i := strings.Index(body, "  "); i > 0 {
		if rest := strings.TrimLeft(body[i:], " "); rest != "" {
			hang = len(plain) - len(rest)
		}
	}
	if hang > most {
		hang = min(indent+2, most)
	}
	return hang
}

// breakAt is where to break line to fit width columns, past column hang (or
// right after a word too long for it): -1 when it fits, or has no space to
// break at.
func breakAt(line string, width, hang int) int {
	plain := ansiEscape().ReplaceAllString(line, "")
	if utf8.RuneCountInString(plain) <= width {
		return -1
	}
	col, cut := 0, -1
	for i := 0; i < len(line); {
		if loc := ansiEscape().FindStringIndex(line[i:]); loc != nil && loc[0] == 0 {
			i += loc[1]
			continue
		}
		if col > width && cut >= 0 {
			break
		}
		if line[i] == ' ' && col > hang {
			cut = i
			if col > width { // after a word longer than the line: break right after it
				break
			}
		}
		_, size := utf8.DecodeRuneInString(line[i:])
		i += size
		col++
	}
	return cut
}

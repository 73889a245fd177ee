package cli

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestSubcommandWords: every word that names a subcommand of the full tree
// (cobra's help and completion included) is one that makes run build it:
// else that subcommand would be taken as a check's target.
func TestSubcommandWords(t *testing.T) {
	skipWithBuildCommands(t)
	root := newRootCmd(&streams{getenv: func(string) string { return "" }})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var words []string
	for _, c := range root.Commands() {
		words = append(words, c.Name())
		words = append(words, c.Aliases...)
	}
	for _, w := range words {
		if !subcommandWords[w] {
			t.Errorf("the subcommand %q is not in subcommandWords", w)
		}
	}
	for w := range subcommandWords {
		if !slices.Contains(words, w) && w != cobra.ShellCompRequestCmd && w != cobra.ShellCompNoDescRequestCmd {
			t.Errorf("subcommandWords has %q, which names no subcommand", w)
		}
	}
}

// TestNeedsTree: a check needs the root command alone; a subcommand's word
// anywhere, or help asked for in any form, needs the whole tree.
func TestNeedsTree(t *testing.T) {
	skipWithBuildCommands(t)
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"192.0.2.10"}, false},
		{[]string{"192.0.2.10", "-r", "127.0.0.1:53", "-o", "json", "-q", "-l", "zen,psbl"}, false},
		{[]string{"--version"}, false},
		{nil, false},
		{[]string{"scan", "mail.eml"}, true},
		{[]string{"-r", "127.0.0.1:53", "dmarc", "report.xml"}, true},
		{[]string{"192.0.2.10", "--help"}, true},
		{[]string{"--help=true"}, true},
		{[]string{"-qh"}, true},
		{[]string{"help", "scan"}, true},
		{[]string{cobra.ShellCompRequestCmd, "sc"}, true},
	} {
		if got := needsTree(tc.args); got != tc.want {
			t.Errorf("needsTree(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// TestCheckWithoutTheTree: a check run by the root command alone says and
// exits exactly as one run by the whole tree, in every format, for a listing,
// a bad flag, a bad value, no target and --version.
func TestCheckWithoutTheTree(t *testing.T) {
	skipWithBuildCommands(t)
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	times := regexp.MustCompile(`\d+(\.\d+)?(ms|s)\b|"started": ?"[^"]*"|"\w+_ms": ?\d+|time=[0-9.]+s|_seconds(\{[^}]*\})? [0-9.e+-]+`)
	r := []string{"-r", srv.Addr, "--timeout", "200ms", "-l", "zen,psbl,dbl"}
	cases := [][]string{
		{"192.0.2.10"}, {"192.0.2.10", "-o", "json"}, {"192.0.2.10", "-o", "nagios"}, {"192.0.2.10", "-o", "jsonl"},
		{"192.0.2.10", "-o", "prometheus"}, {"192.0.2.10", "--bogus"}, {"192.0.2.10", "--timeout", "soon"}, {},
		{"--version"}, {"192.0.2.10", "-q"},
	}
	for _, args := range cases {
		args = append(args, r...)
		if needsTree(args) {
			t.Fatalf("%q needs the tree: the test compares nothing", args)
		}
		alone := runCLI(t, nil, "", args...)
		buildCommands = append(buildCommands, func(*streams, func() *cobra.Command) *cobra.Command {
			return &cobra.Command{Use: "zz-build", Hidden: true}
		})
		tree := runCLI(t, nil, "", args...)
		buildCommands = buildCommands[:len(buildCommands)-1]
		// times aside, and lines in any order (jsonl's come as the answers do)
		same := func(a, b string) bool {
			la := strings.Split(times.ReplaceAllString(a, "T"), "\n")
			lb := strings.Split(times.ReplaceAllString(b, "T"), "\n")
			slices.Sort(la)
			slices.Sort(lb)
			return slices.Equal(la, lb)
		}
		if alone.code != tree.code || !same(alone.stdout, tree.stdout) || !same(alone.err, tree.err) {
			t.Errorf("%q: alone exit %d\n%s%s\nwith the tree exit %d\n%s%s", args, alone.code, alone.stdout, alone.err,
				tree.code, tree.stdout, tree.err)
		}
	}
}

// skipWithBuildCommands skips a test of the plain build's tree in one with
// build commands (go test -tags docs), which always builds all of it.
func skipWithBuildCommands(t *testing.T) {
	if len(buildCommands) > 0 {
		t.Skip("a build with build commands always builds the whole tree")
	}
}

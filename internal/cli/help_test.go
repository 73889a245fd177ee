package cli

import (
	"slices"
	"strings"
	"testing"
)

// Completion offers -o's values as its description names them.
func TestFormatValues(t *testing.T) {
	for usage, want := range map[string][]string{
		"output format: text, json, jsonl, nagios or prometheus (nagios: -c is --critical)": {"text", "json", "jsonl", "nagios", "prometheus"},
		"output format: text or json":        {"text", "json"},
		"output format: text":                {"text"},
		"the format of the report: text":     nil,
		"output format: ":                    nil,
		"output format: Text, json or jsonl": nil,
	} {
		if got := formatValues(usage); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", usage, got, want)
		}
	}
}

// `blcheck help TOPIC` of a topic that is no command is a usage error that
// names it, not the root's help with exit 0; a command's topic is its help.
func TestHelpTopic(t *testing.T) {
	env := map[string]string{"BLCHECK_DIRECT": "never"}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // must contain
		stderr string // must contain
	}{
		{[]string{"help", "nonexist"}, exitUsage, "", "unknown help topic \"nonexist\"\nRun 'blcheck --help' for usage."},
		{[]string{"help", "scan", "nonexist"}, exitUsage, "", `unknown help topic "scan nonexist"`},
		{[]string{"help", "scan"}, exitClean, "blcheck scan", ""},
		{[]string{"help", "lists"}, exitClean, "blcheck lists", ""},
		{[]string{"help"}, exitClean, "Available Commands:", ""},
	} {
		got := runCLI(t, env, "", tc.args...)
		if got.code != tc.code || !strings.Contains(got.stdout, tc.stdout) || !strings.Contains(got.err, tc.stderr) {
			t.Errorf("%q: exit %d, stdout %.200q, stderr %q; want exit %d, %q, %q",
				tc.args, got.code, got.stdout, got.err, tc.code, tc.stdout, tc.stderr)
		}
		if tc.code == exitUsage && got.stdout != "" {
			t.Errorf("%q: a usage error printed help: %.200q", tc.args, got.stdout)
		}
	}
}

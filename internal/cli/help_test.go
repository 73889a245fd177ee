package cli

import (
	"slices"
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

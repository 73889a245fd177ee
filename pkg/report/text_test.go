package report

import (
	"strings"
	"testing"
	"time"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain text", 100, "plain text"},
		{"\x1b[31mred\x1b[0m", 100, `\x1b[31mred\x1b[0m`},
		{"bell\x07 and del\x7f", 100, `bell\x07 and del\x7f`},
		{"c1 \u009b csi", 100, `c1 \x9b csi`},
		{"multi\n\nline\t\ttext  ", 100, "multi line text"},
		{"rtl \u202etxt.exe", 100, `rtl \u202etxt.exe`},
		{"bad utf8 \xff\xfe", 100, `bad utf8 \xff\xfe`},
		{"café résumé", 100, "café résumé"},
		{strings.Repeat("a", 50), 10, "aaaaaaaaaa…"},
	}
	for _, tc := range tests {
		if got := Sanitize(tc.in, tc.max); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every renderer says when its output could not be written, and so does the
// changes report (-q with --state).
func TestRenderersReturnWriteErrors(t *testing.T) {
	for _, f := range Formats() {
		render, _ := Lookup(f)
		if err := render(failWriter{}, fixtureView(t, true), Options{Now: time.Unix(0, 0)}); err == nil {
			t.Errorf("%s: no error from a failing writer", f)
		}
	}
	v := fixtureView(t, false)
	v.Changes = map[string]string{"192.0.2.10 spamhaus-zen": "new-listing"}
	if err := renderText(failWriter{}, v, Options{Quiet: true}); err == nil {
		t.Error("changes: no error from a failing writer")
	}
}

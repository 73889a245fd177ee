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

// A renderer says when its output could not be written.
func TestRenderersReturnWriteErrors(t *testing.T) {
	res, names, locs := fixture(t)
	if err := (&Text{W: failWriter{}, Names: names, Locations: locs}).Render(res, []string{"127.0.0.1:53"}, 1); err == nil {
		t.Error("Text.Render: no error from a failing writer")
	}
	if err := Changes(failWriter{}, res, map[string]string{"192.0.2.10 spamhaus-zen": "new-listing"}, nil, names, nil); err == nil {
		t.Error("Changes: no error from a failing writer")
	}
	if err := Prometheus(failWriter{}, res, time.Unix(0, 0)); err == nil {
		t.Error("Prometheus: no error from a failing writer")
	}
}

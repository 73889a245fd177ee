package ascii

import "testing"

func TestLowerKeepsOffsets(t *testing.T) {
	for _, s := range []string{"", "ABC def", "Zur\xfcck \xfc\xfc SpamCop", "\xff\xfeA", "ÄÖÜ ZEN"} {
		got := LowerString(s)
		if len(got) != len(s) {
			t.Errorf("%q: length %d, want %d", s, len(got), len(s))
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if got[i] != c {
				t.Errorf("%q: byte %d is %q", s, i, got[i])
			}
		}
	}
}

// Package ascii lower-cases text byte for byte: an index into the result is an
// index into the input, whatever else the input holds (Latin-1 bytes, invalid
// UTF-8), which strings.ToLower and bytes.ToLower do not promise (they turn
// each invalid byte into a three-byte U+FFFD). The names matched against such
// text (zones, aliases, HTML attributes) are ASCII.
package ascii

// Lower returns s with its ASCII letters lower-cased, in a new slice.
func Lower(s []byte) []byte {
	b := make([]byte, len(s))
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return b
}

// LowerString is Lower for a string.
func LowerString(s string) string { return string(Lower([]byte(s))) }

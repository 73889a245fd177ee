// Package lazyre compiles a regular expression the first time it is used, not
// when the program starts: blcheck's parsers for bounces and messages carry
// dozens of them, and a check of one address should not pay for any.
package lazyre

import (
	"regexp"
	"sync"
)

// New returns a function that yields expr compiled, compiling it once on the
// first call. An invalid expr panics then, as regexp.MustCompile does.
func New(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

package cli

import (
	"fmt"
	"io"
	"os"
)

// Limits on what blcheck reads from a file a user names, so that a wrong path
// (/dev/zero, a disk image) is an error naming it, not a machine out of memory.
const (
	maxCatalogSize = 16 << 20 // --lists FILE
)

// readBounded reads all of name ("-" is standard input) up to limit bytes: a
// larger input, a directory or an unreadable file is a usage error that names
// it and what the limit is for. It returns the name to use in messages.
func readBounded(s *streams, name string, limit int64, what string) ([]byte, string, error) {
	var r io.Reader = s.in
	if name == "-" {
		name = "standard input"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, name, usagef("%v", pathError(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, name, usagef("%s is a directory, not %s", name, what)
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, name, usagef("cannot read %s: %v", name, err)
	}
	if int64(len(data)) > limit {
		size := fmt.Sprintf("%d MiB", limit>>20)
		if limit < 1<<20 {
			size = fmt.Sprintf("%d KiB", limit>>10)
		}
		return nil, name, usagef("%s is larger than %s, the most blcheck reads for %s", name, size, what)
	}
	return data, name, nil
}

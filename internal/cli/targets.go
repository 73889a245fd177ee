package cli

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"os"
	"strings"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// targetInput is what a run checks: targets already in memory (arguments,
// standard input, scan and bounce findings) and --file files, which were read
// once to be validated and are read again as they are checked, so that a file
// of a million addresses is never held in memory.
type targetInput struct {
	fixed []dnsbl.Target
	// gen, when set, yields more targets after the fixed ones, made as they are
	// checked (blcheck dmarc's sources: a target each is not kept for a run)
	gen   iter.Seq[dnsbl.Target]
	files []string
	// perFile is how many targets the validation pass read from each file
	perFile []int
	// what the validation pass counted, for the volume warning, the progress
	// bar and TXTAuto
	count, v4, v6, domains int
	ranges                 bool
	// changed is set by the second pass when a file no longer reads as it did
	changed []string
	// warnings say what was read otherwise than written: a range given by an
	// address inside it (192.0.2.4/28 is checked as 192.0.2.0/28)
	warnings  []string
	unaligned int
}

// maxUnalignedWarnings bounds the ranges said one by one.
const maxUnalignedWarnings = 5

func (in *targetInput) note(t dnsbl.Target) {
	in.count++
	if p, err := netip.ParsePrefix(strings.TrimSpace(t.Input)); err == nil && t.Kind == dnsbl.KindCIDR && p != p.Masked() {
		in.unaligned++
		switch {
		case in.unaligned <= maxUnalignedWarnings:
			in.warnings = append(in.warnings, fmt.Sprintf("%s is not where its range starts: checking the range %s (%d addresses)",
				strings.TrimSpace(t.Input), t.Prefix, t.Size()))
		case in.unaligned == maxUnalignedWarnings+1:
			in.warnings = append(in.warnings, "more ranges given by an address inside them: each is checked as its whole range")
		}
	}
	switch {
	case t.Kind == dnsbl.KindDomain:
		in.domains++
	case t.Kind == dnsbl.KindCIDR:
		in.ranges = true
		if t.Prefix.Addr().Is4() {
			in.v4 += t.Size()
		} else {
			in.v6 += t.Size()
		}
	case t.Addr.Is4():
		in.v4++
	default:
		in.v6++
	}
}

// fixedInput is an input of targets in memory.
func fixedInput(ts []dnsbl.Target) *targetInput {
	in := &targetInput{fixed: ts}
	for _, t := range ts {
		in.note(t)
	}
	return in
}

// genInput is an input of the targets gen yields (each time the same),
// made as they are checked.
func genInput(gen iter.Seq[dnsbl.Target]) *targetInput {
	in := &targetInput{gen: gen}
	for t := range gen {
		in.note(t)
	}
	return in
}

// seq yields every target in input order: the fixed ones, the generated
// ones, then each file's, read again as they are checked.
func (in *targetInput) seq() iter.Seq[dnsbl.Target] {
	return func(yield func(dnsbl.Target) bool) {
		for _, t := range in.fixed {
			if !yield(t) {
				return
			}
		}
		if in.gen != nil {
			for t := range in.gen {
				if !yield(t) {
					return
				}
			}
		}
		for i, name := range in.files {
			f, err := os.Open(name)
			if err != nil {
				in.changed = append(in.changed, fmt.Sprintf("--file %s could not be read again: %v", name, pathError(err)))
				continue
			}
			stop, n := false, 0
			err = dnsbl.ScanTargets(f, name, func(t dnsbl.Target) {
				if !stop {
					n++
					stop = !yield(t)
				}
			})
			f.Close()
			switch {
			case err != nil:
				in.changed = append(in.changed, fmt.Sprintf("--file %s changed while it was checked: %v", name, err))
			case !stop && n != in.perFile[i]:
				in.changed = append(in.changed, fmt.Sprintf("--file %s changed while it was checked: it held %d targets, then %d",
					name, in.perFile[i], n))
			}
			if stop {
				return
			}
		}
	}
}

// targets parses every target from the arguments, "-" and --file, and reports
// every bad one before anything is queried. Regular files are validated here
// and kept as names; standard input ("-" or --file -) and other files that
// cannot be read twice (pipes) are kept in memory.
func (o *checkOptions) targets(s *streams, args []string) (*targetInput, error) {
	in := &targetInput{}
	var errs []error
	stdinUsed := false
	for _, a := range args {
		if a == "-" {
			if stdinUsed {
				continue
			}
			stdinUsed = true
			ts, err := readPiped(s.in, "standard input")
			if err != nil {
				errs = append(errs, err)
			}
			in.fixed = append(in.fixed, ts...)
			continue
		}
		t, err := dnsbl.ParseTarget(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		in.fixed = append(in.fixed, t)
	}
	for _, t := range in.fixed {
		in.note(t)
	}
	for _, name := range o.files {
		if name == "-" { // --file - is standard input, as "-" is
			if !stdinUsed {
				stdinUsed = true
				ts, err := readPiped(s.in, "standard input")
				if err != nil {
					errs = append(errs, err)
				}
				in.addFixed(ts)
			}
			continue
		}
		if err := in.addFile(name); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, &usageError{errors.Join(errs...)}
	}
	if in.count == 0 {
		if len(args) > 0 || len(o.files) > 0 {
			return nil, usagef("no targets: %s", emptyInputs(args, o.files))
		}
		return nil, usagef("no target given: name an IP address, range, domain, URL or e-mail address")
	}
	return in, nil
}

// emptyInputs names the inputs that held no target ("-" and --file), for the
// usage error that says so.
func emptyInputs(args, files []string) string {
	var names []string
	stdin := false
	for _, a := range append(args, files...) {
		switch {
		case a != "-":
			names = append(names, a)
		case !stdin:
			stdin = true
			names = append(names, "standard input")
		}
	}
	if len(names) == 1 {
		return names[0] + " holds only blank lines and comments"
	}
	return strings.Join(names, ", ") + " hold only blank lines and comments"
}

// addFile validates a --file. A regular file is kept by name, to be read again
// as it is checked; anything else (a pipe, as from --file <(command), a
// device) cannot be read twice, so its targets are kept in memory.
func (in *targetInput) addFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("--file: %v", pathError(err))
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("--file %s is a directory: name a file of targets", name)
	case err == nil && !st.Mode().IsRegular():
		ts, err := readPiped(f, name)
		in.addFixed(ts)
		return err
	}
	n := 0
	err = dnsbl.ScanTargets(f, name, func(t dnsbl.Target) {
		n++
		in.note(t)
	})
	in.files = append(in.files, name)
	in.perFile = append(in.perFile, n)
	return err
}

// addFixed keeps targets read into memory, and counts them.
func (in *targetInput) addFixed(ts []dnsbl.Target) {
	in.fixed = append(in.fixed, ts...)
	for _, t := range ts {
		in.note(t)
	}
}

// maxPiped bounds what blcheck holds in memory of targets that cannot be read
// twice (standard input, a pipe): a regular --file is read as it is checked.
var maxPiped int64 = 32 << 20

// readPiped reads the targets of an input that cannot be read twice, at most
// maxPiped bytes of it: more (`yes 192.0.2.1 | blcheck -`) is a usage error
// that names the way to check it, not a process that grows without end.
func readPiped(r io.Reader, name string) ([]dnsbl.Target, error) {
	lr := &io.LimitedReader{R: r, N: maxPiped + 1} // a byte past the bound says it was passed
	ts, err := dnsbl.ReadTargets(lr, name)
	if lr.N <= 0 {
		return nil, fmt.Errorf("%s holds more than %d MiB of targets, the most blcheck keeps in memory: "+
			"put them in a regular file, not a pipe, and give it with --file FILE (such a file is read as it is checked)", name, maxPiped>>20)
	}
	return ts, err
}

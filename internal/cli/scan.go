package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
	"github.com/blcheck/blcheck/pkg/report"
)

type scanOptions struct {
	catalogOptions
	resolverOptions
	outputOptions
	ignore []string
}

const scanLong = `Check a newsletter or a message before it is sent, the way receiving filters
will: every link, resource, e-mail address and the headers receivers look at (From,
Reply-To, Return-Path, Sender, List-Unsubscribe, Message-ID, DKIM-Signature d=),
and the public address each Received header says the message came from.
Each host's registered domain is checked on the domain lists and its A/AAAA
addresses on the IP lists; a host found several times is checked once, and every
place it appears is reported. The server that delivered the message is judged as
a mail sender; every other relay as receivers that read the headers judge it: by
what makes it suspect (XBL, SBL), not by PBL.

FILE is an HTML file, a Markdown or plain-text file, a message (.eml, RFC 5322) or
an mbox of messages, each read as one, with MIME parts in quoted-printable or base64 and any declared charset (UTF-16
text too); "-" reads standard input. A compressed or binary file (gzip, zip, PDF)
is refused by name: its links cannot be read. Tracking redirects (?url=https%3A...)
are followed in the text only: no web request is made.

--format github prints GitHub Actions annotations, so a listed link shows on the
pull request at its file and line.

EXIT STATUS
  0  every finding that could be checked is clean
  1  a finding is listed
  2  a file cannot be read, or a bad flag: nothing was checked
  3  nothing listed, but the check is incomplete`

func newScanCmd(s *streams) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan [flags] FILE...",
		Short: "Check every domain, URL and address in a newsletter or message",
		Long:  scanLong,
		Example: `  blcheck scan newsletter.html
  blcheck scan campaign.eml --ignore example.com
  blcheck scan --format github dist/*.html      # in a GitHub Actions job`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), s, o, args)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	o.catalogOptions.addFlags(cmd)
	o.resolverOptions.addFlags(cmd)
	o.outputOptions.addFlags(cmd, "text, json, jsonl or github")
	cmd.Flags().BoolVar(&o.ns, "ns", true, "also check the addresses of each domain's name servers (NS), as receivers' URI filters do; --ns=false leaves them out")
	cmd.Flags().StringArrayVar(&o.ignore, "ignore", nil, "leave out `DOMAIN` and its subdomains (known good; shown as not checked), repeatable")
	return cmd
}

func runScan(ctx context.Context, s *streams, o *scanOptions, args []string) error {
	_, lists, warnings, err := prepare(s, &o.catalogOptions, &o.resolverOptions, &o.outputOptions, "text", "json", "jsonl", "github")
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no file given: name the newsletter or message to scan, or - for standard input")
	}
	var ignore []string
	for _, d := range o.ignore {
		t, err := dnsbl.ParseTarget(d)
		if err != nil || t.Kind != dnsbl.KindDomain {
			return usagef("--ignore %q: not a domain name", d)
		}
		ignore = append(ignore, t.Host)
	}
	limit := keepMemoryInProportion(s)
	defer limit.restore()
	limit.set(statSizes(args), 0) // while reading; standard input counts as the most it may hold
	var items []extract.Item
	var unread []string
	var size int64
	for _, name := range args {
		got, n, err := readFindings(s, name)
		if err != nil {
			return err
		}
		size += n
		items = append(append(items, got.Items...), got.Relays...)
		warnings = append(warnings, got.Warnings...)
		unread = append(unread, got.Unread...)
	}
	targets, found := plan(items, ignore)
	limit.set(size, len(targets))
	found.incomplete = append(found.incomplete, unread...) // what was in them was not checked
	switch {
	case len(targets) == 0 && len(found.ignored) > 0:
		fmt.Fprintf(s.err, "blcheck: nothing to check: no host found in %s could be checked (see \"Not checked\")\n", strings.Join(args, ", "))
	case len(targets) == 0:
		fmt.Fprintf(s.err, "blcheck: nothing to check: no link, address or header host found in %s\n", strings.Join(args, ", "))
	}
	return execute(ctx, s, &o.resolverOptions, &o.outputOptions, lists, warnings, fixedInput(targets), found)
}

// readFindings extracts the items of one file ("-" is standard input), and
// says how many bytes it read.
func readFindings(s *streams, name string) (*extract.Findings, int64, error) {
	if name == "-" {
		in := &countingReader{r: s.in}
		f, err := extract.File(in, "standard input")
		if err != nil {
			return nil, 0, usagef("standard input: %v", err)
		}
		return f, in.n, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, usagef("%v", pathError(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, 0, usagef("%s is a directory: name the files to scan", name)
	}
	in := &countingReader{r: f}
	found, err := extract.File(in, name)
	if err != nil {
		return nil, 0, usagef("%s: %v", name, err)
	}
	return found, in.n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// perTargetBytes is about what the engine keeps for one target of a scan
// while it runs (its subjects, checks and answers).
const perTargetBytes = 1536

// memoryLimit asks Go's garbage collector to keep the heap of a scan within
// eight times its input (the rest of ten for the runtime), unless GOMEMLIMIT
// says otherwise: most of what reading a newsletter allocates is garbage soon
// after, which the collector would otherwise let grow to twice the live heap.
// The limit leaves room for what the run must keep (64 MiB, and
// perTargetBytes a distinct host), so that a scan of many thousands of
// distinct hosts is not slowed by a collector that cannot reach it.
type memoryLimit struct {
	on   bool
	prev int64
}

func keepMemoryInProportion(s *streams) *memoryLimit {
	if s.getenv("GOMEMLIMIT") != "" {
		return &memoryLimit{}
	}
	return &memoryLimit{on: true, prev: debug.SetMemoryLimit(-1)}
}

func (m *memoryLimit) set(input int64, targets int) {
	if m.on {
		debug.SetMemoryLimit(max(8*input, 64<<20+int64(targets)*perTargetBytes))
	}
}

func (m *memoryLimit) restore() {
	if m.on {
		debug.SetMemoryLimit(m.prev)
	}
}

// statSizes is the size of the named files, as far as it is known before
// they are read; standard input ("-") counts as extract.MaxSize.
func statSizes(names []string) int64 {
	var n int64
	for _, name := range names {
		if name == "-" { // its size is not known before it is read: the most scan reads
			n += extract.MaxSize
			continue
		}
		if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
			n += st.Size()
		}
	}
	return n
}

// plan turns findings into targets (extract.Targets), and says what was left
// out in the CLI's words.
func plan(items []extract.Item, ignore []string) ([]dnsbl.Target, *findings) {
	targets, locations, ignored := extract.Targets(items, ignore)
	found := &findings{locations: locations}
	for _, ig := range ignored {
		reason := ig.Reason
		if reason == extract.IgnoredKnownGood {
			reason = "ignored (--ignore)"
		}
		found.ignored = append(found.ignored, report.IgnoredDoc{Host: ig.Host, Reason: reason, Locations: ig.Locations})
	}
	return targets, found
}

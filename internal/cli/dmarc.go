package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dmarc"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/report"
	"github.com/blcheck/blcheck/pkg/state"
)

type dmarcOptions struct {
	catalogOptions
	resolverOptions
	outputOptions
	failOnForged bool
}

const dmarcLong = `Check the addresses that really send mail as your domain: the source addresses
of the DMARC aggregate reports (rua=) that Google, Microsoft, Yahoo and others
send you. Each address is checked on the IP lists; the text says, for each
listed one, how much of your mail it carries and whether that mail passes DMARC
(your real mail: an ESP, a CRM, your own server) or never does (a forger:
nothing for you to delist). A table of every source by messages follows.

FILE is a report (XML, RFC 7489 or RFC 9990; gzip, zip or zlib), an e-mail
message carrying one (.eml), an mbox, or a directory (read recursively: a
folder of saved reports, a Maildir); "-" reads standard input. The same report
found twice (an .eml and the .zip saved from it) is counted once. Addresses the
reports give in private ranges are listed, not checked (--allow-private checks
them). Reading is bounded: a report may take 64 MiB decompressed; a compression
bomb or a truncated archive is reported as not read.

EXIT STATUS
  0  no source whose mail passes DMARC is listed (a listed forger is reported
     but does not fail the run, unless --fail-on-forged)
  1  a source that sends your real mail (passed > 0) is listed
  2  a named file is not a DMARC report, a named folder holds none, or a bad
     flag: nothing was checked
  3  nothing of yours listed, but the check is incomplete (a list did not
     answer, or a file could not be read fully)`

func newDMARCCmd(s *streams) *cobra.Command {
	o := &dmarcOptions{}
	cmd := &cobra.Command{
		Use:   "dmarc [flags] FILE|DIR|-...",
		Short: "Check the sending addresses in DMARC aggregate reports",
		Long:  dmarcLong,
		Example: `  blcheck dmarc ~/Maildir/.DMARC/
  blcheck dmarc reports/*.xml.gz --format json
  # in cron: only what changed since the last run
  blcheck dmarc -q --state /var/lib/blcheck/dmarc.json /srv/dmarc/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDMARC(cmd.Context(), s, o, args)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	o.catalogOptions.addFlags(cmd)
	o.resolverOptions.addFlags(cmd)
	o.outputOptions.addFlags(cmd, "text, json or jsonl")
	f := cmd.Flags()
	f.BoolVar(&o.ptr, "ptr", false, "also check each source's reverse DNS (a PTR record that resolves back to it): it says who runs the address")
	f.StringVar(&o.state, "state", "", "remember results in `FILE`; says what changed since the last run (a source newly listed or delisted, "+
		"a new source); with -q, text shows only that (for cron)")
	f.BoolVar(&o.failOnForged, "fail-on-forged", false, "a listed source none of whose mail passes DMARC (a forger) also makes the run exit 1")
	return cmd
}

func runDMARC(ctx context.Context, s *streams, o *dmarcOptions, args []string) error {
	_, lists, warnings, err := prepare(s, &o.catalogOptions, &o.resolverOptions, &o.outputOptions, "text", "json", "jsonl")
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no file given: name DMARC aggregate reports (files, directories, or - for standard input)")
	}
	got, err := readReports(s, args)
	if err != nil {
		return err
	}
	// the targets are made from the sources as they are checked: a report of a
	// hundred thousand sources holds no target for each through the run
	in := genInput(dmarc.TargetSeq(got, o.allowPrivate))
	if !o.quiet {
		// one estimate: where the run's progress lines will say theirs, the plan leaves its own out
		timed := !(progressLinesWanted(s, &o.outputOptions) && estimateRun(lists, in, &o.resolverOptions).duration >= progressAfter)
		fmt.Fprintln(s.err, "blcheck: "+dmarcPlan(got, dmarc.Checked(got, o.allowPrivate), in.count, lists, o.rate, timed))
	}
	found := &findings{dmarc: &dmarcRun{read: got, allowPrivate: o.allowPrivate, failOnForged: o.failOnForged}}
	if o.format == "jsonl" { // a streamed run keeps no check to find the listed sources in: they are noted as they come
		found.dmarc.streamed = dmarc.Listed{}
		found.observe = found.dmarc.streamed.Add
	}
	for _, u := range got.Unread {
		found.incomplete = append(found.incomplete, fmt.Sprintf("%s not read: %s", u.File, u.Why))
	}
	warnings = append(warnings, volumeWarnings(lists, in, dnsbl.Shard{})...) // thousands of sources on a free list
	return execute(ctx, s, &o.resolverOptions, &o.outputOptions, lists, warnings, in, found)
}

// readReports reads every named file and directory before anything is
// queried: a named file that is not a report is a usage error.
func readReports(s *streams, args []string) (*dmarc.Result, error) {
	rd := dmarc.NewReader(dmarc.Limits{})
	stdin := false
	for _, name := range args {
		var err error
		if name == "-" {
			if stdin {
				continue
			}
			stdin = true
			err = rd.ReadStream(s.in, "standard input")
		} else {
			err = rd.ReadPath(name)
		}
		var nr *dmarc.NotReportError
		switch {
		case errors.As(err, &nr):
			return nil, usagef("%s: %s (name DMARC aggregate reports, the messages carrying them, or folders of them)", nr.File, nr.Why)
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
			return nil, usagef("%v", pathError(err))
		case err != nil && !errors.Is(err, io.EOF):
			return nil, usagef("cannot read %s: %v", name, err)
		}
	}
	got := rd.Result()
	if got.Reports == 0 && !slices.ContainsFunc(got.Unread, func(u dmarc.Unread) bool { return !u.NotReport }) {
		// nothing but other files (TLS reports, notes): the wrong folder, as an empty one is
		return nil, usagef("no DMARC aggregate report found in %s%s", strings.Join(args, ", "), notReports(got.Unread, args))
	}
	return got, nil
}

// notReports says what the files of folders that hold no DMARC report are,
// the first few, by their names inside the folders named.
func notReports(unread []dmarc.Unread, args []string) string {
	const most = 3
	var says []string
	for _, u := range unread[:min(len(unread), most)] {
		name := u.File
		for _, dir := range args {
			if rel, err := filepath.Rel(dir, u.File); err == nil && !strings.HasPrefix(rel, "..") {
				name = rel
				break
			}
		}
		says = append(says, name+" is "+u.Why)
	}
	if len(unread) > most {
		says = append(says, fmt.Sprintf("and %d more files are not DMARC reports either", len(unread)-most))
	}
	if len(says) == 0 {
		return ""
	}
	return ": " + strings.Join(says, "; ")
}

// dmarcPlan says what the reports hold and, when timed, how long checking
// them will take.
func dmarcPlan(got *dmarc.Result, addrs iter.Seq[netip.Addr], checked int, lists []catalog.Selected, rate float64, timed bool) string {
	skipped := len(got.Sources) - checked
	queries, d := dmarc.Estimate(addrs, lists, rate)
	msg := fmt.Sprintf("%s, %s from %s", count(int64(got.Reports), "DMARC report", "DMARC reports"),
		count(got.Messages, "message", "messages"), count(int64(len(got.Sources)), "sending address", "sending addresses"))
	if skipped > 0 {
		msg += fmt.Sprintf(" (%d private or reserved, not checked)", skipped)
	}
	checking := ": checking " + count(int64(checked), "address", "addresses")
	switch {
	case checked == 0:
		return msg + ": nothing to check"
	case !timed:
		return msg + checking
	case rate <= 0:
		return msg + checking + fmt.Sprintf(", %s (--rate 0: no limit)", count(int64(queries), "query", "queries"))
	}
	return msg + checking + fmt.Sprintf(", %s, about %s at --rate %v a list",
		count(int64(queries), "query", "queries"), report.Seconds(d), rate)
}

// count is n and its noun: "1 message", "2 messages".
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// dmarcRun is what blcheck dmarc adds to a run: the reports' sources, and the
// contract's exit rule for them.
type dmarcRun struct {
	read         *dmarc.Result
	allowPrivate bool
	failOnForged bool
	// streamed holds the listed sources of a streamed run (-o jsonl), whose
	// result keeps no checks
	streamed dmarc.Listed
}

// doc is the view's dmarc object, with the contract's exit rule (a listed
// forger fails the run only with --fail-on-forged); with --state it says which
// sources no earlier run checked.
func (d *dmarcRun) doc(res *dnsbl.Result, store *state.Store) *report.DMARCDoc {
	var isNew func(netip.Addr) bool
	if store != nil {
		isNew = func(a netip.Addr) bool { return !store.Known(a.String()) }
	}
	listed := d.streamed
	if listed == nil {
		listed = dmarc.Listings(res)
	}
	doc := report.NewDMARCDoc(d.read, listed, d.allowPrivate, isNew)
	doc.FailOnForged = d.failOnForged
	return doc
}

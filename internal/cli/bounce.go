package cli

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/bounce"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

type bounceOptions struct {
	catalogOptions
	resolverOptions
	outputOptions
}

const bounceLong = `Read a bounce and say why the mail was rejected: what the receiver said, which
lists it names, which of your addresses or domains is listed where, what that
listing means, and what to fix first.

FILE is a bounce message (an RFC 3464 delivery status notification, with the
returned message or its headers, also pasted without its MIME structure) or
the pasted text of a rejection: an MTA's bounce, a log line ("NOQUEUE: reject:
..."), a mail library's error; "-" reads standard input.
The sending address (from the receiver's words, or the first external hop of the
returned message), the sender's domain and every domain in the returned message
are checked; the lists the bounce names come first, even when they are not on by
default. Rejections by a provider's own block list (Microsoft, Gmail, Yahoo),
which no blacklist query can see, are recognised and explained. The rejecting
server is named, not checked.

Every bounce gets its cause in plain words: a blacklist (which, and who runs
it), a provider's own reputation block (what its code means, its link), a rate
limit or deferral, a content or spam verdict, authentication (SPF, DKIM,
DMARC), reverse DNS, or a recipient problem (unknown user, mailbox full, too
big), which is no blacklist problem: nothing is checked. A content rejection
judged the mail, not the server: the domains of the returned message are
checked, never the sending address; without the returned message, check the
mail you sent with "blcheck scan FILE".

EXIT STATUS
  0  what was checked is not listed, or a recipient problem (nothing to check)
  1  a listing explains the bounce
  2  the input holds no bounce, cannot be read, or a bad flag
  3  nothing listed, but the check is incomplete (every query failed, the
     bounce shows nothing of yours to check, or a content rejection without
     the returned message)`

func newBounceCmd(s *streams) *cobra.Command {
	o := &bounceOptions{}
	cmd := &cobra.Command{
		Use:   "bounce [flags] FILE",
		Short: "Diagnose a bounce: why was my mail rejected?",
		Long:  bounceLong,
		Example: `  blcheck bounce bounce.eml
  pbpaste | blcheck bounce -`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBounce(cmd.Context(), s, o, args)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	o.catalogOptions.addFlags(cmd)
	o.resolverOptions.addFlags(cmd)
	o.outputOptions.addFlags(cmd, "text, json or jsonl")
	return cmd
}

func runBounce(ctx context.Context, s *streams, o *bounceOptions, args []string) error {
	cat, lists, warnings, err := prepare(s, &o.catalogOptions, &o.resolverOptions, &o.outputOptions, "text", "json", "jsonl")
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("bounce takes one FILE (or - for standard input), got %d", len(args))
	}
	data, name, err := readBounded(s, args[0], bounce.MaxSize, "a bounce")
	if err != nil {
		return err
	}
	defer boundHeap(s, len(data))()
	rep := bounce.ParseBytes(data)
	if !rep.Found {
		return usagef("%s holds no bounce: no SMTP error, enhanced status code, delivery report or failure wording "+
			"was found in what it reads (%s); paste the whole bounce, including the receiver's reply", name, quoteStart(data))
	}
	// the receiver's words only: never the bounce's transport headers
	hinted := bounce.HintedLists(rep, cat, rep.Said())
	rep.Provider = bounce.DetectProvider(rep, "") // the text is no longer read: no copy of the bounce
	lists = withHinted(lists, hinted, s)

	cause := bounce.Classify(rep, hinted)
	chosen := bounce.ChooseTargets(rep, cause, hinted)
	if cause.NothingToCheck() { // a recipient problem: not a blacklist problem, nothing to check
		chosen = &bounce.Targets{}
	}
	targets := chosen.Targets
	found := &findings{locations: chosen.Locations, bounce: rep, incomplete: chosen.Unread}
	found.diagnose = func(res *dnsbl.Result) *bounce.Diagnosis {
		return bounce.Diagnose(rep, cause, hinted, res, chosen.Origin)
	}
	if rep.AboutReverseDNS() {
		o.ptr = true // the receiver judged the address's reverse DNS: check it
	}
	found.incomplete = append(found.incomplete, rep.Unread...)
	if !cause.NothingToCheck() { // the list that refused the mail was not asked
		if note := bounce.UnknownNote(rep); note != "" {
			found.incomplete = append(found.incomplete, note)
		}
		found.incomplete = append(found.incomplete, unaskedKeyed(lists, hinted)...)
		if note := bounce.NoSenderAddressNote(rep, cause, hinted); note != "" && len(targets) > 0 {
			found.incomplete = append(found.incomplete, note)
		}
	}
	switch {
	case cause.Kind == bounce.CauseContent && rep.Returned == nil: // what it names may be checked, not the rest of the mail
		found.incomplete = append(found.incomplete, "the bounce does not include the message whose content was refused: "+
			"check the mail you sent with blcheck scan FILE")
	case len(targets) > 0 || cause.NothingToCheck():
	case cause.Kind == bounce.CauseContent: // the message is in the bounce, with nothing in it to check
		found.incomplete = append(found.incomplete, "the returned message holds no link, host or address to check")
	default:
		found.incomplete = append(found.incomplete, "the bounce shows no address or domain of the sender's to check")
	}
	if len(targets) == 0 {
		lists = nil // nothing to check: no list is asked, not even its test points
	} else if !cause.NothingToCheck() { // a named list no check asked (a domain list, and no domain): said after the run
		found.observe, found.unasked = askedOf(hinted)
	}
	return execute(ctx, s, &o.resolverOptions, &o.outputOptions, lists, warnings, fixedInput(targets), found)
}

// withHinted puts the lists the bounce names first, adding those not on by default.
func withHinted(lists []catalog.Selected, hinted []*catalog.List, s *streams) []catalog.Selected {
	var out []catalog.Selected
	have := map[string]bool{}
	for _, h := range hinted {
		out = append(out, catalog.Selected{List: h, KeyValue: h.KeyFrom(s.getenv)})
		have[h.ID] = true
	}
	for _, l := range lists {
		if !have[l.ID] {
			out = append(out, l)
		}
	}
	return out
}

// unaskedKeyed says which lists the bounce names cannot be asked for want of
// an account key, when no list they replace (their public mirror) is asked
// instead: the bounce named Abusix, and Abusix was not asked.
func unaskedKeyed(lists []catalog.Selected, hinted []*catalog.List) []string {
	asked := map[string]bool{}
	for _, l := range lists {
		if !l.NeedsKey() {
			asked[l.ID] = true
		}
	}
	var out []string
	for _, l := range lists {
		if asked[l.ID] || !slices.Contains(hinted, l.List) ||
			slices.ContainsFunc(l.Replaces, func(id string) bool { return asked[id] }) {
			continue
		}
		out = append(out, fmt.Sprintf("the bounce names %s, which needs an account key: set $%s to ask it", l.Name, l.Key.Env))
	}
	return out
}

// askedOf notes, as a run's observer, which lists a check asked (a skipped
// check asks nothing; a streamed run keeps no check to look at later), and
// says after the run which of the lists the bounce names none asked.
func askedOf(hinted []*catalog.List) (observe func(*dnsbl.TargetResult, dnsbl.Check), unasked func() []string) {
	var mu sync.Mutex
	asked := map[string]bool{}
	observe = func(_ *dnsbl.TargetResult, c dnsbl.Check) {
		if c.List != nil && c.Status != dnsbl.Skipped {
			mu.Lock()
			asked[c.List.ID] = true
			mu.Unlock()
		}
	}
	unasked = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return bounce.Unasked(hinted, asked)
	}
	return observe, unasked
}

// quoteStart quotes the start of what was read, for a message that says what
// it read: its first lines, at most 160 bytes, as a Go string.
func quoteStart(data []byte) string {
	text := strings.Join(strings.Fields(string(data[:min(len(data), 400)])), " ")
	if text == "" {
		return "nothing but white space"
	}
	if len(text) > 160 {
		text = strings.ToValidUTF8(text[:160], "") + "..."
	}
	return fmt.Sprintf("it reads %q", text)
}

// boundHeap asks Go's collector to keep the heap of a bounce within eight
// times its input (32 MiB at least, for the catalog and the run's few
// targets), unless GOMEMLIMIT says otherwise, and returns what gives the old
// limit back: reading a bounce's returned message allocates mostly garbage,
// which the collector would otherwise let grow to twice the live heap.
func boundHeap(s *streams, size int) func() {
	if s.getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(max(32<<20, 8*int64(size)))
	return func() { debug.SetMemoryLimit(old) }
}

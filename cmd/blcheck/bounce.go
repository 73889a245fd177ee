package main

import (
	"bytes"
	"context"

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
returned message or its headers) or the pasted text of a rejection from qmail,
Postfix, Exim, Sendmail, Exchange/Outlook or Gmail; "-" reads standard input.
The sending address (from the receiver's words, or the first external hop of the
returned message), the sender's domain and every domain in the returned message
are checked; the lists the bounce names come first, even when they are not on by
default. Rejections by a provider's own block list (Microsoft, Gmail, Yahoo),
which no blacklist query can see, are recognised and explained. The rejecting
server is named, not checked.

EXIT STATUS
  0  what was checked is not listed
  1  a listing explains the bounce
  2  the input holds no bounce, cannot be read, or a bad flag
  3  nothing listed, but the check is incomplete (every query failed, or the
     bounce shows nothing of yours to check)`

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
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
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
	rep, err := bounce.Parse(bytes.NewReader(data))
	if err != nil {
		return usagef("%s: %v", name, err)
	}
	if !rep.Found {
		return usagef("%s holds no bounce: no SMTP error, delivery status or failed recipient was found in it "+
			"(paste the whole bounce, including the receiver's reply)", name)
	}
	// the receiver's words only: never the bounce's transport headers
	hinted := bounce.HintedLists(rep, cat, rep.Said())
	rep.Provider = bounce.DetectProvider(rep, string(data))
	lists = withHinted(lists, hinted, s)

	chosen := bounce.ChooseTargets(rep, hinted)
	targets := chosen.Targets
	found := &findings{locations: chosen.Locations, bounce: rep, incomplete: chosen.Unread}
	found.diagnose = func(res *dnsbl.Result, names map[string]*catalog.List) *bounce.Diagnosis {
		return bounce.Diagnose(rep, hinted, res, chosen.Origin, names)
	}
	if rep.AboutReverseDNS() {
		o.ptr = true // the receiver judged the address's reverse DNS: check it
	}
	found.incomplete = append(found.incomplete, rep.Unread...)
	if len(targets) == 0 {
		found.incomplete = append(found.incomplete, "the bounce shows no address or domain of the sender's to check")
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

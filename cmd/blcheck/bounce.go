package main

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/net/publicsuffix"

	"github.com/blcheck/blcheck/pkg/bounce"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
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

	targets, found, origin := bounceTargets(rep)
	found.diagnose = func(res *dnsbl.Result, names map[string]*catalog.List) *bounce.Diagnosis {
		return bounce.Diagnose(rep, hinted, res, origin, names)
	}
	found.bounce = rep
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

// bounceTargets chooses what to check: the sending addresses, the sender's
// domain, and every host in the returned message, never the receiver.
func bounceTargets(rep *bounce.Report) ([]dnsbl.Target, *findings, bounce.Origin) {
	found := &findings{locations: map[int][]extract.Location{}}
	origin := bounce.Origin{}
	receiver := map[string]bool{}
	for _, r := range rep.Recipients {
		if at := strings.LastIndexByte(r, '@'); at > 0 {
			receiver[registered(r[at+1:])] = true
		}
	}
	if rep.Server.Name != "" {
		receiver[registered(rep.Server.Name)] = true
	}
	seen := map[string]bool{rep.Server.Addr: true}
	index := map[string]int{} // target input -> its place in targets
	var targets []dnsbl.Target
	add := func(input, why string, noMX bool, loc *extract.Location) {
		if i, ok := index[input]; ok {
			if loc != nil {
				found.locations[i] = append(found.locations[i], *loc)
			}
			if !slices.Contains(origin[i], why) {
				origin[i] = append(origin[i], why)
			}
			return
		}
		if seen[input] {
			return
		}
		seen[input] = true
		t, err := dnsbl.ParseTarget(input)
		if err != nil || t.Kind == dnsbl.KindDomain && receiver[t.Domain] {
			return
		}
		t.NoMX = noMX
		origin[len(targets)] = []string{why}
		if loc != nil {
			found.locations[len(targets)] = []extract.Location{*loc}
		}
		index[input] = len(targets)
		targets = append(targets, t)
	}
	for _, ip := range rep.SenderIPs {
		add(ip, "the address your mail came from", false, nil)
	}
	if rep.SenderDomain != "" {
		add(rep.SenderDomain, "your sending domain", false, nil)
	}
	for _, d := range rep.NamedDomains {
		add(d, "named in the rejection", true, nil)
	}
	if rep.Returned != nil {
		var items []extract.Item
		if got, err := extract.File(bytes.NewReader(rep.Returned), "returned message"); err == nil {
			items = got.Items
			found.incomplete = append(found.incomplete, got.Unread...)
		}
		for _, it := range items {
			why := "linked in your message"
			if strings.HasSuffix(it.Loc.Where, "header") || strings.HasPrefix(it.Loc.Where, "DKIM") {
				why = "in your message's headers"
				if it.Host == rep.SenderDomain {
					why = "your sending domain" // said already: the header is where it comes from
				}
			}
			loc := it.Loc
			add(it.Host, why, true, &loc)
		}
	}
	return targets, found, origin
}

func registered(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

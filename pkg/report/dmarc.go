package report

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/blcheck/blcheck/pkg/dmarc"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// DMARCDoc is the contract's top-level "dmarc" object (blcheck dmarc).
type DMARCDoc struct {
	Reports    int      `json:"reports"`
	Messages   int64    `json:"messages"`
	Domains    []string `json:"domains"`
	Reporters  []string `json:"reporters"`
	Begin      string   `json:"begin,omitempty"` // the reports' date range, RFC 3339
	End        string   `json:"end,omitempty"`
	Duplicates int      `json:"duplicates"` // reports found again in other files, counted once
	// Skipped counts the messages of mboxes and Maildirs that carry no report.
	Skipped int              `json:"skipped_messages,omitempty"`
	Sources []DMARCSourceDoc `json:"sources"`
	Unread  []dmarc.Unread   `json:"unread"`
	// FailOnForged makes a listed forger a listing of the run (--fail-on-forged).
	FailOnForged bool          `json:"-"`
	verdict      dmarc.Verdict // the listed sources, real and forged (dmarc.Judge)
}

// DMARCSourceDoc is one sending address.
type DMARCSourceDoc struct {
	IP         string   `json:"ip"`
	Messages   int64    `json:"messages"`
	Passed     int64    `json:"passed"`
	Share      float64  `json:"share"`
	Reports    int      `json:"reports"`
	Reporters  []string `json:"reporters"`
	HeaderFrom []string `json:"header_from"`
	// Forwarded is the part of its messages that did not pass DMARC and that
	// the receivers said was forwarded (a mailing list, a forwarding account).
	Forwarded int64 `json:"forwarded,omitempty"`
	// Forged is set when none of its mail passed DMARC.
	Forged bool `json:"forged,omitempty"`
	// Listed names the lists whose listing of it counts.
	Listed []string `json:"listed,omitempty"`
	// Skipped says why it was not checked (not a public address).
	Skipped string `json:"skipped,omitempty"`
	// Change is "new-source" with --state when no earlier run checked it.
	Change string `json:"change,omitempty"`
}

// NewDMARCDoc builds the dmarc object: the reports' sources, with what the
// checks found of each (listed: the lists, by source address). newSource, when
// not nil, says which sources no earlier run (--state) checked.
func NewDMARCDoc(r *dmarc.Result, listed map[netip.Addr][]string, allowPrivate bool, newSource func(netip.Addr) bool) *DMARCDoc {
	d := &DMARCDoc{Reports: r.Reports, Messages: r.Messages, Domains: nonNil(r.Domains), Reporters: nonNil(r.Reporters),
		Duplicates: r.Duplicates, Skipped: r.Skipped, Sources: make([]DMARCSourceDoc, 0, len(r.Sources)), Unread: r.Unread,
		verdict: dmarc.Judge(r.Sources, listed)}
	if d.Unread == nil {
		d.Unread = []dmarc.Unread{}
	}
	if !r.Begin.IsZero() {
		d.Begin, d.End = r.Begin.Format(time.RFC3339), r.End.Format(time.RFC3339)
	}
	for _, s := range r.Sources {
		sd := DMARCSourceDoc{IP: s.Addr.String(), Messages: s.Messages, Passed: s.Passed, Forwarded: s.Forwarded, Share: s.Share,
			Reports: s.Reports, Reporters: nonNil(s.Reporters), HeaderFrom: nonNil(s.HeaderFrom),
			Forged: s.Forged(), Listed: listed[s.Addr]}
		switch {
		case s.Skip != "" && !allowPrivate:
			sd.Skipped = s.Skip + " (--allow-private checks it)"
		case newSource != nil && newSource(s.Addr):
			sd.Change = "new-source"
		}
		d.Sources = append(d.Sources, sd)
	}
	return d
}

// dmarcText writes the DMARC sources in place of the per-target lines: what
// the reports say, the listed sources first (real mail or forged), then a
// table of every source by messages.
func (t *text) dmarcText() {
	d, res := t.v.DMARC, t.v.Result
	byAddr := map[string]*dnsbl.TargetResult{}
	for _, tr := range res.Targets {
		byAddr[tr.Target.Input] = tr
	}
	if d.Reports == 0 { // every file was unreadable: said below, with what was not checked
		t.p("%s: none could be read.\n\n", t.bold.Sprint("DMARC reports"))
		return
	}
	span := ""
	if d.Begin != "" {
		span = fmt.Sprintf(" from %s to %s", d.Begin[:10], d.End[:10])
	}
	if len(d.Reporters) > 0 {
		span += " by " + Sanitize(some(d.Reporters, dmarcNames, "reporters"), 300)
	}
	if len(d.Domains) > 0 {
		span += ", for " + Sanitize(some(d.Domains, dmarcNames, "domains"), 300)
	}
	t.p("%s: %s%s: %s from %s.\n", t.bold.Sprint("DMARC reports"), plural(d.Reports, "report"), span,
		plural(int(d.Messages), "message"), addresses(len(d.Sources)))
	var real, forged int
	for _, s := range d.Sources {
		if len(s.Listed) == 0 {
			continue
		}
		names := make([]string, len(s.Listed))
		for i, id := range s.Listed {
			names[i] = t.name(id)
		}
		if s.forwarder() {
			forged++
			t.p("  %s %s sent %s (%s of the mail), none of it passing DMARC, all of it forwarded, the receivers say: "+
				"a mailing list or forwarding account relaying mail, nothing for you to delist. Listed on %s.\n",
				t.yellow.Sprint("forwarder:"), t.bold.Sprint(s.IP), plural(int(s.Messages), "message"), percent(s.Share), strings.Join(names, ", "))
			continue
		}
		if s.Forged {
			forged++
			t.p("  %s %s sent %s (%s of the mail), none of it passing DMARC: a forger, nothing for you to delist. Listed on %s.\n",
				t.yellow.Sprint("forged:"), t.bold.Sprint(s.IP), plural(int(s.Messages), "message"), percent(s.Share), strings.Join(names, ", "))
			continue
		}
		real++
		t.p("  %s %s sent %s (%s of the mail), %d passing DMARC: your real mail. Listed on %s.\n",
			t.red.Sprint("LISTED:"), t.bold.Sprint(s.IP), plural(int(s.Messages), "message"), percent(s.Share), s.Passed, strings.Join(names, ", "))
		t.dmarcListings(byAddr[s.IP])
	}
	switch {
	case real+forged > 0:
	case nothingAsked(t.v.Result.Summary): // every source private, or no list applies: nothing was asked
		t.p("  %s\n", t.yellow.Sprint("No sending address was asked about on any list: this says nothing about listings."))
	case t.v.Verdict.Outcome == dnsbl.OutcomeClean:
		t.p("  %s\n", t.green.Sprint("No sending address found in the reports is listed."))
	default: // not every source was checked on every list: never "none is listed" alone
		t.p("  %s\n", t.yellow.Sprint("No sending address is listed where the lists answered; not all were checked (see below)."))
	}
	if t.quiet {
		t.p("\n")
		return
	}
	t.dmarcTable(d, byAddr) // the files not read are said below, with what else was not checked
}

// dmarcNames is the most reporters (or domains) the text names: a month of
// reports comes from a few dozen, which made the first line a paragraph (the
// JSON's dmarc object lists them all).
const dmarcNames = 6

// some is names, or how many there are when they are more than most.
func some(names []string, most int, what string) string {
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%d %s", len(names), what)
}

// dmarcListings writes a listed source's listings as the check command does:
// each with its meanings, reason and delisting page, to act on.
func (t *text) dmarcListings(tr *dnsbl.TargetResult) {
	if tr == nil {
		return
	}
	sc := &subjectCounts{checks: tr.Checks}
	for _, c := range tr.Checks {
		if c.Status == dnsbl.Listed && c.DuplicateOf == nil && c.NotCounted == "" {
			t.listing(c, sc)
		}
	}
}

func addresses(n int) string {
	if n == 1 {
		return "1 sending address"
	}
	return fmt.Sprintf("%d sending addresses", n)
}

func (t *text) dmarcTable(d *DMARCDoc, byAddr map[string]*dnsbl.TargetResult) {
	t.p("\n  %-39s %9s %7s %9s  %s\n", "source", "messages", "share", "passed", "status")
	for _, s := range d.Sources {
		status := t.dmarcStatus(s, byAddr[s.IP])
		if s.Change != "" {
			status += " (new source)"
		}
		t.p("  %-39s %9d %7s %9d  %s\n", s.IP, s.Messages, percent(s.Share), s.Passed, status)
		if tr := byAddr[s.IP]; tr != nil {
			for _, n := range tr.Notes { // --ptr: who runs the address
				t.p("  %-39s %s\n", "", t.dim.Sprint(Sanitize(n, 400)))
			}
		}
	}
	t.p("\n")
}

// dmarcStatus is a source's checks in a few words.
func (t *text) dmarcStatus(s DMARCSourceDoc, tr *dnsbl.TargetResult) string {
	kind := "real"
	switch {
	case s.forwarder():
		kind = "forwarder"
	case s.Forged:
		kind = "forged"
	}
	switch {
	case s.Skipped != "":
		return t.dim.Sprint("not checked: " + s.Skipped)
	case len(s.Listed) > 0 && s.Forged:
		return t.yellow.Sprintf("listed (%s), %s", strings.Join(s.Listed, ", "), kind)
	case len(s.Listed) > 0:
		return t.red.Sprintf("LISTED (%s), real mail", strings.Join(s.Listed, ", "))
	case tr == nil || tr.Interrupted || !tr.Started:
		return t.yellow.Sprint("not checked (the run stopped)")
	case tr.OnlyNotAsked():
		return t.yellow.Sprint("not checked: no list was asked about it")
	}
	failed := 0
	for _, c := range tr.Checks {
		switch {
		case c.List != nil && c.List.Allow(): // an allowlist's failure leaves no blacklist unasked
		case c.Status == dnsbl.Error, c.Status == dnsbl.Blocked, c.Status == dnsbl.Unreliable:
			failed++
		}
	}
	if failed > 0 || len(tr.Problems) > 0 {
		return t.yellow.Sprintf("not listed where answered; %d of %d checks failed (%s)", failed, len(tr.Checks), kind)
	}
	return t.green.Sprint("clean") + " (" + kind + ")"
}

// forwarder says that none of the source's mail passed DMARC and all of it
// was forwarded, the receivers said (dmarc.Source.Forwarder).
func (s *DMARCSourceDoc) forwarder() bool {
	return s.Forged && s.Messages > 0 && s.Forwarded == s.Messages
}

// forgers are the sources none of whose mail passes DMARC, by address (none
// for a nil doc: not blcheck dmarc), for a lookup per listing: what each is.
func (d *DMARCDoc) forgers() map[string]string {
	if d == nil {
		return nil
	}
	out := map[string]string{}
	for _, s := range d.Sources {
		switch {
		case s.forwarder():
			out[s.IP] = "a forwarder: none of its mail passes DMARC, all of it forwarded, nothing for you to delist"
		case s.Forged:
			out[s.IP] = "a forger: none of its mail passes DMARC, nothing for you to delist"
		}
	}
	return out
}

// dmarcChanges writes, for blcheck dmarc -q --state, the sources no earlier
// run checked (listings and delistings are the checks' own changes).
func dmarcChanges(w io.Writer, d *DMARCDoc) error {
	if d == nil {
		return nil
	}
	for _, s := range d.Sources {
		if s.Change == "" {
			continue
		}
		kind := fmt.Sprintf("%d passing DMARC", s.Passed)
		if s.Forged {
			kind = "none passing DMARC (forged)"
		}
		if _, err := fmt.Fprintf(w, "new source %s: %s (%s of the mail), %s\n", s.IP, plural(int(s.Messages), "message"),
			percent(s.Share), kind); err != nil {
			return err
		}
	}
	for _, u := range d.Unread {
		if _, err := fmt.Fprintf(w, "not read: %s: %s\n", Sanitize(u.File, 300), Sanitize(u.Why, 300)); err != nil {
			return err
		}
	}
	return nil
}

// outcome is the contract's rule for DMARC sources applied to the run's
// outcome: a listed source whose mail passes DMARC is a listing; a listed
// forger only with FailOnForged. Without a counted listing the run is clean or
// incomplete as its checks say.
func (d *DMARCDoc) outcome(res *dnsbl.Result, strict bool, o dnsbl.Outcome) dnsbl.Outcome {
	if o != dnsbl.OutcomeListed {
		return o
	}
	return dmarc.Outcome(res, d.verdict, strict, d.FailOnForged)
}

// percent writes a share for people (the JSON keeps it unrounded).
func percent(share float64) string {
	switch {
	case share == 0:
		return "0%"
	case share < 0.001:
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", share*100)
}

package report

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
)

// Sanitize makes text from the network safe to print on a terminal: control and
// escape characters, bidirectional overrides and invalid UTF-8 become visible
// escapes, runs of white space become one space, and the result is cut to max runes.
func Sanitize(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if n >= max {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString("\\x")
			b.WriteString(fmt.Sprintf("%02x", s[i-1]))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if !space && n > 0 {
				b.WriteByte(' ')
			}
			space = true
			n++
			continue
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		case unicode.Is(unicode.Bidi_Control, r) || r == '\u200b' || r == '\ufeff' || unicode.In(r, unicode.Co, unicode.Cs):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
		space = false
		n++
	}
	return strings.TrimRight(b.String(), " ")
}

// text renders a view for people.
type text struct {
	w     io.Writer
	v     *View
	color bool
	quiet bool // only listings and problems
	probe bool // a probe's trace: the outcome, not an exit code
	test  bool // the target being written is an RFC 5782 test point: nothing to delist

	red, yellow, magenta, green, bold, dim *color.Color
	err                                    error           // the first write error
	noKey                                  map[string]bool // lists not queried for want of a key
	badList                                map[string]bool // lists said once, below, as not used (blocked, unreliable)
	said                                   map[string]bool // incomplete-run reasons said at the top (direct queries)
	heading                                string          // written before the next line, if one comes (a bounce's "Details:")
	notStarted                             int             // targets a stopped run never began, seen so far
}

// maxNotStarted bounds the targets a stopped run never began that are named
// one by one; the rest are counted (a /16 cut short is not 65,536 lines).
const maxNotStarted = 10

// renderText writes the text report of a view: with a bounce, its diagnosis
// first; with -q and --state, only what changed since the last run.
func renderText(w io.Writer, v *View, o Options) error {
	if o.Quiet && v.Changes != nil {
		return renderChanges(w, v)
	}
	t := &text{w: w, v: v, color: o.Color, quiet: o.Quiet, probe: o.Probe}
	t.init()
	if v.Diagnosis != nil {
		t.diagnosis(v.Bounce, v.Diagnosis)
	}
	t.render()
	return t.err
}

func (t *text) init() {
	mk := func(attrs ...color.Attribute) *color.Color {
		c := color.New(attrs...)
		if t.color {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	t.red, t.yellow, t.magenta = mk(color.FgRed, color.Bold), mk(color.FgYellow), mk(color.FgMagenta)
	t.green, t.bold, t.dim = mk(color.FgGreen), mk(color.Bold), mk(color.Faint)
}

func (t *text) name(id string) string { return t.v.name(id) }

// p writes to w; after a failed write it writes nothing more, and the error is
// what renderText returns.
func (t *text) p(format string, a ...any) {
	if t.heading != "" && t.err == nil {
		h := t.heading
		t.heading = ""
		_, t.err = io.WriteString(t.w, h)
	}
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, a...)
	}
}

func (t *text) render() {
	res := t.v.Result
	t.noKey, t.badList = map[string]bool{}, map[string]bool{}
	for _, l := range res.Lists {
		switch {
		case l.Health.State == dnsbl.HealthNeedsKey:
			t.noKey[l.List.ID] = true
		case l.Health.State == dnsbl.HealthBlocked || l.Health.Untrusted():
			t.badList[l.List.ID] = true
		}
	}
	t.said = t.directProblems(res)
	if t.resolverProblem(res, t.v.Resolvers) {
		// every answer is void: per-check errors would only repeat it
		for i, tr := range res.Targets {
			if i == maxNotStarted {
				t.p("%s\n", t.yellow.Sprintf("... and %d more targets not checked", len(res.Targets)-i))
				break
			}
			t.p("%s: %s\n", t.bold.Sprint(Sanitize(tr.Target.Input, 200)),
				t.yellow.Sprintf("not checked (%s)", plural(len(tr.Subjects), "subject")))
		}
		t.p("\n")
	} else {
		targets := res.Targets
		if t.v.Locations != nil { // findings: the listed ones first
			targets = append([]*dnsbl.TargetResult(nil), targets...)
			sort.SliceStable(targets, func(i, j int) bool { return severity(targets[i]) < severity(targets[j]) })
		}
		if t.v.DMARC != nil {
			t.dmarcText()
		} else {
			for _, tr := range targets {
				t.target(tr)
			}
			if n := t.notStarted - maxNotStarted; n > 0 {
				t.p("%s\n\n", t.yellow.Sprintf("... and %d more targets not checked: the run was %s before they began (-o json names each)",
					n, t.v.stopped()))
			}
		}
		t.ignored()
		t.unreadInput()
		t.lists(res)
	}
	if t.quiet {
		return
	}
	t.summary()
}

type subjectCounts struct {
	byStatus map[dnsbl.Status]int
	checks   []dnsbl.Check
	skipWhy  map[string]int // reasons of the skipped checks that are not for want of a key
	// cut counts the checks the run's stop left unanswered: said as a number
	// on the subject's line, so that "clean on 1" never reads as the whole of it
	cut int
	// cutLists are the lists of those checks, named on the line when few
	cutLists []string
}

// targetCounts is what a target's checks come to, for its headline.
type targetCounts struct {
	per              map[string]*subjectCounts // by subject
	listed, problems int
	answered         int
	unused           map[dnsbl.Status]int            // blacklist checks that failed, by status
	notOn            []string                        // the blacklists that could not be used for it
	notHow           map[string]map[dnsbl.Status]int // and how their checks failed
}

func (t *text) target(tr *dnsbl.TargetResult) {
	if !tr.Started && tr.Interrupted { // nothing to count
		if t.notStarted++; t.notStarted <= maxNotStarted {
			t.p("%s: %s\n\n", t.bold.Sprint(Sanitize(tr.Target.Input, 200)),
				t.yellow.Sprintf("NOT CHECKED: the run was %s before it began", t.v.stopped()))
		}
		return
	}
	tc := t.count(tr)
	if t.quiet && tc.listed == 0 && tc.problems == 0 && !tr.Interrupted {
		return
	}
	t.p("%s: %s\n", t.bold.Sprint(Sanitize(tr.Target.Input, 200)), t.headline(tr, tc))
	testPoint := tr.Target.TestPoint()
	t.test = testPoint != ""
	if testPoint != "" { // said first: a newcomer's first run
		t.p("  %s %s\n", t.dim.Sprint("note:"), testPoint)
	}
	t.locations(t.v.Locations[tr.Index])
	t.subjects(tr, tc.per)
	if !tr.OnlyNotAsked() { // else the headline said it
		t.problems(tr)
	}
	if !t.quiet {
		for _, n := range tr.Notes {
			if n != testPoint {
				t.p("  %s %s\n", t.dim.Sprint("note:"), Sanitize(n, 300))
			}
		}
	}
	t.p("\n")
}

// count sums a target's checks up, by subject and for the target.
func (t *text) count(tr *dnsbl.TargetResult) *targetCounts {
	tc := &targetCounts{per: map[string]*subjectCounts{}, problems: len(tr.Problems),
		unused: map[dnsbl.Status]int{}, notHow: map[string]map[dnsbl.Status]int{}}
	for _, c := range tr.Checks {
		sc := tc.per[c.Subject]
		if sc == nil {
			sc = &subjectCounts{byStatus: map[dnsbl.Status]int{}, skipWhy: map[string]int{}}
			tc.per[c.Subject] = sc
		}
		if errors.Is(c.Err, dnsbl.ErrInterrupted) {
			sc.cut++ // counted on its subject's line; why, said once in the verdict: nothing of the list
			sc.cutLists = append(sc.cutLists, c.List.ID)
			continue
		}
		if c.Status == dnsbl.Skipped {
			if t.noKey[c.List.ID] {
				continue // said once for the run, below
			}
			sc.skipWhy[t.shortSkip(c)]++
		}
		sc.checks = append(sc.checks, c)
		if c.DuplicateOf != nil {
			continue // said with the listing it repeats, and counted there
		}
		sc.byStatus[c.Status]++
		t.countCheck(tc, c)
	}
	return tc
}

// countCheck counts one check (not a repeat) for its target's headline.
func (t *text) countCheck(tc *targetCounts, c dnsbl.Check) {
	switch c.Status {
	case dnsbl.Listed:
		tc.listed++
		tc.answered++
	case dnsbl.Clean, dnsbl.Noted:
		tc.answered++
	case dnsbl.Error, dnsbl.Blocked, dnsbl.Unreliable:
		if c.List.Allow() {
			return // an allowlist that failed leaves no blacklist unasked
		}
		tc.unused[c.Status]++
		if tc.notHow[c.List.ID] == nil {
			tc.notOn = append(tc.notOn, c.List.ID)
			tc.notHow[c.List.ID] = map[dnsbl.Status]int{}
		}
		tc.notHow[c.List.ID][c.Status]++
		if t.v.Verdict.Strict || c.Status == dnsbl.Error || !t.badList[c.List.ID] || unreliableListing(c) {
			tc.problems++ // the target is incomplete, or the list is named with its subject
		}
	}
}

// headline is a target's verdict, as its first line says it.
func (t *text) headline(tr *dnsbl.TargetResult, tc *targetCounts) string {
	switch {
	case tc.listed > 0 && tr.Interrupted:
		return t.red.Sprintf("LISTED (%s)", plural(tc.listed, "listing")) + t.yellow.Sprintf(", but %s: %s", t.v.stopped(), progress(tr))
	case tr.Interrupted && t.v.Deadline > 0:
		return t.yellow.Sprintf("NOT FULLY CHECKED (deadline): %s", progress(tr))
	case tr.Interrupted:
		return t.yellow.Sprintf("INTERRUPTED: not fully checked, %s", progress(tr))
	case tc.listed > 0:
		return t.red.Sprintf("LISTED (%s)", plural(tc.listed, "listing"))
	case tc.answered == 0 && len(tc.unused) > 0:
		return t.yellow.Sprint("INCOMPLETE: no list could be asked, so this says nothing about listings")
	case len(tr.Problems) > 0 && !tr.OnlyNotAsked():
		return t.yellow.Sprint("INCOMPLETE: not everything could be checked")
	case len(tc.unused) > 0 && t.v.Verdict.Strict:
		var on []string
		for _, id := range tc.notOn {
			on = append(on, fmt.Sprintf("%s (%s)", id, failedParts(tc.notHow[id])))
		}
		return t.yellow.Sprintf("INCOMPLETE: not checked on %s", strings.Join(on, ", "))
	case len(tc.unused) > 0:
		return t.green.Sprint("clean") + t.yellow.Sprintf(" on the lists that could be used (%s)", failedParts(tc.unused))
	case !asked(tr.Checks):
		return t.yellow.Sprint("NOT CHECKED: no list was asked about it") // not clean: nothing answered
	}
	return t.green.Sprint("clean")
}

// asked reports whether any of the checks was a question a list answered or
// failed to answer, not one skipped (an IPv6 address on IPv4 lists, a list
// without its key).
func asked(checks []dnsbl.Check) bool {
	for _, c := range checks {
		if c.Status != dnsbl.Skipped {
			return true
		}
	}
	return false
}

// subjects writes a target's subjects: listed ones first, then the others,
// each group in discovery order; a long run of clean ones is summed up.
func (t *text) subjects(tr *dnsbl.TargetResult, per map[string]*subjectCounts) {
	subjects := append([]dnsbl.Subject(nil), tr.Subjects...)
	sort.SliceStable(subjects, func(i, j int) bool {
		return t.rank(per[subjects[i].Name]) < t.rank(per[subjects[j].Name])
	})
	const maxClean = 8 // a long run of clean subjects (an SPF range, a CIDR) is summed up
	cleanShown, cleanHidden, cutHidden := 0, 0, 0
	same := sameFailures{}
	for _, s := range subjects {
		sc := per[s.Name]
		if sc == nil && tr.Interrupted {
			continue // never asked: the verdict says how far the target got
		}
		if sc == nil {
			sc = &subjectCounts{byStatus: map[dnsbl.Status]int{}}
		}
		if t.quiet && sc.byStatus[dnsbl.Listed] == 0 && sc.byStatus[dnsbl.Error] == 0 && !t.namesBlocked(sc) && !sc.unreliableListing() {
			continue
		}
		if t.rank(sc) == 1 && s.Skip == nil && same.hide(sc) {
			continue
		}
		if t.rank(sc) == 2 && s.Skip == nil {
			if cleanShown >= maxClean {
				cleanHidden++
				if sc.cut > 0 {
					cutHidden++
				}
				continue
			}
			cleanShown++
		}
		t.subject(s, sc)
	}
	switch {
	case cutHidden > 0: // not clean either: the stop left some of their lists unanswered
		t.p("  %s\n", t.dim.Sprintf("... and %d more subjects without listings or errors, %d of them not fully answered "+
			"before the run stopped (-o json shows each)", cleanHidden, cutHidden))
	case cleanHidden > 0:
		t.p("  %s\n", t.dim.Sprintf("... and %d more subjects without listings or errors (-o json shows each)", cleanHidden))
	}
	for _, f := range same.order {
		if n := same.hidden[f]; n > 0 {
			t.p("  %s\n", t.yellow.Sprintf("... and %d more subjects without listings, with the same failures as %s above (-o json shows each)",
				n, same.first[f]))
		}
	}
}

// problems writes a target's problems; a range's many subjects that no list
// could be checked for are said in one line, in the range's order.
func (t *text) problems(tr *dnsbl.TargetResult) {
	var none []string
	for _, p := range tr.Problems {
		if s, ok := dnsbl.NoListCheckedSubject(p); ok {
			none = append(none, s)
			continue
		}
		t.p("  %s %s\n", t.yellow.Sprint("problem:"), Sanitize(p, 300))
	}
	if len(none) <= maxSameFailures {
		for _, s := range none {
			t.p("  %s %s\n", t.yellow.Sprint("problem:"), Sanitize(dnsbl.NoListChecked(s), 300))
		}
		return
	}
	pos := make(map[string]int, len(tr.Subjects))
	for i, s := range tr.Subjects {
		pos[s.Name] = i
	}
	sort.SliceStable(none, func(i, j int) bool { return pos[none[i]] < pos[none[j]] })
	t.p("  %s %s\n", t.yellow.Sprint("problem:"), Sanitize(fmt.Sprintf("no list could be checked for %d subjects: %s and %d more",
		len(none), strings.Join(none[:maxSameFailures], ", "), len(none)-maxSameFailures), 300))
}

// sameFailures sums up the subjects of a target that failed as one already
// shown (the same lists, each with the same status, kind of error and codes),
// past the first few: a range asked of a list that is down, or through a
// resolver that does not answer, was two lines an address. A subject with a
// listing, or with failures of its own (an unreliable list's listing code
// among them), is always shown.
type sameFailures struct {
	shown  map[string]int    // subjects shown, by failure pattern
	hidden map[string]int    // subjects summed up, by failure pattern
	first  map[string]string // the first subject shown with each pattern
	order  []string          // the patterns, in the order first shown
}

const maxSameFailures = 3

// hide reports whether a subject with failures and no listing is summed up,
// counting it.
func (sf *sameFailures) hide(sc *subjectCounts) bool {
	if sc.byStatus[dnsbl.Listed] > 0 {
		return false
	}
	var b strings.Builder
	for _, c := range sc.checks {
		switch c.Status {
		case dnsbl.Error, dnsbl.Blocked, dnsbl.Unreliable:
			why := errText(c.Err)
			var ce *dnsbl.CheckError
			if errors.As(c.Err, &ce) && ce.Kind != nil {
				why = ce.Kind.Error() // a timeout is one, whatever its tries or server
			}
			if len(c.Codes) > 0 { // an unreliable list's listing is not its clean answer
				why += " " + dnsbl.JoinCodes(c.Codes)
			}
			fmt.Fprintf(&b, "%s\x00%s\x00%s\n", c.List.ID, c.Status, why)
		}
	}
	for _, st := range []dnsbl.Status{dnsbl.Clean, dnsbl.Noted, dnsbl.Allowlisted, dnsbl.Skipped} {
		fmt.Fprintf(&b, "%s=%d ", st, sc.byStatus[st])
	}
	fmt.Fprintf(&b, "cut=%d", sc.cut)
	key := b.String()
	if sf.shown == nil {
		sf.shown, sf.hidden, sf.first = map[string]int{}, map[string]int{}, map[string]string{}
	}
	if sf.shown[key] < maxSameFailures {
		if sf.shown[key] == 0 && len(sc.checks) > 0 {
			sf.first[key] = sc.checks[0].Subject
			sf.order = append(sf.order, key)
		}
		sf.shown[key]++
		return false
	}
	sf.hidden[key]++
	return true
}

// progress says how far an interrupted target got.
func progress(tr *dnsbl.TargetResult) string {
	what := func(n int) string {
		switch {
		case tr.Target.Kind == dnsbl.KindCIDR && n == 1:
			return "1 address"
		case tr.Target.Kind == dnsbl.KindCIDR:
			return fmt.Sprintf("%d addresses", n)
		}
		return plural(n, "subject")
	}
	switch {
	case tr.SubjectsTotal > 0:
		return fmt.Sprintf("%d of %s checked", tr.SubjectsDone, what(tr.SubjectsTotal))
	case tr.SubjectsDone > 0:
		return what(tr.SubjectsDone) + " checked"
	}
	return "nothing checked"
}

// locations prints where a finding was, the first few in full.
func (t *text) locations(locs []extract.Location) {
	const show = 5
	for i, l := range locs {
		if i == show {
			t.p("    %s\n", t.dim.Sprintf("... and %d more places", len(locs)-show))
			break
		}
		t.p("  %s %s\n", t.dim.Sprint("found at"), Sanitize(l.String(), 200))
	}
}

// unreadInput prints what made the run incomplete beyond its targets' own
// problems (a MIME part that could not be read, a bounce with nothing to check),
// also with -q: its contents were not checked.
func (t *text) unreadInput() {
	res := t.v.Result
	said := map[string]bool{dnsbl.ReasonInterrupted: true, DeadlineReason(t.v.Deadline): true}
	for p := range t.said { // said first, before any verdict
		said[p] = true
	}
	for _, tr := range res.Targets {
		for _, p := range tr.Problems {
			said[p] = true
		}
	}
	first := true
	for _, p := range t.v.AllIncomplete() {
		if said[p] { // a target's problem, said with it; the interruption, said in the footer
			continue
		}
		if first {
			t.p("%s\n", t.yellow.Sprint("Not checked, so the result is incomplete:"))
			first = false
		}
		said[p] = true
		t.p("  %s\n", Sanitize(p, 400))
	}
	if !first {
		t.p("\n")
	}
}

// ignored prints what was left out, so that nothing is dropped silently.
func (t *text) ignored() {
	if len(t.v.Ignored) == 0 || t.quiet {
		return
	}
	t.p("%s\n", t.dim.Sprint("Not checked:"))
	for _, ig := range t.v.Ignored {
		where := ""
		if len(ig.Locations) > 0 {
			where = " at " + Sanitize(ig.Locations[0].String(), 300)
			if len(ig.Locations) > 1 {
				where += fmt.Sprintf(" and %d more", len(ig.Locations)-1)
			}
		}
		t.p("  %s: %s%s\n", Sanitize(ig.Host, 200), ig.Reason, where)
	}
	t.p("\n")
}

func severity(tr *dnsbl.TargetResult) int {
	for _, c := range tr.Checks {
		if c.Status == dnsbl.Listed {
			return 0
		}
	}
	if len(tr.Problems) > 0 {
		return 1
	}
	return 2
}

// rank orders a target's subjects: listed ones, then those with a problem of
// their own, then the rest (clean, noted, allowlisted), which a long run sums up.
func (t *text) rank(sc *subjectCounts) int {
	switch {
	case sc == nil:
		return 3
	case sc.byStatus[dnsbl.Listed] > 0:
		return 0
	case sc.byStatus[dnsbl.Error] > 0, t.namesBlocked(sc), sc.unreliableListing():
		return 1 // a problem of its own, which -q shows too: never summed up with the clean
	}
	return 2
}

func (t *text) subject(s dnsbl.Subject, sc *subjectCounts) {
	via := strings.Join(s.Via, ", ")
	head := fmt.Sprintf("  %s (%s)", s.Name, Sanitize(via, 200))
	if s.Skip != nil {
		t.p("%s: %s\n", head, t.dim.Sprint("not checked, "+t.v.skip(s.Skip)))
		return
	}
	checked := 0
	for _, n := range sc.byStatus {
		checked += n
	}
	checked -= sc.byStatus[dnsbl.Skipped]
	t.p("%s: %s\n", head, strings.Join(t.subjectParts(sc, checked), ", "))
	grouped := t.sameErrors(sc, checked)
	for _, c := range sc.checks {
		t.checkLines(c, sc, grouped)
	}
}

// subjectParts sums a subject's checks up by status: "listed on 1 of 3, clean on 2".
func (t *text) subjectParts(sc *subjectCounts, checked int) []string {
	var parts []string
	add := func(st dnsbl.Status, c *color.Color, format string) {
		if n := sc.byStatus[st]; n > 0 {
			parts = append(parts, c.Sprintf(format, n))
		}
	}
	if n := sc.byStatus[dnsbl.Listed]; n > 0 {
		parts = append(parts, t.red.Sprintf("listed on %d of %d", n, checked))
	}
	add(dnsbl.Noted, t.yellow, "noted on %d (not counted, see below)")
	add(dnsbl.Clean, t.green, "clean on %d")
	add(dnsbl.Allowlisted, t.green, "allowlisted on %d")
	if n := sc.byStatus[dnsbl.Error]; n > 0 {
		parts = append(parts, t.yellow.Sprint(plural(n, "error")))
	}
	add(dnsbl.Blocked, t.magenta, "%d blocked")
	add(dnsbl.Unreliable, t.magenta, "%d unreliable")
	switch {
	case sc.cut > 0 && sc.cut <= maxNamedUnanswered: // which lists: the slow ones a --deadline may want to leave out
		parts = append(parts, t.yellow.Sprintf("%d not answered (%s)", sc.cut, strings.Join(sc.cutLists, ", ")))
	case sc.cut > 0:
		parts = append(parts, t.yellow.Sprintf("%d not answered", sc.cut))
	}
	if n := sc.byStatus[dnsbl.Skipped]; n > 0 && !t.quiet {
		why := ""
		if len(sc.skipWhy) == 1 {
			for w := range sc.skipWhy {
				why = " (" + w + ")"
			}
		}
		parts = append(parts, t.dim.Sprintf("%d skipped%s", n, why))
	}
	if len(parts) == 0 {
		parts = append(parts, "no list asked") // every list skipped: for want of a key, said below
	}
	return parts
}

// checkLines writes what a subject's line does not say of one check: a
// listing, a note, an allowlist's vouching, a failure (errors grouped aside).
func (t *text) checkLines(c dnsbl.Check, sc *subjectCounts, grouped bool) {
	switch {
	case c.Status == dnsbl.Noted: // laid out as a listing is: the name in its column, a meaning a line
		t.p("    %s  %s (%s) %s\n", t.yellow.Sprint("NOTED"), t.name(c.List.ID), c.Zone, dnsbl.JoinCodes(c.Codes))
		for _, m := range c.Meanings {
			t.p("           %s\n", Sanitize(m, 300))
		}
		t.p("           %s\n", t.dim.Sprint("not counted: "+c.NotCounted))
	case unreliableListing(c):
		t.p("    %s %s (%s) answered %s, but failed its own test point: not counted\n", t.magenta.Sprint("UNRELIABLE"),
			t.name(c.List.ID), c.Zone, dnsbl.JoinCodes(c.Codes))
		if len(c.Meanings) > 0 {
			t.p("           %s\n", Sanitize(strings.Join(c.Meanings, "; "), 300))
		}
		if !t.badList[c.List.ID] {
			t.p("           %s\n", Sanitize(errText(c.Err), 300))
		}
	case c.Status == dnsbl.Listed && c.DuplicateOf == nil:
		t.listing(c, sc)
	case c.Status == dnsbl.Allowlisted:
		t.p("    %s %s (%s) %s\n", t.green.Sprint("ALLOWLISTED"), t.bold.Sprint(t.name(c.List.ID)), c.Zone,
			dnsbl.JoinCodes(c.Codes))
		for _, m := range c.Meanings {
			t.p("           %s\n", Sanitize(m, 300))
		}
		t.p("           %s\n", t.dim.Sprint("information only: an allowlist vouches for this sender; it is never a listing"))
	case (c.Status == dnsbl.Blocked || c.Status == dnsbl.Unreliable) && !t.badList[c.List.ID] && c.DuplicateOf == nil:
		t.p("    %s %s (%s): %s\n", t.magenta.Sprint(strings.ToUpper(string(c.Status))), t.name(c.List.ID), c.Zone, Sanitize(errText(c.Err), 300))
	case c.Status == dnsbl.Error && !grouped:
		t.p("    %s  %s (%s): %s\n", t.yellow.Sprint("ERROR"), t.name(c.List.ID), c.Zone, Sanitize(errText(c.Err), 300))
	}
}

// listing writes a listing: its codes' meanings, reason, delisting, and the
// contained lists that repeat it.
func (t *text) listing(c dnsbl.Check, sc *subjectCounts) {
	asked := ""
	if c.Asked == dnsbl.AskedDirect {
		asked = t.dim.Sprint(" (asked directly)")
	}
	t.p("    %s %s (%s) %s%s\n", t.red.Sprint("LISTED"), t.bold.Sprint(t.name(c.List.ID)), c.Zone,
		dnsbl.JoinCodes(c.Codes), asked)
	if c.SameAs != "" {
		t.p("           %s\n", t.dim.Sprintf("the same listing as under %s: counted once, there", Sanitize(c.SameAs, 200)))
	}
	for _, m := range c.Meanings {
		t.p("           %s\n", Sanitize(m, 300))
	}
	switch {
	case c.Reason != "" && strings.TrimSpace(c.Reason) == c.DelistURL && !t.test:
		t.p("           reason, delist: %s\n", Sanitize(c.DelistURL, 300)) // the list's TXT is the catalog's link
	case c.Reason != "" && NamesURL(c.Reason, c.DelistURL) && !t.test:
		t.p("           reason, delist: %s\n", Sanitize(c.Reason, 300)) // "Listed by XBL, see URL": the URL once
	case c.Reason != "":
		t.p("           reason: %s\n", Sanitize(c.Reason, 300))
		fallthrough
	default:
		if c.DelistURL != "" && !t.test {
			t.p("           delist: %s\n", Sanitize(c.DelistURL, 300))
		}
	}
	if l := t.v.Names[c.List.ID]; l != nil && l.Removal != "" && !t.test {
		t.p("           removal form: %s\n", Sanitize(l.RemovalURL(c.Subject), 300))
	}
	for _, d := range sc.checks {
		if d.DuplicateOf == c.List {
			t.p("           %s\n", t.dim.Sprintf("also listed on %s (%s), which %s contains: the same listing, counted once",
				t.name(d.List.ID), d.Zone, t.name(c.List.ID)))
		}
	}
}

// unreliableListing reports whether an unreliable list answered a listing
// code for the subject: said with the subject, as an answer that is not counted.
func unreliableListing(c dnsbl.Check) bool {
	return c.Status == dnsbl.Unreliable && len(c.Codes) > 0 && !c.List.Allow()
}

func (sc *subjectCounts) unreliableListing() bool {
	for _, c := range sc.checks {
		if unreliableListing(c) {
			return true
		}
	}
	return false
}

// shortSkip is a skipped check's reason as a subject's line sums it up: "no
// IPv6 data" for a list of the other family.
func (t *text) shortSkip(c dnsbl.Check) string {
	if errors.Is(c.Err, dnsbl.ErrSkipFamily) {
		if a, err := netip.ParseAddr(c.Subject); err == nil && a.Is6() {
			return "no IPv6 data"
		}
		return "no IPv4 data"
	}
	return t.v.skip(c.Err)
}

// namesBlocked reports whether a subject has a blocked or unreliable check that
// the lists' section does not explain, and so is named with the subject.
func (t *text) namesBlocked(sc *subjectCounts) bool {
	for _, c := range sc.checks {
		if (c.Status == dnsbl.Blocked || c.Status == dnsbl.Unreliable) && !t.badList[c.List.ID] {
			return true
		}
	}
	return false
}

// sameErrors prints, once, an error that every list queried for a subject met
// word for word (a dead resolver's "connection refused", three lists or more),
// and says whether it did. When only some lists failed, each is named.
func (t *text) sameErrors(sc *subjectCounts, checked int) bool {
	if checked < 3 || sc.byStatus[dnsbl.Error] != checked {
		return false
	}
	first := ""
	for _, c := range sc.checks {
		if c.Status == dnsbl.Error {
			if first != "" && errText(c.Err) != first {
				return false
			}
			first = errText(c.Err)
		}
	}
	t.p("    %s  all %d lists: %s\n", t.yellow.Sprint("ERROR"), checked, Sanitize(first, 300))
	t.p("           every query failed the same way: the resolver, or the path to it, is at fault, not the lists\n")
	return true
}

// resolverProblem explains a resolver that invents answers: nothing it says counts.
func (t *text) resolverProblem(res *dnsbl.Result, resolvers []string) bool {
	rh := res.Resolver
	if !rh.RewritesNXDOMAIN {
		return false
	}
	t.p("%s\n", t.red.Sprintf("Your resolver (%s) invents answers, so nothing in this run could be checked.", strings.Join(resolvers, ", ")))
	t.p("  It answered %s for %s, a name that does not exist. Resolvers that rewrite NXDOMAIN (ISP \"search help\" "+
		"pages, some filtering services) make every blacklist look listed or broken, so no answer in this run was "+
		"counted as listed or clean.\n", Sanitize(rh.Answer, 100), Sanitize(rh.Probe, 200))
	t.p("  Fix: use a resolver that passes NXDOMAIN through: your own recursive resolver (e.g. unbound " +
		"on this host, then --resolver 127.0.0.1), or another one with --resolver.\n\n")
	return true
}

// lists prints, once per run, the lists whose answers could not be used: blocked,
// unreliable, and keyed lists without a key.
func (t *text) lists(res *dnsbl.Result) {
	var bad []dnsbl.ListHealth
	keyed := map[string][]*catalog.List{}
	_, skipped := t.noKeyChecks(res) // the keyed lists some subject would have been asked of
	var envs []string
	for _, l := range res.Lists {
		switch {
		case l.Health.State == dnsbl.HealthBlocked || l.Health.Untrusted():
			bad = append(bad, l)
		case l.Health.State == dnsbl.HealthNeedsKey && skipped[l.List.ID]:
			env := l.List.Key.Env
			if keyed[env] == nil {
				envs = append(envs, env)
			}
			keyed[env] = append(keyed[env], l.List)
		}
	}
	queried := 0 // the lists that could fail their test points (one without any cannot)
	for _, l := range res.Lists {
		switch l.Health.State {
		case dnsbl.HealthNeedsKey, dnsbl.HealthUntested, dnsbl.HealthUnchecked, dnsbl.HealthUnused:
		default:
			queried++
		}
	}
	if len(bad) >= 3 && len(bad) == queried && sameState(bad) {
		// every list failed the same way: the path to them is at fault, not the lists
		t.p("%s\n", t.magenta.Sprintf("None of the %d lists passed its health check (%s):", len(bad), bad[0].Health.State))
		t.p("  e.g. %s: %s\n", bad[0].List.Name, Sanitize(bad[0].Health.Detail, 300))
		switch bad[0].Health.State {
		case dnsbl.HealthMissing:
			t.p("  When every list seems empty, the resolver is at fault: it cannot reach them (no Internet access,\n" +
				"  a filtering or split-horizon resolver) or it hides their answers (Spamhaus does so for some public\n" +
				"  resolvers). Try your own recursive resolver (e.g. unbound, then --resolver 127.0.0.1).\n")
		case dnsbl.HealthNoAnswer:
			t.p("  The resolver did not answer: check --resolver, or that it is running and reachable.\n")
		}
		t.p("\n")
	} else if len(bad) > 0 {
		t.unusedLists(res, bad)
	}
	var untested []string // lists that answered without a test point to vouch for them
	for _, l := range res.Lists {
		if l.Health.State == dnsbl.HealthUntested && l.Answered > 0 {
			untested = append(untested, l.List.Name)
		}
	}
	if len(untested) > 0 && !t.quiet {
		t.p("%s %s.\n\n", t.dim.Sprint("Answers unconfirmed (the list publishes no test point):"), strings.Join(untested, ", "))
	}
	t.keysNeeded(res, keyed, envs)
}

// unusedLists says, once for the run, which lists' answers were not used
// (blocked, unhealthy), and for the blocked ones why and what to do.
func (t *text) unusedLists(res *dnsbl.Result, bad []dnsbl.ListHealth) {
	t.p("%s\n", t.magenta.Sprint("Lists whose answers were not used in this run:"))
	blocked, blockedSpamhaus := false, false
	for _, l := range bad {
		tag := "UNRELIABLE"
		if l.Health.State == dnsbl.HealthBlocked {
			tag = "BLOCKED"
			if refusedHere(res, l.List) {
				t.p("  %-10s %s (%s): %s\n", tag, l.List.Name, l.Zone, "refuses this machine too (said above)")
				continue
			}
			blocked = true
			if strings.Contains(l.List.Zone, "spamhaus") {
				blockedSpamhaus = true
			}
		}
		t.p("  %-10s %s (%s): %s\n", tag, l.List.Name, l.Zone, Sanitize(l.Health.Detail, 400))
	}
	if blocked {
		// a line per sentence: a terminal's output is wrapped to its width
		t.p("  Why: these lists refuse queries that reach them through public or shared resolvers (8.8.8.8, " +
			"1.1.1.1, many ISPs' and cloud providers') or past their free-use limits.\n" +
			"  Fix: query through your own recursive resolver (e.g. unbound on this host, --resolver 127.0.0.1)")
		if blockedSpamhaus {
			t.p(", or get a free Spamhaus DQS key and set BLCHECK_SPAMHAUS_DQS_KEY")
		}
		t.p(".\n")
	}
	t.p("\n")
}

// keysNeeded says which keyed lists were not queried for want of a key
// (a run that checked nothing missed nothing).
func (t *text) keysNeeded(res *dnsbl.Result, keyed map[string][]*catalog.List, envs []string) {
	if len(envs) > 0 && !t.quiet && res.Summary.Subjects > 0 { // a run that checked nothing missed nothing
		var parts []string
		for _, env := range envs {
			verb := "need"
			if len(keyed[env]) == 1 {
				verb = "needs" // 1 list needs, 4 lists need
			}
			if len(parts) == 0 {
				verb = plural(len(keyed[env]), "list") + " " + verb
			} else {
				verb = fmt.Sprintf("%d %s", len(keyed[env]), verb)
			}
			parts = append(parts, fmt.Sprintf("%s $%s", verb, env))
		}
		t.p("%s %s (see blcheck lists).\n\n", t.dim.Sprint("Not queried, no account key set:"), strings.Join(parts, ", "))
	}
}

func sameState(ls []dnsbl.ListHealth) bool {
	for _, l := range ls {
		if l.Health.State != ls[0].Health.State {
			return false
		}
	}
	return true
}

func (t *text) summary() {
	res, resolvers, exitCode := t.v.Result, t.v.Resolvers, t.v.Verdict.ExitCode()
	s := summarize(t.v)
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	var again []string
	if s.Duplicates > 0 {
		again = append(again, fmt.Sprintf("+%d %s on contained lists", s.Duplicates,
			map[bool]string{true: "repeat", false: "repeats"}[s.Duplicates == 1]))
	}
	if s.Repeats > 0 {
		again = append(again, fmt.Sprintf("+%d found again under other targets", s.Repeats))
	}
	if len(again) > 0 {
		parts = append(parts, fmt.Sprintf("%d listed (%s, counted once)", s.Listed, strings.Join(again, ", ")))
	} else {
		add(s.Listed, "listed")
	}
	add(s.Noted, "noted")
	add(s.Clean, "clean")
	add(s.Blocked, "blocked")
	if n := interruptedChecks(res); n > 0 {
		if s.Error > n {
			parts = append(parts, plural(s.Error-n, "error"))
		}
		parts = append(parts, fmt.Sprintf("%d not answered (the run was %s)", n, t.v.stopped()))
	} else if s.Error > 0 {
		parts = append(parts, plural(s.Error, "error"))
	}
	add(s.Unreliable, "unreliable")
	if noKey, lists := t.noKeyChecks(res); noKey > 0 && s.Skipped > 0 {
		// the same lists as "Not queried, no account key set", counted as checks
		on := fmt.Sprintf("the %d lists that need", len(lists))
		if len(lists) == 1 {
			on = "the list that needs"
		}
		parts = append(parts, fmt.Sprintf("%d skipped (%s on %s a key)", s.Skipped, plural(noKey, "check"), on))
	} else {
		add(s.Skipped, "skipped")
	}
	add(s.Allowlisted, "allowlisted")
	if len(parts) == 0 {
		parts = append(parts, "nothing checked")
	}
	if res.Summary.Interrupted {
		finished, cut, notStarted := interruptedCounts(res)
		head := "Interrupted:"
		if t.v.Deadline > 0 {
			head = fmt.Sprintf("Not checked (deadline %v):", t.v.Deadline)
		}
		t.p("%s %s finished, %d cut short, %d not started: what was not finished is not clean.\n",
			t.yellow.Sprint(head), plural(finished, "target"), cut, notStarted)
	}
	notChecked := ""
	if nc := NotChecked(res, 5); nc != "" {
		notChecked = " Not checked: " + nc + "."
	}
	t.p("%s, %s, %s: %s.%s %s in %s via %s.\n",
		plural(s.Targets, "target"), plural(s.Subjects, "subject"), plural(s.Checks, "check"),
		strings.Join(parts, ", "), notChecked, t.verdictWords(exitCode), Seconds(res.Elapsed), strings.Join(resolvers, ", "))
	t.directFooter(res)
}

// verdictWords is the summary's last words: the exit code, or for a probe its outcome.
func (t *text) verdictWords(exitCode int) string {
	switch {
	case exitCode == 0 && !t.probe && t.v.Result.Summary.Checks == 0:
		return "Exit 0 (nothing to check)" // "0 checks: nothing checked" said it
	case exitCode == 3 && !t.probe && nothingAsked(t.v.Result.Summary):
		return "Exit 3 (incomplete: no list was asked)"
	case exitCode == 0 && t.v.DMARC != nil && t.v.Result.Summary.Counts[dnsbl.Listed] > 0:
		// blcheck dmarc: the listings counted are forgers' and forwarders', not "clean"
		return "Exit 0 (no sender of your mail listed)"
	}
	if !t.probe {
		return exitMeaning(exitCode)
	}
	m := exitMeaning(exitCode)
	if i := strings.IndexByte(m, '('); i >= 0 {
		return "Outcome: " + strings.TrimSuffix(m[i+1:], ")")
	}
	return "Outcome: " + m
}

// noKeyChecks counts the checks skipped because their list needs a key, and
// the lists they are of: the subjects' lines leave them out (they are said
// once, for the run). A keyed list that applies to no subject (a domain list
// and an address) is not one of them: it would not have been asked.
func (t *text) noKeyChecks(res *dnsbl.Result) (checks int, lists map[string]bool) {
	lists = map[string]bool{}
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if c.Status == dnsbl.Skipped && t.noKey[c.List.ID] {
				checks++
				lists[c.List.ID] = true
			}
		}
	}
	return checks, lists
}

func interruptedChecks(res *dnsbl.Result) int {
	n := 0
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if errors.Is(c.Err, dnsbl.ErrInterrupted) {
				n++
			}
		}
	}
	return n
}

// maxNamedUnanswered is how many lists a stopped run names as not answered
// (on a subject's line, in Nagios's status line); more are counted.
const maxNamedUnanswered = 3

// unansweredLists are the lists whose answer a stopped run (Ctrl-C,
// --deadline) was still waiting for, in the order the run met them: when
// every other list answered, the slow ones.
func unansweredLists(res *dnsbl.Result) []string {
	var ids []string
	seen := map[string]bool{}
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if errors.Is(c.Err, dnsbl.ErrInterrupted) && !seen[c.List.ID] {
				seen[c.List.ID] = true
				ids = append(ids, c.List.ID)
			}
		}
	}
	return ids
}

// interruptedCounts counts an interrupted run's targets by how far they got.
func interruptedCounts(res *dnsbl.Result) (finished, cut, notStarted int) {
	for _, tr := range res.Targets {
		switch {
		case !tr.Interrupted:
			finished++
		case tr.Started:
			cut++
		default:
			notStarted++
		}
	}
	return finished, cut, notStarted
}

// Seconds says how long something took, for people: milliseconds under a
// second (a 33 ms run is not "0.0s"), tenths of a second above.
func Seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// nothingAsked reports whether every check of the run was skipped.
func nothingAsked(s dnsbl.Summary) bool {
	for st, n := range s.Counts {
		if st != dnsbl.Skipped && n > 0 {
			return false
		}
	}
	return true
}

func exitMeaning(code int) string {
	switch code {
	case 0:
		return "Exit 0 (clean)"
	case 1:
		return "Exit 1 (listed)"
	case 3:
		return "Exit 3 (incomplete)"
	case 130:
		return "Exit 130 (interrupted)"
	}
	return fmt.Sprintf("Exit %d", code)
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// NamesURL reports whether the text (a list's TXT reason) has the URL in it as
// a whole link, not as the start of a longer one: "Listed by XBL, see URL"
// names its delisting page, and the page is then said once, not twice.
func NamesURL(text, url string) bool {
	if url == "" {
		return false
	}
	for rest := text; ; {
		i := strings.Index(rest, url)
		if i < 0 {
			return false
		}
		after := rest[i+len(url):]
		if after == "" || strings.ContainsAny(after[:1], " \t\r\n)>]\"',;") ||
			(after[0] == '.' && (len(after) == 1 || strings.ContainsAny(after[1:2], " \t\r\n"))) {
			return true
		}
		rest = rest[i+1:]
	}
}

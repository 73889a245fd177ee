// Package report renders blcheck's results: text for people, JSON and JSON lines
// for programs. It is the only package that uses fatih/color, and the place where
// text from the network is made safe for a terminal.
package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/blcheck/blcheck/pkg/bounce"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
)

// Schema is the version of the JSON document.
const Schema = 1

// Document is the JSON output of a check (`--format json`), per blcheck's contract.
type Document struct {
	Schema     int         `json:"schema"`
	Resolver   []string    `json:"resolver"`
	Started    string      `json:"started"`
	DurationMs int64       `json:"duration_ms"`
	Targets    []TargetDoc `json:"targets"`
	Lists      []ListDoc   `json:"lists"`
	// ResolverHealth is set when the resolver itself cannot be trusted.
	ResolverHealth *ResolverDoc `json:"resolver_health,omitempty"`
	// Direct is set when lists were asked at their own name servers (--direct).
	Direct   *DirectDoc `json:"direct,omitempty"`
	Summary  SummaryDoc `json:"summary"`
	Warnings []string   `json:"warnings"`
	// Ignored lists what scan and bounce left out (--ignore, not a checkable host).
	Ignored []IgnoredDoc `json:"ignored,omitempty"`
	// Bounce and Diagnosis are set by blcheck bounce.
	Bounce    *bounce.Report    `json:"bounce,omitempty"`
	Diagnosis *bounce.Diagnosis `json:"diagnosis,omitempty"`
	// DMARC is set by blcheck dmarc: the reports' sending addresses.
	DMARC *DMARCDoc `json:"dmarc,omitempty"`
}

// TargetDoc is one target in the JSON document.
type TargetDoc struct {
	Input    string       `json:"input"`
	Kind     string       `json:"kind"`
	Form     string       `json:"form"`
	Subjects []SubjectDoc `json:"subjects"`
	Checks   []CheckDoc   `json:"checks"`
	Problems []string     `json:"problems"`
	Notes    []string     `json:"notes"`
	// Locations says where scan and bounce found the target.
	Locations []extract.Location `json:"locations,omitempty"`
	// Interrupted is set when the run stopped before this target was finished
	// (it is then never clean); Progress says how far it got.
	Interrupted bool         `json:"interrupted,omitempty"`
	Progress    *ProgressDoc `json:"progress,omitempty"`
}

// SubjectDoc is one subject in the JSON document.
type SubjectDoc struct {
	Subject string   `json:"subject"`
	Type    string   `json:"type"`
	Via     []string `json:"via"`
	Skipped string   `json:"skipped,omitempty"`
}

// NewSubjectDoc is a subject's JSON form.
func NewSubjectDoc(s dnsbl.Subject) SubjectDoc {
	return SubjectDoc{Subject: s.Name, Type: string(s.Type), Via: s.Via, Skipped: errText(s.Skip)}
}

// CheckDoc is one check in the JSON document and in JSON lines. Its keys are
// blcheck's contract.
type CheckDoc struct {
	Target    string   `json:"target,omitempty"` // only in streamed (jsonl) output
	Subject   string   `json:"subject"`
	List      string   `json:"list"`
	Zone      string   `json:"zone"`
	Query     string   `json:"query"`
	Status    string   `json:"status"`
	Codes     []string `json:"codes"`
	Meanings  []string `json:"meanings"`
	Reason    string   `json:"reason"`
	DelistURL string   `json:"delist_url"`
	// ListingURL is the list's own page about the listing, from its TXT reason,
	// where it is not delist_url.
	ListingURL string `json:"listing_url,omitempty"`
	// SameAs names the earlier target under which this same listing is counted.
	SameAs string `json:"same_as,omitempty"`
	RTTms  int64  `json:"rtt_ms"`
	Error  string `json:"error"`
	// Change is set with --state: new-listing, still-listed, delisted, unchanged, unknown.
	Change string `json:"change,omitempty"`
	// DuplicateOf names the list under which this same listing is counted.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// NotCounted says why a check is noted, not listed (a link host's address
	// on a list about who may send mail).
	NotCounted string `json:"not_counted,omitempty"`
	// Asked says how the list was asked: "resolver", or "direct" at its own
	// name servers; absent for a check that sent no query.
	Asked string `json:"asked,omitempty"`
}

// NewCheckDoc is a check's JSON form.
func NewCheckDoc(c dnsbl.Check) CheckDoc {
	d := CheckDoc{Subject: c.Subject, Zone: c.Zone, Query: c.Query, Status: string(c.Status),
		Codes: make([]string, len(c.Codes)), Meanings: nonNil(c.Meanings), Reason: c.Reason,
		DelistURL: c.DelistURL, ListingURL: c.ListingURL, SameAs: c.SameAs, RTTms: c.RTT.Milliseconds(), Error: errText(c.Err)}
	if c.List != nil {
		d.List = c.List.ID
	}
	for i, a := range c.Codes {
		d.Codes[i] = a.String()
	}
	if c.DuplicateOf != nil {
		d.DuplicateOf = c.DuplicateOf.ID
	}
	d.NotCounted = c.NotCounted
	d.Asked = string(c.Asked)
	return d
}

// ChangeKey names a check in CheckChanges.
func ChangeKey(c dnsbl.Check) string { return c.Subject + " " + c.List.ID }

// ProgressDoc is how far an interrupted target got.
type ProgressDoc struct {
	Started         bool `json:"started"`
	SubjectsChecked int  `json:"subjects_checked"`
	// SubjectsTotal is 0 when not known (a domain the run did not expand).
	SubjectsTotal int `json:"subjects_total"`
}

func progressDoc(t *dnsbl.TargetResult) *ProgressDoc {
	if !t.Interrupted {
		return nil
	}
	return &ProgressDoc{Started: t.Started, SubjectsChecked: t.SubjectsDone, SubjectsTotal: t.SubjectsTotal}
}

// IgnoredDoc is a finding left out with --ignore: reported, never silently dropped.
type IgnoredDoc struct {
	Host      string             `json:"host"`
	Reason    string             `json:"reason"`
	Locations []extract.Location `json:"locations"`
}

// ListDoc is one list's health in the JSON document.
type ListDoc struct {
	List   string `json:"list"`
	Zone   string `json:"zone"`
	Health string `json:"health"`
	Detail string `json:"detail,omitempty"`
	Change string `json:"change,omitempty"` // with --state: list-failing, list-recovered
	// Direct is set when the run asked the list at its own name servers.
	Direct bool `json:"direct,omitempty"`
}

// ResolverDoc says what is wrong with the resolver.
type ResolverDoc struct {
	RewritesNXDOMAIN bool   `json:"rewrites_nxdomain"`
	Probe            string `json:"probe"`
	Answer           string `json:"answer"`
}

// SummaryDoc counts the checks of a run.
type SummaryDoc struct {
	Targets    int `json:"targets"`
	Subjects   int `json:"subjects"`
	Checks     int `json:"checks"`
	Listed     int `json:"listed"`
	Clean      int `json:"clean"`
	Blocked    int `json:"blocked"`
	Error      int `json:"error"`
	Unreliable int `json:"unreliable"`
	Skipped    int `json:"skipped"`
	// Allowlisted counts allowlist hits (information, never a listing).
	Allowlisted int `json:"allowlisted"`
	// Duplicates counts listed checks that repeat another list's listing of the
	// same subject (duplicate_of): Listed counts each listing once, without them.
	Duplicates int `json:"duplicates"`
	// Repeats counts listings of a subject an earlier target already has
	// (same_as): Listed counts each listing once, without them.
	Repeats int `json:"repeats"`
	// Noted counts the noted checks: listed for something that does not count
	// in the subject's role (not_counted says why); never listings.
	Noted      int      `json:"noted"`
	Incomplete []string `json:"incomplete"`
	// Interrupted is set when the run was stopped (Ctrl-C, SIGTERM) before its end.
	Interrupted bool `json:"interrupted"`
	ExitCode    int  `json:"exit_code"`
	// DNSQueries counts the queries the run sent (answers from the cache are not counted).
	DNSQueries int `json:"dns_queries,omitempty"`
}

// NewDocument builds the JSON document of a view.
func NewDocument(v *View) *Document {
	d := documentFrame(v)
	for _, t := range v.Result.Targets {
		d.Targets = append(d.Targets, targetDoc(v, t))
	}
	return d
}

// documentFrame is the document of a view with no target in it yet.
func documentFrame(v *View) *Document {
	res := v.Result
	d := &Document{
		Schema:     Schema,
		Resolver:   nonNil(v.Resolvers),
		Started:    res.Started.UTC().Format(time.RFC3339),
		DurationMs: res.Elapsed.Milliseconds(),
		Targets:    []TargetDoc{},
		Lists:      []ListDoc{},
		Summary:    summarize(v),
		Warnings:   nonNil(v.Warnings),
		Ignored:    v.Ignored,
	}
	if v.Diagnosis != nil {
		d.Bounce, d.Diagnosis = v.Bounce, v.Diagnosis
	}
	d.DMARC = v.DMARC
	if rh := res.Resolver; rh.RewritesNXDOMAIN {
		d.ResolverHealth = &ResolverDoc{RewritesNXDOMAIN: true, Probe: rh.Probe, Answer: rh.Answer}
	}
	listChange := map[string]string{}
	for _, lc := range v.ListChanges {
		listChange[lc.List.ID] = lc.Change
	}
	for _, l := range res.Lists {
		d.Lists = append(d.Lists, ListDoc{List: l.List.ID, Zone: l.Zone, Health: string(l.Health.State),
			Detail: l.Health.Detail, Change: listChange[l.List.ID], Direct: l.Direct})
	}
	d.Direct = NewDirectDoc(res)
	return d
}

// targetDoc is one target's JSON form, with what the front end adds to it.
func targetDoc(v *View, t *dnsbl.TargetResult) TargetDoc {
	td := TargetDoc{
		Input:       t.Target.Input,
		Kind:        string(t.Target.Kind),
		Form:        t.Target.Form,
		Subjects:    make([]SubjectDoc, 0, len(t.Subjects)),
		Checks:      make([]CheckDoc, 0, len(t.Checks)),
		Problems:    nonNil(t.Problems),
		Notes:       nonNil(t.Notes),
		Locations:   v.Locations[t.Index],
		Interrupted: t.Interrupted,
		Progress:    progressDoc(t),
	}
	for _, sj := range t.Subjects {
		sd := NewSubjectDoc(sj)
		sd.Skipped = v.skip(sj.Skip)
		td.Subjects = append(td.Subjects, sd)
	}
	for _, c := range t.Checks {
		cd := NewCheckDoc(c)
		if c.Status == dnsbl.Skipped {
			cd.Error = v.skip(c.Err)
		}
		if v.Deadline > 0 && errors.Is(c.Err, dnsbl.ErrInterrupted) {
			cd.Error = notAnswered(v.stopped()) // not "interrupted": no one interrupted it
		}
		if v.Changes != nil {
			cd.Change = v.Changes[ChangeKey(c)]
		}
		td.Checks = append(td.Checks, cd)
	}
	return td
}

// summarize is the summary block of a view (JSON, and the JSON lines'
// summary line).
func summarize(v *View) SummaryDoc {
	res := v.Result
	c := res.Summary.Counts
	return SummaryDoc{
		Targets: res.Summary.Targets, Subjects: res.Summary.Subjects, Checks: res.Summary.Checks,
		Listed: res.Summary.Listings(), Noted: c[dnsbl.Noted], Clean: c[dnsbl.Clean], Blocked: c[dnsbl.Blocked], Error: c[dnsbl.Error],
		Unreliable: c[dnsbl.Unreliable], Skipped: c[dnsbl.Skipped], Allowlisted: c[dnsbl.Allowlisted],
		Duplicates: res.Summary.Duplicates, Repeats: res.Summary.Repeats, Interrupted: res.Summary.Interrupted,
		Incomplete: nonNil(incompleteReasons(v)), ExitCode: v.Verdict.ExitCode(), DNSQueries: res.Queries,
	}
}

// notAnsweredBy begins the reason that names the lists that failed for some
// subject (NotChecked).
const notAnsweredBy = "lists that did not answer for every subject: "

// incompleteReasons is summary.incomplete: everything that made the run
// incomplete (View.AllIncomplete) and, by the strict rule, the lists that did
// not answer for every subject, as the text's summary line names them: a run
// that exits 3 for them says why.
func incompleteReasons(v *View) []string {
	out := v.AllIncomplete()
	if !v.Verdict.Strict || v.Result.Summary.Failed == 0 {
		return out
	}
	if nc := NotChecked(v.Result, 10); nc != "" {
		out = append(slices.Clip(out), notAnsweredBy+nc)
	}
	return out
}

// renderJSON writes the JSON document of a view.
// Each target's part is made as it is written: the run's result holds the
// checks, and a document of them all beside it would hold them again.
func renderJSON(w io.Writer, v *View, _ Options) error {
	ts := v.Result.Targets
	return writeLong(w, documentFrame(v), len(ts), func(i int) any { td := targetDoc(v, ts[i]); return &td })
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WarmJSON makes encoding/json build its encoders for the Document's types,
// which it does by reflection the first time each is encoded: about half a
// millisecond for a Document, several times what writing one costs after.
// A front end calls it in a goroutine of its own while the lists' answers
// are on their way (a few milliseconds after the queries went out), so that the
// document is written as soon as the last one comes, not half a millisecond
// later.
func WarmJSON() { _ = WriteJSON(io.Discard, &Document{}) }

// WriteJSON writes v as indented JSON. Control characters from the network are
// escaped by encoding/json, so the output is always valid JSON.
func WriteJSON(w io.Writer, v any) error {
	if d, ok := v.(*Document); ok && d.Targets != nil { // one target at a time
		return writeLong(w, d, len(d.Targets), func(i int) any { return &d.Targets[i] })
	}
	return encodeIndented(w, v, "")
}

// JSONLines writes one check object per line as checks complete. Lines are
// buffered and written when a target is complete (or the buffer is full), so a
// bulk run makes one write per target, not one per check; Flush writes the rest.
type JSONLines struct {
	// Change, if set, says what a check is to the last run's (--state): its
	// line's "change".
	Change func(dnsbl.Check) string
	// Hint, if set, is what the front end adds to a skip reason (View.Hint).
	Hint func(reason error) string
	// Locations says where scan and bounce found each target (by index, as
	// View.Locations): a target found somewhere gets its target line, with them.
	Locations map[int][]extract.Location
	// Stopped, if set, says why the run stopped when no signal stopped it
	// ("stopped at the --deadline of 20s"), "" when one did: the word of the
	// checks it left unanswered, as View.Deadline gives the document's.
	Stopped func() string

	mu    sync.Mutex // the writer and the flush timer
	buf   *bufio.Writer
	line  []byte
	err   error
	timer *time.Timer // writes out what a target left buffered, at most linesLinger later
}

// Lines are written out in blocks of linesBlock bytes, not once per target (a
// /16 sweep made 65,536 writes); what a target leaves in the buffer is written
// out at most linesLinger later, so that a slow run still shows each target
// soon after it is done.
const (
	linesBlock  = 16 << 10
	linesLinger = 200 * time.Millisecond
)

// NewJSONLines returns a JSON lines writer on w.
func NewJSONLines(w io.Writer) *JSONLines {
	return &JSONLines{buf: bufio.NewWriterSize(w, 32<<10)}
}

// Check writes one check, with the target it belongs to.
func (j *JSONLines) Check(t *dnsbl.TargetResult, c dnsbl.Check) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	d := NewCheckDoc(c)
	if c.Status == dnsbl.Skipped {
		d.Error = withHint(c.Err, j.Hint)
	}
	if j.Stopped != nil && errors.Is(c.Err, dnsbl.ErrInterrupted) {
		if why := j.Stopped(); why != "" {
			d.Error = notAnswered(why)
		}
	}
	d.Target = t.Target.Input
	if j.Change != nil {
		d.Change = j.Change(c)
	}
	j.line = append(appendCheck(j.line[:0], &d), '\n')
	_, j.err = j.buf.Write(j.line)
}

// TargetLine is the line a target gets in `--format jsonl` when there is more
// to say of it than its checks: problems that made it incomplete, notes, or an
// interruption. It is told from a check line by "type": "target".
type TargetLine struct {
	Type        string       `json:"type"` // always "target"
	Target      string       `json:"target"`
	Kind        string       `json:"kind"`
	Problems    []string     `json:"problems"`
	Notes       []string     `json:"notes"`
	Interrupted bool         `json:"interrupted"`
	Progress    *ProgressDoc `json:"progress,omitempty"`
	// Locations says where scan and bounce found the target.
	Locations []extract.Location `json:"locations,omitempty"`
}

// Target writes out the lines of a completed target, and its target line when
// it has problems, notes, was cut short or was found somewhere (scan, bounce).
func (j *JSONLines) Target(t *dnsbl.TargetResult) {
	j.mu.Lock()
	defer j.mu.Unlock()
	locs := j.Locations[t.Index]
	if j.err == nil && (len(t.Problems) > 0 || len(t.Notes) > 0 || t.Interrupted || len(locs) > 0) {
		line, _ := json.Marshal(TargetLine{Type: "target", Target: t.Target.Input, Kind: string(t.Target.Kind),
			Problems: nonNil(t.Problems), Notes: nonNil(t.Notes), Interrupted: t.Interrupted, Progress: progressDoc(t),
			Locations: locs})
		_, j.err = j.buf.Write(append(line, '\n'))
	}
	switch {
	case j.buf.Buffered() >= linesBlock:
		j.flush()
	case j.buf.Buffered() > 0 && j.timer == nil:
		j.timer = time.AfterFunc(linesLinger, j.Flush)
	}
}

// Flush writes out the buffered lines.
func (j *JSONLines) Flush() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.flush()
}

// flush is Flush with mu held; it ends the timer.
func (j *JSONLines) flush() {
	if j.timer != nil {
		j.timer.Stop()
		j.timer = nil
	}
	if j.err == nil {
		j.err = j.buf.Flush()
	}
}

// Err is the first write error, if any.
func (j *JSONLines) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// SummaryLine is the last line of `--format jsonl`: the run's verdict, with
// the keys of the JSON document's summary (counts, incomplete, interrupted,
// exit_code, which is the process's exit code), told from a check line by
// "type": "summary". It is written whenever the run's result is, a run
// stopped by a signal or its deadline included.
type SummaryLine struct {
	Type string `json:"type"` // always "summary"
	SummaryDoc
}

// Summary writes the summary line of a view, after every other line.
func (j *JSONLines) Summary(v *View) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	line, err := json.Marshal(SummaryLine{Type: "summary", SummaryDoc: summarize(v)})
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.buf.Write(append(line, '\n'))
}

// renderJSONLines ends the JSON lines of a run: those streamed during it
// (Options.Lines) are flushed; without them, the view's checks are written.
// The summary line comes last.
func renderJSONLines(w io.Writer, v *View, o Options) error {
	j := o.Lines
	if j == nil {
		j = NewJSONLines(w)
		j.Hint, j.Locations = v.Hint, v.Locations
		if v.Changes != nil {
			j.Change = func(c dnsbl.Check) string { return v.Changes[ChangeKey(c)] }
		}
		for _, tr := range v.Result.Targets {
			for _, c := range tr.Checks {
				j.Check(tr, c)
			}
			j.Target(tr)
		}
	}
	j.Summary(v)
	j.Flush()
	return j.Err()
}

// CatalogEntries returns the lists for `blcheck lists --format json`.
// Every entry has its errors as an object, {} when the list names none (not
// null for some and an object for others); the catalog's lists are not changed.
func CatalogEntries(lists []*catalog.List) []*catalog.List {
	out := make([]*catalog.List, 0, len(lists))
	for _, l := range lists {
		if l.Errors == nil {
			c := *l
			c.Errors = map[string]string{}
			l = &c
		}
		out = append(out, l)
	}
	return out
}

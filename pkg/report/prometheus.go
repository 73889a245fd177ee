package report

import (
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// The HELP text of each family blcheck exports, for `blcheck serve` and
// `-o prometheus` alike (README: "Metrics").
const (
	helpSuccess = "1 when the check is complete (every list answered, none refused, none unhealthy, " +
		"the resolver trusted, in time); 0 when something could not be checked. Alert on it apart from listings."
	helpListed = "1 when the target (any of its addresses or its domain) is listed on at least one blacklist, else 0. " +
		"With blcheck_probe_success 0, a list that did not answer may still list it: 0 is then no delisting."
	helpDuration = "How long the check took, in seconds."
	helpQueries  = "DNS queries the check sent to the resolver. Answers are cached for their DNS TTL, so a " +
		"second check of the same target within it sends none (0)."
	helpStatus = "1 for the current status of the subject on the list, 0 for every other status: listed, clean, " +
		"blocked (the list refused the resolver: never a listing), error, unreliable (the list failed its " +
		"health check), skipped, allowlisted, noted (listed for something that does not count in the " +
		"subject's role: a link host's address on a policy list)."
	helpCode = "1 for each code (A record) a list answered for a listed subject. The codes' meanings and the " +
		"TXT reason are in /probe?format=json, not in labels."
	helpSubjectListings = "How many lists list the subject; a listing a list shares with one that contains it " +
		"(Spamhaus XBL inside ZEN) is counted once."
	helpHealth = "1 for the list's current health (RFC 5782 test points), 0 for every other state: ok, " +
		"lists-everything, test-point-missing, blocked, bad-answer, no-answer, needs-key, unchecked, untested " +
		"(the list publishes no test point: its answers are unconfirmed), unused (no subject of the run was " +
		"asked of it, nor its test points), interrupted (the run stopped before its test points were answered: " +
		"nothing is known of the list)."
	helpRewrites = "1 when the resolver invents answers for names that do not exist (rewrites NXDOMAIN): no " +
		"blacklist answer through it can be trusted."
	helpLastRun = "When blcheck last wrote these metrics, as a Unix time in seconds."
)

// Family is one metric family, a gauge (every family blcheck exports is one):
// its samples sorted as client_golang's Gather sorts them (by label values, in
// label-name order), never empty.
type Family struct {
	Name, Help string
	Samples    []Sample
}

// Sample is one series of a family and its value.
type Sample struct {
	Labels []Label // sorted by name; every sample of a family has the same names
	Value  float64
}

// Label is one label pair. Its value is valid UTF-8 (what is not is replaced
// by U+FFFD, where client_golang would panic).
type Label struct {
	Name, Value string
}

// LabelNames are the names of the family's labels, sorted.
func (f Family) LabelNames() []string {
	if len(f.Samples) == 0 {
		return nil
	}
	names := make([]string, len(f.Samples[0].Labels))
	for i, l := range f.Samples[0].Labels {
		names[i] = l.Name
	}
	return names
}

// ProbeFamilies are one probe's families (blcheck serve's /probe): the view is
// one probe of one target, without a `target` label, and
// blcheck_probe_success says whether its verdict (also its JSON exit_code and
// its outcome label) is complete.
func ProbeFamilies(v *View) []Family {
	return families(v, false)
}

// families are a view's families, sorted by name, empty ones left out (as
// client_golang's Gather leaves them out). With targetLabel, the families
// that describe one target carry a `target` label (`-o prometheus`, which
// checks several), and each target's success is its own, by the strict rule;
// without it the view is one probe, and its success is its verdict's.
//
// As in a client_golang GaugeVec, a series is one set of label values: setting
// it again (the same target twice, the same check twice) overwrites it and
// adding adds to it, so no family ever holds two series with the same labels.
func families(v *View, targetLabel bool) []Family {
	res := v.Result
	var tl []string
	if targetLabel {
		tl = []string{"target"}
	}
	m := probeGauges{
		success:  newGaugeFamily("blcheck_probe_success", helpSuccess, tl...),
		listed:   newGaugeFamily("blcheck_probe_listed", helpListed, tl...),
		status:   newGaugeFamily("blcheck_check_status", helpStatus, append(tl, "subject", "list", "status")...),
		code:     newGaugeFamily("blcheck_listing_code", helpCode, append(tl, "subject", "list", "code")...),
		listings: newGaugeFamily("blcheck_subject_listings", helpSubjectListings, append(tl, "subject")...),
	}
	duration := newGaugeFamily("blcheck_probe_duration_seconds", helpDuration)
	queries := newGaugeFamily("blcheck_probe_dns_queries", helpQueries)
	health := newGaugeFamily("blcheck_list_health", helpHealth, "list", "health")
	rewrites := newGaugeFamily("blcheck_resolver_rewrites_nxdomain", helpRewrites)
	duration.set(res.Elapsed.Seconds())
	queries.set(float64(res.Queries))
	rewrites.set(b2f(res.Resolver.RewritesNXDOMAIN))
	for _, l := range res.Lists { // an unhealthy list's checks are unreliable, which clears success
		for _, h := range dnsbl.HealthStates {
			health.set(b2f(l.Health.State == h), l.List.ID, string(h))
		}
	}
	for _, tr := range res.Targets {
		complete := v.Verdict.Complete // one probe: its verdict, as its JSON exit_code and outcome say
		var t []string
		if targetLabel {
			complete = tr.Complete(res.Resolver.RewritesNXDOMAIN)
			t = []string{tr.Target.Input}
		}
		m.target(tr, t, complete)
	}
	return collect(m.success, m.listed, duration, queries, m.status, m.code, m.listings, health, rewrites)
}

// probeGauges are the families that describe one target.
type probeGauges struct {
	success, listed, status, code, listings *gaugeFamily
}

// target sets one target's series; t is its `target` label value, if any.
func (m probeGauges) target(tr *dnsbl.TargetResult, t []string, complete bool) {
	with := func(v ...string) []string { return append(append([]string{}, t...), v...) }
	anyListed := false
	for _, s := range tr.Subjects {
		if s.Skip == nil {
			m.listings.set(0, with(s.Name)...)
		}
	}
	for _, c := range tr.Checks {
		for _, st := range dnsbl.Statuses {
			m.status.set(b2f(c.Status == st), with(c.Subject, c.List.ID, string(st))...)
		}
		switch c.Status {
		case dnsbl.Listed, dnsbl.Noted:
			for _, a := range c.Codes {
				m.code.set(1, with(c.Subject, c.List.ID, a.String())...)
			}
			if c.Status == dnsbl.Listed && c.DuplicateOf == nil {
				anyListed = true
				m.listings.add(1, with(c.Subject)...)
			}
		}
	}
	m.success.set(b2f(complete), t...)
	m.listed.set(b2f(anyListed), t...)
}

// gaugeFamily is a family being built, as a client_golang GaugeVec holds it:
// one series per distinct set of label values.
type gaugeFamily struct {
	name, help string
	labels     []string       // label names, in the order set and add take the values
	order      []int          // indexes into labels, sorted by name
	index      map[string]int // series key → index into samples
	samples    []Sample
}

func newGaugeFamily(name, help string, labels ...string) *gaugeFamily {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return labels[order[i]] < labels[order[j]] })
	return &gaugeFamily{name: name, help: help, labels: labels, order: order, index: map[string]int{}}
}

// series is the sample of these label values (in g.labels' order), made the
// first time they are seen.
func (g *gaugeFamily) series(values []string) *Sample {
	if len(values) != len(g.labels) {
		panic("report: " + g.name + ": " + strconv.Itoa(len(values)) + " label values for " + strconv.Itoa(len(g.labels)) + " labels")
	}
	var key strings.Builder
	pairs := make([]Label, len(values))
	for i, j := range g.order {
		v := strings.ToValidUTF8(values[j], "\uFFFD")
		pairs[i] = Label{Name: g.labels[j], Value: v}
		key.WriteString(strconv.Itoa(len(v)))
		key.WriteByte(':')
		key.WriteString(v)
	}
	if i, ok := g.index[key.String()]; ok {
		return &g.samples[i]
	}
	g.index[key.String()] = len(g.samples)
	g.samples = append(g.samples, Sample{Labels: pairs})
	return &g.samples[len(g.samples)-1]
}

func (g *gaugeFamily) set(f float64, values ...string) { g.series(values).Value = f }
func (g *gaugeFamily) add(f float64, values ...string) { g.series(values).Value += f }

// collect makes the families of the builders that hold a series, each sorted
// as client_golang's Gather sorts: families by name, a family's samples by
// their label values, compared in label-name order.
func collect(gs ...*gaugeFamily) []Family {
	var out []Family
	for _, g := range gs {
		if len(g.samples) == 0 {
			continue
		}
		sort.Slice(g.samples, func(i, j int) bool { return lessLabels(g.samples[i].Labels, g.samples[j].Labels) })
		out = append(out, Family{Name: g.name, Help: g.help, Samples: g.samples})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// lessLabels orders two samples of one family by their label values.
func lessLabels(a, b []Label) bool {
	for i := range a {
		if a[i].Value != b[i].Value {
			return a[i].Value < b[i].Value
		}
	}
	return false
}

// renderPrometheus writes a view in the Prometheus text format, for
// node_exporter's textfile collector (`-o prometheus`): every target's
// families with a `target` label, and when the run ended (Options.Now).
func renderPrometheus(w io.Writer, v *View, o Options) error {
	last := newGaugeFamily("blcheck_last_run_timestamp_seconds", helpLastRun)
	last.set(float64(o.Now.UnixNano()) / 1e9)
	fams := append(families(v, true), collect(last)...)
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].Name < fams[j].Name })
	return WritePrometheusText(w, fams)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

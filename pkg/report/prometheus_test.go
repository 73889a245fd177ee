package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// clientGolangRegister is how blcheck built its families before it wrote the
// text format itself (issue #24): client_golang GaugeVecs. The test holds
// families and WritePrometheusText to it, byte for byte.
func clientGolangRegister(reg prometheus.Registerer, v *View, targetLabel bool) error {
	res := v.Result
	var tl []string
	if targetLabel {
		tl = []string{"target"}
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, append(append([]string{}, tl...), labels...))
	}
	success := gauge("blcheck_probe_success", helpSuccess)
	listed := gauge("blcheck_probe_listed", helpListed)
	status := gauge("blcheck_check_status", helpStatus, "subject", "list", "status")
	code := gauge("blcheck_listing_code", helpCode, "subject", "list", "code")
	listings := gauge("blcheck_subject_listings", helpSubjectListings, "subject")
	duration := prometheus.NewGauge(prometheus.GaugeOpts{Name: "blcheck_probe_duration_seconds", Help: helpDuration})
	queries := prometheus.NewGauge(prometheus.GaugeOpts{Name: "blcheck_probe_dns_queries", Help: helpQueries})
	health := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "blcheck_list_health", Help: helpHealth}, []string{"list", "health"})
	rewrites := prometheus.NewGauge(prometheus.GaugeOpts{Name: "blcheck_resolver_rewrites_nxdomain", Help: helpRewrites})
	for _, c := range []prometheus.Collector{success, listed, duration, queries, status, code, listings, health, rewrites} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	duration.Set(res.Elapsed.Seconds())
	queries.Set(float64(res.Queries))
	rewrites.Set(b2f(res.Resolver.RewritesNXDOMAIN))
	for _, l := range res.Lists {
		for _, h := range dnsbl.HealthStates {
			health.WithLabelValues(l.List.ID, string(h)).Set(b2f(l.Health.State == h))
		}
	}
	for _, tr := range res.Targets {
		var t []string
		if targetLabel {
			t = []string{tr.Target.Input}
		}
		with := func(v ...string) []string { return append(append([]string{}, t...), v...) }
		complete := v.Verdict.Complete
		if targetLabel {
			complete = tr.Complete(res.Resolver.RewritesNXDOMAIN)
		}
		anyListed := false
		for _, s := range tr.Subjects {
			if s.Skip == nil {
				listings.WithLabelValues(with(s.Name)...).Set(0)
			}
		}
		for _, c := range tr.Checks {
			for _, st := range dnsbl.Statuses {
				status.WithLabelValues(with(c.Subject, c.List.ID, string(st))...).Set(b2f(c.Status == st))
			}
			switch c.Status {
			case dnsbl.Listed, dnsbl.Noted:
				for _, a := range c.Codes {
					code.WithLabelValues(with(c.Subject, c.List.ID, a.String())...).Set(1)
				}
				if c.Status == dnsbl.Listed && c.DuplicateOf == nil {
					anyListed = true
					listings.WithLabelValues(with(c.Subject)...).Add(1)
				}
			}
		}
		success.WithLabelValues(t...).Set(b2f(complete))
		listed.WithLabelValues(t...).Set(b2f(anyListed))
	}
	return nil
}

// clientGolangRender is -o prometheus (targetLabel, with the last run's time)
// or a probe's metrics as client_golang's pedantic registry gathered them and
// expfmt's text encoder wrote them.
func clientGolangRender(w io.Writer, v *View, now time.Time, targetLabel bool) error {
	reg := prometheus.NewPedanticRegistry()
	if err := clientGolangRegister(reg, v, targetLabel); err != nil {
		return err
	}
	if targetLabel {
		last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "blcheck_last_run_timestamp_seconds", Help: helpLastRun})
		last.Set(float64(now.UnixNano()) / 1e9)
		reg.MustRegister(last)
	}
	families, err := reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// awkward are label values the text format must escape or carry as they are.
var awkward = []string{
	`back\slash`, `"quoted"`, "new\nline", `\n`, `\"`, "trailing\\", "ünïcödé.example", "例え.テスト", "😀",
	"tab\there", "nul\x00byte", "", " ", "192.0.2.1", "2001:db8::1", "198.51.100.0/30", "example.com",
}

// randomView is a run's view made up from rng: targets (some inputs twice),
// subjects (some skipped), checks of every status with codes and duplicates,
// lists of every health, label values from awkward.
func randomView(rng *rand.Rand, lists []*catalog.List, targets int) *View {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	res := &dnsbl.Result{Elapsed: time.Duration(rng.Int64N(int64(time.Minute))), Queries: rng.IntN(5000)}
	res.Resolver.RewritesNXDOMAIN = rng.IntN(8) == 0
	for _, l := range lists {
		if rng.IntN(3) > 0 {
			res.Lists = append(res.Lists, dnsbl.ListHealth{List: l, Health: dnsbl.Health{State: dnsbl.HealthStates[rng.IntN(len(dnsbl.HealthStates))]}})
		}
	}
	for i := range targets {
		tr := &dnsbl.TargetResult{Index: i, Target: dnsbl.Target{Input: pick(awkward)}, Interrupted: rng.IntN(6) == 0, Failed: rng.IntN(2)}
		if rng.IntN(5) == 0 {
			tr.Problems = []string{"a problem"}
		}
		for range rng.IntN(5) {
			s := dnsbl.Subject{Name: pick(awkward)}
			if rng.IntN(4) == 0 {
				s.Skip = errors.New("skipped")
			}
			tr.Subjects = append(tr.Subjects, s)
		}
		for range rng.IntN(12) {
			c := dnsbl.Check{Subject: pick(awkward), List: lists[rng.IntN(len(lists))], Status: dnsbl.Statuses[rng.IntN(len(dnsbl.Statuses))]}
			for range rng.IntN(3) {
				c.Codes = append(c.Codes, netip.AddrFrom4([4]byte{127, 0, byte(rng.IntN(2)), byte(rng.IntN(12))}))
			}
			if rng.IntN(4) == 0 {
				c.DuplicateOf = lists[0]
			}
			tr.Checks = append(tr.Checks, c)
		}
		res.Targets = append(res.Targets, tr)
	}
	res.Summary = dnsbl.Summary{Interrupted: rng.IntN(6) == 0, Failed: rng.IntN(2),
		Counts: map[dnsbl.Status]int{dnsbl.Listed: rng.IntN(3)}}
	v := &View{Result: res}
	v.Decide(rng.IntN(2) == 0)
	if rng.IntN(6) == 0 {
		v.Interrupt()
	}
	return v
}

// testLists are lists whose ids need escaping, and the catalog's.
func testLists() []*catalog.List {
	var lists []*catalog.List
	for _, id := range awkward[:8] {
		lists = append(lists, &catalog.List{ID: id, Name: id})
	}
	return append(lists, catalog.Default().Lists...)
}

// -o prometheus and a probe's families, written by WritePrometheusText, are
// byte for byte what client_golang's Gather and expfmt wrote: the fixture, a
// run of nothing, and views with awkward label values, duplicate targets and
// many targets and lists.
func TestPrometheusAsClientGolang(t *testing.T) {
	type view struct {
		name string
		v    *View
		now  time.Time
	}
	now := time.Date(2026, 12, 1, 10, 0, 1, 123456789, time.UTC)
	views := []view{
		{"fixture", fixtureView(t, false), now},
		{"fixture interrupted", func() *View { v := fixtureView(t, false); v.Interrupt(); return v }(), now},
		{"nothing", func() *View { v := &View{Result: &dnsbl.Result{}}; v.Decide(true); return v }(), time.Unix(0, 0)},
		{"many", randomView(rand.New(rand.NewPCG(1, 2)), testLists(), 300), now},
	}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 24))
		views = append(views, view{fmt.Sprintf("seed %d", seed), randomView(rng, testLists()[:10], rng.IntN(8)),
			time.Unix(rng.Int64N(4e9), rng.Int64N(1e9))})
	}
	for _, tc := range views {
		var want, got bytes.Buffer
		if err := clientGolangRender(&want, tc.v, tc.now, true); err != nil {
			t.Fatalf("%s: client_golang: %v", tc.name, err)
		}
		if err := renderPrometheus(&got, tc.v, Options{Now: tc.now}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: -o prometheus differs from client_golang's:\n--- got\n%s\n--- want\n%s", tc.name, got.Bytes(), want.Bytes())
		}
		want.Reset()
		got.Reset()
		if err := clientGolangRender(&want, tc.v, tc.now, false); err != nil {
			t.Fatalf("%s: client_golang: %v", tc.name, err)
		}
		if err := WritePrometheusText(&got, ProbeFamilies(tc.v)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: probe families differ from client_golang's:\n--- got\n%s\n--- want\n%s", tc.name, got.Bytes(), want.Bytes())
		}
	}
}

// WritePrometheusText writes any family as expfmt writes it: values of every
// kind (both zeros, infinities, NaN, the extremes, exponents), HELP texts and
// label values that need escaping, families without labels.
func TestPrometheusTextAsExpfmt(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 0.812, 1e-9, 1e21, 1e20, 123456789.123, -2.5e-300,
		1.7652e9, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 3}
	var fams []Family
	for i, help := range []string{"plain", `back\slash and "quotes"`, "two\nlines\\n", "", "ünïcödé 😀"} {
		f := Family{Name: fmt.Sprintf("blcheck_test_%d", i), Help: help}
		for j, v := range values {
			s := Sample{Value: v}
			if i > 0 {
				s.Labels = []Label{{"a", awkward[(i+j)%len(awkward)]}, {"b", fmt.Sprint(j)}}
			}
			f.Samples = append(f.Samples, s)
		}
		fams = append(fams, f)
	}
	var want, got bytes.Buffer
	enc := expfmt.NewEncoder(&want, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(toDTO(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := WritePrometheusText(&got, fams); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("differs from expfmt:\n--- got\n%s\n--- want\n%s", got.Bytes(), want.Bytes())
	}
}

func toDTO(f Family) *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: &f.Name, Help: &f.Help, Type: dto.MetricType_GAUGE.Enum()}
	for _, s := range f.Samples {
		m := &dto.Metric{Gauge: &dto.Gauge{Value: &s.Value}}
		for _, l := range s.Labels {
			m.Label = append(m.Label, &dto.LabelPair{Name: &l.Name, Value: &l.Value})
		}
		mf.Metric = append(mf.Metric, m)
	}
	return mf
}

// A label value that is not UTF-8 (client_golang panicked on it) is written
// with U+FFFD, and two values that come to the same after that are one
// series, as the same target given twice is: the output parses, and no series
// appears twice.
func TestPrometheusOneSeriesEach(t *testing.T) {
	lists := testLists()[:3]
	res := &dnsbl.Result{}
	for _, input := range []string{"bad\xff", "bad\xfe", "192.0.2.1", "192.0.2.1"} {
		res.Targets = append(res.Targets, &dnsbl.TargetResult{Target: dnsbl.Target{Input: input},
			Subjects: []dnsbl.Subject{{Name: input}},
			Checks:   []dnsbl.Check{{Subject: input, List: lists[0], Status: dnsbl.Listed}, {Subject: input, List: lists[1], Status: dnsbl.Clean}}})
	}
	v := &View{Result: res}
	v.Decide(true)
	var b bytes.Buffer
	if err := renderPrometheus(&b, v, Options{Now: time.Unix(1, 0)}); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := parser.TextToMetricFamilies(bytes.NewReader(b.Bytes())); err != nil {
		t.Fatalf("does not parse: %v\n%s", err, b.Bytes())
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		series := line[:strings.LastIndexByte(line, ' ')]
		if seen[series] {
			t.Errorf("series twice: %s", series)
		}
		seen[series] = true
	}
	for _, want := range []string{"blcheck_probe_success{target=\"bad\uFFFD\"} 1", `blcheck_subject_listings{subject="192.0.2.1",target="192.0.2.1"} 1`} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("no %s in\n%s", want, b.Bytes())
		}
	}
}

// pkg/report, which the CLI imports for -o prometheus, links no Prometheus
// library and no protobuf: a CLI run that does not serve pays nothing for
// their init (issue #24).
func TestReportLinksNoPrometheus(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "github.com/blcheck/blcheck/pkg/report").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !strings.Contains(string(out), "github.com/blcheck/blcheck/pkg/dnsbl\n") {
		t.Fatalf("go list printed no dependency list:\n%s", out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/prometheus/") || strings.HasPrefix(pkg, "google.golang.org/protobuf") {
			t.Errorf("pkg/report depends on %s", pkg)
		}
	}
}

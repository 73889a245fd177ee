package exporter

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/report"
)

// A probe's metrics, gathered by a pedantic client_golang registry and written
// by expfmt (what /probe serves), are the families pkg/report writes for
// them: the same series and values, label values that need escaping included.
func TestProbeMetricsAsReport(t *testing.T) {
	lists := []*catalog.List{{ID: "zen"}, {ID: `odd"list\`}}
	res := &dnsbl.Result{Elapsed: 812 * time.Millisecond, Queries: 13,
		Lists: []dnsbl.ListHealth{{List: lists[0], Health: dnsbl.Health{State: dnsbl.HealthOK}},
			{List: lists[1], Health: dnsbl.Health{State: dnsbl.HealthListsEverything}}}}
	for _, input := range []string{"192.0.2.1", "new\nline.example", "ünïcödé.example"} {
		res.Targets = append(res.Targets, &dnsbl.TargetResult{Target: dnsbl.Target{Input: input},
			Subjects: []dnsbl.Subject{{Name: input}},
			Checks: []dnsbl.Check{
				{Subject: input, List: lists[0], Status: dnsbl.Listed, Codes: []netip.Addr{netip.MustParseAddr("127.0.0.2")}},
				{Subject: input, List: lists[1], Status: dnsbl.Unreliable},
			}})
	}
	for _, interrupted := range []bool{false, true} {
		v := &report.View{Result: res}
		v.Decide(true)
		if interrupted {
			v.Interrupt()
		}
		reg := prometheus.NewPedanticRegistry()
		if err := registerProbe(reg, v); err != nil {
			t.Fatal(err)
		}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var got, want bytes.Buffer
		enc := expfmt.NewEncoder(&got, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, f := range families {
			if err := enc.Encode(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := report.WritePrometheusText(&want, report.ProbeFamilies(v)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) || len(families) != 9 {
			t.Errorf("interrupted %v: %d families, /probe's differ from pkg/report's:\n--- got\n%s\n--- want\n%s",
				interrupted, len(families), got.Bytes(), want.Bytes())
		}
	}
}

package exporter

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/blcheck/blcheck/pkg/report"
)

// probeMetrics hands one probe's families, as pkg/report builds them for
// -o prometheus too, to a client_golang registry: /probe then negotiates its
// format (text or protobuf) through promhttp as any exporter's does.
type probeMetrics struct {
	families []report.Family
	descs    []*prometheus.Desc // one per family
}

// registerProbe registers one probe's metrics with reg: the view is one probe
// of one target, and blcheck_probe_success says whether its verdict (also its
// JSON exit_code and its outcome label) is complete.
func registerProbe(reg prometheus.Registerer, v *report.View) error {
	return reg.Register(newProbeMetrics(report.ProbeFamilies(v)))
}

func newProbeMetrics(fams []report.Family) *probeMetrics {
	m := &probeMetrics{families: fams}
	for _, f := range fams {
		m.descs = append(m.descs, prometheus.NewDesc(f.Name, f.Help, f.LabelNames(), nil))
	}
	return m
}

func (m *probeMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs {
		ch <- d
	}
}

func (m *probeMetrics) Collect(ch chan<- prometheus.Metric) {
	for i, f := range m.families {
		for _, s := range f.Samples {
			values := make([]string, len(s.Labels))
			for j, l := range s.Labels {
				values[j] = l.Value
			}
			// every family blcheck exports is a gauge (report.Family)
			ch <- prometheus.MustNewConstMetric(m.descs[i], prometheus.GaugeValue, s.Value, values...)
		}
	}
}

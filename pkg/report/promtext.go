package report

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
)

// WritePrometheusText writes families, in the order given, in the Prometheus
// text exposition format (version 0.0.4), byte for byte as common/expfmt's
// text encoder writes what client_golang's Gather returns for them.
//
// It is written by hand because the CLI renders -o prometheus through this
// package and must not link client_golang, common/expfmt and protobuf, whose
// package init every run would pay for (issue #24); TestPrometheusTextAsExpfmt
// holds it to expfmt. Every name blcheck exports is a legacy metric and label
// name (no quoting), and every family is a gauge without timestamps.
func WritePrometheusText(w io.Writer, fams []Family) error {
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		if len(f.Samples) == 0 { // expfmt refuses an empty family; Gather leaves it out
			continue
		}
		bw.WriteString("# HELP ")
		bw.WriteString(f.Name)
		bw.WriteByte(' ')
		helpEscaper.WriteString(bw, f.Help)
		bw.WriteString("\n# TYPE ")
		bw.WriteString(f.Name)
		bw.WriteString(" gauge\n")
		for _, s := range f.Samples {
			writeSample(bw, f.Name, s)
		}
	}
	return bw.Flush() // a bufio.Writer keeps its first error
}

// writeSample writes one sample's line: name{label="value",...} value.
func writeSample(bw *bufio.Writer, name string, s Sample) {
	bw.WriteString(name)
	for i, l := range s.Labels {
		if i == 0 {
			bw.WriteByte('{')
		} else {
			bw.WriteByte(',')
		}
		bw.WriteString(l.Name)
		bw.WriteString(`="`)
		labelEscaper.WriteString(bw, l.Value)
		bw.WriteByte('"')
	}
	if len(s.Labels) > 0 {
		bw.WriteByte('}')
	}
	bw.WriteByte(' ')
	bw.WriteString(formatFloat(s.Value))
	bw.WriteByte('\n')
}

// The text format's escapes: a HELP text escapes backslash and newline, a
// label value also the double quote.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// formatFloat formats a sample's value as expfmt does: +Inf, -Inf, NaN, 0 for
// both zeros, else the shortest 'g' form that reads back the same.
func formatFloat(f float64) string {
	switch {
	case f == 0:
		return "0" // also -0, as expfmt writes it
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

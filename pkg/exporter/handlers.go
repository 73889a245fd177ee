package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/report"
)

// probeOutput checks a probe's format= and debug=, and says whether a trace
// was asked for: a misspelt one is a bad request, not metrics in silence.
func probeOutput(q url.Values) (debug bool, err error) {
	if f := q.Get("format"); f != "" && f != "json" {
		return false, fmt.Errorf("format %q: use json (the JSON document), or leave it out for metrics", f)
	}
	if d := q.Get("debug"); d != "" {
		if debug, err = strconv.ParseBool(d); err != nil {
			return false, fmt.Errorf("debug %q: use true (a text trace) or false", d)
		}
	}
	return debug, nil
}

// handleProbe is GET /probe?target=T&module=M: one target checked with the
// module's lists, answered as that target's metrics (&format=json: the JSON
// document of -o json; &debug=true: a plain-text trace). A slow list never
// makes it fail: when the budget runs out it answers what it knows, with
// blcheck_probe_success 0.
func (s *Server) handleProbe(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := r.URL.Query()
	cur := s.current()
	module := q.Get("module")
	if module == "" {
		module = "default"
	}
	m := cur.cfg.Modules[module]
	if m == nil {
		// a stranger's module name is no label value: the series stay bounded
		s.probes.WithLabelValues("unknown", "bad_request").Inc()
		http.Error(w, fmt.Sprintf("unknown module %q (the configuration has %v)", module, cur.cfg.ModuleNames()), http.StatusBadRequest)
		return
	}
	debug, err := probeOutput(q)
	if err != nil {
		s.probes.WithLabelValues(module, "bad_request").Inc()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	input := q.Get("target")
	if input == "" {
		s.probes.WithLabelValues(module, "bad_request").Inc()
		http.Error(w, "target parameter is missing (an address, a range, a domain, a URL or an e-mail address)", http.StatusBadRequest)
		return
	}
	t, err := dnsbl.ParseTarget(input)
	if err != nil {
		s.probes.WithLabelValues(module, "bad_request").Inc()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	input = t.Input // a URL's user and password are not logged, listed or labelled
	if !cur.cfg.Allows(t) {
		s.probes.WithLabelValues(module, "refused").Inc()
		s.log.Warn("probe refused: target outside allow", "target", input, "module", module, "remote", r.RemoteAddr)
		http.Error(w, fmt.Sprintf("target %q is outside the configuration's allow: list", input), http.StatusForbidden)
		return
	}
	if !m.rangeAllowed(t) {
		s.probes.WithLabelValues(module, "bad_request").Inc()
		http.Error(w, fmt.Sprintf("range %s is larger than module %s allows (max_range /%d)", t.Prefix, module, m.MaxRange),
			http.StatusBadRequest)
		return
	}
	if m.MX != nil && !*m.MX {
		t.NoMX = true
	}
	d := budget(r, m)
	short := s.tooShort(module, m, d)
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	res, err := s.check(ctx, module, t)
	if res == nil {
		s.probes.WithLabelValues(module, "error").Inc()
		http.Error(w, "the check could not run: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	names := map[string]*catalog.List{}
	for _, l := range res.Lists {
		names[l.List.ID] = l.List
	}
	view := &report.View{Result: res, Resolvers: s.opts.Servers, Names: names}
	view.Decide(true) // the one verdict: outcome label, probe_success, JSON exit_code, trace
	if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
		view.Interrupt() // out of time: what was answered is said, and success is 0
	}
	out := view.Verdict.Outcome.String()
	s.probes.WithLabelValues(module, out).Inc()
	s.probeSeconds.WithLabelValues(module).Observe(time.Since(start).Seconds())
	s.queries.Add(float64(res.Queries))
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			s.checks.WithLabelValues(c.List.ID, string(c.Status)).Inc()
		}
	}
	s.remember(probeRecord{At: start, Target: input, Module: module, Outcome: out, Duration: res.Elapsed.Round(time.Millisecond), Queries: res.Queries})
	s.log.Info("probe", "target", input, "module", module, "outcome", out, "duration", res.Elapsed.Round(time.Millisecond),
		"queries", res.Queries)

	reg := prometheus.NewRegistry()
	if err := registerProbe(reg, view); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	answerProbe(w, r, probeAnswer{json: q.Get("format") == "json", debug: debug, input: input, module: module,
		outcome: out, view: view, reg: reg, short: short})
}

// probeAnswer is what a probe answers with.
type probeAnswer struct {
	json, debug            bool // &format=json, &debug=true
	input, module, outcome string
	short                  string // why the probe's time was too short, if it was
	view                   *report.View
	reg                    *prometheus.Registry
}

// answerProbe writes a probe's answer: its metrics, the JSON document or the
// text trace.
func answerProbe(w http.ResponseWriter, r *http.Request, a probeAnswer) {
	view, res := a.view, a.view.Result
	switch {
	case a.json:
		w.Header().Set("Content-Type", "application/json")
		_ = report.WriteJSON(w, report.NewDocument(view))
	case a.debug:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Probe of %s with module %s: %s in %s, %d DNS queries sent (answers still in the cache are not asked again)\n\n",
			a.input, a.module, a.outcome, res.Elapsed.Round(time.Millisecond), res.Queries)
		if a.short != "" {
			fmt.Fprintf(w, "%s\n\n", a.short)
		}
		text, _ := report.Lookup("text")
		_ = text(w, view, report.Options{Probe: true}) // a client gone away is not an error of the probe
		fmt.Fprintf(w, "\nMetrics that would have been returned:\n\n")
		families, err := a.reg.Gather()
		if err == nil {
			enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
			for _, f := range families {
				_ = enc.Encode(f)
			}
		}
	default:
		promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	}
}

var landing = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>blcheck exporter</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}</style></head>
<body><h1>blcheck exporter</h1>
<p>Version {{.Version}}. Is a mail server, domain or newsletter on a DNS blacklist? Probe it:
<code>/probe?target=192.0.2.1&amp;module=default</code> (add <code>&amp;debug=true</code> for a trace,
<code>&amp;format=json</code> for reasons and delisting links).</p>
<p><a href="/metrics">Exporter metrics</a> · <a href="/-/healthy">Health</a> · <a href="/-/ready">Readiness</a></p>
<h2>Modules</h2>
<table><tr><th>Module</th><th>Lists</th><th>MX</th><th>SPF</th><th>NS</th><th>Largest range</th><th>Timeout</th></tr>
{{range .Modules}}<tr><td>{{.Name}}</td><td>{{.Lists}}</td><td>{{.MX}}</td><td>{{.SPF}}</td><td>{{.NS}}</td><td>/{{.MaxRange}}</td><td>{{.Timeout}}</td></tr>
{{end}}</table>
<p>Probes are accepted for: {{.Allow}}.</p>
<p>Lists are asked through {{.Resolvers}}.</p>
<h2>Recent probes</h2>
<table><tr><th>When</th><th>Target</th><th>Module</th><th>Outcome</th><th>Took</th><th>DNS queries</th></tr>
{{range .Recent}}<tr><td>{{.At.Format "2006-01-02 15:04:05"}}</td><td><a href="/probe?target={{.Target}}&amp;module={{.Module}}&amp;debug=true">{{.Target}}</a></td><td>{{.Module}}</td><td>{{.Outcome}}</td><td>{{.Took}}</td><td>{{.Queries}}</td></tr>
{{else}}<tr><td colspan="6">none yet</td></tr>{{end}}</table>
</body></html>
`))

type moduleRow struct {
	Name, Lists string
	MX, SPF, NS bool
	MaxRange    int
	Timeout     time.Duration
}

func (s *Server) handleLanding(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	cur := s.current()
	var rows []moduleRow
	for _, name := range cur.cfg.ModuleNames() {
		m := cur.cfg.Modules[name]
		var ids bytes.Buffer
		for i, l := range m.lists {
			if i > 0 {
				ids.WriteString(", ")
			}
			ids.WriteString(l.ID)
		}
		rows = append(rows, moduleRow{Name: name, Lists: ids.String(), MX: m.MX == nil || *m.MX, SPF: m.SPF, NS: m.NS,
			MaxRange: int(m.MaxRange), Timeout: time.Duration(m.Timeout)})
	}
	allow := "nothing"
	if len(cur.cfg.Allow) > 0 {
		allow = fmt.Sprint(cur.cfg.Allow)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	resolvers := "the system's resolver"
	if len(s.opts.Servers) > 0 {
		resolvers = strings.Join(s.opts.Servers, ", ")
	}
	_ = landing.Execute(w, map[string]any{"Version": s.opts.Version, "Modules": rows, "Allow": allow, "Resolvers": resolvers,
		"Recent": s.recentProbes()})
}

package report

import (
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// The HELP text of each family blcheck exports, for `blcheck serve` and
// `-o prometheus` alike (README: "Metrics").
const (
	helpSuccess = "1 when the check is complete (every list answered, none refused, none unhealthy, " +
		"the resolver trusted, in time); 0 when something could not be checked. Alert on it apart from listings."
	helpListed   = "1 when the target (any of its addresses or its domain) is listed on at least one blacklist, else 0."
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
		"(the list publishes no test point: its answers are unconfirmed)."
	helpRewrites = "1 when the resolver invents answers for names that do not exist (rewrites NXDOMAIN): no " +
		"blacklist answer through it can be trusted."
	helpLastRun = "When blcheck last wrote these metrics, as a Unix time in seconds."
)

// RegisterProbe registers one probe's metrics with reg: the view is one probe
// of one target, and blcheck_probe_success says whether its verdict (also its
// JSON exit_code and its outcome label) is complete.
func RegisterProbe(reg prometheus.Registerer, v *View) error {
	return registerMetrics(reg, v, false)
}

// registerMetrics registers a view's metrics with reg. With targetLabel, the
// families that describe one target carry a `target` label (`-o prometheus`,
// which checks several), and each target's success is its own, by the strict
// rule; without it the view is one probe, and its success is its verdict's.
func registerMetrics(reg prometheus.Registerer, v *View, targetLabel bool) error {
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
	for _, l := range res.Lists { // an unhealthy list's checks are unreliable, which clears success
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
		complete := v.Verdict.Complete // one probe: its verdict, as its JSON exit_code and outcome say
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

// renderPrometheus writes a view in the Prometheus text format, for
// node_exporter's textfile collector (`-o prometheus`): every target's
// families with a `target` label, and when the run ended (Options.Now).
func renderPrometheus(w io.Writer, v *View, o Options) error {
	reg := prometheus.NewPedanticRegistry()
	if err := registerMetrics(reg, v, true); err != nil {
		return err
	}
	last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "blcheck_last_run_timestamp_seconds", Help: helpLastRun})
	last.Set(float64(o.Now.UnixNano()) / 1e9)
	reg.MustRegister(last)
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

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

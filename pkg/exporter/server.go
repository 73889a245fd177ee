package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// Options configure a Server.
type Options struct {
	// ConfigFile is the configuration's path; without one, Allow names what
	// /probe may check and the catalog's default lists are module "default".
	ConfigFile string
	Allow      []string
	Catalog    *catalog.Catalog
	Resolver   *resolver.Client
	Servers    []string // the resolver's addresses, as shown
	// Rate bounds each module's queries per second to each list (0: no
	// limit). The queries in flight are bounded by the resolver's window,
	// which every module shares.
	Rate float64
	// HealthTTL is how long the lists' health stands (0: dnsbl.DefaultHealthTTL;
	// ProveEveryProbe: asked again by every probe). Whatever it is, a listing
	// and a change of a verdict are confirmed by the list's test points asked
	// after the answer came.
	HealthTTL time.Duration
	// Direct is when the lists are asked at their own name servers, for the
	// modules that do not say (direct:); Iterator finds those servers, one
	// delegation cache for every module. Iterator is required when any module
	// asks directly.
	Direct   dnsbl.DirectMode
	Iterator *resolver.Iterator
	// QueryTime is the longest one DNS query may take, its retries included
	// (0: not known). A probe with less time than that cuts short a list or a
	// resolver that stops answering in every probe, so that it is never found
	// dead: the exporter says so in its log and in the probe's trace.
	QueryTime time.Duration
	// Now is the clock of the health TTL, for tests; nil means time.Now.
	Now     func() time.Time
	Getenv  func(string) string
	Logger  *slog.Logger
	Version string
}

// ProveEveryProbe is the HealthTTL under which every probe asks the lists' test
// points again (--health-ttl 0).
const ProveEveryProbe time.Duration = -1

// ScrapeMargin is taken off Prometheus's scrape timeout to leave time for the
// answer to travel back.
const ScrapeMargin = 500 * time.Millisecond

// Server is the exporter: its handlers, its configuration and a long-lived
// Checker per module.
type Server struct {
	opts Options
	log  *slog.Logger

	mu  sync.RWMutex
	cur *loaded

	reg                  *prometheus.Registry
	probes               *prometheus.CounterVec
	probeSeconds         *prometheus.HistogramVec
	queries              prometheus.Counter
	checks               *prometheus.CounterVec
	reloadOK, reloadTime prometheus.Gauge

	recentMu sync.Mutex
	recent   []probeRecord // newest last, at most maxRecent

	shortSaid sync.Map     // "module budget" -> true: a probe's time said short once
	shortN    atomic.Int64 // entries of shortSaid, at most maxShortSaid

	started   time.Time
	closeOnce sync.Once
	closed    chan struct{}
}

// loaded is one configuration and the Checkers made for it.
type loaded struct {
	cfg      *Config
	checkers map[string]*dnsbl.Checker
	at       time.Time
}

type probeRecord struct {
	At       time.Time
	Target   string
	Module   string
	Outcome  string
	Duration time.Duration
	Queries  int
}

const maxRecent = 20

// Took is how long the probe took, as the status page shows it: a probe
// answered from the cache in microseconds took "<1ms", not "0s".
func (p probeRecord) Took() string {
	if p.Duration < time.Millisecond {
		return "<1ms"
	}
	return p.Duration.String()
}

// New loads the configuration and makes the Checkers. A bad configuration is
// an error that names the file and what is wrong.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		return nil, errors.New("exporter: Options.Getenv is not set")
	}
	switch {
	case o.HealthTTL == 0:
		o.HealthTTL = dnsbl.DefaultHealthTTL
	case o.HealthTTL < 0:
		o.HealthTTL = 0 // the Checker's "check in every call"
	}
	s := &Server{opts: o, log: o.Logger, started: time.Now(), closed: make(chan struct{})}
	cur, err := s.load()
	if err != nil {
		return nil, err
	}
	s.cur = cur
	s.warnKeys(cur.cfg)
	s.warnTimeouts(cur.cfg)
	s.metrics()
	s.reloadOK.Set(1)
	s.reloadTime.Set(float64(cur.at.Unix()))
	return s, nil
}

func (s *Server) load() (*loaded, error) {
	var cfg *Config
	var err error
	if s.opts.ConfigFile != "" {
		cfg, err = LoadConfig(s.opts.ConfigFile, s.opts.Catalog, s.opts.Getenv)
	} else {
		cfg, err = Default(s.opts.Allow, s.opts.Catalog, s.opts.Getenv)
	}
	if err != nil {
		return nil, err
	}
	l := &loaded{cfg: cfg, checkers: map[string]*dnsbl.Checker{}, at: time.Now()}
	for _, name := range cfg.ModuleNames() {
		m := cfg.Modules[name]
		direct := s.opts.Direct
		if m.direct != nil {
			direct = *m.direct
		}
		ck, err := dnsbl.New(dnsbl.Options{Lists: m.lists, Resolver: s.opts.Resolver,
			Rate: s.opts.Rate, SPF: m.SPF, NS: m.NS, PTR: m.PTR, TXT: dnsbl.TXTListed, HealthTTL: s.opts.HealthTTL, Now: s.opts.Now,
			Direct: direct, Iterator: s.opts.Iterator})
		if err != nil {
			l.close()
			return nil, fmt.Errorf("module %s: %v", name, err)
		}
		l.checkers[name] = ck
	}
	return l, nil
}

// warnKeys says, once per configuration, which lists a module names that need
// an account key the exporter's environment does not hold: their checks are
// skipped in every probe, which a probe's trace says but nobody reads until
// the listing they would have seen is missed.
func (s *Server) warnKeys(cfg *Config) {
	for _, name := range cfg.ModuleNames() {
		m := cfg.Modules[name]
		if len(m.Lists) == 0 {
			continue // the default lists: a keyed one is there for those who set its key
		}
		for _, l := range m.lists {
			if l.NeedsKey() {
				s.log.Warn("a list the module names needs an account key that is not set: it is never asked",
					"module", name, "list", l.ID, "env", l.Key.Env)
			}
		}
	}
}

// warnTimeouts says, once per configuration, which modules' timeout is shorter
// than one DNS query may take.
func (s *Server) warnTimeouts(cfg *Config) {
	for _, name := range cfg.ModuleNames() {
		if d := time.Duration(cfg.Modules[name].Timeout); s.opts.QueryTime > 0 && d < s.opts.QueryTime {
			s.log.Warn("a module's timeout is shorter than one DNS query may take: "+shortWhy,
				"module", name, "timeout", d, "query_time", s.opts.QueryTime)
		}
	}
}

// maxShortSaid bounds the lengths of probe a Server says are short (tooShort).
const maxShortSaid = 16

// shortWhy is what a probe shorter than one DNS query costs.
const shortWhy = "a list or resolver that stops answering is cut short in every probe and never found dead " +
	"(no-answer), so the alerts on a dead list or a dead resolver cannot fire"

// tooShort says, for a probe that has less time than one DNS query may take,
// why that matters and what to change ("" when it has enough). It logs that
// once per module and length of time (the first maxShortSaid), not in every
// probe.
func (s *Server) tooShort(module string, m *Module, d time.Duration) string {
	q := s.opts.QueryTime
	if q <= 0 || d >= q {
		return ""
	}
	fix := fmt.Sprintf("give the module a timeout of at least %s", q)
	if d < time.Duration(m.Timeout) {
		fix = fmt.Sprintf("raise Prometheus's scrape_timeout to at least %s (the probe gets it less %s)", q+ScrapeMargin, ScrapeMargin)
	}
	// at most maxShortSaid lengths said: a client that sends a new scrape
	// timeout with each probe grows neither the map nor the log without end
	if s.shortN.Load() < maxShortSaid {
		if _, said := s.shortSaid.LoadOrStore(module+" "+d.String(), true); !said {
			s.shortN.Add(1)
			s.log.Warn("a probe has less time than one DNS query may take: "+shortWhy+"; "+fix,
				"module", module, "probe_time", d, "query_time", q)
		}
	}
	return fmt.Sprintf("This probe had %s, less than one DNS query may take (%s, its retries included): %s; %s.",
		d, q, shortWhy, fix)
}

func (l *loaded) close() {
	for _, ck := range l.checkers {
		_ = ck.Close()
	}
}

// Reload reads the configuration again. On failure the old one stays in use
// and the error says why.
func (s *Server) Reload() error {
	next, err := s.load()
	if err != nil {
		s.reloadOK.Set(0)
		s.log.Error("reload failed; the previous configuration stays in use", "err", err)
		return err
	}
	s.mu.Lock()
	old := s.cur
	s.cur = next
	s.mu.Unlock()
	s.reloadOK.Set(1)
	s.reloadTime.Set(float64(next.at.Unix()))
	s.log.Info("configuration reloaded", "modules", len(next.checkers))
	s.warnKeys(next.cfg)
	s.warnTimeouts(next.cfg)
	go old.close() // waits for the probes still using it
	return nil
}

// Close stops the Checkers (after the probes in progress).
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.mu.RLock()
		cur := s.cur
		s.mu.RUnlock()
		cur.close()
	})
}

func (s *Server) current() *loaded {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

// Handler returns the exporter's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/probe", s.handleProbe)
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy.") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-s.closed:
			http.Error(w, "Shutting down.", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "Ready.")
		}
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "reload takes POST", http.StatusMethodNotAllowed)
			return
		}
		if err := s.Reload(); err != nil {
			http.Error(w, "reload failed, the previous configuration stays in use: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded.")
	})
	mux.HandleFunc("/", s.handleLanding)
	return mux
}

// metrics makes the exporter's own registry (/metrics).
func (s *Server) metrics() {
	s.reg = prometheus.NewRegistry()
	s.probes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blcheck_exporter_probes_total",
		Help: "Probes answered, by module and outcome: clean, listed, incomplete, interrupted (out of time), " +
			"or refused (403: outside allow) and bad_request (400)."}, []string{"module", "outcome"})
	s.probeSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "blcheck_exporter_probe_duration_seconds",
		Help: "How long probes took, by module.", Buckets: []float64{.005, .025, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"module"})
	s.queries = prometheus.NewCounter(prometheus.CounterOpts{Name: "blcheck_exporter_probe_dns_queries_total",
		Help: "DNS queries that probes sent to the resolver (answers from the TTL cache are not counted)."})
	s.checks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blcheck_exporter_checks_total",
		Help: "Checks made by probes, by list and status."}, []string{"list", "status"})
	s.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "blcheck_exporter_config_last_reload_successful",
		Help: "1 when the last configuration reload worked, 0 when it failed (the previous one is in use)."})
	s.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "blcheck_exporter_config_last_reload_success_timestamp_seconds",
		Help: "When the configuration was last loaded, as a Unix time in seconds."})
	stats := func(f func(resolver.Stats) int64) func() float64 {
		return func() float64 { return float64(f(s.opts.Resolver.Stats())) }
	}
	s.reg.MustRegister(s.probes, s.probeSeconds, s.queries, s.checks, s.reloadOK, s.reloadTime,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "blcheck_exporter_dns_cache_hits_total",
			Help: "Lookups answered from the resolver cache (kept no longer than each answer's TTL)."},
			stats(func(st resolver.Stats) int64 { return st.Hits })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "blcheck_exporter_dns_shared_total",
			Help: "Lookups that joined an identical query already in flight instead of sending their own."},
			stats(func(st resolver.Stats) int64 { return st.Shared })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "blcheck_exporter_dns_queries_total",
			Help: "DNS queries sent to the resolver, health probes included."},
			stats(func(st resolver.Stats) int64 { return st.Sent })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blcheck_exporter_build_info",
			Help:        "1, with the exporter's version and Go version as labels.",
			ConstLabels: prometheus.Labels{"version": s.opts.Version, "goversion": runtime.Version()}},
			func() float64 { return 1 }),
		catalogInfo{s},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
}

// catalogInfo is blcheck_exporter_list_info: which lists each module of the
// configuration in use checks.
type catalogInfo struct{ s *Server }

var listInfoDesc = prometheus.NewDesc("blcheck_exporter_list_info",
	"1 for each list a module checks, with the list's name.", []string{"module", "list", "name"}, nil)

func (c catalogInfo) Describe(ch chan<- *prometheus.Desc) { ch <- listInfoDesc }

func (c catalogInfo) Collect(ch chan<- prometheus.Metric) {
	cur := c.s.current()
	for _, name := range cur.cfg.ModuleNames() {
		for _, l := range cur.cfg.Modules[name].lists {
			ch <- prometheus.MustNewConstMetric(listInfoDesc, prometheus.GaugeValue, 1, name, l.ID, l.Name)
		}
	}
}

// budget is how long a probe may take: the module's timeout, or Prometheus's
// scrape timeout less ScrapeMargin when that is shorter. A header that is no
// positive number, or longer than the module's timeout plus the margin (1e300,
// +Inf), leaves the module's timeout: it is compared before it is turned into
// a Duration, which it would overflow. A header equal to the module's timeout
// (Prometheus's default 10s, and the module's) still takes the margin off.
func budget(r *http.Request, m *Module) time.Duration {
	d := time.Duration(m.Timeout)
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs < (d+ScrapeMargin).Seconds() {
			scrape := time.Duration(secs * float64(time.Second))
			if scrape > 2*ScrapeMargin {
				scrape -= ScrapeMargin
			} else {
				scrape -= scrape / 4
			}
			d = min(d, scrape)
		}
	}
	return d
}

func (s *Server) remember(p probeRecord) {
	s.recentMu.Lock()
	defer s.recentMu.Unlock()
	s.recent = append(s.recent, p)
	if len(s.recent) > maxRecent {
		s.recent = append(s.recent[:0], s.recent[len(s.recent)-maxRecent:]...)
	}
}

func (s *Server) recentProbes() []probeRecord {
	s.recentMu.Lock()
	defer s.recentMu.Unlock()
	out := make([]probeRecord, len(s.recent))
	for i, p := range s.recent {
		out[len(s.recent)-1-i] = p // newest first
	}
	return out
}

// check runs one probe's check on the module's Checker, on the configuration
// in use when it starts (a reload in between is retried on the new one).
func (s *Server) check(ctx context.Context, module string, t dnsbl.Target) (*dnsbl.Result, error) {
	for range 2 {
		ck := s.current().checkers[module]
		if ck == nil {
			return nil, fmt.Errorf("module %q is gone (the configuration was reloaded)", module)
		}
		res, err := ck.Check(ctx, t)
		if !errors.Is(err, dnsbl.ErrClosed) {
			return res, err
		}
	}
	return nil, dnsbl.ErrClosed
}

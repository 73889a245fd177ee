package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/exporter"
)

// The exporter lives in the one blcheck binary, and so every run pays the
// package init of client_golang, exporter-toolkit and what they import: about
// 2.4 ms (`blcheck version` takes 7.7 ms with them, 5.3 ms in a build without
// serve). Go runs the init of every linked package, so the only ways out are
// a second binary that `blcheck serve` would exec (and a Prometheus encoder of
// our own for -o prometheus), or no client_golang and TLS and basic auth by
// hand. Both cost users more than 2.4 ms a run saves: one `go install`, one
// package, one image entrypoint, and maintained code for the exporter.

// serveOptions are the flags of `blcheck serve`.
type serveOptions struct {
	catalogOptions
	resolverOptions
	listen    []string
	config    string
	allow     []string
	webConfig string
	healthTTL time.Duration
	logFormat string
}

const serveLong = `blcheck serve is a Prometheus exporter in the multi-target pattern (as
blackbox_exporter): Prometheus asks /probe?target=T&module=M, and blcheck checks
that one target with the module's lists and answers its metrics.

  /probe?target=T&module=M   one target's metrics (&debug=true: a trace;
                             &format=json: the JSON document, with reasons and
                             delisting links, which are never labels)
  /metrics                   the exporter's own metrics
  /                          modules, lists and recent probes
  /-/healthy, /-/ready       for orchestrators
  /-/reload (POST), SIGHUP   read the configuration again

Answers are cached for their DNS TTL and the lists' health for --health-ttl, so
Prometheus servers scraping the same target every 15 s do not multiply the
queries sent to the lists. A listing, and any change of a verdict (listed to
clean, clean to listed), is reported only once the list has answered its own
test points correctly after the answer came (those queries are shared between
probes); until then the check is unreliable, so a list that starts lying or
dies raises no alarm. A list that publishes no test point is untested: its
answers are unconfirmed. /probe checks only what the configuration's allow:
names (or --allow without one): anything else is HTTP 403, so strangers cannot
spend your list quota.

It listens on ` + exporter.DefaultListen + ` (loopback) unless --listen says otherwise; to
expose it, name an address deliberately (--listen :10532) and protect it with
--web.config.file (TLS and basic auth, the exporter-toolkit format).

EXIT STATUS
  0  stopped by SIGINT or SIGTERM
  2  bad flags or configuration: nothing was started
  3  the server could not listen or failed`

func newServeCmd(s *streams) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--config FILE] [flags]",
		Short: "Run the Prometheus exporter (multi-target /probe, /metrics)",
		Long:  serveLong,
		Example: `  blcheck serve --config /etc/blcheck/blcheck.yml
  blcheck serve --allow 192.0.2.0/24 --allow example.org -r 127.0.0.1
  curl '127.0.0.1:10532/probe?target=192.0.2.10&debug=true'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), s, o) },
	}
	cmd.SetFlagErrorFunc(flagError)
	o.catalogOptions.addFlags(cmd)
	o.resolverOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&o.listen, "listen", []string{exporter.DefaultListen}, "`ADDR` to listen on, repeatable")
	f.StringVar(&o.config, "config", "", "the exporter's configuration `FILE` (modules and allow:, YAML)")
	f.StringArrayVar(&o.allow, "allow", nil, "without --config: a `CIDR_OR_DOMAIN` that /probe may check, repeatable (any opens it)")
	f.StringVar(&o.webConfig, "web.config.file", "", "TLS and basic auth configuration `FILE` (exporter-toolkit format)")
	f.DurationVar(&o.healthTTL, "health-ttl", 5*time.Minute, "how long a list's health check stands before it is asked again (0: in every probe); "+
		"a listing and a change of verdict are confirmed by the list's test points whatever it is")
	f.IntVar(&o.cacheSize, "cache-size", exporter.DefaultCacheSize, "DNS answers kept in the cache (the least recently used make room when it is full)")
	f.StringVar(&o.logFormat, "log.format", "logfmt", "log format on stderr: logfmt or json")
	return cmd
}

func runServe(ctx context.Context, s *streams, o *serveOptions) error {
	if err := o.resolverOptions.validate(); err != nil {
		return err
	}
	if err := o.prepareDirect(s); err != nil {
		return err
	}
	switch {
	case o.config != "" && (len(o.allow) > 0 || len(o.only) > 0 || len(o.exclude) > 0):
		return usagef("--allow, --list and --exclude are for serving without --config: the configuration file has allow: and each module's lists")
	case o.config == "" && len(o.only)+len(o.exclude) > 0:
		return usagef("--list and --exclude: give the lists in a configuration file's modules (--config); without one, the default lists are module default")
	case o.config == "" && len(o.allow) == 0:
		return usagef("serve needs to know what /probe may check: --config FILE (with modules: and allow:, see contrib/blcheck.yml), " +
			"or --allow CIDR_OR_DOMAIN (repeatable; --allow any opens it to every target)")
	case o.healthTTL < 0:
		return usagef("--health-ttl %s: give a duration, such as 5m, or 0 to ask the test points in every probe", o.healthTTL)
	case o.cacheSize < 1:
		return usagef("--cache-size %d: give a number of answers, at least 1", o.cacheSize)
	case o.logFormat != "logfmt" && o.logFormat != "json":
		return usagef("--log.format %q: use logfmt or json", o.logFormat)
	}
	if o.webConfig != "" {
		if _, err := os.Stat(o.webConfig); err != nil {
			return usagef("--web.config.file %s: %v", o.webConfig, pathError(err))
		}
	}
	cat, err := o.catalogOptions.load(s)
	if err != nil {
		return err
	}
	getenv, err := o.keyEnv(cat, s)
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(s.err, nil)
	if o.logFormat == "json" {
		handler = slog.NewJSONHandler(s.err, nil)
	}
	logger := slog.New(handler)
	client, servers, err := o.client(s)
	if err != nil {
		return err
	}
	defer client.Close()
	// one walk and one delegation cache for every module; it sends nothing
	// unless a module asks a list directly
	it, err := o.newIterator()
	if err != nil {
		return err
	}
	defer it.Close()
	healthTTL := o.healthTTL
	if healthTTL == 0 {
		healthTTL = exporter.ProveEveryProbe
	}
	srv, err := exporter.New(exporter.Options{ConfigFile: o.config, Allow: o.allow, Catalog: cat, Resolver: client,
		Servers: servers, Rate: o.rate, HealthTTL: healthTTL, Getenv: getenv, Direct: o.mode, Iterator: it,
		Logger: logger, Version: versionString()})
	if err != nil {
		return &usageError{err}
	}
	defer srv.Close()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			_ = srv.Reload() // a failure is logged, and the old configuration kept
		}
	}()
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() {
		logger.Info("blcheck serve starting", "version", versionString(), "listen", o.listen, "resolver", servers)
		flags := &web.FlagConfig{WebListenAddresses: &o.listen, WebConfigFile: &o.webConfig}
		errc <- web.ListenAndServe(httpSrv, flags, logger)
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %v", err)
	case <-ctx.Done():
		logger.Info("stopping")
		shut, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if httpSrv.Shutdown(shut) != nil {
			_ = httpSrv.Close() // probes still running end with their connections, so Close below does not wait on them
		}
		return nil
	}
}

// Command blcheck-serve is blcheck's Prometheus exporter: `blcheck serve`
// runs it, with the same flags (blcheck-serve --help). It is a binary of its
// own so that the blcheck command line does not link the Prometheus libraries,
// whose package init every run would pay.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/blcheck/blcheck/internal/cli"
	"github.com/blcheck/blcheck/pkg/exporter"
)

func main() {
	// A SIGHUP before serve listens for it (systemd's reload right after the
	// start) would end the exporter; until then there is nothing to reload.
	// One that comes before main, in the runtime's start, still ends it.
	signal.Ignore(syscall.SIGHUP)
	cli.Main(serve, "serve")
}

// serve runs the exporter until ctx ends (SIGINT, SIGTERM); SIGHUP reads its
// configuration again.
func serve(ctx context.Context, c cli.ExporterConfig) error {
	// exporter-toolkit reads the web configuration only when it listens: a
	// mistake in it (a missing certificate, a password that is no bcrypt
	// hash, a misspelt key) would be a failure to serve, exit 3, found after
	// the exporter was made; it is a configuration error, exit 2, found first
	if err := web.Validate(c.WebConfigFile); err != nil {
		return cli.UsageError(fmt.Errorf("--web.config.file %s: %v", c.WebConfigFile, err))
	}
	healthTTL := c.HealthTTL
	if healthTTL == 0 {
		healthTTL = exporter.ProveEveryProbe
	}
	srv, err := exporter.New(exporter.Options{ConfigFile: c.ConfigFile, Allow: c.Allow, Catalog: c.Catalog,
		Resolver: c.Resolver, Servers: c.Servers, Rate: c.Rate, HealthTTL: healthTTL, Getenv: c.Getenv,
		Direct: c.Direct, Iterator: c.Iterator, QueryTime: c.QueryTime, Logger: c.Logger, Version: c.Version})
	if err != nil {
		return cli.UsageError(err)
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
	httpSrv := httpServer(srv.Handler())
	errc := make(chan error, 1)
	go func() {
		c.Logger.Info("blcheck serve starting", "version", c.Version, "listen", c.Listen, "resolver", c.Servers)
		flags := &web.FlagConfig{WebListenAddresses: &c.Listen, WebConfigFile: &c.WebConfigFile}
		errc <- web.ListenAndServe(httpSrv, flags, c.Logger)
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %v", err)
	case <-ctx.Done():
		c.Logger.Info("stopping")
		shut, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if httpSrv.Shutdown(shut) != nil {
			_ = httpSrv.Close() // probes still running end with their connections, so Close below does not wait on them
		}
		return nil
	}
}

// httpServer is the exporter's HTTP server. Its write timeout, counted from
// the request's arrival, outlasts the longest probe a module may take
// (exporter.MaxTimeout): a probe of a module with a timeout of 3m answered
// nothing at all under a write timeout of 2m, where it should answer what it
// knows with blcheck_probe_success 0.
func httpServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: exporter.MaxTimeout + time.Minute, IdleTimeout: 2 * time.Minute}
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// The exporter runs in a second binary, blcheck-serve (cmd/blcheck-serve), and
// `blcheck serve` runs it (execServe). Go runs the init of every package a
// binary links, and client_golang, exporter-toolkit and what they import
// (protobuf, procfs, yaml) cost every run about 2.4 ms before main: a third of
// `blcheck version`, and a CLI run that never serves has no use for them
// (issue #24). blcheck-serve is this same command line with the exporter
// linked in: cli.Main(exporter, "serve").

// serveListen is where `blcheck serve` listens unless told otherwise: loopback
// only, on a port of blcheck's own above the block Prometheus's "default port
// allocations" page hands out (9100-9999, full).
const serveListen = "127.0.0.1:10532"

// serveCacheSize is the number of DNS answers `blcheck serve` keeps unless
// told otherwise: a /23 probe on every default list (about 6,700 answers) fits
// several times over, so the targets probed every scrape stay cached through
// it. An answer takes a few hundred bytes: 64 Ki of them, some 20 MB.
const serveCacheSize = 1 << 16

// Exporter runs the exporter of `blcheck serve` until ctx ends, once the flags,
// the catalog and the resolver are ready. blcheck-serve passes one to Main;
// the blcheck binary passes none, and its serve runs blcheck-serve.
type Exporter func(ctx context.Context, c ExporterConfig) error

// ExporterConfig is what `blcheck serve` hands its Exporter.
type ExporterConfig struct {
	Listen        []string // --listen
	WebConfigFile string   // --web.config.file: TLS and basic auth ("" none)
	ConfigFile    string   // --config: modules and allow: ("" none)
	Allow         []string // --allow, without ConfigFile
	Catalog       *catalog.Catalog
	Resolver      *resolver.Client
	Servers       []string // the resolver's addresses, as shown
	Rate          float64  // queries per second to each list (0: no limit)
	// HealthTTL is how long the lists' health stands; 0: the test points are
	// asked in every probe.
	HealthTTL time.Duration
	Direct    dnsbl.DirectMode
	Iterator  *resolver.Iterator // finds the lists' own servers for Direct
	// QueryTime is the longest one DNS query may take: --timeout for each of
	// its 1 + --retries tries.
	QueryTime time.Duration
	Getenv    func(string) string
	Logger    *slog.Logger
	Version   string
}

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
	version   bool
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

It listens on ` + serveListen + ` (loopback) unless --listen says otherwise; to
expose it, name an address deliberately (--listen :10532) and protect it with
--web.config.file (TLS and basic auth, the exporter-toolkit format).

The exporter is a binary of its own, blcheck-serve, which blcheck serve runs
from blcheck's directory, else from PATH (--version says its version); it
takes the same flags, and can be run as blcheck-serve.

EXIT STATUS
  0  stopped by SIGINT or SIGTERM
  2  bad flags or configuration: nothing was started
  3  the server could not listen or failed, or blcheck-serve was not found`

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
		RunE: func(cmd *cobra.Command, _ []string) error {
			if s.exporter == nil {
				return execServe(cmd, s)
			}
			return runServe(cmd.Context(), s, o)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	o.catalogOptions.addFlags(cmd)
	o.resolverOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&o.listen, "listen", []string{serveListen}, "`ADDR` to listen on, repeatable")
	f.StringVar(&o.config, "config", "", "the exporter's configuration `FILE` (modules and allow:, YAML)")
	f.StringArrayVar(&o.allow, "allow", nil, "without --config: a `CIDR_OR_DOMAIN` that /probe may check, repeatable (any opens it)")
	f.StringVar(&o.webConfig, "web.config.file", "", "TLS and basic auth configuration `FILE` (exporter-toolkit format)")
	f.DurationVar(&o.healthTTL, "health-ttl", 5*time.Minute, "how long a list's health check stands before it is asked again (0: in every probe); "+
		"a listing and a change of verdict are confirmed by the list's test points whatever it is")
	f.IntVar(&o.cacheSize, "cache-size", serveCacheSize, "DNS answers kept in the cache (the least recently used make room when it is full)")
	f.StringVar(&o.logFormat, "log.format", "logfmt", "log format on stderr: logfmt or json")
	f.BoolVar(&o.version, "version", false, "print the version of the exporter, "+serveBinary+", and exit")
	return cmd
}

func runServe(ctx context.Context, s *streams, o *serveOptions) error {
	if o.version { // the exporter's own, which blcheck's may not be
		_, err := fmt.Fprintf(s.out, "%s %s\n", serveBinary, versionString())
		return err
	}
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
	for _, a := range o.listen {
		if err := listenAddr(a); err != nil {
			return usagef("--listen %q: %v", a, err)
		}
	}
	if o.webConfig != "" {
		if st, err := os.Stat(o.webConfig); err != nil {
			return usagef("--web.config.file %s: %v", o.webConfig, pathError(err))
		} else if !st.Mode().IsRegular() { // a FIFO would hold its reading, and the start, for ever
			return usagef("--web.config.file %s: not a regular file (%s)", o.webConfig, st.Mode().Type())
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
	return s.exporter(ctx, ExporterConfig{Listen: o.listen, WebConfigFile: o.webConfig, ConfigFile: o.config,
		Allow: o.allow, Catalog: cat, Resolver: client, Servers: servers, Rate: o.rate, HealthTTL: o.healthTTL,
		Direct: o.mode, Iterator: it, QueryTime: o.timeout * time.Duration(1+o.retries), Getenv: getenv, Logger: slog.New(handler), Version: versionString()})
}

// listenAddr checks a --listen address before anything starts: HOST:PORT
// (HOST an address, a name, or nothing for every address; PORT a number), or
// exporter-toolkit's vsock://CID:PORT.
func listenAddr(a string) error {
	if strings.HasPrefix(a, "vsock://") {
		return nil
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("not HOST:PORT (%v), such as 127.0.0.1:10532, [::1]:10532 or :10532", strings.TrimPrefix(err.Error(), "address "+a+": "))
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q is not a host", host)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// UsageError marks err as the user's (a configuration the exporter cannot use):
// blcheck reports it as a usage error, exit 2.
func UsageError(err error) error { return &usageError{err} }

// IsUsageError says whether err is one that blcheck reports as a usage error (exit 2).
func IsUsageError(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

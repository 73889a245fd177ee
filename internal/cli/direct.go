package cli

import (
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// The environment variables that set --direct's and --root-hints' defaults.
const (
	envDirect    = "BLCHECK_DIRECT"
	envRootHints = "BLCHECK_ROOT_HINTS"
)

// serverAddr is where the walk sends a name server's queries: nil for port 53;
// the CLI's tests point it at their loopback servers' ports.
var serverAddr func(netip.Addr) string

// defaultDirect is --direct's value when neither the flag nor BLCHECK_DIRECT
// gives one. The CLI's own tests set it to never (main_test.go): no test may
// ask the internet's root servers.
var defaultDirect = "auto"

// directOptions are the flags that say when the lists are asked at their own
// name servers (part of resolverOptions).
type directOptions struct {
	direct    string
	rootHints string
	// set by prepareDirect
	mode  dnsbl.DirectMode
	hints resolver.RootHints
}

func (o *directOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.direct, "direct", "", "`MODE` of asking the lists at their own name servers, found from the root: "+
		"auto (the default: a list that refuses the resolver is asked again directly), always, or never (only the resolver); "+
		"default from $"+envDirect)
	f.StringVar(&o.rootHints, "root-hints", "", "the root servers to start from, a named.root `FILE` as BIND and unbound read "+
		"(default from $"+envRootHints+", else IANA's, built in)")
}

// prepareDirect reads --direct and --root-hints, else their variables: a bad
// value is a usage error that names where it came from, before anything is asked.
func (o *directOptions) prepareDirect(s *streams) error {
	mode, from := o.direct, "--direct"
	if mode == "" {
		mode, from = s.getenv(envDirect), envDirect
	}
	if mode == "" {
		mode = defaultDirect
	}
	m, err := dnsbl.ParseDirectMode(mode)
	if err != nil {
		return usagef("%s: %v", from, err)
	}
	o.mode = m
	path, from := o.rootHints, "--root-hints"
	if path == "" {
		path, from = s.getenv(envRootHints), envRootHints
	}
	if path == "" || m == dnsbl.DirectNever {
		return nil
	}
	data, name, err := readBounded(s, path, resolver.MaxRootHintsSize, "root hints")
	if err != nil {
		return usagef("%s: %v", from, err)
	}
	if o.hints, err = resolver.ParseRootHints(data); err != nil {
		return usagef("%s %s: %v", from, name, err)
	}
	return nil
}

// iterator returns the walk to the lists' own servers, or nil with --direct never.
func (o *resolverOptions) iterator() (*resolver.Iterator, error) {
	if o.mode == dnsbl.DirectNever {
		return nil, nil
	}
	return o.newIterator()
}

// newIterator returns the walk to the lists' own servers, whatever --direct says.
func (o *resolverOptions) newIterator() (*resolver.Iterator, error) {
	return resolver.NewIterator(resolver.IteratorConfig{Hints: o.hints, Timeout: o.timeout, Retries: o.retries,
		ServerAddr: serverAddr})
}

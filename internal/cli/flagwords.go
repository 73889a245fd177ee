package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/blcheck/blcheck/pkg/resolver"
)

// flagError is every command's flag error function: a value a flag cannot take
// is said in blcheck's words, naming the flag and the value, and is a usage
// error (exit 2), as is every other flag error.
func flagError(_ *cobra.Command, err error) error {
	var ive *pflag.InvalidValueError
	if errors.As(err, &ive) {
		return usagef("%s %q: %s", flagName(ive.GetFlag()), ive.GetValue(), valueWhy(ive.GetFlag()))
	}
	return &usageError{err}
}

// flagName is how a message names a flag: --name, with its short form.
func flagName(f *pflag.Flag) string {
	if f.Shorthand != "" {
		return fmt.Sprintf("--%s (-%s)", f.Name, f.Shorthand)
	}
	return "--" + f.Name
}

// valueWhy says what values flag f takes, for a value it could not take.
func valueWhy(f *pflag.Flag) string {
	if f.Name == "deadline" { // a duration, or seconds as check_rbl's -t
		return "not a duration (e.g. 20s or 2m) or a number of seconds (e.g. 20), 0 or more"
	}
	switch f.Value.Type() {
	case "float64":
		return "not a number (e.g. 10 or 0.5)"
	case "int", "int64", "uint", "uint64":
		return "not a whole number"
	case "duration":
		return "not a duration: a number and a unit, e.g. 500ms, 5s or 2m"
	case "bool":
		return "use true or false"
	}
	return "not a value --" + f.Name + " takes"
}

// lookupTimeout bounds the system's lookup of a --resolver given by name.
const lookupTimeout = 5 * time.Second

// lookupHost resolves a --resolver host name through the system (s.lookup in
// tests), once, at start.
func lookupHost(ctx context.Context, s *streams, host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	if s.lookup != nil {
		return s.lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// parseResolver turns one --resolver value into host:port: an address as
// resolver.ParseServer reads it, or a host name resolved once through the
// system (its first IPv4 address, else its first IPv6 one).
func parseResolver(ctx context.Context, s *streams, v string) (string, error) {
	hp, perr := resolver.ParseServer(v)
	if perr == nil {
		return hp, nil
	}
	v = strings.TrimSpace(v)
	host, port := v, "53"
	if h, p, err := net.SplitHostPort(v); err == nil {
		host, port = h, p
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return "", usagef("--%v", perr) // an address ParseServer refused (broadcast, multicast...): no name to look up
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", usagef("--resolver %q: port %q is not a number from 1 to 65535", v, port)
	}
	if !plausibleHost(host) {
		return "", usagef("--resolver %q: not an address or a host name (HOST or HOST:PORT, e.g. 127.0.0.1, "+
			"[2001:db8::53]:53 or resolver.example.net:5353)", v)
	}
	addrs, err := lookupHost(ctx, s, host)
	if err != nil || len(addrs) == 0 {
		why := "it has no address"
		var de *net.DNSError
		switch {
		case errors.As(err, &de) && de.IsNotFound:
			why = "no such host"
		case errors.Is(err, context.DeadlineExceeded):
			why = fmt.Sprintf("no answer within %v", lookupTimeout)
		case err != nil:
			why = err.Error()
		}
		return "", usagef("--resolver %q: the system cannot resolve %s (%s): give the resolver's address", v, host, why)
	}
	best := addrs[0]
	for _, a := range addrs {
		if a.Unmap().Is4() {
			best = a
			break
		}
	}
	hp, err = resolver.ParseServer(net.JoinHostPort(best.Unmap().WithZone("").String(), port))
	if err != nil { // a name for a broadcast or multicast address is no resolver either
		return "", usagef("--resolver %q: %s is %s: %v", v, host, best, err)
	}
	return hp, nil
}

// plausibleHost says whether h can be a host name: labels of letters, digits,
// hyphens and underscores, the last of them not a number.
func plausibleHost(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	if _, err := strconv.Atoi(labels[len(labels)-1]); err == nil {
		return false // no top-level domain is a number: a mistyped address (999.1.1.1), not a name to look up
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

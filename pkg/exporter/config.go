// Package exporter is `blcheck serve`: a Prometheus exporter in the
// multi-target pattern (blackbox_exporter's /probe), built on one long-lived
// dnsbl.Checker per module. It uses client_golang for the registries and the
// exposition, and leaves TLS and basic auth to exporter-toolkit.
package exporter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// Config is the exporter's configuration file (YAML, strict: an unknown key is
// an error, as in the catalog).
type Config struct {
	// Modules are the sets of lists and options a probe names with &module=.
	Modules map[string]*Module `yaml:"modules"`
	// Allow is what /probe may check: CIDRs, and domains with their
	// subdomains. Anything else is refused (HTTP 403), so that strangers cannot
	// spend the operator's list quota. [any] opens it, deliberately.
	Allow []string `yaml:"allow"`

	allowAny bool
	prefixes []netip.Prefix
	domains  []string
}

// Module is one named way of checking.
type Module struct {
	Lists   []string `yaml:"lists"`   // ids or zones; empty means the catalog's default lists
	Exclude []string `yaml:"exclude"` // ids or zones left out
	MX      *bool    `yaml:"mx"`      // check a domain's mail servers (default true)
	SPF     bool     `yaml:"spf"`     // check the addresses its SPF record authorises
	NS      bool     `yaml:"ns"`      // check its name servers' addresses
	PTR     bool     `yaml:"ptr"`     // check each address's reverse DNS (a note in the JSON)
	// MaxRange is the largest CIDR a probe may name, as an IPv4 prefix length
	// ("/28" or 28, the default: 16 addresses); an IPv6 range may hold as many
	// addresses.
	MaxRange Prefix `yaml:"max_range"`
	// Timeout bounds a probe (default 10s); Prometheus's scrape timeout header,
	// less a margin, bounds it further.
	Timeout Duration `yaml:"timeout"`
	// Direct is when the module's lists are asked at their own name servers:
	// auto, always or never (default: the server's, Options.Direct).
	Direct string `yaml:"direct"`

	lists  []catalog.Selected
	direct *dnsbl.DirectMode // nil: the server's default
}

// Prefix is a prefix length written "/28" or 28.
type Prefix int

// UnmarshalYAML reads "/N" or N.
func (p *Prefix) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimPrefix(n.Value, "/")
	v, err := strconv.Atoi(s)
	if err != nil || v < 16 || v > 32 {
		return fmt.Errorf("line %d: max_range %q is not a prefix length from /16 to /32", n.Line, n.Value)
	}
	*p = Prefix(v)
	return nil
}

// Duration is a time.Duration written "10s".
type Duration time.Duration

// UnmarshalYAML reads a Go duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 || v > MaxTimeout {
		return fmt.Errorf("line %d: timeout %q is not a duration from 1ms to 5m (say 10s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// The defaults of a module, and the longest timeout one may have: an HTTP
// server's write timeout must leave a probe that long time to answer.
const (
	DefaultMaxRange = 28
	DefaultTimeout  = 10 * time.Second
	MaxTimeout      = 5 * time.Minute
)

// maxConfigSize bounds the configuration file read.
const maxConfigSize = 1 << 20

// LoadConfig reads and checks the configuration at path against the catalog;
// keyed lists take their keys from getenv (the same BLCHECK_* variables as
// the CLI). Every error names the file and what is wrong in it.
func LoadConfig(path string, cat *catalog.Catalog, getenv func(string) string) (*Config, error) {
	// a FIFO or a device in its place would hold the open or the read (and a
	// reload, and the shutdown waiting for it) until someone writes to it
	if st, err := os.Stat(path); err != nil {
		return nil, readError(path, err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s): not a blcheck serve configuration", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() { // replaced in between
		return nil, fmt.Errorf("%s: not a regular file: not a blcheck serve configuration", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a blcheck serve configuration", path, maxConfigSize)
	}
	cfg, err := ParseConfig(data, cat, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return cfg, nil
}

// ParseConfig is LoadConfig for the file's contents.
func ParseConfig(data []byte, cat *catalog.Catalog, getenv func(string) string) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: it needs modules and allow")
		}
		return nil, yamlError(err)
	}
	// a second document (after ---) would be ignored: a configuration pasted
	// after another one, whose modules and allow: would silently not count. An
	// empty one (a closing ---, as tools and ConfigMaps write) says nothing.
	for {
		var more yaml.Node
		err := dec.Decode(&more)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(err)
		}
		if !emptyDocument(&more) {
			return nil, fmt.Errorf("line %d: a second YAML document (after ---): the configuration is one document", more.Line)
		}
	}
	if err := cfg.check(cat, getenv, "allow:"); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// emptyDocument reports whether a YAML document holds nothing: a --- followed
// by nothing but comments, or by an explicit null.
func emptyDocument(n *yaml.Node) bool {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n.Kind == 0 || n.Kind == yaml.DocumentNode && len(n.Content) == 0 ||
		n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// yamlTypes are the Go types yaml.v3 names in its errors, in the words of the
// configuration file.
var yamlTypes = strings.NewReplacer(
	"in type exporter.Config", "at the top level (its keys: modules, allow)",
	"in type exporter.Module", "in a module (its keys: lists, exclude, mx, spf, ns, ptr, max_range, timeout, direct)",
	"into map[string]*exporter.Module", "into modules (module names, each with its keys)",
	"into exporter.Config", "into a configuration (modules and allow)",
	"into exporter.Module", "into a module (lists, exclude, mx, spf, ns, ptr, max_range, timeout, direct)",
	"into []string", "into a list (write [a, b] or one item a line, each after -)",
	"into bool", "into true or false",
	"into string", "into a text",
)

// yamlError says what yaml.v3 found wrong without its "yaml: " prefix and
// without Go's type names.
// yamlUnmarshal is yaml.v3's "cannot unmarshal !!str `x` into T": the YAML
// tag is said in words.
var yamlUnmarshal = regexp.MustCompile("cannot unmarshal !!(\\w+) (`[^`]*` )?into")

// yamlKinds are YAML's core tags in words.
var yamlKinds = map[string]string{"str": "the text ", "seq": "a list ", "map": "a mapping ", "int": "the number ",
	"float": "the number ", "bool": "the value ", "null": "an empty value ", "timestamp": "the time "}

// yamlWords says one of yaml.v3's errors in the configuration's words.
func yamlWords(msg string) string {
	msg = yamlUnmarshal.ReplaceAllStringFunc(msg, func(m string) string {
		sub := yamlUnmarshal.FindStringSubmatch(m)
		kind, ok := yamlKinds[sub[1]]
		if !ok {
			kind = "a value "
		}
		return kind + sub[2] + "cannot be read into"
	})
	return yamlTypes.Replace(msg)
}

// yaml.v3 gathers a document's type errors in one TypeError, which it prints
// as "yaml: unmarshal errors:" and one indented line each: they are said here
// on one line, joined by "; ".
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return errors.New(yamlWords(strings.Join(te.Errors, "; ")))
	}
	return errors.New(yamlWords(strings.TrimPrefix(err.Error(), "yaml: ")))
}

// readError says that the file at path could not be read, and why, without
// the system call's name ("stat x.yml: no such file or directory").
func readError(path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: cannot read it: %v", path, err)
}

// Default is the configuration without a file: the default lists as module
// "default", and the targets allow names.
func Default(allow []string, cat *catalog.Catalog, getenv func(string) string) (*Config, error) {
	cfg := &Config{Modules: map[string]*Module{"default": {}}, Allow: allow}
	if err := cfg.check(cat, getenv, "--allow"); err != nil { // the targets came from the flag
		return nil, err
	}
	return cfg, nil
}

// check fills in the defaults and reads the modules and allow, which errors
// name as allowKey: the file's "allow:", or "--allow" when they came from the
// flag.
func (c *Config) check(cat *catalog.Catalog, getenv func(string) string, allowKey string) error {
	if len(c.Modules) == 0 {
		return errors.New("modules: none defined (a module named default is used when a probe names none)")
	}
	for _, name := range c.ModuleNames() {
		m := c.Modules[name]
		if m == nil {
			m = &Module{}
			c.Modules[name] = m
		}
		if name == "" || strings.ContainsAny(name, " \t\n&?=/") {
			return fmt.Errorf("modules: %q is not a usable module name", name)
		}
		lists, _, err := cat.Select(catalog.Selection{Only: m.Lists, Exclude: m.Exclude, Getenv: getenv})
		if err != nil {
			return fmt.Errorf("module %s: %v", name, err)
		}
		if len(lists) == 0 {
			return fmt.Errorf("module %s: no list left to check", name)
		}
		m.lists = lists
		if m.Direct != "" {
			d, err := dnsbl.ParseDirectMode(m.Direct)
			if err != nil {
				return fmt.Errorf("module %s: direct: %v", name, err)
			}
			m.direct = &d
		}
		if m.MaxRange == 0 {
			m.MaxRange = DefaultMaxRange
		}
		if m.Timeout == 0 {
			m.Timeout = Duration(DefaultTimeout)
		}
	}
	if len(c.Allow) == 0 {
		return errors.New(allowKey + " empty, so /probe would refuse every target: list the CIDRs and domains " +
			"it may check, or write [any] to open it to every target")
	}
	for _, a := range c.Allow {
		a = strings.TrimSpace(a)
		switch p, perr := netip.ParsePrefix(a); {
		case strings.EqualFold(a, "any"):
			c.allowAny = true
		case perr == nil:
			c.prefixes = append(c.prefixes, p.Masked())
		default:
			if ip, err := netip.ParseAddr(a); err == nil {
				c.prefixes = append(c.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
				continue
			}
			t, err := dnsbl.ParseTarget(a)
			if err != nil || t.Kind != dnsbl.KindDomain || t.Form != "domain" {
				return fmt.Errorf("%s %q is neither a CIDR, an address, a domain nor any", allowKey, a)
			}
			c.domains = append(c.domains, t.Host)
		}
	}
	return nil
}

// ModuleNames returns the module names, sorted.
func (c *Config) ModuleNames() []string {
	names := make([]string, 0, len(c.Modules))
	for n := range c.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Allows reports whether /probe may check t: an address or range inside an
// allowed CIDR, a host that is an allowed domain or below one.
func (c *Config) Allows(t dnsbl.Target) bool {
	if c.allowAny {
		return true
	}
	switch t.Kind {
	case dnsbl.KindIP:
		for _, p := range c.prefixes {
			if p.Contains(t.Addr) {
				return true
			}
		}
	case dnsbl.KindCIDR:
		for _, p := range c.prefixes {
			if p.Bits() <= t.Prefix.Bits() && p.Contains(t.Prefix.Addr()) {
				return true
			}
		}
	case dnsbl.KindDomain:
		for _, d := range c.domains {
			if t.Host == d || strings.HasSuffix(t.Host, "."+d) {
				return true
			}
		}
	}
	return false
}

// rangeAllowed reports whether a CIDR target is within the module's max_range.
func (m *Module) rangeAllowed(t dnsbl.Target) bool {
	if t.Kind != dnsbl.KindCIDR {
		return true
	}
	hostBits := t.Prefix.Addr().BitLen() - t.Prefix.Bits()
	return hostBits < bits.UintSize-1 && hostBits <= 32-int(m.MaxRange)
}

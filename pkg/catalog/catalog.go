// Package catalog models blcheck's list catalog (lists.yaml): it parses it strictly,
// validates every entry, and selects the lists a run uses.
package catalog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/blcheck/blcheck/internal/lazyre"
)

// Kind says what a list holds: IP addresses or domain names.
type Kind string

// The kinds of list.
const (
	KindIP     Kind = "ip"
	KindDomain Kind = "domain"
	// KindAllow is an allowlist of IP addresses (list.dnswl.org): a hit vouches
	// for the subject and is never a listing.
	KindAllow Kind = "allow"
)

// Address families an IP list covers.
const (
	FamilyIPv4 = "ipv4"
	FamilyIPv6 = "ipv6"
)

// Status values.
const (
	StatusActive = "active"
	StatusDead   = "dead"
)

// KeyPlaceholder marks where an account key goes in a keyed zone.
const KeyPlaceholder = "{key}"

// SubjectPlaceholder marks where the subject goes in a delisting URL.
const SubjectPlaceholder = "{subject}"

// Key describes how a keyed list gets its account key.
type Key struct {
	Env    string `yaml:"env" json:"env"`
	Signup string `yaml:"signup,omitempty" json:"signup,omitempty"`
}

// Tests are a list's own health-check test points. None is `tests: none` in
// the catalog: the list publishes no test point, so its health is untested.
type Tests struct {
	Listed   []string `yaml:"listed,omitempty" json:"listed,omitempty"`
	Unlisted []string `yaml:"unlisted,omitempty" json:"unlisted,omitempty"`
	None     bool     `yaml:"-" json:"-"`
}

// TestsNone is the value of `tests` for a list without a published test point.
const TestsNone = "none"

// UnmarshalYAML takes either the mapping of test points or the word none.
func (t *Tests) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Value != TestsNone {
			return fmt.Errorf("line %d: tests is a mapping of listed and unlisted points, or %q", n.Line, TestsNone)
		}
		*t = Tests{None: true}
		return nil
	}
	type plain Tests
	return n.Decode((*plain)(t))
}

// MarshalJSON writes "none" for a list without test points.
func (t Tests) MarshalJSON() ([]byte, error) {
	if t.None {
		return json.Marshal(TestsNone)
	}
	type plain Tests
	return json.Marshal(plain(t))
}

// List is one catalog entry. The exported fields are the catalog schema; the YAML
// and JSON keys are part of blcheck's contract.
type List struct {
	ID       string            `yaml:"id" json:"id"`
	Name     string            `yaml:"name" json:"name"`
	Operator string            `yaml:"operator,omitempty" json:"operator,omitempty"`
	Zone     string            `yaml:"zone" json:"zone"`
	Kind     Kind              `yaml:"kind" json:"kind"`
	Families []string          `yaml:"families,omitempty" json:"families,omitempty"`
	Codes    map[string]string `yaml:"codes" json:"codes"`
	Meaning  string            `yaml:"meaning,omitempty" json:"meaning,omitempty"`
	Bitmask  bool              `yaml:"bitmask,omitempty" json:"bitmask,omitempty"`
	Errors   map[string]string `yaml:"errors,omitempty" json:"errors"`
	Delist   string            `yaml:"delist,omitempty" json:"delist,omitempty"`
	Default  bool              `yaml:"default" json:"default"`
	Key      *Key              `yaml:"key,omitempty" json:"key,omitempty"`
	Replaces []string          `yaml:"replaces,omitempty" json:"replaces,omitempty"`
	Status   string            `yaml:"status" json:"status"`
	Died     string            `yaml:"died,omitempty" json:"died,omitempty"`
	Now      string            `yaml:"now,omitempty" json:"now,omitempty"`
	Tests    *Tests            `yaml:"tests,omitempty" json:"tests,omitempty"`
	Aliases  []string          `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	Policy   string            `yaml:"policy,omitempty" json:"policy,omitempty"`
	// PartOf is the id of a list that already contains this one (spamhaus-xbl is
	// part of spamhaus-zen): a subject listed on both is one listing.
	PartOf string `yaml:"part_of,omitempty" json:"part_of,omitempty"`
	// OnlyCodes says that only the values in Codes are listings: any other answer
	// is an error (SpamRATS: "any other IP returned should NOT be treated as being
	// on the list").
	OnlyCodes bool `yaml:"only_codes,omitempty" json:"only_codes,omitempty"`
	// Hostnames says a domain list lists full host names (the hacked site's
	// shop.example.com, not example.com): a host is asked as well as its
	// registered domain, as SpamAssassin and rspamd ask Spamhaus DBL and SURBL.
	Hostnames bool `yaml:"hostnames,omitempty" json:"hostnames,omitempty"`
	// IPSubjects says a domain list also lists addresses, asked reversed as IP
	// lists are (SURBL multi, URIBL multi): a link that is an address
	// (http://192.0.2.7/) is asked of it, as SpamAssassin asks.
	IPSubjects bool `yaml:"ip_subjects,omitempty" json:"ip_subjects,omitempty"`
	// LinkCodes are the codes that make a newsletter's link host suspect, and
	// those that make a linked domain's name server suspect, where receivers
	// read a list differently for them than for a mail sender: Spamhaus's IP
	// zones (SBL, CSS, DROP and XBL for a link host's address, SBL and CSS for a
	// name server's), SURBL (its disposable-mail and click-tracker bits are
	// scored by no receiver). Any other listing in that role is Noted. An IP
	// list without them is not one receivers judge links by at all.
	LinkCodes *LinkCodes `yaml:"link_codes,omitempty" json:"link_codes,omitempty"`
	// Trust decodes an allowlist answer's last octet (dnswl: 0 none to 3 high).
	Trust map[string]string `yaml:"trust,omitempty" json:"trust,omitempty"`
	// Removal is the list's removal form, where it differs from its lookup page.
	Removal string `yaml:"removal,omitempty" json:"removal,omitempty"`
	// OffReason says, for people, why an active list is not on by default.
	OffReason string `yaml:"off_reason,omitempty" json:"off_reason,omitempty"`
	// DailyLimit is the published free-use limit in queries a day, where there is one.
	DailyLimit int    `yaml:"daily_limit,omitempty" json:"daily_limit,omitempty"`
	Notes      string `yaml:"notes,omitempty" json:"notes,omitempty"`

	line   int
	codes  []code
	errors []errorCode
	root   *List // the end of the part_of chain; nil for a list that is part of none
}

type code struct {
	prefix  netip.Prefix // a single value is a /32
	meaning string
}

type errorCode struct {
	prefix  netip.Prefix
	meaning string
}

// Catalog is a validated set of lists, in file order.
type Catalog struct {
	Lists  []*List
	Source string
	byID   map[string]*List
}

// Error is a catalog problem, naming the file, line and entry.
type Error struct {
	Source string
	Line   int
	ID     string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.ID != "" {
		fmt.Fprintf(&b, ": list %q", e.ID)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// knownKeys are the YAML keys of List, for strict decoding with line numbers.
var knownKeys = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeOf(List{})
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("yaml")
		if name, _, _ := strings.Cut(tag, ","); name != "" {
			m[name] = true
		}
	}
	return m
})

// UnmarshalYAML decodes one entry strictly: an unknown key is an error with its line.
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a list entry must be a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !knownKeys()[k.Value] {
			return &Error{Line: k.Line, ID: entryID(n), Msg: fmt.Sprintf("unknown key %q", k.Value)}
		}
	}
	type plain List
	if err := n.Decode((*plain)(l)); err != nil {
		return err
	}
	l.line = n.Line
	return nil
}

func entryID(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "id" {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// Parse reads and validates a catalog. source names it in error messages.
func Parse(data []byte, source string) (*Catalog, error) {
	var lists []*List
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&lists); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.Source = source
			return nil, ce
		}
		if errors.Is(err, io.EOF) {
			return nil, &Error{Source: source, Msg: "the catalog is empty"}
		}
		return nil, &Error{Source: source, Msg: cleanYAMLError(err)}
	}
	return assemble(lists, source, false)
}

// assemble validates decoded entries and indexes them. Trusted entries (the
// built-in catalog, which the tests validate) come with their codes decoded.
func assemble(lists []*List, source string, trusted bool) (*Catalog, error) {
	if len(lists) == 0 {
		return nil, &Error{Source: source, Msg: "the catalog has no lists"}
	}
	c := &Catalog{Source: source, byID: make(map[string]*List, len(lists))}
	for i, l := range lists {
		if l == nil {
			return nil, &Error{Source: source, Msg: fmt.Sprintf("entry %d is empty", i+1)}
		}
		if !trusted {
			if err := l.validate(); err != nil {
				return nil, &Error{Source: source, Line: l.line, ID: l.ID, Msg: err.Error()}
			}
		}
		if prev, dup := c.byID[l.ID]; dup {
			return nil, &Error{Source: source, Line: l.line, ID: l.ID,
				Msg: fmt.Sprintf("id is used twice (first at line %d)", prev.line)}
		}
		c.byID[l.ID] = l
		c.Lists = append(c.Lists, l)
	}
	for _, l := range c.Lists {
		if err := c.checkPartOf(l); err != nil {
			return nil, &Error{Source: source, Line: l.line, ID: l.ID, Msg: err.Error()}
		}
		for p := l; p.PartOf != ""; {
			p = c.byID[p.PartOf]
			l.root = p
		}
		for _, r := range l.Replaces {
			if c.byID[r] == nil {
				return nil, &Error{Source: source, Line: l.line, ID: l.ID, Msg: fmt.Sprintf("replaces unknown list %q", r)}
			}
		}
	}
	return c, nil
}

// checkPartOf validates a list's part_of chain: known lists of the same kind, no loop.
func (c *Catalog) checkPartOf(l *List) error {
	seen := map[string]bool{l.ID: true}
	for cur := l; cur.PartOf != ""; {
		parent := c.byID[cur.PartOf]
		switch {
		case parent == nil:
			return fmt.Errorf("part_of names unknown list %q", cur.PartOf)
		case parent.Kind != l.Kind:
			return fmt.Errorf("part_of %q: a %s list cannot be part of a %s list", cur.PartOf, l.Kind, parent.Kind)
		case seen[parent.ID]:
			return fmt.Errorf("part_of makes a loop through %q", parent.ID)
		}
		seen[parent.ID] = true
		cur = parent
	}
	return nil
}

// Root is the list that contains l, following part_of to its end (l itself
// when it is part of none): a subject listed on several lists of one root is
// one listing.
func (l *List) Root() *List {
	if l.root == nil {
		return l
	}
	return l.root
}

// yamlWords names YAML's node tags and the Go types they were decoded into in
// words a catalog's author knows.
var yamlWords = strings.NewReplacer(
	"cannot unmarshal !!map into []*catalog.List", "the catalog must be a list of entries (each one starting with \"- id:\"), not a mapping",
	"cannot unmarshal !!seq into map[string]string", "expected a mapping (value: meaning), found a list",
	"cannot unmarshal !!map into string", "expected a text value, found a mapping",
	"cannot unmarshal !!seq into string", "expected a text value, found a list",
	"cannot unmarshal !!map into []string", "expected a list, found a mapping",
	"cannot unmarshal !!str", "cannot read the text",
	"cannot unmarshal !!map", "did not expect a mapping",
	"cannot unmarshal !!seq", "did not expect a list",
	"into bool", "as true or false",
	"into int", "as a whole number",
	"into []string", "as a list",
	"into catalog.Kind", "as a kind",
	"into *catalog.Key", "as a key (env, signup)",
	"catalog.plain", "a list entry",
)

func cleanYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	return yamlWords.Replace(msg)
}

var (
	idRE    = lazyre.New(`^[a-z0-9][a-z0-9-]*$`)
	labelRE = lazyre.New(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$`)
	envRE   = lazyre.New(`^BLCHECK_[A-Z0-9_]+$`)
)

func (l *List) validate() error {
	for _, step := range []func() error{l.validateID, l.validateZone, l.validateKind, l.validateKindKeys,
		l.validateCodeKeys, l.validateURLs, l.validateStatus, l.validateKeyAndTests} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// validateID checks the id and the name.
func (l *List) validateID() error {
	if !idRE().MatchString(l.ID) {
		if l.ID == "" {
			return errors.New("id is missing")
		}
		return errors.New("id must be lower-case letters, digits and dashes")
	}
	if strings.TrimSpace(l.Name) == "" {
		return errors.New("name is missing")
	}
	return nil
}

// validateKind checks the kind and the families it needs.
func (l *List) validateKind() error {
	switch l.Kind {
	case KindIP, KindAllow:
		if len(l.Families) == 0 {
			return fmt.Errorf("families is missing (%s lists need [ipv4], [ipv6] or both)", l.Kind)
		}
		seen := map[string]bool{}
		for _, f := range l.Families {
			if f != FamilyIPv4 && f != FamilyIPv6 {
				return fmt.Errorf("families: %q is not ipv4 or ipv6", f)
			}
			if seen[f] {
				return fmt.Errorf("families: %q given twice", f)
			}
			seen[f] = true
		}
	case KindDomain:
		if len(l.Families) > 0 {
			return errors.New("families is for ip lists only")
		}
	case "":
		return errors.New("kind is missing (ip, domain or allow)")
	default:
		return fmt.Errorf("kind %q is not ip, domain or allow", l.Kind)
	}
	return nil
}

// validateKindKeys checks the keys that belong to one kind of list only.
func (l *List) validateKindKeys() error {
	if len(l.Trust) > 0 && l.Kind != KindAllow {
		return errors.New("trust is for allowlists (kind: allow) only")
	}
	for k, v := range l.Trust {
		if n, err := strconv.Atoi(k); err != nil || n < 0 || n > 255 || strings.TrimSpace(v) == "" {
			return fmt.Errorf("trust: %q must be a last octet (0 to 255) with a meaning", k)
		}
	}
	if l.Hostnames && l.Kind != KindDomain {
		return errors.New("hostnames is for domain lists only")
	}
	if l.IPSubjects && l.Kind != KindDomain {
		return errors.New("ip_subjects is for domain lists only (an IP list takes addresses anyway)")
	}
	return nil
}

// validateCodeKeys checks link_codes, only_codes, part_of, codes and errors.
func (l *List) validateCodeKeys() error {
	if err := l.LinkCodes.validate(l); err != nil {
		return err
	}
	if l.OnlyCodes && len(l.Codes) == 0 {
		return errors.New("only_codes needs the codes that are listings")
	}
	if l.PartOf == l.ID {
		return errors.New("part_of names the list itself")
	}
	if l.Codes == nil {
		return errors.New("codes is missing (use {} when the list does not document its values)")
	}
	if err := l.parseCodes(); err != nil {
		return err
	}
	if err := l.parseErrors(); err != nil {
		return err
	}
	return nil
}

// validateURLs checks the delist and removal URL templates.
func (l *List) validateURLs() error {
	for key, v := range map[string]string{"delist": l.Delist, "removal": l.Removal} {
		if v == "" {
			continue
		}
		u, err := url.Parse(strings.ReplaceAll(v, SubjectPlaceholder, "192.0.2.1"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q is not an http(s) URL", key, v)
		}
		if strings.ContainsAny(strings.ReplaceAll(v, SubjectPlaceholder, ""), "{}") {
			return fmt.Errorf("%s %q: the only placeholder is %s", key, v, SubjectPlaceholder)
		}
	}
	return nil
}

// validateStatus checks the status and what goes with it.
func (l *List) validateStatus() error {
	switch l.Status {
	case StatusActive:
		if l.Died != "" || l.Now != "" {
			return errors.New("died and now are for dead lists only")
		}
		if l.Default && len(l.Codes) == 0 && l.Meaning == "" {
			return errors.New("a list whose codes are unknown cannot be on by default (give codes or meaning)")
		}
	case StatusDead:
		if l.Default {
			return errors.New("a dead list cannot be on by default")
		}
		if strings.TrimSpace(l.Now) == "" {
			return errors.New("a dead list must say what it does now (now)")
		}
	case "":
		return errors.New("status is missing (active or dead)")
	default:
		return fmt.Errorf("status %q is not active or dead", l.Status)
	}
	if l.DailyLimit < 0 {
		return errors.New("daily_limit must be a positive number of queries")
	}
	return nil
}

// validateKeyAndTests checks the account key, the test points and the aliases.
func (l *List) validateKeyAndTests() error {
	if l.Key != nil && !envRE().MatchString(l.Key.Env) {
		return fmt.Errorf("key.env %q: a list's key comes only from a variable named BLCHECK_* (so that a catalog "+
			"cannot send another secret, a CI token say, to its own zone)", l.Key.Env)
	}
	if len(l.Replaces) > 0 && l.Key == nil {
		return errors.New("replaces is for keyed lists only")
	}
	if l.Tests != nil && l.Tests.None && (len(l.Tests.Listed) > 0 || len(l.Tests.Unlisted) > 0) {
		return errors.New("tests: none cannot also name test points")
	}
	if l.Tests != nil {
		for _, t := range append(append([]string{}, l.Tests.Listed...), l.Tests.Unlisted...) {
			if err := l.validateTestPoint(t); err != nil {
				return err
			}
		}
	}
	for _, a := range l.Aliases {
		if strings.TrimSpace(a) == "" {
			return errors.New("aliases has an empty name")
		}
	}
	return nil
}

func (l *List) validateZone() error {
	if l.Zone == "" {
		return errors.New("zone is missing")
	}
	zone := l.Zone
	hasKey := strings.Contains(zone, KeyPlaceholder)
	if hasKey != (l.Key != nil) {
		if hasKey {
			return fmt.Errorf("zone %q has %s but the entry has no key", l.Zone, KeyPlaceholder)
		}
		return fmt.Errorf("the entry has a key but zone %q has no %s", l.Zone, KeyPlaceholder)
	}
	zone = strings.ReplaceAll(zone, KeyPlaceholder, "key")
	if len(zone) > 200 || !strings.Contains(zone, ".") {
		return fmt.Errorf("zone %q is not a DNS zone name", l.Zone)
	}
	for _, label := range strings.Split(strings.TrimSuffix(zone, "."), ".") {
		if len(label) > 63 || !labelRE().MatchString(label) {
			return fmt.Errorf("zone %q is not a DNS zone name", l.Zone)
		}
	}
	return nil
}

func (l *List) validateTestPoint(t string) error {
	if l.Kind != KindDomain {
		if _, err := netip.ParseAddr(t); err != nil {
			return fmt.Errorf("tests: %q is not an IP address", t)
		}
		return nil
	}
	for _, label := range strings.Split(t, ".") {
		if len(label) > 63 || !labelRE().MatchString(label) {
			return fmt.Errorf("tests: %q is not a domain name", t)
		}
	}
	return nil
}

func parseLoopback(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	if a.As4()[0] != 127 {
		return netip.Addr{}, fmt.Errorf("%q is outside 127.0.0.0/8", s)
	}
	return a, nil
}

func (l *List) parseCodes() error {
	l.codes = l.codes[:0]
	for k, v := range l.Codes {
		p, err := parseValue(k)
		if err != nil {
			return fmt.Errorf("codes: %v", err)
		}
		if l.Bitmask && p.Bits() != 32 {
			return fmt.Errorf("codes: %s: a bitmask list's codes are single values", k)
		}
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("codes: %s has no meaning", k)
		}
		if l.Bitmask {
			b := p.Addr().As4()
			if b[1] != 0 || b[2] != 0 || b[3] == 0 || b[3]&(b[3]-1) != 0 {
				return fmt.Errorf("codes: %s is not a single bit of the last octet (bitmask list)", k)
			}
		}
		l.codes = append(l.codes, code{p, v})
	}
	sortPrefixes(l.codes, func(c code) netip.Prefix { return c.prefix })
	return nil
}

// parseValue reads an answer value of codes or errors: an address in
// 127.0.0.0/8, or a prefix inside it (127.255.255.0/24); a single value is a /32.
func parseValue(k string) (netip.Prefix, error) {
	if !strings.Contains(k, "/") {
		a, err := parseLoopback(k)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, 32), nil
	}
	p, err := netip.ParsePrefix(k)
	if err != nil || !p.Addr().Is4() || p.Masked() != p || p.Bits() < 8 || p.Addr().As4()[0] != 127 {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv4 prefix inside 127.0.0.0/8", k)
	}
	return p, nil
}

// sortPrefixes orders values most specific first, so that an exact value wins
// over its range, and in address order within one size.
func sortPrefixes[T any](s []T, prefix func(T) netip.Prefix) {
	slices.SortFunc(s, func(x, y T) int {
		a, b := prefix(x), prefix(y)
		if c := cmp.Compare(b.Bits(), a.Bits()); c != 0 {
			return c
		}
		return a.Addr().Compare(b.Addr())
	})
}

func (l *List) parseErrors() error {
	l.errors = l.errors[:0]
	for k, v := range l.Errors {
		p, err := parseValue(k)
		if err != nil {
			return fmt.Errorf("errors: %v", err)
		}
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("errors: %s has no meaning", k)
		}
		if _, clash := l.Codes[k]; clash {
			return fmt.Errorf("%s is both a code and an error", k)
		}
		for _, c := range l.codes {
			if c.prefix.Overlaps(p) {
				code := c.prefix.String()
				if c.prefix.IsSingleIP() {
					code = c.prefix.Addr().String()
				}
				return fmt.Errorf("errors: %s covers %s, one of the list's codes: an answer cannot be both a listing and a refusal", k, code)
			}
		}
		l.errors = append(l.errors, errorCode{p, v})
	}
	sortPrefixes(l.errors, func(e errorCode) netip.Prefix { return e.prefix })
	return nil
}

// Lookup finds a list by id, zone or alias (case-insensitive); nil if none.
func (c *Catalog) Lookup(name string) *List {
	name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if l := c.byID[name]; l != nil {
		return l
	}
	for _, l := range c.Lists {
		if strings.EqualFold(l.Zone, name) {
			return l
		}
	}
	for _, l := range c.Lists {
		for _, a := range l.Aliases {
			if strings.EqualFold(a, name) {
				return l
			}
		}
	}
	return nil
}

// ByID returns the list with that id, or nil.
func (c *Catalog) ByID(id string) *List { return c.byID[id] }

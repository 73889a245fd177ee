package catalog

import (
	"fmt"
	"strings"
)

// Selection says which lists a run uses.
type Selection struct {
	Only    []string            // ids, zones or aliases; empty means the default lists
	Exclude []string            // ids, zones or aliases to leave out
	Getenv  func(string) string // where keys come from; nil means os.Getenv
}

// Selected is one list chosen for a run, with its key when it has one.
type Selected struct {
	*List
	KeyValue string // the account key, never to be printed
}

// SecretZone is the zone to query, with the account key inserted. It must
// never be printed: output shows List.Zone, where the key is a {key} placeholder.
func (s Selected) SecretZone() string { return s.QueryZone(s.KeyValue) }

// NeedsKey reports whether the list needs a key that is not set.
func (s Selected) NeedsKey() bool { return s.Keyed() && s.KeyValue == "" }

// UnknownListError is a --list or --exclude name that matches no list.
type UnknownListError struct {
	Name  string
	Known []string
}

func (e *UnknownListError) Error() string {
	return fmt.Sprintf("unknown list %q: not an id, zone or alias in the catalog (see `blcheck lists`)", e.Name)
}

// The names Only and Exclude take besides lists: every active list whose key
// is set, and the default lists.
const (
	SelectAll     = "all"
	SelectDefault = "default"
)

// picked is what a --list or --exclude value names: every list's id, and the
// ids named one by one (not through "all" or "default").
type picked struct {
	ids, named map[string]bool
}

// pick reads names (ids, zones, aliases, comma lists, "all", "default").
func (c *Catalog) pick(names []string, getenv func(string) string, warnings *[]string) (picked, error) {
	p := picked{ids: map[string]bool{}, named: map[string]bool{}}
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			part = strings.TrimSpace(part)
			switch {
			case part == "":
			case strings.EqualFold(part, SelectAll) && c.Lookup(part) == nil:
				for _, l := range c.Lists {
					if !l.Dead() && (l.Key == nil || l.KeyFrom(getenv) != "") {
						p.ids[l.ID] = true
					}
				}
			case strings.EqualFold(part, SelectDefault) && c.Lookup(part) == nil:
				for _, l := range c.Lists {
					if l.Default && !l.Dead() {
						p.ids[l.ID] = true
					}
				}
			default:
				l := c.Lookup(part)
				if l == nil {
					return p, &UnknownListError{Name: part}
				}
				if others := c.alsoNamed(part, l); len(others) > 0 {
					*warnings = append(*warnings, fmt.Sprintf("%q names list %s (%s); it is also a name of %s: "+
						"name that by its id if you meant it", part, l.ID, l.Zone, strings.Join(others, ", ")))
				}
				p.ids[l.ID], p.named[l.ID] = true, true
			}
		}
	}
	return p, nil
}

// Select returns the lists a run uses, in catalog order, with warnings for a person
// (a dead list named explicitly). Without Only it takes the default active lists.
// Only and Exclude take ids, zones and aliases, "default" (the default lists) and
// "all" (every active list whose key is set; keyed lists without one are left
// out). A keyed list whose key is set replaces the lists it names (no double
// queries), unless they were named one by one.
func (c *Catalog) Select(sel Selection) ([]Selected, []string, error) {
	var warnings []string
	only, err := c.pick(sel.Only, sel.Getenv, &warnings)
	if err != nil {
		return nil, nil, err
	}
	exclude, err := c.pick(sel.Exclude, sel.Getenv, &warnings)
	if err != nil {
		return nil, nil, err
	}
	explicit := len(only.ids) > 0
	var out []Selected
	for _, l := range c.Lists {
		if exclude.ids[l.ID] {
			continue
		}
		if explicit {
			if !only.ids[l.ID] {
				continue
			}
			if l.Dead() {
				warnings = append(warnings, fmt.Sprintf("list %s (%s) is dead since %s: %s; its answers mean nothing",
					l.ID, l.Zone, orUnknown(l.Died), l.Now))
			}
		} else if !l.Default || l.Dead() {
			continue
		}
		out = append(out, Selected{List: l, KeyValue: l.KeyFrom(sel.Getenv)})
	}
	for _, s := range out {
		if err := checkKey(s); err != nil {
			return nil, warnings, err
		}
	}
	out = dropReplaced(out, only.named)
	if len(out) == 0 {
		return nil, warnings, fmt.Errorf("no lists left to check (every selected list was excluded)")
	}
	return out, warnings, nil
}

// dropReplaced leaves out the lists that a keyed list whose key is set replaces,
// unless they were named one by one.
func dropReplaced(out []Selected, named map[string]bool) []Selected {
	replaced := map[string]bool{}
	for _, s := range out {
		if s.Keyed() && s.KeyValue != "" {
			for _, r := range s.Replaces {
				replaced[r] = true
			}
		}
	}
	kept := out[:0]
	for _, s := range out {
		if !replaced[s.ID] || named[s.ID] {
			kept = append(kept, s)
		}
	}
	return kept
}

// alsoNamed returns the other lists that name answers to (by zone or alias)
// besides chosen, the one Lookup picked: a name with two meanings is warned about.
func (c *Catalog) alsoNamed(name string, chosen *List) []string {
	name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	var out []string
	for _, l := range c.Lists {
		if l == chosen {
			continue
		}
		match := strings.EqualFold(l.Zone, name)
		for _, a := range l.Aliases {
			match = match || strings.EqualFold(a, name)
		}
		if match {
			out = append(out, l.ID)
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown date"
	}
	return s
}

// checkKey refuses an account key that cannot be one DNS label of the zone it
// is put into (a space, a dot, more than 63 bytes): queried, it would ask
// another zone, or none. The error names the variable, never the key.
func checkKey(s Selected) error {
	k := s.KeyValue
	if s.Key == nil || k == "" {
		return nil
	}
	why := ""
	switch {
	case len(k) > 63:
		why = fmt.Sprintf("is %d characters long, more than the 63 of a DNS label", len(k))
	case strings.Contains(k, "."):
		why = "contains a dot"
	default:
		for _, c := range k {
			if c == ' ' || c == '\t' {
				why = "contains a space"
				break
			}
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				why = "contains a character that is not a letter, a digit or a hyphen"
				break
			}
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("$%s (the account key of %s) %s: a key is one DNS label of letters, digits and hyphens "+
		"(the key itself is not shown)", s.Key.Env, s.ID, why)
}

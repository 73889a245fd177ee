package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// DirectDoc is what a run found asking lists at their own name servers
// (JSON "direct", present when any list was asked so).
type DirectDoc struct {
	Lists       []string           `json:"lists"`
	Refused     []DirectRefusalDoc `json:"refused"`
	Unreachable string             `json:"unreachable,omitempty"`
}

// DirectRefusalDoc is a list that refused this machine itself.
type DirectRefusalDoc struct {
	List  string   `json:"list"`
	Codes []string `json:"codes"`
	Why   string   `json:"why"`
	Saw   string   `json:"saw,omitempty"` // the address the list says it saw
	Fix   string   `json:"fix"`
}

// NewDirectDoc is the JSON form of a run's direct queries, nil when there were none.
func NewDirectDoc(res *dnsbl.Result) *DirectDoc {
	d := res.Direct
	if len(d.Lists) == 0 && len(d.Refused) == 0 && !d.Unreachable {
		return nil
	}
	doc := &DirectDoc{Lists: []string{}, Refused: []DirectRefusalDoc{}}
	for _, l := range d.Lists {
		doc.Lists = append(doc.Lists, l.ID)
	}
	for _, r := range d.Refused {
		rd := DirectRefusalDoc{List: r.List.ID, Codes: []string{}, Why: r.Why, Fix: directFix(r.List, res.Lists)}
		for _, c := range r.Codes {
			rd.Codes = append(rd.Codes, c.String())
		}
		if r.Saw.IsValid() {
			rd.Saw = r.Saw.String()
		}
		doc.Refused = append(doc.Refused, rd)
	}
	if d.Unreachable {
		doc.Unreachable = d.Error
	}
	return doc
}

// directFix says what makes a list that refuses this machine usable: the
// catalog's keyed list that replaces it (Spamhaus's DQS), else a mirror or a
// resolver it accepts.
func directFix(l *catalog.List, lists []dnsbl.ListHealth) string {
	for _, k := range lists {
		if k.List.Key != nil && slices.Contains(k.List.Replaces, l.ID) {
			fix := fmt.Sprintf("a free key in %s, which makes blcheck ask %s instead", k.List.Key.Env, k.List.Name)
			if k.List.Key.Signup != "" {
				fix += " (sign up: " + k.List.Key.Signup + ")"
			}
			return fix
		}
	}
	if l.Key == nil && strings.Contains(l.Operator, "Spamhaus") {
		return "a free Spamhaus DQS key in BLCHECK_SPAMHAUS_DQS_KEY"
	}
	return "a mirror of the list, or a resolver it accepts (your own, on a network it does not refuse: --resolver)"
}

// directProblems opens the text output, before any verdict, with the lists that
// refuse this machine itself and with direct queries that could not get out;
// it returns the incomplete-run reasons it said, which are not said again.
func (t *text) directProblems(res *dnsbl.Result) map[string]bool {
	d := res.Direct
	said := map[string]bool{}
	for _, s := range d.Incomplete() {
		said[s] = true
	}
	if len(d.Refused) > 0 {
		t.p("%s\n", t.red.Sprint("Asked at their own name servers, these lists refuse this machine too:"))
		for _, r := range d.Refused {
			t.p("  %s (%s): %s", Sanitize(r.List.Name, 100), Sanitize(r.List.Zone, 200), Sanitize(r.Why, 300))
			if r.Saw.IsValid() {
				t.p("; the list saw %s", r.Saw)
			}
			t.p("\n    Fix: %s\n", Sanitize(directFix(r.List, res.Lists), 300))
		}
		t.p("  Likely cause: this machine's address belongs to a hosting or cloud network (Azure, which " +
			"includes GitHub-hosted runners; AWS, Hetzner, DigitalOcean, OVH, Vultr, Cloudflare), or has no " +
			"attributable reverse DNS. Their answers below are blocked, never clean.\n\n")
	}
	if d.Unreachable {
		t.p("%s\n", t.yellow.Sprintf("The lists' own name servers could not be asked: %s.", Sanitize(d.Error, 300)))
		t.p("  The resolver's answers are kept: lists that refuse it stay blocked. Fix: allow outgoing DNS " +
			"(UDP and TCP port 53), or use a key or a mirror for the lists that refuse the resolver.\n\n")
	}
	return said
}

// directFooter names the lists asked at their own name servers.
func (t *text) directFooter(res *dnsbl.Result) {
	if len(res.Direct.Lists) == 0 {
		return
	}
	var names []string
	for _, l := range res.Direct.Lists {
		names = append(names, Sanitize(l.Name, 100))
	}
	t.p("Asked directly, at their own name servers (this machine's address counts against their limits): %s.\n",
		strings.Join(names, ", "))
}

// refusedHere says whether l refused even a query at its own name servers in
// this run: its Why and Fix are those of the block that opens the output.
func refusedHere(res *dnsbl.Result, l *catalog.List) bool {
	return slices.ContainsFunc(res.Direct.Refused, func(r dnsbl.DirectRefusal) bool { return r.List == l })
}

package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// ListsTable writes the catalog as a table for people.
func ListsTable(w io.Writer, lists []*catalog.List, getenv func(string) string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tDEFAULT\tZONE\tNAME")
	on, keyless, dead := 0, 0, 0
	for _, l := range lists {
		kind := "domain"
		if l.Subjects() == catalog.KindIP {
			var fams []string
			for _, f := range l.Families {
				fams = append(fams, strings.TrimPrefix(f, "ip"))
			}
			kind = string(l.Kind) + " " + strings.Join(fams, "+")
		}
		def := "no"
		switch {
		case l.Dead():
			def = "dead"
			dead++
		case l.Default && l.Keyed():
			def = "key"
			on++
			if l.KeyFrom(getenv) != "" {
				def = "yes (key set)"
			}
		case l.Default:
			def = "yes"
			on++
			keyless++
		}
		name := l.Name
		switch {
		case l.Dead() && l.Died == "":
			name += fmt.Sprintf(" (dead: %s)", l.Now)
		case l.Dead():
			name += fmt.Sprintf(" (dead since %s: %s)", l.Died, l.Now)
		case l.Keyed():
			name += fmt.Sprintf(" (needs $%s)", l.Key.Env)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.ID, kind, def, l.Zone, Sanitize(name, 200))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "\n%s: %d on by default (%d need no key, %d need an account key), %d dead, %d off.\n",
		plural(len(lists), "list"), on, keyless, on-keyless, dead, len(lists)-on-dead); err != nil {
		return err
	}
	offTable(tw, w, lists)
	return limitsTable(w, lists)
}

// offTable says why each active list that is off by default is off.
func offTable(tw *tabwriter.Writer, w io.Writer, lists []*catalog.List) {
	first := true
	for _, l := range lists {
		if l.Default || l.Dead() || l.OffReason == "" {
			continue
		}
		if first {
			fmt.Fprint(w, "\nOff by default (choose one with -l ID):\n")
			first = false
		}
		fmt.Fprintf(tw, "  %s\t%s\n", l.ID, Sanitize(l.OffReason, 400))
	}
	_ = tw.Flush()
}

// limitsTable writes the published free-use limits, which count per operator
// (and resolver) across every zone of that operator.
func limitsTable(w io.Writer, lists []*catalog.List) error {
	type limit struct {
		queries int
		zones   []string
	}
	var order []string
	ops := map[string]*limit{}
	for _, l := range lists {
		if l.Dead() || l.Operator == "" {
			continue
		}
		u := ops[l.Operator]
		if u == nil {
			u = &limit{}
			ops[l.Operator] = u
			order = append(order, l.Operator)
		}
		u.queries = max(u.queries, l.DailyLimit)
		u.zones = append(u.zones, l.ID)
	}
	first := true
	for _, op := range order {
		u := ops[op]
		if u.queries == 0 {
			continue
		}
		if first {
			if _, err := fmt.Fprint(w, "\nFree-use limits, counted per operator and resolver across all its zones (a list asked\n"+
				"directly, at its own name servers, counts this machine's own address instead):\n"); err != nil {
				return err
			}
			first = false
		}
		zones := strings.Join(u.zones, ", ")
		if len(u.zones) > 4 {
			zones = fmt.Sprintf("its %d zones here", len(u.zones))
		}
		if _, err := fmt.Fprintf(w, "  %s: %d queries a day (%s)\n", op, u.queries, zones); err != nil {
			return err
		}
	}
	return nil
}

// ProbeDocument is the JSON output of `blcheck lists --probe`.
type ProbeDocument struct {
	Resolver       []string     `json:"resolver"`
	ResolverHealth *ResolverDoc `json:"resolver_health,omitempty"`
	Lists          []ProbeDoc   `json:"lists"`
	// Direct is set when lists were asked at their own name servers.
	Direct *DirectDoc `json:"direct,omitempty"`
	// Interrupted is set when the probe was stopped (Ctrl-C) before every
	// list answered: a list cut short reads interrupted, which says nothing of it.
	Interrupted bool `json:"interrupted,omitempty"`
}

// ProbeDoc is one list's health.
type ProbeDoc struct {
	List   string `json:"list"`
	Zone   string `json:"zone"`
	Health string `json:"health"`
	Detail string `json:"detail,omitempty"`
	RTTms  int64  `json:"rtt_ms"`
	// Asked is resolver, or direct: at the list's own name servers; absent
	// for a list that was not asked at all (needs-key: no key is set)
	Asked string `json:"asked,omitempty"`
}

// NewProbeDocument builds the JSON output of a probe run.
func NewProbeDocument(res *dnsbl.Result, resolvers []string) *ProbeDocument {
	d := &ProbeDocument{Resolver: nonNil(resolvers), Lists: []ProbeDoc{}}
	if rh := res.Resolver; rh.RewritesNXDOMAIN {
		d.ResolverHealth = &ResolverDoc{RewritesNXDOMAIN: true, Probe: rh.Probe, Answer: rh.Answer}
	}
	for _, l := range res.Lists {
		d.Lists = append(d.Lists, ProbeDoc{List: l.List.ID, Zone: l.Zone, Health: string(l.Health.State),
			Detail: l.Health.Detail, RTTms: l.Health.RTT.Milliseconds(), Asked: string(askedOf(l))})
	}
	d.Direct = NewDirectDoc(res)
	return d
}

// ProbeTable writes the lists' health as a table for people.
func ProbeTable(w io.Writer, res *dnsbl.Result, resolvers []string, colour bool) error {
	t := &text{w: w, color: colour}
	t.init()
	t.directProblems(res)
	t.resolverProblem(res, resolvers)
	var table bytes.Buffer // a row without a detail ends at its RTT, not in padding
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LIST\tZONE\tHEALTH\tASKED\tRTT\tDETAIL")
	counts := map[dnsbl.HealthState]int{}
	for _, l := range res.Lists {
		h := l.Health
		counts[h.State]++
		rtt := "-"
		if h.RTT > 0 {
			rtt = fmt.Sprintf("%dms", h.RTT.Milliseconds())
		}
		asked := string(askedOf(l))
		if asked == "" {
			asked = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.List.ID, l.Zone, h.State, asked, rtt, Sanitize(h.Detail, 160))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", probeSummary(counts, len(res.Lists), resolvers))
	if counts[dnsbl.HealthBlocked] > 0 && err == nil { // within 80 columns
		_, err = fmt.Fprint(w, "Blocked lists refuse public or shared resolvers: use your own recursive\n"+
			"resolver (e.g. unbound, --resolver 127.0.0.1), or for Spamhaus a free DQS key\n"+
			"in BLCHECK_SPAMHAUS_DQS_KEY.\n")
	}
	return err
}

// probeSummary is the probe's last line: how many lists were probed and how
// they fared, and how many were not probed for want of a key (a list never
// asked is not "probed").
func probeSummary(counts map[dnsbl.HealthState]int, lists int, resolvers []string) string {
	var parts []string
	for _, s := range []dnsbl.HealthState{dnsbl.HealthOK, dnsbl.HealthUntested, dnsbl.HealthBlocked, dnsbl.HealthListsEverything,
		dnsbl.HealthMissing, dnsbl.HealthBadAnswer, dnsbl.HealthNoAnswer, dnsbl.HealthInterrupted} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	via := strings.Join(resolvers, ", ")
	keyed, probed := counts[dnsbl.HealthNeedsKey], lists-counts[dnsbl.HealthNeedsKey]
	line := fmt.Sprintf("%s probed via %s: %s.", plural(probed, "list"), via, strings.Join(parts, ", "))
	if probed == 0 {
		line = "No list probed via " + via + "."
	}
	switch {
	case keyed == 1:
		line += " 1 list not probed: it needs an account key (see blcheck lists)."
	case keyed > 1:
		line += fmt.Sprintf(" %d lists not probed: they need an account key (see blcheck lists).", keyed)
	}
	return line
}

// askedOf is how a list's health was asked: "" when it was not asked at all
// (a keyed list without its key, a list no subject of the run was asked of).
func askedOf(l dnsbl.ListHealth) dnsbl.Asked {
	switch {
	case l.Health.State == dnsbl.HealthNeedsKey, l.Health.State == dnsbl.HealthUnused:
		return ""
	case l.Direct:
		return dnsbl.AskedDirect
	}
	return dnsbl.AskedResolver
}

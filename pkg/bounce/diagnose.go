package bounce

import (
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/blcheck/blcheck/internal/ascii"
	"github.com/blcheck/blcheck/internal/lazyre"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// words too common to be read as a list's name in free text
var commonWords = map[string]bool{"zen": true, "rbl": true, "dnsbl": true}

// HintedLists finds the catalog lists the bounce names: by zone (blocked using
// zen.spamhaus.org), by name or alias ([xbl], SpamCop, SURBL...). It records
// each hint in rep.Hints.
func HintedLists(rep *Report, cat *catalog.Catalog, text string) []*catalog.List {
	// byte for byte: an index into lower is one into text; a continuation
	// line's code ("554-Barracuda Reputation") is blanked, as no part of a name
	lower := contCodeRE().ReplaceAllStringFunc(ascii.LowerString(text), func(m string) string {
		return "\n" + strings.Repeat(" ", len(m)-1)
	})
	h := &hinter{rep: rep, seen: map[string]bool{}, hintSeen: map[string]bool{}, byZone: map[string]bool{}}
	h.zones(cat, lower)
	h.keyedZones(cat, lower)
	h.names(cat, text, lower)
	h.operators(cat, text, lower)
	h.unknownZones(cat, lower)
	h.unknownNames(text)
	// "MailFrom domain is listed in Spamhaus", "Blacklisted URL": what is listed
	// is a domain, so the named operator's domain lists are the ones to ask
	if domainListedRE().MatchString(text) {
		h.domainLists(cat)
	}
	h.clientNames(text)
	return dropUmbrellas(rep, h.dropLinkOnly(h.out))
}

// hinter gathers the lists a bounce names.
type hinter struct {
	rep       *Report
	out       []*catalog.List
	seen      map[string]bool // list IDs in out
	hintSeen  map[string]bool // one hint a list
	byZone    map[string]bool // lists named by their zone
	zoneSpans [][2]int        // where zones were named: a name inside one is part of the zone
	linkOnly  []string        // lists named only inside a link
}

func (h *hinter) add(l *catalog.List, hint, kind string) {
	if !h.hintSeen[strings.ToLower(hint)] && !h.hintSeen["list "+l.ID] {
		h.hintSeen[strings.ToLower(hint)] = true
		h.hintSeen["list "+l.ID] = true
		h.rep.Hints = append(h.rep.Hints, Hint{Text: hint, Kind: kind, List: l.ID, Name: l.Name})
	}
	if !h.seen[l.ID] && !l.Dead() {
		h.seen[l.ID] = true
		h.out = append(h.out, l)
	}
}

// zones finds lists named by their zone, and where.
func (h *hinter) zones(cat *catalog.Catalog, lower string) {
	for _, l := range cat.Lists {
		if l.Keyed() {
			continue
		}
		z := strings.ToLower(l.Zone)
		i := wordIndex(lower, z, false)
		if i < 0 {
			continue
		}
		h.add(l, l.Zone, "zone")
		h.byZone[l.ID] = true
		for from := i; from >= 0 && from < len(lower); {
			h.zoneSpans = append(h.zoneSpans, [2]int{from, from + len(z)})
			j := wordIndex(lower[from+len(z):], z, false)
			if j < 0 {
				break
			}
			from += len(z) + j
		}
	}
}

// clientNameRE is the client's host name in Postfix's reject_rhsbl_client
// reply: "Client host [mail.example.com] blocked using ZONE".
var clientNameRE = lazyre.New(`(?i)\bclient host \[([a-z0-9-]*[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+)\] blocked using ([a-z0-9.-]+)`)

// clientNames takes as a named domain the client's host name a domain list,
// named by its zone, refused ("Client host [mail.example.com] blocked using
// multi.uribl.com"); an IP list's reply names the client by its name too
// (Barracuda's), and that name is not what the list holds.
func (h *hinter) clientNames(text string) {
	for _, m := range clientNameRE().FindAllStringSubmatch(text, 4) {
		zone, name := strings.ToLower(strings.TrimSuffix(m[2], ".")), strings.ToLower(m[1])
		if slices.ContainsFunc(h.out, func(l *catalog.List) bool {
			return h.byZone[l.ID] && l.Subjects() == catalog.KindDomain && strings.EqualFold(l.Zone, zone)
		}) && !slices.Contains(h.rep.NamedDomains, name) {
			h.rep.NamedDomains = append(h.rep.NamedDomains, name)
		}
	}
}

// keyedZones finds keyed lists named by their zone, which a receiver writes
// with its own key in front ("blocked using KEY.zen.dq.spamhaus.net") or, when
// it hides the key, without it ("combined.mail.abusix.zone").
func (h *hinter) keyedZones(cat *catalog.Catalog, lower string) {
	for _, l := range cat.Lists {
		suffix, ok := strings.CutPrefix(strings.ToLower(l.Zone), "{key}.")
		if !l.Keyed() || !ok {
			continue
		}
		named := false
		for i := range wordsAt(lower, suffix) {
			start := i
			if i > 0 && lower[i-1] == '.' { // the key: one label before the zone
				start = i - 1
				for start > 0 && isWordByte(lower[start-1]) {
					start--
				}
			}
			h.zoneSpans = append(h.zoneSpans, [2]int{start, i + len(suffix)})
			named = true
		}
		if named {
			h.add(l, suffix, "zone") // as written, less the receiver's key
			h.byZone[l.ID] = true
		}
	}
}

// unknownZoneRE is a DNS zone named as the list that refused the mail
// (Postfix's "blocked using ZONE", Exim's "is in a black list at ZONE",
// "listed at/in/on ZONE"), for zones the catalog does not hold.
var unknownZoneRE = lazyre.New(`(?:\bblocked using|\bblack ?list at|\b(?:black|block)?listed (?:at|in|on|by))\s+` +
	`([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,63})\b`)

// unknownZones records, as a hint with no list, a zone the bounce names as the
// list that refused the mail when the catalog holds no list by that zone: the
// receiver named its list, and blcheck cannot ask it (hostkarma, invaluement,
// a provider's private zone). A name inside a zone already read
// ("dul.dnsbl.sorbs.net" named SORBS) is left to that hint.
func (h *hinter) unknownZones(cat *catalog.Catalog, lower string) {
	for _, m := range unknownZoneRE().FindAllStringSubmatchIndex(lower, 8) {
		zone := lower[m[2]:m[3]]
		if h.inZone(m[2]) || h.hintSeen[zone] || cat.Lookup(zone) != nil || !publicZone(zone) {
			continue
		}
		if slices.ContainsFunc(h.rep.Hints, func(x Hint) bool { return strings.Contains(zone, strings.ToLower(x.Text)) }) {
			continue
		}
		if l := underZone(cat, zone); l != nil { // postscreen's "blocked using mail.abusix.zone" (a reply map's name)
			h.add(l, zone, "zone")
			h.byZone[l.ID] = true
			continue
		}
		h.hintSeen[zone] = true
		h.rep.Hints = append(h.rep.Hints, Hint{Text: zone, Kind: "unknown zone"})
	}
}

// unknownNameRE is a list named in words as the one that refused the mail,
// by a name the catalog does not hold: "blocked using Trend Micro RBL+",
// "blocked by Vade Threat List", "found in ERS-DUL".
var unknownNameRE = lazyre.New(`\b(?:blocked|(?:black|block)?listed|found) (?:using|by|in|on) (?:the )?` +
	`((?:[A-Z][A-Za-z0-9.&-]*\s){1,3}(?:RBL\+?|DNSBL|Threat List|Block ?[Ll]ist|Blacklist|Reputation(?: List)?)|ERS-[A-Z]{2,})(?:[^A-Za-z0-9]|$)`)

// unknownNames records, as a hint with no list, a list the bounce names in
// words that the catalog does not hold, unless a known list's name is part of
// it ("Barracuda Reputation") or follows it ("Exploits Block List (XBL)"): the receiver named its list, and blcheck cannot
// ask it, so a run that did not is incomplete, never clean.
func (h *hinter) unknownNames(text string) {
	for _, m := range unknownNameRE().FindAllStringSubmatchIndex(text, 4) {
		name := strings.TrimSpace(text[m[2]:m[3]])
		lower := strings.ToLower(name)
		after := strings.ToLower(text[m[3]:min(len(text), m[3]+16)]) // "the Exploits Block List (XBL)"
		if h.hintSeen[lower] || slices.ContainsFunc(h.rep.Hints, func(x Hint) bool {
			t := strings.ToLower(x.Text)
			return strings.Contains(lower, t) || strings.Contains(t, lower) || x.List != "" && strings.Contains(after, t)
		}) {
			continue
		}
		h.hintSeen[lower] = true
		h.rep.Hints = append(h.rep.Hints, Hint{Text: name, Kind: "unknown list"})
	}
}

// publicZone reports whether zone is under a real top-level domain (the ICANN
// part of the Public Suffix List), as a public list's zone is: "grey.rbl" (a
// greylist) and "87.blocklist.zap" are a receiver's own names.
func publicZone(zone string) bool {
	suffix, icann := publicsuffix.PublicSuffix(zone)
	return icann && suffix != zone
}

// underZone is the default list (else the first working one) whose zone lies
// under zone: "mail.abusix.zone" stands for Abusix's combined list.
func underZone(cat *catalog.Catalog, zone string) *catalog.List {
	var first *catalog.List
	for _, l := range cat.Lists {
		if l.Dead() || !strings.HasSuffix(strings.ToLower(l.Zone), "."+zone) {
			continue
		}
		if l.Default {
			return l
		}
		if first == nil {
			first = l
		}
	}
	return first
}

func (h *hinter) inZone(i int) bool {
	for _, sp := range h.zoneSpans {
		if i >= sp[0] && i < sp[1] {
			return true
		}
	}
	return false
}

// names finds lists named by a name or alias, where it is named as a list.
func (h *hinter) names(cat *catalog.Catalog, text, lower string) {
	for _, l := range cat.Lists {
		for _, a := range l.Aliases {
			a = strings.ToLower(a)
			if len(a) < 3 || commonWords[a] {
				continue
			}
			for i := range wordsAt(lower, a) {
				if !h.inZone(i) && namedAsList(lower, i, len(a)) {
					h.add(l, text[i:i+len(a)], "name")
					if inLink(lower, i) {
						h.linkOnly = append(h.linkOnly, l.ID)
					}
					break
				}
			}
		}
	}
}

// operatorRE is an operator's name that may stand for its list: one word
// ("Abusix"), not a sentence ("The Spamhaus Project").
var operatorRE = lazyre.New(`^[A-Za-z][A-Za-z0-9]{4,}$`)

// operators finds lists named by their operator's one-word name where it is
// named as a list ("IP blocked by Abusix"): the operator's default list of
// addresses stands for it, unless a list of that operator is named already.
func (h *hinter) operators(cat *catalog.Catalog, text, lower string) {
	for _, l := range cat.Lists {
		op := strings.ToLower(l.Operator)
		if !l.Default || l.Subjects() != catalog.KindIP || !operatorRE().MatchString(l.Operator) || commonWords[op] ||
			slices.ContainsFunc(h.out, func(o *catalog.List) bool { return o.Operator == l.Operator }) {
			continue
		}
		for i := range wordsAt(lower, op) {
			if !h.inZone(i) && namedAsList(lower, i, len(op)) && !inLink(lower, i) {
				h.add(l, text[i:i+len(op)], "name")
				break
			}
		}
	}
}

// domainLists asks, for a domain listing, the named operators' domain lists,
// and drops an IP list named only by its operator's name ("Spamhaus": ZEN).
func (h *hinter) domainLists(cat *catalog.Catalog) {
	var keep []*catalog.List
	for _, hl := range h.out {
		var domains []*catalog.List
		for _, l := range cat.Lists {
			if l.Operator != "" && l.Operator == hl.Operator && l.Subjects() == catalog.KindDomain && l.Default && !l.Keyed() {
				domains = append(domains, l)
				if !h.seen[l.ID] {
					h.seen[l.ID] = true
					keep = append(keep, l)
				}
			}
		}
		if len(domains) > 0 && hl.Subjects() == catalog.KindIP && !h.byZone[hl.ID] {
			for i := range h.rep.Hints { // the name stood for the operator's domain list
				if h.rep.Hints[i].List == hl.ID {
					h.rep.Hints[i].List, h.rep.Hints[i].Name = domains[0].ID, domains[0].Name
				}
			}
			continue
		}
		keep = append(keep, hl)
	}
	h.out = keep
}

// dropLinkOnly leaves out a list named only inside a link when another list of
// its operator is named by zone: "blocked using zen.spamhaus.org;
// https://www.spamhaus.org/sbl/query/SBLCSS" names ZEN.
func (h *hinter) dropLinkOnly(lists []*catalog.List) []*catalog.List {
	var out []*catalog.List
	for _, l := range lists {
		byZone := slices.ContainsFunc(lists, func(o *catalog.List) bool { return o != l && h.byZone[o.ID] && o.Operator == l.Operator })
		if slices.Contains(h.linkOnly, l.ID) && byZone {
			h.rep.Hints = slices.DeleteFunc(h.rep.Hints, func(x Hint) bool { return x.List == l.ID })
			continue
		}
		out = append(out, l)
	}
	return out
}

// inLink reports whether lower[i] is inside a URL.
func inLink(lower string, i int) bool {
	start := max(0, i-200)
	k := strings.LastIndexAny(lower[start:i], " \t\n<>\"'(")
	return strings.Contains(lower[start+k+1:i], "://") || strings.HasPrefix(lower[start+k+1:i], "www.")
}

// dropUmbrellas leaves out a list named only by its operator's name in words
// ("see spamhaus.org", "Spamhaus") when another list of that operator is named
// too: "blocked using sbl.spamhaus.org ... www.spamhaus.org/query" names SBL, not ZEN;
// and a part of a list the receiver asked by zone (PBL, in ZEN's text).
func dropUmbrellas(rep *Report, lists []*catalog.List) []*catalog.List {
	byName, byZone := map[string]bool{}, map[string]bool{}
	for _, h := range rep.Hints {
		if h.Kind == "name" && strings.EqualFold(h.Text, strings.Fields(h.Name + " x")[0]) {
			byName[h.List] = true // named by its operator's word alone
		}
		if h.Kind == "zone" {
			byZone[h.List] = true
		}
	}
	var out []*catalog.List
	for _, l := range lists {
		other := slices.ContainsFunc(lists, func(o *catalog.List) bool { return o != l && o.Operator != "" && o.Operator == l.Operator })
		// "blocked using zen.spamhaus.org ... listed on the Policy Block List
		// (PBL)": the part the list's own text names is in the zone the
		// receiver asked; asking both would count one listing twice
		inAsked := l.PartOf != "" && byZone[l.PartOf] && !byZone[l.ID]
		if byName[l.ID] && other || inAsked {
			rep.Hints = slices.DeleteFunc(rep.Hints, func(h Hint) bool { return h.List == l.ID })
			continue
		}
		out = append(out, l)
	}
	return out
}

// listContextRE is what comes before a list's name when a bounce names it as
// the list that refused the mail: "listed in", "blocked using", "blacklisted by"...
var listContextRE = lazyre.New(`(?i)(?:(?:black|block)?listed|blocked|rejected|found|reported)\s+(?:(?:in|on|at|by|using|with)\s+)?(?:the\s+)?(?:[a-z0-9-]+\s+)?$|` +
	`\b(?:is|are|was|appears?)\s+(?:on|in)\s+(?:the\s+)?(?:[a-z0-9-]+\s+)?$|` +
	`\b(?:address(?:es)?|ips?|hosts?)\s+(?:on|in)\s+(?:the\s+)?(?:[a-z0-9-]+\s+)?$|` +
	`\b(?:dnsbl|rbl|blacklist|blocklist|blocklisted|blacklisted|listing|listed)\b[^.\n]{0,30}$`)

// namedAsList reports whether the name at lower[i:i+n] is named as a list: in
// brackets ("reject content [xbl]"), after words that say a list refused the
// mail, or in a link (a list's lookup page); a product or host name alone (a
// Barracuda appliance rejecting for content) is not.
func namedAsList(lower string, i, n int) bool {
	if i > 0 && lower[i-1] == '[' && i+n < len(lower) && lower[i+n] == ']' {
		return true
	}
	start := max(0, i-60)
	before := lower[start:i]
	if k := strings.LastIndexAny(before, " \t\n"); k >= 0 {
		if tok := before[k+1:]; strings.Contains(tok, "://") || strings.HasPrefix(tok, "www.") {
			return true // inside a URL: a list's lookup or removal page
		}
	} else if strings.Contains(before, "://") {
		return true
	}
	return listContextRE().MatchString(before) || listAfterRE().MatchString(lower[i+n:min(len(lower), i+n+24)])
}

// listAfterRE is what follows a list's name when it is named as one: "Spamhaus's list", "SpamCop blocklist"
var listAfterRE = lazyre.New(`^(?:'s|’s)?\s*(?:(?:black|block)?list|rbl|dnsbl)\b`)

var contCodeRE = lazyre.New(`\n\s*[45]\d\d[ -](?:[45]\.\d{1,3}\.\d{1,3}[ -])?`)

var domainListedRE = lazyre.New(`(?i)\b(?:mail ?from|sender|sending|envelope|from)? ?domain\b[^.\n]{0,60}\b(?:black|block)?listed\b|` +
	`\b(?:black|block)?listed (?:url|uri|domain|link)s?\b|\b(?:url|uri|link)s? (?:is |are )?(?:black|block)?listed\b|` +
	`spamhaus\.org/query/(?:domain/|dbl\b)`) // Spamhaus's lookup page for a domain: DBL's

// wordsAt yields, left to right, where w stands in lower as a word (wordIndex,
// a dot allowed next to it), each occurrence after the last one's end.
func wordsAt(lower, w string) iter.Seq[int] {
	return func(yield func(int) bool) {
		for from := 0; from < len(lower); {
			j := wordIndex(lower[from:], w, true)
			if j < 0 {
				return
			}
			i := from + j
			from = i + len(w)
			if !yield(i) {
				return
			}
		}
	}
}

// wordIndex finds w in s as a whole word, not inside a longer name; a zone must
// not be the end of a longer zone (dotOK false), a name may follow a dot (www.spamhaus.org).
func wordIndex(s, w string, dotOK bool) int {
	for from := 0; ; {
		i := strings.Index(s[from:], w)
		if i < 0 {
			return -1
		}
		i += from
		before, after := byte(' '), byte(' ')
		if i > 0 {
			before = s[i-1]
		}
		if j := i + len(w); j < len(s) {
			after = s[j]
		}
		if !isWordByte(before) && !isWordByte(after) && (dotOK || before != '.') {
			return i
		}
		from = i + 1
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

var urlRE = lazyre.New(`https?://[^\s<>"')]+`)

// firstLink is the first URL in text whose host contains host, or "".
func firstLink(text, host string) string {
	for _, raw := range urlRE().FindAllString(text, 20) {
		raw = strings.TrimRight(raw, ".,;")
		if u, err := url.Parse(raw); err == nil && strings.Contains(strings.ToLower(u.Host), host) {
			return raw
		}
	}
	return ""
}

// Finding is one listed subject that may explain the bounce, in plain words.
type Finding struct {
	Sentence string   `json:"sentence"`
	Target   string   `json:"target"`
	Subject  string   `json:"subject"`
	Lists    []string `json:"lists"`
	Meanings []string `json:"meanings"`
	Reason   string   `json:"reason,omitempty"`
	Delist   []string `json:"delist_urls"`
	Hinted   bool     `json:"named_in_bounce"`
	Advice   string   `json:"advice"`
}

// Diagnosis is the answer to "why was my mail rejected?".
type Diagnosis struct {
	Said      string    `json:"said"`
	Named     []string  `json:"named_lists"`
	Provider  *Provider `json:"provider,omitempty"`
	Findings  []Finding `json:"findings"`
	Explained bool      `json:"explained"`
	// Cause is why the receiver refused the mail, in plain words.
	Cause   Cause  `json:"cause"`
	Summary string `json:"summary"`
}

// Origin says how each target (by index) relates to the bounced mail, for the
// diagnosis: "linked in your message", "the address your mail came from"...
type Origin map[int][]string

// Diagnose puts the bounce and the check results together: the cause in plain
// words, one finding per listed subject (the lists the bounce names first), and
// a summary. cause is Classify's, and rep.Provider the provider's block, if any
// (DetectProvider).
func Diagnose(rep *Report, cause Cause, hinted []*catalog.List, res *dnsbl.Result, origin Origin) *Diagnosis {
	d := &Diagnosis{Named: []string{}, Findings: []Finding{}, Provider: rep.Provider}
	d.Said = said(rep)
	d.Cause = cause
	isHinted := map[string]bool{}
	for _, l := range hinted {
		d.Named = append(d.Named, l.ID)
		isHinted[l.ID] = true
	}
	for _, tr := range res.Targets {
		d.Findings = append(d.Findings, targetFindings(tr, origin, hinted, isHinted)...)
	}
	sortFindings(d.Findings)
	d.Explained = len(d.Findings) > 0
	d.Summary = summary(rep, d, hinted, res)
	return d
}

// targetFindings is one finding per listed subject of a target.
func targetFindings(tr *dnsbl.TargetResult, origin Origin, hinted []*catalog.List, isHinted map[string]bool) []Finding {
	via := map[string][]string{}
	for _, s := range tr.Subjects {
		via[s.Name] = s.Via
	}
	var order []string
	checks := map[string][]dnsbl.Check{}
	for _, c := range tr.Checks {
		if c.Status != dnsbl.Listed || c.NotCounted != "" {
			continue
		}
		if checks[c.Subject] == nil {
			order = append(order, c.Subject)
		}
		checks[c.Subject] = append(checks[c.Subject], c)
	}
	var out []Finding
	for _, subj := range order {
		cs := checks[subj]
		hintedList := func(l *catalog.List) bool { return isHinted[l.ID] || sameOperator(l, hinted) }
		sortChecks(cs, func(c dnsbl.Check) bool { return hintedList(c.List) }) // the lists the bounce names first
		f := Finding{Target: tr.Target.Input, Subject: subj, Delist: []string{}}
		listNames := f.addChecks(cs, hintedList)
		f.Sentence = sentence(tr, strings.Join(origin[tr.Index], " and "), subj, via[subj], joinAnd(listNames), f.Meanings)
		f.Advice = advice(cs[0], cs[0].List, f.Meanings)
		out = append(out, f)
	}
	return out
}

// addChecks adds a subject's listings to the finding, one of each group of
// lists that hold the same listing, and returns the lists' names for people.
func (f *Finding) addChecks(cs []dnsbl.Check, hinted func(*catalog.List) bool) []string {
	group := func(c dnsbl.Check) string { // listings on a list and on one that contains it are one
		if c.DuplicateOf != nil {
			return c.DuplicateOf.ID
		}
		return c.List.ID
	}
	var listNames []string
	shown := map[string]bool{}
	for _, c := range cs {
		g := group(c)
		if shown[g] {
			continue
		}
		shown[g] = true
		name := c.List.Name
		var same []string
		for _, d := range cs {
			if d.List != c.List && group(d) == g {
				same = append(same, d.List.Name)
			}
		}
		if len(same) > 0 {
			name += " (the same listing as on " + joinAnd(same) + ")"
		}
		listNames = append(listNames, name)
		f.Lists = append(f.Lists, c.List.ID)
		for _, m := range c.Meanings {
			f.Meanings = appendNew(f.Meanings, m)
		}
		if c.DelistURL != "" {
			f.Delist = appendNew(f.Delist, c.DelistURL)
		}
		if f.Reason == "" {
			f.Reason = c.Reason
		}
		f.Hinted = f.Hinted || hinted(c.List)
	}
	return listNames
}

// summary is the diagnosis in a few sentences: the listing that explains the
// bounce, or its cause and what was (not) found.
func summary(rep *Report, d *Diagnosis, hinted []*catalog.List, res *dnsbl.Result) string {
	answered, rdns, unasked := tally(hinted, res)
	// a named list that was not asked is said among the problems, not here
	named, staleSetup := namedAndDead(rep, hinted)
	var notAsked []string
	for _, l := range hinted {
		if !unasked[l.ID] {
			continue
		}
		named = slices.DeleteFunc(named, func(n string) bool { return n == l.Name })
		if m := askedMirror(l, res); m != nil { // DQS without its key: the public zone holds the same data
			staleSetup += " The bounce names " + l.Name + ", which needs an account key; its public mirror " + m.Name +
				" was asked instead."
			continue
		}
		notAsked = append(notAsked, l.Name)
	}
	if len(notAsked) > 0 {
		staleSetup += " The bounce names " + joinAnd(notAsked) + ", which could not be asked (see the problems below)."
	}
	var s string
	switch kind := d.Cause.Kind; {
	case d.Explained:
		s = d.Findings[0].Sentence + ". " + d.Findings[0].Advice
	case kind == CauseRDNS && len(rdns) > 0:
		s = "The receiver refused the mail for the sending address's reverse DNS, not for a listing: " + strings.Join(rdns, "; ") + "."
	case kind == CauseRDNS:
		s = "The receiver refused the mail for the sending address's reverse DNS, not for a listing. " +
			"Ask whoever runs the address (your provider) for a PTR record naming your mail server, " +
			"whose own A record points back at the address; then check it with blcheck --ptr <that address>."
	case kind == CauseRecipient:
		s = d.Cause.Words
	case kind == CauseContent && len(res.Targets) == 0 && rep.Returned != nil:
		s = "The receiver refused the mail's content, not the server that sent it, and the message the bounce " +
			"returns holds no link, host or address to check: the refusal was for its words or attachments."
	case kind == CauseContent && len(res.Targets) == 0:
		s = "The receiver refused the mail's content, not the server that sent it, and the bounce does not include " +
			"the message, so nothing of it was checked. Save the mail you sent as a file and run: blcheck scan FILE " +
			"(it checks every domain and link in it, and their addresses, on the lists receivers use)."
	case kind == CauseContent && answered > 0 && rep.Returned == nil:
		s = "The receiver refused the mail's content; what its rejection names is not listed now on the lists asked" +
			namedNote(named) + ", and the bounce does not include the message, so the rest of it was not checked: " +
			"save the mail you sent as a file and run: blcheck scan FILE." + staleSetup
	case kind == CauseContent && answered > 0:
		s = "The receiver refused the mail's content; nothing in the returned message is listed now on the lists asked" +
			namedNote(named) + ": the listing may have expired, or the receiver judged the content by its own filter." + staleSetup
	case d.Provider != nil:
		s = d.Cause.Words
	case kind == CauseAuth || kind == CauseRate:
		s = d.Cause.Words
	default:
		s = checkedSummary(res, answered, named, staleSetup)
	}
	if !d.Explained && len(res.Summary.Incomplete) > 0 && answered > 0 {
		s += " Some of it could not be checked (see the problems below), so this is not the whole answer."
	}
	return s
}

// askedMirror is the public list a keyed list replaces that a check asked
// (ZEN for "KEY.zen.dq.spamhaus.net" when no key is set), or nil.
func askedMirror(l *catalog.List, res *dnsbl.Result) *catalog.List {
	if !l.Keyed() {
		return nil
	}
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if c.List != nil && c.Status != dnsbl.Skipped && slices.Contains(l.Replaces, c.List.ID) {
				return c.List
			}
		}
	}
	return nil
}

// tally counts the checks a list answered (listed or clean), gathers what the
// reverse DNS check found of the sending addresses, and says which named lists
// no check asked (a keyed list without its key, a domain list and no domain).
func tally(hinted []*catalog.List, res *dnsbl.Result) (answered int, rdns []string, unasked map[string]bool) {
	unasked = map[string]bool{}
	for _, l := range hinted {
		unasked[l.ID] = len(res.Targets) > 0
	}
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if c.Status == dnsbl.Listed || c.Status == dnsbl.Clean {
				answered++
			}
			if c.List != nil && c.Status != dnsbl.Skipped {
				unasked[c.List.ID] = false
			}
		}
		for _, n := range tr.Notes {
			if strings.Contains(n, "reverse DNS") {
				rdns = append(rdns, n)
			}
		}
	}
	return answered, rdns, unasked
}

// Unasked says, for the reasons a run is incomplete, which lists the bounce
// names no check asked, and why: asked holds the lists some check asked (a
// skipped check asks nothing). The receiver blamed those lists, so a run that
// did not ask them cannot read clean. Keyed lists are left out: the caller
// says those, knowing whether a key or a public mirror stood in for them.
func Unasked(hinted []*catalog.List, asked map[string]bool) []string {
	var out []string
	for _, l := range hinted {
		switch {
		case asked[l.ID] || l.Keyed():
		case l.Subjects() == catalog.KindDomain:
			out = append(out, "the bounce names "+l.Name+", a domain list, and shows no domain of the sender's "+
				"to ask it about: it was not asked")
		default:
			out = append(out, "the bounce names "+l.Name+", a list of addresses, and no address of the sender's "+
				"it shows could be asked of it: it was not asked")
		}
	}
	return out
}

func namedNote(named []string) string {
	if len(named) == 0 {
		return ""
	}
	return " (" + joinAnd(named) + ")"
}

// namedAndDead names the lists the bounce names that work, and says which no
// longer do (HintedLists leaves out only dead lists).
func namedAndDead(rep *Report, hinted []*catalog.List) ([]string, string) {
	var named, dead []string
	alive := map[string]bool{}
	for _, l := range hinted {
		named = append(named, l.Name)
		alive[l.ID] = true
	}
	for _, h := range rep.Hints {
		if !alive[h.List] && h.Name != "" && !slices.Contains(dead, h.Name) {
			dead = append(dead, h.Name)
		}
	}
	note := UnknownNote(rep)
	if note != "" { // "the bounce names ...": a sentence of its own here
		note = " The" + strings.TrimPrefix(note, "the") + "."
	}
	if len(dead) == 0 {
		return named, note
	}
	return named, " The bounce names " + joinAnd(dead) + ", which no longer " + map[bool]string{true: "works", false: "work"}[len(dead) == 1] +
		": the receiver's setup is stale, and its verdict on that list means nothing." + note
}

// NoSenderAddressNote says, for a refusal by a list of addresses, that the
// bounce shows no address of the server that sent the mail (the returned copy
// may show only the sender's own computer submitting it), so that address
// was not checked; or "". A refusal naming only domain lists needs none.
func NoSenderAddressNote(rep *Report, cause Cause, hinted []*catalog.List) string {
	if cause.Kind != CauseBlacklist || len(rep.SenderIPs) > 0 ||
		len(hinted) > 0 && !slices.ContainsFunc(hinted, func(l *catalog.List) bool { return l.Subjects() == catalog.KindIP }) {
		return ""
	}
	return "the bounce shows no address of the server that sent your mail, so it was not checked: " +
		"run blcheck on your mail server's address"
}

// UnknownNote says which zones the bounce names as the list that refused the
// mail that no catalog list stands for (unknownZones), or "": blcheck cannot
// ask them, so it cannot say whether the sender is on them.
func UnknownNote(rep *Report) string {
	var unknown []string
	for _, h := range rep.Hints {
		if h.List == "" {
			unknown = append(unknown, h.Text)
		}
	}
	if len(unknown) == 0 {
		return ""
	}
	what := "a list blcheck does not know: it was not asked"
	if len(unknown) > 1 {
		what = "lists blcheck does not know: they were not asked"
	}
	return "the bounce names " + joinAnd(unknown) + ", " + what + " (their own lookup pages say whether you are listed)"
}

// checkedSummary says what the checks found when no listing explains a
// blacklist (or unexplained) bounce.
func checkedSummary(res *dnsbl.Result, answered int, named []string, staleSetup string) string {
	switch {
	case len(res.Targets) == 0:
		return "The bounce shows no address or domain of yours to check, so nothing was checked." + staleSetup +
			" Check your outgoing mail server yourself: blcheck <its public IP address>."
	case answered == 0:
		return "The lists could not be asked (every query failed), so this says nothing about listings: " +
			"see the errors below, and run it again through a working resolver." + staleSetup
	case len(named) > 0:
		return "The bounce names " + joinAnd(named) + ", but what was checked is not listed there now: " +
			"the listing may have expired, or it concerns an address this bounce does not show." + staleSetup
	case staleSetup != "":
		return strings.TrimSpace(staleSetup) + " Nothing checked is listed on the lists asked."
	}
	return "Nothing checked is listed, and the bounce names no list: the receiver's reason is in its own words above."
}

func sortChecks(cs []dnsbl.Check, first func(dnsbl.Check) bool) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && first(cs[j]) && !first(cs[j-1]); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func sameOperator(l *catalog.List, hinted []*catalog.List) bool {
	if l == nil {
		return false
	}
	for _, h := range hinted {
		if h.Operator != "" && h.Operator == l.Operator {
			return true
		}
	}
	return false
}

func sortFindings(fs []Finding) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Hinted && !fs[j-1].Hinted; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func said(rep *Report) string {
	who := "The receiving server"
	switch {
	case rep.Server.Name != "" && rep.Server.Addr != "":
		who = fmt.Sprintf("%s [%s]", rep.Server.Name, rep.Server.Addr)
	case rep.Server.Name != "":
		who = rep.Server.Name
	case rep.Server.Addr != "":
		who = rep.Server.Addr
	}
	to := ""
	switch {
	case rep.replyTo != "": // the reply quoted is this recipient's, not every one's
		to = " to " + rep.replyTo
	case len(rep.Recipients) > 0:
		to = " to " + strings.Join(rep.Recipients, ", ")
	}
	verb := "rejected"
	if strings.HasPrefix(rep.Code, "4") || strings.HasPrefix(rep.Enhanced, "4.") {
		verb = "deferred (refused for now, and the sender retries)" // a 4xx reply is not a rejection
	}
	s := fmt.Sprintf("%s %s your mail%s", who, verb, to)
	if rep.Diagnostic != "" {
		s += ": " + rep.Diagnostic
	} else {
		s += " (a delivery report with no reason given)"
	}
	return s
}

func sentence(tr *dnsbl.TargetResult, origin, subject string, via []string, list string, meanings []string) string {
	what := tr.Target.Input
	if origin != "" {
		what += ", " + origin + ","
	}
	meaning := ""
	if len(meanings) > 0 {
		meaning = " (" + strings.Join(meanings, "; ") + ")"
	}
	if subject == tr.Target.Input || subject == tr.Target.Domain && tr.Target.Host == tr.Target.Domain {
		return fmt.Sprintf("%s is in %s%s", what, list, meaning)
	}
	how := "resolves to"
	for _, v := range via {
		if strings.HasPrefix(v, "MX ") {
			how = "receives its mail at " + strings.TrimPrefix(v, "MX ") + ", which resolves to"
			break
		}
	}
	if tr.Target.Kind == dnsbl.KindDomain && subject == tr.Target.Domain {
		how = "belongs to the domain"
	}
	return fmt.Sprintf("%s %s %s, which is in %s%s", what, how, subject, list, meaning)
}

// advice says what to fix first for a listing, from what the listing means.
func advice(c dnsbl.Check, l *catalog.List, meanings []string) string {
	m := strings.ToLower(strings.Join(meanings, " "))
	delist := "request removal"
	if c.DelistURL != "" {
		delist = "request removal at " + c.DelistURL
	}
	switch {
	case strings.Contains(m, "xbl") || strings.Contains(m, "exploited") || strings.Contains(m, "infected") ||
		strings.Contains(m, "botnet") || strings.Contains(m, "bot,"):
		return "A machine on that network is infected or exploited: find and clean it, block outgoing port 25 " +
			"from everything but your mail server, then " + delist + "."
	case strings.Contains(m, "pbl") || strings.Contains(m, "end-user") || strings.Contains(m, "policy"):
		return "The address is in a range its provider says should not send mail directly: send through your " +
			"provider's mail server (port 587 with authentication) rather than asking for removal."
	case strings.Contains(m, "not this server itself") || strings.Contains(m, "network's owner can act") ||
		strings.Contains(m, "network's operator can act"):
		// UCEPROTECT 2 and 3: a removal request for this address does not apply
		return "The listing is of your provider's network, not of this server, so a removal request for this address does " +
			"not apply: only the network's operator can have it lifted. Tell your provider, or send through a server on another network."
	case l != nil && l.Kind == catalog.KindDomain:
		return "The domain itself is listed: check whether it or its web site was compromised or used in spam, " +
			"fix that, then " + delist + "."
	case l != nil && l.ID == "spamcop":
		return "SpamCop listings end by themselves about a day after the reports stop: find what sent the reported mail."
	case strings.Contains(m, "spam") || strings.Contains(m, "trap"):
		return "Mail from that address reached spam traps or was reported as spam: find what sent it and stop it, then " + delist + "."
	}
	return "Fix what got it listed, then " + delist + "."
}

package bounce

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

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
	lower := ascii.LowerString(text) // byte for byte: an index into lower is one into text
	seen := map[string]bool{}
	hintSeen := map[string]bool{}
	var out []*catalog.List
	add := func(l *catalog.List, hint, kind string) {
		if !hintSeen[strings.ToLower(hint)] && !hintSeen["list "+l.ID] { // one hint a list
			hintSeen[strings.ToLower(hint)] = true
			hintSeen["list "+l.ID] = true
			rep.Hints = append(rep.Hints, Hint{Text: hint, Kind: kind, List: l.ID, Name: l.Name})
		}
		if !seen[l.ID] && !l.Dead() {
			seen[l.ID] = true
			out = append(out, l)
		}
	}
	var zoneSpans [][2]int // where zones were named: a name inside one is part of the zone
	byZone := map[string]bool{}
	for _, l := range cat.Lists {
		if l.Keyed() {
			continue
		}
		z := strings.ToLower(l.Zone)
		if i := wordIndex(lower, z, false); i >= 0 {
			add(l, l.Zone, "zone")
			byZone[l.ID] = true
			for from := i; from >= 0 && from < len(lower); {
				zoneSpans = append(zoneSpans, [2]int{from, from + len(z)})
				j := wordIndex(lower[from+len(z):], z, false)
				if j < 0 {
					break
				}
				from += len(z) + j
			}
		}
	}
	inZone := func(i int) bool {
		for _, sp := range zoneSpans {
			if i >= sp[0] && i < sp[1] {
				return true
			}
		}
		return false
	}
	for _, l := range cat.Lists {
		for _, a := range l.Aliases {
			a = strings.ToLower(a)
			if len(a) < 3 || commonWords[a] {
				continue
			}
			for from := 0; from < len(lower); {
				j := wordIndex(lower[from:], a, true)
				if j < 0 {
					break
				}
				i := from + j
				from = i + len(a)
				if !inZone(i) && namedAsList(lower, i, len(a)) {
					add(l, text[i:i+len(a)], "name")
					break
				}
			}
		}
	}
	// "MailFrom domain is listed in Spamhaus", "Blacklisted URL": what is listed
	// is a domain, so the named operator's domain lists are the ones to ask, and
	// an IP list named only by its operator's name ("Spamhaus": ZEN) is not
	if domainListedRE().MatchString(text) {
		var keep []*catalog.List
		for _, h := range out {
			var domains []*catalog.List
			for _, l := range cat.Lists {
				if l.Operator != "" && l.Operator == h.Operator && l.Subjects() == catalog.KindDomain && l.Default && !l.Keyed() {
					domains = append(domains, l)
					if !seen[l.ID] {
						seen[l.ID] = true
						keep = append(keep, l)
					}
				}
			}
			if len(domains) > 0 && h.Subjects() == catalog.KindIP && !byZone[h.ID] {
				for i := range rep.Hints { // the name stood for the operator's domain list
					if rep.Hints[i].List == h.ID {
						rep.Hints[i].List, rep.Hints[i].Name = domains[0].ID, domains[0].Name
					}
				}
				continue
			}
			keep = append(keep, h)
		}
		out = keep
	}
	return out
}

// listContextRE is what comes before a list's name when a bounce names it as
// the list that refused the mail: "listed in", "blocked using", "blacklisted by"...
var listContextRE = lazyre.New(`(?i)(?:(?:black|block)?listed|blocked|rejected|found|reported)\s+(?:(?:in|on|at|by|using|with)\s+)?(?:the\s+)?(?:[a-z0-9-]+\s+)?$|` +
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
	return listContextRE().MatchString(before)
}

var domainListedRE = lazyre.New(`(?i)\b(?:mail ?from|sender|sending|envelope|from)? ?domain\b[^.\n]{0,60}\b(?:black|block)?listed\b|` +
	`\b(?:black|block)?listed (?:url|uri|domain|link)s?\b|\b(?:url|uri|link)s? (?:is |are )?(?:black|block)?listed\b`)

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

var (
	msCodeRE = lazyre.New(`(?i)\bS3(?:113|114|140|150)\b|\b[45]\.7\.6(?:0[6-9]|[1-4]\d|50)\b|banned sending ip|` +
		`\b(?:SC|DY|OU)-00\d\b|messages from \S+ weren't sent`)
	gmailRE     = lazyre.New(`(?i)gmail|google\.com|googlemail`)
	yahooRE     = lazyre.New(`(?i)yahoo|aol\.com|\bymail\b`)
	yahooCodeRE = lazyre.New(`\b(?:TSS0[1-9]|TS0[1-3]|PH01)\b|\b5\.7\.9\b`)
	// words, not substrings: the "rate" in "auto-generated" is no rate limit
	gmailAuthRE       = lazyre.New(`(?i)\b(?:dmarc|unauthenticated)\b`)
	gmailReputationRE = lazyre.New(`(?i)\b(?:unsolicited|rate(?:[ -]?limit(?:ed|ing)?)?|reputation|suspicious)\b`)
)

// DetectProvider recognises rejections by a mailbox provider's own block list,
// from the receiver's words alone (Report.Said) and the rejecting host's name:
// never from the bounce's own transport headers. text is the whole bounce, no
// longer read (kept for callers).
func DetectProvider(rep *Report, text string) *Provider {
	_ = text
	all := rep.Said() + " " + rep.Server.Name
	switch {
	case msCodeRE().MatchString(all):
		return &Provider{
			Name: "Microsoft (Outlook.com, Hotmail, Microsoft 365)",
			Why:  "Microsoft's own block list rejected the sending address; no public blacklist query shows it.",
			Remedy: "Request delisting at https://sender.office.com (Microsoft 365 recipients) or through " +
				"Outlook.com support at https://olcsupport.office.com (consumer mailboxes); watch your address in SNDS.",
		}
	case gmailRE().MatchString(all) && (rep.Enhanced == "5.7.26" || gmailAuthRE().MatchString(all)):
		return &Provider{
			Name:   "Google (Gmail)",
			Why:    "Gmail rejected the message because it failed authentication (SPF, DKIM or DMARC); no blacklist is involved.",
			Remedy: "Publish SPF and DKIM for your domain, align them with DMARC, and follow https://support.google.com/mail/answer/81126.",
		}
	case gmailRE().MatchString(all) && (strings.HasPrefix(rep.Enhanced, "5.7.") || strings.HasPrefix(rep.Enhanced, "4.7.")) &&
		gmailReputationRE().MatchString(all):
		return &Provider{
			Name:   "Google (Gmail)",
			Why:    "Gmail's own reputation system rejected the message; no public blacklist query shows it.",
			Remedy: "Follow Google's sender guidelines (https://support.google.com/mail/answer/81126) and watch your domain in Postmaster Tools.",
		}
	case yahooRE().MatchString(all) && yahooCodeRE().MatchString(all):
		return &Provider{
			Name:   "Yahoo / AOL",
			Why:    "Yahoo's own filters deferred or rejected the mail; no public blacklist query shows it.",
			Remedy: "See Yahoo's sender guidelines and support form at https://senders.yahooinc.com/.",
		}
	}
	for _, o := range ownLists {
		if o.re().MatchString(all) {
			p := o.p
			p.Link = firstLink(all, o.linkHost)
			return &p
		}
	}
	return nil
}

// ownLists are receivers whose block list is their own, recognised by the codes
// and wordings of their replies (never a product name alone: "scanned by
// Proofpoint" in a footer is no rejection); the bounce's own link, where it has one, is
// where to ask for removal.
var ownLists = []struct {
	re       func() *regexp.Regexp
	linkHost string // the link to take from the bounce: a URL with this in its host
	p        Provider
}{
	{lazyre.New(`\bOFR_?\d{3}`), "cloudmark", Provider{Name: "Orange (Cloudmark)",
		Why:    "Orange's reputation filter, run by Cloudmark, refused the sending address (an OFR code); no public blacklist query shows it.",
		Remedy: "Ask for a reset through the Cloudmark link in the bounce, or Orange's postmaster pages."}},
	{lazyre.New(`(?i)dnsbl-lookup\.cgi|ipcheck\.proofpoint\.com`), "proofpoint", Provider{Name: "Proofpoint",
		Why:    "Proofpoint's own reputation list refused the sending address; no public blacklist query shows it.",
		Remedy: "Request removal at https://ipcheck.proofpoint.com/ (or the link in the bounce)."}},
	{lazyre.New(`AUP#[A-Z]+`), "cox", Provider{Name: "Cox",
		Why:    "Cox's own block list refused the sending address (an AUP code); no public blacklist query shows it.",
		Remedy: "Follow the link in the bounce to Cox's unblock request."}},
	{lazyre.New(`(?i)host network not allowed`), "mimecast", Provider{Name: "Mimecast",
		Why:    "Mimecast refused the sending network: its own reputation data or a block the recipient's organisation set.",
		Remedy: "Ask the recipient's IT team to allow your sending address, or use the link in the bounce."}},
	{lazyre.New(`DNSBL:RBL\b|abuse_rbl@abuse-att\.net`), "att", Provider{Name: "AT&T",
		Why:    "AT&T's own block list refused the sending address (a DNSBL:RBL code); no public blacklist query shows it.",
		Remedy: "Forward the error, as the bounce asks, to abuse_rbl@abuse-att.net from a mailbox that is not blocked."}},
	{lazyre.New(`(?i)\bfrequency limited\b`), "qq.com", Provider{Name: "Tencent (QQ Mail)",
		Why:    "Tencent limits how often an address may send to it: the mail was refused for its rate, not for a listing.",
		Remedy: "Send more slowly to Tencent's domains, and try again later."}},
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
	Summary   string    `json:"summary"`
}

// Origin says how each target (by index) relates to the bounced mail, for the
// diagnosis: "linked in your message", "the address your mail came from"...
type Origin map[int][]string

// Diagnose puts the bounce and the check results together: one finding per
// listed subject, the lists the bounce names first.
func Diagnose(rep *Report, hinted []*catalog.List, res *dnsbl.Result, origin Origin, names map[string]*catalog.List) *Diagnosis {
	d := &Diagnosis{Named: []string{}, Findings: []Finding{}, Provider: rep.Provider}
	d.Said = said(rep)
	isHinted := map[string]bool{}
	for _, l := range hinted {
		d.Named = append(d.Named, l.ID)
		isHinted[l.ID] = true
	}
	for _, tr := range res.Targets {
		via := map[string][]string{}
		for _, s := range tr.Subjects {
			via[s.Name] = s.Via
		}
		bySubject := map[string]*Finding{}
		var order []string
		var checks = map[string][]dnsbl.Check{}
		for _, c := range tr.Checks {
			if c.Status != dnsbl.Listed || c.NotCounted != "" {
				continue
			}
			f := bySubject[c.Subject]
			if f == nil {
				f = &Finding{Target: tr.Target.Input, Subject: c.Subject, Delist: []string{}}
				bySubject[c.Subject] = f
				order = append(order, c.Subject)
			}
			checks[c.Subject] = append(checks[c.Subject], c)
		}
		for _, subj := range order {
			f := bySubject[subj]
			cs := checks[subj]
			// the lists the bounce names first
			sortChecks(cs, func(c dnsbl.Check) bool { return isHinted[c.List.ID] || sameOperator(c.List, hinted) })
			var listNames []string
			group := func(c dnsbl.Check) string { // listings on a list and on one that contains it are one
				if c.DuplicateOf != nil {
					return c.DuplicateOf.ID
				}
				return c.List.ID
			}
			shown := map[string]bool{}
			for _, c := range cs { // the lists the bounce names first: one of a group is shown
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
				f.Hinted = f.Hinted || isHinted[c.List.ID] || sameOperator(c.List, hinted)
			}
			f.Sentence = sentence(tr, strings.Join(origin[tr.Index], " and "), subj, via[subj], joinAnd(listNames), f.Meanings)
			f.Advice = advice(cs[0], cs[0].List, f.Meanings)
			d.Findings = append(d.Findings, *f)
		}
	}
	sortFindings(d.Findings)
	d.Explained = len(d.Findings) > 0
	answered := 0 // checks a list answered (listed or clean)
	for _, tr := range res.Targets {
		for _, c := range tr.Checks {
			if c.Status == dnsbl.Listed || c.Status == dnsbl.Clean {
				answered++
			}
		}
	}
	var named, dead []string // list names, for people
	for _, l := range hinted {
		named = append(named, l.Name)
	}
	alive := map[string]bool{}
	for _, l := range hinted {
		alive[l.ID] = true
	}
	for _, h := range rep.Hints {
		if !alive[h.List] && h.Name != "" && !slices.Contains(dead, h.Name) {
			dead = append(dead, h.Name) // HintedLists leaves out only dead lists
		}
	}
	staleSetup := ""
	if len(dead) > 0 {
		staleSetup = " The bounce names " + joinAnd(dead) + ", which no longer " + map[bool]string{true: "works", false: "work"}[len(dead) == 1] +
			": the receiver's setup is stale, and its verdict on that list means nothing."
	}
	var rdns []string // what the reverse DNS check found of the sending addresses
	for _, tr := range res.Targets {
		for _, n := range tr.Notes {
			if strings.Contains(n, "reverse DNS") {
				rdns = append(rdns, n)
			}
		}
	}
	switch {
	case d.Explained:
		d.Summary = d.Findings[0].Sentence + ". " + d.Findings[0].Advice
	case rep.AboutReverseDNS() && len(rdns) > 0:
		d.Summary = "The receiver refused the mail for the sending address's reverse DNS, not for a listing: " +
			strings.Join(rdns, "; ") + "."
	case rep.AboutReverseDNS():
		d.Summary = "The receiver refused the mail for the sending address's reverse DNS, not for a listing. " +
			"Ask whoever runs the address (your provider) for a PTR record naming your mail server, " +
			"whose own A record points back at the address; then check it with blcheck --ptr <that address>."
	case d.Provider != nil:
		d.Summary = d.Provider.Why + " " + d.Provider.Remedy
	case len(res.Targets) == 0:
		d.Summary = "The bounce shows no address or domain of yours to check, so nothing was checked." + staleSetup +
			" Check your outgoing mail server yourself: blcheck <its public IP address>."
	case answered == 0:
		d.Summary = "The lists could not be asked (every query failed), so this says nothing about listings: " +
			"see the errors below, and run it again through a working resolver." + staleSetup
	case len(named) > 0:
		d.Summary = "The bounce names " + joinAnd(named) + ", but what was checked is not listed there now: " +
			"the listing may have expired, or it concerns an address this bounce does not show." + staleSetup
	case len(dead) > 0:
		d.Summary = strings.TrimSpace(staleSetup) + " Nothing checked is listed on the lists that work."
	default:
		d.Summary = "Nothing checked is listed, and the bounce names no list: the receiver's reason is in its own words above."
	}
	if !d.Explained && len(res.Summary.Incomplete) > 0 && answered > 0 {
		d.Summary += " Some of it could not be checked (see the problems below), so this is not the whole answer."
	}
	return d
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
	if len(rep.Recipients) > 0 {
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

package bounce

import (
	"slices"
	"strings"

	"github.com/blcheck/blcheck/internal/lazyre"
	"github.com/blcheck/blcheck/pkg/catalog"
)

// The kinds of cause a bounce gives.
const (
	CauseBlacklist = "blacklist"      // a public blacklist (named, or not)
	CauseProvider  = "provider"       // a mailbox provider's own reputation block
	CauseRate      = "rate"           // a rate limit or deferral
	CauseContent   = "content"        // a content or spam verdict on the mail itself
	CauseAuth      = "authentication" // SPF, DKIM, DMARC
	CauseRDNS      = "reverse-dns"    // PTR missing or not forward-confirmed
	CauseRecipient = "recipient"      // unknown user, mailbox full, over quota, too big
	CauseOther     = "other"          // no reason this reads
)

// Cause is why the receiver refused the mail, in plain words.
type Cause struct {
	Kind  string `json:"kind"`
	Words string `json:"words"`
}

// NothingToCheck reports whether the cause is one no blacklist check bears on.
func (c Cause) NothingToCheck() bool { return c.Kind == CauseRecipient }

// listedWords say that a blacklist rejected the mail (listWordRE); unnamedListRE
// adds looser words to them.
const listedWords = `(?i)\bblack ?list|\bblock ?list|\brbl\b|\bdnsbls?\b|\bbanned\b|\blisted (?:at|in|on|by)\b|\bidentified as (?:a )?spammer\b|` +
	`\bip(?: address)? (?:was )?found (?:in|on)\b` // Trend Micro's "the sender IP found in ERS-DUL"

var (
	rateRE = lazyre.New(`(?i)\bunusual rate\b|\brate[ -]?limit(?:ed|ing)?\b|\btoo many (?:messages|connections|recipients|e?-?mails|concurrent)\b|` +
		`\bfrequency limited\b|\b4\.7\.28\b|\bthrottl|\bsending rate\b|\bexceeded (?:the )?(?:rate|message limit|sending limit)\b|` +
		`\bgreylist|\bgraylist|\breceiving mail at a rate\b|\bqueue quota\b|\bsending too many\b|\bratelimit\b`)
	contentRE = lazyre.New(`(?i)\breject(?:ed)? content\b|\bcontent (?:rejected|filter(?:ing)?|polic(?:y|ies)|violation)\b|` +
		`\bmessage content\b|\b(?:as|is|be|like|likely|probably|considered|contains?|appears to be) spam\b|` +
		`\bspam[ -](?:message|content|score|detected|rejection|filter|mail|id)\b|\bspam-like\b|\bscored?\b[^.\n]{0,40}\b(?:too high|over|exceeds?|limit)\b|` +
		`\bspam scale\b|\bcontent reject\b|` +
		`\b(?:likely|appears to be|is) unsolicited\b|\bunsolicited (?:message|commercial|bulk)\b|\bvirus\b|\bmalware\b|\bphishing\b|` +
		`\b(?:blocked|blacklisted|blocklisted|listed|bad|forbidden) (?:url|uri|link|domain in (?:the )?(?:message|body))s?\b|` +
		`\b(?:url|uri|link)s? (?:is |are )?(?:black|block)?listed\b|\buribl\b|\bsurbl\b|\bbulk mail\b|\bsuspicious (?:content|links?|urls?)\b|` +
		`\(spam\)|\[CS\d*\]|\bspam (?:rejected|blocked)\b|\bcontent denied\b|\binappropriate (?:words|content)\b|forbidden[ _]file[ _]extension|` +
		`\b(?:attachment|file extension|file type)s? (?:is |are )?(?:not allowed|forbidden|blocked|rejected)\b|垃圾邮件|` +
		`\bidentified as spam\b|\banti-?spam (?:checks?|filter)|\bspambox\b|\bsuspicion of spam\b|\bsuspected (?:as )?spam\b|\bprobability of spam\b|\bspam probability\b|"?from"? header is (?:missing|invalid)|` +
		`\bdoes not meet (?:our )?delivery requirements\b|\bmessage rejected due to local policy\b|` +
		`\brejected by (?:the )?(?:rspamd|spamassassin|amavisd?)\b`) // a spam filter's score
	authRE = lazyre.New(`(?i)\b5\.7\.2[3678]\b|\b5\.7\.515\b|\brequired authentication level\b|\bspf\b|\bdkim\b|\bdmarc\b|\bunauthenticated\b|\bsender policy framework\b|` +
		`\bnot (?:pass|passing) authentication\b|\bauthentication (?:checks|information|failed|required)\b`)
	recipientRE = lazyre.New(`(?i)\buser unknown\b|\bunknown (?:user|recipient|address|mailbox)\b|\bno such (?:user|mailbox|recipient|address|account)\b|` +
		`\b(?:mailbox|account|address|user|recipient|e-mail account)\b[^.\n]{0,30}\b(?:does not|doesn't|do not|did not) exist\b|` +
		`\bmailbox (?:is )?(?:full|not found|disabled|inactive|frozen)\b|\b(?:mail |message )?size limit exceeded\b|\brecipient ?not ?found\b|\baddress (?:couldn't|could not) be found\b|\bmailbox size limit\b|\brecipient (?:is )?not allowed\b|` +
		`\bnot in (?:the )?route list\b|\b(?:doesn't|does not) have an? (?:[\w.]+ )?(?:account|mailbox)\b|\bover ?quota\b|\bquota exceeded\b|` +
		`\b(?:exceeds?|exceeded) (?:the )?(?:storage|quota|size limit|maximum (?:message )?size|message size)\b|\binsufficient (?:system )?storage\b|` +
		`\bmessage (?:is )?too (?:big|large)\b|\bmessage size exceeds\b|not listed in (?:public name & address book|domino directory)|` +
		`\baccount or domain may not exist\b|\brecipient (?:address )?rejected\b|\b[45]\.4\.1\b[^\n]{0,80}?\baccess denied\b|\binvalid (?:recipient|address|mailbox)\b|` +
		`\baccount (?:has been |is )?(?:disabled|suspended|closed|expired|inactive)\b|\brelay(?:ing)? (?:access )?(?:denied|not permitted)\b|\b(?:unable to|cannot|can't|not permitted to) relay\b|\btoo much mail data\b|` +
		`\bdomain (?:not found|does not exist)\b|\bdomain is (?:not reachable|unreachable)\b|\binactive (?:user|account|mailbox|recipient)\b|` +
		`\b(?:user|account|mailbox)(?: account)? (?:status )?(?:is )?(?:suspended|locked|not activated)\b|\b(?:address|mailbox|account) no longer exists\b|\bhost (?:or domain name )?not found\b|\bname service error for name=\S+ type=(?:MX|A|AAAA)\b|\bunrouteable\b|\bno mailbox here\b`)
	// Postfix's reject_rhsbl_*: the sender's own name refused by a domain list
	// ("Client host [mail.example.com] blocked using multi.uribl.com"), which
	// judged the server's name, not the mail's content
	nameBlockedRE = lazyre.New(`(?i)\b(?:client host|helo command|sender address) \[(?:[^\]\s@]*@)?[a-z0-9-]*[a-z][a-z0-9.-]*\] blocked using\b`)
	// a gateway's spoofing protection (Mimecast's "Rejected by header based Anti-Spoofing policy")
	antiSpoofRE  = lazyre.New(`(?i)\banti-?spoofing\b`)
	reputationRE = lazyre.New(`(?i)\breputation\b`)
	// a temporary refusal in words
	laterRE = lazyre.New(`(?i)\btry (?:again )?later\b|\btemporar(?:y|ily)\b|\bnot yet been delivered\b|` +
		`\bdelivery attempts will continue\b|\bwill (?:be )?retr(?:y|ied)\b|\bquota for (?:the )?(?:total )?number of\b|\bsending quota\b`)
	weakRecipientRE = lazyre.New(`(?i)\bmailbox unavailable\b`)
	// the receiver could not verify the sender's address or its domain's DNS
	senderCheckRE = lazyre.New(`(?i)\bsender verify failed\b|\bverification failed for\b|\bsender address rejected\b|` +
		`\binvalid dns (?:mx|a)\b|\b(?:mx|a/aaaa) (?:resource )?record\b`)
	// the list refused the receiver's queries: Spamhaus's "open resolver",
	// URIBL's "127.0.0.1 -> Query Refused" (uribl.com/refused.shtml)
	openResolverRE  = lazyre.New(`(?i)\bopen resolver\b|spamhaus\.org/returnc/|\bquery refused\b|uribl\.com/refused`)
	recipientCodeRE = lazyre.New(`^[45]\.(?:1\.\d{1,3}|2\.[0-4]|3\.4)$`)
	// a list named as the reason, in words strong enough to outweigh a
	// recipient phrase beside them ("Recipient address rejected: your IP is on
	// our blacklist"); unnamedListRE's looser words would not
	listWordRE = lazyre.New(listedWords)
	// a blacklist in words, without naming one
	unnamedListRE = lazyre.New(listedWords + `|\bspam ?list\b|\bblocked (?:using|by)\b|\bfound on one or more\b|\breputation\b|` +
		`\b(?:ip|address|host|network|client|sender|server|mail from)\b[^\n]{0,40}?\b(?:not allowed|blocked|denied|refused|banned|rejected)\b`)
)

// rcptPrefixRE is Postfix's "Recipient address rejected:", which it puts
// before whatever refused the mail at RCPT (a greylist, a policy service, a
// blacklist, an unknown user): the words after it say which.
var rcptPrefixRE = lazyre.New(`(?i)\brecipient address rejected:`)

// fold is text as one line for the patterns of a cause: line ends, indents
// and a wrapped reply's continuation codes ("550-") taken out, so that a
// phrase wrapped across lines ("your reverse\nDNS") reads as written; and
// Postfix's "Recipient address rejected:" prefix, which says nothing of why.
func fold(text string) string {
	text = contCodeRE().ReplaceAllLiteralString(text, "\n")
	text = rcptPrefixRE().ReplaceAllLiteralString(text, "")
	return strings.Join(strings.Fields(text), " ")
}

// Classify says why the receiver refused the mail, from its own words (Said),
// the lists it names (hinted) and its provider's block (rep.Provider).
func Classify(rep *Report, hinted []*catalog.List) Cause {
	said, diag := fold(rep.Said()), fold(rep.Diagnostic)
	switch {
	case rdnsRE().MatchString(said):
		return Cause{CauseRDNS, "Reverse DNS: the receiver refused the sending address because it has no PTR record, " +
			"or its PTR name does not resolve back to it. Not a blacklist."}
	case rateRE().MatchString(said) && (deferred(rep) || rep.Provider != nil && rep.Provider.rate):
		return Cause{CauseRate, rateWords(rep)}
	case contentRE().MatchString(said) && (rep.Provider == nil || !rep.Provider.ipList) && !nameBlockedRE().MatchString(said):
		return Cause{CauseContent, "A content or spam verdict: the receiver refused what the mail holds (its words, " +
			"links or attachments), not the server that sent it." + contentLists(hinted)}
	case antiSpoofRE().MatchString(said):
		return Cause{CauseAuth, "Spoofing protection: the mail's From names a domain the receiver protects (often the " +
			"recipient's own), and it came from a server that domain does not vouch for (SPF, DKIM) or that the recipient's " +
			"gateway was not told to trust. Not a blacklist: the recipient's IT team can add an exception."}
	case authRE().MatchString(said) && !namedByZone(rep):
		return Cause{CauseAuth, "Authentication: the mail failed the receiver's SPF, DKIM or DMARC checks " +
			"(the sending domain's DNS records do not vouch for the server that sent it). Not a blacklist."}
	case len(hinted) > 0 || len(rep.Hints) > 0:
		return Cause{CauseBlacklist, blacklistWords(rep, hinted)}
	case rep.Provider != nil && (deferred(rep) || rep.Provider.rate):
		return Cause{CauseRate, rateWords(rep)}
	case rep.Provider != nil:
		return Cause{CauseProvider, providerWords(rep.Provider)}
	case rateRE().MatchString(said):
		return Cause{CauseRate, rateWords(rep)}
	case senderCheckRE().MatchString(said):
		return Cause{CauseOther, "The receiver could not verify your sending address or its domain (its DNS has no " +
			"usable MX or A record, or the callout to your mail server failed): fix your domain's DNS and mail server; not a blacklist."}
	case (recipientRE().MatchString(said) || recipientCodeRE().MatchString(rep.Enhanced) && codeSaid(rep)) &&
		!listWordRE().MatchString(diag):
		return Cause{CauseRecipient, "A recipient problem (" + recipientWhat(said, rep.Enhanced) +
			"): not a blacklist problem; nothing to check."}
	case laterRE().MatchString(said) || rateRE().MatchString(said):
		return Cause{CauseRate, rateWords(rep)}
	case weakRecipientRE().MatchString(said):
		return Cause{CauseRecipient, "A recipient problem (the mailbox is unavailable): not a blacklist problem; nothing to check."}
	}
	return unnamedCause(rep, diag)
}

// namedByZone reports whether the receiver named a list by its zone
// ("blocked using zen.spamhaus.org"): the list refused the mail, whatever its
// text goes on to say (Spamhaus's PBL text speaks of "unauthenticated email").
func namedByZone(rep *Report) bool {
	return slices.ContainsFunc(rep.Hints, func(h Hint) bool { return h.Kind == "zone" && h.List != "" })
}

// unnamedCause is the cause of a reply that names no list, provider or
// recipient problem: a list or a reputation in its words, a deferral, or none.
func unnamedCause(rep *Report, diag string) Cause {
	unnamed := Cause{CauseBlacklist, "A block list the receiver does not name (its own, or a public one): " +
		"the address or domain the mail came from was refused."}
	switch {
	case listWordRE().MatchString(diag): // a list named as the reason outweighs advice to check a reputation
		return unnamed
	case reputationRE().MatchString(diag):
		return Cause{CauseProvider, "The receiver's own reputation system refused the sending address or domain; " +
			"no public blacklist names it, and only the receiver's postmaster pages say how to improve it."}
	case unnamedListRE().MatchString(diag):
		return unnamed
	case deferred(rep):
		return Cause{CauseRate, rateWords(rep)}
	}
	return Cause{CauseOther, "The receiver gives no reason this reads as a blacklist, a provider's block, " +
		"a rate limit, content, authentication, reverse DNS or the recipient: its own words are above."}
}

// codeSaid reports whether the enhanced code is the receiver's own (in its
// reply, or with no reply to read), not an MTA's mapping of a bare reply code.
func codeSaid(rep *Report) bool {
	return rep.Diagnostic == "" || strings.Contains(rep.Diagnostic, rep.Enhanced)
}

// deferred reports whether the reply is a temporary one (4xx).
func deferred(rep *Report) bool {
	return strings.HasPrefix(rep.Code, "4") || rep.Code == "" && strings.HasPrefix(rep.Enhanced, "4.")
}

// blacklistWords names the lists, and says when the receiver's own setup
// is what failed (Spamhaus's "open resolver" answer).
func blacklistWords(rep *Report, hinted []*catalog.List) string {
	s := "A blacklist: the receiver refused the mail because the sender is on " + listWords(rep, hinted) + "."
	if m := openResolverRE().FindString(rep.Said()); m != "" {
		words := "open resolver" // Spamhaus's
		if strings.Contains(strings.ToLower(m), "refused") {
			words = "Query Refused" // URIBL's
		}
		s += " But the receiver's own words say its queries were refused (\"" + words + "\"): its blacklist " +
			"setup is broken, the listing may not be real, and only its postmaster can fix it."
	}
	return s
}

func rateWords(rep *Report) string {
	who := ""
	if rep.Provider != nil {
		who = " (" + rep.Provider.Name + ")"
	}
	return "A rate limit or deferral" + who + ": the receiver refused the mail for now (how much or how fast it came, " +
		"or a greylist), not for a listing; the sending server retries by itself."
}

// contentLists says, for a content rejection, what the lists it names judge:
// the domains in the mail and their addresses, not the server that sent it.
func contentLists(hinted []*catalog.List) string {
	var ip, uri []string
	for _, l := range hinted {
		if l.Subjects() == catalog.KindIP {
			ip = append(ip, l.Name)
		} else {
			uri = append(uri, l.Name)
		}
	}
	var s string
	if len(uri) > 0 {
		s += " It names " + joinAnd(uri) + ", which list domains found in mail."
	}
	if len(ip) > 0 {
		s += " It names " + joinAnd(ip) + ": for a content rejection that means the addresses the domains in the mail resolve to."
	}
	return s
}

// listWords names the lists a bounce names, and who runs them.
func listWords(rep *Report, hinted []*catalog.List) string {
	var names []string
	for _, l := range hinted {
		n := l.Name
		if l.Operator != "" && !strings.Contains(strings.ToLower(l.Operator), strings.ToLower(strings.Fields(n)[0])) {
			n += " (run by " + l.Operator + ")"
		} else if l.Operator != "" {
			n += " (" + l.Operator + ")"
		}
		names = append(names, n)
	}
	for _, h := range rep.Hints {
		switch {
		case h.List == "": // a zone no catalog list stands for
			names = append(names, h.Text+" (a list blcheck does not know)")
		case !containsList(hinted, h.List) && h.Name != "":
			names = append(names, h.Name+" (no longer working)")
		}
	}
	return joinAnd(names)
}

func containsList(ls []*catalog.List, id string) bool {
	for _, l := range ls {
		if l.ID == id {
			return true
		}
	}
	return false
}

func providerWords(p *Provider) string {
	s := "A provider's own reputation block (" + p.Name + "), which no public blacklist query shows."
	if p.Code != "" {
		s += " " + p.Code
	}
	if p.Link != "" {
		s += " Its link: " + p.Link + "."
	}
	return s
}

// recipientWhat names the recipient problem.
func recipientWhat(said, enhanced string) string {
	l := strings.ToLower(said)
	switch {
	case strings.Contains(l, "full") || strings.Contains(l, "quota") || strings.Contains(l, "storage") || enhanced == "5.2.2" || enhanced == "4.2.2":
		return "the mailbox is full or over its quota"
	case strings.Contains(l, "too big") || strings.Contains(l, "too large") || strings.Contains(l, "size") || enhanced == "5.3.4" || enhanced == "5.2.3":
		return "the message is too big"
	case strings.Contains(l, "reachable"):
		return "the recipient's domain could not be reached"
	case strings.Contains(l, "relay"):
		return "the receiving server does not take mail for that address"
	case strings.Contains(l, "disabled") || strings.Contains(l, "suspended") || strings.Contains(l, "inactive") || enhanced == "5.2.1":
		return "the mailbox is disabled"
	}
	return "the address does not exist there"
}

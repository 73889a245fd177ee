package bounce

import (
	"regexp"
	"strings"

	"github.com/blcheck/blcheck/internal/lazyre"
)

var (
	msCodeRE = lazyre.New(`(?i)\bS3(?:113|114|140|150)\b|\b[45]\.7\.6(?:0[6-9]|[1-4]\d|50)\b|banned sending ip|` +
		`\b(?:SC|DY|OU)-00\d\b|messages from (?:\S+ )?weren't sent|\b[45]\.7\.5(?:0[0-9]|1[0-9]|20)\b|\bAS\(\d{3,5}\)|` +
		`\(AS\d{3,5}\)|\bFBLW15\b|delist@messaging\.microsoft\.com|part of their network is on our block list`)
	// a public list named in a Microsoft reply: "blocked using Spamhaus ... (AS3130)"
	publicListRE = lazyre.New(`(?i)\bblocked using (?:spamhaus|spamcop|barracuda|[a-z0-9-]+\.[a-z0-9.-]+\.(?:org|net|com))\b`)
	gmailRE      = lazyre.New(`(?i)gmail|google\.com|googlemail|\bgsmtp\b`)
	yahooRE      = lazyre.New(`(?i)yahoo|aol\.com|\bymail\b`)
	yahooCodeRE  = lazyre.New(`\b(?:TSS\d{2}|TS0[1-3]|IPTS\d{2}|PH01)\b|\b5\.7\.9\b`)
	// words, not substrings: the "rate" in "auto-generated" is no rate limit
	gmailAuthRE       = lazyre.New(`(?i)\b(?:dmarc|unauthenticated)\b`)
	gmailReputationRE = lazyre.New(`(?i)\b(?:unsolicited|rate(?:[ -]?limit(?:ed|ing)?)?|reputation|suspicious|not authorized to send email directly|NotAuthorizedError)\b`)
)

// DetectProvider recognises rejections by a mailbox provider's own block list,
// from the receiver's words alone (Report.Said) and the rejecting host's name:
// never from the bounce's own transport headers. text is the whole bounce, no
// longer read (kept for callers). Code says what the provider's code means.
//
// A receiver that names a public list the catalog holds as the reason ("IP
// blocked by Abusix", "in Spamhaus's list") refused by that list, not by its
// own: HintedLists, run first, has recorded it in rep.Hints, and no provider
// is said.
func DetectProvider(rep *Report, text string) *Provider {
	_ = text
	for _, h := range rep.Hints {
		if h.List != "" {
			return nil
		}
	}
	all := rep.Said() + " " + rep.Server.Name
	p := detectProvider(rep, all)
	if p != nil {
		p.Code = codeMeaning(all)
	}
	return p
}

func detectProvider(rep *Report, all string) *Provider {
	switch {
	case msCodeRE().MatchString(all) && !publicListRE().MatchString(all):
		return &Provider{
			Name: "Microsoft (Outlook.com, Hotmail, Microsoft 365)",
			Why:  "Microsoft's own filters refused the mail; no public blacklist query shows it.",
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
			Why:    "Gmail's own reputation system refused the mail; no public blacklist query shows it.",
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
		Remedy: "Ask for a reset through the Cloudmark link in the bounce, or Orange's postmaster pages.", ipList: true}},
	{lazyre.New(`\bLPN\d{3}_\d{3}\b`), "cloudmark", Provider{Name: "La Poste (Cloudmark)",
		Why:    "La Poste's filter, run like Orange's by Cloudmark, refused the mail (an LPN code); no public blacklist query shows it.",
		Remedy: "Ask for a reset at https://csi.cloudmark.com/reset-request/ (Cloudmark's sender reputation), or La Poste's postmaster pages.", ipList: true}},
	// Cisco Secure Email (IronPort): its greeting refusal for the Talos
	// (formerly SenderBase) reputation of the sending address
	{lazyre.New(`(?i)\bsending MTA'?s poor reputation\b|\bsenderbase\.org\b|talosintelligence\.com/reputation`), "talosintelligence",
		Provider{Name: "Cisco (IronPort, Talos reputation)",
			Why: "The recipient's Cisco Secure Email gateway (IronPort) refused the sending address for its Talos (SenderBase) " +
				"reputation; no public blacklist query shows it.",
			Remedy: "Look the address up at https://talosintelligence.com/reputation_center and dispute its reputation there; " +
				"reach the recipient by other means meanwhile.", ipList: true}},
	{lazyre.New(`(?i)dnsbl-lookup\.cgi|ipcheck\.proofpoint\.com`), "proofpoint", Provider{Name: "Proofpoint",
		Why:    "Proofpoint's own reputation list refused the sending address; no public blacklist query shows it.",
		Remedy: "Request removal at https://ipcheck.proofpoint.com/ (or the link in the bounce).", ipList: true}},
	{lazyre.New(`AUP#(?:In|Out)-\d{3,4}\b|spectrum\.net/support/internet/understanding-email-error-codes`), "spectrum",
		Provider{Name: "Spectrum (Charter)",
			Why:    "Spectrum's own filter refused the mail (an AUP# code); no public blacklist query shows it.",
			Remedy: "Look the code up on Spectrum's email error-code page linked in the bounce and use its unblock form."}},
	{lazyre.New(`AUP#[A-Z]{2,}\b`), "cox", Provider{Name: "Cox",
		Why:    "Cox's own block list refused the sending address (an AUP code); no public blacklist query shows it.",
		Remedy: "Follow the link in the bounce to Cox's unblock request.", ipList: true}},
	{lazyre.New(`(?i)host network not allowed|\benvelope blocked\b|community\.mimecast\.com`), "mimecast", Provider{Name: "Mimecast",
		Why: "Mimecast, the recipient's mail gateway, refused the mail: by its own reputation data, or by a policy the " +
			"recipient's organisation set (a block, an anti-spoofing or a content policy).",
		Remedy: "Ask the recipient's IT team to allow your sending address, or use the link in the bounce."}},
	{lazyre.New(`DNSBL:RBL\b|abuse_rbl@abuse-att\.net`), "att", Provider{Name: "AT&T",
		Why:    "AT&T's own block list refused the sending address (a DNSBL:RBL code); no public blacklist query shows it.",
		Remedy: "Forward the error, as the bounce asks, to abuse_rbl@abuse-att.net from a mailbox that is not blocked.", ipList: true}},
	{lazyre.New(`(?i)\bfrequency limited\b`), "qq.com", Provider{Name: "Tencent (QQ Mail)",
		Why:    "Tencent limits how often an address may send to it: the mail was refused for its rate, not for a listing.",
		Remedy: "Send more slowly to Tencent's domains, and try again later.", rate: true}},
	{lazyre.New(`(?i)ionos\.(?:com|de|co\.uk)/help|postmaster\.1und1\.de|\bsmtp\.ionos\.`), "ionos",
		Provider{Name: "IONOS (1&1, United Internet)",
			Why:    "United Internet's own reputation filter ('policy restrictions') refused the mail; no public blacklist query shows it.",
			Remedy: "Read the help page the bounce links (its c= code says why) and use its contact form to ask for the block to be lifted."}},
	{lazyre.New(`(?i)postmaster\.gmx\.|gmx\.(?:net|de|com)/mail/senderguidelines|postmaster\.web\.de|web\.de/.*senderguidelines`), "gmx",
		Provider{Name: "GMX / WEB.DE (United Internet)",
			Why:    "United Internet's own reputation filter ('policy restrictions') refused the sending address; no public blacklist query shows it.",
			Remedy: "Read the case page the bounce links and use its contact form to ask for the block to be lifted."}},
	{lazyre.New(`(?i)t-online\.de[\s\S]*\(BL\)|\(BL\)[\s\S]*t-online\.de`), "t-online", Provider{Name: "T-Online (Deutsche Telekom)",
		Why:    "T-Online's own block list ('(BL)') refused the sending address; no public blacklist query shows it.",
		Remedy: "Write to tosa@rx.t-online.de (as the bounce says) from an unblocked address, per https://postmaster.t-online.de/.", ipList: true}},
	{lazyre.New(`(?i)\btosa@rx\.t-online\.de\b`), "t-online", Provider{Name: "T-Online (Deutsche Telekom)",
		Why: "T-Online's own checks refused the sending address (its reputation, its reverse DNS, or the sending " +
			"domain's web site without the contact details T-Online asks for); no public blacklist query shows it.",
		Remedy: "Read https://postmaster.t-online.de/, then write to tosa@rx.t-online.de (as the bounce says) from an unblocked address."}},
	{lazyre.New(`(?i)\bcsi\.cloudmark\.com\b|\bcloudmark poor reputation\b`), "cloudmark", Provider{Name: "Cloudmark (CSI)",
		Why: "Cloudmark's sender reputation, which many providers use (Comcast, Cox, Orange and others), refused the " +
			"sending address; no public blacklist query shows it.",
		Remedy: "Ask for a reset at https://csi.cloudmark.com/reset-request/ (or the link in the bounce).", ipList: true}},
	{lazyre.New(`(?i)\bcomcast block\b|\bcomcast\b[^.\n]{0,60}\bblocked for spam\b`), "comcast", Provider{Name: "Comcast (Xfinity)",
		Why:    "Comcast's own block list refused the sending address; no public blacklist query shows it.",
		Remedy: "Ask Comcast for removal through its postmaster pages (https://postmaster.comcast.net/).", ipList: true}},
	{lazyre.New(`(?i)blocked by earthlink|earthlink\.net/block`), "earthlink", Provider{Name: "EarthLink",
		Why:    "EarthLink's own block list refused the sending address; no public blacklist query shows it.",
		Remedy: "Follow the link in the bounce (earthlink.net/block) to ask for the block to be lifted.", ipList: true}},
	{lazyre.New(`(?i)help\.mail\.ru/notspam|notspam-support|abuse@corp\.mail\.ru`), "mail.ru", Provider{Name: "Mail.ru",
		Why:    "Mail.ru's own filter refused the mail; no public blacklist query shows it.",
		Remedy: "Use the notspam-support link in the bounce to ask Mail.ru to review it."}},
	{lazyre.New(`(?i)support\.apple\.com/[a-z-]*/?HT204137|\bicloud\.com\b[\s\S]{0,200}\blocal policy\b`), "apple", Provider{Name: "Apple (iCloud)",
		Why:    "iCloud's own filter refused the mail ('local policy'); no public blacklist query shows it.",
		Remedy: "Follow Apple's postmaster page (https://support.apple.com/en-us/102322, formerly HT204137) and its contact form."}},
	{lazyre.New(`(?i)\bDT:SPM\b|\bRP:(?:RDN|QRC|CEL|TRC)\b|\bMI:(?:SFQ|STC)\b|mail\.163\.com`), "163.com", Provider{Name: "NetEase (163.com, 126.com)",
		Why:    "NetEase's own filter refused the mail (a DT/RP/MI code); no public blacklist query shows it.",
		Remedy: "Look the code up on NetEase's help page linked in the bounce (http://help.163.com/special/email/error.html)."}},
}

// codeMeanings say what providers' own codes mean.
var codeMeanings = []struct {
	re      func() *regexp.Regexp
	meaning string
}{
	{lazyre.New(`\bS3(?:113|114|140|150)\b`), "Its S3xxx code means the sending address is on Outlook.com's own block list."},
	{lazyre.New(`\b[45]\.7\.6(?:0[6-9]|[1-4]\d)\b`), "Its 5.7.606-649 code means the sending address is on Microsoft's own block list (banned sending IP)."},
	{lazyre.New(`\b[45]\.7\.650\b`), "Its 4.7.650 code means Microsoft rate-limits the address for its reputation."},
	{lazyre.New(`\b5\.7\.501\b`), "Its 5.7.501 code means Microsoft blocked the sending account itself for spam: an admin must release it."},
	{lazyre.New(`\b5\.7\.520\b|\bAS\(\d{3,5}\)`), "Its 5.7.520 / AS(nnnn) code means Microsoft's anti-spam filter judged the message's content."},
	{lazyre.New(`\bTSS04\b`), "Its TSS04 code means Yahoo defers mail from the address for its volume or its users' complaints."},
	{lazyre.New(`\bTSS09\b`), "Its TSS09 code means Yahoo refuses the address for its reputation."},
	{lazyre.New(`\bOFR_?\d{3}`), "Its OFR code means Orange's Cloudmark reputation refused the address."},
	{lazyre.New(`\bDT:SPM\b`), "Its DT:SPM code means NetEase judged the message's content to be spam."},
	{lazyre.New(`\bRP:(?:RDN|QRC|CEL|TRC)\b`), "Its RP code means NetEase refuses the address for its reputation or rate."},
	{lazyre.New(`\(BL\)`), "Its (BL) code means the address is on T-Online's own block list."},
	{lazyre.New(`(?i)\br0735\b|policy restrictions`), "'Policy restrictions' means United Internet refuses the address for its reputation."},
	{lazyre.New(`\b4\.7\.28\b`), "Its 4.7.28 code means Gmail saw an unusual rate of unsolicited mail from the address or domain."},
	{lazyre.New(`NotAuthorizedError|not authorized to send email directly`), "Gmail's NotAuthorizedError means the address is " +
		"in an end-user range (as Spamhaus PBL lists them) that should not send mail directly: send through your provider's " +
		"mail server (port 587 with authentication)."},
}

// codeMeaning is what the provider's code in text means, or "".
func codeMeaning(text string) string {
	for _, c := range codeMeanings {
		if c.re().MatchString(text) {
			return c.meaning
		}
	}
	return ""
}

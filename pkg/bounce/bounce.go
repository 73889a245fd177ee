// Package bounce reads a bounce — an RFC 3464 delivery status notification, or
// the pasted text of a common MTA's rejection (qmail, Postfix, Exim, Sendmail,
// Exchange/Outlook, Gmail) — and says what it can of why mail was rejected: the
// failed recipients, the rejecting server, the SMTP reply, the lists it names,
// provider blocks no DNSBL query can see, and what was sent.
package bounce

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"net/mail"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"

	"github.com/blcheck/blcheck/internal/lazyre"
	"github.com/blcheck/blcheck/pkg/extract"
)

// Server is the host that rejected the mail. It is named, never blamed.
type Server struct {
	Name string `json:"name,omitempty"`
	Addr string `json:"addr,omitempty"`
}

// Hint is a list the bounce names.
type Hint struct {
	Text string `json:"text"` // as written in the bounce
	Kind string `json:"kind"` // zone or name
	List string `json:"list"` // the catalog list it names
	Name string `json:"-"`    // that list's name, for people
}

// Provider is a rejection by a mailbox provider's own block list, which no DNSBL
// query can see.
type Provider struct {
	Name   string `json:"name"`
	Why    string `json:"why"`
	Remedy string `json:"remedy"`
	// Link is the removal or lookup link the bounce itself carries, where the
	// receiver's list is its own (Proofpoint, Cloudmark, Cox...).
	Link string `json:"link,omitempty"`
	// Code is what the provider's own code in the bounce means, where it is known.
	Code string `json:"code,omitempty"`
	rate bool   // its block is a rate limit
	// ipList: its block is a list of sending addresses (Proofpoint, Cloudmark,
	// Cox...), whatever words about spam come with it
	ipList bool
}

// Report is what a bounce says.
type Report struct {
	Found      bool      `json:"found"` // the input held a bounce at all
	Format     string    `json:"format"`
	Recipients []string  `json:"recipients"`
	Server     Server    `json:"server"`
	Code       string    `json:"smtp_code,omitempty"`
	Enhanced   string    `json:"enhanced_code,omitempty"`
	Diagnostic string    `json:"diagnostic,omitempty"`
	Hints      []Hint    `json:"hints"`
	Provider   *Provider `json:"provider,omitempty"`
	// SenderIPs are addresses the diagnostic says the mail came from, or the first
	// external hop of the returned message.
	SenderIPs []string `json:"sender_ips"`
	// SenderDomain is the domain of the returned message's From, else of the
	// envelope sender the rejection or a receiver's log names (from=<...>).
	SenderDomain string `json:"sender_domain,omitempty"`
	// NamedDomains are domains the rejection itself names as listed ("Blacklisted
	// URL in message. (example.com)"): they are checked too.
	NamedDomains []string `json:"named_domains,omitempty"`
	// Returned is the returned message (or its headers), for scanning its content.
	Returned []byte `json:"-"`
	// Unread names the parts of the bounce that could not be read: what they
	// held was not checked.
	Unread []string `json:"unread,omitempty"`

	human        string // the human-readable text above the returned message
	failedAction bool   // an RFC 3464 report says Action: failed
	replyTo      string // the recipient whose reply is quoted, when not the first one's (reply, laterReason)
}

var rdnsRE = lazyre.New(`(?i)\b5\.7\.25\b|reverse (?:dns|lookup)|\bptr record|\bptr resource record|\bbad (?:dns )?ptr\b|\b(?:no|missing|invalid|bad|generic) ptr\b|\bptr\b[^.\n]{0,30}\b(?:missing|not|fail)|cannot find your (?:host ?name|reverse)|` +
	`client host rejected: cannot find your hostname|no reverse|rdns|does not have a reverse|hostname does not match`)

// AboutReverseDNS reports whether the receiver refused the mail for the
// sending address's reverse DNS (missing, generic, or not forward-confirmed)
// rather than for a listing.
func (rep *Report) AboutReverseDNS() bool { return rdnsRE().MatchString(fold(rep.Said())) }

// Said is the receiver's own words: the human-readable text of the bounce (not
// its transport headers, not the returned message) and the diagnostic. Hints
// and provider claims are read from it alone: a Gmail ARC-Seal or a Barracuda
// appliance in a Received header says nothing about why the mail was rejected.
func (rep *Report) Said() string {
	return rep.human + "\n" + rep.Diagnostic
}

// MaxSize bounds what is read of a bounce.
const MaxSize = 16 << 20

// MaxSaid bounds the text read for the receiver's words (above the returned
// message): a bounce says why in its first lines, and every pattern is run
// over it.
const MaxSaid = 128 << 10

// an IPv4 or IPv6 address in a pattern (netip.ParseAddr decides)
const ipPat = `(?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}`

var (
	replyRE    = lazyre.New(`\b([245]\d\d)[ -](?:\(?#?([245]\.\d{1,3}\.\d{1,3})\)?)?`)
	enhancedRE = lazyre.New(`\b([245]\.\d{1,3}\.\d{1,3})\b`)
	emailRE    = lazyre.New(`(?i)[a-z0-9.!#$%&'*+/=?^_\x60{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+`)
	// where MTAs put the remote server's words
	saidRE = lazyre.New(`(?i)(remote host said:|\bsaid:|\breason:|refused to talk to me:|^talk to me:|\bhost\s+\S+\s+\[[0-9a-f.:]+\]:|smtp error from remote mail server|remote server returned|diagnostic[- ]code:|the response from the remote server was:|the error that the other server returned was:|<<<\s|server response:|remote server said:)`)
	// who rejected
	postfixHostRE = lazyre.New(`(?i)\bhost\s+([a-z0-9.-]+\.[a-z]{2,})\s*\[([0-9a-f.:]+)\]`)
	qmailHostRE   = lazyre.New(`(?m)^\s*((?:\d{1,3}\.){3}\d{1,3}) (?:failed after|does not like)`)
	talkingRE     = lazyre.New(`(?i)while talking to ([a-z0-9.-]+\.[a-z]{2,})\.?`)
	remoteMTARE   = lazyre.New(`(?im)^Remote-MTA:\s*dns;\s*([^\s;]+)(?:\s*\[([0-9a-f.:]+)\])?`)
	generatingRE  = lazyre.New(`(?im)^\s*(?:Remote server|Receiving server|Generating server):\s*([a-z0-9.-]+\.[a-z]{2,})`)
	recipientLTRE = lazyre.New(`(?m)^\s*<([^<>\s]+@[^<>\s]+)>:?\s*$|^<([^<>\s]+@[^<>\s]+)>:`)
	finalRecipRE  = lazyre.New(`(?im)^(?:Final|Original)-Recipient:\s*rfc822;\s*<?([^\s>]+@[^\s>]+)>?`)
	clientHostRE  = lazyre.New(`(?i)(?:client host|sending ip|sender ip|your ip|ip address|connecting ip|blocked ip|from ip|banned sender|\bip[:=]?)\s*[\[(]?((?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7})\]?`)
	// a receiver's own log names the client: "RCPT from host[IP]:", "client=host[IP]"
	logClientRE = lazyre.New(`(?:client=|(?:RCPT|MAIL|DATA|END-OF-MESSAGE|CONNECT|EHLO|HELO) from )[^\s\[]*\[((?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F:]+)\]`)
	bracketIPRE = lazyre.New(`(^|[^a-zA-Z0-9.-])\[(` + ipPat + `)\]`) // not a peer's "host[IP]"
	// the first address of a Messaging Server's "(TCP|client|port|server|port)"
	// an address in a Received header: "[192.0.2.1]", or bare ("from 192.0.2.1 by")
	receivedIPRE = lazyre.New(`\[(` + ipPat + `)\]|\bfrom ((?:\d{1,3}\.){3}\d{1,3}) by\b`)
	tcpTupleRE   = lazyre.New(`\(TCP\|(` + ipPat + `)\|\d+\|`)
	queryIPRE    = lazyre.New(`(?i)(?:spamhaus\.org/query/ip/|searchterm=|bl\.shtml\?|lookup\.shtml\?|lookup\?ip=|ip=|ipr=|[?&]v=|search\?q=)((?:\d{1,3}\.){3}\d{1,3})`)
	// the wordings receivers use for the address they refused (Yahoo, Gmail,
	// Comcast, AT&T, Microsoft, Mimecast...): "Messages from 192.0.2.25
	// temporarily deferred", "Connections will not be accepted from ...", "The
	// mail server [IP]", "for host IP", "550-192.0.2.222 blocked by",
	// Gmail's "[192.0.2.22      18]"
	namedIPRE = lazyre.New(`(?i)(?:messages? from|connections?(?: will not be accepted| not accepted| refused)? from|` +
		`the mail server|mail server ip|for host|host ip|from host|your (?:mail )?server|sending (?:mail )?server|` +
		`\b(?:ptr|dns) record for|\bcomcast|\bmail from(?: ip)?|\b[45]\d\d[ -](?:[45]\.\d{1,3}\.\d{1,3} )?)\s*[(\[<]?(` + ipPat + `)`)
	// a domain the rejection names as listed: "Blacklisted URL in message.
	// (example.com)", "URL example.com is listed", "domain example.com is blacklisted",
	// Postfix's reject_rhsbl_* "Sender address [user@example.com] blocked using",
	// "Helo command [example.com] blocked" (not "Client host [NAME]": an IP
	// list names the client by its host name too), and the domain of
	// Spamhaus's DBL lookup page (spamhaus.org/query/domain/example.com)
	namedDomainRE = lazyre.New(`(?i)\b(?:blacklisted|blocklisted|listed|bad) (?:url|uri|domain|link)s?\b[^(\n]{0,40}\(\s*([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)\s*\)|` +
		`\b(?:helo command|sender address) \[?(?:[^\s\[\]@]+@)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)\]? (?:blocked|rejected)\b|` +
		`\b(?:url|uri|domain|link)\s+<?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)>?\s+(?:is\s+)?(?:black|block)?listed\b|` +
		`spamhaus\.org/query/(?:domain/|dbl\?domain=)([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)`)
	// "192.0.2.25 is listed", "The sending IP (192.0.2.25) is listed",
	// "Rejected 192.0.2.25 found in ZONE", Comcast's "192.0.2.82 found on one or
	// more DNSBLs", Postfix's "<host[192.0.2.25]>: Client host rejected", AT&T's
	// "521< 192.0.2.83 >_is_blocked"
	listedIPRE = lazyre.New(`[\[(]?((?:\d{1,3}\.){3}\d{1,3})[\])]?\s+(?:(?:is\s+)?(?:currently\s+)?(?:(?:black|block)?listed|found (?:on|in))|is\s+(?:on|in))\b|` +
		`[a-z0-9.-]*\[((?:\d{1,3}\.){3}\d{1,3})\]>?:\s*[Cc]lient host rejected\b|` +
		`<\s*((?:\d{1,3}\.){3}\d{1,3})\s*>_?is_blocked|` +
		`\b((?:\d{1,3}\.){3}\d{1,3}) is not (?:allowed|permitted|authori[sz]ed) to send\b`) // La Poste's "SPF: IP is not allowed to send mail"
	// the receiver's resolver, as URIBL's refusal names it: "[Your DNS IP: 192.0.2.1]"
	resolverIPRE   = lazyre.New(`(?i)\b(?:your )?dns ip:?\s*\[?[0-9a-f.:]+\]?`)
	gmailIPRE      = lazyre.New(`\[((?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7})\s+\d{1,3}\]`)
	foldedIndentRE = lazyre.New(`^\s+`)
	deliveredToRE  = lazyre.New(`(?i)(?:wasn't|was not|could not be|couldn't be) delivered to <?([^\s<>]+@[^\s<>]+?)>?(?:\s|$)`)
)

// Parse reads a bounce from r.
func Parse(r io.Reader) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize))
	if err != nil {
		return nil, err
	}
	return ParseBytes(data), nil
}

// ParseBytes reads a bounce from data (at most MaxSize of it), which it does
// not change, and keeps no copy of the returned message beyond a slice of data.
func ParseBytes(data []byte) *Report {
	rep := parseBytes(data)
	// a bounce forwarded as an attachment (message/rfc822): the forward is no
	// bounce, the message it carries is
	if !rep.Found && rep.Returned != nil {
		if inner := parseBytes(rep.Returned); inner.Found {
			inner.Unread = append(rep.Unread, inner.Unread...)
			return inner
		}
	}
	return rep
}

func parseBytes(data []byte) *Report {
	data = data[:min(len(data), MaxSize)]
	rep := &Report{Recipients: []string{}, Hints: []Hint{}, SenderIPs: []string{}}
	// CR-only line ends (old Mac mailers, some webmail pastes) as LF, and CRLF kept
	if bytes.IndexByte(data, '\r') >= 0 && !bytes.Contains(data, []byte("\r\n")) {
		data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	}
	data = unescapeNewlines(data)
	text := data
	if msg, err := mail.ReadMessage(bytes.NewReader(data)); err == nil && len(msg.Header) > 0 && hasMessageHeaders(msg.Header) {
		text = rep.readMessage(msg, bodyOf(data))
	}
	rep.readText(unquote(string(text)))
	// a report's "Action: failed" is a bounce, even with no code or text; so is
	// an MTA's failure wording without a code
	rep.Found = rateFoundRE().MatchString(rep.human) || rep.Code != "" || rep.Enhanced != "" && rep.Enhanced[0] != '2' || rep.failedAction ||
		len(rep.Recipients) > 0 && rep.Diagnostic != "" || failureRE().MatchString(rep.human) ||
		reasonRE().MatchString(rep.human)
	if rep.Returned != nil {
		rep.readReturned()
	}
	return rep
}

// bodyOf is the body of a message in data: what follows its first empty line,
// where net/mail ends the header.
func bodyOf(data []byte) []byte {
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return nil
		}
		line := bytes.TrimRight(data[i:i+j], "\r")
		i += j + 1
		if len(line) == 0 {
			return data[i:]
		}
	}
	return nil
}

// unescapeNewlines turns the literal "\r\n" and "\n" of a bounce pasted as a
// program's string (JavaScript, Python bytes) into line ends, when there are
// more of them than real line ends.
func unescapeNewlines(data []byte) []byte {
	literal := bytes.Count(data, []byte(`\n`))
	if literal == 0 || literal < bytes.Count(bytes.TrimRight(data, "\r\n"), []byte("\n")) {
		return data
	}
	data = bytes.ReplaceAll(data, []byte(`\r\n`), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte(`\'`), []byte("'"))
	data = bytes.ReplaceAll(data, []byte(`\"`), []byte(`"`))
	return bytes.ReplaceAll(data, []byte(`\n`), []byte("\n"))
}

// unquote undoes one level of "> " quoting when most of the text is quoted: a
// bounce forwarded inline, as mail clients quote it.
func unquote(text string) string {
	lines := strings.Split(text, "\n")
	quoted, nonEmpty := 0, 0
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		nonEmpty++
		if strings.HasPrefix(strings.TrimLeft(l, " "), ">") {
			quoted++
		}
	}
	if nonEmpty == 0 || quoted*2 < nonEmpty {
		return text
	}
	for i, l := range lines {
		if t := strings.TrimLeft(l, " "); strings.HasPrefix(t, ">") {
			lines[i] = strings.TrimPrefix(strings.TrimPrefix(t, ">"), " ")
		}
	}
	return strings.Join(lines, "\n")
}

func hasMessageHeaders(h mail.Header) bool {
	for _, k := range []string{"From", "Subject", "Content-Type", "Date", "Received", "Message-Id"} {
		if h.Get(k) != "" {
			return true
		}
	}
	return false
}

// readMessage takes a DSN's machine-readable parts and returns the human-readable
// text to read for the rest (the whole body for a plain-text bounce). Its MIME
// is read by scan's reader (extract.Parts): damaged multiparts recovered,
// transfer encodings undone, charsets (KOI8-R, GB2312, Windows-125x...) decoded.
func (rep *Report) readMessage(msg *mail.Message, body []byte) []byte {
	ct := msg.Header.Get("Content-Type")
	mediaType, _, _ := mime.ParseMediaType(ct)
	parts, _, unread := extract.Parts(ct, msg.Header.Get("Content-Transfer-Encoding"), body, "the bounce")
	rep.Unread = append(rep.Unread, unread...)
	rep.Format = "text message"
	if strings.HasPrefix(mediaType, "multipart/") {
		rep.Format = mediaType
	}
	var human bytes.Buffer
	for _, p := range parts {
		switch p.Type {
		case "message/delivery-status", "message/global-delivery-status":
			rep.Format = "RFC 3464 delivery status"
			rep.readDeliveryStatus(string(p.Body))
		case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
			if rep.Returned == nil {
				rep.Returned = p.Body
			}
		case "text/plain", "text/html":
			body := p.Body
			if p.Type == "text/html" { // Exchange's HTML-only reports: their words, not their markup
				body = htmlText(body)
			}
			if p.Name == "" { // a single-part bounce: the returned message follows a marker
				rep.splitReturned(body)
			}
			human.Write(body)
			human.WriteByte('\n')
		}
	}
	return human.Bytes()
}

// htmlText is the text of an HTML part, a line for each block, entities
// decoded ("Remote Server returned &#39;550 5.1.10 ...&#39;"); scripts and
// styles left out.
func htmlText(b []byte) []byte {
	var out bytes.Buffer
	z := html.NewTokenizer(bytes.NewReader(b))
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out.Bytes()
		case html.TextToken:
			if skip == 0 {
				out.Write(bytes.Join(bytes.Fields(z.Text()), []byte(" ")))
				out.WriteByte(' ')
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "blockquote", "pre":
				out.WriteByte('\n')
			}
		}
	}
}

// splitReturned finds the returned message in a plain-text bounce (qmail:
// "--- Below this line is a copy of the message.").
func (rep *Report) splitReturned(body []byte) {
	for _, marker := range []string{"--- Below this line is a copy of the message.", "------ This is a copy of the message",
		"----- Original message -----", "------- Original Message -------", "Original message headers:",
		"Message headers follow.", "--- The header of the original message is following. ---",
		"------ This is a copy of the message's headers. ------"} {
		i := bytes.Index(body, []byte(marker))
		if i >= 0 && len(bytes.TrimSpace(bytes.Trim(body[:i], "-"))) == 0 { // a mail client's forward marker above the bounce itself
			if j := bytes.Index(body[i+len(marker):], []byte(marker)); j >= 0 {
				i += len(marker) + j
			} else {
				i = -1
			}
		}
		if i >= 0 {
			rest := body[i+len(marker):]
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				rest = rest[j+1:]
			}
			rep.Returned = bytes.TrimLeft(rest, "\r\n")
			return
		}
	}
}

// readDeliveryStatus reads RFC 3464 fields (folded lines joined).
func (rep *Report) readDeliveryStatus(ds string) {
	lines := unfold(ds)
	if diag, mta, to := laterReason(lines); diag != "" { // one recipient's "User unknown" is not the reason of the rest
		if m := remoteMTARE().FindStringSubmatch("Remote-MTA: " + mta); m != nil {
			rep.setServer(strings.TrimSuffix(m[1], "."), m[2])
		}
		rep.setDiagnostic(diag)
		rep.replyTo = to
	}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "final-recipient", "original-recipient":
			if _, addr, ok := strings.Cut(v, ";"); ok {
				rep.addRecipient(strings.Trim(strings.TrimSpace(addr), "<>"))
			}
		case "remote-mta":
			if m := remoteMTARE().FindStringSubmatch("Remote-MTA: " + v); m != nil {
				rep.setServer(strings.TrimSuffix(m[1], "."), m[2])
			}
		case "action": // "failed", and "failure" as some MTAs write it
			if strings.HasPrefix(strings.ToLower(strings.Fields(v + " x")[0]), "fail") {
				rep.failedAction = true
			}
		case "status": // an enhanced code, or a reply code where one belongs
			if rep.Enhanced == "" && enhancedRE().MatchString(v) {
				rep.Enhanced = enhancedRE().FindString(v)
			} else if m := replyRE().FindStringSubmatch(v + " "); m != nil && rep.Code == "" && m[1][0] != '2' {
				rep.Code = m[1]
			}
		case "diagnostic-code":
			if _, d, ok := strings.Cut(v, ";"); ok {
				v = strings.TrimSpace(d)
			}
			rep.setDiagnostic(v)
		}
	}
}

// laterReason is, in a report on several recipients whose first says only
// that the recipient is unknown (or its mailbox full), the first later
// recipient's reply that says more (a blacklist, a content verdict) and its
// Remote-MTA; or "".
func laterReason(lines []string) (diag, mta, to string) {
	var diags, mtas, tos []string
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "final-recipient":
			_, addr, _ := strings.Cut(v, ";")
			diags, mtas, tos = append(diags, ""), append(mtas, ""), append(tos, strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>")))
		case "remote-mta":
			if len(mtas) > 0 {
				mtas[len(mtas)-1] = strings.TrimSpace(v)
			}
		case "diagnostic-code":
			if _, d, ok := strings.Cut(v, ";"); ok {
				v = d
			}
			if len(diags) > 0 {
				diags[len(diags)-1] = strings.Join(strings.Fields(v), " ")
			}
		}
	}
	for i := 1; i < len(diags); i++ {
		if saysMore(diags[0], diags[i]) {
			return diags[i], mtas[i], tos[i]
		}
	}
	return "", "", ""
}

// saysMore reports whether a later recipient's reply says more of the sender
// than the first one's, which is only a recipient problem: it names a
// blacklist, a content verdict, authentication or reverse DNS (not a
// transcript's "503 No recipients").
func saysMore(first, later string) bool {
	if syntaxErrorRE().MatchString(first) { // a client's bad command in a transcript is no reason
		return later != "" && !syntaxErrorRE().MatchString(later)
	}
	return later != "" && recipientRE().MatchString(first) && !listWordRE().MatchString(first) && !recipientRE().MatchString(later) &&
		(unnamedListRE().MatchString(later) || contentRE().MatchString(later) || authRE().MatchString(later) || rdnsRE().MatchString(later))
}

// syntaxErrorRE is a reply to a command the client got wrong (500-504,
// 5.5.x): in a pasted SMTP session it comes before the refusal that matters.
var syntaxErrorRE = lazyre.New(`^50[0-4][ -](?:5\.5\.\d{1,3}\b)?`)

// reply is the reply a text bounce quotes: the first one, unless it is only a
// recipient problem and a later recipient's says more (a bounce to two
// recipients, one unknown, the other refused by a blacklist); the rejecting
// server is then the later one's.
func (rep *Report) reply(lines []string) string {
	first, end := diagnosticAt(lines)
	if first == "" || end < 0 || !saysMore(first, "550 blocked using a blacklist") && !syntaxErrorRE().MatchString(first) {
		return first // the first reply is more than a recipient problem: it is the reason
	}
	for i, n := end, 0; i < len(lines) && n < 32; i++ { // each line once
		col := -1
		if loc := saidRE().FindStringIndex(lines[i]); loc != nil {
			col = loc[1]
			if at := replyAt(lines[i]); at >= 0 && at < loc[0] {
				col = at
			}
		} else if at := replyAt(lines[i]); at >= 0 {
			col = at
		}
		if col < 0 {
			continue
		}
		n++
		next, j := replyFrom(lines, i, col)
		if saysMore(first, next) {
			around := strings.Join(lines[max(0, i-2):i+1], "\n")
			if m := postfixHostRE().FindAllStringSubmatch(around, -1); m != nil {
				rep.Server = Server{}
				rep.setServer(m[len(m)-1][1], m[len(m)-1][2])
			}
			for k := i; k >= max(0, i-2) && rep.replyTo == ""; k-- { // its own line first, then the lines above
				rep.replyTo = strings.ToLower(emailRE().FindString(lines[k]))
			}
			return next
		}
		i = max(i, j-1)
	}
	return first
}

// unfold joins RFC 5322 continuation lines.
func unfold(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), MaxSize)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if len(out) > 0 && l != "" && (l[0] == ' ' || l[0] == '\t') {
			out[len(out)-1] += " " + strings.TrimSpace(l)
			continue
		}
		out = append(out, l)
	}
	return out
}

func (rep *Report) addRecipient(a string) {
	a = strings.ToLower(strings.TrimSpace(a))
	if a == "" || !strings.Contains(a, "@") {
		return
	}
	for _, r := range rep.Recipients {
		if r == a {
			return
		}
	}
	rep.Recipients = append(rep.Recipients, a)
}

func (rep *Report) setServer(name, addr string) {
	if rep.Server.Name == "" && name != "" {
		rep.Server.Name = strings.ToLower(name)
	}
	if rep.Server.Addr == "" && addr != "" {
		if a, err := netip.ParseAddr(addr); err == nil {
			rep.Server.Addr = a.String()
		}
	}
}

func (rep *Report) setDiagnostic(d string) {
	d = strings.Join(strings.Fields(d), " ")
	if strings.HasSuffix(d, ")") && strings.Count(d, ")") > strings.Count(d, "(") {
		d = strings.TrimSuffix(d, ")") // a log's "(host H said: REPLY)": the log's parenthesis, not the reply's
	}
	if d == "" || rep.Diagnostic != "" {
		return
	}
	rep.Diagnostic = d
	if m := replyRE().FindStringSubmatch(d + " "); m == nil || m[1][0] == '2' {
		rep.Code = replyCodeIn(d) // "(451)" at the end, "550:" with a colon
	}
	if m := replyRE().FindStringSubmatch(d + " "); m != nil && m[1][0] != '2' {
		if rep.Code == "" {
			rep.Code = m[1]
		}
		if (rep.Enhanced == "" || strings.HasSuffix(rep.Enhanced, ".0.0")) && m[2] != "" {
			rep.Enhanced = strings.TrimPrefix(m[2], "#")
		}
	}
	if e := enhancedRE().FindString(d); e != "" && (rep.Enhanced == "" || strings.HasSuffix(rep.Enhanced, ".0.0")) {
		rep.Enhanced = e // the reply's own code says more than a report's generic x.0.0
	}
}

// readText reads the human-readable bounce text of any MTA.
func (rep *Report) readText(text string) {
	if rep.Format == "" {
		rep.Format = "text"
		rep.splitReturned([]byte(text))
	}
	// what is above the returned message is the bounce proper
	if rep.Returned != nil {
		if i := strings.Index(text, string(rep.Returned[:min(len(rep.Returned), 200)])); i > 0 {
			text = text[:i]
		}
	}
	if len(text) > MaxSaid { // the receiver's words are at the start; links pasted after them are not
		text = strings.ToValidUTF8(text[:MaxSaid], "")
	}
	rep.human = text
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for _, m := range deliveredToRE().FindAllStringSubmatch(text, -1) {
		rep.addRecipient(m[1])
	}
	for _, m := range finalRecipRE().FindAllStringSubmatch(text, -1) {
		rep.addRecipient(m[1])
	}
	for _, m := range recipientLTRE().FindAllStringSubmatch(text, -1) {
		rep.addRecipient(m[1] + m[2])
	}
	if m := postfixHostRE().FindStringSubmatch(text); m != nil {
		rep.setServer(m[1], m[2])
	}
	if m := qmailHostRE().FindStringSubmatch(text); m != nil {
		rep.setServer("", m[1])
	}
	if m := talkingRE().FindStringSubmatch(text); m != nil {
		rep.setServer(m[1], "")
	}
	if m := generatingRE().FindStringSubmatch(text); m != nil && rep.Server.Name == "" {
		rep.setServer(m[1], "")
	}
	if dsnFieldRE().MatchString(text) { // a delivery report pasted without its MIME structure
		rep.readDeliveryStatus(text)
	}
	if rep.Diagnostic == "" {
		rep.setDiagnostic(rep.reply(lines))
	}

	if rep.Diagnostic == "" { // no reply code (Domino, Notes, Exchange 2003): the words after "because:"
		rep.setDiagnostic(reasonWithoutCode(lines))
	}
	if rep.Diagnostic == "" { // no reply code: the MTA's own words for the reason
		rep.setDiagnostic(reasonLine(text))
	}
	for _, m := range namedDomainRE().FindAllStringSubmatch(rep.Diagnostic, 8) {
		d := strings.ToLower(strings.TrimSuffix(m[1]+m[2]+m[3]+m[4], "."))
		if _, err := netip.ParseAddr(d); err == nil { // "Client host [192.0.2.1] blocked": an address, read below
			continue
		}
		if !slices.Contains(rep.NamedDomains, d) {
			rep.NamedDomains = append(rep.NamedDomains, d)
		}
	}
	if len(rep.Recipients) == 0 { // Exim and Sendmail list the address on its own line
		for _, l := range lines {
			t := strings.TrimSpace(l)
			if m := emailRE().FindString(t); m != "" && (t == m || strings.HasPrefix(t, m+"...") || strings.HasPrefix(t, "<"+m+">") ||
				strings.HasPrefix(t, m+" on ")) {
				rep.addRecipient(m)
			}
		}
	}
	rep.findSenderIPs(rep.Diagnostic + "\n" + text)
	if m := envelopeSenderRE().FindStringSubmatch(text); m != nil { // the returned message's From, when there is one, wins
		rep.SenderDomain = strings.ToLower(strings.TrimSuffix(m[1]+m[2], "."))
	}
}

// reasonLine is the line that gives a failure's reason in an MTA's words,
// when there is no reply code: a reason ("mailbox full"), a sending limit, or
// a receiver's refusal quoted alone ("Recipient address rejected: ..."); or "".
func reasonLine(text string) string {
	for _, re := range []*regexp.Regexp{reasonRE(), rateFoundRE(), refusalRE()} {
		if m := re.FindStringIndex(text); m != nil {
			return lineAround(text, m[0], m[1])
		}
	}
	return ""
}

// envelopeSenderRE is the sender's address in a receiver's words or log:
// Postfix's "<user@example.com>: Sender address rejected" and its log's
// "from=<user@example.com>"
var envelopeSenderRE = lazyre.New(`(?i)<[^<>@\s]+@([a-z0-9.-]+\.[a-z]{2,63})>: sender address rejected\b|\bfrom=<[^<>@\s]+@([a-z0-9.-]+\.[a-z]{2,63})>`)

// reasonWithoutCode finds the reason a bounce without an SMTP reply gives: the
// line after "because:" (Domino, Notes), or the indented line under a
// recipient of Exchange's "cannot be reached" list.
func reasonWithoutCode(lines []string) string {
	for i, l := range lines {
		t := strings.ToLower(strings.TrimSpace(l))
		if t != "because:" && t != "reason:" && !strings.HasSuffix(t, "cannot be reached:") {
			continue
		}
		for _, next := range lines[i+1:] {
			n := strings.TrimSpace(next)
			if n == "" || strings.HasSuffix(t, "cannot be reached:") && emailRE().MatchString(n) && !strings.Contains(n, " not ") {
				if n != "" && strings.Contains(n, " on ") && len(n) > 80 { // recipient and reason folded into one line
					return n
				}
				continue
			}
			return n
		}
	}
	return ""
}

// diagnosticAt finds the remote server's reply: the lines after a "said:"
// marker, or the first line with an SMTP reply or an enhanced status code after
// any prefix (replyAt), its continuation lines joined: indented lines, lines
// with the same code ("550-" then "550 "), and the line after a reply split
// after its code. It returns the reply and the line after it (-1 for none).
func diagnosticAt(lines []string) (d string, end int) {
	start, col := -1, 0
	lastReply := -1 // the last line before i that starts a reply
	for i, l := range lines {
		if loc := saidRE().FindStringIndex(l); loc != nil && !clientLine(l, loc) {
			start, col = i, loc[1]
			// "554 5.7.1 ... Reason: ...": the reply starts before the marker; a
			// Postfix log's own "dsn=4.0.0" before "refused to talk to me:" does not
			if at := replyAt(l); at >= 0 && at < loc[0] && !strings.HasSuffix(strings.ToLower(l[:at]), "dsn=") {
				col = at
			} else if at < 0 && lastReply >= 0 && i-lastReply <= 2 && foldedIndentRE().MatchString(l) {
				start, col = lastReply, replyAt(lines[lastReply]) // ZMailer's "554 (... blocked using\n\tZONE, reason: ...)"
			}
			break
		}
		if replyAt(l) >= 0 {
			lastReply = i
		}
	}
	if start < 0 {
		for i, l := range lines {
			if at := replyAt(l); at >= 0 {
				start, col = i, at
				break
			}
		}
	}
	if start < 0 {
		return "", -1
	}
	return replyFrom(lines, start, col)
}

// clientLine reports whether a "<<< " marker at loc starts what a client
// said in a transcript ("<<< ehlo example.net", a tool's log where ">>> "
// is the server): a reply follows the marker when it is the server's.
func clientLine(l string, loc []int) bool {
	return strings.HasPrefix(strings.TrimSpace(l[loc[0]:]), "<<<") && replyAt(l[loc[1]:]) < 0
}

// replyFrom is the reply that starts in lines[start] at col, with its
// continuation lines, and the line after it.
func replyFrom(lines []string, start, col int) (string, int) {
	first := strings.TrimSpace(strings.Trim(strings.TrimSpace(lines[start][col:]), "'"))
	if at := replyAt(first); at > 0 && (strings.HasPrefix(first, "after ") || strings.HasPrefix(first, "(")) {
		first = first[at:] // Exim: "... after RCPT TO:<x>: 550 ..."
	} else if strings.HasPrefix(first, "after ") {
		first = "" // the reply is on the next line
	}
	var parts []string
	if first != "" {
		parts = append(parts, first)
	}
	upTo := -1
	if postfixSaidRE().MatchString(lines[start][:col]) {
		upTo = postfixBlockEnd(lines[start+1:])
	}
	parts, n := continuation(parts, lines[start+1:], upTo)
	return strings.Join(parts, " "), start + 1 + n
}

// postfixSaidRE is where Postfix's bounce quotes a reply: "host H[IP] said:",
// "refused to talk to me:" (wrapped as "refused to\ntalk to me:").
var postfixSaidRE = lazyre.New(`\bsaid:\s*$|\btalk to me:\s*$`)

// postfixBlockEnd is the last of lines that still belong to a reply Postfix
// wrapped when a paste lost its indent, or -1: the lines up to a blank one,
// a next recipient ("<user@example.com>: ...") or a report's field
// ("Reporting-MTA: ..."), at most 8 of them.
func postfixBlockEnd(lines []string) int {
	end := -1
	for i, l := range lines[:min(len(lines), 8)] {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "<") || fieldLineRE().MatchString(t) {
			break
		}
		end = i
	}
	return end
}

var fieldLineRE = lazyre.New(`^[A-Za-z][A-Za-z0-9-]*: `)

// continuation adds to parts the lines that continue a reply: indented
// ones, ones with the reply's code, and those up to upTo (a Postfix block's).
func continuation(parts, lines []string, upTo int) ([]string, int) {
	// Postfix's reply ends in "(in reply to ... command)": the lines up to it
	// belong to it even when a paste lost their indent
	for i, l := range lines[:min(len(lines), 5)] {
		if strings.TrimSpace(l) == "" {
			break
		}
		if strings.Contains(l, "(in reply to ") {
			upTo = i
			break
		}
	}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			if len(parts) > 0 && !bareCodeRE().MatchString(parts[len(parts)-1]) {
				return parts, i
			}
			continue
		}
		code := ""
		if len(parts) > 0 {
			code = parts[0][:min(3, len(parts[0]))]
		}
		cont := code != "" && replyRE().MatchString(t) && strings.HasPrefix(t, code)
		if len(parts) == 0 || cont || i <= upTo || foldedIndentRE().MatchString(l) || strings.HasPrefix(t, "(in reply to") ||
			bareCodeRE().MatchString(parts[len(parts)-1]) {
			parts = append(parts, strings.Trim(t, "'"))
			continue
		}
		return parts, i
	}
	return parts, len(lines)
}

var (
	// a reply code where it may start a reply, with its enhanced code if any
	replyStartRE = lazyre.New(`(?:^|[\s:(\[>"'=;,]|[\p{Han}\p{Hiragana}\p{Katakana}])([45]\d\d)(?:[ -]|$|[),":])\s?\(?(#?[45]\.\d{1,3}\.\d{1,3})?`)
	// an enhanced status code standing alone ("5.2.2 <a@b>... Mailbox Full", "(#5.1.1)")
	enhancedStartRE = lazyre.New(`(?:^|[\s:(\[#=])([45]\.\d{1,3}\.\d{1,3})(?:$|[\s:;,)\]])`)
	// words after which a reply code is one: "Error: 550", "said 550", "reply code 550"
	replyWordRE = lazyre.New(`(?i)(?:[:(;]|said|error|reply|response|code|status|returned|failed|rejected|refused|with|` +
		`失败|失敗|错误|錯誤|拒绝|エラー|：)$`) // Chinese and Japanese "failed", "error", "refused", and a full-width colon

	// a line that ends in a bare code or marker: the reply goes on in the next line
	bareCodeRE = lazyre.New(`(?i)(?:^|\s)(?:[45]\d\d(?:[ -]#?[45]\.\d{1,3}\.\d{1,3})?|[45]\.\d{1,3}\.\d{1,3}|said:|error:)$`)
)

// portAt reports whether the number at i in s is a port ("smtp.example.com:465"),
// not a reply code ("reply:550"): a colon glued to a dotted host name before it.
func portAt(s string, i int) bool {
	if i < 2 || s[i-1] != ':' || !isWordByte(s[i-2]) {
		return false
	}
	word := s[strings.LastIndexAny(s[:i-1], " \t\n([<'\"")+1 : i-1]
	return strings.Contains(word, ".")
}

// replyCodeIn is the first reply code in d where a reply code may stand, or "".
func replyCodeIn(d string) string {
	for _, m := range replyStartRE().FindAllStringSubmatchIndex(d, 8) {
		before := strings.Trim(d[:m[2]], " \t'\"`<[-")
		if portAt(d, m[2]) {
			continue
		}
		if m[4] >= 0 || before == "" || replyWordRE().MatchString(before) {
			return d[m[2]:m[3]]
		}
	}
	return ""
}

// replyAt finds where an SMTP reply or an enhanced status code starts in a line,
// or -1: at the line's start, after any prefix that ends in a colon or a word
// that introduces a reply ("NOQUEUE: reject: RCPT from host[IP]: 554 ...",
// "refused to talk to me: 554", nodemailer's "Error: ...", Gmail's "SMTP Error
// (state 9): 550"), or anywhere when an enhanced code follows ("550-5.7.1").
func replyAt(line string) int {
	if len(line) > 4096 {
		line = line[:4096]
	}
	at := -1
	for _, m := range replyStartRE().FindAllStringSubmatchIndex(line, 8) {
		before := strings.Trim(line[:m[2]], " \t'\"`<[-")
		if portAt(line, m[2]) {
			continue
		}
		if m[4] >= 0 || before == "" || replyWordRE().MatchString(before) {
			at = m[2]
			break
		}
	}
	for _, m := range enhancedStartRE().FindAllStringSubmatchIndex(line, 8) {
		if at >= 0 && m[2] > at {
			break
		}
		before := strings.Trim(line[:m[2]], " \t-")
		if before == "" || replyWordRE().MatchString(before) || strings.HasSuffix(before, "#") || strings.HasSuffix(before, ".") ||
			strings.HasSuffix(strings.ToLower(before), "dsn=") {
			return m[2]
		}
	}
	return at
}

var (
	dsnFieldRE = lazyre.New(`(?im)^(?:Action|Diagnostic-Code|Final-Recipient|Remote-MTA):`)
	// the wordings of MTAs and providers that report a failed delivery without
	// an SMTP reply
	failureRE = lazyre.New(`(?i)\b(?:could not|couldn't|wasn't able to|was unable to|unable to) (?:be )?deliver|` +
		`\b(?:wasn't|was not|could not be|couldn't be|has not been) delivered\b|\bdelivery (?:has )?failed\b|` +
		`\bdelivery to the following recipients? failed\b|\bfailed permanently\b|\bpermanent (?:error|failure)\b|` +
		`\bmail delivery failed\b|\bundeliverable\b|\bretry time(?:out)? (?:not reached|exceeded)\b|` +
		`\bmessage (?:is )?too (?:big|large)\b|\bcannot be reached\b|\bdid not reach\b|\bnot yet been delivered\b|` +
		`\bmessage delayed\b|\berror delivering your mail\b|\bstatus=(?:bounced|deferred)\b|\bcouldn't be delivered\b|\bdelivery (?:is |has been )?delayed\b|` +
		// a receiver's refusal quoted without its code: Postfix's restriction
		// prefixes, Microsoft's "on our block list", "was refused due to"
		`\b(?:recipient|sender) address rejected:|\bclient host rejected:|\bon our block ?list\b|\bwas refused due to\b|` +
		// a receiver's log of a list's refusal (Haraka's "Host NAME [IP] is
		// blacklisted by ZONE", Exim's "is in a black list at ZONE")
		`\bis (?:black|block)listed (?:by|at|in|on) [a-z0-9-]+\.[a-z0-9.-]+|\bis in a black ?list at\b|` +
		// postscreen's "addr IP listed by domain ZONE as 127.0.0.4", "DNSBL rank 3 for [IP]"
		`\blisted by domain [a-z0-9-]+\.[a-z0-9.-]+ as 127\.|\bDNSBL rank \d+ for\b|` +
		// the same in other languages: German, French, Spanish, Russian, Chinese,
		// Latvian, Italian, Portuguese, Dutch, Polish, Czech, Japanese
		`\bnicht zugestellt\b|\bunzustellbar\b|\bn'a pas pu (?:être|etre) (?:remis|livr)|\bnon remis\b|` +
		`\bno (?:se )?(?:pudo|ha podido) (?:ser )?entregar|не (?:может быть |был[оа]? )?доставлен|недоставлен|` +
		`无法(?:发送|送达|投递)|投递失败|发送失败|退信|nevar(?:ēja|eja)? (?:tikt )?pieg[āa]d|netika pieg[āa]d|` +
		`\bnon (?:è stato possibile|e' stato possibile) (?:consegnare|recapitare)|\bimpossibile recapitare\b|\bnon recapitabile\b|` +
		`\bnão (?:foi possível|pôde ser) (?:entregar|entregue)|\bkon niet (?:worden )?(?:afgeleverd|bezorgd)|\bonbestelbaar\b|` +
		`\bnie (?:może być|została|mogła zostać) dostarczon|\bniedostarczon|\bnemohla být doručena|\bnedoručiteln|` +
		`配信できませんでした|送信できませんでした|届けられませんでした|配送できませんでした`)
)

// refusalRE is a receiver's refusal quoted without a code, whose line is
// its reason (failureRE's words that are not an MTA's own "could not be delivered")
var refusalRE = lazyre.New(`(?i)\b(?:recipient|sender) address rejected:|\bclient host rejected:|\bon our block ?list\b|\bwas refused due to\b`)

// rateFoundRE is a sending limit in words, a refusal without a code
var rateFoundRE = lazyre.New(`(?i)\b(?:you are )?sending too many (?:e-?mails|messages)\b|\brate ?limit(?:ed)? exceeded\b`)

// reasonRE is a failed delivery's reason in an MTA's words, without a code
var reasonRE = lazyre.New(`(?i)\bmailbox (?:is )?full\b|\bover ?quota\b|\bquota exceeded\b|\bunknown (?:user|recipient)\b|` +
	`\buser unknown\b|\bno such (?:user|mailbox|recipient|address)\b|not listed in (?:public name & address book|domino directory)|` +
	`\bthe account or domain may not exist\b|\bmessage (?:is )?too (?:big|large)\b|\bretry time(?:out)? (?:not reached|exceeded)\b|` +
	`\bhost or domain name not found\b`)

// lineAround is the line of text that holds text[i:j].
func lineAround(text string, i, j int) string {
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[j:], '\n')
	if end < 0 {
		return strings.TrimSpace(text[start:])
	}
	return strings.TrimSpace(text[start : j+end])
}

// findSenderIPs picks the addresses the receiver says the mail came from.
func (rep *Report) findSenderIPs(text string) {
	text = resolverIPRE().ReplaceAllString(text, "") // the receiver's own resolver, not the sender
	seen := map[string]bool{rep.Server.Addr: true}
	add := func(s string) {
		a, err := netip.ParseAddr(s)
		if err != nil || seen[a.String()] || !a.IsGlobalUnicast() || a.IsPrivate() {
			return
		}
		seen[a.String()] = true
		rep.SenderIPs = append(rep.SenderIPs, a.String())
	}
	for _, re := range []*regexp.Regexp{clientHostRE(), logClientRE(), queryIPRE(), namedIPRE(), gmailIPRE(), listedIPRE(), tcpTupleRE()} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			for _, g := range m[1:] { // the one group that matched
				if g != "" {
					add(g)
					break
				}
			}
		}
	}
	if len(rep.SenderIPs) == 0 && rep.Diagnostic != "" {
		for _, m := range bracketIPRE().FindAllStringSubmatch(rep.Diagnostic, -1) {
			add(m[2])
		}
	}
}

// submissionRE is a Received header of a client's submission: webmail's
// "with HTTP" / "(via HTTP)", an authenticated "with ESMTPA" / "ESMTPSA" /
// "ESMTPSA" (RFC 3848), "(Authenticated sender: ...)".
var submissionRE = lazyre.New(`(?i)\b(?:with|via) HTTPS?\b|\bwith E?SMTPS?A\b|\bwith LMTPS?A\b|\bauthenticated sender\b|\(authenticated (?:as|user|bits)\b`)

// readReturned takes the sender's domain and first external hop from the returned message.
func (rep *Report) readReturned() {
	msg, err := mail.ReadMessage(bytes.NewReader(rep.Returned))
	if err != nil {
		return
	}
	if from, err := mail.ParseAddress(msg.Header.Get("From")); err == nil {
		if at := strings.LastIndexByte(from.Address, '@'); at > 0 {
			rep.SenderDomain = strings.ToLower(from.Address[at+1:])
		}
	}
	if len(rep.SenderIPs) > 0 {
		return
	}
	// Received headers, newest first: the oldest hop with a public address is
	// where the mail entered the Internet; but where the sender's client
	// submitted it (webmail "with HTTP", an authenticated "ESMTPSA"), that hop
	// names the sender's own computer, which no receiver judged, and the server
	// that sent the mail on is not in the headers
	received := msg.Header["Received"]
	for i := len(received) - 1; i >= 0; i-- {
		if submissionRE().MatchString(received[i]) {
			return
		}
		for _, m := range receivedIPRE().FindAllStringSubmatch(received[i], -1) {
			if a, err := netip.ParseAddr(m[1] + m[2]); err == nil && a.IsGlobalUnicast() && !a.IsPrivate() {
				rep.SenderIPs = append(rep.SenderIPs, a.String())
				return
			}
		}
	}
}

package extract

import (
	"net/netip"
	"strings"

	"github.com/blcheck/blcheck/internal/lazyre"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"golang.org/x/net/publicsuffix"
)

// maxReceived bounds how many Received headers of one message are read, and
// maxReceivedLen how much of each: a message passes a few dozen relays at most.
const (
	maxReceived    = 100
	maxReceivedLen = 4096
)

// received adds the public address each Received header says the message
// came from, at the header's line (newest first, as they stand): every
// relay SpamAssassin looks up (all of them but private and loopback
// addresses, when no trusted network is set), and, like its trust path, the
// server that delivered the message, checked as a mail sender: walking down
// from the newest hop, the first from a host outside the domains of the
// relays that received it so far. The others are judged as receivers judge an
// address in the headers that did not connect to them (XBL and SBL count, PBL
// does not): the receiving side's own relays above it, the earlier ones below
// it, and all of them when there is no such hop (a copy from the Sent folder,
// whose only hop is the sender's own authenticated submission). A mailbox's
// fetch (fetchmail's "with IMAP", "with POP3") is no relay.
func (x *extractor) received(values []string, lines []int, firstLine int) {
	if len(values) > maxReceived { // a mail loop, or made up: the oldest hops are not read, and that is said
		x.unreadable("the message has %d Received headers: the %d oldest were not read (at most %d are)",
			len(values), len(values)-maxReceived, maxReceived)
	}
	hops := make([]hop, 0, min(len(values), maxReceived))
	for _, v := range values[:min(len(values), maxReceived)] {
		hops = append(hops, readHop(v))
	}
	delivering := deliveringHop(hops)
	for i, h := range hops {
		if !publicAddr(h.addr) || h.fetched {
			continue
		}
		line := firstLine
		if i < len(lines) {
			line = firstLine - 1 + lines[i]
		}
		where := "Received header (an earlier relay)"
		switch {
		case i == delivering:
			where = "Received header (the server that delivered the message)"
		case i < delivering:
			where = "Received header (a relay of the receiving side)"
		}
		x.relays = append(x.relays, Item{Host: h.addr.String(), Raw: h.raw, Sender: i == delivering,
			Relay: i != delivering, Loc: Location{File: x.file, Line: line, Where: where}})
	}
}

// hop is what one Received header says.
type hop struct {
	addr          netip.Addr // where the relay received it from
	from, by      string     // the registered domains of the names it gives, lower case
	authenticated bool       // a client's authenticated submission (ESMTPA, ESMTPSA)
	webmail       bool       // "with HTTP": a webmail's submission when it is the oldest hop
	fetched       bool       // a mailbox's fetch (fetchmail: "with IMAP", "with POP3"), no relay
	raw           string
}

// deliveringHop returns the hop that handed the message to its
// receiver: walking down from the newest, the first with a public address
// from a host outside the domains of the relays that received it so far. An
// authenticated submission, or a webmail's as the oldest hop, ends the walk
// (its client is the sender's computer, not a server receivers talked to); -1
// when there is none.
func deliveringHop(hops []hop) int {
	receiver := map[string]bool{}
	for i := range hops {
		h := hops[i]
		if h.by != "" {
			receiver[h.by] = true
		}
		switch {
		case h.authenticated, h.webmail && i == len(hops)-1 && publicAddr(h.addr):
			// a webmail's "with HTTP" submits the message only as its first
			// hop, from the user's computer; on top, from anywhere, it is a
			// mailbox's own delivery (Outlook's "by ... with HTTPS")
			return -1
		case !publicAddr(h.addr) || h.fetched || receiver[h.from]:
			continue // the receiver's own relay
		}
		return i
	}
	return -1
}

// readHop reads one Received header.
func readHop(v string) hop {
	if len(v) > maxReceivedLen {
		v = v[:maxReceivedLen]
	}
	h := hop{raw: strings.Join(strings.Fields(v), " ")}
	h.addr, _ = receivedFrom(v)
	clause, _ := fromClause(v)
	h.from = registeredOf(nextWord(clause))
	if i := indexWord(v, "by"); i >= 0 {
		h.by = registeredOf(nextWord(v[i+2:]))
	}
	h.authenticated = submissionRE().MatchString(h.raw)
	h.webmail = webmailRE().MatchString(h.raw)
	if i := indexWord(v, "with"); i >= 0 {
		w := strings.ToLower(nextWord(v[i+4:]))
		h.fetched = w == "imap" || w == "pop3" || w == "pop"
	}
	return h
}

var (
	// submissionRE is a client's authenticated submission: RFC 3848's "with
	// ESMTPA" / "ESMTPSA" / "LMTPA", "(Authenticated sender: ...)", sendmail's
	// "(authenticated bits=0)", a webmail's "authenticated user" (as words: a
	// relay named esmtpauth.example.net is none)
	submissionRE = lazyre.New(`(?i)\bwith (?:E?SMTP|LMTP)S?A\b|\bauthenticated\b`)
	// webmailRE is a webmail's submission: "with HTTP", "via HTTPS"
	webmailRE = lazyre.New(`(?i)\b(?:with|via) HTTPS?\b`)
)

// registeredOf is the registered domain of a host name, "" for an address
// or a name under no public suffix.
func registeredOf(name string) string {
	name = strings.ToLower(strings.Trim(name, "[]().;"))
	d, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil || dnsbl.PublicRegistered(name) == "" {
		return ""
	}
	return d
}

// indexWord is where the word w (lower case) first stands alone in s, outside
// comments; -1 when it does not.
func indexWord(s, w string) int {
	level := 0
	for i := 0; i+len(w) <= len(s); i++ {
		switch s[i] {
		case '(', '[':
			level++
		case ')', ']':
			if level > 0 {
				level--
			}
		}
		if level == 0 && strings.EqualFold(s[i:i+len(w)], w) && (i == 0 || isSpace(s[i-1])) &&
			(i+len(w) == len(s) || isSpace(s[i+len(w)])) {
			return i
		}
	}
	return -1
}

// receivedLines are the lines (1-based) of a message's Received headers, in
// order.
func receivedLines(data []byte) []int {
	var out []int
	for n := 1; len(data) > 0; n++ {
		var l []byte
		l, data = nextLine(data)
		if len(l) == 0 || len(l) == 1 && l[0] == '\r' {
			return out
		}
		if len(l) >= 9 && strings.EqualFold(string(l[:9]), "received:") {
			out = append(out, n)
		}
	}
	return out
}

// receivedFrom reads the address a Received header says the message came
// from (RFC 5321 section 4.4: "from NAME (COMMENT) by ..."), as receivers
// that read the headers find it: the address the receiving relay saw, written
// in brackets ("(rdns [192.0.2.1])", Exim's "from [192.0.2.1]", sendmail's
// "[IPv6:2001:db8::1]"), else in the comment ("(192.0.2.1)" of Exchange and
// qmail, qmail's "(root@192.0.2.1)"), else as the name itself ("from
// 192.0.2.1 (webmail user)"). What the client claimed (helo=, HELO) is not
// the address. It returns false for a header with no "from" part, or none
// with an address.
func receivedFrom(v string) (netip.Addr, bool) {
	if len(v) > maxReceivedLen {
		v = v[:maxReceivedLen]
	}
	clause, ok := fromClause(v)
	if !ok {
		return netip.Addr{}, false
	}
	// by preference: [addr] in the comment (Postfix's and sendmail's "(rdns
	// [addr])"), [addr] outside it (Exim's "from [addr]"), (addr) or
	// (user@addr) in the comment, the name itself
	var inBrackets, outBrackets, inComment, asName netip.Addr
	depth, seen := 0, 0 // depth: how deep in comments clause[:seen] ends (each byte read once)
	for i := 0; i < len(clause); {
		if !isAddrByte(clause[i]) {
			i++
			continue
		}
		start := i
		for i < len(clause) && isAddrByte(clause[i]) {
			i++
		}
		a, start, ok := addrAt(clause[start:i], start)
		if !ok || claimed(clause[:start]) {
			continue
		}
		bracketed := bracketedAt(clause, start)
		depth, seen = parenDepth(clause[seen:start], depth), start
		parens := depth > 0
		switch {
		case bracketed && parens && !inBrackets.IsValid():
			inBrackets = a
		case bracketed && !parens && !outBrackets.IsValid():
			outBrackets = a
		case parens && !inComment.IsValid():
			inComment = a
		case start == 0 && !asName.IsValid():
			asName = a
		}
	}
	for _, a := range []netip.Addr{inBrackets, outBrackets, inComment, asName} {
		if a.IsValid() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// addrAt reads the address a run of address bytes (tok, at start) writes:
// sendmail's "IPv6:" before it and a port after an IPv4 one (192.0.2.1:25)
// are not part of it. It returns where the address starts.
func addrAt(tok string, start int) (netip.Addr, int, bool) {
	if len(tok) > 5 && strings.EqualFold(tok[:5], "ipv6:") {
		tok, start = tok[5:], start+5
	}
	if host, _, ok := strings.Cut(tok, ":"); ok && strings.Count(tok, ":") == 1 && strings.Contains(host, ".") {
		tok = host
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(tok, ":"))
	return a.Unmap(), start, err == nil
}

// bracketedAt says whether the address at start is written in brackets:
// "[192.0.2.1]", "[IPv6:2001:db8::1]".
func bracketedAt(clause string, start int) bool {
	return lastNonSpace(clause[:start]) == '[' ||
		start >= 5 && strings.EqualFold(clause[start-5:start], "ipv6:") && lastNonSpace(clause[:start-5]) == '['
}

// fromClause is the "from" part of a Received header: from after "from" to the
// "by" (or ";", "with", "id", "for", "via") that is outside its comments.
func fromClause(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 5 || !strings.EqualFold(v[:5], "from ") && !strings.EqualFold(v[:5], "from\t") {
		return "", false
	}
	v = strings.TrimLeft(v[5:], " \t\r\n")
	switch strings.ToLower(nextWord(v)) {
	case "by", "with", "id", "for", "via": // "from  by 192.0.2.1": no name, no address
		return "", true
	}
	level := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '(' || c == '[':
			level++
		case (c == ')' || c == ']') && level > 0:
			level--
		case c == ';' && level == 0:
			return v[:i], true
		case level == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n') && i > 0:
			w := strings.ToLower(nextWord(v[i+1:]))
			if w == "by" || w == "with" || w == "id" || w == "for" || w == "via" {
				return v[:i], true
			}
		}
	}
	return v, true
}

func nextWord(s string) string {
	s = strings.TrimLeft(s, " \t\r\n")
	if i := strings.IndexAny(s, " \t\r\n(["); i >= 0 {
		return s[:i]
	}
	return s
}

// parenDepth is how deep in comments the end of s is, when its start is d
// deep.
func parenDepth(s string, d int) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			d++
		case ')':
			if d > 0 {
				d--
			}
		}
	}
	return d
}

// claimed reports whether what precedes an address says the client claimed
// it (Exim's "helo=[192.0.2.1]", qmail's "HELO 192.0.2.1", "EHLO"): a name
// the client gave, not the address the relay saw.
func claimed(before string) bool {
	b := strings.TrimRight(before, " [\t")
	b = strings.ToLower(b[max(0, len(b)-len("helo=")):]) // its end only: a header's every address is asked about
	return strings.HasSuffix(b, "helo=") || strings.HasSuffix(b, "helo") || strings.HasSuffix(b, "ehlo")
}

func lastNonSpace(s string) byte {
	s = strings.TrimRight(s, " \t")
	if s == "" {
		return 0
	}
	return s[len(s)-1]
}

// isAddrByte is a byte an IPv4 or IPv6 address is written with.
func isAddrByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' ||
		c == 'v' || c == 'V' || c == 'i' || c == 'I' || c == 'p' || c == 'P'
}

// publicAddr reports whether a is an address a blacklist can list: not
// private, loopback, link-local, CGNAT, multicast or otherwise reserved (the
// ranges the checker itself does not send to public lists).
func publicAddr(a netip.Addr) bool {
	return a.IsValid() && dnsbl.NotPublic(a) == ""
}

package extract

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/blcheck/blcheck/internal/ascii"
	"github.com/blcheck/blcheck/internal/lazyre"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/htmlindex"
)

// headers receivers look at, and what of them is a host
var addressHeaders = []string{"From", "Reply-To", "Return-Path", "Sender"}

var dkimDomainRE = lazyre.New(`(?i)(?:^|;)\s*d\s*=\s*([a-z0-9.-]+)`)

// message reads an RFC 5322 message: the headers that matter, then every MIME part.
func (x *extractor) message(data []byte, part string, firstLine int) {
	if len(bytes.TrimSpace(data)) == 0 {
		return // an empty file: nothing to read, and nothing wrong with how it was read
	}
	h := readHead(data)
	if h.skipped > 0 {
		// a header after blank lines is no header to a receiver's filter
		// (SpamAssassin reads such a message as raw text, transfer encodings and
		// all): what it finds there is read here too, and the parts decoded
		x.warn("%sthe message starts with %d blank line(s) before its header: read as a message, and as the raw text receivers' filters see",
			partPrefix(part), h.skipped)
		x.text(data, part, firstLine, "raw text")
	}
	data, damaged := h.repair(data)
	for _, n := range h.damaged {
		x.warn("%sline %d of the header is no header (damaged?): read as text", partPrefix(part), firstLine-1+n)
		x.textLine(damaged[n], firstLine-1+n, part, "damaged header line")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		x.warn("not a readable message (%v): read as text", err)
		x.text(data, part, firstLine, "text")
		return
	}
	hdrLines, bodyLine := headerLines(data)
	line := func(name string) int { return firstLine - 1 + hdrLines[strings.ToLower(name)] }
	dec := new(mime.WordDecoder)
	for _, h := range addressHeaders {
		for _, v := range msg.Header[h] {
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
			if list, err := mail.ParseAddressList(v); err == nil {
				for _, a := range list {
					if at := strings.LastIndexByte(a.Address, '@'); at > 0 {
						x.add(a.Address[at+1:], a.Address, line(h), part, h+" header")
					}
				}
			} else if m := emailRE().FindStringSubmatch(v); m != nil {
				x.add(m[1], m[0], line(h), part, h+" header")
			}
		}
	}
	for _, v := range msg.Header["List-Unsubscribe"] {
		for _, u := range strings.Split(v, ",") {
			x.url(strings.Trim(strings.TrimSpace(u), "<>"), line("List-Unsubscribe"), part, "List-Unsubscribe header")
		}
	}
	for _, v := range msg.Header["Message-Id"] {
		if at := strings.LastIndexByte(v, '@'); at > 0 {
			x.add(strings.Trim(v[at+1:], "<> "), v, line("Message-Id"), part, "Message-ID header")
		}
	}
	for _, v := range msg.Header["Subject"] { // spam puts links in the subject too
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		x.textLine(v, line("Subject"), part, "Subject header")
	}
	if !x.relaysRead { // a forwarded message's (message/rfc822) relays are not the message's
		x.relaysRead = true
		x.received(msg.Header["Received"], receivedLines(data), firstLine)
	}
	for _, v := range msg.Header["Dkim-Signature"] {
		if m := dkimDomainRE().FindStringSubmatch(strings.Join(strings.Fields(v), " ")); m != nil {
			x.add(m[1], "d="+m[1], line("DKIM-Signature"), part, "DKIM-Signature d=")
		}
	}
	body, _ := io.ReadAll(msg.Body)
	x.entity(textprotoHeader(msg.Header), body, part, firstLine-1+bodyLine, 0)
}

// Part is one leaf of a MIME entity: its media type and its body, the transfer
// encoding undone and text converted to UTF-8.
type Part struct {
	Name string // "part 2 (message/delivery-status)"; "" for a single-part entity
	Type string // the media type, lower case ("text/plain" when none is given)
	Body []byte
}

// Parts reads a MIME entity (a message's Content-Type, Content-Transfer-Encoding
// and body) as scan reads one (damaged multiparts recovered, charsets decoded)
// and returns its leaves in order: a message/rfc822 part is one leaf, not
// descended into. Warnings say what was noticed, unread what could not be read;
// both begin with name.
func Parts(contentType, encoding string, body []byte, name string) (parts []Part, warnings, unread []string) {
	x := &extractor{file: name, leaf: func(p Part) { parts = append(parts, p) }}
	x.entity(entityHeader{contentType: contentType, encoding: encoding}, body, "", 1, 0)
	return parts, x.warnings, x.unread
}

// handOver gives a leaf to Parts' caller, and reports whether there is one
// (what could not be decoded is said in unread, not handed over).
func (x *extractor) handOver(p Part, encodedLen int) bool {
	if x.leaf == nil {
		return false
	}
	if p.Body != nil || encodedLen == 0 {
		x.leaf(p)
	}
	return true
}

type entityHeader struct {
	contentType, encoding string
}

func textprotoHeader(h mail.Header) entityHeader {
	return entityHeader{contentType: h.Get("Content-Type"), encoding: h.Get("Content-Transfer-Encoding")}
}

// entity handles one MIME entity: multipart containers recurse, text parts are
// decoded (transfer encoding, then charset) and scanned.
func (x *extractor) entity(h entityHeader, body []byte, part string, firstLine, depth int) {
	if depth > 20 {
		x.unreadable("%sMIME nested more than 20 deep: the rest is not read", partPrefix(part))
		return
	}
	ct := h.contentType
	if ct == "" {
		ct = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		x.warn("%sbad Content-Type %q: read as text", partPrefix(part), ct)
		mediaType, params = "text/plain", nil
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			x.warn("%smultipart without a boundary: read as text", partPrefix(part))
			x.text(body, part, firstLine, "text")
			return
		}
		starts := partStarts(body, boundary, firstLine)
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		for i := 1; ; i++ {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil && errors.Is(err, io.EOF) && i > 1 {
				x.warn("%sthe multipart has no closing boundary: read to its end", partPrefix(part))
				break
			}
			if err != nil && i == 1 {
				x.multipartFallback(h, body, boundary, part, firstLine, depth)
				return
			}
			if err != nil {
				x.unreadable("%smalformed MIME (%v): the rest of the multipart is not read", partPrefix(part), err)
				break
			}
			data, err := io.ReadAll(p)
			if err != nil {
				x.warn("%smalformed MIME part %d (%v): read as far as possible", partPrefix(part), i, err)
			}
			name := fmt.Sprint(i)
			if part != "" {
				name = strings.Fields(part)[1] + "." + name
			}
			sub := entityHeader{contentType: p.Header.Get("Content-Type"), encoding: p.Header.Get("Content-Transfer-Encoding")}
			x.contentID(p.Header.Get("Content-Id"), firstLine, part)
			subType, _, _ := mime.ParseMediaType(sub.contentType)
			if subType == "" {
				subType = "text/plain"
			}
			base, exact := x.partBase, x.partExact
			if i <= len(starts) && (part == "" || x.partExact && x.partBase > 0) { // known while the lines are the file's
				x.partBase = starts[i-1]
				if part != "" { // a multipart inside a part: its lines count from the part's start
					x.partBase = base + starts[i-1] - 1
				}
				enc := strings.ToLower(strings.TrimSpace(sub.encoding))
				x.partExact = enc == "" || enc == "7bit" || enc == "8bit" || enc == "binary"
			}
			x.entity(sub, data, fmt.Sprintf("part %s (%s)", name, subType), 1, depth+1)
			x.partBase, x.partExact = base, exact
		}
		return
	}
	decoded := x.decode(body, h.encoding, params["charset"], part)
	if x.handOver(Part{Name: part, Type: mediaType, Body: decoded}, len(body)) {
		return
	}
	switch {
	case mediaType == "text/html", mediaType == "text/x-amp-html": // AMP for Email is HTML
		x.html(decoded, part, firstLine)
	case mediaType == "message/rfc822":
		x.message(decoded, part, firstLine)
	case strings.HasPrefix(mediaType, "text/"):
		x.text(decoded, part, firstLine, "text")
	}
}

// contentID adds the domain of a part's Content-ID, as in Message-ID.
func (x *extractor) contentID(cid string, line int, part string) {
	if at := strings.LastIndexByte(cid, '@'); at > 0 {
		x.add(strings.Trim(cid[at+1:], "<> "), cid, line, part, "Content-ID header")
	}
}

// multipartFallback reads a multipart whose parts cannot be found with its
// declared boundary: with the boundary its body does use, when that is another
// one; otherwise as the raw text it is (a missing opening boundary), which is
// read, unless it holds encoded parts that raw text cannot show.
func (x *extractor) multipartFallback(h entityHeader, body []byte, declared, part string, firstLine, depth int) {
	if used := usedBoundary(body); used != "" && used != declared {
		x.warn("%sthe multipart's declared boundary %q is not the one it uses (%q): read with the one it uses",
			partPrefix(part), declared, used)
		mediaType, params, _ := mime.ParseMediaType(h.contentType)
		params["boundary"] = used
		x.entity(entityHeader{contentType: mime.FormatMediaType(mediaType, params), encoding: h.encoding}, body, part, firstLine, depth+1)
		return
	}
	lower := bytes.ToLower(body)
	if bytes.Contains(lower, []byte("content-transfer-encoding: base64")) ||
		bytes.Contains(lower, []byte("content-transfer-encoding: quoted-printable")) {
		x.unreadable("%smalformed MIME (no part starts with its boundary) with encoded parts: read as raw text, "+
			"but what the encoded parts hold was not read", partPrefix(part))
	} else {
		x.warn("%smalformed MIME (no part starts with its boundary): read as raw text", partPrefix(part))
	}
	x.text(body, part, firstLine, "text")
}

// usedBoundary finds the boundary a multipart body uses: a "--token" line
// that comes back, or closes ("--token--").
func usedBoundary(body []byte) string {
	seen := map[string]int{}
	for len(body) > 0 {
		var l []byte
		l, body = nextLine(body)
		t := strings.TrimRight(string(l), " \t\r")
		if !strings.HasPrefix(t, "--") || len(t) < 3 || len(t) > 72 || strings.ContainsAny(t, " \t") {
			continue
		}
		tok := t[2:]
		if strings.HasSuffix(tok, "--") && seen[strings.TrimSuffix(tok, "--")] > 0 {
			return strings.TrimSuffix(tok, "--")
		}
		if seen[tok]++; seen[tok] >= 2 {
			return tok
		}
	}
	return ""
}

// partStarts returns, for each part of a multipart body that starts at line
// firstLine of the file, the file line its body starts at (after its headers).
func partStarts(body []byte, boundary string, firstLine int) []int {
	var out []int
	delim := "--" + boundary
	inHeaders := false
	line := firstLine
	for len(body) > 0 {
		var l []byte
		l, body = nextLine(body)
		text := strings.TrimRight(string(l), " \t\r")
		switch {
		case text == delim+"--":
			return out
		case text == delim:
			inHeaders = true
		case inHeaders && text == "":
			inHeaders = false
			out = append(out, line+1)
		}
		line++
	}
	return out
}

// nextLine splits off data's first line (without its newline).
func nextLine(data []byte) (line, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i], data[i+1:]
	}
	return data, nil
}

// splitBase64 splits a body into its leading base64 lines (joined, without
// spaces) and the rest, from the first line that is no base64.
func splitBase64(body []byte) (string, []byte) {
	var enc strings.Builder
	rest := body
	for len(rest) > 0 {
		l, next := nextLine(rest)
		t := strings.TrimSpace(string(l))
		if t != "" && strings.Trim(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != "" {
			break
		}
		enc.WriteString(t)
		rest = next
	}
	return enc.String(), rest
}

func partPrefix(part string) string {
	if part == "" {
		return ""
	}
	return part + ": "
}

// decode undoes the transfer encoding and converts the charset to UTF-8.
func (x *extractor) decode(body []byte, encoding, charset, part string) []byte {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			x.warn("%sbad quoted-printable (%v): read as far as possible", partPrefix(part), err)
		}
		body = out
	case "base64":
		clean := strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, string(body))
		out, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			out, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
		}
		if err != nil {
			// base64 followed by text (a mailing list's footer): the encoded
			// lines, decoded, and the text after them, as it is
			encoded, tail := splitBase64(body)
			if dec, derr := base64.StdEncoding.DecodeString(encoded); derr == nil && len(encoded) > 0 {
				x.warn("%sbase64 followed by text (a mailing list's footer?): both read", partPrefix(part))
				out, err = append(append(dec, '\n'), tail...), nil
			}
		}
		if err != nil {
			x.unreadable("%sbad base64 (%v): part not read", partPrefix(part), err)
			return nil
		}
		body = out
	}
	charset = strings.ToLower(strings.TrimSpace(charset))
	if charset == "" || charset == "utf-8" || charset == "us-ascii" || charset == "ascii" {
		return body
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		x.warn("%sunknown charset %q: read as UTF-8", partPrefix(part), charset)
		return body
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		x.warn("%scannot decode charset %q: read as UTF-8", partPrefix(part), charset)
		return body
	}
	return out
}

// headerLines returns the line of each header (first occurrence, lower-case
// name) and the line where the body starts.
func headerLines(data []byte) (map[string]int, int) {
	lines := map[string]int{}
	n := 0
	for len(data) > 0 {
		n++
		var l []byte
		l, data = nextLine(data)
		l = bytes.TrimRight(l, "\r")
		if len(l) == 0 {
			return lines, n + 1
		}
		if c := bytes.IndexByte(l, ':'); c > 0 && l[0] != ' ' && l[0] != '\t' {
			name := strings.ToLower(string(l[:c]))
			if _, seen := lines[name]; !seen {
				lines[name] = n
			}
		}
	}
	return lines, n + 1
}

var (
	cssURLRE  = lazyre.New(`(?i)url\(\s*['"]?([^'")\s]+)['"]?\s*\)`)
	refreshRE = lazyre.New(`(?i)url\s*=\s*['"]?([^'"\s>]+)`)
)

// html finds links and resources in HTML: href, src, srcset, action, background,
// CSS url(), meta refresh, and URLs and addresses in the text.
func (x *extractor) html(data []byte, part string, firstLine int) {
	z := html.NewTokenizer(bytes.NewReader(data))
	line := firstLine
	inStyle, inScript := false, false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		raw := z.Raw()
		start := line
		line += bytes.Count(raw, []byte("\n"))
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			inStyle = tag == "style" && tt == html.StartTagToken
			inScript = tag == "script" && tt == html.StartTagToken
			var httpEquiv, content string
			lines := attrLines{raw: raw}
			for hasAttr {
				k, v, more := z.TagAttr()
				hasAttr = more
				key, val := string(k), string(v)
				// the attribute's own line: the newlines before it in the raw tag
				at := start + lines.of(key)
				switch key {
				case "href", "src", "action", "background", "cite", "poster", "data-src", "formaction",
					"background-url",                      // MJML's <mj-section> and <mj-hero> in a template's source
					"data-saferedirecturl", "originalsrc": // Gmail's and Outlook's copies of the real link
					x.url(val, at, part, key)
					x.cutTemplate(raw, val, at, part, key)
				case "srcset":
					for _, c := range strings.Split(val, ",") {
						if f := strings.Fields(c); len(f) > 0 {
							x.url(f[0], at, part, "srcset")
						}
					}
				case "style":
					if containsFold(val, "url(") { // most inline styles hold none
						for _, m := range cssURLRE().FindAllStringSubmatch(val, -1) {
							x.url(m[1], at, part, "CSS url()")
						}
					}
				case "http-equiv":
					httpEquiv = strings.ToLower(val)
				case "content":
					content = val
				}
			}
			if tag == "meta" && httpEquiv == "refresh" {
				if m := refreshRE().FindStringSubmatch(content); m != nil {
					x.url(m[1], start, part, "meta refresh")
				}
			}
		case html.EndTagToken:
			inStyle, inScript = false, false
		case html.CommentToken:
			if inner, skip, ok := conditionalComment(raw); ok && !x.inConditional {
				x.inConditional = true
				x.html(inner, part, start+bytes.Count(raw[:skip], []byte("\n")))
				x.inConditional = false
			}
		case html.TextToken:
			text := html.UnescapeString(string(raw))
			for i, l := range strings.Split(text, "\n") {
				if inStyle {
					if containsFold(l, "url(") {
						for _, m := range cssURLRE().FindAllStringSubmatch(l, -1) {
							x.url(m[1], start+i, part, "CSS url()")
						}
					}
					continue
				}
				if inScript { // code: links with a scheme only, no bare names (Main.pm, a.menu)
					x.urlsOnly(l, start+i, part, "script")
					continue
				}
				x.textLine(l, start+i, part, "text")
			}
		}
	}
}

// cutTemplate reads the URLs of a template expression that its own quotes
// cut short: in href="{{ TrackLink "https://example.com/" }}" (listmonk's,
// Handlebars' helpers) the tokenizer ends the value at the second quote,
// and the URL is left in the raw tag, up to the expression's "}}".
func (x *extractor) cutTemplate(raw []byte, val string, line int, part, where string) {
	if !strings.HasPrefix(strings.TrimSpace(val), "{{") || strings.Contains(val, "}}") {
		return
	}
	i := bytes.Index(raw, []byte(val))
	if i < 0 {
		return
	}
	rest := raw[i+len(val):]
	if j := bytes.Index(rest, []byte("}}")); j >= 0 {
		for _, u := range findURLs(string(rest[:j])) {
			x.url(trimURL(u), line, part, where+" (template expression)")
		}
	}
}

// conditionalComment returns the HTML inside an Outlook conditional comment
// (<!--[if mso]><v:roundrect href="..."><v:fill src="..."/>...<![endif]-->),
// which Outlook renders and other readers skip, and where it starts in raw;
// ok is false for any other comment.
func conditionalComment(raw []byte) (inner []byte, skip int, ok bool) {
	body := bytes.TrimLeft(bytes.TrimPrefix(raw, []byte("<!--")), " \t\r\n")
	if len(body) < 4 || !bytes.EqualFold(body[:3], []byte("[if")) {
		return nil, 0, false
	}
	i := bytes.Index(raw, []byte("]>"))
	if i < 0 {
		return nil, 0, false
	}
	skip = i + 2
	inner = raw[skip:]
	if j := bytes.Index(inner, []byte("<![endif]")); j >= 0 {
		inner = inner[:j]
	} else {
		inner = bytes.TrimSuffix(inner, []byte("-->"))
	}
	return inner, skip, true
}

// attrLines finds the line of each attribute of one tag, in the order the
// tokenizer gives them (the order they stand in): each search starts where the
// last one ended, so a tag with many attributes costs one pass, not one pass an
// attribute (40,000 attributes once took half a minute).
type attrLines struct {
	raw   []byte
	lower []byte // raw lower-cased, made on first use
	pos   int    // where the last attribute was found
	line  int    // newlines in raw before pos
	lost  bool   // an attribute was not found: the search stopped
}

func (a *attrLines) of(key string) int {
	if a.lost {
		return a.line
	}
	if a.lower == nil {
		a.lower = ascii.Lower(a.raw) // byte for byte, so that its offsets are raw's
	}
	k := []byte(key)
	for i := a.pos; i < len(a.lower); {
		j := bytes.Index(a.lower[i:], k)
		if j < 0 {
			break
		}
		j += i
		end := j + len(k)
		if j > 0 && isSpace(a.lower[j-1]) && (end == len(a.lower) || isSpace(a.lower[end]) || a.lower[end] == '=' ||
			a.lower[end] == '>' || a.lower[end] == '/') {
			a.line += bytes.Count(a.raw[a.pos:j], []byte("\n"))
			a.pos = j + len(k)
			return a.line
		}
		i = j + 1
	}
	// not found as written (a name the tokenizer rewrote): the last line known,
	// for this one and the rest, so that no search starts over from here
	a.lost = true
	return a.line
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' }

package extract

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxRedirectDepth bounds how many redirects wrapped inside one another are
// followed from one link (a tracker around a safe-links wrapper around the
// real link is three).
const MaxRedirectDepth = 3

// MaxRedirectTargets bounds how many redirect targets one link yields, at all
// depths: a link stuffed with URLs cannot grow the work without bound.
const MaxRedirectTargets = 8

// maxInnerValue bounds the length of a query value that is decoded in search
// of a URL (base64, JSON): longer ones are not decoded.
const maxInnerValue = 8 << 10

// redirectTargets finds the URLs a redirector link leads to, as receivers'
// filters read them without fetching anything (SpamAssassin's generic
// "https?:" rule and its redirector_patterns): a query value that is a URL
// (?url=https%3A%2F%2F..., Google's /url?q=https://host/&sa=D, Outlook's safe
// links, Facebook's l.php?u=), a URL encoded in the path (AWS SES's
// awstrack.me/L0/https:%2F%2F..., /redirect/http://...), in the fragment, a
// base64 URL (Bing's u=a1aHR0c...), a base64 JSON value holding one
// (Mandrill's p=), and Proofpoint's u=https-3A__host_path.
func redirectTargets(u *url.URL) []string {
	var out []string
	for q := u.RawQuery; q != ""; {
		var pair string
		if i := strings.IndexAny(q, "&;"); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, ""
		}
		_, v, ok := strings.Cut(pair, "=")
		if !ok {
			v = pair
		}
		out = append(out, valueURLs(v)...)
	}
	// url.Parse has decoded the path and the fragment once
	for _, s := range []string{u.Path, u.Fragment} {
		if t := embeddedURL(s); t != "" {
			out = append(out, t)
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if q := zlibQuery(seg); q != "" {
			out = append(out, redirectTargets(&url.URL{RawQuery: q})...)
		}
	}
	return out
}

// zlibQuery decodes a path segment that is a query string compressed with
// zlib and written in base64url, as Mailgun's click links are
// (email.mg.example.com/c/eJwtj0Fr...: "...&l=http%3A%2F%2Fshop.example%2F&..."):
// "" when it is not one. What it inflates to is bounded by maxInnerValue.
func zlibQuery(seg string) string {
	// a zlib stream starts 0x78 (deflate, 32K window): "e" in base64
	if len(seg) < 16 || len(seg) > maxInnerValue || seg[0] != 'e' || !isBase64(seg) {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return ""
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	defer zr.Close()
	// a truncated stream still yields what it inflated: keep that
	dec, _ := io.ReadAll(io.LimitReader(zr, maxInnerValue))
	if !utf8.Valid(dec) || !bytes.Contains(dec, []byte("=")) {
		return ""
	}
	return string(dec)
}

// valueURLs reads one query value (still escaped) as a redirector's target.
func valueURLs(v string) []string {
	if v == "" || len(v) > maxInnerValue || !mayHoldURL(v) {
		return nil
	}
	for i := 0; i < 3 && strings.IndexByte(v, '%') >= 0; i++ {
		dec, err := url.QueryUnescape(v)
		if err != nil {
			break
		}
		v = dec
	}
	v = strings.TrimSpace(v)
	if t := schemeURL(v); t != "" {
		return []string{t}
	}
	if t := proofpointV2(v); t != "" {
		return []string{t}
	}
	if dec := base64Text(v); dec != "" {
		if t := schemeURL(dec); t != "" {
			return []string{t} // Bing's u=a1aHR0cHM6Ly9..., a bare base64 URL
		}
		v = strings.ReplaceAll(dec, `\/`, "/") // JSON (Mandrill's p=): "url":"http:\/\/..."
	}
	if strings.Contains(v, "://") {
		return findURLs(v)
	}
	return nil
}

// mayHoldURL is a quick test, before anything is decoded: does the escaped
// value hold the start of a URL, plain, escaped or in base64?
func mayHoldURL(v string) bool {
	return strings.Contains(v, "://") || containsFold(v, "%3a") || containsFold(v, "www.") ||
		strings.HasPrefix(v, "//") || strings.HasPrefix(v, "%2F%2F") || strings.HasPrefix(v, "%2f%2f") ||
		containsFold(v, "http") || len(v) >= 16 && isBase64(v)
}

// schemeURL returns v as an absolute URL when it is one, written as browsers
// take it: "https://host", "http:/host" and "http:host" (SpamAssassin's bug
// 3308), "//host" and "www.host"; "" otherwise.
func schemeURL(v string) string {
	lower := strings.ToLower(v[:min(len(v), 8)])
	for _, scheme := range []string{"https:", "http:", "ftp:"} {
		if strings.HasPrefix(lower, scheme) {
			rest := strings.TrimLeft(v[len(scheme):], "/\\")
			if rest == "" || !isHostStart(rest[0]) {
				return ""
			}
			return cutAtSpace(scheme + "//" + rest)
		}
	}
	switch {
	case strings.HasPrefix(v, "//") && len(v) > 2 && isHostStart(v[2]):
		return cutAtSpace("http:" + v)
	case strings.HasPrefix(lower, "www.") && len(v) > 4:
		return cutAtSpace("http://" + v)
	}
	return ""
}

func isHostStart(c byte) bool { return isAlnum(c) || c == '[' || c >= 0x80 }

// cutAtSpace ends a URL at the first byte a URL cannot hold unescaped.
func cutAtSpace(s string) string {
	if i := strings.IndexAny(s, " \t\r\n<>\"'`"); i >= 0 {
		return s[:i]
	}
	return s
}

// embeddedURL finds a URL inside a decoded path or fragment: from the first
// "http:" or "https:" that starts a segment or follows a separator.
func embeddedURL(s string) string {
	for off := 0; off < len(s); {
		i := indexFold(s[off:], "http")
		if i < 0 {
			return ""
		}
		i += off
		off = i + 4
		if i > 0 && isAlnum(s[i-1]) {
			continue // inside a word ("xhttp", "mhttps")
		}
		t := s[i:]
		for k := 0; k < 2 && strings.IndexByte(t, '%') >= 0; k++ { // encoded twice over
			dec, err := url.PathUnescape(t)
			if err != nil {
				break
			}
			t = dec
		}
		if u := schemeURL(t); u != "" {
			return u
		}
	}
	return ""
}

// indexFold is strings.Index for a lower-case ASCII word, in any case.
func indexFold(s, w string) int {
	first := w[0]
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == first && strings.EqualFold(s[i:i+len(w)], w) {
			return i
		}
	}
	return -1
}

// proofpointV2 decodes Proofpoint URL Defense v2's u= value
// (https-3A__www.example.com_path): "-XX" is a hex escape, "_" a slash.
func proofpointV2(v string) string {
	lower := strings.ToLower(v[:min(len(v), 10)])
	if !strings.HasPrefix(lower, "https-3a__") && !strings.HasPrefix(lower, "http-3a__") {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '-' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			b.WriteByte(unhex(v[i+1])<<4 | unhex(v[i+2]))
			i += 2
		case c == '_':
			b.WriteByte('/')
		default:
			b.WriteByte(c)
		}
	}
	return schemeURL(b.String())
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

func isBase64(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isAlnum(c) && c != '+' && c != '/' && c != '-' && c != '_' && c != '=' {
			return false
		}
	}
	return true
}

// base64Text decodes a base64 value (standard or URL alphabet, padded or
// not; Bing's "a1" prefix) that holds text with a URL in it; "" when it does
// not.
func base64Text(v string) string {
	if len(v) < 16 || !isBase64(v) {
		return ""
	}
	if strings.HasPrefix(v, "a1aHR0c") { // Bing's click links: u=a1 + base64url
		v = v[2:]
	}
	v = strings.TrimRight(v, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(v, "-_") {
		enc = base64.RawURLEncoding
	}
	dec, err := enc.DecodeString(v)
	if err != nil || !utf8.Valid(dec) || indexFold(string(dec), "http") < 0 {
		return ""
	}
	return string(dec)
}

// Package extract finds what receiving filters look up in a message or a
// newsletter: the hosts of links and resources, e-mail addresses, and the
// domains in the headers that matter. Every item keeps where it was found.
// Nothing here touches the network: tracking redirects are followed textually.
package extract

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/blcheck/blcheck/internal/lazyre"
)

// Location is one place an item was found.
type Location struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Part  string `json:"part,omitempty"` // MIME part, e.g. "part 2 (text/html)"; its line is in the decoded part
	Where string `json:"where"`          // href, src, text, "From header", "redirect target in href"...
	// FileLine is, for a finding in a MIME part, its line in the file: exact
	// for a part sent as it is, the first line of the part's body for a base64
	// or quoted-printable one (whose decoded lines are not the file's).
	FileLine int `json:"file_line,omitempty"`
}

func (l Location) String() string {
	if l.Part != "" {
		return fmt.Sprintf("%s, %s line %d, in %s", l.File, l.Part, l.Line, l.Where)
	}
	return fmt.Sprintf("%s:%d, in %s", l.File, l.Line, l.Where)
}

// Item is one host found, with the text it was found in.
type Item struct {
	Host string // lower case; an IP address or a host name as written (IDN not yet converted)
	Raw  string // the URL or address as found
	Loc  Location
}

// MaxSize bounds what is read from one input.
const MaxSize = 32 << 20

// ErrTooLarge is an input over MaxSize.
var ErrTooLarge = fmt.Errorf("larger than %d MiB", MaxSize>>20)

// Findings is what File found in one input.
type Findings struct {
	Items []Item
	// Warnings are problems that did not stop the reading (an unknown charset,
	// a part read as plain text).
	Warnings []string
	// Unread names each part that could not be read at all (bad base64, MIME
	// nested too deep, a multipart broken off): what it held was not checked,
	// so a result built on these findings is incomplete.
	Unread []string
}

// File extracts items from one input (an .eml message, HTML, Markdown or plain
// text), named name in locations.
func File(r io.Reader, name string) (*Findings, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	x := &extractor{file: name}
	switch {
	case looksLikeMessage(data, name):
		x.message(data, "", 1)
	case looksLikeHTML(data, name):
		x.html(data, "", 1)
	default:
		x.text(data, "", 1, "text")
	}
	return &Findings{Items: x.items, Warnings: x.warnings, Unread: x.unread}, nil
}

type extractor struct {
	file     string
	items    []Item
	warnings []string
	unread   []string
	// the part being read: the file line its body starts at, and whether its
	// lines are the file's (no transfer encoding)
	partBase  int
	partExact bool
}

func (x *extractor) warn(format string, a ...any) {
	x.warnings = append(x.warnings, x.file+": "+fmt.Sprintf(format, a...))
}

// unreadable records a part that could not be read: it is a warning too.
func (x *extractor) unreadable(format string, a ...any) {
	msg := x.file + ": " + fmt.Sprintf(format, a...)
	x.unread = append(x.unread, msg)
	x.warnings = append(x.warnings, msg)
}

func (x *extractor) add(host, raw string, line int, part, where string) {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return
	}
	loc := Location{File: x.file, Line: line, Part: part, Where: where}
	if part != "" && x.partBase > 0 {
		loc.FileLine = x.partBase
		if x.partExact {
			loc.FileLine += line - 1
		}
	}
	x.items = append(x.items, Item{Host: host, Raw: raw, Loc: loc})
}

var (
	urlRE   = lazyre.New(`(?i)\b(?:https?|ftp)://[^\s<>"'\x60{}|\\^\[\]]+`)
	wwwRE   = lazyre.New(`(?i)(?:^|[^a-z0-9.@/-])(www\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/?#][^\s<>"'\x60{}|\\^\[\]]*)?)`)
	emailRE = lazyre.New(`(?i)[a-z0-9.!#$%&'*+/=?^_\x60{|}~-]+@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+|\[[0-9a-f:.]+\])`)
)

// trimURL drops the punctuation that ends a sentence or wraps a link in text.
func trimURL(s string) string {
	for len(s) > 0 {
		last := s[len(s)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"*", last) >= 0:
			s = s[:len(s)-1]
		case last == ')' && strings.Count(s, "(") < strings.Count(s, ")"):
			s = s[:len(s)-1]
		default:
			return s
		}
	}
	return s
}

// text finds URLs, www. links and e-mail addresses in plain text or Markdown.
func (x *extractor) text(data []byte, part string, firstLine int, where string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), MaxSize)
	line := firstLine - 1
	for sc.Scan() {
		line++
		x.textLine(sc.Text(), line, part, where)
	}
}

func (x *extractor) textLine(s string, line int, part, where string) {
	for _, m := range urlRE().FindAllString(s, -1) {
		x.url(trimURL(m), line, part, where)
	}
	for _, m := range wwwRE().FindAllStringSubmatch(s, -1) {
		x.url("http://"+trimURL(m[1]), line, part, where)
	}
	for _, m := range emailRE().FindAllStringSubmatch(s, -1) {
		if strings.Contains(m[0], "://") {
			continue
		}
		x.add(m[1], trimURL(m[0]), line, part, where)
	}
}

// url adds a URL's host, and the hosts of URLs wrapped inside it (tracking
// redirects like ?url=https%3A%2F%2Freal.example), without fetching anything.
func (x *extractor) url(raw string, line int, part, where string) {
	x.urlDepth(raw, line, part, where, 0)
}

func (x *extractor) urlDepth(raw string, line int, part, where string, depth int) {
	raw = strings.TrimSpace(raw)
	if raw == "" || depth > 3 {
		return
	}
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "mailto:"):
		addrs := raw[len("mailto:"):]
		if i := strings.IndexByte(addrs, '?'); i >= 0 {
			addrs = addrs[:i]
		}
		for _, a := range strings.Split(addrs, ",") {
			if a, err := url.PathUnescape(a); err == nil {
				if at := strings.LastIndexByte(a, '@'); at > 0 {
					x.add(a[at+1:], "mailto:"+a, line, part, where)
				}
			}
		}
		return
	case strings.HasPrefix(lower, "//"):
		raw = "http:" + raw
	case strings.HasPrefix(lower, "www."):
		raw = "http://" + raw
	case !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "ftp://"):
		return // relative links, data:, cid:, javascript: have no host to check
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return
	}
	host := u.Hostname()
	written := ""
	if ip, ok := hiddenIPv4(host); ok {
		// what a browser opens: the address the number stands for
		written, host = host, ip
	}
	switch shown := u.User.Username(); {
	case strings.Contains(shown, "."):
		// http://bank.example@192.0.2.7/: what is shown before the @ is not where it goes
		if written != "" {
			host += " (written " + written + ")"
		}
		where = "link that shows " + shown + " but opens " + host + ", in " + where
		host = strings.TrimSuffix(host, " (written "+written+")")
	case written != "":
		where = "address hidden as " + written + ", in " + where
	}
	x.add(host, raw, line, part, where)
	// a URL inside the URL: a tracking redirect, followed textually
	inner := u.RawQuery + " " + u.EscapedPath() + " " + u.Fragment
	for i := 0; i < 2; i++ {
		if dec, err := url.QueryUnescape(inner); err == nil {
			inner = dec
		}
	}
	for _, m := range urlRE().FindAllString(inner, -1) {
		x.urlDepth(trimURL(m), line, part, "redirect target in "+where, depth+1)
	}
}

func looksLikeHTML(data []byte, name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".html", ".htm", ".xhtml":
		return true
	case ".md", ".markdown", ".txt", ".text":
		return false
	}
	head := bytes.ToLower(data[:min(len(data), 4096)])
	return bytes.Contains(head, []byte("<html")) || bytes.Contains(head, []byte("<!doctype html")) ||
		bytes.Contains(head, []byte("<body")) || bytes.Contains(head, []byte("<a href"))
}

var headerLineRE = lazyre.New(`^[A-Za-z0-9-]+:`)

func looksLikeMessage(data []byte, name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".eml" || ext == ".msg" || ext == ".mbox" {
		return true
	}
	if ext == ".html" || ext == ".htm" || ext == ".md" {
		return false
	}
	// a header block: every line up to the first blank one is a header or a continuation,
	// and one of the headers every message has is there
	sc := bufio.NewScanner(bytes.NewReader(data[:min(len(data), 64*1024)]))
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	known, lines := false, 0
	for sc.Scan() {
		l := sc.Text()
		if l == "" {
			return known && lines > 0
		}
		lines++
		if strings.HasPrefix(l, "From ") && lines == 1 { // mbox separator
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			continue
		}
		if !headerLineRE().MatchString(l) {
			return false
		}
		switch strings.ToLower(l[:strings.IndexByte(l, ':')]) {
		case "from", "received", "return-path", "mime-version", "message-id", "subject", "to", "date":
			known = true
		}
	}
	return false
}

// hiddenIPv4 reads a URL host the way browsers do (the WHATWG URL standard's
// IPv4 parser) when it is a number written another way: decimal
// (http://3221225985/), hexadecimal (0xc0000201), octal (0300.0.02.01) or
// mixed (192.0.0x2.1), shortened (192.513). It returns the dotted address and
// true for such a host; false for a plain dotted quad or a host name.
func hiddenIPv4(host string) (string, bool) {
	if host == "" || strings.HasSuffix(host, ".") {
		host = strings.TrimSuffix(host, ".")
	}
	parts := strings.Split(host, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return "", false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return "", false // a host name (its last label is not a number)
		}
		nums[i] = n
	}
	last := len(nums) - 1
	for _, n := range nums[:last] {
		if n > 255 {
			return "", false
		}
	}
	if nums[last] >= 1<<(8*(5-len(nums))) {
		return "", false
	}
	v := nums[last]
	for i, n := range nums[:last] {
		v += n << (8 * (3 - i))
	}
	ip := fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&255, v>>8&255, v&255)
	if ip == host {
		return "", false // written plainly
	}
	return ip, true
}

// ipv4Number reads one part of an IPv4 host: 0x hexadecimal, 0 octal, else decimal.
func ipv4Number(p string) (uint64, bool) {
	base := 10
	switch {
	case p == "":
		return 0, false
	case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if len(p) > 12 {
		return 0, false
	}
	n, err := strconv.ParseUint(p, base, 64)
	return n, err == nil
}

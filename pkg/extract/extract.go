// Package extract finds what receiving filters look up in a message or a
// newsletter: the hosts of links and resources, e-mail addresses, and the
// domains in the headers that matter. Every item keeps where it was found.
// Nothing here touches the network: tracking redirects are followed textually.
package extract

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blcheck/blcheck/internal/lazyre"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"golang.org/x/net/publicsuffix"
	textunicode "golang.org/x/text/encoding/unicode"
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
	// Sender is set for the address of the server that delivered a message
	// (its Received headers say so): judged as a mail sender, every listing
	// counting, where a link's host, or an earlier relay's address, counts
	// only for what makes it suspect.
	Sender bool
	// Relay is set for the address of any other relay in a message's Received
	// headers: judged as a link's address is, but not asked of the URI lists,
	// which list the hosts of links, not a message's path.
	Relay bool
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
	// Relays are the public addresses a message's Received headers say it came
	// from, newest first: the relays receivers look up in the headers. Apart
	// from Items, since they are the message's path, not its content.
	Relays []Item
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
	if data, err = asText(data); err != nil {
		return nil, err
	}
	x := &extractor{file: name}
	switch {
	case looksLikeMessage(data, name):
		for _, m := range mboxMessages(data) { // one, unless an mbox holds several
			x.relaysRead = false
			x.message(m.data, "", m.line)
		}
	case looksLikeHTML(data, name):
		x.html(data, "", 1)
	default:
		x.text(data, "", 1, "text")
	}
	return &Findings{Items: x.items, Warnings: x.warnings, Unread: x.unread, Relays: x.relays}, nil
}

// binaryMagic are the starts of files that hold no text to read: archives,
// compressed files, PDF (whose links are in compressed streams).
var binaryMagic = []struct{ magic, kind string }{
	{"\x1f\x8b", "gzip data"}, {"PK\x03\x04", "a zip archive (or an Office document)"}, {"%PDF-", "a PDF document"},
	{"BZh", "bzip2 data"}, {"\xfd7zXZ\x00", "xz data"}, {"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"},
	{"\x28\xb5\x2f\xfd", "zstd data"},
}

// asText is data as UTF-8 text: UTF-16 with a byte order mark (Windows' "Unicode"
// text and HTML) is decoded; a compressed file, an archive, a PDF or other binary
// data (a NUL byte in its first 8 KiB, in what is not a mail message) is an
// error that names it, since its links cannot be read: calling it "nothing to
// check" would pass a newsletter that was never read.
func asText(data []byte) ([]byte, error) {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		text, err := textunicode.UTF16(textunicode.BigEndian, textunicode.UseBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, fmt.Errorf("not readable as UTF-16 text: %v", err)
		}
		return text, nil
	}
	for _, b := range binaryMagic {
		if bytes.HasPrefix(data, []byte(b.magic)) {
			return nil, fmt.Errorf("%w: it is %s; extract or export it as a message (.eml), HTML or text first", ErrNotText, b.kind)
		}
	}
	if bytes.IndexByte(data[:min(len(data), 8<<10)], 0) >= 0 && !looksLikeMessage(data, "") {
		return nil, fmt.Errorf("%w: it holds binary data (NUL bytes); scan reads messages (.eml, mbox), HTML and text", ErrNotText)
	}
	return data, nil
}

// ErrNotText is an input that is no text to read links from.
var ErrNotText = errors.New("not text")

type extractor struct {
	file   string
	items  []Item
	relays []Item
	// relaysRead is set once the message's own Received headers are read
	relaysRead bool
	warnings   []string
	unread     []string
	// the part being read: the file line its body starts at, and whether its
	// lines are the file's (no transfer encoding)
	partBase  int
	partExact bool
	// inConditional is set while the inside of an Outlook conditional
	// comment is read: a comment in there is not read again (once deep, so
	// that nested "<!--[if]>" cannot make the reading quadratic)
	inConditional bool
	// leaf, when set, takes every MIME leaf decoded instead of scanning it
	// (Parts: bounce reads a bounce's parts with scan's reader)
	leaf func(Part)
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
	// urlRE says what a URL in text is; findURLs finds them in one pass, and is
	// fuzzed against it
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
	if x.leaf != nil { // Parts: what is read as raw text is a text leaf
		x.leaf(Part{Name: part, Type: "text/plain", Body: data})
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), MaxSize)
	line := firstLine - 1
	for sc.Scan() {
		line++
		x.textLine(sc.Text(), line, part, where)
	}
}

func (x *extractor) textLine(s string, line int, part, where string) {
	x.urlsOnly(s, line, part, where)
	x.bareDomains(s, line, part, where)
	for rest, off := s, 0; ; {
		at := strings.IndexByte(rest, '@')
		if at < 0 {
			return
		}
		at += off
		off = at + 1
		rest = s[off:]
		// around each @, what an address is made of; the regular expression
		// then checks it (on the few bytes, not the whole line from each position)
		i := at
		for i > 0 && strings.IndexByte(localPartBytes, s[i-1]) >= 0 {
			i--
		}
		j := at + 1
		for j < len(s) && (isHostByte(s[j]) || s[j] == '[' || s[j] == ']' || s[j] == ':') {
			j++
		}
		full, domain, ok := emailAt(s[i:j], at-i)
		if !ok {
			continue
		}
		x.add(domain, trimURL(full), line, part, where)
	}
}

// localPartBytes are those an e-mail address's local part is written with.
const localPartBytes = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-"

// urlsOnly finds the links written with a scheme or www. in s.
// Each search is tried only on a line that holds what it needs ("://", "www.",
// "@"): Go's regexp has no literal prefix to skip to in these, and most lines
// of a newsletter hold none of them.
func (x *extractor) urlsOnly(s string, line int, part, where string) {
	for _, m := range findURLs(s) {
		x.url(trimURL(m), line, part, where)
	}
	if containsFold(s, "www.") {
		for _, m := range wwwRE().FindAllStringSubmatch(s, -1) {
			x.url("http://"+trimURL(m[1]), line, part, where)
		}
	}
}

// containsFold reports whether s holds the lower-case ASCII word w in any case.
func containsFold(s, w string) bool {
	first := w[0]
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == first && strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// isHostByte is a byte a host name is written with.
func isHostByte(c byte) bool { return isAlnum(c) || c == '.' || c == '-' }

// fileTLDs are top-level domains that are also common file extensions: a bare
// name ending in one is taken for a file (setup.py, README.md), never a host;
// with a scheme or www. it is a host. .pl, where countless Polish sites are
// written bare, is a file only when capitalised (Makefile.pl).
var fileTLDs = map[string]bool{"pm": true, "py": true, "sh": true, "md": true, "rs": true, "cc": true,
	"so": true, "zip": true, "mov": true, "ps": true, "cs": true, "ts": true, "sc": true, "mk": true}

var capitalisedFileTLDs = map[string]bool{"pl": true}

// bareDomains finds host names written without a scheme or www. ("visit
// example.com today"), as receivers' filters do. A name is taken only where
// it stands alone (not inside a URL, an address, a path or a longer word),
// its top-level domain is a real one (the ICANN section of the Public Suffix
// List; a name under a hosting service's private suffix, such as
// site.netlify.app, is a name too), it has a registrable name of two
// characters or a digit before its ICANN suffix (so a.menu, a CSS selector,
// is not taken, and 3.fund is), and it is not a file name (fileTLDs).
func (x *extractor) bareDomains(s string, line int, part, where string) {
	// one pass over the runs of host-name bytes: linear, where a regular
	// expression without a literal prefix backtracks at every position
	var word wordStarts
	for i := 0; i < len(s); {
		if !isHostByte(s[i]) {
			i++
			continue
		}
		start := i
		dots := false
		for i < len(s) && isHostByte(s[i]) {
			dots = dots || s[i] == '.'
			i++
		}
		if !dots {
			continue
		}
		j := i
		for j > start && (s[j-1] == '.' || s[j-1] == '-') {
			j-- // the full stop that ends a sentence
		}
		b := word.of(s, start, i) // bücher.example.de: the whole name, not its tail
		if b > 0 && strings.IndexByte("@/:_\\%&?#", s[b-1]) >= 0 {
			continue // part of a URL, an address, a path or a longer token
		}
		if b > 0 && s[b-1] == '=' && inURL(s, b) {
			continue // a query value: the URL's own reading follows redirects
		}
		if i < len(s) && strings.IndexByte("@_", s[i]) >= 0 {
			continue // an address's local part, a longer token; a path after it is fine (example.com/offer)
		}
		if gluedAfter(s, i) {
			continue // shop.example.comй: a word's start, no name of its own
		}
		name := s[b:j]
		host, ok := bareName(name)
		if !ok {
			continue
		}
		x.add(host, name, line, part, where+" (no scheme)")
	}
}

// bareName says whether name, standing alone in text, is a host name to take
// (see bareDomains), and returns it in lower case.
func bareName(name string) (string, bool) {
	if !validHostName(name) {
		return "", false
	}
	host := strings.ToLower(name)
	if strings.HasPrefix(host, "www.") {
		return "", false // found by the www. rule already
	}
	suffix, icann := publicsuffix.PublicSuffix(host)
	if !icann {
		// under a private suffix (insta-club.netlify.app), or no real TLD:
		// a name only when there is something registrable under an ICANN suffix
		public := dnsbl.PublicRegistered(host)
		if public == "" {
			return "", false
		}
		suffix = public[strings.IndexByte(public, '.')+1:]
	}
	if suffix == host {
		return "", false // nothing registrable before the suffix
	}
	registrable := strings.TrimSuffix(strings.TrimSuffix(host, suffix), ".")
	if k := strings.LastIndexByte(registrable, '.'); k >= 0 {
		registrable = registrable[k+1:]
	}
	if len(registrable) < 2 && !(registrable >= "0" && registrable <= "9") {
		return "", false // a.menu is a CSS selector; 3.fund cannot be one (a class name starts with no digit)
	}
	tld := host[strings.LastIndexByte(host, '.')+1:]
	if fileTLDs[tld] || capitalisedFileTLDs[tld] && name != host {
		return "", false // setup.py, Main.pm, Makefile.pl
	}
	return host, true
}

// wordStarts finds where the name whose ASCII run starts at b begins: b,
// or, when the run is written on from a letter, mark or digit of a script that
// spaces its words (bücher.example.de, пример.example.com), the start of that
// word, so that the name is taken whole (its IDN converted later), never its
// tail (cher.example.de, another name). Scripts written without spaces
// (Chinese, Japanese, Thai...) end a word at every letter, so a name next to
// one starts at b. It keeps the last word found: a word of many runs
// (ü.ab.ü.ab...) is walked back over once, not once for each run.
type wordStarts struct {
	start, end int // the start of the last run's word, and that run's end
	found      bool
}

// of is the start of the word of the run s[b:e].
func (w *wordStarts) of(s string, b, e int) int {
	for b > 0 {
		if w.found && b == w.end {
			b = w.start // the word goes on from the last run's
			break
		}
		r, n := utf8.DecodeLastRuneInString(s[:b])
		if !wordRune(r) && (r >= utf8.RuneSelf || !isHostByte(byte(r))) {
			break
		}
		b -= n
	}
	w.start, w.end, w.found = b, e, true
	return b
}

// gluedAfter reports whether the run ending at e is written on into a word of
// a script that spaces its words (shop.example.comй): then it is no name.
func gluedAfter(s string, e int) bool {
	if e < len(s) && s[e] >= utf8.RuneSelf {
		r, _ := utf8.DecodeRuneInString(s[e:])
		return wordRune(r)
	}
	return false
}

// wordRune is a letter, mark or digit of a script that spaces its words.
func wordRune(r rune) bool {
	if !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) {
		return false
	}
	return !unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai,
		unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan)
}

// inURL reports whether s[b] is inside a URL: the word it stands in (from the
// last space before it) holds "://" or a "?". Outside one, "helo=mx.example.com"
// names a host.
func inURL(s string, b int) bool {
	w := s[strings.LastIndexAny(s[:b], " \t<>\"'(")+1 : b]
	return strings.Contains(w, "://") || strings.IndexByte(w, '?') >= 0
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// url adds a URL's host, and the hosts of URLs wrapped inside it (tracking
// redirects like ?url=https%3A%2F%2Freal.example), without fetching anything:
// at most MaxRedirectDepth deep and MaxRedirectTargets in all.
func (x *extractor) url(raw string, line int, part, where string) {
	budget := MaxRedirectTargets
	x.urlDepth(raw, line, part, where, 0, &budget)
}

func (x *extractor) urlDepth(raw string, line int, part, where string, depth int, budget *int) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return
	}
	// listmonk's tracked link, https://example.com@TrackLink: a template's
	// mark, which the sent message replaces by its tracking URL, not a host
	raw = strings.TrimSuffix(raw, "@TrackLink")
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
		if !schemelessHost(raw) {
			return // relative links, data:, cid:, javascript: have no host to check
		}
		// href="facebook.com": a host written without its scheme, which
		// receivers' filters look up as http://facebook.com
		raw = "http://" + raw
		where += " (no scheme)"
	}
	u, err := url.Parse(raw)
	if err != nil && strings.Contains(raw, "%") {
		// a percent-encoded host (http://%65xample.com/), which browsers decode
		// and Go's parser refuses: decoded, then parsed
		if dec := decodeAuthority(raw); dec != raw {
			if u, err = url.Parse(dec); err == nil {
				where = "percent-encoded host, in " + where
			}
		}
	}
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
	if depth >= MaxRedirectDepth {
		return
	}
	// a URL inside the URL: a tracking redirect, followed textually; a
	// redirect's own redirect is said once ("redirect target in href"), not
	// as the chain of them
	inWhere := where
	if !strings.HasPrefix(where, redirectIn) {
		inWhere = redirectIn + where
	}
	for _, inner := range redirectTargets(u) {
		if *budget <= 0 {
			return
		}
		*budget--
		x.urlDepth(trimURL(inner), line, part, inWhere, depth+1, budget)
	}
}

// redirectIn begins the place of a host found inside another link.
const redirectIn = "redirect target in "

// schemelessHost says whether a link written without a scheme starts with a
// host name (facebook.com, shop.example.com/sale), as bareName takes one in
// text, and not with a relative path (images/logo.png, index.html, setup.py).
func schemelessHost(raw string) bool {
	name := raw
	if i := strings.IndexAny(raw, "/?#"); i >= 0 {
		name = raw[:i]
	}
	_, ok := bareName(name)
	return ok
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

func looksLikeMessage(data []byte, name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".eml" || ext == ".msg" || ext == ".mbox" {
		return true
	}
	if ext == ".html" || ext == ".htm" || ext == ".md" {
		return false
	}
	// a header block (after any blank lines): every line up to the first blank
	// one is a header or a continuation, but for few damaged ones, and one of
	// the headers every message has is there
	return readHead(data).message()
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
	lastLabel := host[strings.LastIndexByte(host, '.')+1:]
	if lastLabel == "" || !(lastLabel[0] >= '0' && lastLabel[0] <= '9') {
		return "", false // a host name: its last label is no number (quick, before any allocation)
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

// validHostName reports whether s is written as a host name: labels of letters,
// digits and inner hyphens, at most 63 bytes each, the last one a letter-led TLD.
func validHostName(s string) bool {
	if len(s) > 253 || s == "" {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && (tld[0] >= 'a' && tld[0] <= 'z' || tld[0] >= 'A' && tld[0] <= 'Z')
}

// findURLs finds the http, https and ftp URLs in s, as urlRE does, in one pass:
// from each "://" back to its scheme (a whole word), then on to the first byte
// a URL cannot hold unescaped.
func findURLs(s string) []string {
	var out []string
	end := 0 // where the last URL ended: URLs do not overlap
	for off := 0; ; {
		k := strings.Index(s[off:], "://")
		if k < 0 {
			return out
		}
		k += off
		off = k + 3
		i := k
		for i > end && (s[i-1] >= 'a' && s[i-1] <= 'z' || s[i-1] >= 'A' && s[i-1] <= 'Z') {
			i--
		}
		scheme := strings.ToLower(s[i:k])
		// the scheme is a word of its own, or its tail: "xhttp://" holds "http://" (\b as in urlRE)
		for _, sc := range []string{"https", "http", "ftp"} {
			if strings.HasSuffix(scheme, sc) && (len(scheme) == len(sc) || !isWordChar(scheme[len(scheme)-len(sc)-1])) {
				i = k - len(sc)
				scheme = sc
				break
			}
		}
		if scheme != "http" && scheme != "https" && scheme != "ftp" || i > 0 && isWordChar(s[i-1]) {
			continue
		}
		j := k + 3
		for j < len(s) && strings.IndexByte(" \t\n\r\f<>\"'`{}|\\^[]", s[j]) < 0 {
			j++
		}
		if j == k+3 {
			continue
		}
		out = append(out, s[i:j])
		end, off = j, j
	}
}

func isWordChar(c byte) bool { return isAlnum(c) || c == '_' }

// decodeAuthority undoes the percent-encoding of a URL's authority (its host
// and port), leaving the rest as it is; raw when there is nothing to decode.
func decodeAuthority(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth, err := url.PathUnescape(rest[:end])
	if err != nil || strings.ContainsAny(auth, "/?#") {
		return raw
	}
	return raw[:i+3] + auth + rest[end:]
}

// emailAt reads the e-mail address around the @ at s[at], as emailRE matches
// one: a local part, then a domain of two or more labels (letters, digits,
// inner hyphens) or an address in brackets. It returns the address, its domain
// and whether there is one; what follows the domain (a full stop) is left out.
func emailAt(s string, at int) (full, domain string, ok bool) {
	if at == 0 || at+1 >= len(s) {
		return "", "", false
	}
	rest := s[at+1:]
	if rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 2 || strings.Trim(rest[1:end], "0123456789abcdefABCDEF:.") != "" {
			return "", "", false
		}
		return s[:at+1+end+1], strings.ToLower(rest[:end+1]), true
	}
	// the longest run of labels joined by dots, each a-z0-9 with inner hyphens
	n, labels, last := 0, 0, 0
	for n < len(rest) {
		k := n
		for k < len(rest) && (isAlnum(rest[k]) || rest[k] == '-') {
			k++
		}
		label := rest[n:k]
		if label == "" || label[0] == '-' {
			break
		}
		for len(label) > 0 && label[len(label)-1] == '-' { // a label ends in a letter or digit
			label = label[:len(label)-1]
		}
		if label == "" {
			break
		}
		labels++
		last = n + len(label)
		if n+len(label) < k || k >= len(rest) || rest[k] != '.' {
			break
		}
		n = k + 1
	}
	if labels < 2 {
		return "", "", false
	}
	return s[:at+1+last], strings.ToLower(rest[:last]), true
}

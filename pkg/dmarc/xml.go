package dmarc

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// report is one aggregate report as read: what blcheck needs of it.
type report struct {
	org, id, domain string
	begin, end      time.Time
	records         []record
	// badRecords counts the messages of records whose source_ip is not an
	// address (a record with a count of 0 carries no mail and is not counted).
	badRecords, badMessages int64
}

// record is one <record>: a source address, its message count, and whether
// DMARC passed for them (policy_evaluated dkim or spf "pass"). A report keeps
// its records until it ends (a report cut short is not counted): 56 bytes
// each, the header-from domain being one string for all records that name it.
type record struct {
	ip         netip.Addr
	count      int64
	headerFrom string
	pass       bool
	// forwarded: the receiver gave a forwarding reason for its policy
	// (forwarded, trusted_forwarder, mailing_list)
	forwarded bool
}

// errNotReport says the XML is not a DMARC aggregate report (its root is not
// <feedback>): a usage error when a named file holds it.
var errNotReport = errors.New("not a DMARC aggregate report (no <feedback> root element)")

// maxText is the most of one element's text kept: reporter names, domains and
// addresses are far shorter.
const maxText = 1024

// parseReports reads the reports in XML, and gives each to add as it ends: one,
// or several one after the other (reports concatenated into one file, each
// with its own XML declaration). Only local names count, so the RFC
// 7489 (no namespace), draft (http://dmarc.org/dmarc-xml/0.1) and RFC 9990
// (urn:ietf:params:xml:ns:dmarc-2.0) forms read alike; names and values are
// read without regard to case or surrounding white space. encoding/xml never
// expands an entity a DTD declares (only the five predefined ones and
// character references), and never fetches an external one: a billion-laughs
// document reads as text and a SYSTEM entity as nothing (TestNoEntityExpansion).
// Text, comments and declarations after a report are passed over; an element
// other than another <feedback> is an error, so that what follows a report is
// never silently left out. Bytes that are no XML after a report are passed
// over only if nothing but white space and NUL bytes follows them (padding).
func parseReports(r io.Reader, maxDepth int, add func(*report) error) error {
	// the decoder reads from in, a ByteReader it does not buffer again: after an
	// error, what it has not read is still in in (also once a declared charset
	// has it read through a decoding reader)
	g := &runGuard{r: r}
	raw := bufio.NewReader(g)
	head, _ := raw.Peek(1024)
	var in *bufio.Reader
	decoded := true // in is UTF-8 already: a declared encoding is not applied again
	switch t := textDecoder(head); {
	case t != nil:
		in = bufio.NewReader(transform.NewReader(raw, t))
	default:
		in, decoded = raw, false
	}
	dec := xml.NewDecoder(in)
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if decoded {
			return r, nil
		}
		cr, err := charset.NewReaderLabel(label, r)
		if err != nil {
			return nil, err
		}
		in = bufio.NewReader(cr)
		return in, nil
	}
	dec.Strict = false // unquoted attributes, a stray &, mismatched end tags: read as far as the records are intact
	p := &parser{rep: &report{}, maxDepth: maxDepth}
	reports := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		var tl *tooLargeError
		switch {
		case err != nil && reports > 0 && !p.root && !errors.As(err, &tl):
			return afterReport(err, in, g)
		case err != nil && p.base == -1 && !errors.As(err, &tl): // a root that holds no element
			return errNotReport
		case err != nil:
			return xmlError(err)
		}
		if se, ok := tok.(xml.StartElement); ok && reports > 0 && len(p.path) == 0 && !strings.EqualFold(se.Name.Local, "feedback") {
			return fmt.Errorf("after its report, an element <%s>: what it holds was not read", se.Name.Local)
		}
		if err := p.token(tok); err != nil {
			if reports > 0 && errors.Is(err, errNotReport) {
				return fmt.Errorf("after its report, XML that is not one: not read")
			}
			return err
		}
		if p.done {
			if err := add(p.rep); err != nil {
				return err
			}
			reports++
			p = &parser{rep: &report{}, maxDepth: maxDepth}
		}
	}
	switch {
	case p.root: // a report begun and not ended
		return errors.New("the XML ends before </feedback>: truncated")
	case reports == 0:
		return errNotReport
	}
	return nil
}

// afterReport judges an error in what follows a report. Padding (NUL bytes,
// white space) up to the end holds no report; anything else may hold one
// (a report after the junk), and is said to be unread, never passed over.
func afterReport(err error, in io.Reader, g *runGuard) error {
	blank, rerr := restBlank(in, g)
	switch {
	case rerr != nil:
		return rerr // the input fails: a limit, a cut compressed stream
	case blank:
		return nil
	}
	return fmt.Errorf("after its report, %v: what follows was not read", xmlError(err))
}

// restBlank reads what the decoder left of the input, to its end (the file
// is bounded by its size limit), and says whether it is only white space and
// NUL bytes. The run guard is off: the decoder no longer holds what is read.
func restBlank(in io.Reader, g *runGuard) (bool, error) {
	g.off = true
	blank, err := onlyBlank(in)
	if blank && errors.Is(err, errLongRun) { // the guard failed the stream earlier: the rest is behind it
		blank, err = onlyBlank(g.r)
	}
	if !blank {
		return false, nil
	}
	return true, err
}

// onlyBlank reads r to its end and says whether it holds only white space
// and NUL bytes; it stops at the first other byte.
func onlyBlank(r io.Reader) (bool, error) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			if c != 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				return false, nil
			}
		}
		switch {
		case err == io.EOF:
			return true, nil
		case err != nil:
			return true, err
		}
	}
}

func xmlError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("XML error at line %d: %s", se.Line, se.Msg)
	}
	return err // the reader's own: a limit, a truncated or corrupt compressed stream
}

// textDecoder is how the text of an XML document that begins with head is
// made UTF-8 before the decoder reads it, or nil when the encoding its
// declaration names is to be applied instead (ISO-8859-1, windows-1252: a
// charset that is not Unicode, whose bytes are ASCII's for the markup). A
// byte order mark wins over a declaration (reports saved by Windows tools in
// UTF-16); UTF-16 without one is known by its zero bytes around the first
// '<'. UTF-8, the default, has its invalid bytes (a reporter's Latin-1 byte in
// a text field) made U+FFFD instead of failing the whole report; a declaration
// of UTF-16 over text that is not (.NET writes one into the UTF-8 it saves) is
// UTF-8 too.
func textDecoder(head []byte) transform.Transformer {
	switch {
	case bytes.HasPrefix(head, []byte("<\x00")):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case bytes.HasPrefix(head, []byte("\x00<")):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	}
	utf8 := unicode.BOMOverride(unicode.UTF8.NewDecoder())
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) || bytes.HasPrefix(head, []byte("\xff\xfe")) ||
		bytes.HasPrefix(head, []byte("\xfe\xff")) {
		return utf8
	}
	m := declEncoding.FindSubmatch(head)
	if m == nil {
		return utf8
	}
	enc, name := charset.Lookup(string(m[1]))
	if enc == nil || name == "utf-8" || strings.HasPrefix(name, "utf-16") {
		return utf8 // an unknown label: read as UTF-8, as the records are ASCII
	}
	return nil
}

// declEncoding finds the encoding an XML declaration names.
var declEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// parser follows the element path of a report, keeping what it needs.
type parser struct {
	rep      *report
	path     []string
	text     strings.Builder
	cur      record
	domains  map[string]string // header_from domains, each kept once
	maxDepth int
	root     bool // <feedback> seen
	done     bool // </feedback> seen
	// base is 1 when <feedback> is the first element inside another root
	// (ikea.com's <xs:schema>), not the root: path[base:] is the report's
	base int
}

func (p *parser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		name := strings.ToLower(t.Name.Local)
		if err := p.start(name); err != nil {
			return err
		}
		p.path = append(p.path, name)
		if len(p.path) > p.maxDepth {
			return fmt.Errorf("XML nested deeper than %d elements: not a DMARC report", p.maxDepth)
		}
		p.text.Reset()
		if p.at("feedback", "record") {
			p.cur = record{}
		}
	case xml.CharData:
		if len(p.path) > 0 && p.text.Len() < maxText {
			p.text.Write(t[:min(len(t), maxText-p.text.Len())])
		}
	case xml.EndElement:
		if len(p.path) == 0 {
			return nil // a stray end tag outside the root (lenient mode)
		}
		if err := p.end(strings.TrimSpace(p.text.String())); err != nil {
			return err
		}
		p.path = p.path[:len(p.path)-1]
		p.text.Reset()
		switch {
		case p.root && len(p.path) == p.base:
			p.done = true
		case len(p.path) == 0: // a wrapper that held no report
			return errNotReport
		}
	}
	return nil
}

// start checks where an element starts: a report's root is <feedback>, or
// <feedback> as the first element inside the document's root (a wrapper).
func (p *parser) start(name string) error {
	switch {
	case len(p.path) == 0 && name == "feedback":
		p.root = true
	case len(p.path) == 0:
		p.base = -1 // a wrapper, if <feedback> comes first in it
	case p.base == -1 && name == "feedback":
		p.root, p.base = true, 1
	case p.base == -1:
		return errNotReport
	}
	return nil
}

// at says whether the current path is exactly names.
func (p *parser) at(names ...string) bool {
	if !p.root || len(p.path)-p.base != len(names) {
		return false
	}
	for i, n := range names {
		if p.path[p.base+i] != n {
			return false
		}
	}
	return true
}

// end takes the text of the element that ends.
func (p *parser) end(v string) error {
	rep := p.rep
	switch {
	case p.at("feedback", "report_metadata", "org_name"):
		rep.org = v
	case p.at("feedback", "report_metadata", "report_id"):
		rep.id = v
	case p.at("feedback", "report_metadata", "date_range", "begin"):
		rep.begin = epoch(v)
	case p.at("feedback", "report_metadata", "date_range", "end"):
		rep.end = epoch(v)
	case p.at("feedback", "policy_published", "domain"):
		rep.domain = strings.ToLower(strings.TrimSuffix(v, "."))
	case p.at("feedback", "record", "row", "source_ip"):
		if a, err := netip.ParseAddr(v); err == nil && a.Zone() == "" {
			p.cur.ip = a.Unmap()
		}
	case p.at("feedback", "record", "row", "count"):
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return fmt.Errorf("record %d: count %q is not a number of messages", len(rep.records)+1, v)
		}
		p.cur.count = n
	case p.at("feedback", "record", "row", "policy_evaluated", "dkim"),
		p.at("feedback", "record", "row", "policy_evaluated", "spf"):
		if strings.EqualFold(v, "pass") {
			p.cur.pass = true
		}
	case p.at("feedback", "record", "row", "policy_evaluated", "reason", "type"):
		switch strings.ToLower(v) {
		case "forwarded", "trusted_forwarder", "mailing_list":
			p.cur.forwarded = true
		}
	case p.at("feedback", "record", "identifiers", "header_from"):
		p.cur.headerFrom = p.intern(strings.ToLower(strings.TrimSuffix(v, ".")))
	case p.at("feedback", "record"):
		p.endRecord()
	}
	return nil
}

// intern returns the one copy of a header_from domain the report keeps.
func (p *parser) intern(d string) string {
	if k, ok := p.domains[d]; ok {
		return k
	}
	if p.domains == nil {
		p.domains = map[string]string{}
	}
	d = strings.Clone(d) // not the text buffer it was read into
	p.domains[d] = d
	return d
}

func (p *parser) endRecord() {
	rep := p.rep
	switch {
	case p.cur.ip.IsValid():
		rep.records = append(rep.records, p.cur)
	case p.cur.count > 0:
		rep.badRecords++
		rep.badMessages += p.cur.count
	}
}

// epoch reads a date_range bound (seconds since 1970, UTC); zero if it is not one.
func epoch(v string) time.Time {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > 1<<35 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// maxRun is the longest run of bytes without a '<' read: encoding/xml holds a
// whole text node, comment or tag in memory, and a report's longest is a few
// hundred bytes.
const maxRun = 1 << 20

// errLongRun is a run of more than maxRun bytes without '<'.
var errLongRun = fmt.Errorf("more than %d KiB of XML without a tag (a text, comment or tag that long): not a DMARC report", maxRun>>10)

// runGuard fails a stream with a run of more than maxRun bytes without '<';
// off, it passes the stream through.
type runGuard struct {
	r   io.Reader
	run int
	off bool
}

func (g *runGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if g.off {
		return n, err
	}
	if i := bytes.LastIndexByte(p[:n], '<'); i >= 0 {
		g.run = n - i - 1
	} else {
		g.run += n
	}
	if g.run > maxRun {
		return n, errLongRun
	}
	return n, err
}

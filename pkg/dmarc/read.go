package dmarc

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Reader reads reports from files, directories and streams, and adds them up.
// It is not safe for concurrent use.
type Reader struct {
	l       Limits
	g       *aggregate
	unread  []Unread
	files   int
	skipped int
	gzFree  []*gzip.Reader // idle gzip readers, for reuse
}

// NewReader returns a Reader with limits l (zero fields: the defaults).
func NewReader(l Limits) *Reader {
	return &Reader{l: l.withDefaults(), g: newAggregate()}
}

// NotReportError is a file named to be read that holds no DMARC report at all
// (neither a report, nor an archive or message carrying one).
type NotReportError struct {
	File string
	Why  string
}

func (e *NotReportError) Error() string { return e.File + ": " + e.Why }

// Result returns what was read so far.
func (r *Reader) Result() *Result {
	res := r.g.result()
	res.Unread = append([]Unread(nil), r.unread...)
	res.Files, res.Skipped = r.files, r.skipped
	return res
}

// errTooLarge is a report or file over its limit; its text is set where the
// limit is known.
type tooLargeError struct{ what string }

func (e *tooLargeError) Error() string { return e.what }

// unit is the reading of one top-level file (or one message of an mbox): the
// budget of decompressed bytes it may still use, shared by all its layers, so
// that nested archives (42.zip) cannot multiply the work.
type unit struct {
	name    string
	budget  int64
	reports int
}

// ReadPath reads a named file or a directory (recursively). A named file that
// holds no report is a *NotReportError; a file that could not be read fully is
// in the Result's Unread, as is every file inside a directory that holds no
// report, except a Maildir's messages (counted in Result.Skipped, as an mbox's).
func (r *Reader) ReadPath(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		// a directory named through a symbolic link (/srv/dmarc -> /data/dmarc):
		// filepath.WalkDir does not enter a link, not even its root; with a
		// separator after it, the system follows it
		if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
			path += string(filepath.Separator)
		}
		return r.readDir(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r.files++
	return r.readTop(f, path)
}

// ReadStream reads one input (standard input) named name.
func (r *Reader) ReadStream(in io.Reader, name string) error {
	r.files++
	return r.readTop(in, name)
}

func (r *Reader) readTop(in io.Reader, name string) error {
	u := &unit{name: name, budget: 4 * r.l.ReportBytes}
	err := r.read(u, bufio.NewReaderSize(in, 4096), name, 0, r.l.FileBytes)
	var nr *NotReportError
	if errors.As(err, &nr) {
		if u.reports > 0 { // an mbox whose messages are reports and notes
			return nil
		}
		return &NotReportError{File: name, Why: nr.Why}
	}
	if err != nil {
		r.unread = append(r.unread, Unread{File: name, Why: err.Error()})
	}
	return nil
}

// ignoredName says whether a file in a directory is a mail store's own
// bookkeeping (Dovecot, Courier, a Maildir's marker) or hidden, not mail.
func ignoredName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, ".") || strings.HasPrefix(n, "dovecot") || strings.HasPrefix(n, "courier") ||
		n == "maildirfolder" || n == "subscriptions"
}

// maildirTmp says whether dir is a Maildir's tmp/, where messages are still
// being delivered (half written): the mail is in cur/ and new/.
func maildirTmp(dir string) bool {
	if filepath.Base(dir) != "tmp" {
		return false
	}
	parent := filepath.Dir(dir)
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(parent, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

func (r *Reader) readDir(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			r.unread = append(r.unread, Unread{File: path, Why: err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || maildirTmp(path)) {
				return fs.SkipDir
			}
			return nil
		}
		if ignoredName(d.Name()) || !d.Type().IsRegular() {
			return nil // links, devices and sockets are not followed from a directory
		}
		if r.files >= r.l.Files {
			r.unread = append(r.unread, Unread{File: root, Why: fmt.Sprintf("holds more than %d files: the rest were not read", r.l.Files)})
			return fs.SkipAll
		}
		f, err := os.Open(path)
		if err != nil {
			r.unread = append(r.unread, Unread{File: path, Why: err.Error()})
			return nil
		}
		defer f.Close()
		if err := r.ReadStream(f, path); err != nil {
			if maildirMessage(path) { // a note, a forensic report: counted as an mbox's are
				r.skipped++
				return nil
			}
			r.unread = append(r.unread, Unread{File: path, Why: err.(*NotReportError).Why, NotReport: true})
		}
		return nil
	})
}

// maildirMessage says whether path is a message in a Maildir's cur/ or new/:
// a mail folder holds other mail beside the reports (the provider's notes,
// failure reports), which is no more unread than an mbox's other messages.
func maildirMessage(path string) bool {
	dir := filepath.Dir(path)
	if b := filepath.Base(dir); b != "cur" && b != "new" {
		return false
	}
	parent := filepath.Dir(dir)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if st, err := os.Stat(filepath.Join(parent, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// read reads one layer: XML, a compressed stream, a zip archive, an mbox or a
// message, chosen by its first bytes (not its name: reporters name files
// every way). limit bounds the bytes read of this layer.
func (r *Reader) read(u *unit, br *bufio.Reader, name string, depth int, limit int64) error {
	if depth > r.l.Nesting {
		return fmt.Errorf("wrapped in more than %d layers of archives and messages", r.l.Nesting)
	}
	head, _ := br.Peek(512)
	over := fmt.Sprintf("larger than %d MiB, the most blcheck reads of one file or message", limit>>20)
	switch sniff(head) {
	case kindGzip:
		return r.readGzip(u, br, name, depth)
	case kindZlib:
		return r.readZlib(u, br, name, depth)
	case kindZip:
		return r.readZip(u, br, name, depth, limit)
	case kindXML:
		return r.readXML(u, bounded(br, limit, over))
	case kindMbox:
		return r.readMbox(u, br, name, depth)
	case kindMessage:
		return r.readMessage(u, bounded(br, limit, over), name, depth)
	case kindJSON:
		return &NotReportError{File: name, Why: jsonWhy(head)}
	}
	if what := otherFormat(head); what != "" {
		return &NotReportError{File: name, Why: "not a DMARC aggregate report: " + what}
	}
	return &NotReportError{File: name, Why: "not a DMARC aggregate report (neither XML, gzip, zip, zlib nor an e-mail message)"}
}

// otherFormat names the formats people keep reports in that blcheck does not
// read (an archive of a year's reports, a mail saved from Outlook), with what
// to do instead; "" for any other.
func otherFormat(head []byte) string {
	const unpack = ", which blcheck does not unpack: unpack it and name the folder"
	const decompress = ", which blcheck does not decompress: decompress it and name the file"
	switch {
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return "a tar archive" + unpack
	case bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")):
		return "a 7-Zip archive" + unpack
	case bytes.HasPrefix(head, []byte("Rar!\x1a\x07")):
		return "a RAR archive" + unpack
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) >= 4 && head[3] >= '1' && head[3] <= '9':
		return "bzip2-compressed" + decompress
	case bytes.HasPrefix(head, []byte("\xfd7zXZ\x00")):
		return "xz-compressed" + decompress
	case bytes.HasPrefix(head, []byte("\x28\xb5\x2f\xfd")):
		return "zstd-compressed" + decompress
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return "an Outlook message file (.msg), which blcheck does not read: save the mail as .eml, or its attachment, and name that"
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "a PDF document"
	}
	return ""
}

type kind int

const (
	kindNone kind = iota
	kindXML
	kindGzip
	kindZlib
	kindZip
	kindMbox
	kindMessage
	kindJSON
)

func sniff(head []byte) kind {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return kindGzip
	case len(head) >= 4 && (string(head[:4]) == "PK\x03\x04" || string(head[:4]) == "PK\x05\x06"):
		return kindZip
	case len(head) >= 2 && head[0]&0x0f == 8 && head[0]>>4 <= 7 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0:
		return kindZlib
	case bytes.HasPrefix(head, []byte("From ")):
		return kindMbox
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if bytes.HasPrefix(t, []byte("<")) || utf16XML(head) {
		return kindXML
	}
	if bytes.HasPrefix(t, []byte("{")) || bytes.HasPrefix(t, []byte("[")) {
		return kindJSON // before the header test: `{"name":` reads as a header field
	}
	if isHeaderStart(head) {
		return kindMessage
	}
	return kindNone
}

// jsonWhy says what a JSON document that begins with head is: an SMTP TLS
// report (RFC 8460), which Google and Microsoft send to the same mailboxes as
// their DMARC reports, or some other JSON.
func jsonWhy(head []byte) string {
	if bytes.Contains(head, []byte(`"organization-name"`)) || bytes.Contains(head, []byte(`"policies"`)) {
		return "an SMTP TLS report (RFC 8460, JSON), not a DMARC aggregate report"
	}
	return "JSON, not a DMARC aggregate report (an XML document)"
}

// utf16XML says whether head begins as XML in UTF-16 does: a byte order
// mark, or a zero byte beside the first '<' (white space may come first).
func utf16XML(head []byte) bool {
	if bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")) {
		head = head[2:]
	}
	for i := 0; i+1 < len(head); i += 2 {
		lo, hi := head[i], head[i+1]
		if lo == 0 { // big endian
			lo, hi = hi, lo
		}
		switch {
		case hi != 0:
			return false
		case lo == '<':
			return true
		case lo != ' ' && lo != '\t' && lo != '\r' && lo != '\n':
			return false
		}
	}
	return false
}

// isHeaderStart says whether data begins as an RFC 5322 header field does: a
// field name of printable characters, then a colon.
func isHeaderStart(data []byte) bool {
	for i, c := range data {
		switch {
		case c == ':':
			return i > 0
		case c <= ' ' || c >= 0x7f:
			return false
		}
	}
	return false
}

// limitReader fails with a *tooLargeError past n bytes (io.LimitReader would
// end quietly, and a cut report would read as a short one).
type limitReader struct {
	r    io.Reader
	n    int64
	what string
}

func bounded(r io.Reader, n int64, what string) io.Reader {
	return &limitReader{r: r, n: n, what: what}
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		k, err := l.r.Read(one[:])
		switch {
		case k > 0:
			return 0, &tooLargeError{l.what}
		case err == nil:
			err = io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// inflated bounds a decompressed stream by the report limit and the unit's budget.
func (r *Reader) inflated(u *unit, rd io.Reader) io.Reader {
	n := min(r.l.ReportBytes, u.budget)
	what := fmt.Sprintf("larger than %d MiB decompressed, the most blcheck reads of one report: "+
		"a compression bomb, or not a report", r.l.ReportBytes>>20)
	if u.budget < r.l.ReportBytes {
		what = fmt.Sprintf("its archives decompress to more than %d MiB in all: a compression bomb", 4*r.l.ReportBytes>>20)
	}
	return &budgetReader{limitReader: limitReader{r: rd, n: n, what: what}, u: u}
}

type budgetReader struct {
	limitReader
	u *unit
}

func (b *budgetReader) Read(p []byte) (int, error) {
	k, err := b.limitReader.Read(p)
	b.u.budget -= int64(k)
	return k, err
}

// readCompressed reads the stream inside a gzip or zlib layer, then drains it
// (bounded), so that a truncated or corrupt stream after </feedback> is seen.
func (r *Reader) readCompressed(u *unit, z io.Reader, name string, depth int) error {
	in := r.inflated(u, z)
	br := bufio.NewReaderSize(in, 4096)
	err := r.read(u, br, name, depth+1, r.l.ReportBytes)
	if err == nil {
		_, err = io.Copy(io.Discard, br)
	}
	return compressionError(err)
}

// compressionError says what a decompression error means to a user.
func compressionError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated: the compressed data ends early (a file cut short in download or saving)")
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, zlib.ErrChecksum), errors.Is(err, zip.ErrChecksum):
		return errors.New("corrupt: the compressed data fails its checksum")
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, zlib.ErrHeader):
		return errors.New("corrupt: not a valid compressed stream")
	}
	return err
}

func (r *Reader) readGzip(u *unit, br *bufio.Reader, name string, depth int) error {
	var z *gzip.Reader
	var err error
	if n := len(r.gzFree); n > 0 { // a reader of an earlier file, its window reused (a folder of 10,000 reports)
		z, r.gzFree = r.gzFree[n-1], r.gzFree[:n-1]
		err = z.Reset(br)
	} else {
		z, err = gzip.NewReader(br)
	}
	if err != nil {
		return compressionError(err)
	}
	defer func() { r.gzFree = append(r.gzFree, z) }()
	// one member: some reporters (Mimecast) send a gzip followed by a line
	// break, which a multistream reader would take for a broken second member
	z.Multistream(false)
	return r.readCompressed(u, z, name, depth)
}

func (r *Reader) readZlib(u *unit, br *bufio.Reader, name string, depth int) error {
	z, err := zlib.NewReader(br)
	if err != nil {
		return compressionError(err)
	}
	return r.readCompressed(u, z, name, depth)
}

func (r *Reader) readZip(u *unit, br *bufio.Reader, name string, depth int, limit int64) error {
	data, err := io.ReadAll(bounded(br, limit, fmt.Sprintf("larger than %d MiB, the most blcheck reads of one file", limit>>20)))
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("not a readable zip archive (%v): truncated or corrupt", err)
	}
	read := 0
	for i, f := range zr.File {
		if i >= r.l.Members {
			r.unread = append(r.unread, Unread{File: name, Why: fmt.Sprintf("holds more than %d members: the rest were not read", r.l.Members)})
			break
		}
		if f.FileInfo().IsDir() {
			continue
		}
		member := name + ": " + f.Name
		if err := r.readMember(u, f, member, depth); err != nil {
			var nr *NotReportError
			if errors.As(err, &nr) {
				continue // a note beside the report; the archive says so if it holds none
			}
			r.unread = append(r.unread, Unread{File: member, Why: err.Error()})
		}
		read++
	}
	if u.reports == 0 && len(zr.File) > 0 && read == 0 {
		return &NotReportError{File: name, Why: "a zip archive that holds no DMARC report"}
	}
	if u.reports == 0 && read > 0 {
		return nil // its members are already in Unread
	}
	if u.reports == 0 {
		return &NotReportError{File: name, Why: "an empty zip archive"}
	}
	return nil
}

func (r *Reader) readMember(u *unit, f *zip.File, name string, depth int) error {
	if f.UncompressedSize64 > uint64(r.l.ReportBytes) {
		return fmt.Errorf("larger than %d MiB decompressed (%d bytes, its header says), the most blcheck reads "+
			"of one report: a compression bomb, or not a report", r.l.ReportBytes>>20, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return compressionError(err)
	}
	defer rc.Close()
	return r.readCompressed(u, rc, name, depth)
}

// readXML reads the reports in one XML document (one, or several
// concatenated) and adds them up.
func (r *Reader) readXML(u *unit, in io.Reader) error {
	var bad []string
	err := parseReports(in, r.l.Depth, func(rep *report) error {
		u.reports++
		r.g.add(rep)
		if rep.badMessages > 0 {
			bad = append(bad, fmt.Sprintf("%d record(s) with %d message(s) have no valid source_ip", rep.badRecords, rep.badMessages))
		}
		return nil
	})
	if err != nil {
		var tl *tooLargeError
		if errors.As(err, &tl) {
			return tl
		}
		if errors.Is(err, errNotReport) {
			return &NotReportError{File: u.name, Why: err.Error()}
		}
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: they were not counted", strings.Join(bad, "; "))
	}
	return nil
}

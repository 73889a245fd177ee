package dmarc

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// expected is testdata/expected.json, written by testdata/expect.py: Python's
// reading of the samples, not this package's.
type expected struct {
	Files map[string]expectedDoc `json:"files"`
	Dirs  map[string]expectedDoc `json:"dirs"`
}

type expectedDoc struct {
	Read     string                    `json:"read"` // read, unread, not-report (files only)
	Reports  int                       `json:"reports"`
	Messages int64                     `json:"messages"`
	Unread   bool                      `json:"unread"`
	Sources  map[string]expectedSource `json:"sources,omitempty"`
	// over digestOver sources: their count and the SHA-256 of their canonical
	// JSON (sorted keys, no spaces, UTF-8), as expect.py writes it
	SourcesCount  int    `json:"sources_count,omitempty"`
	SourcesSHA256 string `json:"sources_sha256,omitempty"`
}

const digestOver = 100

type expectedSource struct {
	Messages   int64    `json:"messages"`
	Passed     int64    `json:"passed"`
	Forwarded  int64    `json:"forwarded,omitempty"`
	Reports    int      `json:"reports"`
	Reporters  []string `json:"reporters"`
	HeaderFrom []string `json:"header_from"`
}

func loadExpected(t testing.TB) expected {
	t.Helper()
	data, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// docOf is a Result in the expectation's shape.
func docOf(res *Result) expectedDoc {
	d := expectedDoc{Reports: res.Reports, Messages: res.Messages, Unread: len(res.Unread) > 0,
		Sources: map[string]expectedSource{}}
	for _, s := range res.Sources {
		d.Sources[s.Addr.String()] = expectedSource{Messages: s.Messages, Passed: s.Passed, Forwarded: s.Forwarded, Reports: s.Reports,
			Reporters: s.Reporters, HeaderFrom: s.HeaderFrom}
	}
	if len(d.Sources) > digestOver {
		canon := map[string]map[string]any{} // maps: keys sorted, as Python's sort_keys
		for ip, s := range d.Sources {
			canon[ip] = map[string]any{"messages": s.Messages, "passed": s.Passed, "reports": s.Reports,
				"reporters": s.Reporters, "header_from": s.HeaderFrom}
			if s.Forwarded > 0 {
				canon[ip]["forwarded"] = s.Forwarded
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(canon)
		sum := sha256.Sum256(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		d.SourcesCount, d.SourcesSHA256, d.Sources = len(d.Sources), hex.EncodeToString(sum[:]), nil
	}
	return d
}

func compare(t *testing.T, what string, got, want expectedDoc) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if string(g) != string(w) {
		t.Errorf("%s: read as\n%s\nwant (expect.py)\n%s", what, g, w)
	}
}

// TestSamples reads every public sample, alone and as its directory, and
// compares with the independent reading.
func TestSamples(t *testing.T) {
	exp := loadExpected(t)
	if len(exp.Files) < 25 {
		t.Fatalf("expected.json has %d files", len(exp.Files))
	}
	for name, want := range exp.Files {
		t.Run(name, func(t *testing.T) {
			r := NewReader(Limits{})
			err := r.ReadPath(filepath.Join("testdata/samples", name))
			var nr *NotReportError
			switch {
			case want.Read == "not-report":
				if !errors.As(err, &nr) {
					t.Fatalf("err %v, want a NotReportError", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			res := r.Result()
			if (want.Read == "unread") != (len(res.Unread) > 0 && res.Reports == 0) {
				t.Errorf("unread %v, want %s", res.Unread, want.Read)
			}
			want.Read = ""
			compare(t, name, docOf(res), want)
		})
	}
	for dir, want := range exp.Dirs {
		t.Run("dir/"+dir, func(t *testing.T) {
			r := NewReader(Limits{})
			if err := r.ReadPath(filepath.Join("testdata/samples", dir)); err != nil {
				t.Fatal(err)
			}
			compare(t, dir, docOf(r.Result()), want)
		})
	}
}

// TestShare checks the shares sum to 1, unrounded, and the order.
func TestShare(t *testing.T) {
	r := NewReader(Limits{})
	if err := r.ReadPath("testdata/samples/parsedmarc"); err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	sum := 0.0
	for i, s := range res.Sources {
		sum += s.Share
		if i > 0 && s.Messages > res.Sources[i-1].Messages {
			t.Errorf("source %d (%d messages) after one with %d", i, s.Messages, res.Sources[i-1].Messages)
		}
	}
	if sum < 0.999999 || sum > 1.000001 {
		t.Errorf("shares sum to %v", sum)
	}
	if first := res.Sources[0]; first.Share != float64(first.Messages)/float64(res.Messages) || first.Messages != 2253 {
		t.Errorf("first source %+v of %d messages: want 2253, share unrounded", first, res.Messages)
	}
	if !slices.Contains(res.Domains, "example.com") || res.Begin.IsZero() || !res.End.After(res.Begin) {
		t.Errorf("domains %v, range %v..%v", res.Domains, res.Begin, res.End)
	}
}

// sampleXML returns the XML samples that read as reports, by name.
func sampleXML(t testing.TB) map[string][]byte {
	exp := loadExpected(t)
	out := map[string][]byte{}
	for name, e := range exp.Files {
		if e.Read == "read" && !e.Unread && strings.HasSuffix(name, ".xml") {
			data, err := os.ReadFile(filepath.Join("testdata/samples", name))
			if err != nil {
				t.Fatal(err)
			}
			out[name] = data
		}
	}
	return out
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zl(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zipOf(files map[string][]byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f, _ := w.Create(n)
		f.Write(files[n])
	}
	w.Close()
	return buf.Bytes()
}

// message wraps an attachment in an e-mail message as reporters send it.
func message(name, ctype string, att []byte) []byte {
	b64 := base64.StdEncoding.EncodeToString(att)
	var lines []string
	for len(b64) > 76 {
		lines, b64 = append(lines, b64[:76]), b64[76:]
	}
	lines = append(lines, b64)
	return []byte("From: noreply-dmarc-support@example.org\r\nTo: rua@example.com\r\n" +
		"Subject: Report domain: example.com Submitter: example.org\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" +
		"This is an aggregate report.\r\n--b1\r\nContent-Type: " + ctype + "; name=\"" + name + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\n\r\n" +
		strings.Join(lines, "\r\n") + "\r\n--b1--\r\n")
}

// TestWrapped reads every XML sample gzipped, zipped, zlib-compressed, in an
// e-mail message, in an mbox and in a Maildir: the same sources as the XML.
// (The public .gz and .zip samples are binary, which the sample source could
// not give us: these are built here from the XML samples instead.)
func TestWrapped(t *testing.T) {
	exp := loadExpected(t)
	for name, data := range sampleXML(t) {
		want := exp.Files[name]
		want.Read = ""
		base := filepath.Base(name)
		wraps := map[string][]byte{
			"gzip":      gz(data),
			"zip":       zipOf(map[string][]byte{base: data}),
			"zlib":      zl(data),
			"eml zip":   message(base+".zip", "application/zip", zipOf(map[string][]byte{base: data})),
			"eml gzip":  message(base+".gz", "application/gzip", gz(data)),
			"eml xml":   message(base, "text/xml", data),
			"mbox":      append(append([]byte("From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"), message(base+".gz", "application/gzip", gz(data))...), "\nFrom x Thu Jan  1 00:00:00 2026\nSubject: not a report\n\nhello\n"...),
			"gzip+crlf": append(gz(data), "\r\n"...), // Mimecast's
		}
		for how, b := range wraps {
			r := NewReader(Limits{})
			if err := r.ReadStream(bytes.NewReader(b), name+" "+how); err != nil {
				t.Fatalf("%s %s: %v", name, how, err)
			}
			compare(t, name+" "+how, docOf(r.Result()), want)
		}
	}
}

func TestMaildirAndDedupe(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/samples/parsedmarc/rfc9990-sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, "Maildir", d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "Maildir", "dovecot-uidlist"), []byte("3 V1 N2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Maildir", "tmp", "1700000001.M2.host"), []byte("From: half a mess"), 0o644) // being delivered
	os.WriteFile(filepath.Join(dir, "Maildir", "cur", "1700000000.M1.host:2,S"), message("r.zip", "application/zip", zipOf(map[string][]byte{"r.xml": data})), 0o644)
	// other mail in the same folder: the provider's note, and Yahoo's May 2023
	// reports whose gzip held the word "unused": skipped as an mbox's, not unread
	os.WriteFile(filepath.Join(dir, "Maildir", "new", "1700000002.M3.host"), []byte("From: postmaster@example.net\r\nSubject: Welcome\r\n\r\nHello.\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Maildir", "cur", "1700000003.M4.host:2,S"), message("yahoo.com!example.com!1683072000!1683158399.xml.gz", "application/gzip", gz([]byte("unused"))), 0o644)
	// the same report, saved from the message
	os.WriteFile(filepath.Join(dir, "saved.xml.gz"), gz(data), 0o644)
	r := NewReader(Limits{})
	if err := r.ReadPath(dir); err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	if res.Reports != 1 || res.Duplicates != 1 || res.Messages != 123 || len(res.Unread) != 0 || res.Skipped != 2 {
		t.Fatalf("reports %d duplicates %d messages %d unread %v skipped %d: want the report once, 2 messages skipped",
			res.Reports, res.Duplicates, res.Messages, res.Unread, res.Skipped)
	}
}

// TestOddities: case and white space that real reporters produce.
func TestOddities(t *testing.T) {
	tests := []struct {
		name, xml        string
		messages, passed int64
	}{
		{"PASS", `<feedback><record><row><source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated><dkim>PASS</dkim><spf>fail</spf></policy_evaluated></row></record></feedback>`, 3, 3},
		{"padded", `<feedback><record><row><source_ip> 192.0.2.1
</source_ip><count>  7 </count><policy_evaluated><dkim> fail</dkim><spf>
 Pass </spf></policy_evaluated></row></record></feedback>`, 7, 7},
		{"no result", `<feedback><record><row><source_ip>192.0.2.1</source_ip><count>2</count><policy_evaluated><disposition>none</disposition></policy_evaluated></row></record></feedback>`, 2, 0},
		{"upper names", `<Feedback><Record><Row><Source_IP>192.0.2.1</Source_IP><Count>4</Count><Policy_Evaluated><DKIM>pass</DKIM></Policy_Evaluated></Row></Record></Feedback>`, 4, 4},
		{"prefix", `<d:feedback xmlns:d="http://dmarc.org/dmarc-xml/0.1"><d:record><d:row><d:source_ip>192.0.2.1</d:source_ip><d:count>1</d:count></d:row></d:record></d:feedback>`, 1, 0},
		{"mapped", `<feedback><record><row><source_ip>::ffff:192.0.2.1</source_ip><count>1</count></row></record></feedback>`, 1, 0},
		{"BOM", "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback><record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>", 1, 0},
		{"comment before the declaration", "<!-- Report Provided by a user -->\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback><record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>", 1, 0},
		{"latin1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><feedback><report_metadata><org_name>R\xe9porter</org_name></report_metadata><record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(Limits{})
			if err := r.ReadStream(strings.NewReader(tt.xml), tt.name); err != nil {
				t.Fatal(err)
			}
			res := r.Result()
			if len(res.Unread) > 0 || len(res.Sources) != 1 || res.Sources[0].Addr.String() != "192.0.2.1" ||
				res.Sources[0].Messages != tt.messages || res.Sources[0].Passed != tt.passed {
				t.Fatalf("unread %v sources %+v: want 192.0.2.1 with %d messages, %d passed", res.Unread, res.Sources, tt.messages, tt.passed)
			}
		})
	}
}

// TestNotReport: a named file that holds no report is an error the CLI makes
// a usage error; the same file inside a directory is unread.
func TestNotReport(t *testing.T) {
	for name, data := range map[string]string{
		"text":    "hello, world\n",
		"html":    "<html><body>hi</body></html>",
		"message": "From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n",
		"zip":     string(zipOf(map[string][]byte{"readme.txt": []byte("hi")})),
		"gzip":    string(gz([]byte("plain text"))),
		"empty":   "",
	} {
		r := NewReader(Limits{})
		var nr *NotReportError
		if err := r.ReadStream(strings.NewReader(data), name); !errors.As(err, &nr) {
			t.Errorf("%s: err %v, want NotReportError", name, err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644)
	r := NewReader(Limits{})
	if err := r.ReadPath(dir); err != nil {
		t.Fatal(err)
	}
	if u := r.Result().Unread; len(u) != 1 || !strings.Contains(u[0].Why, "not a DMARC") {
		t.Fatalf("unread %v, want notes.txt", u)
	}
}

// TestBounds: bombs, truncation, depth and counts are unread within bounds.
func TestBounds(t *testing.T) {
	rep, _ := os.ReadFile("testdata/samples/parsedmarc/rfc9990-sample.xml")
	// the limits are small here so that the test is quick under -race; the
	// defaults are checked here, and a 64 MiB bomb was measured by hand
	lim := Limits{ReportBytes: 4 << 20, FileBytes: 4 << 20}
	if d := (Limits{}).withDefaults(); d.ReportBytes != 64<<20 || d.FileBytes != 64<<20 || d.Depth != 32 {
		t.Fatalf("default limits %+v", d)
	}
	spaces := append(bytes.Repeat([]byte(" "), 512<<10), "<x/>"...)
	bomb := func() []byte { // 5 MiB of spaces and empty elements after an XML start, gzipped to a few KB
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		w.Write([]byte("<feedback><report_metadata>"))
		for range 10 {
			w.Write(spaces)
		}
		w.Close()
		return buf.Bytes()
	}()
	zipBomb := func() []byte {
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		f, _ := w.Create("a.xml")
		f.Write([]byte("<feedback>"))
		for range 10 {
			f.Write(spaces)
		}
		w.Close()
		return buf.Bytes()
	}()
	g := gz(rep)
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	tests := []struct {
		name string
		data []byte
		why  string
	}{
		{"gzip bomb", bomb, "larger than 4 MiB decompressed"},
		{"zip bomb", zipBomb, "larger than 4 MiB decompressed"},
		{"gzip bomb in a zip", zipOf(map[string][]byte{"a.xml.gz": bomb}), "larger than 4 MiB decompressed"},
		{"nested zip", zipOf(map[string][]byte{"1.zip": zipOf(map[string][]byte{"2.zip": zipOf(map[string][]byte{"3.zip": zipOf(map[string][]byte{"4.zip": zipOf(map[string][]byte{"5.xml": rep})})})})}), "layers"},
		{"truncated gzip", g[:len(g)/2], "truncated"},
		{"truncated gzip trailer", g[:len(g)-4], "truncated"},
		{"corrupt gzip", append(append([]byte{}, g[:len(g)-8]...), 0, 0, 0, 0, 0, 0, 0, 0), "checksum"},
		{"truncated zip", zipOf(map[string][]byte{"a.xml": rep})[:200], "zip"},
		{"truncated XML", rep[:len(rep)/2], "XML"},
		{"long text", gz(append([]byte("<feedback><report_metadata><org_name>"), bytes.Repeat([]byte("a"), 2<<20)...)), "without a tag"},
		{"deep", []byte("<feedback>" + deep + "</feedback>"), "deeper than 32"},
		{"XML over the file limit", append(append([]byte("<feedback><report_metadata>"), bytes.Repeat([]byte("<x/>\n"), 1<<20)...), "</report_metadata></feedback>"...), "larger than 4 MiB"},
		{"message over the file limit", append([]byte("From: a@example.com\r\nSubject: r\r\n\r\n<feedback><report_metadata>"), bytes.Repeat([]byte("<x/>\n"), 1<<20)...), "larger than 4 MiB"},
		{"bad count", []byte("<feedback><record><row><source_ip>192.0.2.1</source_ip><count>many</count></row></record></feedback>"), "count"},
		{"bad source", []byte("<feedback><record><row><source_ip>mail.example.com</source_ip><count>5</count></row></record></feedback>"), "no valid source_ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(lim)
			if err := r.ReadStream(bytes.NewReader(tt.data), tt.name); err != nil {
				t.Fatal(err)
			}
			u := r.Result().Unread
			if len(u) == 0 || !strings.Contains(u[0].Why, tt.why) {
				t.Fatalf("unread %v, want one saying %q", u, tt.why)
			}
		})
	}
}

// TestFileCap: a directory of more files than the limit says so.
func TestFileCap(t *testing.T) {
	dir := t.TempDir()
	rep, _ := os.ReadFile("testdata/samples/parsedmarc/rfc9990-sample.xml")
	for i := range 5 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.xml", i)), bytes.Replace(rep, []byte("3v98abbp"), fmt.Appendf(nil, "id%d", i), 1), 0o644)
	}
	r := NewReader(Limits{Files: 3})
	if err := r.ReadPath(dir); err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	if res.Reports != 3 || len(res.Unread) != 1 || !strings.Contains(res.Unread[0].Why, "more than 3 files") {
		t.Fatalf("reports %d unread %v", res.Reports, res.Unread)
	}
}

// TestNoEntityExpansion confirms that encoding/xml expands no entity a DTD
// declares (billion laughs) and fetches no external one.
func TestNoEntityExpansion(t *testing.T) {
	laughs := `<?xml version="1.0"?>
<!DOCTYPE feedback [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<feedback><report_metadata><org_name>&lol3;</org_name><report_id>&xxe;</report_id></report_metadata>
<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>`
	rep, err := parseReport(strings.NewReader(laughs), 32)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.org) > 10 || strings.Contains(rep.id, "root") {
		t.Fatalf("org_name %q report_id %q: an entity was expanded", rep.org, rep.id)
	}
}

// TestSameReport: a report found twice is counted once; a report_id that a
// reporter gives again to another day's or another domain's report (Google,
// Mimecast: liuch/dmarc-srg#81) is another report, whose sources count.
func TestSameReport(t *testing.T) {
	rep := func(org, domain string, begin int, ip string) []byte {
		return fmt.Appendf(nil, `<feedback><report_metadata><org_name>%s</org_name><report_id>42</report_id>
<date_range><begin>%d</begin><end>%d</end></date_range></report_metadata>
<policy_published><domain>%s</domain></policy_published>
<record><row><source_ip>%s</source_ip><count>2</count><policy_evaluated><dkim>pass</dkim></policy_evaluated></row></record></feedback>`,
			org, begin, begin+86399, domain, ip)
	}
	day1 := rep("google.com", "example.com", 1709683200, "192.0.2.1")
	tests := []struct {
		name      string
		second    []byte
		reports   int
		messages  int64
		duplicate int
	}{
		{"the same file again, saved from its message", day1, 1, 2, 1},
		{"the reporter's name in other case", rep("Google.com", "example.com", 1709683200, "192.0.2.1"), 1, 2, 1},
		{"the next day's report, same report_id", rep("google.com", "example.com", 1709769600, "192.0.2.2"), 2, 4, 0},
		{"another domain's report, same report_id", rep("google.com", "example.org", 1709683200, "192.0.2.2"), 2, 4, 0},
		{"another reporter, same report_id", rep("example.net", "example.com", 1709683200, "192.0.2.2"), 2, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(Limits{})
			for i, data := range [][]byte{day1, message("r.xml.gz", "application/gzip", gz(tt.second))} {
				if err := r.ReadStream(bytes.NewReader(data), fmt.Sprint("file ", i)); err != nil {
					t.Fatal(err)
				}
			}
			res := r.Result()
			if res.Reports != tt.reports || res.Messages != tt.messages || res.Duplicates != tt.duplicate {
				t.Fatalf("reports %d messages %d duplicates %d, want %d, %d, %d",
					res.Reports, res.Messages, res.Duplicates, tt.reports, tt.messages, tt.duplicate)
			}
		})
	}
}

// TestMessageWithUnreadableReport: a message whose report cannot be read (cut
// short, corrupt) carries a report all the same: it is unread, once, whether
// named or found in a directory, never "not a DMARC report" (a usage error).
func TestMessageWithUnreadableReport(t *testing.T) {
	rep, _ := os.ReadFile("testdata/samples/parsedmarc/rfc9990-sample.xml")
	g := gz(rep)
	for name, msg := range map[string][]byte{
		"truncated gzip":  message("r.xml.gz", "application/gzip", g[:len(g)/2]),
		"truncated zip":   message("r.zip", "application/zip", zipOf(map[string][]byte{"r.xml": rep})[:200]),
		"truncated XML":   message("r.xml", "text/xml", rep[:len(rep)/2]),
		"bad source_ip":   message("r.xml", "text/xml", []byte("<feedback><record><row><source_ip>mail.example.com</source_ip><count>5</count></row></record></feedback>")),
		"ESC in the text": message("r.xml", "text/xml", bytes.Replace(rep, []byte("Sample Reporter"), []byte("Sample\x1b[31m"), 1)),
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(Limits{})
			if err := r.ReadStream(bytes.NewReader(msg), "r.eml"); err != nil {
				t.Fatalf("named: %v, want it unread", err)
			}
			if u := r.Result().Unread; len(u) != 1 || !strings.HasPrefix(u[0].File, "r.eml: r.") {
				t.Errorf("named: unread %v, want its attachment once", u)
			}
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "r.eml"), msg, 0o644)
			r = NewReader(Limits{})
			if err := r.ReadPath(dir); err != nil {
				t.Fatal(err)
			}
			if u := r.Result().Unread; len(u) != 1 || strings.Contains(u[0].Why, "carries no DMARC report") {
				t.Errorf("in a directory: unread %v, want its attachment once", u)
			}
		})
	}
}

// TestSymlinkedDirectory: a directory named through a symbolic link is read
// (its links inside are not followed).
func TestSymlinkedDirectory(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile("testdata/samples/parsedmarc/rfc9990-sample.xml")
	os.MkdirAll(filepath.Join(dir, "data", "dmarc"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", "dmarc", "r.xml"), data, 0o644)
	link := filepath.Join(dir, "dmarc")
	if err := os.Symlink(filepath.Join(dir, "data", "dmarc"), link); err != nil {
		t.Skip(err) // Windows without the right to make links
	}
	os.Symlink(filepath.Join(dir, "data", "dmarc", "r.xml"), filepath.Join(dir, "data", "dmarc", "again.xml"))
	r := NewReader(Limits{})
	if err := r.ReadPath(link); err != nil {
		t.Fatal(err)
	}
	if res := r.Result(); res.Reports != 1 || res.Files != 1 || len(res.Unread) != 0 {
		t.Fatalf("reports %d files %d unread %v: want the one report in the linked directory", res.Reports, res.Files, res.Unread)
	}
}

// TestConcatenated: reports put one after the other in one file (cat *.xml)
// are each read; what follows a report is never silently left out, and bytes
// after it that are no XML (padding) are passed over.
func TestConcatenated(t *testing.T) {
	one, _ := os.ReadFile("testdata/samples/dmarc-report-viewer/google.xml")
	two, _ := os.ReadFile("testdata/samples/dmarc-report-viewer/yahoo.xml")
	cut := two[:len(two)/2]
	latin1 := bytes.Replace(one, []byte(`encoding="UTF-8"`), []byte(`encoding="ISO-8859-1"`), 1)
	tests := []struct {
		name     string
		data     []byte
		reports  int
		messages int64
		unread   string
	}{
		{"two reports", append(append([]byte{}, one...), two...), 2, 2, ""},
		{"two reports, gzipped", gz(append(append([]byte{}, one...), two...)), 2, 2, ""},
		{"a report, then line breaks", append(append([]byte{}, one...), "\r\n\r\n"...), 1, 1, ""},
		{"a report, then NUL padding", append(append([]byte{}, one...), make([]byte, 64)...), 1, 1, ""},
		{"a report, then 2 MiB of spaces", append(append([]byte{}, one...), bytes.Repeat([]byte(" "), 2<<20)...), 1, 1, ""},
		{"a report, then a comment", append(append([]byte{}, one...), "<!-- saved by hand -->\n"...), 1, 1, ""},
		{"a report, then a cut one", append(append([]byte{}, one...), cut...), 1, 1, "unexpected EOF"},
		{"a report, then another element", append(append([]byte{}, one...), "<note>more</note>"...), 1, 1, "<note>"},
		{"a report, then NULs and line breaks", append(append([]byte{}, one...), "\x00\x00\r\n\x00 \t\n"...), 1, 1, ""},
		{"a report, then a control byte", append(append([]byte{}, one...), "\x01\n"...), 1, 1, ""},
		// junk between two reports: the second is not lost without a word
		{"NULs between two reports", join(one, []byte("\x00\x00\x00\x00"), two), 1, 1, "what follows was not read"},
		{"a control byte between two reports", join(one, []byte("\x01"), two), 1, 1, "what follows was not read"},
		{"2 MiB of spaces between two reports", join(one, bytes.Repeat([]byte(" "), 2<<20), two), 1, 1, "what follows was not read"},
		{"NULs between two reports, gzipped", gz(join(one, []byte("\x00\x00"), two)), 1, 1, "what follows was not read"},
		{"NULs between two reports, the first Latin-1", join(latin1, []byte("\x00"), two), 1, 1, "what follows was not read"},
		{"a Latin-1 report, then NUL padding", join(latin1, make([]byte, 64)), 1, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(Limits{})
			if err := r.ReadStream(bytes.NewReader(tt.data), tt.name); err != nil {
				t.Fatal(err)
			}
			res := r.Result()
			if res.Reports != tt.reports || res.Messages != tt.messages {
				t.Errorf("reports %d messages %d, want %d and %d", res.Reports, res.Messages, tt.reports, tt.messages)
			}
			switch {
			case tt.unread == "" && len(res.Unread) > 0:
				t.Errorf("unread %v, want none", res.Unread)
			case tt.unread != "" && (len(res.Unread) != 1 || !strings.Contains(res.Unread[0].Why, tt.unread)):
				t.Errorf("unread %v, want one saying %q", res.Unread, tt.unread)
			}
		})
	}
}

// join puts byte slices one after the other, in a new slice.
func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// forward wraps a message in another, as an attachment (message/rfc822), as a
// mail client's "forward as attachment" does.
func forward(msg []byte) []byte {
	b := fmt.Sprintf("fw%d", len(msg)) // a boundary of its own at each level
	return append(fmt.Appendf(nil, "From: me@example.com\r\nTo: dmarc@example.com\r\nSubject: Fwd: report\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"+
		"--%s\r\nContent-Type: message/rfc822\r\n\r\n", b, b, b), append(msg, "\r\n--"+b+"--\r\n"...)...)
}

// TestForwarded: a report forwarded as an attachment is in two messages, a
// forward of a forward in three: each multipart/mixed is no layer of its own
// (it was, and a forwarded zip was "wrapped in more than 4 layers").
func TestForwarded(t *testing.T) {
	rep, _ := os.ReadFile("testdata/samples/parsedmarc/rfc9990-sample.xml")
	zipped := message("r.zip", "application/zip", zipOf(map[string][]byte{"r.xml": rep}))
	nested := []byte("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n")
	for i := range 20 {
		nested = fmt.Appendf(nested, "--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n", i, i+1)
	}
	nested = append(nested, "--b20\r\nContent-Type: text/xml\r\n\r\n"...)
	nested = append(nested, rep...)
	tests := []struct {
		name    string
		data    []byte
		reports int
		unread  string
	}{
		{"forwarded, a zip", forward(zipped), 1, ""},
		{"forwarded, a gzip", forward(message("r.xml.gz", "application/gzip", gz(rep))), 1, ""},
		{"forwarded twice, a zip", forward(forward(zipped)), 1, ""},
		{"forwarded three times, a zip", forward(forward(forward(zipped))), 0, "layers"},
		{"multiparts 20 deep", nested, 0, "nested deeper than 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(Limits{})
			if err := r.ReadStream(bytes.NewReader(tt.data), "fwd.eml"); err != nil {
				t.Fatal(err)
			}
			res := r.Result()
			if res.Reports != tt.reports || (tt.unread == "") != (len(res.Unread) == 0) ||
				tt.unread != "" && !strings.Contains(res.Unread[0].Why, tt.unread) {
				t.Fatalf("reports %d unread %v, want %d report(s), unread %q", res.Reports, res.Unread, tt.reports, tt.unread)
			}
		})
	}
}

// TestDateRange: the reports' span, when a report gives one bound only (it
// read "from 2024-03-06 to 0001-01-01").
func TestDateRange(t *testing.T) {
	rep := func(id, dates string) string {
		return `<feedback><report_metadata><org_name>example.net</org_name><report_id>` + id + `</report_id><date_range>` + dates +
			`</date_range></report_metadata><record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>`
	}
	day := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		reports    []string
		begin, end time.Time
	}{
		{"begin only", []string{rep("1", "<begin>1709683200</begin>")}, day(6), day(6)},
		{"end only", []string{rep("1", "<end>1709683200</end>")}, day(6), day(6)},
		{"one of each", []string{rep("1", "<begin>1709683200</begin>"), rep("2", "<end>1709856000</end>")}, day(6), day(8)},
		{"neither", []string{rep("1", "")}, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(Limits{})
			for i, x := range tt.reports {
				if err := r.ReadStream(strings.NewReader(x), fmt.Sprint(i)); err != nil {
					t.Fatal(err)
				}
			}
			if res := r.Result(); !res.Begin.Equal(tt.begin) || !res.End.Equal(tt.end) {
				t.Errorf("from %v to %v, want %v to %v", res.Begin, res.End, tt.begin, tt.end)
			}
		})
	}
}

// parseReport reads one report from XML: the first of parseReports.
func parseReport(r io.Reader, maxDepth int) (*report, error) {
	var first *report
	err := parseReports(r, maxDepth, func(rep *report) error {
		if first == nil {
			first = rep
		}
		return nil
	})
	return first, err
}

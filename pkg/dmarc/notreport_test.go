package dmarc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tlsReport is an SMTP TLS report (RFC 8460) as Google sends it, gzipped
// beside the DMARC reports in many rua mailboxes.
const tlsReport = `{"organization-name":"Google Inc.","date-range":{"start-datetime":"2024-04-02T00:00:00Z",` +
	`"end-datetime":"2024-04-02T23:59:59Z"},"contact-info":"smtp-tls-reporting@google.com",` +
	`"report-id":"2024-04-02T00:00:00Z_example.com","policies":[{"policy":{"policy-type":"sts",` +
	`"policy-domain":"example.com"},"summary":{"total-successful-session-count":23,"total-failure-session-count":0}}]}`

// TestNotReportSays: what a file that is no DMARC aggregate report is, said
// as what it is (a report's neighbours in a mailbox: SMTP TLS reports, DMARC
// failure reports), not as something it is not.
func TestNotReportSays(t *testing.T) {
	failure := "From: dmarc@example.net\r\nTo: ruf@example.com\r\nSubject: DMARC Failure Report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n--b\r\n" +
		"Content-Type: text/plain\r\n\r\nA message failed DMARC.\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\n" +
		"Feedback-Type: auth-failure\r\nAuth-Failure: dmarc\r\nSource-IP: 192.0.2.1\r\n\r\n--b\r\n" +
		"Content-Type: text/rfc822-headers\r\n\r\nFrom: someone@example.com\r\nSubject: hi\r\n\r\n--b--\r\n"
	tlsMail := strings.Replace(string(message("google.com!example.com!1712016000!1712102399!001.json.gz",
		"application/tlsrpt+gzip", gz([]byte(tlsReport)))), "multipart/mixed;", "multipart/report; report-type=\"tlsrpt\";", 1)
	tests := []struct{ name, data, why string }{
		{"TLS report", string(gz([]byte(tlsReport))), "an SMTP TLS report (RFC 8460, JSON), not a DMARC aggregate report"},
		{"TLS report in a zip", string(zipOf(map[string][]byte{"tls.json": []byte(tlsReport)})), "a zip archive that holds no DMARC report"},
		{"JSON", `[{"source_ip": "192.0.2.1"}]`, "JSON, not a DMARC aggregate report (an XML document)"},
		{"TLS report mail", tlsMail, "an e-mail message that carries an SMTP TLS report (RFC 8460), not a DMARC aggregate report"},
		{"failure report", failure, "an e-mail message that carries a DMARC failure report (ruf=, RFC 6591: one message, " +
			"no addresses to add up), not an aggregate report (rua=)"},
	}
	tarHead := make([]byte, 512)
	copy(tarHead, "google.com!example.com!1712016000!1712102399.xml")
	copy(tarHead[257:], "ustar\x0000")
	const not = "not a DMARC aggregate report: "
	tests = append(tests, []struct{ name, data, why string }{
		{"tar", string(tarHead), not + "a tar archive, which blcheck does not unpack: unpack it and name the folder"},
		{"tar.gz", string(gz(tarHead)), not + "a tar archive, which blcheck does not unpack: unpack it and name the folder"},
		{"7z", "7z\xbc\xaf\x27\x1c\x00\x04", not + "a 7-Zip archive, which blcheck does not unpack: unpack it and name the folder"},
		{"rar", "Rar!\x1a\x07\x01\x00", not + "a RAR archive, which blcheck does not unpack: unpack it and name the folder"},
		{"bzip2", "BZh91AY&SY", not + "bzip2-compressed, which blcheck does not decompress: decompress it and name the file"},
		{"xz", "\xfd7zXZ\x00\x00\x04", not + "xz-compressed, which blcheck does not decompress: decompress it and name the file"},
		{"zstd", "\x28\xb5\x2f\xfd\x04\x58", not + "zstd-compressed, which blcheck does not decompress: decompress it and name the file"},
		{"Outlook .msg", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", not + "an Outlook message file (.msg), which blcheck does not read: " +
			"save the mail as .eml, or its attachment, and name that"},
		{"PDF", "%PDF-1.7\n", not + "a PDF document"},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(Limits{})
			var nr *NotReportError
			if err := r.ReadStream(strings.NewReader(tt.data), tt.name); !errors.As(err, &nr) || nr.Why != tt.why {
				t.Fatalf("err %v, want a NotReportError: %s", err, tt.why)
			}
		})
	}
	// in a directory, as it is said
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "google.com!example.com!1712016000!1712102399!001.json.gz"), gz([]byte(tlsReport)), 0o644)
	r := NewReader(Limits{})
	if err := r.ReadPath(dir); err != nil {
		t.Fatal(err)
	}
	if u := r.Result().Unread; len(u) != 1 || u[0].Why != tests[0].why {
		t.Fatalf("unread %v, want the TLS report as one", u)
	}
}

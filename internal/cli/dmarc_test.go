package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// samples is where pkg/dmarc keeps the public sample reports.
const samples = "../../pkg/dmarc/testdata/samples/"

// In the samples, 192.0.2.123 (rfc9990-sample.xml) sends 123 messages, all
// passing DMARC; 203.0.113.10 (dmarcbis-example...) sends 2, none passing.
const (
	realSource   = "192.0.2.123"
	forgerSource = "203.0.113.10"
	rfc9990      = samples + "parsedmarc/rfc9990-sample.xml"
	dmarcbis     = samples + "parsedmarc/dmarcbis-example.net!example.com!1700000000!1700086399.xml"
)

// noReportFolder makes a folder of no DMARC report at dir: an SMTP TLS report
// and a note, as saved from a mailbox.
func noReportFolder(t *testing.T, dir string) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "google.com!example.com!1712016000!1712102399!001.json"),
		[]byte(`{"organization-name":"Google Inc.","policies":[]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a report\n"), 0o644)
	return dir
}

func TestDMARC(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", realSource, []string{"127.0.0.4"})
	srv.List("zen.spamhaus.org", forgerSource, []string{"127.0.0.2"})
	srv.RR("123.2.0.192.in-addr.arpa. 300 IN PTR mail.example.com.")
	srv.A("mail.example.com", realSource)
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("not a report\n"), 0o644)
	withUnread := folderWithCutReport(t, filepath.Join(dir, "folder"), samples+"parsedmarc/empty_reason.xml")
	// the forger's mail, said forwarded by the receiver: a mailing list relaying it
	forwarded := filepath.Join(dir, "forwarded.xml")
	os.WriteFile(forwarded, bytes.Replace(mustReadBytes(t, dmarcbis), []byte("<type>other</type>"), []byte("<type>mailing_list</type>"), 1), 0o644)
	noReport := noReportFolder(t, filepath.Join(dir, "tls"))
	r := []string{"-r", srv.Addr, "-l", "zen,spamcop"}

	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		out     []string // in stdout
		errText string   // in stderr
	}{
		{"real source listed", []string{rfc9990}, "", 1,
			[]string{"LISTED: " + realSource + " sent 123 messages (100.0% of the mail), 123 passing DMARC: your real mail. Listed on Spamhaus ZEN.",
				"\n           delist: https://check.spamhaus.org/query/ip/" + realSource + "\n"}, ""},
		{"forger listed", []string{dmarcbis}, "", 0,
			[]string{"forged: " + forgerSource + " sent 2 messages (28.6% of the mail), none of it passing DMARC", "listed (spamhaus-zen), forged",
				"1 listed, 3 clean. Exit 0 (no sender of your mail listed)"}, ""},
		{"forger listed, --fail-on-forged", []string{"--fail-on-forged", dmarcbis}, "", 1, []string{"forged: " + forgerSource}, ""},
		{"forwarder listed", []string{forwarded}, "", 0,
			[]string{"forwarder: " + forgerSource + " sent 2 messages (28.6% of the mail), none of it passing DMARC, all of it forwarded, " +
				"the receivers say: a mailing list or forwarding account relaying mail, nothing for you to delist. Listed on Spamhaus ZEN.",
				"listed (spamhaus-zen), forwarder"}, ""},
		{"-o json: forwarded messages", []string{"-o", "json", forwarded}, "", 0, []string{`"forwarded": 2,`, `"forged": true`}, ""},
		{"-q --state: a new listing of a forwarder", []string{"-q", "--state", filepath.Join(dir, "forwarder.json"), forwarded}, "", 0,
			[]string{"NEW LISTING  " + forgerSource + " on Spamhaus ZEN", "a forwarder: none of its mail passes DMARC, all of it forwarded, nothing for you to delist"}, ""},
		{"both, table by messages", []string{rfc9990, dmarcbis}, "", 1,
			[]string{"LISTED: " + realSource, "forged: " + forgerSource, "  " + realSource + "  "}, ""},
		// a month of reports: the first line counts the reporters and domains, not a paragraph of names
		{"many reporters", []string{samples + "heldout"}, "", 0,
			[]string{"DMARC reports: 25 reports from 2014-07-16 to 2026-08-02 by 18 reporters, for 10 domains: 3043 messages from 34 sending addresses.\n"}, ""},
		{"private sources", []string{samples + "dmarc-report-converter/test.xml"}, "", 0,
			[]string{"not checked: private address (RFC 1918)"}, "nothing to check"},
		{"loopback sources are reserved, not private", []string{samples + "heldout/go-dmarc_yahoo.com!example.com!1405468800!1405555199.xml"}, "", 0,
			nil, "from 2 sending addresses (2 private or reserved, not checked): nothing to check"},
		{"--ptr", []string{"--ptr", rfc9990}, "", 1, []string{realSource + " has reverse DNS mail.example.com, which resolves back to it"}, ""},
		{"standard input", []string{"-"}, mustRead(t, rfc9990), 1, []string{"LISTED: " + realSource}, ""},
		// cron: -q with --state says what is new; a forger's listing is no one's to delist
		{"-q --state: a new listing of a forger", []string{"-q", "--state", filepath.Join(dir, "forger.json"), dmarcbis}, "", 0,
			[]string{"NEW LISTING  " + forgerSource + " on Spamhaus ZEN", "a forger: none of its mail passes DMARC, nothing for you to delist"}, ""},
		{"-q --state: a new listing of a real source", []string{"-q", "--state", filepath.Join(dir, "real.json"), rfc9990}, "", 1,
			[]string{"NEW LISTING  " + realSource + " on Spamhaus ZEN", "delist: https://check.spamhaus.org/query/ip/" + realSource}, ""},
		// JSON lines stream the checks, and the run keeps none: the exit code is the same
		{"jsonl: real source listed", []string{"-o", "jsonl", rfc9990}, "", 1, []string{`"subject":"` + realSource + `"`}, ""},
		{"jsonl: forger listed", []string{"-o", "jsonl", dmarcbis}, "", 0, []string{`"status":"listed"`}, ""},
		{"jsonl: forger listed, --fail-on-forged", []string{"-o", "jsonl", "--fail-on-forged", dmarcbis}, "", 1, nil, ""},
		{"jsonl: both", []string{"-o", "jsonl", dmarcbis, rfc9990}, "", 1, nil, ""},
		{"unread file in a folder", []string{withUnread}, "", 3, []string{"cut.xml.gz not read: truncated"}, ""},
		{"named file not a report", []string{rfc9990, notes}, "", 2, nil, "notes.txt: not a DMARC aggregate report"},
		{"folder of no DMARC report", []string{noReport}, "", 2, nil, "no DMARC aggregate report found in " + noReport +
			": google.com!example.com!1712016000!1712102399!001.json is an SMTP TLS report (RFC 8460, JSON), not a DMARC aggregate report; " +
			"notes.txt is not a DMARC aggregate report (neither XML, gzip, zip, zlib nor an e-mail message)"},
		{"missing file", []string{filepath.Join(dir, "nope.xml")}, "", 2, nil, "nope.xml"},
		{"no file", nil, "", 2, nil, "no file given"},
		{"nagios refused", []string{"-o", "nagios", rfc9990}, "", 2, nil, "--format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := r
			asked := srv
			if tt.code == 2 { // a server of its own: a run's unneeded TXT queries may reach srv after it
				asked = dnsbltest.NewServer()
				defer asked.Close()
				args = []string{"-r", asked.Addr, "-l", "zen,spamcop"}
			}
			before := asked.TotalQueries()
			res := runCLI(t, nil, tt.stdin, append(append([]string{"dmarc"}, args...), tt.args...)...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.err)
			}
			for _, want := range tt.out {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
				}
			}
			if !strings.Contains(res.err, tt.errText) {
				t.Errorf("stderr lacks %q:\n%s", tt.errText, res.err)
			}
			if tt.code == 2 && asked.TotalQueries() != before {
				t.Errorf("a usage error sent %d queries", asked.TotalQueries()-before)
			}
		})
	}
}

func mustReadBytes(t *testing.T, name string) []byte {
	t.Helper()
	return []byte(mustRead(t, name))
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// data2 cuts a gzip stream in half: a truncated download.
func data2(b []byte) string { return string(b[:len(b)/2]) }

// folderWithCutReport makes folder with two copies of the report src: ok.xml,
// whole, and cut.xml.gz, gzipped and cut in half (not read: truncated).
func folderWithCutReport(t *testing.T, folder, src string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(data)
	w.Close()
	if err := errors.Join(os.MkdirAll(folder, 0o755), os.WriteFile(filepath.Join(folder, "ok.xml"), data, 0o644),
		os.WriteFile(filepath.Join(folder, "cut.xml.gz"), []byte(data2(gz.Bytes())), 0o644)); err != nil {
		t.Fatal(err)
	}
	return folder
}

func TestDMARCPlan(t *testing.T) {
	srv := fakeWorld(t)
	one := filepath.Join(t.TempDir(), "one.xml")
	os.WriteFile(one, []byte(`<feedback><report_metadata><org_name>example.net</org_name><report_id>1</report_id></report_metadata>
<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>`), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-l", "zen,spamcop", "--rate", "10", rfc9990, dmarcbis},
			"2 DMARC reports, 130 messages from 3 sending addresses: checking 3 addresses, 6 queries, about 300ms at --rate 10 a list"},
		{[]string{"-l", "zen", "--rate", "10", one},
			"1 DMARC report, 1 message from 1 sending address: checking 1 address, 1 query, about 100ms at --rate 10 a list"},
	} {
		res := runCLI(t, nil, "", append([]string{"dmarc", "-r", srv.Addr}, tt.args...)...)
		if !strings.Contains(res.err, tt.want) {
			t.Errorf("stderr lacks %q:\n%s", tt.want, res.err)
		}
	}
}

// TestDMARCOneEstimate: a run long enough for the progress lines (stderr not a
// terminal) says its time estimate once: the plan leaves its own out.
func TestDMARCOneEstimate(t *testing.T) {
	srv := fakeWorld(t)
	res := runCLI(t, nil, "", "dmarc", "-r", srv.Addr, "-l", "zen,spamcop", "--rate", "0.5", "--deadline", "300ms", rfc9990, dmarcbis)
	if strings.Count(res.err, "about ") != 1 || !strings.Contains(res.err, "from 3 sending addresses: checking 3 addresses\n") ||
		!strings.Contains(res.err, "progress every") {
		t.Errorf("one estimate wanted, stderr:\n%s", res.err)
	}
}

func TestDMARCJSON(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", forgerSource, []string{"127.0.0.2"})
	res := runCLI(t, nil, "", "dmarc", "-r", srv.Addr, "-l", "zen", "-o", "json", rfc9990, dmarcbis)
	if res.code != 0 {
		t.Fatalf("exit %d (a listed forger does not fail the run)\n%s%s", res.code, res.stdout, res.err)
	}
	var doc struct {
		Targets []struct{ Input string }
		Summary struct {
			Listed   int `json:"listed"`
			ExitCode int `json:"exit_code"`
		}
		DMARC struct {
			Reports  int
			Messages int64
			Domains  []string
			Sources  []struct {
				IP       string
				Messages int64
				Passed   int64
				Share    float64
				Reports  int
				Forged   bool
				Listed   []string
			}
			Unread []struct{ File, Why string }
		}
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	d := doc.DMARC
	if d.Reports != 2 || d.Messages != 130 || len(d.Domains) != 1 || d.Unread == nil || len(d.Sources) != 3 || len(doc.Targets) != 3 {
		t.Fatalf("dmarc %+v, %d targets", d, len(doc.Targets))
	}
	first, last := d.Sources[0], d.Sources[2]
	if first.IP != realSource || first.Share != 123.0/130 || first.Forged || first.Passed != 123 {
		t.Errorf("first source %+v", first)
	}
	if last.IP != forgerSource || !last.Forged || len(last.Listed) != 1 || last.Listed[0] != "spamhaus-zen" {
		t.Errorf("forger %+v", last)
	}
	if doc.Summary.Listed != 1 || doc.Summary.ExitCode != 0 {
		t.Errorf("summary %+v: the listing is counted, the exit code is 0", doc.Summary)
	}
}

func TestDMARCState(t *testing.T) {
	srv := fakeWorld(t)
	path := filepath.Join(t.TempDir(), "dmarc.state")
	args := []string{"dmarc", "-q", "--state", path, "-r", srv.Addr, "-l", "zen"}
	if first := runCLI(t, nil, "", append(args, dmarcbis)...); first.code != 0 || strings.Contains(first.stdout, "new source") {
		t.Fatalf("first run (nothing is new yet): exit %d\n%s", first.code, first.stdout)
	}
	srv.List("zen.spamhaus.org", realSource, []string{"127.0.0.4"})
	second := runCLI(t, nil, "", append(args, dmarcbis, rfc9990)...)
	if second.code != 1 || !strings.Contains(second.stdout, "new source "+realSource+": 123 messages") ||
		!strings.Contains(second.stdout, "NEW LISTING  "+realSource) {
		t.Errorf("second run: exit %d\n%s", second.code, second.stdout)
	}
	srv.Unlist("zen.spamhaus.org", realSource)
	third := runCLI(t, nil, "", append(args, dmarcbis, rfc9990)...)
	if third.code != 0 || strings.Contains(third.stdout, "new source") || !strings.Contains(third.stdout, "DELISTED     "+realSource) {
		t.Errorf("third run: exit %d\n%s", third.code, third.stdout)
	}
}

// A report none of whose sources is listed, read while a list fails, is not
// said to have no listed source: only where the lists answered.
func TestDMARCNothingListedUnfinished(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	got := runCLI(t, never, "", "dmarc", "-r", srv.Addr, "-l", "zen,spamcop", "--timeout", "150ms", "--retries", "0", rfc9990)
	if got.code != exitIncomplete || strings.Contains(got.stdout, "No sending address found in the reports is listed.") ||
		!strings.Contains(got.stdout, "No sending address is listed where the lists answered; not all were checked") {
		t.Errorf("exit %d, want 3 without the all-clear\n%s%s", got.code, got.stdout, got.err)
	}
}

// A report whose every source is private checks nothing (exit 0, nothing to
// check): it is not said to have no listed source.
func TestDMARCNothingAsked(t *testing.T) {
	srv := fakeWorld(t)
	data, err := os.ReadFile(rfc9990)
	if err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(t.TempDir(), "private.xml")
	if err := os.WriteFile(private, bytes.ReplaceAll(data, []byte(realSource), []byte("10.0.0.5")), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, never, "", "dmarc", "-r", srv.Addr, "-l", "zen,spamcop", private)
	if got.code != exitClean || strings.Contains(got.stdout, "No sending address found in the reports is listed.") ||
		!strings.Contains(got.stdout, "No sending address was asked about on any list") {
		t.Errorf("exit %d, want 0 without the all-clear\n%s%s", got.code, got.stdout, got.err)
	}
}

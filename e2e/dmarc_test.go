package e2e

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// parsedmarc's samples (pkg/dmarc/testdata): in rfc9990-sample.xml 192.0.2.123
// sends 123 messages that pass DMARC; in the dmarcbis one 203.0.113.10 sends 2
// that do not (a forger). The world lists both on zen.
const dmarcSamples = "../pkg/dmarc/testdata/samples/parsedmarc/"

// dmarcRun runs blcheck dmarc, and returns its peak memory (Linux: max RSS).
func dmarcRun(t *testing.T, args ...string) (run, int64) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"dmarc"}, args...)...)
	cmd.Env = []string{"NO_COLOR=1", "PATH=/usr/bin:/bin", "BLCHECK_DIRECT=never"}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{code, out.String(), errb.String()}, maxRSS(cmd.ProcessState)
}

func TestDMARCEndToEnd(t *testing.T) {
	w := startWorld(t)
	common := []string{"--resolver", w.addr, "--timeout", "300ms", "-l", "zen,spamcop"}
	t.Run("a source that passes DMARC listed", func(t *testing.T) {
		r, _ := dmarcRun(t, append(common, dmarcSamples+"rfc9990-sample.xml")...)
		if r.code != 1 || !strings.Contains(r.stdout, "LISTED: 192.0.2.123 sent 123 messages (100.0% of the mail), 123 passing DMARC: your real mail") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("a forger listed", func(t *testing.T) {
		r, _ := dmarcRun(t, append(common, dmarcSamples+"dmarcbis-example.net!example.com!1700000000!1700086399.xml")...)
		if r.code != 0 || !strings.Contains(r.stdout, "forged: 203.0.113.10 sent 2 messages") ||
			!strings.Contains(r.stdout, "a forger, nothing for you to delist") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("bombs and a truncated gzip are unread within bounds", func(t *testing.T) {
		dir := t.TempDir()
		rep, err := os.ReadFile(dmarcSamples + "empty_reason.xml")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "good.xml"), rep, 0o644)
		os.WriteFile(filepath.Join(dir, "cut.xml.gz"), gz(t, rep)[:200], 0o644)
		// 100 MiB decompressed: spaces and empty elements after a report's start,
		// written as they are compressed (the test's own memory counts in the
		// child's peak: a forked child starts in its parent's pages)
		chunk := append(bytes.Repeat([]byte(" "), 1<<20-4), "<x/>"...)
		bomb := func(w io.Writer) {
			io.WriteString(w, "<feedback><report_metadata>")
			for range 100 {
				w.Write(chunk)
			}
		}
		gf, _ := os.Create(filepath.Join(dir, "bomb.xml.gz"))
		gw := gzip.NewWriter(gf)
		bomb(gw)
		gw.Close()
		gf.Close()
		zf, _ := os.Create(filepath.Join(dir, "bomb.zip"))
		zw := zip.NewWriter(zf)
		f, _ := zw.Create("bomb.xml")
		bomb(f)
		zw.Close()
		zf.Close()
		chunk = nil
		runtime.GC()
		debug.FreeOSMemory()

		r, rss := dmarcRun(t, append(common, "-o", "json", dir)...)
		var doc struct {
			DMARC struct {
				Reports int
				Unread  []struct{ File, Why string }
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("exit %d: %v\n%s", r.code, err, r.stderr)
		}
		why := map[string]string{}
		for _, u := range doc.DMARC.Unread {
			why[filepath.Base(u.File)] = u.Why
		}
		if r.code != 3 || doc.DMARC.Reports != 1 || len(why) != 3 ||
			!strings.Contains(why["bomb.xml.gz"], "larger than 64 MiB decompressed") ||
			!strings.HasPrefix(why["bomb.zip: bomb.xml"], "larger than 64 MiB decompressed") ||
			!strings.Contains(why["cut.xml.gz"], "truncated") {
			t.Errorf("exit %d, %d reports, unread %v", r.code, doc.DMARC.Reports, why)
		}
		if rss > 128<<10 { // 0 where the system does not say (not Linux)
			t.Errorf("peak memory %d MiB reading the bombs", rss>>10)
		}
		t.Logf("peak memory reading two 100 MiB bombs and a truncated gzip: %d MiB", rss>>10)
	})
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

// referenceLimits are the sample files that Mail::DMARC, the reference, cannot
// read or reads only in part, each with the reason; blcheck must read them.
// A file the reference fails on that is not here fails the test: someone
// must look at which reader is wrong.
var referenceLimits = map[string]string{
	"dmarc-report-viewer/gmxnet.xml":                                   "a namespace on <feedback>: the reference's XPath /feedback finds nothing",
	"dmarc-report-viewer/webde.xml":                                    "a namespace on <feedback>: the reference's XPath /feedback finds nothing",
	"parsedmarc/rfc9990-sample.xml":                                    "RFC 9990's namespace: the reference's XPath /feedback finds nothing",
	"heldout/jgosmann_google.com!mydomain.de!dmarc-2.0.xml":            "RFC 9990's namespace: the reference's XPath /feedback finds nothing",
	"heldout/parsedmarc_ikea.com!example.de!1538690400!1538776800.xml": "ikea.com's <xs:schema> wrapper is never closed: libxml2 refuses the document",
	"parsedmarc/invalid_utf_8.xml":                                     "a Windows-1252 byte in UTF-8: libxml2 refuses the document",
	"parsedmarc/report_with_upper_cased_pass.xml":                      "the reference dies on an auth_results result of \"Pass\"",
	"dmarc-report-converter/test_empty.xml":                            "the reference dies on a record whose auth_results has no result",
	"heldout-wrapped/immccn-reports.zip":                               "a .xml.gz inside a zip: the reference does not unpack the inner gzip",
	"heldout-wrapped/usssa-text-xml-qp.eml":                            "the report as a text/xml part: the reference reads zip and gzip parts only",
	"heldout-wrapped/reports.mbox":                                     "an mbox: the reference reads its first message only",
}

type refRecord struct {
	IP    string `json:"ip"`
	Count int64  `json:"count"`
	DKIM  string `json:"dkim"`
	SPF   string `json:"spf"`
}

type refFile struct {
	File    string `json:"file"`
	Error   string `json:"error"`
	Reports []struct {
		Records []refRecord `json:"records"`
	} `json:"reports"`
}

// TestDMARCReference reads every sample report with blcheck dmarc and with
// Mail::DMARC (Debian's libmail-dmarc-perl, its own parser on libxml2): where
// the reference reads a file, blcheck must find the same reports, sources,
// messages and messages passing DMARC (policy_evaluated dkim or spf "pass").
func TestDMARCReference(t *testing.T) {
	if err := exec.Command("perl", "-MMail::DMARC::Report::Receive", "-MJSON::PP", "-e1").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Mail::DMARC is not installed, and CI=true requires the end-to-end tests to run (apt-get install -y libmail-dmarc-perl): %v", err)
		}
		t.Skip("Mail::DMARC is not installed (apt-get install -y libmail-dmarc-perl): skipped")
	}
	samples := "../pkg/dmarc/testdata/samples/"
	files, err := filepath.Glob(samples + "*/*")
	if err != nil || len(files) < 70 {
		t.Fatalf("%d sample files: %v", len(files), err)
	}
	out, err := exec.Command("perl", append([]string{"testdata/dmarc-reference.pl"}, files...)...).Output()
	if err != nil {
		t.Fatalf("the reference: %v", err)
	}
	refs := map[string]refFile{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r refFile
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("the reference's line %q: %v", line, err)
		}
		refs[r.File] = r
	}
	w := startWorld(t)
	agree := 0
	for _, file := range files {
		name := strings.TrimPrefix(file, samples)
		t.Run(name, func(t *testing.T) {
			got, code := blcheckReading(t, w.addr, file)
			ref, ok := refs[file]
			want := ref.sources()
			switch limit := referenceLimits[name]; {
			case !ok:
				t.Fatal("the reference printed nothing for it")
			case code == 2:
				t.Fatalf("exit 2: blcheck refuses a sample")
			case limit != "":
				if got.Reports == 0 {
					t.Errorf("blcheck reads no report where the reference cannot (%s)", limit)
				}
			case ref.Error != "" && got.Reports == 0 && len(got.Unread) > 0:
				agree++ // both refuse it (malformed XML)
			case ref.Error != "":
				t.Errorf("the reference cannot read it (%s), blcheck reads it: if that is the reference's limit, "+
					"say so in referenceLimits", ref.Error)
			case got.Reports != len(ref.Reports) || !maps.Equal(got.sources(), want):
				t.Errorf("blcheck: %d reports, sources %v\nreference: %d reports, sources %v",
					got.Reports, got.sources(), len(ref.Reports), want)
			default:
				agree++
			}
		})
	}
	t.Logf("%d of %d sample files read alike by blcheck and Mail::DMARC; %d the reference cannot read",
		agree, len(files), len(referenceLimits))
}

// counted is a source's messages and those passing DMARC.
type counted struct{ Messages, Passed int64 }

func (r refFile) sources() map[string]counted {
	out := map[string]counted{}
	for _, rep := range r.Reports {
		for _, rec := range rep.Records {
			a, err := netip.ParseAddr(strings.TrimSpace(rec.IP))
			if err != nil {
				continue
			}
			c := out[a.Unmap().String()]
			c.Messages += rec.Count
			if rec.DKIM == "pass" || rec.SPF == "pass" {
				c.Passed += rec.Count
			}
			out[a.Unmap().String()] = c
		}
	}
	return out
}

type dmarcReading struct {
	Reports int
	Sources []struct {
		IP               string
		Messages, Passed int64
	}
	Unread []struct{ File, Why string }
}

func (d dmarcReading) sources() map[string]counted {
	out := map[string]counted{}
	for _, s := range d.Sources {
		out[s.IP] = counted{s.Messages, s.Passed}
	}
	return out
}

// blcheckReading is blcheck dmarc -o json's reading of a file, and the exit code.
func blcheckReading(t *testing.T, resolver, file string) (dmarcReading, int) {
	t.Helper()
	r, _ := dmarcRun(t, "--resolver", resolver, "--timeout", "300ms", "--rate", "0", "-l", "zen", "-o", "json", file)
	var doc struct{ DMARC dmarcReading }
	if r.code != 2 {
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("exit %d: %v\n%s", r.code, err, r.stderr)
		}
	}
	return doc.DMARC, r.code
}

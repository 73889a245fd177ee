package dmarc

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// largeReport builds a report of the shape of parsedmarc's
// !large-example.com!1711897200!1711983600.xml (909 KB, 2,286 sources, one
// failing record each), of any number of sources, addresses in 198.18.0.0/15.
func largeReport(sources int, id string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
 <report_metadata>
  <org_name></org_name>
  <email>administrator@example.com</email>
  <report_id>%s</report_id>
  <date_range>
   <begin>1711897200</begin>
   <end>1711983600</end>
  </date_range>
 </report_metadata>
 <policy_published>
  <domain>example.com</domain>
  <adkim>r</adkim>
  <aspf>r</aspf>
  <p>none</p>
  <sp>reject</sp>
  <pct>100</pct>
 </policy_published>
`, id)
	for i := range sources {
		fmt.Fprintf(&b, ` <record>
  <row>
   <source_ip>198.18.%d.%d</source_ip>
   <count>1</count>
   <policy_evaluated>
    <disposition>none</disposition>
    <dkim>fail</dkim>
    <spf>fail</spf>
   </policy_evaluated>
  </row>
  <identifiers>
   <header_from>example.com</header_from>
  </identifiers>
  <auth_results>
   <spf>
    <domain></domain>
    <result>none</result>
   </spf>
  </auth_results>
 </record>
`, i/250, i%250+1)
	}
	b.WriteString("</feedback>\n")
	return b.Bytes()
}

// BenchmarkLargeReport reads the largest public sample (parsedmarc's, 2,286
// sources; kept gzipped, read here as the XML it was published as).
func BenchmarkLargeReport(b *testing.B) {
	f, err := os.Open("testdata/samples/parsedmarc/!large-example.com!1711897200!1711983600.xml.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r := NewReader(Limits{})
		if err := r.ReadStream(bytes.NewReader(data), "large"); err != nil {
			b.Fatal(err)
		}
		if res := r.Result(); len(res.Sources) != 2286 || len(res.Unread) > 0 {
			b.Fatalf("%d sources, unread %v", len(res.Sources), res.Unread)
		}
	}
}

// BenchmarkDirectory10k reads a directory of 10,000 reports (gzipped, 20
// sources each, from a pool of 500 addresses), and reports the heap the
// Reader keeps and the most it used, which must not grow with the reports.
func BenchmarkDirectory10k(b *testing.B) {
	dir := b.TempDir()
	for i := range 10_000 {
		rep := largeReport(20, fmt.Sprintf("r%d", i))
		rep = bytes.ReplaceAll(rep, []byte("198.18.0."), fmt.Appendf(nil, "198.18.%d.", i%25))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%05d.xml.gz", i)), gz(rep), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := NewReader(Limits{})
		if err := r.ReadPath(dir); err != nil {
			b.Fatal(err)
		}
		res := r.Result()
		if res.Reports != 10_000 || len(res.Sources) != 500 || len(res.Unread) > 0 {
			b.Fatalf("%d reports, %d sources, unread %d", res.Reports, len(res.Sources), len(res.Unread))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc))/1024, "kept-KB")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/10_000/1024, "alloc-KB/report")
		runtime.KeepAlive(r)
	}
}

// FuzzRead reads anything as a report file: no panic, no unbounded read, and
// a result that adds up.
func FuzzRead(f *testing.F) {
	for _, dir := range []string{"parsedmarc", "dmarc-report-viewer", "dmarc-report-converter", "heldout", "heldout-wrapped"} {
		files, _ := filepath.Glob(filepath.Join("testdata/samples", dir, "*"))
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
	rep, _ := os.ReadFile("testdata/samples/parsedmarc/rfc9990-sample.xml")
	f.Add(gz(rep))
	f.Add(zl(rep))
	f.Add(zipOf(map[string][]byte{"a.xml": rep}))
	f.Add(message("a.zip", "application/zip", zipOf(map[string][]byte{"a.xml": rep})))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		r := NewReader(Limits{ReportBytes: 1 << 20, FileBytes: 1 << 20, Members: 50})
		_ = r.ReadStream(bytes.NewReader(data), "fuzz")
		res := r.Result()
		var sum int64
		for _, s := range res.Sources {
			if s.Passed > s.Messages || s.Messages < 0 || !s.Addr.IsValid() {
				t.Fatalf("source %+v", s)
			}
			sum += s.Messages
		}
		if sum != res.Messages {
			t.Fatalf("sources sum to %d, total %d", sum, res.Messages)
		}
	})
}

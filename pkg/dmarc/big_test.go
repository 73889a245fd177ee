package dmarc

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// bigRecords is the size of the largest report seen in the field: about
// 187,000 <record>s (a week of a large domain's forgers, from one reporter).
const bigRecords = 187_000

// docRanges are where the domain's own senders are put in a generated
// report; forgers are in 198.18.0.0/15 (benchmark space), for volume.
var docRanges = [3]string{"192.0.2.", "198.51.100.", "203.0.113."}

// writeBigReport writes a report of n records, the shape of a large
// reporter's (Google, Microsoft): no indentation, one line a record, and the
// policy_evaluated and auth_results blocks of real ones. One record in eight
// is the domain's own mail (a sender in a documentation range, its 762
// addresses each named many times, DKIM passing, some forwarded); the rest are
// forgers in 198.18.0.0/15 (131,072 addresses: past that many records they are
// named again, as a botnet's addresses are). The same n gives the same bytes.
func writeBigReport(w io.Writer, n int, id string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" ?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
<version>1.0</version>
<report_metadata><org_name>google.com</org_name><email>noreply-dmarc-support@google.com</email><extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info><report_id>%s</report_id><date_range><begin>1711929600</begin><end>1712015999</end></date_range></report_metadata>
<policy_published><domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>reject</p><sp>reject</sp><np>reject</np><testing>n</testing><discovery_method>treewalk</discovery_method></policy_published>
`, id)
	for i := range n {
		if i%8 == 0 { // the domain's own mail
			k := i / 8
			ip := docRanges[k%3] + strconv.Itoa(k/3%254+1)
			spf, reason := "pass", ""
			if k%5 == 0 { // forwarded: SPF fails, DKIM survives
				spf, reason = "fail", "<reason><type>local_policy</type><comment>arc=pass</comment></reason>"
			}
			fmt.Fprintf(bw, "<record><row><source_ip>%s</source_ip><count>%d</count><policy_evaluated><disposition>none</disposition>"+
				"<dkim>pass</dkim><spf>%s</spf>%s</policy_evaluated></row><identifiers><header_from>example.com</header_from>"+
				"</identifiers><auth_results><dkim><domain>example.com</domain><selector>s%d</selector><result>pass</result></dkim>"+
				"<spf><domain>example.com</domain><scope>mfrom</scope><result>%s</result></spf></auth_results></record>\n",
				ip, k%40+1, spf, reason, k%2+1, spf)
			continue
		}
		j := i * 7919 % (1 << 17) // 7919 is prime: a permutation of the /15
		fmt.Fprintf(bw, "<record><row><source_ip>198.%d.%d.%d</source_ip><count>%d</count><policy_evaluated>"+
			"<disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row><identifiers>"+
			"<header_from>example.com</header_from></identifiers><auth_results><spf><domain>example.net</domain>"+
			"<result>fail</result></spf></auth_results></record>\n",
			18+j>>16, j>>8&0xff, j&0xff, i%3+1)
	}
	bw.WriteString("</feedback>\n")
	return bw.Flush()
}

// TestWriteBigReport writes a big report where BLCHECK_DMARC_BIG names
// (BLCHECK_DMARC_RECORDS records, default 187,000), for measuring blcheck
// dmarc by hand; without it, it is skipped:
//
//	BLCHECK_DMARC_BIG=/tmp/big.xml go test -run TestWriteBigReport ./pkg/dmarc
func TestWriteBigReport(t *testing.T) {
	path := os.Getenv("BLCHECK_DMARC_BIG")
	if path == "" {
		t.Skip("BLCHECK_DMARC_BIG not set: no file to write")
	}
	n := bigRecords
	if v := os.Getenv("BLCHECK_DMARC_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			t.Fatalf("BLCHECK_DMARC_RECORDS=%q: not a number of records", v)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeBigReport(f, n, "big-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// heapAfter is the live heap once a collection has run.
func heapAfter() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestReaderKeepsLittlePerSource reads a report of 40,000 records from
// 35,000 addresses and bounds what the Reader keeps of it, and the Result: a
// few dozen bytes a source. The Reader used to keep two maps a source (615
// bytes a source for the big report), and each Source its own slices of
// names.
func TestReaderKeepsLittlePerSource(t *testing.T) {
	var b bytes.Buffer
	if err := writeBigReport(&b, 40_000, "mem-1"); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	before := heapAfter()
	r := NewReader(Limits{})
	if err := r.ReadStream(bytes.NewReader(data), "big.xml"); err != nil {
		t.Fatal(err)
	}
	reader := int64(heapAfter()) - int64(before)
	res := r.Result()
	both := int64(heapAfter()) - int64(before)
	runtime.KeepAlive(r)
	n := int64(len(res.Sources))
	if res.Reports != 1 || n != 35_000+762 || len(res.Unread) > 0 {
		t.Fatalf("%d reports, %d sources, unread %v", res.Reports, n, res.Unread)
	}
	t.Logf("%d sources: the Reader keeps %d bytes a source, the Result %d", n, reader/n, (both-reader)/n)
	// what a source needs is an address (24 bytes), two counts and two
	// numbers; a map entry and the Source add as much again
	if per := reader / n; per > 250 {
		t.Errorf("the Reader keeps %d bytes a source (%d in all), want at most 250", per, reader)
	}
	if per := (both - reader) / n; per > 200 {
		t.Errorf("the Result takes %d bytes a source (%d in all), want at most 200", per, both-reader)
	}
	runtime.KeepAlive(data)
}

// BenchmarkDMARCBigReport reads a report the size of the largest seen
// (187,000 records from 115,450 addresses, 63 MiB of XML) into sources, and
// reports what the Reader and its Result keep (kept-MB) and the most the heap
// held while reading (peak-MB, sampled at each collection).
func BenchmarkDMARCBigReport(b *testing.B) {
	var buf bytes.Buffer
	if err := writeBigReport(&buf, bigRecords, "bench-1"); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		before := heapAfter()
		peak := samplePeak()
		r := NewReader(Limits{})
		if err := r.ReadStream(bytes.NewReader(data), "big.xml"); err != nil {
			b.Fatal(err)
		}
		res := r.Result()
		kept := heapAfter() - before
		high := max(peak(), before+kept)
		if len(res.Sources) != 115_450 || len(res.Unread) > 0 {
			b.Fatalf("%d sources, unread %v", len(res.Sources), res.Unread)
		}
		b.ReportMetric(float64(kept)/(1<<20), "kept-MB")
		b.ReportMetric(float64(high-min(high, before))/(1<<20), "peak-MB")
		runtime.KeepAlive(r)
	}
}

// samplePeak watches the live heap after each collection until the function
// it returns is called, which returns the most seen.
func samplePeak() func() uint64 {
	var high atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var m metrics.Sample
		m.Name = "/gc/heap/live:bytes"
		s := []metrics.Sample{m}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > high.Load() {
				high.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return high.Load()
	}
}

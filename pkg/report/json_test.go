package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// lockedBuffer is a bytes.Buffer that JSONLines' timer may write to while the
// test reads it, counting its writes.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestJSONLinesBuffered: a target's lines are written out once it is complete
// (soon after, if no more come), each a whole JSON object with its target.
func TestJSONLinesBuffered(t *testing.T) {
	var out lockedBuffer
	jl := NewJSONLines(&out)
	tr := &dnsbl.TargetResult{Target: dnsbl.Target{Input: "192.0.2.1"}}
	jl.Check(tr, dnsbl.Check{Subject: "192.0.2.1", List: &catalog.List{ID: "a"}, Status: dnsbl.Clean})
	jl.Check(tr, dnsbl.Check{Subject: "192.0.2.1", List: &catalog.List{ID: "b"}, Status: dnsbl.Listed})
	if out.String() != "" {
		t.Fatalf("written before the target was complete: %q", out.String())
	}
	jl.Target(tr)
	for end := time.Now().Add(10 * time.Second); out.String() == "" && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond) // the lines of a last target are not held back
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %q", len(lines), out.String())
	}
	for _, l := range lines {
		var c CheckDoc
		if err := json.Unmarshal([]byte(l), &c); err != nil || c.Target != "192.0.2.1" {
			t.Fatalf("line %q: %+v %v", l, c, err)
		}
	}
	if jl.Err() != nil {
		t.Fatal(jl.Err())
	}
}

// TestJSONLinesBlocks: a bulk run's lines go out in blocks, not a write per
// target (a /16 sweep made 65,536 of them), and Flush writes out the rest.
func TestJSONLinesBlocks(t *testing.T) {
	var out lockedBuffer
	jl := NewJSONLines(&out)
	const targets = 2000
	for i := range targets {
		tr := &dnsbl.TargetResult{Target: dnsbl.Target{Input: fmt.Sprintf("198.51.%d.%d", 100+i/256, i%256)}}
		jl.Check(tr, dnsbl.Check{Subject: tr.Target.Input, List: &catalog.List{ID: "a"}, Status: dnsbl.Clean})
		jl.Target(tr)
	}
	jl.Flush()
	if got := strings.Count(out.String(), "\n"); got != targets {
		t.Fatalf("%d lines, want %d", got, targets)
	}
	out.mu.Lock()
	writes := out.writes
	out.mu.Unlock()
	if writes > targets/10 {
		t.Errorf("%d writes for %d targets: not in blocks", writes, targets)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestJSONLinesWriteError(t *testing.T) {
	jl := NewJSONLines(failWriter{})
	tr := &dnsbl.TargetResult{}
	jl.Check(tr, dnsbl.Check{Status: dnsbl.Clean})
	jl.Flush()
	if jl.Err() == nil || !strings.Contains(jl.Err().Error(), "disk full") {
		t.Fatalf("a write error must be kept: %v", jl.Err())
	}
}

// encodingJSON is what encoding/json writes for c, as --format jsonl did before
// appendCheck.
func encodingJSON(t testing.TB, c CheckDoc) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestAppendCheckMatchesEncodingJSON(t *testing.T) {
	for _, c := range []CheckDoc{
		{},
		{Subject: "192.0.2.1", List: "zen", Zone: "zen.spamhaus.org", Query: "1.2.0.192.zen.spamhaus.org",
			Status: "clean", Codes: []string{}, Meanings: []string{}, RTTms: 12},
		{Target: "example.com", Subject: "192.0.2.10", List: "zen", Status: "listed",
			Codes: []string{"127.0.0.2", "127.0.0.4"}, Meanings: []string{"SBL: spam", "XBL: <infected> & \"exploited\""},
			Reason: "https://check.spamhaus.org/query/ip/192.0.2.10", DelistURL: "https://x.test/?ip=192.0.2.10&a=b",
			RTTms: -1, Change: "new-listing"},
		{Subject: "bad", Status: "error", Error: "tab\there, newline\n, NUL\x00, ESC\x1b[31m, back\\slash"},
		{Subject: "ütf-8 ✓", Reason: "invalid \xff\xfe utf-8, line sep \u2028 para sep \u2029, emoji 🚫"},
		{Codes: []string{""}, Meanings: nil},
		// every optional key: jsonl's checks carry what the JSON document's do
		{Target: "example.com", Subject: "192.0.2.10", List: "spamhaus-xbl", Status: "listed", Codes: []string{"127.0.0.4"},
			Meanings: []string{"XBL"}, ListingURL: "https://x.test/l", SameAs: "mx.example.com", RTTms: 3, Change: "still-listed",
			DuplicateOf: "spamhaus-zen", NotCounted: "a link host", Asked: "direct"},
		{Subject: "192.0.2.11", Status: "clean", Codes: []string{}, Meanings: []string{}, Asked: "resolver"},
	} {
		want := encodingJSON(t, c)
		if got := string(appendCheck(nil, &c)); got != want {
			t.Errorf("appendCheck\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzAppendCheck(f *testing.F) {
	f.Add("192.0.2.1", "listed", "127.0.0.2", "reason \x00 <&> \u2028", "", int64(51))
	f.Add("ex\xffample", "", "", "", "new-listing", int64(-3))
	f.Fuzz(func(t *testing.T, subject, status, code, reason, change string, rtt int64) {
		c := CheckDoc{Target: subject, Subject: subject, List: code, Zone: reason, Query: change,
			Status: status, Codes: []string{code, reason}, Meanings: []string{status},
			Reason: reason, DelistURL: subject + reason, RTTms: rtt, Error: code, Change: change,
			SameAs: reason, DuplicateOf: status, NotCounted: code, Asked: change}
		if code == "" {
			c.Codes = nil
		}
		want := encodingJSON(t, c)
		if got := string(appendCheck(nil, &c)); got != want {
			t.Fatalf("appendCheck\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkJSONLinesCheck(b *testing.B) {
	jl := NewJSONLines(io.Discard)
	tr := &dnsbl.TargetResult{Target: dnsbl.Target{Input: "198.51.100.7"}}
	c := dnsbl.Check{Subject: "198.51.100.7", List: &catalog.List{ID: "spamhaus-zen"}, Zone: "zen.spamhaus.org",
		Query: "7.100.51.198.zen.spamhaus.org", Status: dnsbl.Clean, RTT: time.Millisecond}
	for b.Loop() {
		jl.Check(tr, c)
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// TestJSONLinesBuffered: lines are written when their target is complete (one
// write per target in bulk runs), each a whole JSON object with its target.
func TestJSONLinesBuffered(t *testing.T) {
	var out bytes.Buffer
	jl := NewJSONLines(&out)
	tr := &dnsbl.TargetResult{Target: dnsbl.Target{Input: "192.0.2.1"}}
	jl.Check(tr, dnsbl.Check{Subject: "192.0.2.1", List: "a", Status: dnsbl.Clean})
	jl.Check(tr, dnsbl.Check{Subject: "192.0.2.1", List: "b", Status: dnsbl.Listed})
	if out.Len() != 0 {
		t.Fatalf("written before the target was complete: %q", out.String())
	}
	jl.Target(tr)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %q", len(lines), out.String())
	}
	for _, l := range lines {
		var c dnsbl.Check
		if err := json.Unmarshal([]byte(l), &c); err != nil || c.Target != "192.0.2.1" {
			t.Fatalf("line %q: %+v %v", l, c, err)
		}
	}
	if jl.Err() != nil {
		t.Fatal(jl.Err())
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

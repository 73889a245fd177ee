package report

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/blcheck/blcheck/pkg/dmarc"
)

// maxWriter records the largest single write.
type maxWriter struct {
	bytes.Buffer
	max int
}

func (m *maxWriter) Write(p []byte) (int, error) {
	m.max = max(m.max, len(p))
	return m.Buffer.Write(p)
}

// TestRenderJSONMakesTargetsAsWritten: -o json of a view, each target's part
// made as it is written, is the document NewDocument builds, byte for byte.
func TestRenderJSONMakesTargetsAsWritten(t *testing.T) {
	for _, findings := range []bool{false, true} {
		v := fixtureView(t, findings)
		var want bytes.Buffer
		if err := encodeIndented(&want, NewDocument(v), ""); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := renderJSON(&got, v, Options{}); err != nil {
			t.Fatal(err)
		}
		if len(v.Result.Targets) == 0 || !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("findings %v: %d targets; rendered:\n%.1500s\nNewDocument:\n%.1500s", findings, len(v.Result.Targets), got.String(), want.String())
		}
	}
}

// TestWriteJSONStreamsTargets: a document is written one target (and one
// DMARC source) at a time,
// byte for byte as encoding/json writes it whole (HTML characters, control
// bytes and non-ASCII text, empty and nil slices, the fixture's view), and no
// write holds the whole document. WriteJSON used to make one write of it all,
// after building it twice in memory.
func TestWriteJSONStreamsTargets(t *testing.T) {
	many := &Document{Schema: 1, Resolver: []string{"127.0.0.1:53"}, Warnings: []string{"<b>&</b>"},
		DMARC: &DMARCDoc{Sources: []DMARCSourceDoc{{IP: "192.0.2.1", Reporters: []string{"a&b"}}}, Unread: []dmarc.Unread{}}}
	for i := range 2000 {
		many.DMARC.Sources = append(many.DMARC.Sources, DMARCSourceDoc{IP: fmt.Sprintf("198.19.%d.%d", i/250, i%250),
			Messages: int64(i), Share: 1 / float64(i+1), Reporters: []string{"<google.com>"}, HeaderFrom: []string{},
			Forged: i%2 == 0, Listed: []string{"zen"}[:i%2], Skipped: "\u2028"[:i%3]})
	}
	for i := range 3000 {
		many.Targets = append(many.Targets, TargetDoc{Input: fmt.Sprintf("198.18.%d.%d", i/250, i%250), Kind: "ip", Form: "ip",
			Subjects: []SubjectDoc{{Subject: "s", Type: "ip", Via: []string{"input"}}},
			Checks: []CheckDoc{{Subject: "s", List: "zen", Status: "listed", Codes: []string{"127.0.0.2"},
				Reason: "see <https://example.net/?a=1&b=2> \x01\u2028 é", Meanings: []string{}}},
			Problems: []string{}, Notes: nil})
	}
	cases := []struct {
		name string
		doc  *Document
	}{
		{"fixture", NewDocument(fixtureView(t, true))},
		{"3000 targets", many},
		{"one target", &Document{Targets: many.Targets[:1]}},
		{"no target", &Document{Targets: []TargetDoc{}}},
		{"sources, no target", &Document{Targets: []TargetDoc{}, DMARC: many.DMARC}},
		{"no source", &Document{Targets: many.Targets[:2], DMARC: &DMARCDoc{Sources: []DMARCSourceDoc{}, Domains: []string{"example.com"}}}},
		{"nil sources", &Document{Targets: many.Targets[:2], DMARC: &DMARCDoc{}}},
		{"nil targets", &Document{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := encodeIndented(&want, c.doc, ""); err != nil {
				t.Fatal(err)
			}
			var got maxWriter
			if err := WriteJSON(&got, c.doc); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("streamed:\n%.2000s\nwhole:\n%.2000s", got.String(), want.String())
			}
			if want.Len() > 128<<10 && got.max > 64<<10 {
				t.Errorf("a write of %d bytes of a %d-byte document: not written a target at a time", got.max, want.Len())
			}
		})
	}
}

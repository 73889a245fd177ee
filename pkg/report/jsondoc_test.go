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

// TestWriteJSONStreamsTargets: a document is written one target at a time,
// byte for byte as encoding/json writes it whole (HTML characters, control
// bytes and non-ASCII text, empty and nil slices, the fixture's view), and no
// write holds the whole document. WriteJSON used to make one write of it all,
// after building it twice in memory.
func TestWriteJSONStreamsTargets(t *testing.T) {
	many := &Document{Schema: 1, Resolver: []string{"127.0.0.1:53"}, Warnings: []string{"<b>&</b>"},
		DMARC: &DMARCDoc{Sources: []DMARCSourceDoc{{IP: "192.0.2.1", Reporters: []string{"a&b"}}}, Unread: []dmarc.Unread{}}}
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

package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// targetsKey is how the Document's targets begin, indented as WriteJSON
// indents: at the top level, the only line that begins with two spaces and
// this key (a newline inside a string is written as \n, never as itself).
var targetsKey = []byte("\n  \"targets\": []")

// writeDocument writes d as WriteJSON does, byte for byte, one target at a
// time: encoding/json builds a value's whole text in memory, and then an
// indented copy of it, before it writes a byte, which for a run of a hundred
// thousand targets (blcheck dmarc of a large report, a sweep in JSON) was
// three or four times the document's size (800 MB of JSON: over 2 GB) beside
// the document itself. The rest of the document is written as it was.
func writeDocument(w io.Writer, d *Document) error {
	rest := *d
	rest.Targets = []TargetDoc{}
	var frame bytes.Buffer
	if err := encodeIndented(&frame, &rest, ""); err != nil {
		return err
	}
	i := bytes.Index(frame.Bytes(), targetsKey)
	if i < 0 || bytes.Contains(frame.Bytes()[i+1:], targetsKey[:len(targetsKey)-2]) {
		return errors.New("report: the JSON document's targets are not where they were expected")
	}
	open := i + len(targetsKey) - 1 // at the ']' of "[]"
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(frame.Bytes()[:open])
	var one bytes.Buffer
	for k := range d.Targets {
		one.Reset()
		if err := encodeIndented(&one, &d.Targets[k], "    "); err != nil {
			return err
		}
		if k > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		if _, err := bw.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n"))); err != nil {
			return err // a closed pipe, a full disk: the rest is not encoded
		}
	}
	bw.WriteString("\n  ")
	bw.Write(frame.Bytes()[open:])
	return bw.Flush()
}

// encodeIndented encodes v as WriteJSON does, every line after the first
// begun with prefix: how v reads nested in a document.
func encodeIndented(w io.Writer, v any, prefix string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	return enc.Encode(v)
}

package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// splice is a long array of a document written an element at a time: where
// the document, encoded with the array empty, holds it, and its elements.
type splice struct {
	// within is the line of the object that holds the array ("" for the
	// document), key the line of the empty array, both indented as WriteJSON
	// indents. Each is the first such line from where the search is: a line
	// that begins with a key at its depth's indentation is a key of the object
	// at that depth (a newline inside a string is written as \n, never as
	// itself), and the objects before it hold no such key.
	within, key string
	n           int
	item        func(int) any // a pointer to the element, as encoding/json reaches it in a slice
}

// targetsSplice and sourcesSplice are the Document's long arrays: the targets
// and the dmarc object's sources.
func targetsSplice(n int, item func(int) any) splice {
	return splice{key: "\n  \"targets\": []", n: n, item: item}
}

func sourcesSplice(n int, item func(int) any) splice {
	return splice{within: "\n  \"dmarc\": {", key: "\n    \"sources\": []", n: n, item: item}
}

// writeDocument writes frame, a document whose long arrays are empty, with
// their elements spliced in (in the order they come in the document), as
// WriteJSON writes the whole document, byte for byte, one element at a time:
// encoding/json builds a value's whole text in memory, and then an indented
// copy of it, before it writes a byte, which for a run of a hundred thousand
// targets (blcheck dmarc of a large report, a sweep in JSON) was three or four
// times the document's size (816 MB of JSON: over 2 GB) beside the document.
func writeDocument(w io.Writer, frame *Document, splices ...splice) error {
	var head bytes.Buffer
	if err := encodeIndented(&head, frame, ""); err != nil {
		return err
	}
	doc := head.Bytes()
	at := make([]int, len(splices)) // the ']' of each empty array
	from := 0
	for k, s := range splices {
		i := bytes.Index(doc[from:], []byte(s.within))
		j := -1
		if i >= 0 {
			j = bytes.Index(doc[from+i:], []byte(s.key))
		}
		if j < 0 {
			return errors.New("report: the JSON document's arrays are not where they were expected")
		}
		at[k] = from + i + j + len(s.key) - 1
		from = at[k]
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	from = 0
	for k, s := range splices {
		bw.Write(doc[from:at[k]])
		from = at[k]
		if err := writeElements(bw, s); err != nil {
			return err
		}
	}
	bw.Write(doc[from:])
	return bw.Flush()
}

// writeElements writes the elements of s's array, between its brackets.
func writeElements(bw *bufio.Writer, s splice) error {
	if s.n == 0 {
		return nil // "[]" as it stands
	}
	body := s.key[1:]
	outer := body[:len(body)-len(strings.TrimLeft(body, " "))] // the array's indentation
	inner := outer + "  "
	var one bytes.Buffer
	for k := range s.n {
		one.Reset()
		if err := encodeIndented(&one, s.item(k), inner); err != nil {
			return err
		}
		if k > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n" + inner)
		if _, err := bw.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n"))); err != nil {
			return err // a closed pipe, a full disk: the rest is not encoded
		}
	}
	bw.WriteString("\n" + outer)
	return nil
}

// encodeIndented encodes v as WriteJSON does, every line after the first
// begun with prefix: how v reads nested in a document.
func encodeIndented(w io.Writer, v any, prefix string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	return enc.Encode(v)
}

// writeLong writes d as WriteJSON does, its targets and its dmarc object's
// sources one at a time (d is not changed); target makes the n targets'.
func writeLong(w io.Writer, d *Document, n int, target func(int) any) error {
	frame := *d
	frame.Targets = []TargetDoc{}
	splices := []splice{targetsSplice(n, target)}
	if d.DMARC != nil && len(d.DMARC.Sources) > 0 {
		dm := *d.DMARC
		src := dm.Sources
		dm.Sources = []DMARCSourceDoc{}
		frame.DMARC = &dm
		splices = append(splices, sourcesSplice(len(src), func(i int) any { return &src[i] }))
	}
	return writeDocument(w, &frame, splices...)
}

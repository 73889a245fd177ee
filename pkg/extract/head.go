package extract

import (
	"bytes"
	"slices"
	"strings"
)

// maxHeadScan bounds how much of an input is looked at to decide whether it
// is a message, and to find its header's damaged lines.
const maxHeadScan = 64 << 10

// head is what the start of an input says about it as a message.
type head struct {
	skipped int   // blank or whitespace lines before the header
	lines   int   // lines of the header block (damaged ones included)
	damaged []int // lines (1-based, of the input) in the header block that are no header
	mbox    bool  // the first header line is an mbox "From " separator
	known   bool  // one of the headers every message has is there
	ended   bool  // a blank line ends the header block
}

// readHead reads the header block at the start of data the way a lenient mail
// reader does: blank and whitespace lines before it are skipped, an mbox
// "From " line is the envelope, and a line that is neither a header ("Name:
// value") nor the continuation of one (a damaged first line, a line broken off
// its header) is noted as damaged.
func readHead(data []byte) head {
	var h head
	data = data[:min(len(data), maxHeadScan)]
	n := 0
	for len(data) > 0 {
		var l []byte
		l, data = nextLine(data)
		n++
		l = bytes.TrimRight(l, "\r")
		blank := len(bytes.TrimSpace(l)) == 0
		switch {
		case blank && h.lines == 0:
			h.skipped++
		case len(l) == 0:
			h.ended = true
			return h
		case h.lines == 0 && bytes.HasPrefix(l, []byte("From ")):
			h.lines++
			h.mbox = true
		case (l[0] == ' ' || l[0] == '\t') && h.lines > len(h.damaged)+boolInt(h.mbox):
			h.lines++ // a continuation of the header before it
		case isHeaderLine(l):
			h.lines++
			switch strings.ToLower(string(l[:bytes.IndexByte(l, ':')])) {
			case "from", "received", "return-path", "mime-version", "message-id", "subject", "to", "date":
				h.known = true
			}
		default:
			h.lines++
			h.damaged = append(h.damaged, n)
		}
	}
	return h
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isHeaderLine reports whether l starts "Name:", a header field name being
// printable ASCII without spaces (RFC 5322 section 2.2).
func isHeaderLine(l []byte) bool {
	c := bytes.IndexByte(l, ':')
	if c <= 0 {
		return false
	}
	for _, b := range l[:c] {
		if b <= ' ' || b >= 0x7f {
			return false
		}
	}
	return true
}

// message reports whether the head is a message's: a header block ended by a
// blank line, with a header every message has, and few damaged lines (one, or
// a quarter of a header of four lines or more).
func (h head) message() bool {
	good := h.lines - len(h.damaged)
	if !h.ended || !h.known || good < 1 {
		return false
	}
	return len(h.damaged) == 0 || len(h.damaged) == 1 && good >= 2 || len(h.damaged)*4 <= h.lines
}

// placeholder stands for a line of the header that is no header, so that the
// message can be read as one and its lines keep their numbers.
const placeholder = "X-Blcheck-Unread:"

// repair returns data with the lines before its header and the damaged lines
// of its header replaced by placeholders (and the mbox "From " line, which is
// no header either), and the damaged lines as they were, by line.
func (h head) repair(data []byte) ([]byte, map[int]string) {
	if h.skipped == 0 && len(h.damaged) == 0 && !h.mbox {
		return data, nil
	}
	bad := map[int]string{}
	replace := map[int]bool{}
	for _, n := range h.damaged {
		replace[n] = true
	}
	for n := 1; n <= h.skipped; n++ {
		replace[n] = true
	}
	if h.mbox {
		replace[h.skipped+1] = true
	}
	out := make([]byte, 0, len(data)+len(replace)*len(placeholder))
	for n := 1; len(data) > 0 && n <= h.skipped+h.lines; n++ {
		var l []byte
		l, data = nextLine(data)
		if replace[n] {
			if slices.Contains(h.damaged, n) {
				bad[n] = string(l)
			}
			l = []byte(placeholder)
		}
		out = append(append(out, l...), '\n')
	}
	return append(out, data...), bad
}

// mboxMessage is one message of an mbox file, and the file line it starts at.
type mboxMessage struct {
	data []byte
	line int
}

// mboxMessages splits an mbox file into its messages: each starts with a
// "From " line at the start of the file or after a blank line, followed by a
// header line (mboxo and mboxrd alike; a body's own "From " is written
// ">From ", and one a writer left unescaped is followed by no header). Anything
// else is one message.
func mboxMessages(data []byte) []mboxMessage {
	h := readHead(data)
	if !h.mbox {
		return []mboxMessage{{data: data, line: 1}}
	}
	var out []mboxMessage
	start, startLine, line := 0, 1, 1
	blank := true // the line before is blank (or there is none)
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data) - off
		} else {
			end++
		}
		l := data[off : off+end]
		if blank && off > start && bytes.HasPrefix(l, []byte("From ")) && line > h.skipped+1 && headerNext(data[off+end:]) {
			out = append(out, mboxMessage{data: data[start:off], line: startLine})
			start, startLine = off, line
		}
		blank = len(bytes.TrimRight(l, "\r\n")) == 0
		off += end
	}
	return append(out, mboxMessage{data: data[start:], line: startLine})
}

// headerNext reports whether data begins with a header line: what follows an
// mbox separator, not a body's paragraph that begins "From ".
func headerNext(data []byte) bool {
	l, _ := nextLine(data)
	return isHeaderLine(bytes.TrimRight(l, "\r"))
}

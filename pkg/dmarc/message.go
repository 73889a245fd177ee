package dmarc

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// readMessage reads the reports an e-mail message carries: every part, at any
// depth of multipart, in base64, quoted-printable or plain, whatever its
// declared type (reporters label zips application/octet-stream, text/xml, ...).
func (r *Reader) readMessage(u *unit, in io.Reader, name string, depth int) error {
	msg, err := mail.ReadMessage(bufio.NewReader(in))
	if err != nil {
		return &NotReportError{File: name, Why: "not a DMARC aggregate report: its header does not read as an e-mail message's"}
	}
	before, unread := u.reports, len(r.unread)
	err = r.readPart(u, textproto.MIMEHeader(msg.Header), msg.Body, name, depth+1, 0)
	switch {
	case err != nil:
		return err
	case u.reports == before && len(r.unread) > unread:
		return nil // it carries a report that could not be read (truncated, corrupt): already in Unread
	case u.reports == before:
		return &NotReportError{File: name, Why: messageWhy(msg.Header.Get("Content-Type"))}
	}
	return nil
}

// messageWhy says what a message that carries no DMARC aggregate report is,
// by its type: the reports that come to the same mailboxes say what they are
// (RFC 6591's multipart/report of a feedback-report, RFC 8460's of a tlsrpt).
func messageWhy(ctype string) string {
	mt, params, _ := mime.ParseMediaType(ctype)
	if mt == "multipart/report" {
		switch strings.ToLower(params["report-type"]) {
		case "feedback-report":
			return "an e-mail message that carries a DMARC failure report (ruf=, RFC 6591: one message, " +
				"no addresses to add up), not an aggregate report (rua=)"
		case "tlsrpt":
			return "an e-mail message that carries an SMTP TLS report (RFC 8460), not a DMARC aggregate report"
		}
	}
	return "an e-mail message that carries no DMARC report"
}

// readPart reads one MIME entity: a multipart's parts, or a body. depth counts
// the layers of messages and archives around it (Limits.Nesting), nested the
// multiparts inside its message, which are no layer a report is wrapped in: a
// report forwarded as an attachment (message/rfc822) is in two messages, and
// each message's multipart/mixed is no more wrapping.
func (r *Reader) readPart(u *unit, h textproto.MIMEHeader, body io.Reader, name string, depth, nested int) error {
	if nested > maxMultipart {
		return fmt.Errorf("MIME parts nested deeper than %d", maxMultipart)
	}
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		return r.readMultipart(u, multipart.NewReader(body, params["boundary"]), name, depth, nested)
	}
	var dec io.Reader = body
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		dec = base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: body})
	case "quoted-printable":
		dec = quotedprintable.NewReader(body)
	}
	if fn := partName(h); fn != "" {
		name += ": " + fn
	}
	err := r.read(u, bufio.NewReaderSize(dec, 4096), name, depth, r.l.FileBytes)
	var nr *NotReportError
	if errors.As(err, &nr) {
		return nil // a text part, a logo: not every part is a report
	}
	if err != nil {
		r.unread = append(r.unread, Unread{File: name, Why: err.Error()})
	}
	return nil
}

func (r *Reader) readMultipart(u *unit, mr *multipart.Reader, name string, depth, nested int) error {
	for i := 0; ; i++ {
		if i >= r.l.Members {
			return fmt.Errorf("holds more than %d MIME parts: the rest were not read", r.l.Members)
		}
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if u.reports > 0 {
				return nil // the end of a message that lost its closing boundary
			}
			return fmt.Errorf("its MIME structure cannot be read: %v", err)
		}
		if err := r.readPart(u, p.Header, p, name, depth, nested+1); err != nil {
			return err
		}
	}
}

// maxMultipart is the deepest nesting of multiparts read in one message (a
// mail client's is 3: mixed, alternative, related).
const maxMultipart = 8

// partName is a part's file name, for messages about it.
func partName(h textproto.MIMEHeader) string {
	if _, p, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && p["filename"] != "" {
		return p["filename"]
	}
	if _, p, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil {
		return p["name"]
	}
	return ""
}

// base64Cleaner drops what base64.NewDecoder does not skip itself (it skips
// CR and LF): spaces and tabs some mailers leave at line ends.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	k := 0
	for _, b := range p[:n] {
		if b != ' ' && b != '\t' {
			p[k] = b
			k++
		}
	}
	if k == 0 && n > 0 && err == nil {
		return c.Read(p)
	}
	return k, err
}

// readMbox reads an mbox, message by message (each bounded by the file limit;
// the mbox itself may be larger). Messages that carry no report are counted
// in Result.Skipped; the mbox is a NotReportError only if none does.
func (r *Reader) readMbox(u *unit, br *bufio.Reader, name string, depth int) error {
	var msg bytes.Buffer
	n, over := 0, false
	flush := func() {
		if n == 0 {
			return
		}
		m := fmt.Sprintf("%s: message %d", name, n)
		switch {
		case over:
			r.unread = append(r.unread, Unread{File: m, Why: fmt.Sprintf("larger than %d MiB, the most blcheck reads of one message", r.l.FileBytes>>20)})
		default:
			mu := &unit{name: m, budget: 4 * r.l.ReportBytes}
			err := r.readMessage(mu, &msg, m, depth)
			u.reports += mu.reports
			var nr *NotReportError
			switch {
			case errors.As(err, &nr):
				r.skipped++
			case err != nil:
				r.unread = append(r.unread, Unread{File: m, Why: err.Error()})
			}
		}
		msg.Reset()
		over = false
	}
	for {
		line, err := readLine(br, &over)
		if bytes.HasPrefix(line, []byte("From ")) {
			flush()
			n++
			if n > r.l.Members {
				return fmt.Errorf("holds more than %d messages: the rest were not read", r.l.Members)
			}
		} else if !over && int64(msg.Len()+len(line)) <= r.l.FileBytes {
			msg.Write(line)
		} else {
			over = true
		}
		if err == io.EOF {
			flush()
			break
		}
		if err != nil {
			return err
		}
	}
	if u.reports == 0 {
		return &NotReportError{File: name, Why: "an mbox whose messages carry no DMARC report"}
	}
	return nil
}

// readLine returns one line with its end; a line longer than 1 MiB is cut
// (its rest dropped) and marks the message over its limit.
func readLine(br *bufio.Reader, over *bool) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return bytes.Clone(line), err
	}
	out := bytes.Clone(line)
	for err == bufio.ErrBufferFull {
		line, err = br.ReadSlice('\n')
		if len(out) < 1<<20 {
			out = append(out, line...)
		} else {
			*over = true
		}
	}
	return out, err
}

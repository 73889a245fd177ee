package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// appendCheck appends c as one JSON object, byte for byte what encoding/json
// writes for it (with HTML escaping off), without reflection: a bulk run writes
// tens of thousands of these a second. TestAppendCheckMatchesEncodingJSON and
// FuzzAppendCheck hold it to encoding/json's output.
func appendCheck(b []byte, c *CheckDoc) []byte {
	b = append(b, '{')
	if c.Target != "" {
		b = append(b, `"target":`...)
		b = appendString(b, c.Target)
		b = append(b, ',')
	}
	b = append(b, `"subject":`...)
	b = appendString(b, c.Subject)
	b = append(b, `,"list":`...)
	b = appendString(b, c.List)
	b = append(b, `,"zone":`...)
	b = appendString(b, c.Zone)
	b = append(b, `,"query":`...)
	b = appendString(b, c.Query)
	b = append(b, `,"status":`...)
	b = appendString(b, c.Status)
	b = append(b, `,"codes":`...)
	b = appendStrings(b, c.Codes)
	b = append(b, `,"meanings":`...)
	b = appendStrings(b, c.Meanings)
	b = append(b, `,"reason":`...)
	b = appendString(b, c.Reason)
	b = append(b, `,"delist_url":`...)
	b = appendString(b, c.DelistURL)
	if c.ListingURL != "" {
		b = append(b, `,"listing_url":`...)
		b = appendString(b, c.ListingURL)
	}
	if c.SameAs != "" {
		b = append(b, `,"same_as":`...)
		b = appendString(b, c.SameAs)
	}
	b = append(b, `,"rtt_ms":`...)
	b = strconv.AppendInt(b, c.RTTms, 10)
	b = append(b, `,"error":`...)
	b = appendString(b, c.Error)
	if c.Change != "" {
		b = append(b, `,"change":`...)
		b = appendString(b, c.Change)
	}
	if c.DuplicateOf != "" {
		b = append(b, `,"duplicate_of":`...)
		b = appendString(b, c.DuplicateOf)
	}
	if c.NotCounted != "" {
		b = append(b, `,"not_counted":`...)
		b = appendString(b, c.NotCounted)
	}
	if c.Asked != "" {
		b = append(b, `,"asked":`...)
		b = appendString(b, c.Asked)
	}
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendString writes s as a JSON string. Plain printable ASCII, which is nearly
// everything blcheck prints, is copied; anything else is left to encoding/json,
// so that control characters, invalid UTF-8 and U+2028/U+2029 are escaped exactly
// as it escapes them.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

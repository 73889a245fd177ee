package dmarc

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

// utf16Bytes is s in UTF-16, little or big endian, with a BOM when bom.
func utf16Bytes(s string, little, bom bool) string {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if little {
			out = append(out, byte(u), byte(u>>8))
		} else {
			out = append(out, byte(u>>8), byte(u))
		}
	}
	return string(out)
}

// TestEncodings: reports in the encodings their files are saved in. The
// reporter's name says whether the text was decoded as its declaration or
// byte order mark says, and decoded once.
func TestEncodings(t *testing.T) {
	report := func(decl, org string) string {
		return decl + "<feedback><report_metadata><org_name>" + org + "</org_name><report_id>1</report_id></report_metadata>" +
			"<record><row><source_ip>192.0.2.1</source_ip><count>2</count><policy_evaluated><dkim>pass</dkim></policy_evaluated></row></record></feedback>"
	}
	utf16Decl := `<?xml version="1.0" encoding="UTF-16"?>`
	tests := []struct{ name, data, org string }{
		{"ISO-8859-1", report(`<?xml version="1.0" encoding="ISO-8859-1"?>`, "R\xe9porter"), "Réporter"},
		{"windows-1252", report(`<?xml version='1.0' encoding='windows-1252'?>`, "\x93Quoted\x94 \x80"), "“Quoted” €"},
		{"UTF-8 declared", report(`<?xml version="1.0" encoding="utf-8"?>`, "Réporter"), "Réporter"},
		{"UTF-8 with a bad byte", report(`<?xml version="1.0" encoding="UTF-8"?>`, "R\x91porter"), "R\ufffdporter"},
		// .NET writes encoding="utf-16" into the UTF-8 it saves (a string's encoding)
		{"UTF-8 declared as UTF-16", report(utf16Decl, "Réporter"), "Réporter"},
		{"UTF-16LE with a BOM", utf16Bytes(report(utf16Decl, "Réporter"), true, true), "Réporter"},
		{"UTF-16BE with a BOM", utf16Bytes(report(utf16Decl, "Réporter"), false, true), "Réporter"},
		{"UTF-16LE without a BOM", utf16Bytes(report(utf16Decl, "Réporter"), true, false), "Réporter"},
		{"UTF-16LE without a declaration", utf16Bytes(report("", "Réporter"), true, true), "Réporter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(Limits{})
			if err := r.ReadStream(strings.NewReader(tt.data), tt.name); err != nil {
				t.Fatal(err)
			}
			res := r.Result()
			if len(res.Unread) > 0 || res.Reports != 1 || len(res.Sources) != 1 || res.Sources[0].Messages != 2 ||
				res.Sources[0].Passed != 2 || len(res.Reporters) != 1 || res.Reporters[0] != tt.org {
				t.Fatalf("unread %v, %d reports by %q, sources %+v: want one report by %q, 192.0.2.1 with 2 messages passing",
					res.Unread, res.Reports, res.Reporters, res.Sources, tt.org)
			}
		})
	}
}

// TestWrappedRoot: ikea.com's reports put <feedback> inside an <xs:schema>
// element that is never closed (parsedmarc's samples); a report is read where
// it is the first element in another, and a document whose root holds
// something else first is no report.
func TestWrappedRoot(t *testing.T) {
	rep := "<feedback><report_metadata><org_name>ikea.com</org_name></report_metadata>" +
		"<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>"
	schema := `<?xml version="1.0"?> <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://dmarc.org/dmarc-xml/0.1">` + "\n"
	for name, data := range map[string]string{
		"unclosed": schema + rep,
		"closed":   schema + rep + "\n</xs:schema>\n",
		"two":      schema + rep + rep + "</xs:schema>",
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(Limits{})
			if err := r.ReadStream(strings.NewReader(data), name); err != nil {
				t.Fatal(err)
			}
			res := r.Result()
			if len(res.Unread) > 0 || len(res.Sources) != 1 || res.Sources[0].Addr.String() != "192.0.2.1" ||
				len(res.Reporters) != 1 || res.Reporters[0] != "ikea.com" {
				t.Fatalf("unread %v, reporters %v, sources %+v: want ikea.com's source 192.0.2.1", res.Unread, res.Reporters, res.Sources)
			}
		})
	}
	for name, data := range map[string]string{
		"feedback second": "<doc><title>DMARC</title>" + rep + "</doc>",
		"feedback deeper": "<doc><body>" + rep + "</body></doc>",
		"no feedback":     "<doc><body>hi</body></doc>",
		"only a wrapper":  schema,
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(Limits{})
			var nr *NotReportError
			if err := r.ReadStream(strings.NewReader(data), name); !errors.As(err, &nr) {
				t.Fatalf("err %v, unread %v: want a NotReportError", err, r.Result().Unread)
			}
		})
	}
}

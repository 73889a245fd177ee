package extract

import (
	"strings"
	"testing"
)

// Parts gives bounce scan's reading of MIME: leaves decoded, charsets converted,
// damaged multiparts recovered, a returned message kept whole.
func TestParts(t *testing.T) {
	tests := []struct {
		name, ct, cte, body string
		want                []string // type: body
		unread              bool
	}{
		{"koi8-r base64", "text/plain; charset=koi8-r", "base64", "8NLP18XSy8E=", []string{"text/plain: Проверка"}, false},
		{"gb2312 qp", "text/plain; charset=gb2312", "quoted-printable", "=D3=CA=BC=FE", []string{"text/plain: 邮件"}, false},
		{"windows-1257", "text/plain; charset=windows-1257", "8bit", "Pasta kast\xEE", []string{"text/plain: Pasta kastī"}, false},
		{"report", `multipart/report; boundary="B"`, "",
			"--B\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nd=E9j=E0\n" +
				"--B\nContent-Type: message/delivery-status\n\nAction: failed\n" +
				"--B\nContent-Type: message/rfc822\n\nFrom: a@b.example\n\nhi\n--B--\n",
			[]string{"text/plain: déjà", "message/delivery-status: Action: failed", "message/rfc822: From: a@b.example\n\nhi"}, false},
		{"wrong boundary", `multipart/report; boundary="DECLARED"`, "",
			"--USED\nContent-Type: text/plain\n\nsaid: 550 no\n--USED--\n", []string{"text/plain: said: 550 no"}, false},
		{"bad base64", `multipart/mixed; boundary="B"`, "",
			"--B\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n--B--\n", nil, true},
	}
	for _, tt := range tests {
		parts, _, unread := Parts(tt.ct, tt.cte, []byte(tt.body), "the bounce")
		var got []string
		for _, p := range parts {
			got = append(got, p.Type+": "+strings.TrimSpace(string(p.Body)))
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || (len(unread) > 0) != tt.unread {
			t.Errorf("%s: got %q (unread %q), want %q", tt.name, got, unread, tt.want)
		}
	}
}

// FuzzParts: any entity is read without a panic, every leaf has a type, and
// what is handed over is bounded by the input.
func FuzzParts(f *testing.F) {
	f.Add(`multipart/report; boundary="B"`, "", []byte("--B\nContent-Type: message/delivery-status\n\nAction: failed\n--B--\n"))
	f.Add("text/plain; charset=koi8-r", "base64", []byte("8NLP18XSy8E="))
	f.Add(`multipart/mixed; boundary="DECLARED"`, "", []byte("--USED\nContent-Type: text/plain\n\nx\n--USED--\n"))
	f.Add("text/plain; charset=gb2312", "quoted-printable", []byte("=D3=CA=BC=FE"))
	f.Fuzz(func(t *testing.T, ct, cte string, body []byte) {
		if len(body) > 64<<10 {
			return
		}
		parts, _, _ := Parts(ct, cte, body, "fuzz")
		total := 0
		for _, p := range parts {
			if p.Type == "" {
				t.Fatalf("a leaf without a type: %+v", p)
			}
			total += len(p.Body)
		}
		if total > 4*len(body)+64 { // charset decoding may grow text, never without bound
			t.Fatalf("%d bytes of parts from %d of input", total, len(body))
		}
	})
}

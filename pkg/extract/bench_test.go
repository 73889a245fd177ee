package extract

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// newsletter2MB is an HTML newsletter of about 2 MB in the common ESP template
// style: nested tables, inline styles, tracked links, images, and text with
// bare domains and e-mail addresses.
func newsletter2MB() []byte {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><style>a.menu{color:#333} .btn{padding:4px}</style></head><body>\n")
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, `<table role="presentation" style="width:100%%;border-collapse:collapse"><tr><td style="padding:12px;font-family:Arial">`+
			`<a href="https://click.esp-example.com/ls/click?upn=%d&amp;url=https%%3A%%2F%%2Fshop%d.example.com%%2Fitem" class="btn">Buy</a>`+
			`<img src="https://cdn.example.net/img/%d.png" width="600" alt="">`+"\n"+
			`<p>Read more at news%d.example.org or write to help@example.org. Version 1.2.%d, see obj.method() for details.</p>`+
			"</td></tr></table>\n", i, i%500, i, i%300, i)
	}
	b.WriteString("</body></html>\n")
	return []byte(b.String())
}

// BenchmarkNewsletter2MB is the reading of a 2 MB newsletter, before any DNS.
func BenchmarkNewsletter2MB(b *testing.B) {
	data := newsletter2MB()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		got, err := File(bytes.NewReader(data), "newsletter.html")
		if err != nil || len(got.Items) == 0 {
			b.Fatal(err)
		}
	}
}

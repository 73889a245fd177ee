package catalog_test

import (
	"testing"

	blcheck "github.com/blcheck/blcheck"
	"github.com/blcheck/blcheck/pkg/catalog"
)

func BenchmarkParseEmbedded(b *testing.B) {
	for b.Loop() {
		if _, err := catalog.Parse(blcheck.ListsYAML, "lists.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

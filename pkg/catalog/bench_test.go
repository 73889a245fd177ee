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

// BenchmarkDefault is what every run pays for the built-in catalog (generated data).
func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		if c := catalog.Default(); len(c.Lists) == 0 {
			b.Fatal("empty catalog")
		}
	}
}

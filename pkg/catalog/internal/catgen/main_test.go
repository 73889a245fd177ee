package main

import (
	"bytes"
	"os"
	"testing"

	blcheck "github.com/blcheck/blcheck"
)

// The committed builtin_lists.go must be what catgen makes of the committed lists.yaml.
func TestGeneratedFileIsCurrent(t *testing.T) {
	want, err := Generate(blcheck.ListsYAML)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../builtin_lists.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("pkg/catalog/builtin_lists.go is stale: run `make generate` after editing lists.yaml")
	}
}

func TestGenerateRejectsABadCatalog(t *testing.T) {
	if _, err := Generate([]byte("- id: x\n")); err == nil {
		t.Fatal("Generate accepted an invalid catalog")
	}
}

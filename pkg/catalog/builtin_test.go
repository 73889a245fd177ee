package catalog

import (
	"bytes"
	"reflect"
	"testing"

	blcheck "github.com/blcheck/blcheck"
)

// The generated entries give exactly the catalog that parsing lists.yaml gives,
// down to the decoded codes and line numbers.
func TestBuiltinEqualsParsedYAML(t *testing.T) {
	parsed, err := Parse(blcheck.ListsYAML, builtinSource)
	if err != nil {
		t.Fatal(err)
	}
	built, err := assemble(fromBuiltin(), builtinSource, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(built.Lists) != len(parsed.Lists) {
		t.Fatalf("%d generated lists, %d in lists.yaml", len(built.Lists), len(parsed.Lists))
	}
	for i := range parsed.Lists {
		if !reflect.DeepEqual(built.Lists[i], parsed.Lists[i]) {
			t.Errorf("list %s: generated\n%+v\nparsed\n%+v", parsed.Lists[i].ID, *built.Lists[i], *parsed.Lists[i])
		}
	}
	if !reflect.DeepEqual(built, parsed) {
		t.Error("generated and parsed catalogs differ")
	}
}

// Each Default call gets its own Lists: changing one does not change the next.
func TestDefaultReturnsFreshLists(t *testing.T) {
	a := Default()
	a.Lists[0].Codes["127.9.9.9"] = "scribbled"
	a.Lists[0].Name = "scribbled"
	b := Default()
	if _, ok := b.Lists[0].Codes["127.9.9.9"]; ok || b.Lists[0].Name == "scribbled" {
		t.Fatal("Default shares entries between calls")
	}
}

// When lists.yaml no longer matches the generated data, Default parses the YAML.
func TestDefaultFollowsAnEditedYAML(t *testing.T) {
	orig := blcheck.ListsYAML
	t.Cleanup(func() { blcheck.ListsYAML = orig })
	blcheck.ListsYAML = bytes.Replace(orig, []byte("name: Spamhaus ZEN"), []byte("name: Spamhaus ZEN (edited)"), 1)
	if bytes.Equal(orig, blcheck.ListsYAML) {
		t.Fatal("test setup: the ZEN entry's name was not found in lists.yaml")
	}
	if got := Default().ByID("spamhaus-zen").Name; got != "Spamhaus ZEN (edited)" {
		t.Fatalf("Default used stale generated data: name %q", got)
	}
}

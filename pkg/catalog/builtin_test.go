package catalog

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
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

// The answers receivers read as refusals are refusals here, and codes no
// operator documents are gone (receivers' shipped configs: SpamAssassin
// 4.0.1's 25_dnswl.cf, rspamd's rbl.conf; Spamhaus's own zone tables).
func TestBuiltinAnswersAsReceiversReadThem(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		list, code string
		refusal    bool
		meaning    string // a part of the code's meaning; "" for none
	}{
		{"dnswl", "127.0.10.3", true, ""},
		{"dnswl", "127.0.3.255", true, ""},
		{"dnswl", "127.0.20.255", true, ""},
		{"dnswl", "127.0.0.255", true, ""},
		{"dnswl", "127.0.3.3", false, "e-mail service provider"},
		{"dnswl", "127.0.15.0", false, "e-mail marketing provider"},
		{"spamhaus-zen", "127.0.0.30", false, ""},
		{"spamhaus-dqs-zen", "127.0.0.30", false, ""},
		{"spamhaus-zen", "127.0.0.4", false, "XBL"},
		{"spamhaus-dqs-zrd", "127.0.2.5", false, "ends by itself 19 to 20 hours from now"},
	} {
		l := c.ByID(tc.list)
		a := netip.MustParseAddr(tc.code)
		_, refused := l.ErrorMeaning(a)
		m, _ := l.CodeMeaning(a)
		if refused != tc.refusal || tc.meaning == "" && m != "" || !strings.Contains(m, tc.meaning) {
			t.Errorf("%s %s: refusal %v, meaning %q", tc.list, tc.code, refused, m)
		}
	}
	if got := c.ByID("dronebl").DelistURL("192.0.2.7"); got != "https://dronebl.org/lookup?ip=192.0.2.7" {
		t.Errorf("DroneBL's page for the address: %s", got)
	}
	if !strings.Contains(c.ByID("senderscore").OffReason, "SpamAssassin 4.0.1 still queries it") {
		t.Error("senderscore's off reason")
	}
}

package dnsbl_test

import (
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]dnsbl.Shard{"": {}, "0/4": {Index: 0, Count: 4}, " 3 / 4 ": {Index: 3, Count: 4}} {
		if got, err := dnsbl.ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"4/4", "-1/2", "1", "a/b", "1/0"} {
		if _, err := dnsbl.ParseShard(in); err == nil {
			t.Errorf("ParseShard(%q): no error", in)
		}
	}
}

// The five Spamhaus IP zones of a /16 sweep add up to one operator's limit;
// a shard of four brings it under.
func TestOverLimit(t *testing.T) {
	cat := catalog.Default()
	lists, _, err := cat.Select(catalog.Selection{Only: []string{"spamhaus-zen", "spamhaus-sbl", "spamhaus-xbl",
		"spamhaus-pbl", "spamhaus-sbl-xbl", "spamcop"}, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	over := dnsbl.OverLimit(lists, dnsbl.Volume{V4: 65536}, dnsbl.Shard{})
	if len(over) != 1 || over[0].Operator != "The Spamhaus Project" || over[0].Queries != 5*65536 || len(over[0].Zones) != 5 {
		t.Fatalf("a /16 on five Spamhaus zones: %+v", over)
	}
	if over := dnsbl.OverLimit(lists, dnsbl.Volume{V4: 65536}, dnsbl.Shard{Index: 0, Count: 4}); len(over) != 0 {
		t.Errorf("a quarter of it: %+v", over)
	}
	if over := dnsbl.OverLimit(lists, dnsbl.Volume{V4: 100}, dnsbl.Shard{}); len(over) != 0 {
		t.Errorf("100 addresses: %+v", over)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// A resolver that gets Spamhaus's refusal for every Spamhaus name (what public
// resolvers get) is not a lying resolver: ZEN is blocked, and the other lists'
// verdicts stand, so a SpamCop listing still exits 1.
func TestRefusalIsNotARewritingResolver(t *testing.T) {
	srv := fakeWorld(t)
	srv.Wildcard("zen.spamhaus.org", "127.255.255.254")
	srv.List("bl.spamcop.net", "192.0.2.10", []string{"127.0.0.2"})
	got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop,psbl", "-o", "json")
	var doc struct {
		ResolverHealth *struct{} `json:"resolver_health"`
		Targets        []struct{ Checks []struct{ List, Status string } }
	}
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, c := range doc.Targets[0].Checks {
		status[c.List] = c.Status
	}
	if got.code != exitListed || doc.ResolverHealth != nil || status["spamhaus-zen"] != "blocked" || status["spamcop"] != "listed" {
		t.Errorf("exit %d, resolver_health %v, statuses %v\n%s", got.code, doc.ResolverHealth, status, got.err)
	}
	// a resolver that rewrites NXDOMAIN is still caught behind a refusing list
	srv.Wildcard("bl.spamcop.net", "198.51.100.200")
	if got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-l", "zen,spamcop,psbl"); got.code != exitIncomplete ||
		!strings.Contains(got.stdout, "invents answers") {
		t.Errorf("rewriting resolver behind a refusal: exit %d\n%s", got.code, got.stdout)
	}
}

// An answer with more than 32 A records is only partly read: an error, never a
// listing, even when an address past the 32nd would look like one.
func TestCappedAnswerIsNotAListing(t *testing.T) {
	srv := fakeWorld(t)
	var codes []string
	for i := 0; i < 32; i++ {
		codes = append(codes, fmt.Sprintf("127.0.0.%d", i+2))
	}
	codes = append(codes, "198.51.100.1") // past the 32nd: the answer is not a list's
	srv.List("bl.spamcop.net", "192.0.2.33", codes)
	got := runCLI(t, nil, "", "192.0.2.33", "-r", srv.Addr, "-l", "spamcop,psbl", "-o", "json")
	if got.code == exitListed || !strings.Contains(got.stdout, "more than 32 addresses") {
		t.Errorf("exit %d\n%s", got.code, got.stdout)
	}
}

// A domain whose MX host does not exist is said to be undeliverable through it,
// not silently clean.
func TestMissingMXHostIsANote(t *testing.T) {
	srv := fakeWorld(t)
	srv.A("nomx.test", "192.0.2.60")
	srv.MX("nomx.test", 10, "mx.gone.test")
	srv.MX("nomx.test", 20, "mx2.nomx.test")
	srv.RR("mx2.nomx.test. 60 IN TXT \"no address here\"")
	got := runCLI(t, nil, "", "nomx.test", "-r", srv.Addr, "-l", "spamcop,dbl")
	for _, want := range []string{
		"MX host mx.gone.test does not exist (NXDOMAIN): mail sent to nomx.test through it cannot be delivered, and nothing was checked for it",
		"MX host mx2.nomx.test has no A or AAAA record",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("missing %q (exit %d)\n%s", want, got.code, got.stdout)
		}
	}
	if got.code != exitClean {
		t.Errorf("a note is not a problem: exit %d", got.code)
	}
}

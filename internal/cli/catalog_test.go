package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// One XBL host, with ZEN and XBL both named: XBL's listing is ZEN's, so it is
// said once and counted once, in every format and in Nagios's thresholds.
func TestContainedListCountsOnce(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "Listed by XBL, see https://check.spamhaus.org/query/ip/192.0.2.10")
	srv.List("xbl.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"})
	srv.List("cbl.abuseat.org", "192.0.2.10", []string{"127.0.0.2"})
	args := []string{"192.0.2.10", "-r", srv.Addr, "-l", "zen,spamhaus-xbl,cbl,spamcop"}

	text := runCLI(t, nil, "", args...)
	if text.code != exitListed || !strings.Contains(text.stdout, "LISTED (1 listing)") ||
		strings.Count(text.stdout, "    LISTED ") != 1 ||
		!strings.Contains(text.stdout, "also listed on Spamhaus XBL (xbl.spamhaus.org), which Spamhaus ZEN contains") ||
		!strings.Contains(text.stdout, "reason, delist: Listed by XBL, see https://check.spamhaus.org/query/ip/192.0.2.10\n") ||
		strings.Count(text.stdout, "https://check.spamhaus.org/query/ip/192.0.2.10") != 1 ||
		!strings.Contains(text.stdout, "listed on 1 of 2") {
		t.Errorf("text: exit %d\n%s%s", text.code, text.stdout, text.err)
	}
	if !strings.Contains(text.err, `"cbl" names list cbl (cbl.abuseat.org); it is also a name of spamhaus-xbl`) {
		t.Errorf("an ambiguous list name must warn: %s", text.err)
	}

	var doc struct {
		Targets []struct {
			Checks []struct {
				List, Status string
				DuplicateOf  string `json:"duplicate_of"`
			}
		}
		Summary struct{ Listed, Duplicates int }
	}
	js := runCLI(t, nil, "", append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Listed != 1 || doc.Summary.Duplicates != 2 {
		t.Errorf("summary: %+v", doc.Summary)
	}
	dups := map[string]string{}
	for _, c := range doc.Targets[0].Checks {
		dups[c.List] = c.DuplicateOf
	}
	if dups["spamhaus-zen"] != "" || dups["spamhaus-xbl"] != "spamhaus-zen" || dups["cbl"] != "spamhaus-zen" {
		t.Errorf("duplicate_of: %v", dups)
	}

	jl := runCLI(t, nil, "", append(args, "-o", "jsonl")...)
	if strings.Count(jl.stdout, `"duplicate_of":"spamhaus-zen"`) != 2 {
		t.Errorf("jsonl:\n%s", jl.stdout)
	}

	ng := runCLI(t, nil, "", append(args, "-o", "nagios", "-w", "1", "-c", "2")...)
	if ng.code != 1 || !strings.HasPrefix(ng.stdout, "BLCHECK WARNING - 192.0.2.10 listed once on spamhaus-zen | listed=1;1;2") {
		t.Errorf("nagios: exit %d %s", ng.code, ng.stdout)
	}

	// a listing on XBL alone (ZEN clean) is a listing of its own
	srv.Unlist("zen.spamhaus.org", "192.0.2.10")
	alone := runCLI(t, nil, "", append(args, "-o", "json")...)
	doc.Summary.Listed, doc.Summary.Duplicates = 0, 0
	if err := json.Unmarshal([]byte(alone.stdout), &doc); err != nil || doc.Summary.Listed != 1 || doc.Summary.Duplicates != 1 {
		t.Errorf("XBL and CBL without ZEN: %+v %v", doc.Summary, err)
	}
}

// The default set is what a careful receiver queries: ZEN alone of Spamhaus's
// IP zones, so one XBL entry is one listing and -w 1 -c 2 says WARNING.
func TestDefaultsCountAnXBLEntryOnce(t *testing.T) {
	srv := fakeWorld(t)
	for _, z := range []string{"zen.spamhaus.org", "xbl.spamhaus.org", "sbl-xbl.spamhaus.org", "cbl.abuseat.org"} {
		srv.List(z, "192.0.2.10", []string{"127.0.0.4"})
	}
	got := runCLI(t, nil, "", "192.0.2.10", "-r", srv.Addr, "-o", "nagios", "-w", "1", "-c", "2")
	if got.code != 1 || !strings.HasPrefix(got.stdout, "BLCHECK WARNING - 192.0.2.10 listed once on spamhaus-zen") {
		t.Errorf("exit %d\n%s%s", got.code, got.stdout, got.err)
	}
}

// Free-use limits are per operator: five Spamhaus zones for a /16 are 327,680
// Spamhaus queries, one warning, though each zone alone stays under 300,000.
func TestVolumeWarningPerOperator(t *testing.T) {
	cat := catalog.Default()
	var lists []catalog.Selected
	for _, id := range []string{"spamhaus-zen", "spamhaus-xbl", "spamhaus-sbl", "spamhaus-pbl", "spamhaus-sbl-xbl", "spamcop"} {
		lists = append(lists, catalog.Selected{List: cat.ByID(id)})
	}
	sweep, err := dnsbl.ParseTarget("198.18.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	w := volumeWarnings(lists, fixedInput([]dnsbl.Target{sweep}), dnsbl.Shard{})
	if len(w) != 1 || !strings.Contains(w[0], "about 327680 queries to The Spamhaus Project") {
		t.Errorf("warnings: %q", w)
	}
	if w := volumeWarnings(lists[:1], fixedInput([]dnsbl.Target{sweep}), dnsbl.Shard{}); len(w) != 0 {
		t.Errorf("ZEN alone for a /16 is under the limit: %q", w)
	}
}

// An allowlist hit is information: reported, never a listing, exit 0.
func TestAllowlistHit(t *testing.T) {
	srv := fakeWorld(t)
	srv.List("list.dnswl.org", "192.0.2.20", []string{"127.0.2.3"})
	got := runCLI(t, nil, "", "192.0.2.20", "-r", srv.Addr, "-l", "dnswl,spamcop")
	if got.code != exitClean || !strings.Contains(got.stdout, "ALLOWLISTED DNSWL.org allowlist") ||
		!strings.Contains(got.stdout, "sector: financial services") || !strings.Contains(got.stdout, "trust: high") {
		t.Errorf("exit %d\n%s%s", got.code, got.stdout, got.err)
	}
	var doc struct {
		Targets []struct {
			Checks []struct{ List, Status string }
		}
		Summary struct {
			Listed, Allowlisted int
			ExitCode            int `json:"exit_code"`
		}
	}
	js := runCLI(t, nil, "", "192.0.2.20", "-r", srv.Addr, "-l", "dnswl,spamcop", "-o", "json")
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Listed != 0 || doc.Summary.Allowlisted != 1 || doc.Summary.ExitCode != 0 || js.code != 0 {
		t.Errorf("json: exit %d %+v", js.code, doc.Summary)
	}
	ng := runCLI(t, nil, "", "192.0.2.20", "-r", srv.Addr, "-l", "dnswl,spamcop", "-o", "nagios")
	if ng.code != 0 || !strings.HasPrefix(ng.stdout, "BLCHECK OK") {
		t.Errorf("nagios: exit %d %s", ng.code, ng.stdout)
	}
	// an allowlist that answers is no proof that the blacklists were asked
	srv.AddFault(dnsbltest.Fault{Suffix: "bl.spamcop.net", Kind: dnsbltest.ServFail})
	if got := runCLI(t, nil, "", "192.0.2.20", "-r", srv.Addr, "-l", "dnswl,spamcop", "--retries", "0"); got.code != exitIncomplete {
		t.Errorf("spamcop failed, dnswl answered: exit %d, want %d\n%s", got.code, exitIncomplete, got.stdout)
	}
}

// `blcheck lists` says in words why each list that is off by default is off,
// and gives the free-use limits per operator.
func TestListsExplainsOffDefaults(t *testing.T) {
	got := runCLI(t, nil, "", "lists")
	for _, want := range []string{
		"Off by default (choose one with -l ID):",
		"senderscore       every resolver that is not registered with a Validity account",
		"uceprotect-2      lists whole provider allocations by design",
		"spamhaus-xbl      contained in Spamhaus ZEN",
		"dnswl             an allowlist",
		"The Spamhaus Project: 300000 queries a day",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("lists lacks %q:\n%s", want, got.stdout)
		}
	}
}

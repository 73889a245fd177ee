package bounce

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
)

// label is what a person read in one bounce of the corpus: the lists the
// receiver named, the client address the rejection names (or the returned
// message's first external hop), the provider whose own list refused it, whether
// it was about reverse DNS, the domains it names, and its reply code. A negative
// (user unknown, mailbox full, content, auto-reply) has no lists and no provider.
type label struct {
	Found    bool     `json:"found"`
	Lists    []string `json:"lists"`
	IP       string   `json:"ip"`
	Provider string   `json:"provider"` // the start of Provider.Name
	RDNS     bool     `json:"rdns"`
	Named    []string `json:"named"`
	Code     string   `json:"code"`
	// Cause is the kind of cause a person reads in it (Classify's kinds)
	Cause string `json:"cause,omitempty"`
	Note  string `json:"note,omitempty"` // what the fixture stands for, for people
}

// read is what blcheck reads in a bounce, in the labels' terms.
func read(t testing.TB, data []byte) label {
	t.Helper()
	rep, err := Parse(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	got := label{Found: rep.Found, Lists: []string{}, Named: rep.NamedDomains, Code: rep.Code, RDNS: rep.AboutReverseDNS()}
	if got.Named == nil {
		got.Named = []string{}
	}
	cat := catalog.Default()
	hinted := HintedLists(rep, cat, rep.Said())
	for _, l := range hinted { // the lists to check
		got.Lists = append(got.Lists, l.ID)
	}
	for _, h := range rep.Hints { // and the dead ones named, which are said, not checked
		if l := cat.ByID(h.List); l != nil && l.Dead() && !slices.Contains(got.Lists, l.ID) {
			got.Lists = append(got.Lists, l.ID)
		}
	}
	sort.Strings(got.Lists)
	if len(rep.SenderIPs) > 0 {
		got.IP = rep.SenderIPs[0]
	}
	if p := DetectProvider(rep, ""); p != nil {
		got.Provider = p.Name
		rep.Provider = p
	}
	got.Cause = Classify(rep, hinted).Kind
	return got
}

// TestCorpus reads every bounce of testdata/corpus and compares what it reads
// with testdata/corpus/labels.json, field by field; it prints the score.
// Fixtures are real bounces' wordings (public corpora and what MTAs and
// providers document), anonymised into documentation addresses and domains.
func TestCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus", "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels map[string]label
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*"))
	right, total := 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		if name == "labels.json" {
			continue
		}
		total++
		want, ok := labels[name]
		if !ok {
			t.Errorf("%s has no label", name)
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := read(t, data)
		var wrong []string
		check := func(field string, ok bool, g, w any) {
			if !ok {
				wrong = append(wrong, fmt.Sprintf("%s %v, want %v", field, g, w))
			}
		}
		check("found", got.Found == want.Found, got.Found, want.Found)
		check("lists", slices.Equal(got.Lists, nonNilSorted(want.Lists)), got.Lists, want.Lists)
		check("ip", got.IP == want.IP, got.IP, want.IP)
		check("provider", strings.HasPrefix(got.Provider, want.Provider) && (want.Provider != "" || got.Provider == ""), got.Provider, want.Provider)
		check("rdns", got.RDNS == want.RDNS, got.RDNS, want.RDNS)
		check("named", slices.Equal(got.Named, nonNilSorted(want.Named)), got.Named, want.Named)
		check("code", got.Code == want.Code, got.Code, want.Code)
		check("cause", got.Cause == want.Cause, got.Cause, want.Cause)
		if len(wrong) > 0 {
			t.Errorf("%s (%s): %s", name, want.Note, strings.Join(wrong, "; "))
			continue
		}
		right++
	}
	for name := range labels {
		if _, err := os.Stat(filepath.Join("testdata", "corpus", name)); err != nil {
			t.Errorf("label for a missing fixture %s", name)
		}
	}
	t.Logf("bounce corpus: %d of %d read right (%.0f%%)", right, total, 100*float64(right)/float64(max(total, 1)))
	if os.Getenv("BLCHECK_CORPUS_DUMP") != "" {
		for _, path := range files {
			if data, err := os.ReadFile(path); err == nil && !strings.HasSuffix(path, ".json") {
				b, _ := json.Marshal(read(t, data))
				fmt.Printf("%q: %s,\n", filepath.Base(path), b)
			}
		}
	}
}

func nonNilSorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// A list named only by its operator's name, for a domain listing, is said as
// the operator's domain list, never as a dead list.
func TestDomainListingHintNamesTheDomainList(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", "dbl-mailfrom.eml"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Parse(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	HintedLists(rep, catalog.Default(), rep.Said())
	for _, h := range rep.Hints {
		if h.List != "spamhaus-dbl" {
			t.Errorf("hint %+v, want it to name spamhaus-dbl", h)
		}
	}
}

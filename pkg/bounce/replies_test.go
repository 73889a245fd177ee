package bounce

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestReplies reads real one-line replies (testdata/replies/*.txt, a reply a
// line, # comments) and compares what blcheck reads in each, its cause, the
// sending addresses, the lists named (and zones it cannot ask), the domains
// named and the provider, with the golden file beside them (-update rewrites
// it): a change in how any of them reads shows in review.
func TestReplies(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "replies", "*.txt"))
	if len(files) == 0 {
		t.Fatal("no replies")
	}
	cat := catalog.Default()
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			rep := ParseBytes([]byte(line + "\n"))
			hinted := HintedLists(rep, cat, rep.Said())
			rep.Provider = DetectProvider(rep, "")
			var lists []string
			for _, l := range hinted {
				lists = append(lists, l.ID)
			}
			for _, h := range rep.Hints {
				switch {
				case h.List == "":
					lists = append(lists, "?"+h.Text) // a zone no catalog list holds
				case !slices.Contains(lists, h.List):
					lists = append(lists, "dead:"+h.List) // named, no longer working: said, not asked
				}
			}
			provider := ""
			if rep.Provider != nil {
				provider = strings.Fields(rep.Provider.Name)[0]
			}
			fmt.Fprintf(&out, "%s\n  found=%v cause=%s ips=%s lists=%s named=%s provider=%s\n", line, rep.Found,
				Classify(rep, hinted).Kind, strings.Join(rep.SenderIPs, ","), strings.Join(lists, ","),
				strings.Join(rep.NamedDomains, ","), provider)
		}
		golden := strings.TrimSuffix(file, ".txt") + ".golden"
		if *update {
			if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -run TestReplies -update)", err)
		}
		if got := out.String(); got != string(want) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Errorf("%s line %d:\n got %s\nwant %s", golden, i+1, gl[i], wl[i])
				}
			}
			if len(gl) != len(wl) {
				t.Errorf("%s: %d lines, want %d", golden, len(gl), len(wl))
			}
		}
	}
}

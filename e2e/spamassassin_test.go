package e2e

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// knownDifferences are names SpamAssassin takes from the fixtures and blcheck
// deliberately does not, with the reason, keyed by the name or by "file name"
// for one message; anything else SpamAssassin looks up and blcheck does not
// check fails the test.
var knownDifferences = map[string]string{
	"readme.md":  "a file name: blcheck takes no bare name ending in a file extension TLD (README.md, setup.py)",
	"charent.pm": "a file name: a Perl module (MHonArc's CharEnt.pm), as Main.pm is",
	"mailgun-click-gmail.eml images.com": "a relative path (src='images/icon/logo.png'), " +
		"which SpamAssassin reads as the bare word images and makes www.images.com of",
	"mailgun-click-gmail.eml www.images.com": "the same relative path",
}

// minRecall is the share of the names SpamAssassin looks up that blcheck must
// check, over all fixtures, known differences counted as misses: any other
// miss fails the test by itself, so this bounds the deliberate differences
// (2 file names and the 2 names SpamAssassin makes of one relative path, of
// 231 names in 151 messages).
const minRecall = 0.98

// The differential test against SpamAssassin: on every fixture message, each
// host and registered domain SpamAssassin's URI extraction finds (what its
// URIDNSBL rules look up) must be checked by blcheck scan, as a target, a
// domain subject or a host-name subject, and so must the address of every
// relay of its Received headers that SpamAssassin does not trust (what its
// RCVD_IN_* rules look up). Nothing is looked up on the internet:
// SpamAssassin runs local tests only, blcheck asks rbldnsd on loopback.
func TestSpamAssassinParity(t *testing.T) {
	if _, err := exec.LookPath("spamassassin"); err != nil {
		need(t, "spamassassin", "spamassassin") // fails under CI=true, skips elsewhere
	}
	w := startWorld(t)
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "messages", "*.eml"))
	more, _ := filepath.Glob(filepath.Join("testdata", "messages", "*", "*.eml"))
	fixtures = append(fixtures, more...)
	if len(fixtures) == 0 {
		t.Fatal("no fixture messages")
	}
	cmd := exec.Command("perl", append([]string{filepath.Join("testdata", "sa-uris.pl")}, fixtures...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "SA_STATE_DIR=" + t.TempDir()}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sa-uris.pl: %v", err)
	}
	sa := map[string]map[string]bool{}     // file -> names SpamAssassin looks up
	relays := map[string]map[string]bool{} // file -> addresses of relays it looks up
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 3 && f[1] == "#relay" {
			if a, err := netip.ParseAddr(f[2]); err == nil && !a.Unmap().IsLoopback() && !a.Unmap().IsPrivate() {
				if relays[f[0]] == nil {
					relays[f[0]] = map[string]bool{}
				}
				relays[f[0]][a.Unmap().String()] = true
			}
			continue
		}
		if len(f) < 3 {
			continue
		}
		if sa[f[0]] == nil {
			sa[f[0]] = map[string]bool{}
		}
		sa[f[0]][strings.ToLower(f[1])] = true // the host (DBL and SURBL are asked for it: notrim)
		sa[f[0]][strings.ToLower(f[2])] = true // its registered domain
	}
	total, found, relayTotal, relayFound := 0, 0, 0, 0
	for _, file := range fixtures {
		r := blcheck(t, "scan", file, "-r", w.addr, "-l", "dbl,surbl,zen", "--ns=false", "-o", "json", "--timeout", "1s")
		var doc struct {
			Targets []struct {
				Input    string `json:"input"`
				Subjects []struct {
					Subject string `json:"subject"`
				} `json:"subjects"`
			} `json:"targets"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("%s: exit %d, not JSON: %v\n%s", file, r.code, err, r.stderr)
		}
		checked := map[string]bool{}
		for _, tg := range doc.Targets {
			checked[strings.ToLower(tg.Input)] = true
			for _, s := range tg.Subjects {
				checked[strings.ToLower(s.Subject)] = true
			}
		}
		var missing, extra []string
		for addr := range relays[file] {
			relayTotal++
			if checked[addr] {
				relayFound++
				continue
			}
			missing = append(missing, "relay "+addr)
		}
		for name := range sa[file] {
			total++
			if checked[name] {
				found++
				continue
			}
			if knownDifferences[name] == "" && knownDifferences[filepath.Base(file)+" "+name] == "" {
				missing = append(missing, name)
			}
		}
		for name := range checked {
			if !sa[file][name] && !relays[file][name] {
				extra = append(extra, name)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			t.Errorf("%s: SpamAssassin looks up %v, which blcheck scan does not check", file, missing)
		}
		t.Logf("%s: SpamAssassin %d names and %d relays, blcheck %d; blcheck checks beyond it: %v",
			filepath.Base(file), len(sa[file]), len(relays[file]), len(checked), extra)
	}
	t.Logf("relays: blcheck checks %d of the %d relay addresses SpamAssassin looks up", relayFound, relayTotal)
	if os.Getenv("CI") == "true" && relayTotal == 0 {
		t.Fatal("SpamAssassin found no relay in the fixtures: its Received parsing did not run")
	}
	if total > 0 {
		recall := float64(found) / float64(total)
		t.Logf("recall: blcheck checks %d of the %d names SpamAssassin looks up in %d messages (%.1f%%)", found, total, len(fixtures), 100*recall)
		if recall < minRecall {
			t.Errorf("recall %.3f, want at least %.2f", recall, minRecall)
		}
	}
	if os.Getenv("CI") == "true" && len(sa) == 0 {
		t.Fatal("SpamAssassin found nothing in the fixtures: its extraction did not run")
	}
}

package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

func check(subject, list string, status dnsbl.Status) dnsbl.Check {
	return dnsbl.Check{Subject: subject, List: list, Status: status}
}

func TestChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	run := func(checks []dnsbl.Check, health dnsbl.HealthState) ([]string, string, string) {
		s, warn, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var got []string
		for _, c := range checks {
			got = append(got, s.Check(c))
		}
		lc := s.List("zen", dnsbl.Health{State: health})
		s.Keep()
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		return got, lc, warn
	}
	got, lc, warn := run([]dnsbl.Check{check("192.0.2.1", "zen", dnsbl.Listed), check("192.0.2.2", "zen", dnsbl.Clean)}, dnsbl.HealthOK)
	if strings.Join(got, ",") != "new-listing,unchanged" || lc != "" || !strings.Contains(warn, "does not exist yet") {
		t.Errorf("first run: %v %q %q", got, lc, warn)
	}
	got, lc, warn = run([]dnsbl.Check{check("192.0.2.1", "zen", dnsbl.Listed), check("192.0.2.2", "zen", dnsbl.Listed)}, dnsbl.HealthListsEverything)
	if strings.Join(got, ",") != "still-listed,new-listing" || lc != ListFailing || warn != "" {
		t.Errorf("second run: %v %q %q", got, lc, warn)
	}
	// a timeout teaches nothing: the listing is kept, and not reported as delisted
	got, lc, _ = run([]dnsbl.Check{check("192.0.2.1", "zen", dnsbl.Error), check("192.0.2.2", "zen", dnsbl.Clean)}, dnsbl.HealthOK)
	if strings.Join(got, ",") != "unknown,delisted" || lc != ListRecover {
		t.Errorf("third run: %v %q", got, lc)
	}
	got, _, _ = run([]dnsbl.Check{check("192.0.2.1", "zen", dnsbl.Listed)}, dnsbl.HealthOK)
	if got[0] != "still-listed" {
		t.Errorf("the listing kept through the timeout: %v", got)
	}
	matches, _ := filepath.Glob(path + ".tmp-*")
	if len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

func TestCorruptAndLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	os.WriteFile(path, []byte("{not json"), 0o644)
	s, warn, err := Open(path)
	if err != nil || !strings.Contains(warn, "corrupt") {
		t.Fatalf("corrupt: %v %q", err, warn)
	}
	if got := s.Check(check("192.0.2.1", "zen", dnsbl.Listed)); got != NewListing {
		t.Errorf("fresh start: %s", got)
	}
	old := LockTimeout
	LockTimeout = 200 * time.Millisecond
	defer func() { LockTimeout = old }()
	if _, _, err := Open(path); err == nil || !strings.Contains(err.Error(), "another blcheck run") {
		t.Errorf("a second run must not get the lock: %v", err)
	}
	s.Close()
	s2, _, err := Open(path)
	if err != nil {
		t.Fatalf("after the first run ends, the lock is free: %v", err)
	}
	s2.Close()
}

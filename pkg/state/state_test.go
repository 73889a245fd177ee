package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

func check(subject, list string, status dnsbl.Status) dnsbl.Check {
	return dnsbl.Check{Subject: subject, List: &catalog.List{ID: list}, Status: status}
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
		lc := s.List("zen", dnsbl.Health{State: health}, false)
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

func TestEmptyAndLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	os.WriteFile(path, nil, 0o644) // an empty file is a fresh start
	s, _, err := Open(path)
	if err != nil {
		t.Fatalf("empty: %v", err)
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

// Nothing a user owns is overwritten, and nothing that is not a regular file is
// read: each bad path is a *PathError (the CLI's exit 2) before anything else.
func TestPathsThatAreNotStateFiles(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	servers := mk("servers.txt", "192.0.2.1\n192.0.2.2\n")
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(mk("real.json", `{"schema":1,"checks":{}}`), link); err != nil {
		t.Fatal(err)
	}
	lockLinked := mk("locked.json", "")
	if err := os.Symlink(servers, lockLinked+".lock"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
	}{
		{servers, "is not a blcheck state file"},
		{mk("other.json", `{"name":"x"}`), "is not a blcheck state file"},
		{mk("v2.json", `{"schema":2,"checks":{}}`), "of another version"},
		{link, "is a symbolic link"},
		{lockLinked, "locked.json.lock: is a symbolic link"},
		{dir, "is a directory"},
		{filepath.Join(dir, "missing", "state.json"), "its directory cannot be written"},
	}
	for _, p := range specialFiles(t, dir) {
		tests = append(tests, struct{ path, want string }{p, "is not a regular file"})
	}
	read := func(p string) string { // regular files only: opening a FIFO would wait for a writer
		if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
			return ""
		}
		b, _ := os.ReadFile(p)
		return string(b)
	}
	for _, tc := range tests {
		before := read(tc.path)
		s, _, err := Open(tc.path)
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a PathError saying %q", tc.path, err, tc.want)
		}
		if s != nil {
			s.Close()
		}
		if after := read(tc.path); after != before {
			t.Errorf("%s was changed", tc.path)
		}
		if _, err := os.Lstat(tc.path + ".lock"); err == nil && tc.path != lockLinked {
			t.Errorf("%s.lock was left beside a refused file", tc.path)
		}
	}
	if got, _ := os.ReadFile(servers); string(got) != "192.0.2.1\n192.0.2.2\n" {
		t.Errorf("servers.txt changed: %q", got)
	}
}

// A list whose every query failed in a run is failing, though its health probe
// passed (or only failed to answer): the cron job hears of it, and of its return.
func TestEveryQueryFailedIsFailing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	run := func(h dnsbl.HealthState, allFailed bool) string { return listRun(t, path, h, allFailed) }
	for i, step := range []struct {
		h         dnsbl.HealthState
		allFailed bool
		want      string
	}{
		{dnsbl.HealthOK, false, ""},
		{dnsbl.HealthNoAnswer, true, ListFailing},
		{dnsbl.HealthOK, true, ""}, // still failing: said once
		{dnsbl.HealthOK, false, ListRecover},
	} {
		if got := run(step.h, step.allFailed); got != step.want {
			t.Errorf("run %d (%s, every query failed %v): %q, want %q", i+1, step.h, step.allFailed, got, step.want)
		}
	}
}

// A run that asked nothing of a list (unused) says nothing of it: a failing
// list is not "recovered" by a run of domains, and is when a run asks it again
// and it answers.
func TestUnusedListKeepsItsRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	run := func(h dnsbl.HealthState) string { return listRun(t, path, h, false) }
	for i, step := range []struct {
		h    dnsbl.HealthState
		want string
	}{
		{dnsbl.HealthBlocked, ListFailing},
		{dnsbl.HealthUnused, ""},
		{dnsbl.HealthUnused, ""},
		{dnsbl.HealthOK, ListRecover},
	} {
		if got := run(step.h); got != step.want {
			t.Errorf("run %d (%s): %q, want %q", i+1, step.h, got, step.want)
		}
	}
}

// A run stopped before a list's test points were answered (interrupted) says
// nothing of the list: a failing list is not "recovered" by Ctrl-C or a
// deadline, and a healthy one is not made failing; a list whose every query
// failed before the stop is still failing.
func TestInterruptedListKeepsItsRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	for i, step := range []struct {
		h         dnsbl.HealthState
		allFailed bool
		want      string
	}{
		{dnsbl.HealthBlocked, false, ListFailing},
		{dnsbl.HealthInterrupted, false, ""},
		{dnsbl.HealthInterrupted, false, ""},
		{dnsbl.HealthOK, false, ListRecover},
		{dnsbl.HealthInterrupted, false, ""},
		{dnsbl.HealthInterrupted, true, ListFailing},
	} {
		if got := listRun(t, path, step.h, step.allFailed); got != step.want {
			t.Errorf("run %d (%s, every query failed %v): %q, want %q", i+1, step.h, step.allFailed, got, step.want)
		}
	}
}

// Two runs that start a new state file at once keep each other's records: the
// second decides whether the file is new once it holds the lock, after the
// first has saved.
func TestConcurrentNewState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	var once sync.Once
	lockBusy = func() { once.Do(func() { close(waiting) }) }
	defer func() { lockBusy = nil }()
	type opened struct {
		s   *Store
		err error
	}
	second := make(chan opened, 1)
	go func() {
		s, _, err := Open(path) // finds no file, then waits for the lock
		second <- opened{s, err}
	}()
	<-waiting
	first.Check(check("192.0.2.1", "zen", dnsbl.Listed))
	first.Keep()
	if err := first.Save(); err != nil {
		t.Fatal(err)
	}
	first.Close()
	o := <-second
	if o.err != nil {
		t.Fatal(o.err)
	}
	o.s.Check(check("192.0.2.2", "zen", dnsbl.Listed))
	o.s.Keep()
	if err := o.s.Save(); err != nil {
		t.Fatal(err)
	}
	o.s.Close()
	last, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer last.Close()
	for _, subject := range []string{"192.0.2.1", "192.0.2.2"} {
		if _, ok := last.prev.Checks[key(subject, "zen")]; !ok {
			t.Errorf("the record of %s was lost (kept: %v)", subject, last.prev.Checks)
		}
	}
}

func TestKnown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Known("192.0.2.1") {
		t.Error("a new state file: nothing is new")
	}
	s.Check(check("192.0.2.1", "zen", dnsbl.Clean))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, _, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Known("192.0.2.1") || s.Known("192.0.2.2") || s.Known("192.0.2.") {
		t.Errorf("Known: 192.0.2.1 %v, 192.0.2.2 %v", s.Known("192.0.2.1"), s.Known("192.0.2.2"))
	}
}

// listRun is one run that records spamcop's health in the state at path, as
// blcheck does (List, Keep, Save), and returns the change it reports.
func listRun(t *testing.T, path string, h dnsbl.HealthState, allFailed bool) string {
	t.Helper()
	s, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch := s.List("spamcop", dnsbl.Health{State: h}, allFailed)
	s.Keep()
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return ch
}

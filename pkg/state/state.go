// Package state remembers a run's results between runs (the CLI's --state), so that
// a cron job can report what changed: new listings, delistings, and lists that
// became unreliable or recovered. The file is written atomically and locked
// against a concurrent run; a missing or empty file is a fresh start, and
// anything that is not a blcheck state file is refused, never overwritten.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// Change values, set on checks and lists (JSON "change").
const (
	NewListing  = "new-listing"
	StillListed = "still-listed"
	Delisted    = "delisted"
	Unchanged   = "unchanged"
	Unknown     = "unknown" // not answered this run: the previous result is kept
	ListFailing = "list-failing"
	ListRecover = "list-recovered"
)

// Record is the last known result of one (subject, list) pair.
type Record struct {
	Status string    `json:"status"`
	Codes  []string  `json:"codes,omitempty"`
	Since  time.Time `json:"since"`
}

type file struct {
	Schema  int               `json:"schema"`
	Updated time.Time         `json:"updated"`
	Checks  map[string]Record `json:"checks"`
	Lists   map[string]string `json:"lists"`
}

// Store is an open state file.
type Store struct {
	path string
	lock *os.File
	prev file
	next file
	now  time.Time
	// subjects of the previous run, for Known (built when first asked)
	subjects map[string]bool
}

// LockTimeout is how long Open waits for a concurrent run to finish.
var LockTimeout = 30 * time.Second

// lockBusy, when set (by tests), is called each time Open finds the lock held.
var lockBusy func()

// MaxSize bounds what is read of a state file (a /16 sweep's state is some tens
// of MiB).
const MaxSize = 256 << 20

// PathError is a state path that blcheck will not use: not a regular file, not
// a blcheck state file, or in a directory it cannot write. Nothing was queried
// or written; the user fixes the path (exit 2).
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string { return fmt.Sprintf("state file %s: %s", e.Path, e.Reason) }

// Open checks path, locks it and reads the previous state. The path must be
// absent, empty, or a blcheck state file (by its content) that is a regular
// file: anything else (a typo naming a user's file, a device, a FIFO, a
// symbolic link) is a *PathError, so that nothing a user owns is overwritten.
// The directory must be writable, which is checked now, before any query.
func Open(path string) (*Store, string, error) {
	s := &Store{path: path, now: time.Now().UTC()}
	if _, err := regularOrAbsent(path); err != nil {
		return nil, "", err
	}
	if err := writable(filepath.Dir(path)); err != nil {
		return nil, "", &PathError{path, fmt.Sprintf("its directory cannot be written (%v)", err)}
	}
	lockPath := path + ".lock"
	lockExisted, err := regularOrAbsent(lockPath)
	if err != nil {
		return nil, "", err
	}
	lock, err := openNoFollow(lockPath)
	if err != nil {
		return nil, "", &PathError{path, fmt.Sprintf("cannot create the lock file %s: %v", lockPath, err)}
	}
	deadline := time.Now().Add(LockTimeout)
	for {
		busy, err := tryLock(lock)
		if err == nil && !busy {
			break
		}
		if err != nil || time.Now().After(deadline) {
			lock.Close()
			if err != nil {
				return nil, "", fmt.Errorf("cannot lock %s: %v", lockPath, err)
			}
			return nil, "", fmt.Errorf("another blcheck run holds %s (waited %v)", lockPath, LockTimeout)
		}
		if lockBusy != nil {
			lockBusy()
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.lock = lock
	// whether the file is new is decided under the lock: a run that held it may
	// have just made it (two runs starting a new state lost each other's records)
	exists, err := regularOrAbsent(path)
	if err != nil {
		s.Close()
		return nil, "", err
	}
	s.next = file{Schema: 1, Checks: map[string]Record{}, Lists: map[string]string{}}
	warning := ""
	if !exists {
		warning = fmt.Sprintf("state file %s does not exist yet: starting fresh", path)
	} else if err := s.read(); err != nil {
		s.Close()
		if !lockExisted { // a refused file keeps nothing of blcheck's beside it
			os.Remove(lockPath)
		}
		return nil, "", err
	}
	if s.prev.Checks == nil {
		s.prev.Checks = map[string]Record{}
	}
	if s.prev.Lists == nil {
		s.prev.Lists = map[string]string{}
	}
	return s, warning, nil
}

// read reads the previous state, bounded, and makes sure it is one.
func (s *Store) read() error {
	f, err := os.Open(s.path)
	if err != nil {
		return &PathError{s.path, fmt.Sprintf("cannot be read: %v", err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	switch {
	case err != nil:
		return &PathError{s.path, fmt.Sprintf("cannot be read: %v", err)}
	case len(data) > MaxSize:
		return &PathError{s.path, fmt.Sprintf("is larger than %d MiB, so it is no blcheck state file; blcheck will not overwrite it", MaxSize>>20)}
	case len(bytes.TrimSpace(data)) == 0:
		return nil // an empty file: a fresh start
	}
	var probe struct {
		Schema *int            `json:"schema"`
		Checks json.RawMessage `json:"checks"`
	}
	if json.Unmarshal(data, &probe) != nil || probe.Schema == nil || probe.Checks == nil {
		return &PathError{s.path, "is not a blcheck state file, and blcheck will not overwrite it: " +
			"name a new file (or an empty one) for the state"}
	}
	if *probe.Schema != 1 {
		return &PathError{s.path, fmt.Sprintf("is a blcheck state file of another version (schema %d): "+
			"name a new file for the state", *probe.Schema)}
	}
	if err := json.Unmarshal(data, &s.prev); err != nil {
		return &PathError{s.path, fmt.Sprintf("is a damaged blcheck state file (%v): remove it to start fresh", err)}
	}
	return nil
}

// regularOrAbsent reports whether path exists, and refuses what is not a
// regular file: a symbolic link is not followed, and a device, FIFO or
// directory is never read or replaced.
func regularOrAbsent(path string) (bool, error) {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, &PathError{path, err.Error()}
	case st.Mode()&os.ModeSymlink != 0:
		return false, &PathError{path, "is a symbolic link; blcheck does not follow it: give the file's own path"}
	case st.IsDir():
		return false, &PathError{path, "is a directory: name a file in it"}
	case !st.Mode().IsRegular():
		return false, &PathError{path, "is not a regular file (a device, a FIFO or a socket); blcheck will not write to it"}
	}
	return true, nil
}

// writable makes sure a new file can be made in dir, by making one.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".blcheck-write-test-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func key(subject, list string) string { return subject + " " + list }

// Check compares a check with the previous run and records it for the next.
func (s *Store) Check(c dnsbl.Check) string {
	k := key(c.Subject, c.List.ID)
	prev, had := s.prev.Checks[k]
	switch c.Status {
	case dnsbl.Listed, dnsbl.Clean, dnsbl.Noted: // answers; noted is not a listing
	default:
		if had {
			s.next.Checks[k] = prev // nothing learnt this run: keep what was known
		}
		return Unknown
	}
	rec := Record{Status: string(c.Status), Codes: codeStrings(c.Codes), Since: s.now}
	if had && prev.Status == rec.Status {
		rec.Since = prev.Since
	}
	s.next.Checks[k] = rec
	switch {
	case c.Status == dnsbl.Listed && had && prev.Status == string(dnsbl.Listed):
		return StillListed
	case c.Status == dnsbl.Listed:
		return NewListing
	case had && prev.Status == string(dnsbl.Listed):
		return Delisted
	}
	return Unchanged
}

// Known says whether the previous run recorded a check of subject; a
// subject the state has never seen is new (blcheck dmarc: a new sending
// address). With no previous run (a new state file) nothing is new: Known is
// true for every subject.
func (s *Store) Known(subject string) bool {
	if len(s.prev.Checks) == 0 {
		return true
	}
	if s.subjects == nil {
		s.subjects = map[string]bool{}
		for k := range s.prev.Checks {
			if sub, _, ok := strings.Cut(k, " "); ok {
				s.subjects[sub] = true
			}
		}
	}
	return s.subjects[subject]
}

// NoAnswerState is what the state records for a list whose every query failed
// in a run, whatever its health probes said.
const NoAnswerState = "every-query-failed"

// List compares a list's health with the previous run and records it. A list
// is failing when its answers cannot be counted (untrusted or blocked) or when
// every query of the run to it failed (SERVFAIL or timeouts on every query, not
// only on its health probe).
func (s *Store) List(id string, h dnsbl.Health, everyQueryFailed bool) string {
	if h.State == dnsbl.HealthUnused || h.State == dnsbl.HealthInterrupted && !everyQueryFailed {
		return "" // the run said nothing of the list: Keep carries its last record forward
	}
	now := string(h.State)
	if everyQueryFailed && !(h.Untrusted() || h.State == dnsbl.HealthBlocked) {
		now = NoAnswerState
	}
	prev, had := s.prev.Lists[id]
	s.next.Lists[id] = now
	bad := func(st string) bool { // answers that cannot be counted, or none at all
		h := dnsbl.Health{State: dnsbl.HealthState(st)}
		return h.Untrusted() || h.State == dnsbl.HealthBlocked || st == NoAnswerState
	}
	switch {
	case bad(now) && (!had || !bad(prev)):
		return ListFailing
	case !bad(now) && had && bad(prev):
		return ListRecover
	}
	return ""
}

// Keep carries forward the records of subjects this run did not look at (an
// interrupted run, another shard), so that they are not forgotten.
func (s *Store) Keep() {
	for k, r := range s.prev.Checks {
		if _, ok := s.next.Checks[k]; !ok {
			s.next.Checks[k] = r
		}
	}
	for k, v := range s.prev.Lists {
		if _, ok := s.next.Lists[k]; !ok {
			s.next.Lists[k] = v
		}
	}
}

// Save writes the new state atomically: a temporary file in the same directory,
// synced, then renamed over the old one.
func (s *Store) Save() error {
	s.next.Updated = s.now
	data, err := json.MarshalIndent(s.next, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), filepath.Base(s.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving the state: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the state: %v", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the state: %v", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving the state: %v", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("saving the state: %v", err)
	}
	return nil
}

// Close releases the lock.
func (s *Store) Close() {
	if s.lock != nil {
		unlock(s.lock)
		s.lock.Close()
		s.lock = nil
	}
}

func codeStrings(codes []netip.Addr) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = c.String()
	}
	return out
}

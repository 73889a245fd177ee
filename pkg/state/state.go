// Package state remembers a run's results between runs (--state FILE), so that
// a cron job can report what changed: new listings, delistings, and lists that
// became unreliable or recovered. The file is written atomically and locked
// against a concurrent run; a missing or corrupt file is a fresh start.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
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
}

// LockTimeout is how long Open waits for a concurrent run to finish.
var LockTimeout = 30 * time.Second

// Open locks path and reads the previous state. A missing or unreadable state is
// a fresh start, reported in the warning; only a lock that cannot be had, or a
// directory that cannot be written, is an error.
func Open(path string) (*Store, string, error) {
	s := &Store{path: path, now: time.Now().UTC()}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("--state: cannot create the lock file: %v", err)
	}
	deadline := time.Now().Add(LockTimeout)
	for {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			lock.Close()
			return nil, "", fmt.Errorf("--state: another blcheck run holds %s.lock (waited %v)", path, LockTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.lock = lock
	s.next = file{Schema: 1, Checks: map[string]Record{}, Lists: map[string]string{}}
	warning := ""
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		warning = fmt.Sprintf("state file %s does not exist yet: starting fresh", path)
	case err != nil:
		warning = fmt.Sprintf("cannot read state file %s (%v): starting fresh", path, err)
	default:
		if err := json.Unmarshal(data, &s.prev); err != nil || s.prev.Schema != 1 {
			warning = fmt.Sprintf("state file %s is not a blcheck state (corrupt or from another version): starting fresh", path)
			s.prev = file{}
		}
	}
	if s.prev.Checks == nil {
		s.prev.Checks = map[string]Record{}
	}
	if s.prev.Lists == nil {
		s.prev.Lists = map[string]string{}
	}
	return s, warning, nil
}

func key(subject, list string) string { return subject + " " + list }

// Check compares a check with the previous run and records it for the next.
func (s *Store) Check(c dnsbl.Check) string {
	k := key(c.Subject, c.List)
	prev, had := s.prev.Checks[k]
	switch c.Status {
	case dnsbl.Listed, dnsbl.Clean:
	default:
		if had {
			s.next.Checks[k] = prev // nothing learnt this run: keep what was known
		}
		return Unknown
	}
	rec := Record{Status: string(c.Status), Codes: c.Codes, Since: s.now}
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

// List compares a list's health with the previous run and records it.
func (s *Store) List(id string, h dnsbl.Health) string {
	now := string(h.State)
	prev, had := s.prev.Lists[id]
	s.next.Lists[id] = now
	bad := func(st string) bool { // answers that cannot be counted, or none at all
		h := dnsbl.Health{State: dnsbl.HealthState(st)}
		return h.Untrusted() || h.State == dnsbl.HealthBlocked
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
		return fmt.Errorf("--state: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("--state: %v", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("--state: %v", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--state: %v", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("--state: %v", err)
	}
	return nil
}

// Close releases the lock.
func (s *Store) Close() {
	if s.lock != nil {
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock.Close()
		s.lock = nil
	}
}

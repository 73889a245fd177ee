package dnsbl

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// HealthState is a list's health in this run (JSON lists[].health).
type HealthState string

// The health states.
const (
	HealthOK              HealthState = "ok"
	HealthListsEverything HealthState = "lists-everything"   // a must-not-be-listed test point is listed
	HealthMissing         HealthState = "test-point-missing" // the must-be-listed test point is not
	HealthBlocked         HealthState = "blocked"            // the list refuses this resolver
	HealthBadAnswer       HealthState = "bad-answer"         // answers outside 127.0.0.0/8
	HealthNoAnswer        HealthState = "no-answer"          // test queries failed (timeout, SERVFAIL...)
	HealthNeedsKey        HealthState = "needs-key"          // keyed list without a key: not queried
	HealthUnchecked       HealthState = "unchecked"          // health checks were turned off
	// HealthUntested is a list that publishes no test point (`tests: none`): only
	// the point no list may list was asked, and its answers are used as they come.
	HealthUntested HealthState = "untested"
)

// Health is the outcome of a list's test-point queries.
type Health struct {
	State  HealthState
	Detail string
	RTT    time.Duration // the slowest test query's round trip
}

// Untrusted reports whether answers from a list in this state must not be counted.
func (h Health) Untrusted() bool {
	switch h.State {
	case HealthListsEverything, HealthMissing, HealthBadAnswer:
		return true
	}
	return false
}

// probe is one test-point query's verdict.
type probe struct {
	subject  string
	mustList bool
	v        Verdict
	rtt      time.Duration
}

// assess turns the test-point verdicts into the list's health. The worst finding wins.
func assess(probes []probe) Health {
	var rtt time.Duration
	for _, p := range probes {
		rtt = max(rtt, p.rtt)
	}
	rank := map[HealthState]int{HealthOK: 0, HealthNoAnswer: 1, HealthMissing: 2, HealthBlocked: 3,
		HealthListsEverything: 4, HealthBadAnswer: 5}
	h := Health{State: HealthOK}
	worse := func(s HealthState, detail string) {
		if rank[s] > rank[h.State] {
			h = Health{State: s, Detail: detail}
		}
	}
	sort.Slice(probes, func(i, j int) bool { // the same findings give the same detail, whatever the timing
		if probes[i].mustList != probes[j].mustList {
			return probes[i].mustList
		}
		return probes[i].subject < probes[j].subject
	})
	for _, p := range probes {
		v := p.v
		switch {
		case v.Foreign:
			worse(HealthBadAnswer, fmt.Sprintf("test point %s got %s", p.subject, v.Error))
		case v.Status == Blocked:
			worse(HealthBlocked, fmt.Sprintf("the list refused this resolver (%s)", v.Error))
		case v.Status == Error:
			worse(HealthNoAnswer, fmt.Sprintf("test query for %s failed: %s", p.subject, v.Error))
		case p.mustList && v.Status == Clean:
			worse(HealthMissing, fmt.Sprintf("the list does not answer for its test point %s, so \"not listed\" "+
				"cannot be trusted (list empty or dead, or it hides answers from this resolver)", p.subject))
		case !p.mustList && (v.Status == Listed || v.Status == Allowlisted):
			worse(HealthListsEverything, fmt.Sprintf("the list says %s is listed (%s), which no list may list: "+
				"it answers everything", p.subject, strings.Join(v.Codes, ", ")))
		}
	}
	h.RTT = rtt
	return h
}

// apply adjusts a check's verdict by its list's health.
func (h Health) apply(v Verdict) Verdict {
	if v.Status != Listed && v.Status != Clean && v.Status != Allowlisted {
		return v
	}
	switch {
	case h.Untrusted():
		v.Status = Unreliable
		v.Error = "list failed its health check: " + h.Detail
		v.Err = &checkError{ErrUnreliable, v.Error}
	case h.State == HealthBlocked:
		v.Status = Blocked
		v.Error = h.Detail
		v.Err = &checkError{ErrRefusedByList, v.Error}
	}
	return v
}

package dnsbl_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// A run stopped (Ctrl-C, --deadline, a probe's scrape timeout) before a list's
// test points were answered says the list's health was interrupted: never
// no-answer, which a dashboard reads as a dead list. The checks it cut short
// are still not answered, never clean; the state is in HealthStates, so every
// format that lists the states has it.
func TestInterruptedHealthIsItsOwnState(t *testing.T) {
	if !slices.Contains(dnsbl.HealthStates, dnsbl.HealthInterrupted) {
		t.Fatal("HealthStates lacks interrupted")
	}
	for _, tc := range []struct {
		name      string
		healthTTL time.Duration // 0: the run's own checks (the CLI); else kept (the exporter)
		cancelled bool          // cancelled before the run began
	}{
		{"cut while asked", 0, false},
		{"cut while asked, kept health", time.Hour, false},
		{"cancelled before", 0, true},
		{"cancelled before, kept health", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ck := silentV4(t, tc.healthTTL)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelled {
				cancel()
			} else {
				go func() { // once v4bl's test point is asked (and hangs), the run is stopped
					for w.srv.Queries("A", "2.0.0.127.v4.bl.test") == 0 && ctx.Err() == nil {
						time.Sleep(2 * time.Millisecond)
					}
					cancel()
				}()
			}
			tg, _ := dnsbl.ParseTarget("192.0.2.7")
			res, _ := ck.Run(ctx, slices.Values([]dnsbl.Target{tg}), dnsbl.RunOptions{})
			if got := res.Outcome(true); got != dnsbl.OutcomeInterrupted {
				t.Errorf("outcome %v, want interrupted", got)
			}
			for _, l := range res.Lists {
				if l.Health.State == dnsbl.HealthNoAnswer || l.Health.State == dnsbl.HealthOK && l.List.ID == "v4bl" {
					t.Errorf("list %s: health %s (%s): a run cut short says nothing of it", l.List.ID, l.Health.State, l.Health.Detail)
				}
				if l.List.ID == "v4bl" && (l.Health.State != dnsbl.HealthInterrupted || l.Health.Detail == "") {
					t.Errorf("v4bl: health %q (%s), want interrupted with a detail", l.Health.State, l.Health.Detail)
				}
			}
			if c := find(res, "192.0.2.7", "v4bl"); c.Status == dnsbl.Clean || c.Status == dnsbl.Listed {
				t.Errorf("a check cut short: %+v", c)
			}
		})
	}
}

// A list whose answers never come holds back no other list's verdict: the
// resolver's made-up name under no list's zone clears the resolver of
// inventing answers, so the verdicts that wait for the resolver's health do
// not wait for the silent list's made-up name to time out. Before, every list
// of the run waited for it: stopped before that timeout (Ctrl-C, --deadline,
// a scrape's), a run reported nothing, though the other lists had answered.
func TestSilentListHoldsBackNoOtherVerdict(t *testing.T) {
	_, ck := silentV4(t, 0)
	// the run is stopped once ipbl's verdict is in, or after a bound far
	// beyond an answer's round trip and far short of the silent list's timeout
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var judged atomic.Bool // ipbl's verdict came while the run went on
	obs := dnsbl.Observer{Check: func(_ *dnsbl.TargetResult, c dnsbl.Check) {
		if c.List.ID == "ipbl" {
			judged.Store(ctx.Err() == nil)
			cancel()
		}
	}}
	tg, _ := dnsbl.ParseTarget("192.0.2.7")
	res, _ := ck.Run(ctx, slices.Values([]dnsbl.Target{tg}), dnsbl.RunOptions{Observer: obs})
	if !judged.Load() {
		t.Error("ipbl's verdict waited for the silent list until the run was stopped")
	}
	if c := find(res, "192.0.2.7", "ipbl"); c.Status != dnsbl.Clean {
		t.Errorf("ipbl, which answered: %s (%v); want clean", c.Status, c.Err)
	}
	if c := find(res, "192.0.2.7", "v4bl"); c.Status == dnsbl.Clean || c.Status == dnsbl.Listed {
		t.Errorf("v4bl, which never answered: %s", c.Status)
	}
}

// silentV4 is a Checker of ipbl and v4bl whose v4bl never answers, each try
// waiting 30 s: longer than any of these tests lets a run go on.
func silentV4(t *testing.T, healthTTL time.Duration) (*world, *dnsbl.Checker) {
	t.Helper()
	w := newWorld(t)
	w.srv.AddFault(dnsbltest.Fault{Suffix: "v4.bl.test", Kind: dnsbltest.Drop}) // its answers never come
	lists, _, err := w.cat.Select(catalog.Selection{Only: []string{"ipbl", "v4bl"}})
	if err != nil {
		t.Fatal(err)
	}
	rs := newClient(t, resolver.Config{Servers: []string{w.srv.Addr}, Timeout: 30 * time.Second, Retries: 0})
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: rs, HealthTTL: healthTTL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	return w, ck
}

package dnsbl_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// A list that starts lying within the health TTL cannot alarm: the listing is
// reported only once the list's test points, asked after the answer came, are
// answered correctly. Until then, and while the list lies, it is unreliable.
func TestCheckerListingConfirmed(t *testing.T) {
	l := newLongLived(t, dnsbl.DefaultHealthTTL, "ipbl")
	if got := statusOf(t, l.check(t, "192.0.2.20"), "ipbl"); got != dnsbl.Clean {
		t.Fatalf("healthy list: %s, want clean", got)
	}
	l.srv.Wildcard("ip.bl.test", "127.0.0.2") // the list now lists everything
	res := l.check(t, "192.0.2.21")           // its health was checked a moment ago, and is kept
	if got := statusOf(t, res, "ipbl"); got != dnsbl.Unreliable {
		t.Errorf("a lying list's listing: %s, want unreliable", got)
	}
	if h := res.Lists[0].Health.State; h != dnsbl.HealthListsEverything {
		t.Errorf("health %s, want %s (the confirmation's)", h, dnsbl.HealthListsEverything)
	}
	l.srv.Unwildcard("ip.bl.test")
	l.clock.advance(dnsbl.BadHealthTTL)
	if got := statusOf(t, l.check(t, "192.0.2.21"), "ipbl"); got != dnsbl.Clean {
		t.Errorf("once the list is healthy again: %s, want clean (its lie was dropped from the cache)", got)
	}
	// a real listing is confirmed, and reported as listed
	l.srv.List("ip.bl.test", "192.0.2.22", []string{"127.0.0.4"})
	if got := statusOf(t, l.check(t, "192.0.2.22"), "ipbl"); got != dnsbl.Listed {
		t.Errorf("a real listing: %s, want listed", got)
	}
}

// A listed subject that a dead list (NXDOMAIN for every name) says clean is a
// change: it needs the list's positive test point, which a dead list misses.
func TestCheckerDelistingConfirmed(t *testing.T) {
	l := newLongLived(t, dnsbl.DefaultHealthTTL, "ipbl")
	l.srv.List("ip.bl.test", "192.0.2.10", []string{"127.0.0.4"})
	if got := statusOf(t, l.check(t, "192.0.2.10"), "ipbl"); got != dnsbl.Listed {
		t.Fatalf("first check: %s, want listed", got)
	}
	l.srv.AddFault(dnsbltest.Fault{Suffix: "ip.bl.test", Kind: dnsbltest.NXDomain})
	l.clock.advance(61 * time.Second) // past the listing's TTL, well within the health TTL
	if got := statusOf(t, l.check(t, "192.0.2.10"), "ipbl"); got != dnsbl.Unreliable {
		t.Errorf("a dead list's delisting: %s, want unreliable", got)
	}
	l.clock.advance(10 * time.Second)
	if got := statusOf(t, l.check(t, "192.0.2.10"), "ipbl"); got != dnsbl.Unreliable {
		t.Errorf("asked again while the list is dead: %s, want unreliable", got)
	}
	l.srv.ClearFaults() // alive again, and the subject really delisted
	l.srv.Unlist("ip.bl.test", "192.0.2.10")
	l.clock.advance(dnsbl.BadHealthTTL)
	if got := statusOf(t, l.check(t, "192.0.2.10"), "ipbl"); got != dnsbl.Clean {
		t.Errorf("a real delisting: %s, want clean", got)
	}
}

// When a list's health turns bad, its cached answers are dropped: a lie kept
// in the cache does not outlive the health check that found the list lying.
// With HealthTTL 0 every call proves the list again.
func TestCheckerForgetsLies(t *testing.T) {
	l := newLongLived(t, 0, "ipbl")
	l.srv.Wildcard("ip.bl.test", "127.0.0.2")
	if got := statusOf(t, l.check(t, "192.0.2.40"), "ipbl"); got != dnsbl.Unreliable {
		t.Fatalf("a lying list: %s, want unreliable", got)
	}
	l.srv.Unwildcard("ip.bl.test")
	res := l.check(t, "192.0.2.40") // the lie's TTL has not passed
	if got := statusOf(t, res, "ipbl"); got != dnsbl.Clean {
		t.Errorf("the list healthy again: %s, want clean (the cached lie dropped)", got)
	}
}

// Listings that come at once share their confirmation: a list's test points
// are asked by one check at a time, whatever the number of listings.
func TestCheckerConfirmationsShared(t *testing.T) {
	l := newLongLived(t, dnsbl.DefaultHealthTTL, "ipbl")
	l.check(t, "192.0.2.99") // the health, kept from now on
	const n = 20
	for i := range n {
		l.srv.List("ip.bl.test", fmt.Sprintf("192.0.2.%d", 100+i), []string{"127.0.0.4"})
	}
	point := dnsbltest.QueryName("127.0.0.1", "ip.bl.test")
	// a slow test point keeps each confirmation in flight while the listings come
	l.srv.AddFault(dnsbltest.Fault{Suffix: point, Kind: dnsbltest.Delay, Delay: 40 * time.Millisecond})
	// the checks the Checker started are counted, not the server's packets:
	// a 40ms answer comes after the resolver's RTO (10ms once the first
	// answers are in), so each check sends copies, as many as a busy
	// machine's delays make
	before := l.rec.asked("A", point)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.ck.CheckAddr(context.Background(), netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", 100+i)))
			if err != nil || res.Targets[0].Checks[0].Status != dnsbl.Listed {
				t.Errorf("192.0.2.%d: %v %v, want listed", 100+i, err, res.Targets[0].Checks)
			}
		}()
	}
	wg.Wait()
	// unshared, each listing would ask the point once; shared, a check in flight
	// serves every listing that came before it began, and the next one every
	// listing that came while it was in flight (1 or 2 on an idle machine)
	if got := l.rec.asked("A", point) - before; got < 1 || got >= n {
		t.Errorf("%d listings confirmed by %d checks of the test points, want 1 to %d", n, got, n-1)
	}
}

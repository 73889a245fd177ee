package report

import (
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

func TestResolverDown(t *testing.T) {
	cat := catalog.Default()
	refused := "network error: connection refused after 2 tries from 127.0.0.1:1"
	noAnswer := func(id, subject, why string) dnsbl.ListHealth {
		return dnsbl.ListHealth{List: cat.ByID(id), Health: dnsbl.Health{State: dnsbl.HealthNoAnswer,
			Detail: "test query for " + subject + " failed: " + why, Cause: why}}
	}
	dead := []dnsbl.ListHealth{noAnswer("spamhaus-zen", "127.0.0.2", refused), noAnswer("spamcop", "127.0.0.2", refused),
		noAnswer("spamhaus-dbl", "test", refused), {List: cat.ByID("spamhaus-dqs-zen"), Health: dnsbl.Health{State: dnsbl.HealthNeedsKey}}}
	answered := append([]dnsbl.ListHealth{}, dead...)
	answered[3] = dnsbl.ListHealth{List: cat.ByID("sem-ipv6"), Health: dnsbl.Health{State: dnsbl.HealthUntested}, Answered: 1}
	healthy := append([]dnsbl.ListHealth{}, dead...)
	healthy[3] = dnsbl.ListHealth{List: cat.ByID("psbl"), Health: dnsbl.Health{State: dnsbl.HealthOK}}
	differ := append([]dnsbl.ListHealth{}, dead...)
	differ[2] = noAnswer("spamhaus-dbl", "test", "SERVFAIL (the server failed to answer) from 127.0.0.1:1")
	for _, tc := range []struct {
		name  string
		lists []dnsbl.ListHealth
		down  bool
	}{
		{"every list asked failed the same way", dead, true},
		{"two lists are not enough to blame the resolver", dead[:2], false},
		{"a list without a test point answered", answered, false},
		{"a list answered its test points", healthy, false},
		{"the lists failed in different ways", differ, false},
	} {
		cause, n, down := ResolverDown(&dnsbl.Result{Lists: tc.lists})
		if down != tc.down || down && (cause != refused || n != 3) {
			t.Errorf("%s: %q, %d lists, down %v; want down %v", tc.name, cause, n, down, tc.down)
		}
	}
}

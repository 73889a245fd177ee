package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

func answer(addrs ...string) *resolver.Answer {
	a := &resolver.Answer{}
	for _, s := range addrs {
		a.Addrs = append(a.Addrs, netip.MustParseAddr(s))
	}
	return a
}

func TestClassify(t *testing.T) {
	c := catalog.Default()
	zen, dbl, surbl, uribl := c.ByID("spamhaus-zen"), c.ByID("spamhaus-dbl"), c.ByID("surbl"), c.ByID("uribl")
	timeout := &resolver.Error{Kind: resolver.Timeout, Tries: 2}
	tests := []struct {
		name   string
		list   *catalog.List
		a      *resolver.Answer
		err    error
		status Status
		codes  []string
		text   string // in the error, or the first meaning
	}{
		{"NXDOMAIN is clean", zen, &resolver.Answer{NXDomain: true}, nil, Clean, nil, ""},
		{"NOERROR without records is clean", zen, &resolver.Answer{}, nil, Clean, nil, ""},
		{"a timeout is never clean", zen, nil, timeout, Error, nil, "timed out"},
		{"SERVFAIL is an error", zen, nil, &resolver.Error{Kind: resolver.ServFail}, Error, nil, "SERVFAIL"},
		{"XBL listing", zen, answer("127.0.0.4"), nil, Listed, []string{"127.0.0.4"}, "XBL"},
		{"every ZEN code", zen, answer("127.0.0.2", "127.0.0.4", "127.0.0.10"), nil, Listed,
			[]string{"127.0.0.2", "127.0.0.4", "127.0.0.10"}, "SBL"},
		{"Spamhaus refusal is blocked", zen, answer("127.255.255.254"), nil, Blocked, []string{"127.255.255.254"}, "public or shared resolvers"},
		{"Spamhaus reserved range is blocked", zen, answer("127.255.255.1"), nil, Blocked, []string{"127.255.255.1"}, "reserves"},
		{"DBL asked for an IP", dbl, answer("127.0.1.255"), nil, Blocked, []string{"127.0.1.255"}, "IP address was sent"},
		{"URIBL refusal is blocked", uribl, answer("127.0.0.1"), nil, Blocked, []string{"127.0.0.1"}, "refuses"},
		{"SURBL refusal is blocked", surbl, answer("127.0.0.1"), nil, Blocked, []string{"127.0.0.1"}, "blocked this resolver"},
		{"SURBL bits decoded", surbl, answer("127.0.0.24"), nil, Listed, []string{"127.0.0.24"}, "PH: phishing"},
		{"outside 127/8 is not a listing", zen, answer("198.51.100.200"), nil, Error, []string{"198.51.100.200"}, "outside 127.0.0.0/8"},
		{"mixed foreign and listing is an error", zen, answer("127.0.0.2", "91.195.240.117"), nil, Error,
			[]string{"127.0.0.2", "91.195.240.117"}, "91.195.240.117"},
		{"undocumented code is still a listing", zen, answer("127.0.0.77"), nil, Listed, []string{"127.0.0.77"}, "not documented"},
		{"refusal and listing: the listing counts", zen, answer("127.0.0.4", "127.255.255.254"), nil, Listed,
			[]string{"127.0.0.4", "127.255.255.254"}, "XBL"},
		{"records for another name only", zen, &resolver.Answer{Extra: 2}, nil, Error, nil, "another name"},
		{"duplicate codes once", zen, answer("127.0.0.4", "127.0.0.4"), nil, Listed, []string{"127.0.0.4"}, "XBL"},
		{"IPv6 answer to an A query", zen, answer("::1"), nil, Error, []string{"::1"}, "outside"},
		{"SpamRATS: its own code is a listing", c.ByID("spamrats-dyna"), answer("127.0.0.36"), nil, Listed, []string{"127.0.0.36"}, "RATS-Dyna"},
		{"SpamRATS: another code is not a listing", c.ByID("spamrats-dyna"), answer("127.0.0.2"), nil, Error, []string{"127.0.0.2"}, "not one of the list's own codes"},
		{"SpamRATS: another list's code is not a listing", c.ByID("spamrats-spam"), answer("127.0.0.36"), nil, Error, []string{"127.0.0.36"}, "not one of"},
		{"CBL carries Spamhaus's refusals", c.ByID("cbl"), answer("127.255.255.254"), nil, Blocked, []string{"127.255.255.254"}, "public or shared"},
		{"SenderScore unregistered resolver is blocked", c.ByID("senderscore"), answer("127.255.255.255"), nil, Blocked, []string{"127.255.255.255"}, "not registered"},
		{"SenderScore bits decoded", c.ByID("senderscore"), answer("127.0.0.5"), nil, Listed, []string{"127.0.0.5"}, "botnet"},
		{"ZRD asked for an IP", c.ByID("spamhaus-dqs-zrd"), answer("127.0.2.255"), nil, Blocked, []string{"127.0.2.255"}, "domains only"},
		{"dnswl hit is allowlisted, not listed", c.ByID("dnswl"), answer("127.0.5.2"), nil, Allowlisted, []string{"127.0.5.2"}, "service or network provider"},
		{"dnswl refusal is blocked", c.ByID("dnswl"), answer("127.0.0.255"), nil, Blocked, []string{"127.0.0.255"}, "refuses"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := Classify(tc.list, tc.a, tc.err)
			if v.Status != tc.status {
				t.Fatalf("status %s, want %s (%+v)", v.Status, tc.status, v)
			}
			if tc.codes != nil && JoinCodes(v.Codes) != strings.Join(tc.codes, ", ") {
				t.Errorf("codes %v, want %v", v.Codes, tc.codes)
			}
			got := v.Error
			if v.Status == Listed || v.Status == Allowlisted {
				got = strings.Join(v.Meanings, "; ")
				if v.Error != "" {
					t.Errorf("a listing has an error: %q", v.Error)
				}
			}
			if !strings.Contains(got, tc.text) {
				t.Errorf("text %q, want %q", got, tc.text)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	listed := Verdict{Status: Listed, Codes: []netip.Addr{netip.MustParseAddr("127.0.0.2")}}
	clean := Verdict{Status: Clean}
	tests := []struct {
		name   string
		probes []probe
		want   HealthState
	}{
		{"healthy", []probe{{"127.0.0.2", true, listed, 0}, {"127.0.0.1", false, clean, 0}}, HealthOK},
		{"lists everything", []probe{{"127.0.0.2", true, listed, 0}, {"127.0.0.1", false, listed, 0}}, HealthListsEverything},
		{"empty or hiding", []probe{{"127.0.0.2", true, clean, 0}, {"127.0.0.1", false, clean, 0}}, HealthMissing},
		{"refusing", []probe{{"127.0.0.2", true, Verdict{Status: Blocked, Error: "127.255.255.254: x"}, 0}, {"127.0.0.1", false, clean, 0}}, HealthBlocked},
		{"rewriting", []probe{{"127.0.0.2", true, listed, 0}, {"127.0.0.1", false, Verdict{Status: Error, Foreign: true}, 0}}, HealthBadAnswer},
		{"probe timed out", []probe{{"127.0.0.2", true, Verdict{Status: Error, Error: "timeout"}, 0}, {"127.0.0.1", false, clean, 0}}, HealthNoAnswer},
	}
	for _, tc := range tests {
		if got := assess(tc.probes); got.State != tc.want || (got.State != HealthOK && got.Detail == "") {
			t.Errorf("%s: got %+v, want %s with a detail", tc.name, got, tc.want)
		}
	}
	// a failed test query's cause is kept as its check said it, for grouping
	// lists that failed alike (report.ResolverDown); no other state has one
	failed := []probe{{"127.0.0.2", true, Verdict{Status: Error, Error: "connection refused"}, 0}, {"127.0.0.1", false, clean, 0}}
	if got := assess(failed); got.Cause != "connection refused" {
		t.Errorf("a test query that failed: cause %q", got.Cause)
	}
	if got := assess(tests[3].probes); got.Cause != "" {
		t.Errorf("a refusal has no cause: %+v", got)
	}
	// what health does to verdicts
	bad := Health{State: HealthListsEverything, Detail: "x"}
	if v := bad.apply(listed); v.Status != Unreliable || !slices.Equal(v.Codes, listed.Codes) {
		t.Errorf("a listing from an unreliable list must be unreliable, codes kept: %+v", v)
	}
	if v := bad.apply(Verdict{Status: Error, Error: "timeout"}); v.Status != Error {
		t.Errorf("an error stays an error: %+v", v)
	}
	if v := (Health{State: HealthBlocked, Detail: "refused"}).apply(clean); v.Status != Blocked {
		t.Errorf("NXDOMAIN from a list that refuses us is not clean: %+v", v)
	}
	if v := (Health{State: HealthNoAnswer}).apply(clean); v.Status != Clean {
		t.Errorf("a failed probe alone does not void answers: %+v", v)
	}
}

func FuzzClassify(f *testing.F) {
	f.Add([]byte{127, 0, 0, 2}, false, uint8(0))
	f.Add([]byte{127, 255, 255, 254, 127, 0, 0, 4}, false, uint8(1))
	f.Add([]byte{198, 51, 100, 200}, true, uint8(2))
	f.Add([]byte{}, true, uint8(3))
	lists := []*catalog.List{}
	for _, id := range []string{"spamhaus-zen", "surbl", "uribl", "spamhaus-dbl", "0spam", "spamcop"} {
		lists = append(lists, catalog.Default().ByID(id))
	}
	f.Fuzz(func(t *testing.T, raw []byte, nx bool, which uint8) {
		a := &resolver.Answer{NXDomain: nx}
		for i := 0; i+4 <= len(raw) && len(a.Addrs) < resolver.MaxAddrs; i += 4 {
			a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte(raw[i:i+4])))
		}
		l := lists[int(which)%len(lists)]
		v := Classify(l, a, nil)
		foreign := false
		for _, addr := range a.Addrs {
			if addr.As4()[0] != 127 {
				foreign = true
			}
		}
		switch {
		case nx || len(a.Addrs) == 0:
			if v.Status != Clean {
				t.Fatalf("NXDOMAIN/empty must be clean: %+v", v)
			}
		case foreign:
			if v.Status != Error || !v.Foreign {
				t.Fatalf("an address outside 127/8 must be an error: %+v", v)
			}
		case v.Status == Listed:
			if len(v.Meanings) == 0 {
				t.Fatalf("listing without meaning: %+v", v)
			}
			for _, c := range v.Codes {
				if _, isErr := l.ErrorMeaning(c); !isErr {
					return
				}
			}
			t.Fatalf("listed on error codes only: %+v", v)
		case v.Status == Blocked:
			for _, c := range v.Codes {
				if _, isErr := l.ErrorMeaning(c); !isErr {
					t.Fatalf("blocked with a listing code %s: %+v", c, v)
				}
			}
		default:
			t.Fatalf("unexpected status %+v", v)
		}
		if v.Status != Listed && v.Status != Clean && v.Error == "" {
			t.Fatalf("no error text: %+v", v)
		}
	})
}

// TestIsKind: isKind answers as errors.Is does, for a check's error with a
// cause, without one, and for any other error.
func TestIsKind(t *testing.T) {
	timeout := &resolver.Error{Kind: resolver.Timeout}
	errs := []error{
		nil,
		checkErr(ErrSkipKey, "needs a key"),
		&CheckError{Kind: ErrTimeout, Msg: "timed out", Cause: timeout},
		&CheckError{Kind: ErrInterrupted, Msg: "interrupted", Cause: context.Canceled},
		context.Canceled,
		fmt.Errorf("wrapped: %w", ErrRefused),
	}
	kinds := []error{ErrSkipKey, ErrTimeout, ErrInterrupted, ErrRefused, ErrNetwork, context.Canceled}
	for _, err := range errs {
		for _, k := range kinds {
			if got, want := isKind(err, k), errors.Is(err, k); got != want {
				t.Errorf("isKind(%v, %v) = %v, errors.Is says %v", err, k, got, want)
			}
		}
	}
}

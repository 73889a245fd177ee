package extract

import "testing"

func TestTargets(t *testing.T) {
	items := []Item{
		{Host: "shop.example.com", Loc: Location{Where: "href", Line: 3}},
		{Host: "cdn.known.example", Loc: Location{Where: "src", Line: 4}},
		{Host: "shop.example.com", Loc: Location{Where: "href", Line: 9}},
		{Host: "bad..host", Loc: Location{Where: "href", Line: 5}},
		{Host: "192.0.2.7", Loc: Location{Where: "href", Line: 6}},
	}
	targets, locs, ignored := Targets(items, []string{"known.example"})
	if len(targets) != 2 || targets[0].Input != "shop.example.com" || targets[1].Input != "192.0.2.7" {
		t.Fatalf("targets %+v", targets)
	}
	if !targets[0].NoMX {
		t.Error("a link's host has its mail servers checked")
	}
	if len(locs[0]) != 2 || locs[0][1].Line != 9 {
		t.Errorf("every place a host was found: %+v", locs[0])
	}
	if len(ignored) != 2 || ignored[0].Reason != IgnoredKnownGood || ignored[0].Host != "cdn.known.example" ||
		ignored[1].Reason != "not a checkable host name" {
		t.Errorf("ignored %+v", ignored)
	}
}

// Hosts receivers look up that are not plain host names: under a hosting
// service's private suffix, a private suffix itself, an underscore below the
// registered domain.
func TestTargetsOddHosts(t *testing.T) {
	for _, tc := range []struct{ host, domain, public, reason string }{
		{"insta-club.netlify.app", "insta-club.netlify.app", "netlify.app", ""},
		{"s3.amazonaws.com", "amazonaws.com", "", ""},
		{"firebaseapp.com", "firebaseapp.com", "", ""},
		{"my_shop.example.com", "example.com", "", ""},
		{"a_b.c_d.example.org", "example.org", "", ""},
		{"my_shop.com", "", "", "not a checkable host name"},
		{"com", "", "", "not a checkable host name"},
		// names no DNS zone holds: an intranet's, a Content-ID's, a mistyped TLD
		{"mail.corp.local", "", "", "under no top-level domain that exists (.local): not a name receivers can look up"},
		{"makita.skynet", "", "", "under no top-level domain that exists (.skynet): not a name receivers can look up"},
		{"01d3ba12.f6c6aeb0", "", "", "under no top-level domain that exists (.f6c6aeb0): not a name receivers can look up"},
		{"xn--bcher-kva.example.de", "example.de", "", ""},
		{"shop.xn--p1ai", "shop.xn--p1ai", "", ""},
	} {
		targets, _, ignored := Targets([]Item{{Host: tc.host}}, nil)
		switch {
		case tc.reason != "":
			if len(ignored) != 1 || ignored[0].Reason != tc.reason {
				t.Errorf("%s: %+v %+v", tc.host, targets, ignored)
			}
		case len(targets) != 1 || targets[0].Host != tc.host || targets[0].Domain != tc.domain || targets[0].PublicDomain != tc.public:
			t.Errorf("%s: %+v %+v", tc.host, targets, ignored)
		}
	}
}

// A relay's address is a relay target, judged as a link's address but never
// asked of the URI lists; the same address also found in a link is a link's
// (the URI lists are asked), and the server that delivered the message is a
// sender.
func TestTargetsRelays(t *testing.T) {
	items := []Item{
		{Host: "192.0.2.30", Relay: true},
		{Host: "192.0.2.31", Relay: true},
		{Host: "192.0.2.31"}, // http://192.0.2.31/ in the body
		{Host: "192.0.2.32", Sender: true},
	}
	targets, _, _ := Targets(items, nil)
	want := map[string][2]bool{ // link, relay
		"192.0.2.30": {true, true},
		"192.0.2.31": {true, false},
		"192.0.2.32": {false, false},
	}
	if len(targets) != len(want) {
		t.Fatalf("targets %+v", targets)
	}
	for _, tg := range targets {
		if w := want[tg.Addr.String()]; tg.Link != w[0] || tg.Relay != w[1] {
			t.Errorf("%s: link %v relay %v, want %v %v", tg.Addr, tg.Link, tg.Relay, w[0], w[1])
		}
	}
}

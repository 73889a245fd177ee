package extract

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// The address each MTA's Received header says the message came from, as
// real headers write it (the forms are taken from the differential test's
// messages): the address in brackets, else in the comment, else the name; what
// the client claimed (helo=, HELO) is not it.
func TestReceivedFrom(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"from mail.example.net (mail.example.net [192.0.2.1])\n\tby mx.example.com (Postfix) with ESMTP id 1", "192.0.2.1"},
		{"from [198.51.100.25] (port=42212 helo=[127.0.0.1])\n\tby relay.example.com with esmtpsa (Exim 4.91)", "198.51.100.25"},
		{"from relay.example.org (203.0.113.127) by\n MX1.mail.protection.outlook.com (10.233.252.87) with Microsoft SMTP Server", "203.0.113.127"},
		{"from unknown (HELO pc3) (192.0.2.140)\n  by 0 with SMTP; 7 Jan 2003 11:59:56 -0000", "192.0.2.140"},
		{"from unknown (HELO 198.51.100.1) (192.0.2.141) by mx.example.com", "192.0.2.141"},
		{"from gw.example.de (root@198.51.100.10)\n  by o05.example.de with SMTP; 16 Dec 2002", "198.51.100.10"},
		{"from dmz.example.com [203.0.113.1] by internal.example.com", "203.0.113.1"},
		{"from 192.0.2.98 (SquirrelMail authenticated user person) by example.org with HTTP", "192.0.2.98"},
		{"from 192.0.2.7 (mail.example.net [198.51.100.7]) by mx.example.com", "198.51.100.7"},
		{"from [192.0.2.193] (ppp0c199.example.com [192.0.2.199])\n\tby world.example.com (8.9.3/8.9.3)", "192.0.2.199"},
		{"from netsvr.Internet (USR-157-050.dr.example.ca [192.0.2.50] (may be forged))\n\tby example.net", "192.0.2.50"},
		{"from host.example.com (host.example.com [IPv6:2001:db8::25]) by mx.example.org", "2001:db8::25"},
		{"from BN9PR03CA0223.namprd03.prod.outlook.com (2001:db8:408:f8::18)\n by DM4PR19MB5929.namprd19.prod.outlook.com", "2001:db8:408:f8::18"},
		{"from mail.example.net (192.0.2.9:25) by mx.example.com", "192.0.2.9"},
		{"from mail.example.net ([::ffff:192.0.2.10]) by mx.example.com", "192.0.2.10"},
		{"FROM mail.example.net (mail.example.net [192.0.2.11]) BY mx.example.com", "192.0.2.11"},
		// the address after "by", or in "for", is not where it came from
		{"from  by 192.0.2.11; Thu, 05 Feb 2004 00:24:38 +0500", ""},
		{"from mail.example.net by mx.example.com (192.0.2.12) with SMTP", ""},
		{"by mail (Postfix, from userid 500) id 66ADCD88BE", ""},
		{"(qmail 21332 invoked by uid 505); 7 Jan 2003 12:01:04 -0000", ""},
		{"from person@example.com by ahead.example.net by uid 89 with qmail-scanner-1.14", ""},
		{"from MTMxNjc5NTQ (unknown)\n\tby geopod-ismtpd-0 (SG) with HTTP", ""},
		{"from helo.example.net (helo=[192.0.2.13]) by mx.example.com", ""},
	} {
		a, ok := receivedFrom(tc.header)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.header, got, tc.want)
		}
	}
}

// Which relays of a message are checked, and as what: every public one, as
// SpamAssassin looks them up; the server that delivered the message (the
// first from outside the receiving side's domains) is a sender; a copy from
// the Sent folder (an authenticated submission on top) has none; a mailbox's
// fetch is no relay.
func TestReceivedRelays(t *testing.T) {
	for _, tc := range []struct {
		name     string
		received []string
		want     []string // address, and "sender" for the delivering server
	}{
		{"a delivered message, through the receiver's own relays", []string{
			"from HOST1.namprd19.prod.outlook.com (::1) by HOST2.namprd19.prod.outlook.com with HTTPS",
			"from HOST3.eurprd05.prod.outlook.com (2001:db8:10:2e::19) by HOST1.namprd19.prod.outlook.com with Microsoft SMTP Server",
			"from HOST4.eop-eur06.prod.protection.outlook.com (2001:db8:10:2e:cafe::d0) by HOST3.outlook.office365.com",
			"from relay.example.org (203.0.113.127) by HOST4.mail.protection.outlook.com (10.233.252.87)",
			"from [198.51.100.25] (port=42212 helo=[127.0.0.1]) by relay.example.org with esmtpsa (Exim 4.91)",
		}, []string{"2001:db8:10:2e::19 receiving side", "2001:db8:10:2e:cafe::d0 receiving side",
			"203.0.113.127 sender", "198.51.100.25"}},
		{"fetched from its mailbox by fetchmail", []string{
			"from localhost (localhost [127.0.0.1]) by laptop.example.org (Postfix) with ESMTP",
			"from mx.example.net [192.0.2.15] by localhost with IMAP (fetchmail-5.7.4) for person@localhost",
			"from relay.example.com (relay.example.com [198.51.100.16]) by mx.example.net with ESMTP",
		}, []string{"198.51.100.16 sender"}},
		{"a copy from the Sent folder: its own submission only", []string{
			"from dsl-192-0-2-4.isp.example (dsl-192-0-2-4.isp.example [192.0.2.4]) by smtp.isp.example with ESMTPSA id 1",
		}, []string{"192.0.2.4"}},
		{"a copy from the Sent folder of a webmail: its HTTP submission only", []string{
			"from 192.0.2.5 ([192.0.2.5]) by webmail.isp.example (Horde Framework) with HTTP; Mon, 7 Dec 2026 10:00:00 +0000",
		}, []string{"192.0.2.5"}},
		{"a webmail's mail as its receiver got it", []string{
			"from smtp.isp.example (smtp.isp.example [198.51.100.9]) by mx.example.net with ESMTP",
			"from 192.0.2.5 ([192.0.2.5]) by webmail.isp.example via HTTP; Mon, 7 Dec 2026 10:00:00 +0000",
		}, []string{"198.51.100.9 sender", "192.0.2.5"}},
		{"an Outlook mailbox's own HTTPS hop on top, from a public address", []string{
			"from HOST1.namprd19.prod.outlook.com (2001:db8:510:7c::10) by HOST2.namprd19.prod.outlook.com with HTTPS",
			"from relay.example.org (203.0.113.127) by HOST1.namprd19.prod.outlook.com with Microsoft SMTP Server",
		}, []string{"2001:db8:510:7c::10 receiving side", "203.0.113.127 sender"}},
		{"a relay named like a submission is no submission", []string{
			"from smtp.isp.example (smtp.isp.example [198.51.100.10]) by esmtpauth.example.net with ESMTP",
		}, []string{"198.51.100.10 sender"}},
		{"the seed's mail as its receiver got it", []string{
			"from smtp.isp.example (smtp.isp.example [198.51.100.8]) by mx.example.net with ESMTP",
			"from dsl-192-0-2-4.isp.example (dsl-192-0-2-4.isp.example [192.0.2.4]) by smtp.isp.example with ESMTPSA id 1",
		}, []string{"198.51.100.8 sender", "192.0.2.4"}},
		{"private and loopback hops are nobody's to look up", []string{
			"from localhost (localhost [127.0.0.1]) by mx.example.net",
			"from zendesk.example (unknown [10.218.152.52]) by out.example.org (Postfix)",
			"from cgn.example (cgn.example [100.64.1.1]) by out.example.org",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &extractor{file: "m.eml"}
			x.received(tc.received, nil, 1)
			var got []string
			for _, it := range x.relays {
				s := it.Host
				if it.Sender {
					s += " sender"
				}
				if strings.Contains(it.Loc.Where, "receiving side") {
					s += " receiving side"
				}
				got = append(got, s)
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A message's relays come with their header's line; a forwarded message's
// (message/rfc822) are not the message's.
func TestReceivedInMessage(t *testing.T) {
	msg := "Received: from relay.example.org (relay.example.org [203.0.113.7])\n" +
		"\tby mx.example.com (Postfix) with ESMTP id 1\n" +
		"Received: from [198.51.100.9] (helo=pc) by relay.example.org with esmtpa\n" +
		"From: person@example.org\nSubject: hi\nMIME-Version: 1.0\n" +
		"Content-Type: message/rfc822\n\n" +
		"Received: from inner.example.net (inner.example.net [192.0.2.77]) by mx.example.net\n" +
		"From: person@example.net\n\nhello\n"
	f, err := File(strings.NewReader(msg), "m.eml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range f.Relays {
		got = append(got, fmt.Sprintf("%s %d %s sender=%v relay=%v", it.Host, it.Loc.Line, it.Loc.Where, it.Sender, it.Relay))
	}
	want := []string{"203.0.113.7 1 Received header (the server that delivered the message) sender=true relay=false",
		"198.51.100.9 3 Received header (an earlier relay) sender=false relay=true"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, it := range f.Items {
		if it.Host == "192.0.2.77" {
			t.Errorf("a forwarded message's relay taken: %+v", it)
		}
	}
}

// The delivering server is checked as a sender, an earlier relay as a link's
// address is; one found both ways is a sender.
func TestTargetsSender(t *testing.T) {
	items := []Item{
		{Host: "192.0.2.1", Loc: Location{Where: "href"}},
		{Host: "192.0.2.1", Sender: true, Loc: Location{Where: "Received header (the server that delivered the message)"}},
		{Host: "192.0.2.2", Loc: Location{Where: "Received header (an earlier relay)"}},
	}
	targets, _, _ := Targets(items, nil)
	if len(targets) != 2 || targets[0].Link || !targets[1].Link {
		t.Errorf("got %+v", targets)
	}
}

// FuzzReceived: any header is read within its bound, and an address read is
// one the header holds.
func FuzzReceived(f *testing.F) {
	for _, s := range []string{
		"from mail.example.net (mail.example.net [192.0.2.1]) by mx.example.com",
		"from [198.51.100.25] (port=42212 helo=[127.0.0.1]) by relay.example.org with esmtpsa",
		"from x (IPv6:2001:db8::1) by y", "from ((((([[[[", "from  by 192.0.2.1", "from 1.2.3.4:5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := receivedFrom(s)
		if ok && !a.IsValid() {
			t.Fatalf("%q: ok without an address", s)
		}
		if ok && !strings.Contains(strings.ToLower(s), strings.Split(a.String(), ":")[0]) && !a.Is6() {
			t.Fatalf("%q: %s is not in it", s, a)
		}
		readHop(s)
		_ = publicAddr(netip.Addr{})
	})
}

// Received headers past the most read are said as not read: the oldest hops,
// where the message came from, are never passed over in silence.
func TestReceivedTooMany(t *testing.T) {
	var b strings.Builder
	for i := range maxReceived + 2 {
		fmt.Fprintf(&b, "Received: from r%d.example.org (r%d.example.org [192.0.2.%d]) by mx.example.com\n", i, i, i%250+1)
	}
	b.WriteString("From: person@example.org\nSubject: hi\n\nhello\n")
	f, err := File(strings.NewReader(b.String()), "m.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Unread) != 1 || !strings.Contains(f.Unread[0], "102 Received headers") {
		t.Errorf("unread %q, want the 2 Received headers not read said", f.Unread)
	}
}

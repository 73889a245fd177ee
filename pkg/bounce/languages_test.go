package bounce

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// Held-out bounces in other languages, encodings and lists (the second QA
// pass): each case failed on the reading before it.
func TestHeldOutReadings(t *testing.T) {
	forwarded := "From: a@example.org\nTo: b@example.com\nSubject: Fwd: bounce\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nSiehe Anhang.\n\n--b\n" +
		"Content-Type: message/rfc822\n\nFrom: MAILER-DAEMON@example.net\nTo: a@example.org\nSubject: Undelivered Mail\n" +
		"Content-Type: text/plain\n\n<u@gmx.net>: host mx.gmx.net[203.0.113.11] said: 554-Transaction failed 554-Reject due to\n" +
		"    policy restrictions. 554 For explanation visit https://www.gmx.net/mail/senderguidelines?ip=192.0.2.220&c=hi\n\n--b--\n"
	tests := []struct {
		name, in string
		check    func(label) bool
	}{
		{"a bounce forwarded as an attachment is read", forwarded,
			func(g label) bool {
				return g.Found && g.Code == "554" && strings.HasPrefix(g.Provider, "GMX") && g.IP == "192.0.2.220"
			}},
		{"a receiver's log of a list's refusal is a bounce", `msg="Host DNSERROR [192.0.2.50] is blacklisted by ips.backscatterer.org"`,
			func(g label) bool { return g.Found && slices.Equal(g.Lists, []string{"backscatterer"}) }},
		{"Cisco IronPort's poor-reputation greeting names Cisco", "554 Your access to this mail system has been rejected due to the sending MTA's poor reputation.",
			func(g label) bool { return strings.HasPrefix(g.Provider, "Cisco") && g.Cause == CauseProvider }},
		{"La Poste's LPN code names La Poste", "550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. LPN007_510",
			func(g label) bool { return strings.HasPrefix(g.Provider, "La Poste") && g.Cause == CauseProvider }},
		{"the PBL a ZEN listing's text names is ZEN's, and no authentication problem",
			"554 5.7.1 Service unavailable; Client host [198.51.100.193] blocked using zen.spamhaus.org\n" +
				"198.51.100.192/26 is listed on the Policy Block List (PBL)\nunauthenticated email sent from this IP address should be sent out only via the designated server",
			func(g label) bool {
				return slices.Equal(g.Lists, []string{"spamhaus-zen"}) && g.Cause == CauseBlacklist
			}},
		{"a frozen mailbox is a recipient problem", "550 Mailbox is frozen. See http://mail.i.ua/err/3/",
			func(g label) bool { return g.Cause == CauseRecipient }},
		{"a size limit exceeded is a recipient problem", "The following address failed:\n\nu@example.org\n\nFor the following reason:\n\nMail size limit exceeded.",
			func(g label) bool { return g.Cause == CauseRecipient }},
		{"a transcript's syntax error is not the refusal", "501 5.5.4 Unrecognized parameter\nMAIL FROM: a@example.com\n250 2.1.0 Sender OK\n" +
			"550 5.7.1 Service unavailable, Client host [198.51.100.40] blocked using Spamhaus.",
			func(g label) bool { return g.Code == "550" && g.Cause == CauseBlacklist }},
		{"a code glued to Chinese words is a code", "邮件投递失败550 Mail content denied. https://service.mail.qq.com/detail/122/171.",
			func(g label) bool { return g.Code == "550" && g.Cause == CauseContent }},
		{"a port is no reply code; a Python tuple's is", "SMTP 服务器: smtp.qq.com:465\n邮件发送失败：邮件数据错误 (550, b'The mail may contain inappropriate words or content.')",
			func(g label) bool { return g.Code == "550" && g.Cause == CauseContent }},
		{"a code glued to 'reply:' is still one", "mx3.qq.com(203.0.113.41) reply:550 The \"From\" header is missing or invalid.",
			func(g label) bool { return g.Code == "550" }},
		{"postscreen's dnsblog log of a listing is a bounce", "postfix/dnsblog[33000]: addr 192.0.2.193 listed by domain zen.spamhaus.org as 127.0.0.4\n" +
			"postfix/postscreen[32998]: DNSBL rank 3 for [192.0.2.193]:60180",
			func(g label) bool { return g.Found && slices.Equal(g.Lists, []string{"spamhaus-zen"}) }},
		{"a recipient domain's MX lookup error is no listing", "Final-Recipient: rfc822; u@example.org\nAction: failed\nStatus: 5.4.4\n" +
			"Diagnostic-Code: X-Outbound-Mail-Relay; Name service error for\n    name=example.org type=MX: Malformed or unexpected name server reply",
			func(g label) bool { return g.Cause == CauseRecipient }},
		{"La Poste's SPF refusal names the client", "550 5.5.0 SPF: 192.0.2.126 is not allowed to send mail. LPN004_401",
			func(g label) bool { return g.IP == "192.0.2.126" && g.Cause == CauseAuth }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g := read(t, []byte(tt.in)); !tt.check(g) {
				t.Errorf("read %+v", g)
			}
		})
	}
}

// A keyed list the bounce names (KEY.zen.dq.spamhaus.net) whose public mirror
// was asked in its stead is said so, not sent to problems nobody shows.
func TestDiagnoseSaysTheMirrorOfAKeyedList(t *testing.T) {
	rep := ParseBytes([]byte("554 5.7.1 Service unavailable; Client host [192.0.2.77] blocked using aaaabbbbccccddddeeeeffffgg.zen.dq.spamhaus.net"))
	cat := catalog.Default()
	hinted := HintedLists(rep, cat, rep.Said())
	res := &dnsbl.Result{Targets: []*dnsbl.TargetResult{{Checks: []dnsbl.Check{
		{Subject: "192.0.2.77", List: cat.ByID("spamhaus-dqs-zen"), Status: dnsbl.Skipped},
		{Subject: "192.0.2.77", List: cat.ByID("spamhaus-zen"), Status: dnsbl.Clean},
	}}}}
	d := Diagnose(rep, Classify(rep, hinted), hinted, res, nil)
	if strings.Contains(d.Summary, "could not be asked") || !strings.Contains(d.Summary, "public mirror Spamhaus ZEN was asked") {
		t.Errorf("summary %q", d.Summary)
	}
}

// A Postfix log line's reply is the receiver's, from its code to its end:
// not the log's own "dsn=4.0.0" before it, nor the log's closing parenthesis.
func TestPostfixLogReplyIsTheReceiversOwn(t *testing.T) {
	rep := ParseBytes([]byte("Apr 21 08:45:15 mail postfix/smtp[1268]: E3FE9AA02A7: to=<u@example.com>, relay=mx.example.com[203.0.113.52]:25, " +
		"dsn=4.0.0, status=deferred (host mx.example.com[203.0.113.52] refused to talk to me: 554 Your access to this mail system " +
		"has been rejected due to the sending MTA's poor reputation. (see the (IronPort) notes))"))
	want := "554 Your access to this mail system has been rejected due to the sending MTA's poor reputation. (see the (IronPort) notes)"
	if rep.Diagnostic != want {
		t.Errorf("diagnostic %q, want %q", rep.Diagnostic, want)
	}
}

// A list named in words that the catalog does not hold is said as a list
// blcheck does not know (a run that could not ask it is incomplete); a known
// list's long name beside its alias is not.
func TestUnknownListNamedInWords(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.7.1 – IP 203.0.113.203 blocked by Vade Threat List (OXSUS001_101).":                         "Vade Threat List",
		"550 Service unavailable; Client Host [192.0.2.4] blocked using Trend Micro RBL+. Please see":      "Trend Micro RBL+",
		"Mail from <192.0.2.11> was refused due to the sender IP found in ERS-DUL. For details":            "ERS-DUL",
		"554 Connection refused. 192.0.2.44 is listed on the Exploits Block List (XBL) <http://x.example>": "",
		"550 Your message was blocked by our bulk email filter":                                            "",
	} {
		rep := ParseBytes([]byte(in))
		HintedLists(rep, catalog.Default(), rep.Said())
		got := UnknownNote(rep)
		if want == "" && got != "" || want != "" && !strings.Contains(got, "names "+want+", a list blcheck does not know") {
			t.Errorf("%q: note %q, want it to name %q", in, got, want)
		}
	}
}

// A listing of the provider's whole network (UCEPROTECT 2 and 3) is not
// one the server's owner can ask to lift: the advice says who can.
func TestAdviceForANetworkWideListing(t *testing.T) {
	cat := catalog.Default()
	for _, id := range []string{"uceprotect-2", "uceprotect-3"} {
		l := cat.ByID(id)
		meanings := slices.Collect(maps.Values(l.Codes))
		got := advice(dnsbl.Check{List: l, DelistURL: "http://www.uceprotect.net/rblcheck.php?ipr=192.0.2.1"}, l, meanings)
		if !strings.Contains(got, "only the network's operator") || strings.Contains(got, "Fix what got it listed") {
			t.Errorf("%s: advice %q", id, got)
		}
	}
}

// The returned message's client submission (webmail "with HTTP", ESMTPSA)
// names the sender's own computer: it is not the address the mail came from,
// and its listing on a policy list (PBL) is no reason the mail was refused.
func TestSubmissionHopIsNotTheSendingAddress(t *testing.T) {
	for _, hop := range []string{
		"from host-192-0-2-206.example.ne.jp (host-192-0-2-206.example.ne.jp [192.0.2.206]) by web20h.example.ru with HTTP;",
		"from [192.0.2.206] (port=51580 helo=[192.0.2.203]) by smtp23.example.ru with esmtpa (envelope-from <a@example.ru>)",
		"from pc.example.org (pc.example.org [192.0.2.206]) by mta.example.org (Postfix) with ESMTPSA id 4F00C1",
		"from [192.0.2.206] ([192.0.2.206]) (authenticated bits=0) by mx6.example.jp (8.14.3/8.14.3) with ESMTP id n3S0",
	} {
		in := "From: MAILER-DAEMON@example.net\nSubject: Undelivered\nMIME-Version: 1.0\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n" +
			"<u@example.net>: host mx.example.net[203.0.113.5] said: 550 5.7.1 sending server is blacklisted\n\n--b\n" +
			"Content-Type: message/rfc822\n\nReceived: " + hop + " Sat, 06 Dec 2014 20:12:26 +0300\n" +
			"From: a@example.ru\nTo: u@example.net\nSubject: test\n\ntest\n--b--\n"
		if rep := ParseBytes([]byte(in)); len(rep.SenderIPs) > 0 || !rep.Found {
			t.Errorf("%q: sender IPs %v (found %v), want none", hop, rep.SenderIPs, rep.Found)
		}
	}
}

// A refusal by a list of addresses whose bounce shows no address of the
// sending server says that address was not checked; one naming the address,
// or a domain list only, does not.
func TestNoSenderAddressNote(t *testing.T) {
	cat := catalog.Default()
	for in, want := range map[string]bool{
		"550 5.7.1 Your message was rejected: sending server is blacklisted":                             true,
		"554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org":          false,
		"554 5.7.1 <a@example.com>: Sender address rejected: example.com blocked using dbl.spamhaus.org": false,
		"550 5.1.1 <u@example.net>: User unknown":                                                        false,
	} {
		rep := ParseBytes([]byte(in))
		hinted := HintedLists(rep, cat, rep.Said())
		if got := NoSenderAddressNote(rep, Classify(rep, hinted), hinted); (got != "") != want {
			t.Errorf("%q: note %q, want one: %v", in, got, want)
		}
	}
}

package bounce

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
)

func parseFixture(t *testing.T, name string) (*Report, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Parse(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return rep, string(data)
}

func TestParse(t *testing.T) {
	tests := []struct {
		file         string
		found        bool
		recipients   []string
		server       Server
		code, status string
		diag         string // contained in the diagnostic
		lists        []string
		senderIPs    []string
		senderDomain string
		provider     string
	}{
		{"qmail-seed.txt", true, []string{"webmaster@php.net"}, Server{Addr: "140.211.166.39"}, "550", "5.7.1",
			"550-5.7.1 reject content [xbl] 550 See http://master.php.net/mail/why.php?why=SURBL",
			[]string{"spamhaus-xbl", "surbl"}, []string{}, "justatheory.com", ""},
		{"postfix-dsn.eml", true, []string{"bob@receiver.example"}, Server{Name: "mx1.receiver.example", Addr: "203.0.113.25"},
			"554", "5.7.1", "Client host [198.51.100.7] blocked using zen.spamhaus.org",
			[]string{"spamhaus-zen"}, []string{"198.51.100.7"}, "sender.example", ""},
		{"exim.txt", true, []string{"carol@receiver.example"}, Server{Name: "mx.receiver.example", Addr: "203.0.113.30"},
			"550", "5.7.1", "550 5.7.1 Rejected: 198.51.100.8 listed at bl.spamcop.net (see https://www.spamcop.net/bl.shtml?198.51.100.8)",
			[]string{"spamcop"}, []string{"198.51.100.8"}, "sender.example", ""},
		{"exchange.txt", true, []string{"erin@contoso.example"}, Server{Name: "am0pr01mb1234.eurprd01.prod.outlook.com"},
			"550", "5.7.606", "banned sending IP [198.51.100.9]", nil, []string{"198.51.100.9"}, "sender.example", "Microsoft"},
		{"gmail.txt", true, []string{"grace@gmail.com"}, Server{}, "550", "5.7.26", "Gmail requires all senders to authenticate",
			nil, []string{"198.51.100.10"}, "", "Google"},
		{"sendmail.txt", true, []string{"heidi@receiver.example"}, Server{Name: "mx.receiver.example"}, "554", "5.7.1",
			"Rejected by UCEPROTECT-Level1", []string{"uceprotect-1"}, []string{}, "", ""},
		{"nolist.txt", true, []string{"ivan@receiver.example"}, Server{}, "550", "5.7.1", "rejected as spam by Content Filtering",
			nil, []string{}, "", ""},
		{"garbled.txt", false, []string{}, Server{}, "", "", "", nil, []string{}, "", ""},
	}
	cat := catalog.Default()
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rep, text := parseFixture(t, tc.file)
			var lists []string
			for _, l := range HintedLists(rep, cat, text) {
				lists = append(lists, l.ID)
			}
			p := DetectProvider(rep, text)
			if rep.Found != tc.found || !slices.Equal(rep.Recipients, tc.recipients) || rep.Server != tc.server ||
				rep.Code != tc.code || rep.Enhanced != tc.status || !strings.Contains(rep.Diagnostic, tc.diag) ||
				!slices.Equal(lists, tc.lists) || !slices.Equal(rep.SenderIPs, tc.senderIPs) || rep.SenderDomain != tc.senderDomain {
				t.Errorf("got found=%v rcpt=%v server=%+v code=%s status=%s\ndiag=%q\nlists=%v ips=%v domain=%q",
					rep.Found, rep.Recipients, rep.Server, rep.Code, rep.Enhanced, rep.Diagnostic, lists, rep.SenderIPs, rep.SenderDomain)
			}
			if (p == nil) != (tc.provider == "") || p != nil && !strings.Contains(p.Name, tc.provider) {
				t.Errorf("provider %+v, want %q", p, tc.provider)
			}
		})
	}
}

func TestWordIndex(t *testing.T) {
	for _, tc := range []struct {
		s, w string
		dot  bool
		want bool
	}{
		{"reject content [xbl]", "xbl", true, true},
		{"why.php?why=surbl", "surbl", true, true},
		{"see www.spamhaus.org/query", "spamhaus", true, true},
		{"xblock", "xbl", true, false},
		{"blocked using zen.spamhaus.org;", "zen.spamhaus.org", false, true},
		{"blocked using dnsbl-1.uceprotect.net", "uceprotect.net", false, false},
	} {
		if got := wordIndex(tc.s, tc.w, tc.dot) >= 0; got != tc.want {
			t.Errorf("wordIndex(%q, %q) = %v", tc.s, tc.w, got)
		}
	}
}

// maxFuzzInput bounds one fuzz input; the quadratic-input benchmarks cover size.
const maxFuzzInput = 64 << 10

func FuzzParse(f *testing.F) {
	for _, n := range []string{"qmail-seed.txt", "postfix-dsn.eml", "exim.txt", "exchange.txt", "gmail.txt", "sendmail.txt"} {
		data, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(data)
	}
	corpus, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.*"))
	for _, path := range corpus { // every bounce of the labelled corpus is a seed
		if data, err := os.ReadFile(path); err == nil && !strings.HasSuffix(path, ".json") {
			f.Add(data)
		}
	}
	f.Add([]byte("Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nDiagnostic-Code: smtp; 5"))
	// Latin-1 text: lower-casing must not move byte offsets (it used to panic)
	f.Add([]byte("<a@b.test>: host mx.b.test[198.51.100.5] said: 550 5.7.1 zur\xfcckgewiesen \xfc\xfc, see spamcop\n"))
	f.Add([]byte("Diagnostic-Code: smtp; 550 \xc4\xd6\xdc blocked using ZEN.SPAMHAUS.ORG \xff\xfe SpamCop\r\n"))
	cat := catalog.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return // each input is bounded: the fuzzer's progress is in many small inputs
		}
		rep, err := Parse(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		HintedLists(rep, cat, string(data))
		DetectProvider(rep, string(data))
		for _, ip := range rep.SenderIPs {
			if ip == rep.Server.Addr {
				t.Fatalf("the rejecting server was taken for the sender: %s", ip)
			}
		}
		if rep.Found && rep.Code == "" && rep.Enhanced == "" && len(rep.Recipients) == 0 && rep.Diagnostic == "" &&
			!failureRE().MatchString(rep.human) {
			t.Fatalf("found with nothing in it: %+v", rep)
		}
	})
}

// hostileBounce is a rejection followed by about 1 MB of links (a bounce that
// returns a long newsletter): reading it must stay linear.
func hostileBounce() []byte {
	var b strings.Builder
	b.WriteString("<a@b.test>: host mx.b.test[198.51.100.5] said: 550 5.7.1 blocked using zen.spamhaus.org\n\n")
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "http://link%d.example.com/page?u=%d\n", i, i)
	}
	return []byte(b.String())
}

func BenchmarkHostileBounce(b *testing.B) {
	data := hostileBounce()
	cat := catalog.Default()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rep, err := Parse(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		HintedLists(rep, cat, string(data))
		DetectProvider(rep, string(data))
	}
}

// Only the receiver's words: a bounce's own transport headers (ARC-Seal of
// Google, Authentication-Results, a Barracuda appliance as the reporting MTA or
// the sender of the report) never make a provider claim or a list hint, and the
// "rate" inside "auto-generated" is no rate limit.
func TestOnlyTheReceiversWords(t *testing.T) {
	bounce := "ARC-Seal: i=1; a=rsa-sha256; d=google.com; s=arc-20160816; cv=none\r\n" +
		"Authentication-Results: mx.google.com; dkim=pass; spf=pass; dmarc=pass (p=NONE) header.from=sender.example\r\n" +
		"Received: from barracuda.example.net (barracuda.example.net [192.0.2.30]) by mx.google.com\r\n" +
		"From: Barracuda Spam Firewall <mailer-daemon@example.net>\r\n" +
		"Subject: Delivery Status Notification (Failure)\r\n" +
		"Auto-Submitted: auto-generated\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\n" +
		"This is an auto-generated message. Your message to ivan@receiver.example could not be delivered:\r\n" +
		"the mailbox is full.\r\n\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; barracuda.example.net\r\n\r\n" +
		"Final-Recipient: rfc822; ivan@receiver.example\r\nAction: failed\r\nStatus: 5.7.1\r\n" +
		"Diagnostic-Code: smtp; 552 5.2.2 The email account that you tried to reach is over quota\r\n--B--\r\n"
	rep, err := Parse(strings.NewReader(bounce))
	if err != nil {
		t.Fatal(err)
	}
	if p := DetectProvider(rep, bounce); p != nil {
		t.Errorf("provider claimed from the bounce's own headers: %+v", p)
	}
	if lists := HintedLists(rep, catalog.Default(), rep.Said()); len(lists) != 0 {
		t.Errorf("a product name in the headers taken for a list: %v", lists)
	}
	if !strings.Contains(rep.Said(), "mailbox is full") || strings.Contains(rep.Said(), "ARC-Seal") {
		t.Errorf("Said: %q", rep.Said())
	}
}

// The sending address the rejection names is found in the wordings receivers
// use, never the receiver's own address.
func TestNamedSenderIP(t *testing.T) {
	tests := []struct{ said, want string }{
		{"421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints", "192.0.2.25"},
		{"550-192.0.2.222 blocked by ivmSIP", "192.0.2.222"},
		{"550-5.7.1 [192.0.2.22      18] Our system has detected that this message is likely unsolicited mail", "192.0.2.22"},
		{"554 5.7.1 The mail server [192.0.2.23] has been blocked", "192.0.2.23"},
		{"554 Connections will not be accepted from 192.0.2.20, because the ip is in Spamhaus's list", "192.0.2.20"},
		{"550 5.7.1 Service unavailable; for host 192.0.2.24 blocked using zen.spamhaus.org", "192.0.2.24"},
		{"550 5.7.1 Rejected: 192.0.2.60 listed at zen.spamhaus.org", "192.0.2.60"},
	}
	for _, tc := range tests {
		bounce := "<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: " + tc.said + "\n"
		rep, err := Parse(strings.NewReader(bounce))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.SenderIPs) == 0 || rep.SenderIPs[0] != tc.want || slices.Contains(rep.SenderIPs, "198.51.100.5") {
			t.Errorf("%q: sender IPs %v, want %s first (and never the receiver's 198.51.100.5)", tc.said, rep.SenderIPs, tc.want)
		}
	}
}

// A 4xx reply is a deferral, said as one.
func TestDeferralIsSaidAsOne(t *testing.T) {
	rep, _ := Parse(strings.NewReader("<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: " +
		"421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred\n"))
	if got := said(rep); !strings.Contains(got, "deferred (refused for now") || strings.Contains(got, "rejected") {
		t.Errorf("said: %q", got)
	}
}

// Receivers whose list is their own are named, with the link their bounce carries.
func TestOwnListsOfReceivers(t *testing.T) {
	tests := []struct{ said, provider, link string }{
		{"550 5.7.1 Unfortunately, messages from [192.0.2.40] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). OU-002", "Microsoft", ""},
		{"451 4.7.650 The mail server [192.0.2.41] has been temporarily rate limited due to IP reputation. (S3113)", "Microsoft", ""},
		{"550 5.7.1 Service refuse. Veuillez essayer plus tard. OFR006_112 [192.0.2.42] https://csi.cloudmark.com/reset-request/?ip=192.0.2.42", "Orange", "https://csi.cloudmark.com/reset-request/?ip=192.0.2.42"},
		{"554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.43", "Proofpoint", "https://ipcheck.proofpoint.com/?ip=192.0.2.43"},
		{"554 5.7.1 192.0.2.44 rejected - AUP#CDRBL - https://www.cox.com/internet/support/error-codes", "Cox", "https://www.cox.com/internet/support/error-codes"},
		{"550 Host network not allowed - https://community.mimecast.com/docs/DOC-1369#550", "Mimecast", "https://community.mimecast.com/docs/DOC-1369#550"},
		{"550 Mail is rejected by recipients [frequency limited] https://service.mail.qq.com/detail/0/123", "Tencent", "https://service.mail.qq.com/detail/0/123"},
	}
	// a product name alone is no provider's verdict
	rep, _ := Parse(strings.NewReader("<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: " +
		"550 5.1.1 User unknown\n\nThis message was scanned by Proofpoint and Mimecast.\n"))
	if p := DetectProvider(rep, ""); p != nil {
		t.Errorf("a footer's product names made a claim: %+v", p)
	}
	for _, tc := range tests {
		rep, _ := Parse(strings.NewReader("<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: " + tc.said + "\n"))
		p := DetectProvider(rep, "")
		if p == nil || !strings.Contains(p.Name, tc.provider) || p.Link != tc.link {
			t.Errorf("%q: provider %+v, want %s with link %q", tc.said, p, tc.provider, tc.link)
		}
	}
}

// What is listed chooses the lists: a domain listing points at the named
// operator's domain lists, and a domain the rejection names is checked.
func TestDomainListings(t *testing.T) {
	cat := catalog.Default()
	rep, _ := Parse(strings.NewReader("<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: " +
		"550 5.7.1 MailFrom domain is listed in Spamhaus. Please see https://www.spamhaus.org/query/dbl?domain=sender.example\n"))
	var ids []string
	for _, l := range HintedLists(rep, cat, rep.Said()) {
		ids = append(ids, l.ID)
	}
	if !slices.Contains(ids, "spamhaus-dbl") {
		t.Errorf("a domain listing at Spamhaus points at DBL: %v", ids)
	}
	rep, _ = Parse(strings.NewReader("<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: " +
		"554 5.7.1 Blacklisted URL in message. (bad-shop.example) in SURBL\n"))
	if !slices.Equal(rep.NamedDomains, []string{"bad-shop.example"}) {
		t.Errorf("named domains: %v", rep.NamedDomains)
	}
}

// Real bounces are read however they come: a single part in quoted-printable
// (a soft break inside the list's name) or base64, a report inside
// multipart/alternative, a declared boundary that is not the one used, CR-only
// line ends.
func TestReadEveryBounce(t *testing.T) {
	said := "<ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: 550 5.7.1 Service unavailable; " +
		"Client host [192.0.2.50] blocked using cbl.abuseat.org\n"
	qp := "From: MAILER-DAEMON@mx.sender.example\nSubject: Undelivered Mail\nMIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\n" +
		strings.Replace(said, "cbl.abuseat.org", "cbl.abu=\nseat.org", 1)
	b64 := "From: MAILER-DAEMON@mx.sender.example\nSubject: Undelivered Mail\nMIME-Version: 1.0\n" +
		"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte(said)) + "\n"
	nested := "From: MAILER-DAEMON@mx.sender.example\nSubject: failure\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=\"OUT\"\n\n--OUT\nContent-Type: multipart/alternative; boundary=\"IN\"\n\n" +
		"--IN\nContent-Type: text/plain\n\n" + said + "\n--IN--\n--OUT--\n"
	wrongBoundary := "From: MAILER-DAEMON@mx.sender.example\nSubject: failure\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; boundary=\"DECLARED\"\n\n--USED\nContent-Type: text/plain\n\n" + said + "\n--USED--\n"
	crOnly := strings.ReplaceAll("From: MAILER-DAEMON@mx.sender.example\nSubject: failure\n\n"+said, "\n", "\r")
	for name, bounce := range map[string]string{"quoted-printable": qp, "base64": b64, "nested": nested,
		"wrong boundary": wrongBoundary, "CR-only": crOnly} {
		rep, err := Parse(strings.NewReader(bounce))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range HintedLists(rep, catalog.Default(), rep.Said()) {
			ids = append(ids, l.ID)
		}
		if !rep.Found || rep.Code != "550" || !slices.Contains(ids, "cbl") || !slices.Contains(rep.SenderIPs, "192.0.2.50") {
			t.Errorf("%s: found %v, code %q, lists %v, sender IPs %v, diagnostic %q", name, rep.Found, rep.Code, ids, rep.SenderIPs, rep.Diagnostic)
		}
	}
}

// Bounces without a reply code, or with it in the middle of a line, are read:
// Exchange's "reason:", Exim's "host X [IP]: 550", Domino's "because:",
// Exchange 2003's indented reason under the recipient.
func TestReasonsWithoutAReplyAtTheStart(t *testing.T) {
	tests := []struct{ bounce, diag string }{
		{"Delivery has failed to these recipients or groups:\nivan@receiver.example\nreason: 550 5.7.1 Message rejected as spam by Content Filtering.\n",
			"550 5.7.1 Message rejected as spam"},
		{"The following address(es) failed:\n\n  ivan@receiver.example\n    host mx.receiver.example [198.51.100.5]: 550 5.7.1 Rejected: 192.0.2.60 listed at zen.spamhaus.org\n",
			"550 5.7.1 Rejected: 192.0.2.60 listed at zen.spamhaus.org"},
		{"Your message\n\n  Subject: test\n\nwas not delivered to:\n\n  ivan@receiver.example\n\nbecause:\n\n  User ivan (ivan@receiver.example) not listed in Domino Directory\n",
			"not listed in Domino Directory"},
		{"The following recipient(s) cannot be reached:\n  ivan@receiver.example on 01/12/2026 10:00\n    The e-mail account does not exist at the organization this message was sent to.\n",
			"The e-mail account does not exist"},
	}
	for _, tc := range tests {
		rep, err := Parse(strings.NewReader(tc.bounce))
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Found || !strings.Contains(rep.Diagnostic, tc.diag) || !slices.Equal(rep.Recipients, []string{"ivan@receiver.example"}) {
			t.Errorf("%q: found %v, diagnostic %q, recipients %v", tc.bounce[:40], rep.Found, rep.Diagnostic, rep.Recipients)
		}
	}
}

// An RFC 3464 report that says Action: failed is a bounce even without a code
// or a reason, and is said as what it is.
func TestFailedActionWithoutReason(t *testing.T) {
	bounce := "From: MAILER-DAEMON@mx.sender.example\nSubject: failure\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n" +
		"--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n" +
		"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.sender.example\n\n" +
		"Final-Recipient: rfc822; ivan@receiver.example\nAction: failed\n\n--B--\n"
	rep, err := Parse(strings.NewReader(bounce))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Found || !strings.Contains(said(rep), "a delivery report with no reason given") {
		t.Errorf("found %v, said %q", rep.Found, said(rep))
	}
}

// A bounce forwarded inline, quoted by the mail client, is read.
func TestForwardedQuotedBounce(t *testing.T) {
	fwd := "---------- Forwarded message ---------\n" +
		"> From: Mail Delivery System <MAILER-DAEMON@mx.sender.example>\n" +
		"> Subject: Undelivered Mail Returned to Sender\n>\n" +
		"> <ivan@receiver.example>: host mx.receiver.example[198.51.100.5] said: 554 5.7.1\n" +
		">     Service unavailable; Client host [192.0.2.70] blocked using bl.spamcop.net\n"
	rep, err := Parse(strings.NewReader(fwd))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Found || rep.Code != "554" || !slices.Contains(rep.SenderIPs, "192.0.2.70") {
		t.Errorf("found %v code %q ips %v diag %q", rep.Found, rep.Code, rep.SenderIPs, rep.Diagnostic)
	}
}

// The wordings issue #25 names: lists named in words and across continuation
// lines, the client address in every form (never the receiver's own).
func TestListsInWordsAndClientAddresses(t *testing.T) {
	tests := []struct {
		name, bounce string
		lists        []string
		ip           string
		cause        string
	}{
		{"Barracuda across 554- lines", "554-mx.example.net\n554-Service unavailable; Client host [192.0.2.31] blocked using\n" +
			"554 Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.31\n",
			[]string{"barracuda"}, "192.0.2.31", CauseBlacklist},
		{"in Spamhaus's list", "550 5.7.1 Your IP address 192.0.2.40 is in Spamhaus's list, mail refused\n",
			[]string{"spamhaus-zen"}, "192.0.2.40", CauseBlacklist},
		{"on Spamhaus XBL", "550 5.7.1 Rejected: 192.0.2.41 is on Spamhaus XBL\n", []string{"spamhaus-xbl"}, "192.0.2.41", CauseBlacklist},
		{"SBL with a Spamhaus link is not ZEN", "554 5.7.1 Service unavailable; Client host [192.0.2.42] blocked using sbl.spamhaus.org; " +
			"https://www.spamhaus.org/query/ip/192.0.2.42\n", []string{"spamhaus-sbl"}, "192.0.2.42", CauseBlacklist},
		{"Mail from IP not allowed", "550 5.7.1 Mail from IP 192.0.2.50 not allowed\n", nil, "192.0.2.50", CauseBlacklist},
		{"Mail from address not allowed", "554 Mail from 192.0.2.51 not allowed\n", nil, "192.0.2.51", CauseBlacklist},
		{"comcast IP", "554 imta14.emeryville.ca.mail.comcast.net comcast 192.0.2.2 Comcast block for spam.\n", nil, "192.0.2.2", CauseProvider},
		{"Comcast PTR", "550 5.1.0 imta01.westchester.pa.mail.comcast.net comcast 192.0.2.3 Comcast requires that all mail servers " +
			"must have a PTR record with a valid Reverse DNS entry.\n", nil, "192.0.2.3", CauseRDNS},
		{"Gmail IPv6 bracket", "550-5.7.1 [2001:db8::25      12] Our system has detected that this message is\n" +
			"550 5.7.1 likely unsolicited mail. - gsmtp\n", nil, "2001:db8::25", CauseContent},
		{"never the receiver's own", "<a@example.net>: host mx.example.net[198.51.100.5] said: 554 5.7.1 rejected [198.51.100.5]\n",
			nil, "", CauseOther},
	}
	cat := catalog.Default()
	for _, tt := range tests {
		rep := ParseBytes([]byte(tt.bounce))
		hinted := HintedLists(rep, cat, rep.Said())
		rep.Provider = DetectProvider(rep, "")
		var ids []string
		for _, l := range hinted {
			ids = append(ids, l.ID)
		}
		ip := ""
		if len(rep.SenderIPs) > 0 {
			ip = rep.SenderIPs[0]
		}
		if cause := Classify(rep, hinted).Kind; !rep.Found || !slices.Equal(ids, tt.lists) || ip != tt.ip || cause != tt.cause {
			t.Errorf("%s: found %v, lists %v, ip %q, cause %s; want %v %q %s", tt.name, rep.Found, ids, ip, cause, tt.lists, tt.ip, tt.cause)
		}
	}
}

// A bounce in another language and charset, without a reply code, is one:
// Russian in KOI8-R, Latvian in Windows-1257, Chinese in GB2312.
func TestForeignBouncesWithoutCodes(t *testing.T) {
	for name, tc := range map[string]struct{ charset, body string }{
		"koi8-r":       {"koi8-r", "\xf3\xcf\xcf\xc2\xdd\xc5\xce\xc9\xc5 \xce\xc5 \xcd\xcf\xd6\xc5\xd4 \xc2\xd9\xd4\xd8 \xc4\xcf\xd3\xd4\xc1\xd7\xcc\xc5\xce\xcf"}, // Сообщение не может быть доставлено
		"windows-1257": {"windows-1257", "J\xfbsu v\xebstuli nevar\xe7ja pieg\xe2d\xe2t adres\xe2tam."},                                                            // Jūsu vēstuli nevarēja piegādāt adresātam.
		"gb2312":       {"gb2312", "\xd3\xca\xbc\xfe\xce\xde\xb7\xa8\xb7\xa2\xcb\xcd\xb5\xbd\xc4\xfa\xd6\xb8\xb6\xa8\xb5\xc4\xb5\xd8\xd6\xb7\xd6\xd0\xa1\xa3"},     // 邮件无法发送到您指定的地址中。
	} {
		msg := "From: MAILER-DAEMON@mx.example.net\nSubject: failure\nMIME-Version: 1.0\nContent-Type: text/plain; charset=" +
			tc.charset + "\nContent-Transfer-Encoding: 8bit\n\n" + tc.body + "\n\n<bob@example.net>\n"
		rep := ParseBytes([]byte(msg))
		if !rep.Found {
			t.Errorf("%s: not found; read %q", name, rep.human)
		}
	}
}

// DragonFly's dma: "There was an error delivering your mail", the returned
// headers after "Message headers follow.".
func TestDMABounce(t *testing.T) {
	bounce := "This is the DragonFly Mail Agent v0.11 at mail.sender.example.\n\n" +
		"There was an error delivering your mail to <bob@example.net>.\n\n" +
		"remote delivery deferred: mx.example.net [198.51.100.7] failed after RCPT TO: 554 5.7.1 Service unavailable; " +
		"Client host [192.0.2.77] blocked using bl.spamcop.net\n\n" +
		"Message headers follow.\n\nFrom: alice@sender.example\nTo: bob@example.net\nSubject: hi\n"
	rep := ParseBytes([]byte(bounce))
	if !rep.Found || rep.Code != "554" || rep.SenderDomain != "sender.example" || !slices.Equal(rep.SenderIPs, []string{"192.0.2.77"}) {
		t.Errorf("found %v code %q domain %q ips %v diag %q", rep.Found, rep.Code, rep.SenderDomain, rep.SenderIPs, rep.Diagnostic)
	}
}

// A delivery report pasted without its MIME structure, with "Action: failure"
// and a reply code where its status belongs, is a bounce with that code.
func TestFlatReportWithFailureAction(t *testing.T) {
	bounce := "Reporting-MTA: dns; mx.sender.example\n\nFinal-Recipient: rfc822; bob@example.net\nAction: failure\n" +
		"Status: 550\nRemote-MTA: dns; mx.example.net\n"
	rep := ParseBytes([]byte(bounce))
	if !rep.Found || rep.Code != "550" || !slices.Equal(rep.Recipients, []string{"bob@example.net"}) || rep.Server.Name != "mx.example.net" {
		t.Errorf("found %v code %q recipients %v server %+v", rep.Found, rep.Code, rep.Recipients, rep.Server)
	}
}

// Exchange's HTML-only report is read as text: its reply inside entities.
func TestHTMLOnlyReport(t *testing.T) {
	bounce := "From: postmaster@contoso.example\nSubject: Undeliverable: hello\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/html; charset=utf-8\n\n" +
		"<html><body><p><b>Your message to bob@contoso.example couldn&#39;t be delivered.</b></p>" +
		"<p>Remote Server returned &#39;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup&#39;</p>" +
		"<style>p { color: red }</style></body></html>\n--B--\n"
	rep := ParseBytes([]byte(bounce))
	if !rep.Found || rep.Code != "550" || rep.Enhanced != "5.1.10" || Classify(rep, nil).Kind != CauseRecipient {
		t.Errorf("found %v code %q enhanced %q diag %q cause %s", rep.Found, rep.Code, rep.Enhanced, rep.Diagnostic, Classify(rep, nil).Kind)
	}
}

// Providers' and MTAs' wordings the corpus lacks, each with the provider and
// cause a reader gives it.
func TestMoreWordings(t *testing.T) {
	tests := []struct{ bounce, provider, cause string }{
		{"554-gmx.net (mxgmx016) Nemesis ESMTP Service not available\n554-No SMTP service\n554-Bad DNS PTR resource record.\n" +
			"554 For explanation visit https://postmaster.gmx.net/en/case?c=hi&i=ip&v=192.0.2.1&r=abc\n", "GMX", CauseRDNS},
		{"421-4.7.0 [192.0.2.1 15] Our system has detected that this message is\n421-4.7.0 suspicious due to the very low " +
			"reputation of the sending IP address. - gsmtp\n", "Google", CauseRate},
		{"550 Message rejected under suspicion of SPAM; https://ipcheck.proofpoint.com/?ip=192.0.2.1\n", "Proofpoint", CauseProvider},
		{"554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.\n", "", CauseContent},
		{"550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550\n", "Mimecast", CauseProvider},
		{"550 5.7.1 Your message was rejected: the sending IP has a poor reputation.\n", "", CauseProvider},
		{"Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n", "", CauseRate},
		{"554 5.7.1 Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1600000000-abcdef\n", "", CauseContent},
		{"550 High probability of spam\n", "", CauseContent},
	}
	for _, tt := range tests {
		rep := ParseBytes([]byte(tt.bounce))
		hinted := HintedLists(rep, catalog.Default(), rep.Said())
		rep.Provider = DetectProvider(rep, "")
		p := ""
		if rep.Provider != nil {
			p = rep.Provider.Name
		}
		if cause := Classify(rep, hinted).Kind; !rep.Found || !strings.HasPrefix(p, tt.provider) || (tt.provider == "") != (p == "") || cause != tt.cause {
			t.Errorf("%.50q: found %v, provider %q, cause %s; want %q %s", tt.bounce, rep.Found, p, cause, tt.provider, tt.cause)
		}
	}
}

// A rejection that names a blacklist is a blacklist rejection, even beside
// words that otherwise mean a recipient problem (which would check nothing
// and exit 0).
func TestListedBesideRecipientWords(t *testing.T) {
	bounce := "From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail Returned to Sender\n\n" +
		"<bob@example.net>: host mx.example.net[203.0.113.5] said: 554 5.7.1 <bob@example.net>: " +
		"Recipient address rejected: your IP 198.51.100.7 is on our blacklist (in reply to RCPT TO command)\n"
	rep := ParseBytes([]byte(bounce))
	if got := Classify(rep, nil).Kind; !rep.Found || got == CauseRecipient {
		t.Errorf("found %v, cause %s (diag %q): want a blacklist rejection", rep.Found, got, rep.Diagnostic)
	}
}

// A list named by a zone blcheck cannot ask is said, never taken for "a list
// the receiver does not name": a zone no catalog list holds is an unknown-zone
// hint with no list; a keyed list's zone, with the receiver's key in front or
// without it, and the parent zone a reply map writes, name the keyed list
// (whose key the hint never repeats).
func TestZonesNamedThatAreNotAsked(t *testing.T) {
	cat := catalog.Default()
	tests := []struct {
		name, text string
		hints      []Hint // Text, Kind, List
		lists      []string
	}{
		{"unknown zone", "550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using hostkarma.junkemailfilter.com; " +
			"Blacklisted - see http://ipadmin.junkemailfilter.com/remove.php?ip=192.0.2.10",
			[]Hint{{Text: "hostkarma.junkemailfilter.com", Kind: "unknown zone"}}, nil},
		{"Exim's black list at an unknown zone", "550 rejected because 192.0.2.10 is in a black list at sip.invaluement.com",
			[]Hint{{Text: "sip.invaluement.com", Kind: "unknown zone"}}, nil},
		{"a known zone is no unknown one", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using bl.spamcop.net",
			[]Hint{{Text: "bl.spamcop.net", Kind: "zone", List: "spamcop"}}, []string{"spamcop"}},
		{"a sub-zone of a named list", "554 Service unavailable; Client host [192.0.2.10] blocked using dul.dnsbl.sorbs.net; Dynamic IP",
			nil, nil},
		{"keyed zone with the receiver's key", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using " +
			"0123456789abcdef0123456789abcdef.combined.mail.abusix.zone; https://lookup.abusix.com/search?q=192.0.2.10",
			[]Hint{{Text: "combined.mail.abusix.zone", Kind: "zone", List: "abusix-combined"}}, []string{"abusix-combined"}},
		{"keyed zone without a key", "550 5.7.1 Service unavailable; client [192.0.2.10] blocked using combined.mail.abusix.zone",
			[]Hint{{Text: "combined.mail.abusix.zone", Kind: "zone", List: "abusix-combined"}}, []string{"abusix-combined"}},
		{"DQS zone", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using abcdefghijklmnopqrstuvwxyz.zen.dq.spamhaus.net; " +
			"https://www.spamhaus.org/query/ip/192.0.2.10",
			[]Hint{{Text: "zen.dq.spamhaus.net", Kind: "zone", List: "spamhaus-dqs-zen"}}, []string{"spamhaus-dqs-zen"}},
		{"a reply map's parent zone", "550 5.7.1 Service unavailable; client [192.0.2.10] blocked using mail.abusix.zone; from=<a@example.org>",
			[]Hint{{Text: "mail.abusix.zone", Kind: "zone", List: "abusix-combined"}}, []string{"abusix-combined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := ParseBytes([]byte(tt.text + "\n"))
			var ids []string
			for _, l := range HintedLists(rep, cat, rep.Said()) {
				ids = append(ids, l.ID)
			}
			var hints []Hint
			for _, h := range rep.Hints {
				if tt.name == "a sub-zone of a named list" && h.Kind == "unknown zone" {
					t.Errorf("dul.dnsbl.sorbs.net is SORBS's, not an unknown list: %+v", rep.Hints)
				}
				hints = append(hints, Hint{Text: h.Text, Kind: h.Kind, List: h.List})
			}
			if tt.name == "a sub-zone of a named list" {
				return
			}
			if !slices.Equal(hints, tt.hints) || !slices.Equal(ids, tt.lists) {
				t.Errorf("hints %+v lists %v, want %+v %v", hints, ids, tt.hints, tt.lists)
			}
			if note := UnknownNote(rep); (note != "") != (tt.lists == nil) || strings.Contains(note, "0123456789abcdef") {
				t.Errorf("UnknownNote = %q", note)
			}
		})
	}
}

// The sender's domain is checked when the rejection names it: Postfix's
// reject_rhsbl_sender brackets the whole address, its "<a@b>: Sender address
// rejected" and a receiver's log line (from=<a@b>) name the envelope sender.
func TestSenderDomainInTheRejection(t *testing.T) {
	tests := []struct{ text, named, sender string }{
		{"554 5.7.1 <news@promo.example.org>: Sender address rejected: Service unavailable; Sender address " +
			"[news@promo.example.org] blocked using dbl.spamhaus.org", "promo.example.org", "promo.example.org"},
		{"NOQUEUE: reject: RCPT from mail.example.org[198.51.100.21]: 554 5.7.1 Service unavailable; Client host " +
			"[198.51.100.21] blocked using zen.spamhaus.org; from=<me@example.org> to=<you@example.net> proto=ESMTP", "", "example.org"},
		{"550 Service unavailable; Client host [mail.example.org] blocked using Barracuda Reputation", "", ""},
	}
	for _, tt := range tests {
		rep := ParseBytes([]byte(tt.text + "\n"))
		if named := strings.Join(rep.NamedDomains, ","); named != tt.named || rep.SenderDomain != tt.sender {
			t.Errorf("%.60q: named %q sender %q, want %q %q", tt.text, named, rep.SenderDomain, tt.named, tt.sender)
		}
	}
}

// A gateway's spoofing protection is no reputation block, and an unreachable
// recipient domain no reason without a name.
func TestSpoofingAndUnreachableDomain(t *testing.T) {
	tests := []struct{ text, kind, words string }{
		{"550 Rejected by header based Anti-Spoofing policy: user@example.net - https://community.mimecast.com/docs/DOC-1369#550 [Ab12.uk78]",
			CauseAuth, "Spoofing protection"},
		{"554 The mail could not be delivered to the recipient because the domain is not reachable. Please check the domain and try again",
			CauseRecipient, "could not be reached"},
	}
	for _, tt := range tests {
		rep := ParseBytes([]byte(tt.text + "\n"))
		rep.Provider = DetectProvider(rep, "")
		if c := Classify(rep, HintedLists(rep, catalog.Default(), rep.Said())); c.Kind != tt.kind || !strings.Contains(c.Words, tt.words) {
			t.Errorf("%.50q: %+v", tt.text, c)
		}
	}
}

// A bounce to several recipients quotes the reply that says why: one
// recipient's "User unknown" is no reason for the blacklist the next one's
// server named, and that server is the one named as rejecting (Postfix's text
// and its delivery report alike). A transcript's "503 No recipients" is no
// better reason than "Over quota".
func TestSeveralRecipientsTheReasonThatSaysMore(t *testing.T) {
	text := "<alice@example.net>: host mx.example.net[203.0.113.5] said: 550 5.1.1\n" +
		"    <alice@example.net>: Recipient address rejected: User unknown in virtual\n" +
		"    mailbox table (in reply to RCPT TO command)\n\n" +
		"<bob@example.org>: host mx.example.org[198.51.100.7] said: 554 5.7.1 Service\n" +
		"    unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org;\n" +
		"    https://www.spamhaus.org/query/ip/192.0.2.10 (in reply to RCPT TO command)\n"
	dsn := "From: MAILER-DAEMON@mail.example.com\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\n" +
		"Content-Type: text/plain\n\nThis is the mail system at host mail.example.com.\n\n--b\n" +
		"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.com\n\n" +
		"Final-Recipient: rfc822; alice@example.net\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.net\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown\n\n" +
		"Final-Recipient: rfc822; bob@example.org\nAction: failed\nStatus: 5.7.1\nRemote-MTA: dns; mx.example.org\n" +
		"Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked\n    using zen.spamhaus.org\n--b--\n"
	for name, in := range map[string]string{"text": text, "report": dsn} {
		rep := ParseBytes([]byte(in))
		if !strings.Contains(rep.Diagnostic, "blocked using zen.spamhaus.org") || rep.Server.Name != "mx.example.org" ||
			rep.Code != "554" || rep.Enhanced != "5.7.1" || !strings.Contains(said(rep), "your mail to bob@example.org: 554") {
			t.Errorf("%s: %q from %+v (%s %s)", name, rep.Diagnostic, rep.Server, rep.Code, rep.Enhanced)
		}
	}
	rep := ParseBytes([]byte("   ----- Transcript of session follows -----\n... while talking to localhost:\n>>> DATA\n" +
		"<<< 452 4.2.2 Over quota\n<@>... Deferred: 452 4.2.2 Over quota\n<<< 503 5.5.1 No recipients\n"))
	if rep.Code != "452" {
		t.Errorf("transcript: %q (%s)", rep.Diagnostic, rep.Code)
	}
}

// A domain list that refused the client's host name (Postfix's
// reject_rhsbl_client) judged the server's name, not the mail: a blacklist,
// and the name is checked; URIBL's "Query Refused" is the receiver's broken
// setup, and its "Your DNS IP" is the receiver's resolver, not the sender.
func TestClientNameOnADomainList(t *testing.T) {
	cat := catalog.Default()
	rep := ParseBytes([]byte("554 5.7.1 Service unavailable; Client host [mail.example.com] blocked using multi.uribl.com; " +
		"127.0.0.1 -> Query Refused. See http://uribl.com/refused.shtml for more information [Your DNS IP: 192.0.2.53]\n"))
	hinted := HintedLists(rep, cat, rep.Said())
	c := Classify(rep, hinted)
	if c.Kind != CauseBlacklist || !strings.Contains(c.Words, `"Query Refused"`) || len(rep.SenderIPs) != 0 ||
		!slices.Equal(rep.NamedDomains, []string{"mail.example.com"}) {
		t.Errorf("%+v ips %v named %v", c, rep.SenderIPs, rep.NamedDomains)
	}
	// an IP list names the client by its host name too: that name is not what it lists
	rep = ParseBytes([]byte("550 Service unavailable; Client host [smtp.example.com] blocked using b.barracudacentral.org\n"))
	HintedLists(rep, cat, rep.Said())
	if len(rep.NamedDomains) != 0 {
		t.Errorf("named %v", rep.NamedDomains)
	}
}

// A link to Spamhaus's lookup page for a domain names DBL and the domain,
// whatever words come with it ("Spamhaus" alone would stand for ZEN).
func TestSpamhausDomainLink(t *testing.T) {
	rep := ParseBytes([]byte("554 5.7.1 <news@promo.example.org>: Sender address rejected: Rejected by Spamhaus, " +
		"see https://www.spamhaus.org/query/domain/promo.example.org\n"))
	var ids []string
	for _, l := range HintedLists(rep, catalog.Default(), rep.Said()) {
		ids = append(ids, l.ID)
	}
	if !slices.Equal(ids, []string{"spamhaus-dbl"}) || !slices.Contains(rep.NamedDomains, "promo.example.org") {
		t.Errorf("lists %v, named %v", ids, rep.NamedDomains)
	}
}

// A reply Postfix wrapped, pasted with its indent lost, is read whole: what
// blcheck says the receiver said ends where the receiver's words end (the
// next recipient, a report's field, a blank line), not at the first line end.
func TestPostfixReplyWithoutIndentIsReadWhole(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<u@free.fr>: delivery temporarily suspended: host\nmx2.free.fr[212.27.42.59] refused to talk to me: 421 Refused. Your reverse\nDNS entry does not resolve.\n",
			"421 Refused. Your reverse DNS entry does not resolve."},
		{"<u@wanadoo.fr>: host smtp-in.orange.fr[80.12.26.32] refused to\ntalk to me: 550 opmta1 Adresse IP source\nbloquee par Abusix. IP blocked by Abusix, OFR004_100 please visit\nhttps://lookup.abusix.com/search?q=203.0.113.126 [100]\n\n<v@neuf.fr>: host smtp-in.sfr.fr[93.17.128.123] said: 554 5.7.1 no\n",
			"550 opmta1 Adresse IP source bloquee par Abusix. IP blocked by Abusix, OFR004_100 please visit https://lookup.abusix.com/search?q=203.0.113.126 [100]"},
		{"<u@example.com>: host mx.example.com[192.0.2.1] said: 550 5.7.1 blocked\n<v@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 unknown\n",
			"550 5.7.1 blocked"},
		{"<u@example.com>: host mx.example.com[192.0.2.1] said:\n554 5.7.1 Service unavailable\nReporting-MTA: dns; mail.example.org\n",
			"554 5.7.1 Service unavailable"},
	} {
		if got := ParseBytes([]byte(tc.in)).Diagnostic; got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

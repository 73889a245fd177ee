package dmarc

import (
	"strings"
	"testing"
)

// TestForwarders: the messages that failed DMARC and that the receiver said
// were forwarded (a mailing list, a forwarding account) are the source's
// Forwarded; a source all of whose mail is that is a forwarder, not a forger.
func TestForwarders(t *testing.T) {
	rec := func(count, result, reasons string) string {
		var r strings.Builder
		for _, typ := range strings.Fields(reasons) {
			r.WriteString("<reason><type>" + typ + "</type><comment>x</comment></reason>")
		}
		return "<record><row><source_ip>192.0.2.1</source_ip><count>" + count + "</count><policy_evaluated>" +
			"<disposition>none</disposition><dkim>" + result + "</dkim><spf>fail</spf>" + r.String() +
			"</policy_evaluated></row></record>"
	}
	tests := []struct {
		name                        string
		records                     string
		messages, passed, forwarded int64
		forwarder                   bool
	}{
		{"forwarded", rec("3", "fail", "forwarded"), 3, 0, 3, true},
		{"mailing list", rec("2", "fail", "Mailing_List"), 2, 0, 2, true},
		{"trusted forwarder among others", rec("2", "fail", "local_policy trusted_forwarder"), 2, 0, 2, true},
		{"local policy", rec("2", "fail", "local_policy"), 2, 0, 0, false},
		{"no reason", rec("2", "fail", ""), 2, 0, 0, false},
		{"passing, forwarded", rec("2", "pass", "forwarded"), 2, 2, 0, false},
		{"part forwarded", rec("2", "fail", "forwarded") + rec("1", "fail", ""), 3, 0, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(Limits{})
			if err := r.ReadStream(strings.NewReader("<feedback>"+tt.records+"</feedback>"), tt.name); err != nil {
				t.Fatal(err)
			}
			res := r.Result()
			if len(res.Sources) != 1 {
				t.Fatalf("sources %+v", res.Sources)
			}
			s := res.Sources[0]
			if s.Messages != tt.messages || s.Passed != tt.passed || s.Forwarded != tt.forwarded || s.Forwarder() != tt.forwarder {
				t.Errorf("%d messages, %d passed, %d forwarded, forwarder %v; want %d, %d, %d, %v",
					s.Messages, s.Passed, s.Forwarded, s.Forwarder(), tt.messages, tt.passed, tt.forwarded, tt.forwarder)
			}
		})
	}
}

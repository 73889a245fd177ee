package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// A subject whose checks the run's stop (Ctrl-C, --deadline) left unanswered
// says how many on its line: "clean on 1" alone read as the whole of it when
// eleven more lists had not answered, and a subject none answered read "no
// list asked".
func TestTextSubjectSaysNotAnswered(t *testing.T) {
	cat := catalog.Default()
	cut := func(subject, id string) dnsbl.Check {
		l := cat.ByID(id)
		return dnsbl.Check{Subject: subject, List: l, Zone: l.Zone, Status: dnsbl.Error,
			Err: &dnsbl.CheckError{Kind: dnsbl.ErrInterrupted, Msg: dnsbl.ErrInterrupted.Error()}}
	}
	spamcop := cat.ByID("spamcop")
	res := &dnsbl.Result{
		Targets: []*dnsbl.TargetResult{{Target: dnsbl.Target{Input: "198.51.100.0/30", Kind: dnsbl.KindCIDR, Form: "cidr",
			Prefix: netip.MustParsePrefix("198.51.100.0/30")}, Started: true, Interrupted: true, SubjectsTotal: 4,
			Subjects: []dnsbl.Subject{
				{Name: "198.51.100.0", Type: dnsbl.SubjectIP, Via: []string{"input"}, Addr: netip.MustParseAddr("198.51.100.0")},
				{Name: "198.51.100.1", Type: dnsbl.SubjectIP, Via: []string{"input"}, Addr: netip.MustParseAddr("198.51.100.1")},
			},
			Checks: []dnsbl.Check{
				{Subject: "198.51.100.0", List: spamcop, Zone: spamcop.Zone, Status: dnsbl.Clean},
				cut("198.51.100.0", "spamhaus-zen"), cut("198.51.100.0", "psbl"),
				cut("198.51.100.1", "spamhaus-zen"), cut("198.51.100.1", "psbl"), cut("198.51.100.1", "spamcop"),
			}}},
		Summary: dnsbl.Summary{Targets: 1, Subjects: 2, Checks: 6, Interrupted: true,
			Counts: map[dnsbl.Status]int{dnsbl.Clean: 1, dnsbl.Error: 5}, Incomplete: []string{dnsbl.ReasonInterrupted}},
	}
	for _, deadline := range []time.Duration{0, 10 * time.Millisecond} {
		v := &View{Result: res, Deadline: deadline}
		v.Decide(true)
		var b bytes.Buffer
		if err := renderText(&b, v, Options{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "198.51.100.0 (input): clean on 1, 2 not answered (spamhaus-zen, psbl)\n") ||
			!strings.Contains(out, "198.51.100.1 (input): 3 not answered (spamhaus-zen, psbl, spamcop)\n") || strings.Contains(out, "no list asked") {
			t.Errorf("deadline %v:\n%s", deadline, out)
		}
		// Nagios names the lists it was still waiting for: the ones to give
		// more time (-t) or leave out
		if _, text, _ := nagios(v, 1, 2); !strings.HasSuffix(text, "0 not started; not answered: spamhaus-zen, psbl, spamcop") {
			t.Errorf("deadline %v: nagios says %q", deadline, text)
		}
	}
}

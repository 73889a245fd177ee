package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// faultPhase is what the fault proxy does to the answers of rbldnsd.
type faultPhase struct {
	name      string
	drop      bool     // no answer at all: the resolver is down
	servfail  string   // SERVFAIL for names under this suffix ("." for all)
	nxdomain  string   // NXDOMAIN for names under this suffix (a dead list, a resolver cut off)
	everyName []string // names under these suffixes that do not exist get A answer (lists that list everything)
	answer    string   // the address everyName and rewrite give
	rewrite   bool     // every NXDOMAIN becomes A answer (a resolver that rewrites NXDOMAIN)
	// fresh gives every answer TTL 0: nothing the exporter's cache takes now
	// hides the next fault from it (as a TTL that has run out would not)
	fresh bool
}

// faultProxy is a recursive resolver in front of rbldnsd whose faults the test
// switches: names outside rbldnsd's zones get NXDOMAIN, as from the internet.
type faultProxy struct {
	addr  string
	phase atomic.Pointer[faultPhase]
}

func under(name, suffix string) bool {
	return suffix == "." || strings.HasSuffix(name, "."+suffix+".") || name == suffix+"."
}

func startFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	p := &faultProxy{addr: pc.LocalAddr().String()}
	p.phase.Store(&faultPhase{name: "healthy", fresh: true})
	client := &dns.Client{Timeout: 2 * time.Second}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 {
				continue
			}
			go func() {
				if m := p.answer(client, upstream, q); m != nil {
					if out, err := m.Pack(); err == nil {
						_, _ = pc.WriteTo(out, from)
					}
				}
			}()
		}
	}()
	return p
}

func (p *faultProxy) answer(client *dns.Client, upstream string, q *dns.Msg) *dns.Msg {
	ph := p.phase.Load()
	name := strings.ToLower(q.Question[0].Name)
	m := new(dns.Msg)
	switch {
	case ph.drop:
		return nil
	case ph.servfail != "" && under(name, ph.servfail):
		m.SetRcode(q, dns.RcodeServerFailure)
		return m
	case ph.nxdomain != "" && under(name, ph.nxdomain):
		m.SetRcode(q, dns.RcodeNameError)
		return m
	}
	r, _, err := client.Exchange(q, upstream)
	if err != nil {
		return nil
	}
	if r.Rcode == dns.RcodeRefused { // outside rbldnsd's zones: the internet says no such name
		r = new(dns.Msg)
		r.SetRcode(q, dns.RcodeNameError)
	}
	r.RecursionAvailable = true
	if ph.fresh {
		for _, rr := range append(append(append([]dns.RR(nil), r.Answer...), r.Ns...), r.Extra...) {
			rr.Header().Ttl = 0
			if soa, ok := rr.(*dns.SOA); ok {
				soa.Minttl = 0 // the negative TTL (RFC 2308)
			}
		}
	}
	if q.Question[0].Qtype == dns.TypeA && r.Rcode == dns.RcodeNameError &&
		(ph.rewrite || slices.ContainsFunc(ph.everyName, func(z string) bool { return under(name, z) })) {
		r = new(dns.Msg)
		r.SetReply(q)
		r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1},
			A: net.ParseIP(ph.answer)}}
	}
	return r
}

// flapJudge probes an exporter and counts what its probes got wrong against
// the truth: a listing of what no list lists (a false alarm), or a clean for
// what a list lists (a false clear).
type flapJudge struct {
	truth                            map[string]map[string]bool // subject -> list -> listed
	judged, complete, alarms, clears int
	failures                         []string
}

func (j *flapJudge) bad(n *int, phase, target, format string, a ...any) {
	*n++
	if len(j.failures) < 20 {
		j.failures = append(j.failures, fmt.Sprintf("[%s] %s: ", phase, target)+fmt.Sprintf(format, a...))
	}
}

// probe asks listen about target and judges the answer; it reports whether
// the probe was complete (blcheck_probe_success 1).
func (j *flapJudge) probe(t *testing.T, listen, phase, target string) bool {
	t.Helper()
	resp, err := http.Get("http://" + listen + "/probe?target=" + target)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("[%s] %s: HTTP %d: %s", phase, target, resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	j.judged++
	value := func(name string) float64 {
		if f := families[name]; f != nil && len(f.Metric) == 1 {
			return f.Metric[0].GetGauge().GetValue()
		}
		return -1
	}
	if f := families["blcheck_check_status"]; f != nil {
		for _, m := range f.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if m.GetGauge().GetValue() != 1 {
				continue
			}
			listed := j.truth[labels["subject"]][labels["list"]]
			switch {
			case labels["status"] == "listed" && !listed:
				j.bad(&j.alarms, phase, target, "listed on %s", labels["list"])
			case labels["status"] == "clean" && listed:
				j.bad(&j.clears, phase, target, "clean on %s", labels["list"])
			}
		}
	}
	if value("blcheck_probe_listed") == 1 && len(j.truth[target]) == 0 {
		j.bad(&j.alarms, phase, target, "blcheck_probe_listed 1")
	}
	if value("blcheck_probe_success") != 1 {
		return false
	}
	j.complete++
	if value("blcheck_probe_listed") == 0 && len(j.truth[target]) > 0 {
		j.bad(&j.clears, phase, target, "success 1 and listed 0")
	}
	return true
}

// round probes the listed target and the clean one; it reports whether both
// probes were complete.
func (j *flapJudge) round(t *testing.T, listen, phase string) bool {
	t.Helper()
	a := j.probe(t, listen, phase, "192.0.2.10")
	b := j.probe(t, listen, phase, "192.0.2.99")
	return a && b
}

// serveFlap starts blcheck serve in front of the proxy, with the default
// health settings unless extra says otherwise, and waits until it is ready.
// It is stopped at the end of t.
func serveFlap(t *testing.T, proxy, cfg string, extra ...string) string {
	t.Helper()
	args := append([]string{"--config", cfg, "--listen", "LISTEN", "-r", proxy, "--timeout", "250ms", "--retries", "0",
		"--rate", "0"}, extra...) // --rate 0: the lists' pacing is for public mirrors, not for the test's rbldnsd
	listen := startServe(t, args...)
	waitHTTP(t, "http://"+listen+"/-/ready")
	return listen
}

// The exporter in front of rbldnsd behind a fault proxy that switches between
// the faults of issue 23, with the default health settings: no probe says
// listed what no list lists, nor clean what a list lists. The phases are
// driven by the test, one after another; nothing is timed.
//
// Each fault meets a fresh exporter that has just found every list healthy
// and keeps that health (--health-ttl, 5 minutes by default), as one in
// production has when a list starts lying: its listings and changes must then
// be confirmed by the list's test points. One exporter taken through every
// fault in turn would meet each with the previous fault's bad health, which
// stands dnsbl.BadHealthTTL (30 s) after the fault ends: its probes would say
// unreliable whatever the fault did, and the test would judge little.
func TestServeFlapsWithoutFalseAlarms(t *testing.T) {
	w := startWorld(t)
	proxy := startFaultProxy(t, w.addr)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "blcheck.yml")
	if err := os.WriteFile(cfg, []byte("modules: {default: {lists: [spamhaus-zen, spamcop, psbl]}}\nallow: [192.0.2.0/24]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lists := []string{"zen.spamhaus.org", "bl.spamcop.net", "psbl.surriel.com"}
	phases := []faultPhase{
		{name: "one list answers 127.0.0.2 for every name", everyName: lists[1:2], answer: "127.0.0.2"},
		{name: "ZEN answers 127.0.0.4 for every name", everyName: lists[:1], answer: "127.0.0.4"},
		{name: "every list answers 127.0.0.2 for every name", everyName: lists, answer: "127.0.0.2"},
		{name: "ZEN dead (NXDOMAIN for every name)", nxdomain: "zen.spamhaus.org"},
		{name: "ZEN SERVFAILs", servfail: "zen.spamhaus.org"},
		{name: "the resolver down", drop: true},
		{name: "the resolver rewrites NXDOMAIN to an ad server", rewrite: true, answer: "198.51.100.200"},
		{name: "the resolver rewrites NXDOMAIN to 127.0.0.2", rewrite: true, answer: "127.0.0.2"},
		{name: "the resolver answers NXDOMAIN for every name", nxdomain: "."},
	}
	j := &flapJudge{truth: map[string]map[string]bool{"192.0.2.10": {"spamhaus-zen": true}, "192.0.2.99": {}}}
	healthy := &faultPhase{name: "healthy", fresh: true} // each fault is met at its first probe
	for _, faultRounds := range []int{3, 12} {
		for _, ph := range phases {
			t.Run(fmt.Sprintf("%d rounds of %s", faultRounds, ph.name), func(t *testing.T) {
				proxy.phase.Store(healthy)
				listen := serveFlap(t, proxy.addr, cfg)
				for range 3 {
					if !j.round(t, listen, "healthy before "+ph.name) {
						t.Errorf("healthy before %s: a probe was not complete", ph.name)
					}
				}
				proxy.phase.Store(&ph)
				n := faultRounds
				if ph.drop {
					n = min(n, 3) // each probe waits for its timeouts
				}
				for range n {
					j.round(t, listen, ph.name)
				}
				proxy.phase.Store(healthy)
				for range 5 {
					j.round(t, listen, "healthy after "+ph.name)
				}
			})
		}
	}
	// once a bad health has stood its time, the probes are complete and right
	// again: an exporter whose --health-ttl (5 s) bounds that time below
	// dnsbl.BadHealthTTL, so that it is seconds, taken through the faults that
	// leave a lying listing and a false clean behind; polled, as a readiness
	// wait, not measured
	t.Run("recovery", func(t *testing.T) {
		listen := serveFlap(t, proxy.addr, cfg, "--health-ttl", "5s")
		for _, ph := range []faultPhase{phases[2], phases[3], phases[8]} {
			proxy.phase.Store(&ph)
			for range 3 {
				j.round(t, listen, ph.name)
			}
		}
		proxy.phase.Store(healthy)
		recovered := false
		for deadline := time.Now().Add(time.Minute); !recovered && time.Now().Before(deadline); {
			recovered = j.round(t, listen, "recovering")
			if !recovered {
				time.Sleep(250 * time.Millisecond)
			}
		}
		if !recovered {
			t.Fatal("the probes never came back complete after the faults ended")
		}
		for range 10 {
			if !j.round(t, listen, "recovered") {
				t.Error("recovered: a probe was not complete")
			}
		}
	})
	t.Logf("%d judged probes, %d complete; false alarms %d, false clears %d", j.judged, j.complete, j.alarms, j.clears)
	if j.judged < 300 || j.complete < 100 {
		t.Errorf("only %d judged probes, %d complete: the test says little", j.judged, j.complete)
	}
	if j.alarms != 0 || j.clears != 0 {
		t.Errorf("%d false alarms and %d false clears:\n%s", j.alarms, j.clears, strings.Join(j.failures, "\n"))
	}
}

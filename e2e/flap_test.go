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
	p.phase.Store(&faultPhase{name: "healthy"})
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
	if q.Question[0].Qtype == dns.TypeA && r.Rcode == dns.RcodeNameError &&
		(ph.rewrite || slices.ContainsFunc(ph.everyName, func(z string) bool { return under(name, z) })) {
		r = new(dns.Msg)
		r.SetReply(q)
		r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1},
			A: net.ParseIP(ph.answer)}}
	}
	return r
}

// The exporter in front of rbldnsd behind a fault proxy that switches between
// the faults of issue 23, with the default health settings: no probe says
// listed what no list lists, nor clean what a list lists. The phases are
// driven by the test, one after another; nothing is timed.
func TestServeFlapsWithoutFalseAlarms(t *testing.T) {
	w := startWorld(t)
	proxy := startFaultProxy(t, w.addr)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "blcheck.yml")
	if err := os.WriteFile(cfg, []byte("modules: {default: {lists: [spamhaus-zen, spamcop, psbl]}}\nallow: [192.0.2.0/24]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	listen := freeTCP(t)
	start(t, binary, "serve", "--config", cfg, "--listen", listen, "-r", proxy.addr, "--timeout", "250ms", "--retries", "0")
	waitHTTP(t, "http://"+listen+"/-/ready")

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
	truth := map[string]map[string]bool{"192.0.2.10": {"spamhaus-zen": true}, "192.0.2.99": {}}
	judged, alarms, clears, complete := 0, 0, 0, 0
	var failures []string
	probe := func(phase, target string) {
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
		judged++
		bad := func(n *int, format string, a ...any) {
			*n++
			if len(failures) < 20 {
				failures = append(failures, fmt.Sprintf("[%s] %s: ", phase, target)+fmt.Sprintf(format, a...))
			}
		}
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
				listed := truth[labels["subject"]][labels["list"]]
				switch {
				case labels["status"] == "listed" && !listed:
					bad(&alarms, "listed on %s", labels["list"])
				case labels["status"] == "clean" && listed:
					bad(&clears, "clean on %s", labels["list"])
				}
			}
		}
		if value("blcheck_probe_listed") == 1 && len(truth[target]) == 0 {
			bad(&alarms, "blcheck_probe_listed 1")
		}
		if value("blcheck_probe_success") == 1 {
			complete++
			if value("blcheck_probe_listed") == 0 && len(truth[target]) > 0 {
				bad(&clears, "success 1 and listed 0")
			}
		}
	}
	round := func(phase string) {
		for _, target := range []string{"192.0.2.10", "192.0.2.99"} {
			probe(phase, target)
		}
	}
	for range 3 {
		round("healthy")
	}
	for _, faultRounds := range []int{3, 12} {
		for _, ph := range phases {
			proxy.phase.Store(&ph)
			n := faultRounds
			if ph.drop {
				n = min(n, 3) // each probe waits for its timeouts
			}
			for range n {
				round(ph.name)
			}
			proxy.phase.Store(&faultPhase{name: "healthy"})
			for range 5 {
				round("healthy after " + ph.name)
			}
		}
	}
	// once a bad health has stood its time (dnsbl.BadHealthTTL), the probes are
	// complete and right again: polled, as a readiness wait, not measured
	recovered := false
	for deadline := time.Now().Add(2 * time.Minute); !recovered && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		before := complete
		round("recovering")
		recovered = complete == before+2
	}
	if !recovered {
		t.Error("the probes never came back complete after the faults ended")
	}
	t.Logf("%d judged probes, %d complete; false alarms %d, false clears %d", judged, complete, alarms, clears)
	if judged < 300 {
		t.Errorf("only %d judged probes", judged)
	}
	if complete == 0 {
		t.Error("no probe was complete: the test says nothing")
	}
	if alarms != 0 || clears != 0 {
		t.Errorf("%d false alarms and %d false clears:\n%s", alarms, clears, strings.Join(failures, "\n"))
	}
}

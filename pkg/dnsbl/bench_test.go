package dnsbl_test

import (
	"bufio"
	"context"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

func BenchmarkReverseIP(b *testing.B) {
	v4, v6 := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::25")
	for b.Loop() {
		dnsbl.ReverseIP(v4)
		dnsbl.ReverseIP(v6)
	}
}

func BenchmarkParseTarget(b *testing.B) {
	for b.Loop() {
		for _, s := range []string{"192.0.2.10", "mail.example.co.uk", "https://bücher.example/x", "a@b.example"} {
			if _, err := dnsbl.ParseTarget(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	zen := catalog.Default().ByID("spamhaus-zen")
	a := &resolver.Answer{Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.4")}}
	for b.Loop() {
		dnsbl.Classify(zen, a, nil)
	}
}

// benchWorld serves every keyless default list with its test points.
func benchWorld(b *testing.B) (*dnsbltest.Server, []catalog.Selected) {
	srv := dnsbltest.New(b)
	lists, _, _ := catalog.Default().Select(catalog.Selection{Getenv: func(string) string { return "" }})
	for _, l := range lists {
		if !l.Keyed() {
			srv.Zone(l.SecretZone(), "127.0.0.2")
		}
	}
	return srv, lists
}

// BenchmarkRunOneIP is one address against every default list: the whole pipeline,
// health probes included, on loopback (no added latency). With --txt auto a list
// is asked A and TXT at once, with listed A only: auto costs more here, where a
// round trip is free, to save one where it is not.
func BenchmarkRunOneIP(b *testing.B) {
	srv, lists := benchWorld(b)
	tg, _ := dnsbl.ParseTarget("192.0.2.10")
	for _, p := range []struct {
		name string
		txt  dnsbl.TXTPolicy
	}{{"txt=auto", dnsbl.TXTAuto}, {"txt=listed", dnsbl.TXTListed}} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				// a fresh client per run, so that its cache does not hide the queries
				res, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: time.Second})
				out := runOnce(context.Background(), config{Lists: lists, Resolver: res, Retain: true, TXT: p.txt},
					[]dnsbl.Target{tg}, dnsbl.Observer{})
				res.Close()
				if out.Summary.Counts[dnsbl.Clean] == 0 {
					b.Fatal("nothing clean")
				}
			}
		})
	}
}

// BenchmarkRunBulk is 256 addresses against the default lists, streamed, on
// a server in a process of its own (outsideServer), so that cpu-µs/check is
// the engine's CPU time alone: in this process, the server took about a third
// of it. The server drops queries beyond about 64 in flight, and each drop
// stalls for an RTO: at 64 the figure measures blcheck, not the drops.
func BenchmarkRunBulk(b *testing.B) {
	addr, lists := outsideServer(b)
	var targets []dnsbl.Target
	for i := 0; i < 256; i++ {
		targets = append(targets, dnsbl.Target{Kind: dnsbl.KindIP, Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})})
	}
	checks := 0
	cpu0 := cpuTime()
	for b.Loop() {
		res, _ := resolver.New(resolver.Config{Servers: []string{addr}, Timeout: time.Second, Concurrency: 64})
		out := runOnce(context.Background(), config{Lists: lists, Resolver: res}, targets, dnsbl.Observer{})
		res.Close()
		checks += out.Summary.Checks
	}
	b.ReportMetric(float64(checks)/b.Elapsed().Seconds(), "checks/s")
	if cpu := cpuTime() - cpu0; cpu > 0 && checks > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(checks), "cpu-µs/check")
	}
}

// outsideServer starts this test binary again as the DNS server of
// serveBenchWorld, in a process of its own, and returns its address and the
// lists it serves; the server ends with the benchmark.
func outsideServer(b *testing.B) (string, []catalog.Selected) {
	b.Helper()
	cmd := exec.Command(os.Args[0], benchServerArg)
	cmd.Env = append(os.Environ(), "BLCHECK_BENCH_SERVER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	type line struct {
		s   string
		err error
	}
	got := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(io.LimitReader(stdout, 256)).ReadString('\n')
		got <- line{s, err}
	}()
	var addr string
	select {
	case l := <-got:
		if addr = l.s; l.err != nil {
			b.Fatalf("the server process said %q: %v", l.s, l.err)
		}
	case <-time.After(30 * time.Second): // a bound on the wait, not a measure
		_ = cmd.Process.Kill()
		b.Fatal("the server process gave no address in 30s")
	}
	lists, _, _ := catalog.Default().Select(catalog.Selection{Getenv: func(string) string { return "" }})
	return strings.TrimSpace(addr), lists
}

// BenchmarkCheckerCached is a long-lived Checker asked the same address again
// within its answers' TTL and its health TTL: what an exporter scraped every
// 15 s does. It reports the queries each check sent, which must be 0.
func BenchmarkCheckerCached(b *testing.B) {
	srv, lists := benchWorld(b)
	client, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: time.Second})
	defer client.Close()
	ck, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: client, HealthTTL: dnsbl.DefaultHealthTTL})
	if err != nil {
		b.Fatal(err)
	}
	defer ck.Close()
	a := netip.MustParseAddr("192.0.2.10")
	if _, err := ck.CheckAddr(context.Background(), a); err != nil { // the cold check fills the caches
		b.Fatal(err)
	}
	before := srv.TotalQueries()
	for b.Loop() {
		res, err := ck.CheckAddr(context.Background(), a)
		if err != nil || res.Summary.Counts[dnsbl.Clean] == 0 {
			b.Fatal("nothing clean", err)
		}
	}
	b.ReportMetric(float64(srv.TotalQueries()-before)/float64(b.N), "queries/op")
}

package dnsbl_test

import (
	"bufio"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// TestMain fails the package's tests if any goroutine is left running once
// they end: no query, taker or timer may outlive the Checker call (or the
// resolver and server) that started it. Run with BLCHECK_BENCH_SERVER set, the
// test binary is instead the benchmarks' DNS server in a process of its own
// (see outsideServer).
func TestMain(m *testing.M) {
	if os.Getenv("BLCHECK_BENCH_SERVER") != "" {
		serveBenchWorld()
		return
	}
	goleak.VerifyTestMain(m)
}

// serveBenchWorld serves every keyless default list with its test points,
// prints its address, and serves until its standard input is closed.
func serveBenchWorld() {
	srv := dnsbltest.NewServer()
	lists, _, _ := catalog.Default().Select(catalog.Selection{Getenv: func(string) string { return "" }})
	for _, l := range lists {
		if !l.Keyed() {
			srv.Zone(l.SecretZone(), "127.0.0.2")
		}
	}
	fmt.Println(srv.Addr)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // EOF when the benchmark ends
	srv.Close()
}

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
// resolver and server) that started it. Run as outsideServer runs it (its
// one argument and the variable both set), the test binary is instead the
// benchmarks' DNS server in a process of its own.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == benchServerArg && os.Getenv("BLCHECK_BENCH_SERVER") == "1" {
		serveBenchWorld()
		return
	}
	goleak.VerifyTestMain(m)
}

const benchServerArg = "blcheck-bench-server"

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

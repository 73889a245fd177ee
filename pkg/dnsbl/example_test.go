package dnsbl_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// A long-lived Checker, as a mail filter or an exporter keeps one: answers are
// cached for their TTL and the lists' health for HealthTTL, so that checking the
// same address again soon sends no query, and a delisting or a list that dies
// shows within those TTLs. Here the resolver is an in-process fake DNS server;
// a real program gives its own resolver's address (resolver.SystemServers
// reads /etc/resolv.conf).
func ExampleChecker() {
	srv := dnsbltest.NewServer() // stands in for the resolver
	defer srv.Close()
	srv.Zone("bl.example", "127.0.0.2")
	srv.List("bl.example", "192.0.2.99", []string{"127.0.0.2"}, "listed for sending spam")

	cat, err := catalog.Parse([]byte(`
- {id: example-bl, name: Example BL, zone: bl.example, kind: ip, families: [ipv4], default: true,
   status: active, codes: {127.0.0.2: spam source}}`), "example")
	if err != nil {
		panic(err)
	}
	lists, _, err := cat.Select(catalog.Selection{})
	if err != nil {
		panic(err)
	}
	client, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: 2 * time.Second})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	checker, err := dnsbl.New(dnsbl.Options{Lists: lists, Resolver: client, HealthTTL: dnsbl.DefaultHealthTTL})
	if err != nil {
		panic(err)
	}
	defer checker.Close()

	for _, ip := range []string{"192.0.2.99", "192.0.2.1"} {
		res, err := checker.CheckAddr(context.Background(), netip.MustParseAddr(ip))
		if err != nil {
			fmt.Println(ip, "could not be checked:", err)
			continue
		}
		fmt.Println(ip, res.Outcome(true)) // strict: a list that failed makes it incomplete, never clean
		for _, c := range res.Targets[0].Checks {
			if c.Status == dnsbl.Listed {
				fmt.Printf("  %s: %s (%s)\n", c.List.ID, c.Meanings[0], c.Reason)
			}
		}
	}
	// Output:
	// 192.0.2.99 listed
	//   example-bl: spam source (listed for sending spam)
	// 192.0.2.1 clean
}

package dnsbl_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// treeWorld is the internet's shape on loopback for the default lists: a root
// that delegates each top-level domain to a TLD server, which delegates each
// list zone to the list server (authoritative, with the test points). The
// servers are named by addresses of 127.0.53.0/24 that iterator maps to ports.
type treeWorld struct {
	root, tld, list *dnsbltest.Server
	lists           []catalog.Selected
	tlds            int
	ports           map[netip.Addr]string
	// asked counts the questions the iterators sent to each server's address
	// (ServerAddr is called once a question): packets, which the servers
	// count, include the copies sent again after an RTO without an answer
	asked map[netip.Addr]*atomic.Int64
}

func newTreeWorld(tb testing.TB) *treeWorld {
	w := &treeWorld{root: dnsbltest.New(tb), tld: dnsbltest.New(tb), list: dnsbltest.New(tb)}
	w.lists, _, _ = catalog.Default().Select(catalog.Selection{Getenv: func(string) string { return "" }})
	w.root.Authoritative(".")
	var tlds, zones []string
	for _, l := range w.lists {
		if l.Keyed() {
			continue
		}
		zone := l.SecretZone()
		tld := zone[strings.LastIndexByte(zone, '.')+1:]
		if !slices.Contains(tlds, tld) {
			tlds = append(tlds, tld)
			w.root.Delegate(tld, dnsbltest.NS{Name: "ns.nic." + tld, Addrs: []string{"127.0.53.2"}})
		}
		w.tld.Delegate(zone, dnsbltest.NS{Name: "ns." + zone, Addrs: []string{"127.0.53.3"}})
		zones = append(zones, zone)
		w.list.Zone(zone, "127.0.0.2")
	}
	w.tld.Authoritative(tlds...)
	w.list.Authoritative(zones...)
	w.tlds = len(tlds)
	w.ports = map[netip.Addr]string{netip.MustParseAddr("127.0.53.1"): w.root.Addr,
		netip.MustParseAddr("127.0.53.2"): w.tld.Addr, netip.MustParseAddr("127.0.53.3"): w.list.Addr}
	w.asked = map[netip.Addr]*atomic.Int64{}
	for a := range w.ports {
		w.asked[a] = new(atomic.Int64)
	}
	return w
}

func (w *treeWorld) iterator(tb testing.TB) *resolver.Iterator {
	it, err := resolver.NewIterator(resolver.IteratorConfig{
		Hints:   resolver.RootHints{{Name: "a.root.test", Addrs: []netip.Addr{netip.MustParseAddr("127.0.53.1")}}},
		Timeout: time.Second, ServerAddr: func(a netip.Addr) string {
			if n := w.asked[a]; n != nil {
				n.Add(1)
			}
			return w.ports[a]
		}})
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

// check runs one address against the default lists, every list asked directly.
func (w *treeWorld) check(tb testing.TB, it *resolver.Iterator, addrs ...string) *dnsbl.Result {
	client, _ := resolver.New(resolver.Config{Servers: []string{w.list.Addr}, Timeout: time.Second})
	defer client.Close()
	ck, err := dnsbl.New(dnsbl.Options{Lists: w.lists, Resolver: client, Direct: dnsbl.DirectAlways, Iterator: it})
	if err != nil {
		tb.Fatal(err)
	}
	defer ck.Close()
	var targets []dnsbl.Target
	for _, a := range addrs {
		targets = append(targets, dnsbl.Target{Input: a, Kind: dnsbl.KindIP, Form: "ip", Addr: netip.MustParseAddr(a)})
	}
	res, _ := ck.Run(context.Background(), slices.Values(targets), dnsbl.RunOptions{Eager: len(targets) <= dnsbl.EagerSubjects})
	if res.Summary.Counts[dnsbl.Clean] == 0 || res.Summary.Counts[dnsbl.Error] > 0 {
		tb.Fatalf("counts %v", res.Summary.Counts)
	}
	return res
}

// BenchmarkRunOneIPDirect is BenchmarkRunOneIP with --direct always: one
// address against every default list at the lists' own servers, found from a
// root on loopback. cold walks from the root every run (a new Iterator, as a
// one-shot CLI run); warm keeps the delegations (a long-lived Checker).
func BenchmarkRunOneIPDirect(b *testing.B) {
	w := newTreeWorld(b)
	b.Run("cold", func(b *testing.B) {
		before := w.root.TotalQueries() + w.tld.TotalQueries() + w.list.TotalQueries()
		for b.Loop() {
			it := w.iterator(b)
			w.check(b, it, "192.0.2.10")
			it.Close()
		}
		b.ReportMetric(float64(w.root.TotalQueries()+w.tld.TotalQueries()+w.list.TotalQueries()-before)/float64(b.N), "queries/op")
	})
	b.Run("warm", func(b *testing.B) {
		it := w.iterator(b)
		defer it.Close()
		w.check(b, it, "192.0.2.10")
		before := w.root.TotalQueries() + w.tld.TotalQueries() + w.list.TotalQueries()
		for b.Loop() {
			w.check(b, it, "192.0.2.10")
		}
		b.ReportMetric(float64(w.root.TotalQueries()+w.tld.TotalQueries()+w.list.TotalQueries()-before)/float64(b.N), "queries/op")
	})
}

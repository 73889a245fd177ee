package exporter_test

import (
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/dnsbltest"
	"github.com/blcheck/blcheck/pkg/exporter"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// Modules say direct: or take the server's default, and share one delegation
// cache: probes of several modules at once walk from the root once.
func TestProbeDirectModules(t *testing.T) {
	res, root, list := dnsbltest.New(t), dnsbltest.New(t), dnsbltest.New(t)
	res.Wildcard("ip.bl.test", "127.255.255.254") // the resolver is refused
	root.Authoritative(".")
	root.Delegate("ip.bl.test", dnsbltest.NS{Name: "ns.bl.test", Addrs: []string{"127.0.53.4"}})
	list.Authoritative("ip.bl.test")
	list.Zone("ip.bl.test", "127.0.0.2")
	list.List("ip.bl.test", "192.0.2.10", []string{"127.0.0.4"})
	ports := map[netip.Addr]string{netip.MustParseAddr("127.0.53.1"): root.Addr, netip.MustParseAddr("127.0.53.4"): list.Addr}
	it, err := resolver.NewIterator(resolver.IteratorConfig{
		Hints:   resolver.RootHints{{Name: "a.root.test", Addrs: []netip.Addr{netip.MustParseAddr("127.0.53.1")}}},
		Timeout: time.Second, ServerAddr: func(a netip.Addr) string { return ports[a] }})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	cat, err := catalog.Parse([]byte(testCatalog), "test")
	if err != nil {
		t.Fatal(err)
	}
	client, err := resolver.New(resolver.Config{Servers: []string{res.Addr}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	path := filepath.Join(t.TempDir(), "blcheck.yml")
	config := "modules:\n  auto: {lists: [ipbl], direct: auto}\n  always: {lists: [ipbl], direct: always}\n  plain: {lists: [ipbl]}\nallow: [any]\n"
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := exporter.New(exporter.Options{ConfigFile: path, Catalog: cat, Resolver: client, Servers: []string{res.Addr},
		Getenv: func(string) string { return "" }, Version: "test", Direct: dnsbl.DirectNever, Iterator: it})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := httptest.NewServer(s.Handler())
	defer h.Close()
	w := &world{srv: res, server: s, http: h, config: path}

	want := map[string]string{"auto": "listed", "always": "listed", "plain": "blocked"}
	got := map[string]map[string]float64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for module := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := w.probe(t, "target=192.0.2.10&module="+module)
			mu.Lock()
			got[module] = m
			mu.Unlock()
		}()
	}
	wg.Wait()
	for module, status := range want {
		if got[module][`blcheck_check_status{list="ipbl",status="`+status+`",subject="192.0.2.10"}`] != 1 {
			t.Errorf("module %s: want %s: %v", module, status, got[module])
		}
	}
	if n := root.TotalQueries(); n != 1 {
		t.Errorf("the root was asked %d times by three modules at once, want once", n)
	}
}

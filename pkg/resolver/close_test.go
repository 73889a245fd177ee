package resolver

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestPrepareAfterCloseDialsNothing: a front end calls Prepare in a goroutine
// of its own and Close when it returns, which may be first (a run that ends
// at once, an error before any query). A Prepare, or a query, that comes after
// Close dials no socket: one would stay open, with its reader and clock
// goroutines, for as long as the process lives.
func TestPrepareAfterCloseDialsNothing(t *testing.T) {
	addr := UDPTestServer(t, func(net.PacketConn, net.Addr, []byte) {}) // answers nothing
	c, err := New(Config{Servers: []string{addr}, Timeout: 200 * time.Millisecond, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Prepare(context.Background())
	if _, err := c.Lookup(context.Background(), "example.com", TypeA); err == nil {
		t.Error("a lookup after Close was answered")
	}
	c.muxes.Range(func(_, v any) bool {
		m := v.(*udpMux)
		for i := range m.socks {
			if s := m.socks[i].Load(); s != nil && !s.isDead() {
				t.Errorf("a socket was dialled after Close: %s", s.conn.LocalAddr())
				s.close()
			}
		}
		return true
	})
}

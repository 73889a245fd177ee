package resolver

import (
	"net"
	"testing"
)

// UDPTestServer serves UDP on 127.0.0.1:0 with handle, called for each packet
// read (the packet is only valid during the call), until the test ends; it
// returns the server's address. For the tests (of this package and its
// external tests) whose server misbehaves in ways dnsbltest has no fault for.
func UDPTestServer(t testing.TB, handle func(pc net.PacketConn, from net.Addr, pkt []byte)) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			handle(pc, from, buf[:n])
		}
	}()
	return pc.LocalAddr().String()
}

package resolver

import (
	"net/netip"
	"testing"
	"time"
)

// The iterator's marks of slow and answering servers stay bounded, however
// many addresses it meets.
func TestIteratorMarksBounded(t *testing.T) {
	it := &Iterator{cfg: IteratorConfig{Now: time.Now}, alive: map[netip.Addr]time.Time{}}
	for i := range 3 * maxDirectAnswers {
		it.note(it.alive, netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}))
	}
	if n := len(it.alive); n > maxDirectAnswers {
		t.Errorf("%d servers marked, want at most %d", n, maxDirectAnswers)
	}
}

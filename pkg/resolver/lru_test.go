package resolver

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// modelLRU is the plainest LRU there is: keys in order of use, the most
// recent last. The lru must agree with it after every operation.
type modelLRU struct {
	size int
	keys []queryKey
	vals map[queryKey]cached
}

func (m *modelLRU) touch(k queryKey) {
	m.keys = slices.DeleteFunc(m.keys, func(x queryKey) bool { return x == k })
	m.keys = append(m.keys, k)
}

func (m *modelLRU) get(k queryKey) (cached, bool) {
	v, ok := m.vals[k]
	if ok {
		m.touch(k)
	}
	return v, ok
}

func (m *modelLRU) add(k queryKey, v cached) {
	if _, ok := m.vals[k]; !ok && len(m.keys) == m.size {
		delete(m.vals, m.keys[0])
		m.keys = m.keys[1:]
	}
	m.vals[k] = v
	m.touch(k)
}

func (m *modelLRU) remove(k queryKey) {
	if _, ok := m.vals[k]; ok {
		delete(m.vals, k)
		m.keys = slices.DeleteFunc(m.keys, func(x queryKey) bool { return x == k })
	}
}

// runLRUOps reads ops two bytes at a time (what to do, which of a few keys)
// and checks the lru against the model after each.
func runLRUOps(t *testing.T, size int, ops []byte) {
	t.Helper()
	l := newLRU(size)
	m := &modelLRU{size: max(size, 1), vals: map[queryKey]cached{}}
	keyOf := func(b byte) queryKey { return queryKey{fmt.Sprintf("n%d.example", b%13), TypeA} }
	for n := 0; n+1 < len(ops); n += 2 {
		k := keyOf(ops[n+1])
		switch ops[n] % 3 {
		case 0:
			v := cached{a: &Answer{}, expires: time.Unix(int64(n), 0)}
			l.Add(k, v)
			m.add(k, v)
		case 1:
			got, ok := l.Get(k)
			want, wok := m.get(k)
			if ok != wok || got != want {
				t.Fatalf("op %d: Get(%s) = %v %v, want %v %v", n/2, k.name, got, ok, want, wok)
			}
		case 2:
			l.Remove(k)
			m.remove(k)
		}
		want := slices.Clone(m.keys)
		if got := l.Keys(); !slices.Equal(got, want) || l.Len() != len(want) {
			t.Fatalf("op %d: keys %v (len %d), want %v", n/2, got, l.Len(), want)
		}
		if int(l.places)-1 > l.size {
			t.Fatalf("op %d: %d places for a size of %d", n/2, l.places-1, l.size)
		}
	}
}

func TestLRUAgreesWithModel(t *testing.T) {
	const add, get, rm = 0, 1, 2
	for _, tc := range []struct {
		name string
		size int
		ops  []byte
	}{
		{"the least recently added goes", 2, []byte{add, 1, add, 2, add, 3, get, 1, get, 2, get, 3}},
		{"a get makes an entry recent", 2, []byte{add, 1, add, 2, get, 1, add, 3, get, 1, get, 2}},
		{"adding again updates and makes recent", 2, []byte{add, 1, add, 2, add, 1, add, 3, get, 2, get, 1}},
		{"a removed place is reused", 3, []byte{add, 1, add, 2, add, 3, rm, 2, add, 4, add, 5, get, 1, get, 3}},
		{"removing what is not there", 2, []byte{rm, 7, add, 1, rm, 7, rm, 1, rm, 1, get, 1}},
		{"size one", 1, []byte{add, 1, add, 2, get, 1, get, 2, rm, 2, add, 3}},
		{"size zero keeps one", 0, []byte{add, 1, get, 1, add, 2, get, 1}},
		{"empty after removing all", 3, []byte{add, 1, add, 2, rm, 1, rm, 2, add, 3, add, 4, add, 5, add, 6, get, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) { runLRUOps(t, tc.size, tc.ops) })
	}
}

// TestLRUKeepsNoOldAnswer: a removed entry's place holds no answer, which
// would otherwise stay alive until the place is reused; an evicted entry's
// place holds the answer that took it.
func TestLRUKeepsNoOldAnswer(t *testing.T) {
	l := newLRU(1)
	k1, k2 := queryKey{"a.example", TypeA}, queryKey{"b.example", TypeA}
	a1, a2 := &Answer{Name: "a.example"}, &Answer{Name: "b.example"}
	l.Add(k1, cached{a: a1})
	l.Add(k2, cached{a: a2}) // evicts k1
	for i := range l.places {
		if l.at(i).val.a == a1 {
			t.Fatalf("place %d still holds the evicted answer", i)
		}
	}
	l.Remove(k2)
	for i := range l.places {
		if l.at(i).val.a != nil {
			t.Fatalf("place %d still holds an answer after Remove", i)
		}
	}
}

func FuzzLRU(f *testing.F) {
	f.Add(3, []byte{0, 1, 0, 2, 0, 3, 0, 4, 1, 1, 2, 2, 0, 5})
	f.Add(1, []byte{0, 1, 1, 1, 2, 1, 0, 1})
	f.Fuzz(func(t *testing.T, size int, ops []byte) {
		if size > 64 || len(ops) > 512 { // bounded: each input runs in well under a millisecond
			return
		}
		runLRUOps(t, size, ops)
	})
}

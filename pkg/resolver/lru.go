package resolver

import "math"

// lru is the answer cache's order: a bounded set of entries in which the one
// used least recently makes room for a new one when it is full.
//
// It is written here, not taken from hashicorp/golang-lru, for one reason: that
// list allocates an element for every entry added, and a bulk run adds an
// answer for nearly every query it sends, so those elements were a third of a
// run's allocations. Here the entries live in chunks of lruChunk (at least
// one, however small the cache), made as the cache fills up to its size and
// never copied, linked by index; the place of an entry evicted or removed is
// reused by the next one added.
//
// It is not safe for concurrent use: the Client guards it with its mutex.
type lru struct {
	size  int                // the most entries kept
	index map[queryKey]int32 // each key's place
	// the entries, place i at chunks[i/lruChunk][i%lruChunk]; place 0 is the
	// ring's head, no entry: its next is the entry used most recently, its prev
	// the one used least recently
	chunks [][]lruEntry
	places int32 // places made so far, the head's among them
	free   int32 // the first of the places of removed entries, linked by next; 0: none
}

// lruChunk is the number of places made at once: a one-address check adds a
// few dozen answers, and needs no room for thousands; a bulk run's cache
// grows by a chunk at a time, and nothing is copied as it grows.
const lruChunk = 256

type lruEntry struct {
	key        queryKey
	val        cached
	prev, next int32
}

func newLRU(size int) *lru {
	// places are int32: a size past that could not be held in memory anyway
	l := &lru{size: min(max(size, 1), math.MaxInt32-1), index: map[queryKey]int32{}}
	l.grow() // the head
	return l
}

// at is place i.
func (l *lru) at(i int32) *lruEntry { return &l.chunks[i/lruChunk][i%lruChunk] }

// grow makes one more place and returns it.
func (l *lru) grow() int32 {
	i := l.places
	if int(i)%lruChunk == 0 {
		l.chunks = append(l.chunks, make([]lruEntry, lruChunk))
	}
	l.places++
	return i
}

// Len is the number of entries.
func (l *lru) Len() int { return len(l.index) }

// Get returns key's value, and makes it the entry used most recently.
func (l *lru) Get(key queryKey) (cached, bool) {
	i, ok := l.index[key]
	if !ok {
		return cached{}, false
	}
	l.unlink(i)
	l.linkFront(i)
	return l.at(i).val, true
}

// Add sets key's value, and makes it the entry used most recently. A new key in
// a full lru takes the place of the entry used least recently.
func (l *lru) Add(key queryKey, val cached) {
	if i, ok := l.index[key]; ok {
		l.at(i).val = val
		l.unlink(i)
		l.linkFront(i)
		return
	}
	var i int32
	switch {
	case l.free != 0:
		i = l.free
		l.free = l.at(i).next
	case int(l.places)-1 < l.size:
		i = l.grow()
	default: // full: the least recently used goes
		i = l.at(0).prev
		l.unlink(i)
		delete(l.index, l.at(i).key)
	}
	e := l.at(i)
	e.key, e.val = key, val
	l.index[key] = i
	l.linkFront(i)
}

// Remove drops key's entry, if it has one.
func (l *lru) Remove(key queryKey) {
	i, ok := l.index[key]
	if !ok {
		return
	}
	l.unlink(i)
	delete(l.index, key)
	*l.at(i) = lruEntry{next: l.free} // keeps no answer alive
	l.free = i
}

// Keys returns the keys, the entry used least recently first.
func (l *lru) Keys() []queryKey {
	keys := make([]queryKey, 0, len(l.index))
	for i := l.at(0).prev; i != 0; i = l.at(i).prev {
		keys = append(keys, l.at(i).key)
	}
	return keys
}

func (l *lru) unlink(i int32) {
	e := l.at(i)
	l.at(e.prev).next = e.next
	l.at(e.next).prev = e.prev
}

func (l *lru) linkFront(i int32) {
	head, e := l.at(0), l.at(i)
	e.prev, e.next = 0, head.next
	l.at(head.next).prev = i
	head.next = i
}

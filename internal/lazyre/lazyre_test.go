package lazyre

import "testing"

func TestNew(t *testing.T) {
	re := New(`^a+b$`)
	first, second := re(), re()
	if first != second {
		t.Fatal("the expression must be compiled once")
	}
	if !re().MatchString("aab") || re().MatchString("ab c") {
		t.Fatal("wrong matches")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an invalid expression must panic on first use")
		}
	}()
	New(`(`)()
}

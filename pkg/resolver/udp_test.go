package resolver

import (
	"errors"
	"testing"

	"golang.org/x/net/ipv4"
)

// scriptedWriter answers WriteBatch calls from a script of (n, err) results.
type scriptedWriter struct {
	script []struct {
		n   int
		err error
	}
	calls int
}

func (w *scriptedWriter) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	r := w.script[w.calls]
	w.calls++
	return min(r.n, len(ms)), r.err
}

func TestSendBatch(t *testing.T) {
	refused := errors.New("connection refused")
	type result = struct {
		n   int
		err error
	}
	tests := []struct {
		name   string
		script []result
		failed []bool
	}{
		{"all at once", []result{{5, nil}}, []bool{false, false, false, false, false}},
		{"in two calls", []result{{3, nil}, {2, nil}}, []bool{false, false, false, false, false}},
		// x/net reports -1 when the very first message fails
		{"first fails", []result{{-1, refused}, {4, nil}}, []bool{true, false, false, false, false}},
		{"middle fails", []result{{2, refused}, {2, nil}}, []bool{false, false, true, false, false}},
		{"nothing sent, no error", []result{{0, nil}, {4, nil}}, []bool{true, false, false, false, false}},
		{"every one fails", []result{{-1, refused}, {-1, refused}, {-1, refused}, {-1, refused}, {-1, refused}},
			[]bool{true, true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &scriptedWriter{script: tt.script}
			errs := sendBatch(w, make([]ipv4.Message, 5))
			for i, err := range errs {
				if (err != nil) != tt.failed[i] {
					t.Errorf("message %d: error %v, want failed=%v", i, err, tt.failed[i])
				}
			}
			if w.calls != len(tt.script) {
				t.Errorf("%d calls, want %d", w.calls, len(tt.script))
			}
		})
	}
}

package exporter

import (
	"net/http/httptest"
	"testing"
	"time"
)

// The scrape-timeout header bounds a probe, less a margin; a header that is no
// positive number or an absurd one leaves the module's timeout, never a
// negative or overflowed budget.
func TestBudget(t *testing.T) {
	m := &Module{Timeout: Duration(10 * time.Second)}
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 10 * time.Second},
		{"4", 3500 * time.Millisecond},
		{"0.8", 600 * time.Millisecond},
		{"10", 9500 * time.Millisecond},   // Prometheus's default, equal to the module's: the margin still comes off
		{"10.3", 9800 * time.Millisecond}, // and the budget grows with the header up to the module's timeout
		{"30", 10 * time.Second},
		{"1e300", 10 * time.Second},
		{"9223372036.854775807", 10 * time.Second},
		{"+Inf", 10 * time.Second},
		{"NaN", 10 * time.Second},
		{"-5", 10 * time.Second},
		{"0", 10 * time.Second},
		{"ten", 10 * time.Second},
	} {
		r := httptest.NewRequest("GET", "/probe?target=192.0.2.1", nil)
		if tc.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tc.header)
		}
		if got := budget(r, m); got != tc.want {
			t.Errorf("header %q: budget %v, want %v", tc.header, got, tc.want)
		}
	}
}

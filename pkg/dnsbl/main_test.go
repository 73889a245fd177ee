package dnsbl_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running once
// they end: no query, taker or timer may outlive the Checker call (or the
// resolver and server) that started it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

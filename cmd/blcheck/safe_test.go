package main

import (
	"os"
	"testing"
)

// TestMain makes every test of the CLI safe by default: --direct is never
// unless a test says otherwise (with loopback --root-hints), so that no test
// asks the internet's root servers when a fake list refuses the resolver.
func TestMain(m *testing.M) {
	defaultDirect = "never"
	os.Setenv(envDirect, "never")
	os.Exit(m.Run())
}

// Command blcheck checks IP addresses, domains and the mail they send against
// DNS blacklists, and tells listed, clean, blocked, error, unreliable and
// skipped apart. `blcheck serve` runs the exporter, blcheck-serve.
package main

import "github.com/blcheck/blcheck/internal/cli"

func main() { cli.Main(nil) }

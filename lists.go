// Package blcheck only embeds the built-in catalog of DNS blacklists, lists.yaml.
// The checker itself lives under pkg/, the command line under internal/cli, and its binaries under cmd/.
package blcheck

import _ "embed"

// ListsYAML is the built-in catalog (lists.yaml at the repository root).
//
//go:embed lists.yaml
var ListsYAML []byte

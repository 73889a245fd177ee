//go:build catgen

package catalog

// In the catgen build the generated file is left out (it may be stale), and
// Default parses lists.yaml.
const builtinSum = ""

var builtinLists []builtinList

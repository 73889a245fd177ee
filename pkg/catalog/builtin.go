package catalog

import (
	"crypto/sha256"
	"encoding/hex"

	blcheck "github.com/blcheck/blcheck"
)

//go:generate go run -tags catgen ./internal/catgen builtin_lists.go

// builtinSource names the built-in catalog in messages.
const builtinSource = "lists.yaml (built in)"

// pair is one code or error value and its meaning, in generated data.
type pair struct{ value, meaning string }

// builtinList is one entry of the generated catalog: the List without its maps,
// which static data cannot hold, and their contents as pairs.
type builtinList struct {
	List
	codeList, errorList, trustList []pair
}

// Default returns the built-in catalog. The built-in file is validated by the tests,
// so a failure here is a build defect.
//
// The entries come from builtin_lists.go, which catgen writes from lists.yaml: that
// saves parsing YAML (a quarter of blcheck's start-up) on every run. When lists.yaml
// has changed since, its checksum no longer matches and the YAML is parsed instead,
// so the built-in catalog is always lists.yaml, only sometimes slower.
func Default() *Catalog {
	sum := sha256.Sum256(blcheck.ListsYAML)
	var (
		c   *Catalog
		err error
	)
	if hex.EncodeToString(sum[:]) == builtinSum {
		c, err = assemble(fromBuiltin(), builtinSource, true)
	} else {
		c, err = Parse(blcheck.ListsYAML, builtinSource)
	}
	if err != nil {
		panic(err)
	}
	return c
}

// fromBuiltin copies the generated entries into fresh Lists with their maps.
func fromBuiltin() []*List {
	out := make([]*List, len(builtinLists))
	all := make([]List, len(builtinLists))
	for i := range builtinLists {
		b := &builtinLists[i]
		l := &all[i]
		*l = b.List
		l.Codes = toMap(b.codeList)
		if b.errorList != nil {
			l.Errors = toMap(b.errorList)
		}
		if b.trustList != nil {
			l.Trust = toMap(b.trustList)
		}
		out[i] = l
	}
	return out
}

func toMap(ps []pair) map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.value] = p.meaning
	}
	return m
}

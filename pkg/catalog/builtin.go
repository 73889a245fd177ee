package catalog

import (
	"hash/crc32"
	"net/netip"

	blcheck "github.com/blcheck/blcheck"
)

//go:generate go run -tags catgen ./internal/catgen builtin_lists.go

// builtinSource names the built-in catalog in messages.
const builtinSource = "lists.yaml (built in)"

// pair is one code or error value and its meaning, in generated data.
type pair struct{ value, meaning string }

// value is a code or error value decoded (an address in 127.0.0.0/8 and a prefix
// length), in generated data, which cannot hold a netip.Prefix.
type value struct {
	addr    [4]byte
	bits    uint8
	meaning string
}

// builtinList is one entry of the generated catalog: the List without its maps,
// which static data cannot hold, and their contents as pairs; and its codes and
// error values decoded, in the order the List keeps them.
type builtinList struct {
	List
	codeList, errorList, trustList []pair
	codeValues, errorValues        []value
}

// Default returns the built-in catalog. The built-in file is validated by the tests,
// so a failure here is a build defect.
//
// The entries come from builtin_lists.go, which catgen writes from lists.yaml: that
// saves parsing YAML (a quarter of blcheck's start-up) on every run, and its codes
// come decoded. When lists.yaml has changed since, its checksum no longer matches
// and the YAML is parsed instead, so the built-in catalog is always lists.yaml,
// only sometimes slower. The checksum is a CRC-32: it tells an edited file from
// the one generated from, at a twentieth of a SHA-256's cost on every start.
func Default() *Catalog {
	var (
		c   *Catalog
		err error
	)
	if int64(crc32.ChecksumIEEE(blcheck.ListsYAML)) == builtinSum {
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
		l.codes = decoded(b.codeValues, func(p netip.Prefix, m string) code { return code{p, m} })
		if b.errorList != nil {
			l.Errors = toMap(b.errorList)
			l.errors = decoded(b.errorValues, func(p netip.Prefix, m string) errorCode { return errorCode{p, m} })
		}
		if b.trustList != nil {
			l.Trust = toMap(b.trustList)
		}
		out[i] = l
	}
	return out
}

// decoded makes a List's codes or error values from generated ones.
func decoded[T any](vs []value, mk func(netip.Prefix, string) T) []T {
	if len(vs) == 0 {
		return nil
	}
	out := make([]T, len(vs))
	for i, v := range vs {
		out[i] = mk(netip.PrefixFrom(netip.AddrFrom4(v.addr), int(v.bits)), v.meaning)
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

// Package dmarc reads DMARC aggregate reports (RFC 7489 appendix C, the draft
// namespace http://dmarc.org/dmarc-xml/0.1, and RFC 9990's
// urn:ietf:params:xml:ns:dmarc-2.0) into the addresses that sent mail as a
// domain: per source address, the messages the reports count, how many of them
// passed DMARC, their share of all messages, the reporters and header-from
// domains. Reports come as XML, gzip, zip or zlib, inside e-mail messages
// (.eml, mbox, a Maildir), in directories read recursively, or on a stream;
// the same report found twice (same reporter org_name, report_id, domain and
// date range, e.g. an .eml and the .zip saved from it) is counted once.
//
// Every read is bounded (Limits): a file's size, a report's decompressed size
// (a compression bomb stops at the limit, within a second), the number of files
// and archive members, XML nesting. encoding/xml expands no entity a DTD
// declares and fetches nothing. A file that cannot be read fully is Unread,
// with the reason; what it held is not counted.
//
// Why our own reader and not github.com/georgestarcher/dmarcgo (MIT, no
// dependencies, reads both formats and the compressions with size limits):
// dmarcgo decodes a whole report into structs in one xml.Decode, so memory
// grows with the records of the largest report, it reads no e-mail message,
// mbox or Maildir (where reports arrive), and it is a large API (campaigns,
// STIX/MISP exports, DNS health) of which blcheck would use one function. What
// blcheck needs of a report is six fields; a streaming encoding/xml reader of
// about 200 lines keeps one record at a time, applies our limits at every
// layer, and shares the aggregation with the message and archive walk.
package dmarc

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/blcheck/blcheck/pkg/dnsbl"
)

// Limits bound what a Reader reads. The zero value of a field means its default.
type Limits struct {
	// ReportBytes is the most one report may take decompressed (default 64 MiB).
	ReportBytes int64
	// FileBytes is the most read of one file or one message (default 64 MiB).
	FileBytes int64
	// Files is the most files read from directories (default 100,000).
	Files int
	// Members is the most members read from one zip archive or messages from
	// one mbox (default 10,000).
	Members int
	// Depth is the deepest XML nesting read (default 32; a report needs 6).
	Depth int
	// Nesting is how many layers of compression and messages may wrap a report
	// (default 4: a message carrying a zip holding a gzip is 3).
	Nesting int
}

// Defaults.
const (
	DefaultReportBytes = 64 << 20
	DefaultFileBytes   = 64 << 20
	DefaultFiles       = 100_000
	DefaultMembers     = 10_000
	DefaultDepth       = 32
	DefaultNesting     = 4
)

func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.ReportBytes, DefaultReportBytes)
	def(&l.FileBytes, DefaultFileBytes)
	defi(&l.Files, DefaultFiles)
	defi(&l.Members, DefaultMembers)
	defi(&l.Depth, DefaultDepth)
	defi(&l.Nesting, DefaultNesting)
	return l
}

// Source is one sending address across the reports.
type Source struct {
	Addr netip.Addr
	// Messages is the sum of the reports' counts for it; Passed the part for
	// which DMARC passed (policy_evaluated dkim or spf "pass"); Forwarded the
	// part that did not pass and that the receivers said was forwarded (a
	// policy_evaluated reason of forwarded, trusted_forwarder or mailing_list).
	Messages, Passed, Forwarded int64
	// Share is Messages over all messages of all sources (not rounded).
	Share float64
	// Reports counts the distinct reports that name it.
	Reports int
	// Reporters are the reporters' org_names; HeaderFrom the header-from
	// domains of its records. Both sorted; sources with the same ones share
	// a slice (not to be modified).
	Reporters, HeaderFrom []string
	// Skip says why the address is not sent to public lists (a private,
	// loopback, link-local or CGNAT address that some reporters leak), "" if it is.
	Skip string
}

// Forged says that none of the source's mail passed DMARC: whoever sends from
// it is not the domain's own mail stream.
func (s *Source) Forged() bool { return s.Passed == 0 }

// Forwarder says that none of the source's mail passed DMARC and all of it
// was forwarded, as the receivers said: a mailing list or a forwarding
// account relaying the domain's mail, not a forger (though its mail is not
// the domain's to vouch for either).
func (s *Source) Forwarder() bool { return s.Forged() && s.Messages > 0 && s.Forwarded == s.Messages }

// Unread is a file, or a part of one, that could not be read fully.
type Unread struct {
	File string `json:"file"`
	Why  string `json:"why"`
	// NotReport says the file (in a directory) holds no DMARC report at all:
	// not one that could not be read, something else (notes, TLS reports)
	NotReport bool `json:"-"`
}

// Result is what the reports say, across all files read.
type Result struct {
	Reports  int
	Messages int64
	// Domains are the policy_published domains; Reporters every org_name.
	Domains, Reporters []string
	// Begin and End span the reports' date ranges (zero when no report said).
	Begin, End time.Time
	// Sources, most messages first (then by address).
	Sources []*Source
	Unread  []Unread
	// Duplicates counts reports read again (same org_name and report_id) and
	// left out; Files the files read; Skipped the messages of mboxes and
	// Maildirs that held no report.
	Duplicates, Files, Skipped int
}

// aggregate collects sources across reports; memory grows with the distinct
// sources and reports, not with the records or bytes read. A source is one
// map entry and one acc (a few dozen bytes): reporter and header-from names are
// kept once each and a source holds their numbers (a report of 187,000 records
// from 115,000 addresses kept 615 bytes a source with a map of names each).
type aggregate struct {
	index     map[netip.Addr]int32 // into accs
	accs      []acc
	names     []string          // reporters and header-from domains, by number
	numbers   map[string]uint32 // names[numbers[s]] == s
	seen      map[string]bool
	domains   map[string]bool
	reporters map[string]bool
	reports   int
	dups      int
	begin     time.Time
	end       time.Time
}

type acc struct {
	messages, passed      int64
	forwarded             int64
	reports, lastReport   int32
	reporters, headerFrom idSet
}

// idSet is a set of name numbers: most sources have one reporter and one
// header-from domain, kept in the set itself; a map holds the others.
type idSet struct {
	first uint32 // the first number + 1; 0: the set is empty
	rest  map[uint32]struct{}
}

func (s *idSet) add(id uint32) {
	switch {
	case s.first == 0:
		s.first = id + 1
	case s.first == id+1:
	case s.rest == nil:
		s.rest = map[uint32]struct{}{id: {}}
	default:
		s.rest[id] = struct{}{}
	}
}

// all appends the numbers in the set to buf, in no particular order.
func (s *idSet) all(buf []uint32) []uint32 {
	if s.first == 0 {
		return buf
	}
	buf = append(buf, s.first-1)
	for v := range s.rest {
		buf = append(buf, v)
	}
	return buf
}

func newAggregate() *aggregate {
	return &aggregate{index: map[netip.Addr]int32{}, numbers: map[string]uint32{}, seen: map[string]bool{},
		domains: map[string]bool{}, reporters: map[string]bool{}}
}

// number returns the number of name, giving it one if it has none.
func (g *aggregate) number(name string) uint32 {
	n, ok := g.numbers[name]
	if !ok {
		n = uint32(len(g.names))
		g.names = append(g.names, name)
		g.numbers[name] = n
	}
	return n
}

// add counts one report, unless the same report was counted already; it
// returns false for a duplicate. The same report is the same reporter and
// report_id for the same domain and date range: Google and Mimecast give one
// report_id to a domain's reports of consecutive days, and other reporters
// one to every domain's report of a day (liuch/dmarc-srg#81,
// solarissmoke/php-dmarc#13); each of those is a report of its own.
func (g *aggregate) add(r *report) bool {
	if r.id != "" {
		key := fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%d", strings.ToLower(strings.TrimSpace(r.org)), r.id, r.domain,
			unixOrZero(r.begin), unixOrZero(r.end))
		if g.seen[key] {
			g.dups++
			return false
		}
		g.seen[key] = true
	}
	g.reports++
	org := strings.TrimSpace(r.org)
	if org == "" {
		org = "(no org_name)"
	}
	g.reporters[org] = true
	if r.domain != "" {
		g.domains[r.domain] = true
	}
	g.span(r.begin, r.end)
	orgID := g.number(org)
	for _, rec := range r.records {
		i, ok := g.index[rec.ip]
		if !ok {
			i = int32(len(g.accs))
			g.accs = append(g.accs, acc{})
			g.index[rec.ip] = i
		}
		a := &g.accs[i]
		a.messages += rec.count
		switch {
		case rec.pass:
			a.passed += rec.count
		case rec.forwarded:
			a.forwarded += rec.count
		}
		if a.lastReport != int32(g.reports) {
			a.lastReport = int32(g.reports)
			a.reports++
		}
		a.reporters.add(orgID)
		if rec.headerFrom != "" {
			a.headerFrom.add(g.number(rec.headerFrom))
		}
	}
	return true
}

// span widens the reports' date range by one report's.
func (g *aggregate) span(begin, end time.Time) {
	switch { // a report that gives one bound of its range spans at least that moment
	case begin.IsZero():
		begin = end
	case end.IsZero():
		end = begin
	}
	if !begin.IsZero() && (g.begin.IsZero() || begin.Before(g.begin)) {
		g.begin = begin
	}
	if end.After(g.end) {
		g.end = end
	}
}

// result is what the reports say. Sources with the same reporters (or
// header-from domains) share one slice of them.
func (g *aggregate) result() *Result {
	res := &Result{Reports: g.reports, Duplicates: g.dups, Begin: g.begin, End: g.end,
		Domains: sortedKeys(g.domains), Reporters: sortedKeys(g.reporters)}
	shared := map[string][]string{}
	var key []byte
	var ids []uint32
	names := func(s *idSet) []string {
		ids = s.all(ids[:0])
		slices.Sort(ids)
		key = key[:0]
		for _, id := range ids {
			key = binary.LittleEndian.AppendUint32(key, id)
		}
		if out, ok := shared[string(key)]; ok {
			return out
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = g.names[id]
		}
		slices.Sort(out)
		shared[string(key)] = out
		return out
	}
	all := make([]Source, 0, len(g.index))
	for ip, i := range g.index {
		a := &g.accs[i]
		res.Messages += a.messages
		all = append(all, Source{Addr: ip, Messages: a.messages, Passed: a.passed, Forwarded: a.forwarded, Reports: int(a.reports),
			Reporters: names(&a.reporters), HeaderFrom: names(&a.headerFrom), Skip: dnsbl.NotPublic(ip)})
	}
	res.Sources = make([]*Source, len(all))
	for i := range all {
		s := &all[i]
		if res.Messages > 0 {
			s.Share = float64(s.Messages) / float64(res.Messages)
		}
		res.Sources[i] = s
	}
	slices.SortFunc(res.Sources, func(a, b *Source) int {
		if c := cmp.Compare(b.Messages, a.Messages); c != 0 {
			return c
		}
		return a.Addr.Compare(b.Addr)
	})
	return res
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

package catalog

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	blcheck "github.com/blcheck/blcheck"
)

func TestDefaultCatalogIsValid(t *testing.T) {
	c := Default()
	active, keyless := 0, 0
	for _, l := range c.Lists {
		if l.Dead() && l.Default {
			t.Errorf("dead list %s is on by default", l.ID)
		}
		if !l.Dead() && !l.Default && strings.TrimSpace(l.OffReason) == "" {
			t.Errorf("active list %s is off by default without an off_reason for `blcheck lists`", l.ID)
		}
		if !l.Default || l.Dead() {
			continue
		}
		active++
		if !l.Keyed() {
			keyless++
		}
		if len(l.Codes) == 0 {
			t.Errorf("default list %s documents no codes", l.ID)
		}
		if l.Delist == "" && !strings.Contains(l.Notes, "expire") {
			t.Errorf("default list %s has neither a lookup/delisting URL nor a note on when listings expire", l.ID)
		}
		if l.Allow() {
			t.Errorf("allowlist %s is on by default", l.ID)
		}
	}
	if active < 20 {
		t.Errorf("only %d active lists on by default, want at least 20", active)
	}
	if keyless < 15 {
		t.Errorf("only %d default lists work without a key", keyless)
	}
	for _, id := range []string{"spamhaus-zen", "spamhaus-dbl", "spamcop", "surbl", "uribl",
		"psbl", "mailspike-bl", "uceprotect-1"} {
		l := c.ByID(id)
		if l == nil || !l.Default {
			t.Errorf("%s missing or not on by default", id)
		}
	}
}

// No listing is counted twice by default: no default list is part of another
// default list (directly or through part_of's chain).
func TestDefaultListsDoNotOverlap(t *testing.T) {
	c := Default()
	for _, l := range c.Lists {
		if !l.Default {
			continue
		}
		for p := l; p.PartOf != ""; {
			p = c.ByID(p.PartOf)
			if p.Default {
				t.Errorf("default list %s is part of default list %s: one listing would count twice", l.ID, p.ID)
			}
		}
	}
	for _, id := range []string{"spamhaus-sbl", "spamhaus-xbl", "spamhaus-pbl", "spamhaus-sbl-xbl", "spamhaus-dqs-sbl",
		"spamhaus-dqs-xbl", "spamhaus-dqs-pbl", "uribl-black", "uribl-grey", "uribl-red", "barracuda-bb", "mailspike-z",
		"senderscore", "uceprotect-2", "uceprotect-3", "0spam", "0spam-nbl", "cbl", "dnswl"} {
		if l := c.ByID(id); l == nil || l.Default {
			t.Errorf("%s must exist and be off by default", id)
		}
	}
	if got := c.ByID("cbl").Root().ID; got != "spamhaus-zen" {
		t.Errorf("cbl's root = %s, want spamhaus-zen (cbl is part of XBL, XBL of ZEN)", got)
	}
}

// Each corrected entry decodes its documented answers.
func TestCorrectedEntries(t *testing.T) {
	c := Default()
	tests := []struct {
		id, answer string
		meanings   []string // substrings, one per meaning
		err        string   // when the answer is an error code, a substring of its meaning
	}{
		{"senderscore", "127.0.0.3", []string{"botnet", "failed authentication"}, ""},
		{"senderscore", "127.0.0.16", []string{"low Sender Score"}, ""},
		{"senderscore", "127.255.255.255", nil, "not registered"},
		{"cbl", "127.255.255.254", nil, "public or shared resolvers"},
		{"spamrats-dyna", "127.0.0.36", []string{"RATS-Dyna"}, ""},
		{"spamrats-all", "127.0.0.38", []string{"RATS-Spam"}, ""},
		{"abusix-dblack", "127.0.1.3", []string{"short URL"}, ""},
		{"spamhaus-dqs-zrd", "127.0.2.255", nil, "ZRD takes domains only"},
		{"spamhaus-dqs-zrd", "127.0.2.5", []string{"4 to 5 hours"}, ""},
		{"dronebl", "127.0.0.4", []string{"retired class"}, ""},
		{"dnswl", "127.0.2.3", []string{"financial services", "trust: high"}, ""},
		{"dnswl", "127.0.15.0", []string{"e-mail marketing", "trust: none"}, ""},
		{"dnswl", "127.0.0.255", nil, "refuses this resolver"},
		{"uceprotect-2", "127.0.0.2", []string{"provider's network"}, ""},
		{"backscatterer", "127.0.0.2", []string{"only for bounces"}, ""},
		{"sem-backscatter", "127.0.0.2", []string{"only for bounces"}, ""},
	}
	for _, tc := range tests {
		l := c.ByID(tc.id)
		a := netip.MustParseAddr(tc.answer)
		why, isErr := l.ErrorMeaning(a)
		if tc.err != "" {
			if !isErr || !strings.Contains(why, tc.err) {
				t.Errorf("%s %s: error meaning %q (%v), want %q", tc.id, tc.answer, why, isErr, tc.err)
			}
			continue
		}
		if isErr {
			t.Errorf("%s %s: taken for an error (%s)", tc.id, tc.answer, why)
			continue
		}
		got := l.Meanings(a)
		if len(got) != len(tc.meanings) {
			t.Errorf("%s %s: meanings %q, want %d", tc.id, tc.answer, got, len(tc.meanings))
			continue
		}
		for i, m := range tc.meanings {
			if !strings.Contains(got[i], m) {
				t.Errorf("%s %s: meaning %q, want it to say %q", tc.id, tc.answer, got[i], m)
			}
		}
	}
	for _, id := range []string{"spamrats-all", "spamrats-dyna", "spamrats-noptr", "spamrats-spam"} {
		if !c.ByID(id).OnlyCodes {
			t.Errorf("%s: only its own codes are listings (only_codes)", id)
		}
	}
	for id, want := range map[string]string{
		"spamhaus-zen": "https://check.spamhaus.org/query/ip/192.0.2.10",
		"spamhaus-dbl": "https://check.spamhaus.org/query/domain/192.0.2.10",
		"barracuda":    "http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.10",
		"0spam":        "https://check.0spam.org/q?ipaddr=192.0.2.10",
	} {
		if got := c.ByID(id).DelistURL("192.0.2.10"); got != want {
			t.Errorf("%s delist = %q, want %q", id, got, want)
		}
	}
	if c.ByID("barracuda").Removal == "" {
		t.Error("barracuda: no removal form")
	}
	for _, id := range []string{"spamhaus-dqs-zrd", "spamhaus-dqs-authbl", "sem-ipv6", "0spam-nbl"} {
		if !c.ByID(id).Untested() {
			t.Errorf("%s publishes no test point: tests: none", id)
		}
	}
	for id, want := range map[string]string{"uribl-black": "test.uribl.com", "uribl-grey": "test.uribl.com",
		"abusix-dblack": ".test", "nordspam-dbl": "test.dbl.nordspam.com"} {
		if l, _ := c.ByID(id).TestPoints(); len(l) != 1 || !strings.HasSuffix(l[0], want) {
			t.Errorf("%s test point %v, want %s", id, l, want)
		}
	}
	for _, zone := range []string{"db.wpbl.info", "virbl.bit.nl", "spam.dnsbl.sorbs.net", "combined.njabl.org",
		"rhsbl.ahbl.org", "drone.abuse.ch", "combined.abuse.ch"} {
		if l := c.Lookup(zone); l == nil || !l.Dead() || l.Died == "" {
			t.Errorf("%s: must be in the catalog, dead and dated", zone)
		}
	}
	if got := c.ByID("ordb").Died; got != "2006-12-18" {
		t.Errorf("ORDB closed 2006-12-18, catalog says %q", got)
	}
}

func TestParseRejects(t *testing.T) {
	base := `- id: x
  name: X
  zone: bl.example
  kind: ip
  families: [ipv4]
  default: true
  status: active
  codes: {127.0.0.2: listed}
`
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key with its line", base + "  colour: red\n", `:9: list "x": unknown key "colour"`},
		{"code outside 127/8", strings.Replace(base, "127.0.0.2", "10.0.0.2", 1), `list "x": codes: "10.0.0.2" is outside 127.0.0.0/8`},
		{"code not an address", strings.Replace(base, "127.0.0.2", "127.0.0.x", 1), `"127.0.0.x" is not an IPv4 address`},
		{"dead and default", strings.Replace(base, "status: active", "status: dead\n  now: gone", 1), "dead list cannot be on by default"},
		{"missing kind", strings.Replace(base, "  kind: ip\n", "", 1), "kind is missing"},
		{"ip list without families", strings.Replace(base, "  families: [ipv4]\n", "", 1), "families is missing"},
		{"bad family", strings.Replace(base, "[ipv4]", "[ipv5]", 1), `"ipv5" is not ipv4 or ipv6`},
		{"key placeholder without key", strings.Replace(base, "bl.example", "'{key}.bl.example'", 1), "has {key} but the entry has no key"},
		{"bad delist", base + "  delist: ftp//nope\n", "is not an http(s) URL"},
		{"other placeholder", base + "  delist: https://x.example/{ip}\n", "the only placeholder is {subject}"},
		{"duplicate id", base + strings.Replace(base, "bl.example", "bl2.example", 1), "id is used twice (first at line 1)"},
		{"default without codes", strings.Replace(base, "codes: {127.0.0.2: listed}", "codes: {}", 1), "codes are unknown cannot be on by default"},
		{"bitmask code not a bit", strings.Replace(base, "  status: active\n", "  status: active\n  bitmask: true\n", 1) + "", ""},
		{"bad zone", strings.Replace(base, "bl.example", "bl..example", 1), "is not a DNS zone name"},
		{"not a list", "id: x\n", "the catalog must be a list of entries"},
		{"codes as a list", strings.Replace(base, "codes: {127.0.0.2: listed}", "codes: [127.0.0.2]", 1), "expected a mapping (value: meaning), found a list"},
		{"empty", "", "the catalog is empty"},
		{"replaces unknown", strings.Replace(base, "bl.example", "'{key}.bl.example'", 1) + "  key: {env: BLCHECK_K}\n  replaces: [nope]\n", `replaces unknown list "nope"`},
		{"error prefix outside", base + "  errors: {'10.0.0.0/8': x}\n", "not an IPv4 prefix inside 127.0.0.0/8"},
		{"part_of unknown", base + "  part_of: nope\n", `part_of names unknown list "nope"`},
		{"part_of itself", base + "  part_of: x\n", "part_of names the list itself"},
		{"part_of loop", base + "  part_of: y\n" + strings.NewReplacer("id: x", "id: y", "bl.example", "bl2.example").Replace(base) + "  part_of: x\n", "part_of makes a loop"},
		{"part_of other kind", base + "  part_of: d\n- {id: d, name: D, zone: d.example, kind: domain, status: active, codes: {}}\n", "cannot be part of a domain list"},
		{"tests none with points", base + "  tests: none\n" + "", ""},
		{"tests word", base + "  tests: never\n", `or "none"`},
		{"only_codes without codes", strings.Replace(base, "codes: {127.0.0.2: listed}", "codes: {}\n  meaning: x\n  only_codes: true", 1), "only_codes needs the codes"},
		{"trust on a block list", base + "  trust: {3: high}\n", "trust is for allowlists"},
		{"allow without families", strings.NewReplacer("kind: ip", "kind: allow", "  families: [ipv4]\n", "").Replace(base), "allow lists need"},
		{"code prefix outside", strings.Replace(base, "127.0.0.2", "'10.0.2.0/24'", 1), "not an IPv4 prefix inside 127.0.0.0/8"},
		{"key from any variable", strings.Replace(base, "bl.example", "'{key}.bl.example'", 1) + "  key: {env: GITHUB_TOKEN}\n", `key.env "GITHUB_TOKEN": a list's key comes only from a variable named BLCHECK_*`},
		{"bad kind", strings.Replace(base, "kind: ip", "kind: black", 1), `kind "black" is not ip, domain or allow`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "test.yaml")
			if tc.want == "" { // bitmask with 127.0.0.2 is a single bit: valid
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "test.yaml") {
				t.Errorf("error %q, want it to name test.yaml and contain %q", err, tc.want)
			}
		})
	}
}

func TestMeanings(t *testing.T) {
	c := Default()
	surbl, uribl, zen := c.ByID("surbl"), c.ByID("uribl"), c.ByID("spamhaus-zen")
	tests := []struct {
		l    *List
		addr string
		want []string
	}{
		{zen, "127.0.0.4", []string{"XBL: exploited or infected host (CBL data: bot, open proxy, malware)"}},
		{zen, "127.0.0.99", []string{"listed (127.0.0.99 is not documented by the list)"}},
		{uribl, "127.0.0.14", []string{"black: domain owned or used by spammers", "grey: domain seen in bulk mail that may be legitimate",
			"red: very young or privacy-shielded domain active in mail flow"}},
		{surbl, "127.0.0.80", []string{"MW: malware", "ABUSE: spam and other abuse"}},
		{surbl, "127.0.0.66", []string{"ABUSE: spam and other abuse", "listed (bits 0x02 of 127.0.0.66 is not documented by the list)"}},
		{c.ByID("0spam"), "127.0.0.7", []string{"sent mail to 0Spam spam traps"}},
	}
	for _, tc := range tests {
		got := tc.l.Meanings(netip.MustParseAddr(tc.addr))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: got %q, want %q", tc.l.ID, tc.addr, got, tc.want)
		}
	}
}

func TestErrorMeaning(t *testing.T) {
	zen := Default().ByID("spamhaus-zen")
	tests := []struct {
		addr string
		want string
		ok   bool
	}{
		{"127.255.255.254", "Spamhaus refuses queries from public or shared resolvers", true},
		{"127.255.255.200", "reserves this range", true}, // the whole /24 is errors
		{"127.0.0.2", "", false},
	}
	for _, tc := range tests {
		got, ok := zen.ErrorMeaning(netip.MustParseAddr(tc.addr))
		if ok != tc.ok || !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q %v, want %q %v", tc.addr, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSelect(t *testing.T) {
	c := Default()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	ids := func(s []Selected) []string {
		var out []string
		for _, l := range s {
			out = append(out, l.ID)
		}
		return out
	}

	def, warn, err := c.Select(Selection{Getenv: env(nil)})
	if err != nil || len(warn) != 0 {
		t.Fatalf("default: %v %v", err, warn)
	}
	if !slices.Contains(ids(def), "spamhaus-zen") || slices.Contains(ids(def), "sorbs") || slices.Contains(ids(def), "cbl") {
		t.Errorf("default selection wrong: %v", ids(def))
	}

	keyed, _, _ := c.Select(Selection{Getenv: env(map[string]string{"BLCHECK_SPAMHAUS_DQS_KEY": "sekrit"})})
	got := ids(keyed)
	if slices.Contains(got, "spamhaus-zen") || slices.Contains(got, "spamhaus-dbl") || !slices.Contains(got, "spamhaus-dqs-zen") {
		t.Errorf("with a DQS key the DQS zones must replace the public mirrors: %v", got)
	}
	for _, s := range keyed {
		if s.ID == "spamhaus-dqs-zen" && s.SecretZone() != "sekrit.zen.dq.spamhaus.net" {
			t.Errorf("keyed zone = %q", s.SecretZone())
		}
	}

	only, warn, err := c.Select(Selection{Only: []string{"zen.spamhaus.org,spamcop", "njabl"}, Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(only), []string{"spamhaus-zen", "spamcop", "njabl"}) {
		t.Errorf("--list selection = %v", ids(only))
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "njabl") || !strings.Contains(warn[0], "dead since 2013-03") {
		t.Errorf("naming a dead list must warn: %q", warn)
	}

	ex, _, _ := c.Select(Selection{Exclude: []string{"zen"}, Getenv: env(nil)})
	if slices.Contains(ids(ex), "spamhaus-zen") || len(ex) != len(def)-1 {
		t.Errorf("--exclude by alias failed: %v", ids(ex))
	}

	if _, _, err := c.Select(Selection{Only: []string{"no.such.zone"}}); err == nil || !strings.Contains(err.Error(), `"no.such.zone"`) {
		t.Errorf("unknown list: %v", err)
	}
	if _, _, err := c.Select(Selection{Only: []string{"spamcop"}, Exclude: []string{"spamcop"}}); err == nil {
		t.Error("excluding everything must be an error")
	}
}

func TestTestPoints(t *testing.T) {
	c := Default()
	tests := []struct {
		id               string
		listed, unlisted []string
	}{
		{"spamhaus-zen", []string{"127.0.0.2"}, []string{"127.0.0.1"}},
		{"sem-ipv6", nil, []string{"::ffff:7f00:1"}}, // tests: none: only the point no list may list
		{"spamcop", []string{"127.0.0.2"}, []string{"127.0.0.1"}},
		{"dnswl", nil, []string{"127.0.0.1"}},
		{"spamhaus-dbl", []string{"dbltest.com"}, []string{"invalid"}},
		{"sem-uri", []string{"_DNSBL_.test"}, []string{"_DNSBLNEG_.test"}},
		{"surbl", []string{"test.surbl.org"}, []string{"invalid"}},
	}
	for _, tc := range tests {
		l, u := c.ByID(tc.id).TestPoints()
		if !slices.Equal(l, tc.listed) || !slices.Equal(u, tc.unlisted) {
			t.Errorf("%s: got %v / %v", tc.id, l, u)
		}
	}
}

func TestDelistURL(t *testing.T) {
	c := Default()
	if got := c.ByID("spamcop").DelistURL("192.0.2.1"); got != "https://www.spamcop.net/bl.shtml?192.0.2.1" {
		t.Errorf("spamcop delist = %q", got)
	}
	if got := c.ByID("uribl").DelistURL("a b&c"); got != "http://lookup.uribl.com/?domain=a+b%26c" {
		t.Errorf("subject must be escaped: %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(blcheck.ListsYAML)
	f.Add([]byte("- {id: a, name: A, zone: a.example, kind: domain, status: active, codes: {}}"))
	f.Add([]byte("- id: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if c != nil {
				t.Fatal("error with a catalog")
			}
			return
		}
		for _, l := range c.Lists {
			if l.ID == "" || l.Zone == "" || (l.Kind != KindIP && l.Kind != KindDomain && l.Kind != KindAllow) {
				t.Fatalf("invalid entry accepted: %+v", l)
			}
			l.TestPoints()
			l.Meanings(netip.MustParseAddr("127.0.0.2"))
		}
	})
}

// A key that cannot be one DNS label is refused, naming its variable, not itself.
func TestSelectBadKey(t *testing.T) {
	c := Default()
	for _, key := range []string{"sek rit", "sek.rit", strings.Repeat("k", 64), "sek/rit"} {
		_, _, err := c.Select(Selection{Only: []string{"spamhaus-dqs-zen"},
			Getenv: func(k string) string { return map[string]string{"BLCHECK_SPAMHAUS_DQS_KEY": key}[k] }})
		if err == nil || !strings.Contains(err.Error(), "$BLCHECK_SPAMHAUS_DQS_KEY") || strings.Contains(err.Error(), "rit") {
			t.Errorf("key %q: %v, want an error naming the variable and not the key", key, err)
		}
	}
	if _, _, err := c.Select(Selection{Only: []string{"spamhaus-dqs-zen"},
		Getenv: func(string) string { return "abcdefghijklmnopqrstuvwxyz" }}); err != nil {
		t.Errorf("a good key: %v", err)
	}
}

// TestSelectAllAndDefault: "all" is every active list whose key is set, "default"
// the lists used without --list; both combine with ids and with Exclude.
func TestSelectAllAndDefault(t *testing.T) {
	c := Default()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	dqs := env(map[string]string{"BLCHECK_SPAMHAUS_DQS_KEY": "sekrit"})
	ids := func(sel Selection) []string {
		t.Helper()
		got, _, err := c.Select(sel)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range got {
			out = append(out, l.ID)
		}
		return out
	}
	var active, activeKeyless, nonDefault []string
	for _, l := range c.Lists {
		if !l.Dead() {
			active = append(active, l.ID)
			if l.Key == nil {
				activeKeyless = append(activeKeyless, l.ID)
			}
			if !l.Default {
				nonDefault = append(nonDefault, l.ID)
			}
		}
	}
	def := ids(Selection{Getenv: env(nil)})
	tests := []struct {
		name      string
		sel       Selection
		want      []string // exactly, when set
		has, lack []string
	}{
		{"all without keys: every active keyless list", Selection{Only: []string{"all"}, Getenv: env(nil)}, activeKeyless, nil, nil},
		{"ALL in capitals", Selection{Only: []string{"ALL"}, Getenv: env(nil)}, activeKeyless, nil, nil},
		{"all with a key: its lists too, replacing the public mirrors", Selection{Only: []string{"all"}, Getenv: dqs}, nil,
			[]string{"spamhaus-dqs-zen", "spamhaus-dqs-dbl", "spamcop"}, []string{"spamhaus-zen", "njabl", "sorbs"}},
		{"default is what no --list gives", Selection{Only: []string{"default"}, Getenv: env(nil)}, def, nil, nil},
		{"default plus one", Selection{Only: []string{"default,uceprotect-2"}, Getenv: env(nil)}, nil,
			append(slices.Clone(def), "uceprotect-2"), nil},
		{"all but the defaults", Selection{Only: []string{"all"}, Exclude: []string{"default"}, Getenv: env(nil)}, nil,
			[]string{"uceprotect-2", "spamhaus-sbl"}, def},
		{"all but one", Selection{Only: []string{"all"}, Exclude: []string{"uceprotect-3"}, Getenv: env(nil)}, nil,
			[]string{"uceprotect-2"}, []string{"uceprotect-3"}},
		{"a public mirror named one by one stays beside its DQS zone", Selection{Only: []string{"all", "spamhaus-zen"}, Getenv: dqs}, nil,
			[]string{"spamhaus-zen", "spamhaus-dqs-zen"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(tc.sel)
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
			for _, id := range tc.has {
				if !slices.Contains(got, id) {
					t.Errorf("%s missing from %v", id, got)
				}
			}
			for _, id := range tc.lack {
				if slices.Contains(got, id) {
					t.Errorf("%s in %v", id, got)
				}
			}
		})
	}
	if len(activeKeyless) <= len(def) || len(nonDefault) == 0 || len(active) <= len(activeKeyless) {
		t.Fatalf("the catalog changed shape: %d active, %d keyless, %d default", len(active), len(activeKeyless), len(def))
	}
}

// link_codes: a mapping of the codes that count for a link host, for a name
// server and for an earlier relay (the host's where it says none), or a plain
// list for the three; checked against the list's codes.
func TestLinkCodes(t *testing.T) {
	const head = "- {id: x, name: X, zone: x.test, kind: ip, families: [ipv4], default: true, status: active, codes: {127.0.0.2: A, 127.0.0.4: B, 127.0.0.10: C}, "
	ok := map[string][3][]string{
		"link_codes: {host: [127.0.0.2, 127.0.0.4], name_server: [127.0.0.2]}": {{"127.0.0.2", "127.0.0.4"}, {"127.0.0.2"}, {"127.0.0.2", "127.0.0.4"}},
		"link_codes: [127.0.0.2]":                                     {{"127.0.0.2"}, {"127.0.0.2"}, {"127.0.0.2"}},
		"link_codes: {host: [], name_server: []}":                     {{}, {}, {}},
		"link_codes: {host: [], name_server: [], relay: [127.0.0.2]}": {{}, {}, {"127.0.0.2"}},
		"link_codes: {host: [127.0.0.2], relay: []}":                  {{"127.0.0.2"}, {}, {}},
	}
	for lc, want := range ok {
		c, err := Parse([]byte(head+lc+"}\n"), "t")
		if err != nil {
			t.Errorf("%s: %v", lc, err)
			continue
		}
		l := c.ByID("x")
		for i, r := range []Role{RoleLinkHost, RoleNameServer, RoleRelay} {
			got, _ := l.RoleCodes(r)
			if !slices.Equal(got, want[i]) && len(got)+len(want[i]) > 0 {
				t.Errorf("%s: role %d has %v, want %v", lc, r, got, want[i])
			}
		}
	}
	for lc, msg := range map[string]string{
		"link_codes: {host: [127.0.0.3]}":  "not one of the list's codes",
		"link_codes: {relay: [127.0.0.3]}": "not one of the list's codes",
		"link_codes: {hosts: [127.0.0.2]}": `unknown key "hosts"`,
		"link_codes: {host: [x]}":          "must be an address",
		"link_codes: 127.0.0.2":            "a mapping (host, name_server, relay) or a list",
		"link_codes: {host: [\"::1\"]}":    "must be an address",
	} {
		if _, err := Parse([]byte(head+lc+"}\n"), "t"); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", lc, err, msg)
		}
	}
	for lc, want := range map[string]string{"link_codes: {host: [127.0.0.2]}": `"relay":null`, "link_codes: {host: [], relay: []}": `"relay":[]`} {
		c, err := Parse([]byte(head+lc+"}\n"), "t")
		if err != nil {
			t.Fatal(err)
		}
		// JSON tells no relay codes (host codes count) from an empty list (none counts)
		if b, _ := json.Marshal(c.ByID("x").LinkCodes); !strings.Contains(string(b), want) {
			t.Errorf("%s: JSON %s, want %s", lc, b, want)
		}
	}
	dom := "- {id: d, name: D, zone: d.test, kind: domain, default: true, status: active, bitmask: true, codes: {127.0.0.4: DM, 127.0.0.8: PH}, link_codes: {host: [127.0.0.8], name_server: [127.0.0.8]}}\n"
	if _, err := Parse([]byte(dom), "t"); err == nil || !strings.Contains(err.Error(), "name_server codes are for IP lists") {
		t.Errorf("a domain list's name-server codes: %v", err)
	}
	if _, err := Parse([]byte(strings.Replace(dom, "name_server:", "relay:", 1)), "t"); err == nil || !strings.Contains(err.Error(), "relay codes are for IP lists") {
		t.Errorf("a domain list's relay codes: %v", err)
	}
	c, err := Parse([]byte(strings.Replace(dom, ", name_server: [127.0.0.8]", "", 1)), "t")
	if err != nil {
		t.Fatal(err)
	}
	d := c.ByID("d")
	for code, counts := range map[string]bool{"127.0.0.4": false, "127.0.0.8": true, "127.0.0.12": true, "127.0.0.36": false} {
		if got := d.CountsAs(RoleLinkHost, []netip.Addr{netip.MustParseAddr(code)}); got != counts {
			t.Errorf("bitmask %s for a link: %v", code, got)
		}
		if !d.CountsAs(RoleSender, []netip.Addr{netip.MustParseAddr(code)}) {
			t.Errorf("bitmask %s for a sender does not count", code)
		}
	}
}

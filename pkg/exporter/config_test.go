package exporter

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/resolver"
)

func TestParseConfigErrors(t *testing.T) {
	cat := catalog.Default()
	env := func(string) string { return "" }
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "empty"},
		{"no modules", "allow: [any]\n", "modules: none"},
		{"no allow", "modules: {default: {}}\n", "allow: empty"},
		{"unknown key", "modules: {default: {lits: [spamcop]}}\nallow: [any]\n", "lits"},
		{"unknown list", "modules: {default: {lists: [nope]}}\nallow: [any]\n", "module default"},
		{"bad range", "modules: {default: {max_range: /8}}\nallow: [any]\n", "max_range"},
		{"bad timeout", "modules: {default: {timeout: soon}}\nallow: [any]\n", "timeout"},
		{"bad direct", "modules: {default: {direct: sometimes}}\nallow: [any]\n", "module default: direct:"},
		{"bad allow", "modules: {default: {}}\nallow: ['not a domain']\n", "allow:"},
		{"empty module set", "modules: {default: {exclude: [" + allDefault(cat) + "]}}\nallow: [any]\n", "no lists left"},
		// yaml.v3's own errors, in the file's words rather than Go's types
		{"misspelt module key", "modules:\n  default:\n    timout: 5s\nallow: [any]\n", "line 3: field timout not found in a module (its keys: lists,"},
		{"misspelt top key", "module: {default: {}}\nallow: [any]\n", "line 1: field module not found at the top level (its keys: modules, allow)"},
		{"modules as a list", "modules: [a, b]\nallow: [any]\n", "into modules (module names"},
		{"mx not a boolean", "modules: {default: {mx: yes please}}\nallow: [any]\n", "into true or false"},
		{"allow not a list", "modules: {default: {}}\nallow: 192.0.2.0/24\n", "into a list"},
		{"a second document", "modules: {default: {}}\nallow: [any]\n---\nmodules: {other: {}}\n", "line 3: a second YAML document"},
		{"a broken second document", "modules: {default: {}}\nallow: [any]\n---\n\t- x\n", "cannot start any token"},
		{"two misspelt keys", "modules:\n  default:\n    timout: 5s\n    lits: [a]\nallow: [any]\n",
			"line 3: field timout not found in a module (its keys: lists, exclude, mx, spf, ns, ptr, max_range, timeout, direct); line 4: field lits"},
		{"a second document after an empty one", "modules: {default: {}}\nallow: [any]\n---\n---\nallow: [none]\n", "line 4: a second YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml), cat, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one that says %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "exporter.") {
				t.Errorf("error %v names a Go type", err)
			}
			if err != nil && (strings.Contains(err.Error(), "unmarshal") || strings.Contains(err.Error(), "\n")) {
				t.Errorf("error %q is not one line in the file's words", err)
			}
		})
	}
}

func allDefault(cat *catalog.Catalog) string {
	lists, _, _ := cat.Select(catalog.Selection{Getenv: func(string) string { return "" }})
	var ids []string
	for _, l := range lists {
		ids = append(ids, l.ID)
	}
	return strings.Join(ids, ", ")
}

func TestModuleDirect(t *testing.T) {
	cfg, err := ParseConfig([]byte("modules: {a: {direct: always}, b: {}}\nallow: [any]\n"), catalog.Default(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if a, b := cfg.Modules["a"].direct, cfg.Modules["b"].direct; a == nil || *a != dnsbl.DirectAlways || b != nil {
		t.Errorf("direct: a %v, b %v (nil: the server's default)", a, b)
	}
}

func TestAllows(t *testing.T) {
	cfg, err := ParseConfig([]byte("modules: {default: {}}\nallow: [192.0.2.0/24, 2001:db8::1, example.org]\n"),
		catalog.Default(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]bool{
		"192.0.2.9": true, "192.0.2.0/28": true, "192.0.0.0/16": false, "198.51.100.1": false,
		"2001:db8::1": true, "2001:db8::2": false, "example.org": true, "mail.example.org": true,
		"badexample.org": false, "a@example.org": true, "https://www.example.org/x": true, "example.com": false,
	} {
		tg, err := dnsbl.ParseTarget(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Allows(tg); got != want {
			t.Errorf("Allows(%s) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("modules: {default: {}}\nallow: [any]\n"))
	f.Add([]byte("modules:\n  a: {lists: [spamcop], max_range: 30, timeout: 2s}\nallow: [192.0.2.0/24, example.org]\n"))
	cat := catalog.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		cfg, err := ParseConfig(data, cat, func(string) string { return "" })
		if err == nil && (len(cfg.Modules) == 0 || len(cfg.Allow) == 0) {
			t.Fatalf("accepted a configuration without modules or allow: %q", data)
		}
	})
}

// The example configuration shipped in contrib/ loads.
func TestShippedConfig(t *testing.T) {
	cfg, err := LoadConfig("../../contrib/blcheck.yml", catalog.Default(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Modules) < 2 || cfg.Modules["default"] == nil {
		t.Errorf("modules: %v", cfg.ModuleNames())
	}
}

// A list a module names whose key the environment does not hold is said at
// the start and at each reload: every probe would skip it.
func TestKeyWarning(t *testing.T) {
	client, err := resolver.New(resolver.Config{Servers: []string{"127.0.0.1:1"}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for _, tt := range []struct {
		name, config string
		env          map[string]string
		warned       bool
	}{
		{"named, no key", "modules: {dqs: {lists: [spamhaus-dqs-zen, spamcop]}}\nallow: [any]\n", nil, true},
		{"named, key set", "modules: {dqs: {lists: [spamhaus-dqs-zen]}}\nallow: [any]\n", map[string]string{"BLCHECK_SPAMHAUS_DQS_KEY": "k"}, false},
		{"the default lists", "modules: {default: {}}\nallow: [any]\n", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "blcheck.yml")
			os.WriteFile(path, []byte(tt.config), 0o644)
			var logs bytes.Buffer
			s, err := New(Options{ConfigFile: path, Catalog: catalog.Default(), Resolver: client,
				Getenv: func(k string) string { return tt.env[k] }, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			got := strings.Count(logs.String(), "env=BLCHECK_SPAMHAUS_DQS_KEY")
			if tt.warned && (got != 2 || !strings.Contains(logs.String(), "list=spamhaus-dqs-zen")) || !tt.warned && got != 0 {
				t.Errorf("warned %d times (start and reload: want %v):\n%s", got, tt.warned, logs.String())
			}
		})
	}
}

// A document closed by --- (as tools and ConfigMaps write it), with nothing or
// only a comment after, is one configuration.
func TestParseConfigClosingSeparator(t *testing.T) {
	cat := catalog.Default()
	for _, tail := range []string{"---\n", "---\n# the end\n", "---\n---\n", "--- ~\n", "...\n"} {
		if _, err := ParseConfig([]byte("modules: {default: {}}\nallow: [any]\n"+tail), cat, func(string) string { return "" }); err != nil {
			t.Errorf("config ending %q: %v", tail, err)
		}
	}
}

// A configuration file that cannot be read is named with why, in words: not
// the system call's ("stat x.yml: no such file or directory").
func TestLoadConfigMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blcheck.yml")
	_, err := LoadConfig(path, catalog.Default(), func(string) string { return "" })
	if want := path + ": cannot read it: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// Without a file, what /probe may check comes from --allow, and a bad value is
// said as --allow's, not as a file's allow: key.
func TestDefaultAllowNamesFlag(t *testing.T) {
	_, err := Default([]string{"not a cidr"}, catalog.Default(), func(string) string { return "" })
	if want := `--allow "not a cidr" is neither a CIDR`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want one starting %q", err, want)
	}
}

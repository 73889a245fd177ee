package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/dnsbltest"
)

// readmeWorld is the in-process world the README's samples run against: the
// seed story's domain with its address on Spamhaus XBL, a newsletter's listed
// link host, and a mail server on two lists.
func readmeWorld(t *testing.T) *dnsbltest.Server {
	srv := fakeWorld(t)
	// blcheck justatheory.com; blcheck bounce
	srv.A("justatheory.com", "192.0.2.10")
	srv.MX("justatheory.com", 10, "mail.justatheory.com")
	srv.A("mail.justatheory.com", "192.0.2.10")
	srv.A("www.justatheory.com", "192.0.2.10")
	srv.A("www.bricolage.cc", "192.0.2.30")
	srv.List("zen.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "Listed by XBL, see https://check.spamhaus.org/query/ip/192.0.2.10")
	srv.List("xbl.spamhaus.org", "192.0.2.10", []string{"127.0.0.4"}, "Listed by XBL, see https://check.spamhaus.org/query/ip/192.0.2.10")
	// blcheck scan campaign.eml
	srv.A("www.bad.example", "192.0.2.11")
	srv.A("www.shop.example.com", "192.0.2.20")
	srv.List("dbl.spamhaus.org", "bad.example", []string{"127.0.1.2"})
	// blcheck -o nagios
	srv.A("mx.example.org", "192.0.2.25")
	srv.List("zen.spamhaus.org", "192.0.2.25", []string{"127.0.0.2"})
	srv.List("bl.spamcop.net", "192.0.2.25", []string{"127.0.0.2"})
	return srv
}

// readmeFiles are the files the README's samples name, from the test data.
var readmeFiles = map[string]string{
	"campaign.eml":     "../../pkg/extract/testdata/campaign.eml",
	"qmail-bounce.txt": "../../pkg/bounce/testdata/qmail-seed.txt",
}

// readmeUnchecked are the samples this test does not run, and why: a new
// sample is either run or named here.
var readmeUnchecked = map[string]string{
	"blcheck dmarc reports/": "the four reports it reads are not in the test data",
}

// sampleBlock is a ```console block of the README: a command, then its output;
// a last line "..." leaves the rest of the output out.
var sampleBlock = regexp.MustCompile("(?s)```console\n\\$ (blcheck [^\n]*)\n(.*?)```")

// TestREADMESamples runs each sample of the README (```console blocks) against
// the in-process world and fails when the README no longer shows what blcheck
// prints; go test -run TestREADMESamples -update rewrites them.
func TestREADMESamples(t *testing.T) {
	srv := readmeWorld(t)
	readmePath, err := filepath.Abs("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, from := range readmeFiles {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	blocks := sampleBlock.FindAllSubmatchIndex(readme, -1)
	if len(blocks) < 4 {
		t.Fatalf("%d samples in the README, want at least 4", len(blocks))
	}
	var out strings.Builder
	last := 0
	for _, m := range blocks {
		command, shown := string(readme[m[2]:m[3]]), string(readme[m[4]:m[5]])
		if why, ok := readmeUnchecked[command]; ok {
			t.Logf("not run: %s: %s", command, why)
			continue
		}
		got := normalizeSample(runSample(t, srv, command), srv.Addr)
		want := got
		if lines := strings.Split(shown, "\n"); len(lines) >= 2 && strings.TrimSpace(lines[len(lines)-2]) == "..." {
			keep := strings.Join(lines[:len(lines)-2], "\n") + "\n"
			if strings.HasPrefix(got, keep) {
				want = shown
			} else {
				want = firstLines(got, len(lines)-2) + lines[len(lines)-2] + "\n"
			}
			got = want
		}
		if shown != want {
			t.Errorf("README sample %q drifted (go test ./internal/cli -run TestREADMESamples -update rewrites it); it prints:\n%s\nthe README shows:\n%s", command, want, shown)
		}
		out.Write(readme[last:m[4]])
		out.WriteString(want)
		last = m[5]
	}
	out.Write(readme[last:])
	if *update {
		if err := os.WriteFile(readmePath, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runSample runs one README command ("blcheck ARGS", maybe "< FILE").
func runSample(t *testing.T, srv *dnsbltest.Server, command string) string {
	t.Helper()
	args := strings.Fields(strings.TrimPrefix(command, "blcheck "))
	stdin := ""
	if i := len(args) - 2; i >= 0 && args[i] == "<" {
		data, err := os.ReadFile(args[i+1])
		if err != nil {
			t.Fatal(err)
		}
		stdin, args = string(data), args[:i]
	}
	got := runCLI(t, map[string]string{"BLCHECK_DIRECT": "never", "BLCHECK_RESOLVER": srv.Addr}, stdin, args...)
	if got.err != "" {
		t.Errorf("%s: stderr %s", command, got.err)
	}
	return got.stdout
}

var (
	sampleElapsed = regexp.MustCompile(`in \d+ms via|in \d+\.\ds via`)
	sampleTime    = regexp.MustCompile(`time=\d+\.\d+s`)
)

// normalizeSample gives a run's output the README's constant parts: the
// resolver at 127.0.0.1:53, and 112ms.
func normalizeSample(s, addr string) string {
	s = strings.ReplaceAll(s, addr, "127.0.0.1:53")
	s = sampleElapsed.ReplaceAllString(s, "in 112ms via")
	return sampleTime.ReplaceAllString(s, "time=0.112s")
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[:min(n, len(lines))], "")
}

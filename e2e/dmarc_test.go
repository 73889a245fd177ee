package e2e

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// parsedmarc's samples (pkg/dmarc/testdata): in rfc9990-sample.xml 192.0.2.123
// sends 123 messages that pass DMARC; in the dmarcbis one 203.0.113.10 sends 2
// that do not (a forger). The world lists both on zen.
const dmarcSamples = "../pkg/dmarc/testdata/samples/parsedmarc/"

// dmarcRun runs blcheck dmarc, and returns its peak memory (Linux: max RSS).
func dmarcRun(t *testing.T, args ...string) (run, int64) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"dmarc"}, args...)...)
	cmd.Env = []string{"NO_COLOR=1", "PATH=/usr/bin:/bin", "BLCHECK_DIRECT=never"}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{code, out.String(), errb.String()}, maxRSS(cmd.ProcessState)
}

func TestDMARCEndToEnd(t *testing.T) {
	w := startWorld(t)
	common := []string{"--resolver", w.addr, "--timeout", "300ms", "-l", "zen,spamcop"}
	t.Run("a source that passes DMARC listed", func(t *testing.T) {
		r, _ := dmarcRun(t, append(common, dmarcSamples+"rfc9990-sample.xml")...)
		if r.code != 1 || !strings.Contains(r.stdout, "LISTED: 192.0.2.123 sent 123 messages (100.0% of the mail), 123 passing DMARC: your real mail") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("a forger listed", func(t *testing.T) {
		r, _ := dmarcRun(t, append(common, dmarcSamples+"dmarcbis-example.net!example.com!1700000000!1700086399.xml")...)
		if r.code != 0 || !strings.Contains(r.stdout, "forged: 203.0.113.10 sent 2 messages") ||
			!strings.Contains(r.stdout, "a forger, nothing for you to delist") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("bombs and a truncated gzip are unread within bounds", func(t *testing.T) {
		dir := t.TempDir()
		rep, err := os.ReadFile(dmarcSamples + "empty_reason.xml")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "good.xml"), rep, 0o644)
		os.WriteFile(filepath.Join(dir, "cut.xml.gz"), gz(t, rep)[:200], 0o644)
		// 100 MiB decompressed: spaces and empty elements after a report's start,
		// written as they are compressed (the test's own memory counts in the
		// child's peak: a forked child starts in its parent's pages)
		chunk := append(bytes.Repeat([]byte(" "), 1<<20-4), "<x/>"...)
		bomb := func(w io.Writer) {
			io.WriteString(w, "<feedback><report_metadata>")
			for range 100 {
				w.Write(chunk)
			}
		}
		gf, _ := os.Create(filepath.Join(dir, "bomb.xml.gz"))
		gw := gzip.NewWriter(gf)
		bomb(gw)
		gw.Close()
		gf.Close()
		zf, _ := os.Create(filepath.Join(dir, "bomb.zip"))
		zw := zip.NewWriter(zf)
		f, _ := zw.Create("bomb.xml")
		bomb(f)
		zw.Close()
		zf.Close()
		chunk = nil
		runtime.GC()
		debug.FreeOSMemory()

		r, rss := dmarcRun(t, append(common, "-o", "json", dir)...)
		var doc struct {
			DMARC struct {
				Reports int
				Unread  []struct{ File, Why string }
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("exit %d: %v\n%s", r.code, err, r.stderr)
		}
		why := map[string]string{}
		for _, u := range doc.DMARC.Unread {
			why[filepath.Base(u.File)] = u.Why
		}
		if r.code != 3 || doc.DMARC.Reports != 1 || len(why) != 3 ||
			!strings.Contains(why["bomb.xml.gz"], "larger than 64 MiB decompressed") ||
			!strings.HasPrefix(why["bomb.zip: bomb.xml"], "larger than 64 MiB decompressed") ||
			!strings.Contains(why["cut.xml.gz"], "truncated") {
			t.Errorf("exit %d, %d reports, unread %v", r.code, doc.DMARC.Reports, why)
		}
		if rss > 128<<10 { // 0 where the system does not say (not Linux)
			t.Errorf("peak memory %d MiB reading the bombs", rss>>10)
		}
		t.Logf("peak memory reading two 100 MiB bombs and a truncated gzip: %d MiB", rss>>10)
	})
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A run stopped (--deadline, Ctrl-C) before a list's test points were answered
// says the list's health was interrupted, in every format: never no-answer,
// which a dashboard or an alert on blcheck_list_health reads as a dead list.
// The verdict is unchanged: incomplete (deadline) or interrupted, never clean.
func TestInterruptedHealthInEveryFormat(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net")) // spamcop's answers, test points included, never come
	env := map[string]string{"BLCHECK_DIRECT": "never"}
	args := []string{"-r", srv.Addr, "--timeout", "30s", "--retries", "0", "-l", "zen,spamcop", "--deadline", "300ms", "192.0.2.99"}
	noAnswer := regexp.MustCompile(`no-answer|health="no-answer",list="spamcop"} 1`)

	js := runWith(t, env, nil, append(args, "-o", "json")...)
	var doc struct {
		Lists []struct{ List, Health, Detail string }
	}
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil || js.code != exitIncomplete {
		t.Fatalf("json: exit %d %v\n%s", js.code, err, js.stdout)
	}
	for _, l := range doc.Lists {
		if l.List == "spamcop" && (l.Health != "interrupted" || l.Detail == "") {
			t.Errorf("json: spamcop's health %q (%s), want interrupted", l.Health, l.Detail)
		}
	}
	if noAnswer.MatchString(js.stdout) || noAnswer.MatchString(js.err) {
		t.Errorf("json says no-answer:\n%s\n%s", js.stdout, js.err)
	}

	prom := runWith(t, env, nil, append(args, "-o", "prometheus")...)
	if prom.code != exitIncomplete || !strings.Contains(prom.stdout, `blcheck_list_health{health="interrupted",list="spamcop"} 1`) ||
		strings.Contains(prom.stdout, `blcheck_list_health{health="no-answer",list="spamcop"} 1`) {
		t.Errorf("prometheus: exit %d\n%s", prom.code, prom.stdout)
	}

	text := runWith(t, env, nil, args...)
	if text.code != exitIncomplete || noAnswer.MatchString(text.stdout) || noAnswer.MatchString(text.err) ||
		!strings.Contains(text.stdout, "NOT FULLY CHECKED (deadline)") {
		t.Errorf("text: exit %d\n%s\n%s", text.code, text.stdout, text.err)
	}
}

// lists --probe cut short by Ctrl-C shows the lists it cut short as
// interrupted, in text and JSON, and exits 130.
func TestProbeInterruptedSaysInterrupted(t *testing.T) {
	srv := fakeWorld(t)
	srv.AddFault(faultDrop("bl.spamcop.net"))
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, errb bytes.Buffer
			s := &streams{in: strings.NewReader(""), out: &out, err: &errb, getenv: func(k string) string {
				if k == "BLCHECK_DIRECT" {
					return "never"
				}
				return ""
			}, resolv: filepath.Join(t.TempDir(), "no-resolv.conf")}
			done := make(chan int)
			before := srv.Queries("A", "2.0.0.127.bl.spamcop.net")
			go func() {
				done <- run(ctx, []string{"lists", "--probe", "--format", format, "-r", srv.Addr, "-l", "zen,spamcop",
					"--timeout", "30s", "--retries", "0"}, s)
			}()
			for srv.Queries("A", "2.0.0.127.bl.spamcop.net") == before { // spamcop's test point is asked, and hangs
				time.Sleep(2 * time.Millisecond)
			}
			cancel()
			var code int
			select {
			case code = <-done:
			case <-time.After(20 * time.Second): // a bound on the test, under the queries' 30 s timeout: not a measure
				t.Fatal("the probe went on after it was interrupted")
			}
			got := out.String()
			want := regexp.MustCompile(`spamcop\s+bl\.spamcop\.net\s+interrupted`)
			if format == "json" {
				want = regexp.MustCompile(`"list": "spamcop",\s+"zone": "bl.spamcop.net",\s+"health": "interrupted"`)
			}
			if code != exitInterrupt || !want.MatchString(got) || strings.Contains(got, "no-answer") {
				t.Errorf("exit %d, want 130 and spamcop interrupted\n%s%s", code, got, errb.String())
			}
		})
	}
}

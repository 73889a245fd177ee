//go:build dist

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bashCompletion is bash-completion's loader, which cobra's bash script needs.
const bashCompletion = "/usr/share/bash-completion/bash_completion"

// checkBashCompletion sources the archive's bash completion as a user's
// shell does (with bash-completion) and asks it what it completes, the
// archive's blcheck first in PATH: subcommands, flags, flag values and the
// ids of the built-in lists.
func checkBashCompletion(t *testing.T, top string) {
	t.Helper()
	if _, err := os.Stat(bashCompletion); err != nil {
		needTool(t, "bash-completion")
		return
	}
	script := `source ` + bashCompletion + `
source completions/blcheck.bash
complete_line() {
	COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
	read -ra COMP_WORDS <<<"$COMP_LINE"
	[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
	__start_blcheck blcheck "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}" 2>/dev/null
	echo "$1|${COMPREPLY[*]}"
}
complete_line "blcheck s"
complete_line "blcheck --for"
complete_line "blcheck --format "
complete_line "blcheck -l spamhaus-z"
complete_line "blcheck lists --pro"
complete_line "blcheck serve --health"
`
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script)
	cmd.Dir = top
	cmd.Env = append(os.Environ(), "PATH="+top+string(filepath.ListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash completion: %v\n%s", err, out)
	}
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if in, words, ok := strings.Cut(line, "|"); ok {
			got[in] = strings.Fields(words)
		}
	}
	for in, want := range map[string][]string{
		"blcheck s":              {"scan", "serve"},
		"blcheck --for":          {"--format"},
		"blcheck --format ":      {"text", "json", "jsonl", "nagios", "prometheus"},
		"blcheck -l spamhaus-z":  {"spamhaus-zen"},
		"blcheck lists --pro":    {"--probe"},
		"blcheck serve --health": {"--health-ttl"},
	} {
		for _, w := range want {
			if !strings.Contains(" "+strings.Join(got[in], " ")+" ", " "+w+" ") {
				t.Errorf("bash completes %q to %q, without %q\n%s", in, got[in], w, out)
			}
		}
	}
}

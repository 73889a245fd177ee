//go:build dist

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// extract writes an archive's members (readTar's) under dir, as tar -x would.
func extract(t *testing.T, es []tarEntry, dir string) {
	t.Helper()
	for _, e := range es {
		path := filepath.Join(dir, filepath.FromSlash(e.hdr.Name))
		if e.hdr.Typeflag == 'D' || strings.HasSuffix(e.hdr.Name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(path, e.data, os.FileMode(e.hdr.Mode)); err != nil {
			t.Fatal(err)
		}
	}
}

// commandsRE finds the subcommands in a help's "Available Commands:" list.
var commandsRE = regexp.MustCompile(`(?m)^  ([a-z]+) {2,}`)

// flagsRE finds the long flags in a help's Flags: lists.
var flagsRE = regexp.MustCompile(`(?m)^ +(?:-[a-zA-Z], )?(--[a-z0-9][a-z0-9.-]*)`)

// checkManPages reads the archive's man pages as a user does (man -l) against
// the binary's --help: a page for each command --help lists, each flag of its
// help in its page, the help's indented blocks (exit codes, endpoints) laid out
// the same, and no warning from man's formatter.
func checkManPages(t *testing.T, top string) {
	t.Helper()
	if _, err := exec.LookPath("man"); err != nil {
		needTool(t, "man")
		return
	}
	bin := filepath.Join(top, "blcheck")
	help := func(args ...string) string {
		out, err := exec.Command(bin, append(args, "--help")...).CombinedOutput()
		if err != nil {
			t.Fatalf("blcheck %v --help: %v\n%s", args, err, out)
		}
		return string(out)
	}
	rootHelp := help()
	_, list, _ := strings.Cut(rootHelp, "Available Commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	cmds := [][]string{nil}
	for _, m := range commandsRE.FindAllStringSubmatch(list, -1) {
		if m[1] != "help" { // cobra's help command has no page of its own
			cmds = append(cmds, []string{m[1]})
		}
	}
	if len(cmds) < 8 {
		t.Fatalf("--help lists %d commands:\n%s", len(cmds)-1, list)
	}
	for _, cmd := range cmds {
		page := filepath.Join(top, "man", strings.Join(append([]string{"blcheck"}, cmd...), "-")+".1")
		cmdHelp := rootHelp
		if cmd != nil {
			cmdHelp = help(cmd...)
		}
		checkManPage(t, page, cmdHelp)
	}
}

func checkManPage(t *testing.T, page, help string) {
	t.Helper()
	man := exec.Command("man", "--warnings", "-l", page)
	man.Env = append(os.Environ(), "MANWIDTH=200", "LC_ALL=C.UTF-8", "MAN_KEEP_FORMATTING=")
	var stderr bytes.Buffer
	man.Stderr = &stderr
	out, err := man.Output()
	if err != nil || stderr.Len() > 0 {
		t.Errorf("man -l %s: %v\n%s", filepath.Base(page), err, stderr.Bytes())
		return
	}
	text := string(out)
	long, flags, _ := strings.Cut(help, "\nUsage:")
	for _, m := range flagsRE.FindAllStringSubmatch(flags, -1) {
		if !strings.Contains(text, m[1]) {
			t.Errorf("%s: --help has %s, the page does not", filepath.Base(page), m[1])
		}
	}
	for _, block := range indentedBlocks(long) {
		if !containsBlock(strings.Split(text, "\n"), block) {
			t.Errorf("%s: the help's indented lines are not laid out the same in the page:\n%s", filepath.Base(page), strings.Join(block, "\n"))
		}
	}
}

// indentedBlocks are the runs of indented lines in a help text.
func indentedBlocks(help string) [][]string {
	var blocks [][]string
	var cur []string
	for _, line := range strings.Split(help, "\n") {
		if strings.HasPrefix(line, " ") && strings.TrimSpace(line) != "" {
			cur = append(cur, line)
			continue
		}
		if cur != nil {
			blocks = append(blocks, cur)
			cur = nil
		}
	}
	if cur != nil {
		blocks = append(blocks, cur)
	}
	return blocks
}

// containsBlock says whether the block's lines follow each other in lines,
// shifted right by one margin, each keeping its indentation.
func containsBlock(lines, block []string) bool {
	first := strings.TrimLeft(block[0], " ")
	for i, l := range lines {
		margin, ok := strings.CutSuffix(l, first)
		if !ok || strings.Trim(margin, " ") != "" || len(margin) < len(block[0])-len(first) || i+len(block) > len(lines) {
			continue
		}
		shift := strings.Repeat(" ", len(margin)-(len(block[0])-len(first)))
		same := true
		for j, b := range block {
			same = same && strings.TrimRight(lines[i+j], " ") == shift+strings.TrimRight(b, " ")
		}
		if same {
			return true
		}
	}
	return false
}

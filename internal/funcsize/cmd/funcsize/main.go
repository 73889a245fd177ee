// Command funcsize fails when a function under the named directories is
// longer or more complex than the project allows (make lint):
//
//	go run ./internal/funcsize/cmd/funcsize -lines 100 -complexity 30 cmd pkg internal
//
// -except names functions let through for now ("pkg/x/file.go:Type.Method"),
// each said as an exception so that it is not forgotten.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/blcheck/blcheck/internal/funcsize"
)

func main() {
	lines := flag.Int("lines", 100, "most lines a function may have")
	complexity := flag.Int("complexity", 30, "highest cyclomatic complexity a function may have")
	except := flag.String("except", "", "comma-separated FILE:FUNC let through (known exceptions)")
	flag.Parse()
	allowed := map[string]bool{}
	for _, e := range strings.Split(*except, ",") {
		if e = strings.TrimSpace(e); e != "" {
			allowed[e] = true
		}
	}
	bad := 0
	for _, root := range flag.Args() {
		funcs, err := funcsize.Dir(root)
		if err != nil {
			fmt.Fprintln(os.Stderr, "funcsize:", err)
			os.Exit(2)
		}
		for _, f := range funcs {
			if f.Lines <= *lines && f.Complexity <= *complexity {
				continue
			}
			where := filepath.ToSlash(f.Pos.Filename) + ":" + f.Name
			what := fmt.Sprintf("%s:%d: %s: %d lines (at most %d), cyclomatic complexity %d (at most %d)",
				f.Pos.Filename, f.Pos.Line, f.Name, f.Lines, *lines, f.Complexity, *complexity)
			if allowed[where] {
				fmt.Println("known exception:", what)
				continue
			}
			fmt.Println(what)
			bad++
		}
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "funcsize: %d functions over the limits: split them\n", bad)
		os.Exit(1)
	}
}

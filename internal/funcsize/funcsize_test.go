package funcsize

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"
)

// Complexity counts as gocyclo counts: 1, and one for each if, for, range,
// non-default case, comm clause, && and ||, closures included.
func TestComplexity(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
	}{
		{"straight", `x := 1; _ = x`, 1},
		{"if else", `if a { } else if b { } else { }`, 3},
		{"loops", `for i := 0; i < 3; i++ { }; for range s { }; for { break }`, 4},
		{"switch", `switch x { case 1, 2: case 3: default: }`, 3},
		{"type switch", `switch v.(type) { case int: case string: default: }`, 3},
		{"select", `select { case <-c: case c <- 1: default: }`, 3},
		{"logic", `_ = a && b || c && !d`, 4},
		{"closure", `f := func() { if a { } }; f()`, 2},
	}
	for _, tc := range tests {
		src := "package p\nfunc f() {\n" + tc.body + "\n}\n"
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "p.go", src, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := File(fset, f)
		if len(got) != 1 || got[0].Complexity != tc.want || got[0].Lines != 3 {
			t.Errorf("%s: %+v, want complexity %d in 3 lines", tc.name, got, tc.want)
		}
	}
}

// Dir names methods by their type, skips testdata, and reads test files.
func TestDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.go", "package p\ntype T[K any] struct{}\nfunc (t *T[K]) M() {}\nfunc F() {\n}\n")
	write("a_test.go", "package p\nfunc TestX() {}\n")
	write("testdata/bad.go", "this is not Go")
	got, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.Name)
	}
	if len(got) != 3 || names[0] != "T.M" || names[1] != "F" || got[1].Lines != 2 || names[2] != "TestX" {
		t.Errorf("got %v", got)
	}
}

// TestProjectWithinLimits holds the project's own code to its limits in make
// test as well as make lint, so that a function grown past them fails CI, not
// only a lint run someone may skip.
func TestProjectWithinLimits(t *testing.T) {
	for _, root := range []string{"../../cmd", "../../pkg", "../../internal"} {
		funcs, err := Dir(root)
		if err != nil {
			t.Fatal(err)
		}
		if len(funcs) == 0 {
			t.Fatalf("%s: no function found", root)
		}
		for _, f := range funcs {
			if f.Lines > 100 || f.Complexity > 30 {
				t.Errorf("%s:%d: %s: %d lines (at most 100), cyclomatic complexity %d (at most 30): split it",
					f.Pos.Filename, f.Pos.Line, f.Name, f.Lines, f.Complexity)
			}
		}
	}
}

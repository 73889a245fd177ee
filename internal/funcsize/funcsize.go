// Package funcsize measures Go functions: their length in lines and their
// cyclomatic complexity, counted as gocyclo counts it (1, plus one for each
// if, for, range, non-default case and comm clause, && and ||; a function
// literal counts towards the function it is in). `make lint` holds every
// function of cmd/, pkg/ and internal/ to the project's limits with it.
package funcsize

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// Func is one function's size.
type Func struct {
	Pos        token.Position // where it starts
	Name       string         // "Type.Method" or "Func"
	Lines      int
	Complexity int
}

// Dir measures every function of the Go files under root (test files
// included, testdata and hidden directories not), in file and line order.
func Dir(root string) ([]Func, error) {
	fset := token.NewFileSet()
	var out []Func
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out = append(out, File(fset, f)...)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pos.Filename != out[j].Pos.Filename {
			return out[i].Pos.Filename < out[j].Pos.Filename
		}
		return out[i].Pos.Line < out[j].Pos.Line
	})
	return out, err
}

// File measures the functions and methods of one parsed file.
func File(fset *token.FileSet, f *ast.File) []Func {
	var out []Func
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
		out = append(out, Func{Pos: start, Name: funcName(fn), Lines: end.Line - start.Line + 1, Complexity: Complexity(fn.Body)})
	}
	return out
}

// Complexity is the cyclomatic complexity of a function body.
func Complexity(body ast.Node) int {
	n := 1
	ast.Inspect(body, func(node ast.Node) bool {
		switch x := node.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			n++
		case *ast.CaseClause:
			if x.List != nil {
				n++
			}
		case *ast.CommClause:
			if x.Comm != nil {
				n++
			}
		case *ast.BinaryExpr:
			if x.Op == token.LAND || x.Op == token.LOR {
				n++
			}
		}
		return true
	})
	return n
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fn.Name.Name
		}
		return fn.Name.Name
	}
}

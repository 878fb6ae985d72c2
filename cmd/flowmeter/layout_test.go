package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The command layer only parses flags and wires packages: no function in
// it is longer than 40 lines (docs/architecture.md).
func TestCommandFunctionsAreShort(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if testing.Verbose() {
				t.Logf("%s %s %d", name, fn.Name.Name, lines)
			}
			if lines > 40 {
				t.Errorf("%s: %s is %d lines (at most 40 in cmd/)", name, fn.Name.Name, lines)
			}
		}
	}
}

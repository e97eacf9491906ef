package auth

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsStayBesideTheFlow keeps auth free of other Vigie packages but
// internal/sqlite, so that any of them can import it.
func TestImportsStayBesideTheFlow(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/vigie/vigie/") && path != "github.com/vigie/vigie/internal/sqlite" {
				t.Errorf("%s imports %s: auth may import only internal/sqlite from Vigie", f, path)
			}
		}
	}
}

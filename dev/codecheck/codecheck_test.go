// Package codecheck holds the repository's own style checks: what gofmt, vet
// and staticcheck do not see.
package codecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// maxFuncLines is the longest function allowed in the packages the
// functions run.
const maxFuncLines = 60

// root is the repository, two levels up from this package.
const root = "../.."

// goFiles calls f for every Go file under the repository's dirs, skipping
// test files unless tests is set.
func goFiles(t *testing.T, tests bool, dirs []string, f func(path string, file *ast.File, fset *token.FileSet)) {
	t.Helper()
	fset := token.NewFileSet()
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(root, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && (e.Name() == "testdata" || e.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if e.IsDir() || !strings.HasSuffix(p, ".go") || (!tests && strings.HasSuffix(p, "_test.go")) {
				return nil
			}
			file, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			f(p, file, fset)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// No function in shared/, functions/ or hub/ is longer than maxFuncLines.
func TestFunctionsAreShort(t *testing.T) {
	goFiles(t, false, []string{"shared", "functions", "hub"}, func(p string, file *ast.File, fset *token.FileSet) {
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			if n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1; n > maxFuncLines {
				t.Errorf("%s: %s is %d lines (at most %d)", fset.Position(fd.Pos()), fd.Name.Name, n, maxFuncLines)
			}
		}
	})
}

// outside matches text that points readers outside the repository or at the
// project's history instead of describing the product.
var outside = regexp.MustCompile(`\.\./shared/|DESIGN(\.md| §)|\b[Tt]he seed\b|\bseed's design|\b[Ii]ssues? #?\d+\b`)

// Comments describe the product: none points outside the repository or
// speaks of its history.
func TestCommentsStayInTheRepository(t *testing.T) {
	goFiles(t, true, []string{"shared", "functions", "hub", "dev", "infra", "events"}, func(p string, file *ast.File, fset *token.FileSet) {
		for _, g := range file.Comments {
			for _, c := range g.List {
				if m := outside.FindString(c.Text); m != "" {
					t.Errorf("%s: comment mentions %q", fset.Position(c.Pos()), m)
				}
			}
		}
	})
	for _, doc := range []string{"README.md", "BENCHMARKS.md", "docs/design.md"} {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d mentions %q", doc, i+1, m)
			}
		}
	}
}

// goList runs go list with args in the repository and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// shared/ holds exactly what the deployed programs run: every package in
// it is a dependency of some function or of the stream hub (hub/), and no
// function links Prometheus (the local server alone adapts the metrics to
// it) or the AWS SDK (config's SecretsClient makes the one AWS call; the
// SDK would add megabytes to every bootstrap, and to its cold start).
func TestSharedIsWhatTheFunctionsRun(t *testing.T) {
	deps := map[string]bool{}
	for _, p := range goList(t, "-deps", "./functions/...") {
		deps[p] = true
		if strings.Contains(p, "prometheus") || strings.Contains(p, "aws-sdk-go-v2") || strings.Contains(p, "smithy-go") {
			t.Errorf("a function links %s", p)
		}
	}
	for _, p := range goList(t, "-deps", "./hub/...") {
		deps[p] = true
	}
	for _, p := range goList(t, "./shared/...") {
		if !deps[p] {
			t.Errorf("%s is in shared/ but neither a function nor the hub runs it: test or dev support belongs under dev/", p)
		}
	}
}

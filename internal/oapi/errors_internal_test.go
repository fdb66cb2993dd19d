package oapi

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

// routeEndpoints reads the endpoint names out of routes.go: every
// route{endpoint: "..."} literal in the file that holds the route table.
func routeEndpoints(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "routes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "route" {
			return true
		}
		for _, el := range lit.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "endpoint" {
				v, ok := kv.Value.(*ast.BasicLit)
				if !ok || v.Kind != token.STRING {
					t.Fatalf("routes.go: an endpoint name is not a string literal")
				}
				s, _ := strconv.Unquote(v.Value)
				names = append(names, s)
			}
		}
		return true
	})
	if len(names) == 0 {
		t.Fatal("routes.go names no endpoints")
	}
	return names
}

// same reports whether lookup answered with the table entry w; lookup may
// append a detail of the error to the message (the caller's IP, say).
func same(got, w wire) bool {
	msg := got.msg
	got.msg = w.msg
	return got == w && strings.HasPrefix(msg, w.msg)
}

func TestErrorTableKinds(t *testing.T) {
	for _, k := range ding.Kinds {
		w, ok := kinds[k]
		if !ok {
			t.Errorf("kinds has no entry for %v", k)
			continue
		}
		if w.msg == "" || w.code == 0 {
			t.Errorf("kinds[%v] = %+v: an error needs a non-zero errcode and a message", k, w)
		}
		if w.code == -1 && k != ding.Internal && k != ding.Unavailable {
			t.Errorf("kinds[%v] uses errcode -1, which clients retry; keep it for internal failures", k)
		}
	}
	if len(kinds) != len(ding.Kinds) {
		t.Errorf("kinds has %d entries for %d kinds", len(kinds), len(ding.Kinds))
	}
}

func TestErrorTableReasons(t *testing.T) {
	if _, ok := reasons[ding.ReasonNone]; ok {
		t.Errorf("reasons maps ReasonNone; errors without a reason are answered by kinds")
	}
	for _, r := range ding.Reasons {
		if r == ding.ReasonNone {
			continue
		}
		w, ok := reasons[r]
		if !ok {
			t.Errorf("reasons has no entry for %q", r)
			continue
		}
		if w.code == 0 || w.code == -1 || w.msg == "" {
			t.Errorf("reasons[%q] = %+v: needs its own errcode (not 0 or -1) and a message", r, w)
		}
		// the entry is what an error with that reason gets, whatever its kind
		for _, k := range ding.Kinds {
			if got := lookup("", ding.Errorf(k, r, "x")); !same(got, w) {
				t.Errorf("lookup(%v/%q) = %+v, want %+v", k, r, got, w)
			}
		}
	}
	for r := range reasons {
		if !slices.Contains(ding.Reasons, r) {
			t.Errorf("reasons maps %q, which ding.Reasons does not list", r)
		}
	}
	for r, w := range topAuth {
		if !slices.Contains(ding.Reasons, r) || r == ding.ReasonNone {
			t.Errorf("topAuth maps %q, which is not a reason", r)
		}
		if w.code == 0 || w.msg == "" {
			t.Errorf("topAuth[%q] = %+v", r, w)
		}
	}
	// a foreign error is internal
	if got := lookup("chat/create", errors.New("boom")); !same(got, kinds[ding.Internal]) {
		t.Errorf("lookup(foreign error) = %+v, want %+v", got, kinds[ding.Internal])
	}
}

func TestErrorTableEndpoints(t *testing.T) {
	names := routeEndpoints(t)
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			t.Errorf("routes.go names endpoint %q twice", n)
		}
	}
	for ep, overrides := range endpoints {
		if !slices.Contains(names, ep) {
			t.Errorf("endpoints overrides %q, which routes.go does not route (routes: %v)", ep, names)
		}
		for r, w := range overrides {
			if !slices.Contains(ding.Reasons, r) || r == ding.ReasonNone {
				t.Errorf("endpoints[%q] maps %q, which is not a reason", ep, r)
			}
			if got := lookup(ep, ding.Errorf(ding.Invalid, r, "x")); !same(got, w) {
				t.Errorf("lookup(%q, %q) = %+v, want the override %+v", ep, r, got, w)
			}
		}
	}
}

// TestReasonsListsEveryReason guards the loops above: they are complete only
// if ding.Reasons lists every Reason constant declared in package ding.
func TestReasonsListsEveryReason(t *testing.T) {
	dir := filepath.Join("..", "ding")
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, fi := range files {
		if !strings.HasSuffix(fi.Name(), ".go") || strings.HasSuffix(fi.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, fi.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
					continue
				}
				for i, n := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok {
						t.Errorf("Reason %s is not a string literal", n.Name)
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					declared++
					if !slices.Contains(ding.Reasons, ding.Reason(v)) {
						t.Errorf("ding.Reasons does not list %s", n.Name)
					}
				}
			}
		}
	}
	if declared != len(ding.Reasons) {
		t.Errorf("package ding declares %d reasons, ding.Reasons lists %d", declared, len(ding.Reasons))
	}
}

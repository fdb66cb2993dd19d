package v1api

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
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

// checkWire holds every v1.0 error to the shape the official SDKs read: a
// 4xx or 5xx status and a code and message.
func checkWire(t *testing.T, what string, w wire) {
	t.Helper()
	if w.status < 400 || w.status > 599 {
		t.Errorf("%s: status %d; any 2xx is success to the SDKs", what, w.status)
	}
	if w.code == "" || w.msg == "" || strings.ContainsAny(w.code, " \t") {
		t.Errorf("%s = %+v: needs a code without spaces and a message", what, w)
	}
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
		checkWire(t, "kinds["+k.String()+"]", w)
	}
	if len(kinds) != len(ding.Kinds) {
		t.Errorf("kinds has %d entries for %d kinds", len(kinds), len(ding.Kinds))
	}
	if got := kinds[ding.Unauthenticated]; got.status != 400 || got.code != "InvalidAuthentication" {
		t.Errorf("an unauthenticated call is %+v; DingTalk answers 400 InvalidAuthentication, never 401", got)
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
		checkWire(t, "reasons["+string(r)+"]", w)
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
	if got := lookup("im/group/create", errors.New("boom")); !same(got, kinds[ding.Internal]) {
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
			checkWire(t, "endpoints["+ep+"]["+string(r)+"]", w)
			if got := lookup(ep, ding.Errorf(ding.Invalid, r, "x")); !same(got, w) {
				t.Errorf("lookup(%q, %q) = %+v, want the override %+v", ep, r, got, w)
			}
		}
	}
}

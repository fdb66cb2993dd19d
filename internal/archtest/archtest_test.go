// Package archtest keeps the arrows of docs/ARCHITECTURE.md true: it reads
// the dependency graph from `go list -deps -json ./...` and fails on an
// import that crosses a layer the wrong way.
package archtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/dingchat/dingchat"

// Pkg is what the rules need of one `go list -json` record.
type Pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string // transitive
}

// The layers, as module-relative paths; a layer includes its subpackages.
var (
	domain = []string{"internal/ding"}
	// surfaces speak a wire format; they reach storage only through service
	surfaces = []string{"internal/oapi", "internal/v1api", "internal/server", "internal/httpx", "internal/dingchatapi", "internal/stream", "internal/console"}
	// adapters implement ding's interfaces; each root is one adapter
	adapters = []string{"internal/store/sqlite", "internal/store/postgres", "internal/store/storetest", "internal/events", "internal/callback", "internal/media", "internal/auth"}
	stores   = []string{"internal/store"}
	service  = []string{"internal/service"}
	// test wiring may import concrete adapters; it is exempt from the surface rules
	testWiring = []string{"internal/dingtest", "internal/server/servertest"}
)

func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// in reports whether the module package path lies in one of the layers.
func in(path string, layers []string) bool {
	r, ok := rel(path)
	if !ok {
		return false
	}
	for _, l := range layers {
		if r == l || strings.HasPrefix(r, l+"/") {
			return true
		}
	}
	return false
}

// root is the adapter root holding path, "" when it is no adapter.
func root(path string) string {
	r, _ := rel(path)
	for _, a := range adapters {
		if r == a || strings.HasPrefix(r, a+"/") {
			return a
		}
	}
	return ""
}

// Violations checks every rule over pkgs and describes each broken arrow,
// naming the direct import that leads to it.
func Violations(pkgs []Pkg) []string {
	byPath := make(map[string]Pkg, len(pkgs))
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	var out []string
	report := func(p Pkg, dep, rule string) {
		via := dep
		if !slices.Contains(p.Imports, dep) {
			// name the direct import that pulls dep in
			for _, imp := range p.Imports {
				if imp == dep || slices.Contains(byPath[imp].Deps, dep) {
					via = imp + " … " + dep
					break
				}
			}
		}
		out = append(out, fmt.Sprintf("%s imports %s: %s", p.ImportPath, via, rule))
	}
	for _, p := range pkgs {
		if _, ok := rel(p.ImportPath); !ok || p.Standard {
			continue
		}
		for _, dep := range p.Deps {
			d, known := byPath[dep]
			std := known && d.Standard
			switch {
			case in(p.ImportPath, domain) && !std && !in(dep, domain):
				report(p, dep, "ding imports only the standard library")
			case in(p.ImportPath, surfaces) && !in(p.ImportPath, testWiring) && in(dep, stores):
				report(p, dep, "a surface never imports a store; it goes through service")
			case root(p.ImportPath) != "" && (in(dep, service) || in(dep, surfaces)):
				report(p, dep, "an adapter never imports service or a surface")
			case root(p.ImportPath) != "" && root(dep) != "" && root(dep) != root(p.ImportPath):
				report(p, dep, "adapters never import each other")
			case in(p.ImportPath, service) && (in(dep, stores) || root(dep) != "" || in(dep, surfaces)):
				report(p, dep, "service never imports a store, an adapter or a surface; it receives ding interfaces")
			}
		}
	}
	sort.Strings(out)
	return out
}

// decode reads the stream of JSON objects `go list -json` prints.
func decode(r io.Reader) ([]Pkg, error) {
	var pkgs []Pkg
	d := json.NewDecoder(r)
	for {
		var p Pkg
		if err := d.Decode(&p); err == io.EOF {
			return pkgs, nil
		} else if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func TestArchitecture(t *testing.T) {
	cmd := exec.Command("go", "list", "-e", "-deps", "-json=ImportPath,Standard,Imports,Deps", "./...")
	cmd.Dir = moduleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs, err := decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode go list: %v", err)
	}
	// the rules must have something to bite on
	for _, want := range []string{"internal/ding", "internal/service", "internal/oapi", "internal/v1api", "internal/server", "internal/httpx", "internal/store/sqlite"} {
		if !slices.ContainsFunc(pkgs, func(p Pkg) bool { return p.ImportPath == module+"/"+want }) {
			t.Errorf("go list did not report %s", want)
		}
	}
	for _, v := range Violations(pkgs) {
		t.Error(v)
	}
}

// TestViolationsDetects runs the rules on made-up graphs: each broken arrow
// must be reported, and a graph that keeps them all must pass.
func TestViolationsDetects(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	std := func(paths ...string) []Pkg {
		var out []Pkg
		for _, p := range paths {
			out = append(out, Pkg{ImportPath: p, Standard: true})
		}
		return out
	}
	base := append(std("context", "fmt", "net/http"),
		Pkg{ImportPath: "modernc.org/sqlite"},
		Pkg{ImportPath: m("internal/ding"), Imports: []string{"context"}, Deps: []string{"context"}},
		Pkg{ImportPath: m("internal/service"), Imports: []string{m("internal/ding")}, Deps: []string{"context", m("internal/ding")}},
		Pkg{ImportPath: m("internal/store/sqlite"), Imports: []string{m("internal/ding"), "modernc.org/sqlite"}, Deps: []string{"context", m("internal/ding"), "modernc.org/sqlite"}},
		Pkg{ImportPath: m("internal/media"), Imports: []string{m("internal/ding")}, Deps: []string{"context", m("internal/ding")}},
		Pkg{ImportPath: m("internal/httpx"), Imports: []string{m("internal/ding")}, Deps: []string{m("internal/ding")}},
		Pkg{ImportPath: m("internal/oapi"), Imports: []string{m("internal/httpx"), m("internal/service")}, Deps: []string{m("internal/ding"), m("internal/httpx"), m("internal/service")}},
		Pkg{ImportPath: m("internal/v1api"), Imports: []string{m("internal/httpx"), m("internal/service")}, Deps: []string{m("internal/ding"), m("internal/httpx"), m("internal/service")}},
		Pkg{ImportPath: m("internal/server"), Imports: []string{m("internal/oapi")}, Deps: []string{m("internal/ding"), m("internal/httpx"), m("internal/service"), m("internal/oapi")}},
		Pkg{ImportPath: m("internal/dingtest"), Imports: []string{m("internal/store/sqlite")}, Deps: []string{m("internal/ding"), m("internal/store/sqlite"), "modernc.org/sqlite"}},
		Pkg{ImportPath: m("internal/server/servertest"), Imports: []string{m("internal/server"), m("internal/dingtest")},
			Deps: []string{m("internal/server"), m("internal/dingtest"), m("internal/store/sqlite"), m("internal/oapi")}},
		Pkg{ImportPath: m("cmd/dingchat"), Imports: []string{m("internal/server"), m("internal/store/sqlite")}, Deps: []string{m("internal/server"), m("internal/store/sqlite")}},
	)
	if v := Violations(base); len(v) != 0 {
		t.Fatalf("a graph that keeps every arrow reports %v", v)
	}
	// with returns base where the package path gains the direct import dep
	// (and, transitively, dep's own dependencies).
	with := func(path, dep string) []Pkg {
		pkgs := slices.Clone(base)
		var depDeps []string
		for _, p := range pkgs {
			if p.ImportPath == dep {
				depDeps = p.Deps
			}
		}
		for i, p := range pkgs {
			if p.ImportPath == path {
				p.Imports = append(slices.Clone(p.Imports), dep)
				p.Deps = append(append(slices.Clone(p.Deps), dep), depDeps...)
				pkgs[i] = p
			}
		}
		return pkgs
	}
	for _, c := range []struct {
		name, pkg, dep, want string
	}{
		{"ding imports a driver", "internal/ding", "modernc.org/sqlite", "ding imports only the standard library"},
		{"ding imports service", "internal/ding", m("internal/service"), "ding imports only the standard library"},
		{"surface imports a store", "internal/oapi", m("internal/store/sqlite"), "a surface never imports a store"},
		{"surface imports test wiring", "internal/v1api", m("internal/dingtest"), "a surface never imports a store"},
		{"httpx imports a store", "internal/httpx", m("internal/store/sqlite"), "a surface never imports a store"},
		{"server imports a store", "internal/server", m("internal/store/sqlite"), "a surface never imports a store"},
		{"store imports service", "internal/store/sqlite", m("internal/service"), "an adapter never imports service or a surface"},
		{"store imports a surface", "internal/store/sqlite", m("internal/httpx"), "an adapter never imports service or a surface"},
		{"adapter imports an adapter", "internal/store/sqlite", m("internal/media"), "adapters never import each other"},
		{"service imports a store", "internal/service", m("internal/store/sqlite"), "service never imports a store"},
		{"service imports an adapter", "internal/service", m("internal/media"), "service never imports a store"},
		{"service imports a surface", "internal/service", m("internal/httpx"), "service never imports a store"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := Violations(with(m(c.pkg), c.dep))
			if len(v) == 0 {
				t.Fatalf("%s importing %s went unreported", c.pkg, c.dep)
			}
			if !strings.Contains(strings.Join(v, "\n"), c.want) {
				t.Fatalf("violations = %v, want one saying %q", v, c.want)
			}
		})
	}
	// an indirect import names the direct one that leads to it
	v := Violations(with(m("internal/httpx"), m("internal/dingtest")))
	if len(v) == 0 || !strings.Contains(v[0], m("internal/dingtest")+" … "+m("internal/store/sqlite")) {
		t.Errorf("indirect violation reported as %v", v)
	}
}

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

// A layer is a set of packages that obey the same import rules.
type layer string

const (
	domain   layer = "domain"  // the vocabulary: the standard library only
	service  layer = "service" // every rule; receives ding interfaces
	adapter  layer = "adapter" // implements ding interfaces; imports ding, the standard library and its driver
	surface  layer = "surface" // speaks a wire format; reaches data only through service
	support  layer = "support" // configuration, the org file reader, the load tool: no store, service or surface
	wiring   layer = "wiring"  // the program: may import anything
	testing_ layer = "testing" // test wiring and end-to-end tests: may import concrete adapters
)

// layers places every package of the module, by module-relative path. A
// new package gets one line here: the test fails on a package that has no
// line, and on a line whose package does not exist.
var layers = map[string]layer{
	"internal/ding": domain,

	"internal/service": service,

	"internal/store/sqlite":   adapter,
	"internal/store/postgres": adapter,
	"internal/media":          adapter,
	"internal/events":         adapter, // dispatch of the event log to subscriptions
	"internal/callback":       adapter, // DingTalk's callback crypto and HTTP push
	"internal/live":           adapter, // live delivery: heads of groups and corps, clients' cursors

	"internal/httpx":       surface,
	"internal/oapi":        surface,
	"internal/v1api":       surface,
	"internal/dingchatapi": surface,
	"internal/groupform":   surface, // the group fields both DingTalk surfaces read
	"internal/server":      surface,
	"internal/stream":      surface, // DingTalk's Stream mode gateway
	"internal/console":     surface, // the web console's embedded pages

	"internal/config":  support,
	"internal/orgfile": support,
	"internal/bench":   support,
	"internal/soak":    support, // the long mixed-traffic run
	"internal/backup":  support, // archives of a data directory
	"internal/logx":    support, // rate-limited error logging
	"internal/metrics": support, // Prometheus collectors and the request counter
	"internal/jsonx":   support, // message bodies read and compacted in one pass

	"internal/store/schema":     support, // the table list stores share (reset, migration)
	"internal/store/knownusers": support, // the users a node's creates found (both stores)
	"internal/migrate":          wiring,  // moves a whole store between the two backends

	"cmd/dingchat": wiring,

	"internal/store/storetest":    testing_,
	"internal/dingtest":           testing_,
	"internal/dingtest/streamsdk": testing_, // the official Go Stream SDK as a bot, in a process of its own
	"internal/dingtest/told":      testing_, // what stores' event listeners were told (notify tests)
	"internal/server/servertest":  testing_,
	"internal/archtest":           testing_,
	"e2e":                         testing_,
}

func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// layerOf is the layer of a module package, "" for anything else.
func layerOf(path string) layer {
	r, ok := rel(path)
	if !ok {
		return ""
	}
	return layers[r]
}

// store reports whether path is a store: a surface must never reach one.
func store(path string) bool {
	r, ok := rel(path)
	return ok && (r == "internal/store" || strings.HasPrefix(r, "internal/store/")) && layerOf(path) != testing_
}

// Unplaced lists the module's packages the table leaves out, and the
// table's packages the module does not have.
func Unplaced(pkgs []Pkg) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range pkgs {
		r, ok := rel(p.ImportPath)
		if !ok || p.Standard {
			continue
		}
		seen[r] = true
		if _, placed := layers[r]; !placed {
			out = append(out, fmt.Sprintf("%s is in no layer: add it to the layers table in internal/archtest (and to docs/ARCHITECTURE.md)", p.ImportPath))
		}
	}
	for r := range layers {
		if !seen[r] {
			out = append(out, fmt.Sprintf("the layers table names %s, which does not exist: remove its line", r))
		}
	}
	sort.Strings(out)
	return out
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
		from := layerOf(p.ImportPath)
		for _, dep := range p.Deps {
			d, known := byPath[dep]
			std := known && d.Standard
			to := layerOf(dep)
			switch {
			case from == domain && !std && to != domain:
				report(p, dep, "ding imports only the standard library")
			case from == surface && store(dep):
				report(p, dep, "a surface never imports a store; it goes through service")
			case from == surface && to == testing_:
				report(p, dep, "a surface never imports test wiring")
			case from == adapter && (to == service || to == surface):
				report(p, dep, "an adapter never imports service or a surface")
			case from == adapter && to == adapter:
				report(p, dep, "adapters never import each other")
			case from == service && (store(dep) || to == adapter || to == surface || to == testing_):
				report(p, dep, "service never imports a store, an adapter or a surface; it receives ding interfaces")
			case from == support && (store(dep) || to == adapter || to == service || to == surface || to == wiring || to == testing_):
				report(p, dep, "support packages import ding and libraries only")
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
	for _, u := range Unplaced(pkgs) {
		t.Error(u)
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

// TestUnplacedDetects: a package in no layer fails, and so does a table line
// for a package that is gone.
func TestUnplacedDetects(t *testing.T) {
	var pkgs []Pkg
	for r := range layers {
		pkgs = append(pkgs, Pkg{ImportPath: module + "/" + r})
	}
	pkgs = append(pkgs, Pkg{ImportPath: "fmt", Standard: true}, Pkg{ImportPath: "go.yaml.in/yaml/v3"})
	if u := Unplaced(pkgs); len(u) != 0 {
		t.Fatalf("a module that matches the table reports %v", u)
	}
	gone := module + "/internal/bench"
	kept := slices.DeleteFunc(slices.Clone(pkgs), func(p Pkg) bool { return p.ImportPath == gone })
	u := Unplaced(append(kept, Pkg{ImportPath: module + "/internal/newthing"}))
	got := strings.Join(u, "\n")
	if !strings.Contains(got, module+"/internal/newthing is in no layer") {
		t.Errorf("a package in no layer went unreported: %v", u)
	}
	if r, _ := rel(gone); !strings.Contains(got, "names "+r+", which does not exist") {
		t.Errorf("a table line for a missing package (%s) went unreported: %v", r, u)
	}
}

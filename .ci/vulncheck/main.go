// Command vulncheck runs govulncheck against a vulnerability database built
// offline from the golang.org/x/vulndb module (the module proxy serves it;
// vuln.go.dev may be unreachable). It fails on a reachable vulnerability in
// a required module; reachable ones in the standard library fail too unless
// -stdlib=warn, for a machine whose newest Go is older than the fix.
//
//	go run ./.ci/vulncheck -vulndb DIR -govulncheck PATH [-stdlib warn]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

type osv struct {
	ID       string   `json:"id"`
	Modified string   `json:"modified"`
	Aliases  []string `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
	} `json:"affected"`
}

type entry struct {
	ID       string   `json:"id"`
	Modified string   `json:"modified"`
	Aliases  []string `json:"aliases,omitempty"`
}

// build writes a v1 database (index/db.json, index/modules.json,
// index/vulns.json, ID/*.json) from the OSV files in src.
func build(src, out string) error {
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no OSV files in %s: %v", src, err)
	}
	for _, d := range []string{"ID", "index"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	modules := map[string][]entry{}
	var vulns []entry
	latest := ""
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var v osv
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := os.WriteFile(filepath.Join(out, "ID", v.ID+".json"), b, 0o644); err != nil {
			return err
		}
		e := entry{ID: v.ID, Modified: v.Modified, Aliases: v.Aliases}
		vulns = append(vulns, e)
		if v.Modified > latest {
			latest = v.Modified
		}
		seen := map[string]bool{}
		for _, a := range v.Affected {
			if p := a.Package.Name; p != "" && !seen[p] {
				seen[p] = true
				modules[p] = append(modules[p], entry{ID: v.ID, Modified: v.Modified})
			}
		}
	}
	type module struct {
		Path  string  `json:"path"`
		Vulns []entry `json:"vulns"`
	}
	var mods []module
	for p, vs := range modules {
		mods = append(mods, module{p, vs})
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	for name, v := range map[string]any{"db.json": map[string]string{"modified": latest}, "modules.json": mods, "vulns.json": vulns} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "index", name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	vulndb := flag.String("vulndb", "", "directory of the golang.org/x/vulndb module")
	gvc := flag.String("govulncheck", "govulncheck", "the govulncheck binary")
	stdlib := flag.String("stdlib", "fail", "fail or warn on reachable standard-library vulnerabilities")
	flag.Parse()
	out, err := os.MkdirTemp("", "vulndb")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(out)
	if err := build(filepath.Join(*vulndb, "data", "osv"), out); err != nil {
		fatal(err)
	}
	cmd := exec.Command(*gvc, "-db", "file://"+out, "-format", "json", "./...")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fatal(err)
	}
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	// a finding whose trace reaches a function of ours is reachable
	reach := map[string]string{} // OSV id → module
	dec := json.NewDecoder(bufio.NewReader(stdout))
	for {
		var msg struct {
			Finding *struct {
				OSV          string `json:"osv"`
				FixedVersion string `json:"fixed_version"`
				Trace        []struct {
					Module   string `json:"module"`
					Function string `json:"function"`
				} `json:"trace"`
			} `json:"finding"`
		}
		if err := dec.Decode(&msg); err != nil {
			break
		}
		f := msg.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue
		}
		reach[f.OSV] = f.Trace[0].Module + " (fixed in " + f.FixedVersion + ")"
	}
	if err := cmd.Wait(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			fatal(err)
		}
	}
	var inStd, inMods []string
	for id, m := range reach {
		line := id + ": " + m
		if strings.HasPrefix(m, "stdlib ") {
			inStd = append(inStd, line)
		} else {
			inMods = append(inMods, line)
		}
	}
	sort.Strings(inStd)
	sort.Strings(inMods)
	for _, l := range inMods {
		fmt.Println("VULNERABLE (module, reachable):", l)
	}
	for _, l := range inStd {
		fmt.Println("VULNERABLE (standard library, reachable):", l)
	}
	switch {
	case len(inMods) > 0, len(inStd) > 0 && *stdlib != "warn":
		fmt.Printf("govulncheck: %d reachable vulnerabilities in modules, %d in the standard library\n", len(inMods), len(inStd))
		os.Exit(1)
	case len(inStd) > 0:
		fmt.Printf("WARNING: %d reachable standard-library vulnerabilities: upgrade Go (-stdlib=warn lets this pass)\n", len(inStd))
	default:
		fmt.Println("govulncheck: no reachable vulnerability")
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "vulncheck:", err)
	os.Exit(2)
}

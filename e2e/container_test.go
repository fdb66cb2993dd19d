package e2e

import (
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/config"
	"go.yaml.in/yaml/v3"
)

// dockerfile is the Dockerfile's instructions, continuation lines joined.
type instruction struct{ op, args string }

func dockerfile(t *testing.T) []instruction {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		cur += line
		if strings.HasSuffix(cur, "\\") {
			cur = strings.TrimSuffix(cur, "\\") + " "
			continue
		}
		if op, args, ok := strings.Cut(strings.TrimSpace(cur), " "); ok {
			out = append(out, instruction{strings.ToUpper(op), strings.TrimSpace(args)})
		}
		cur = ""
	}
	return out
}

// TestContainerFiles checks the Dockerfile and compose.yaml without a
// container engine: what they promise (a static binary, a non-root user, a
// data volume, a health check; two nodes on PostgreSQL behind one port) and
// that the settings they pass are ones dingchat accepts.
func TestContainerFiles(t *testing.T) {
	df := dockerfile(t)
	var final []instruction // the last stage
	stages := 0
	for _, in := range df {
		if in.op == "FROM" {
			stages++
			final = nil
		}
		final = append(final, in)
	}
	if stages < 2 {
		t.Errorf("Dockerfile has %d stages; the binary is built in one and shipped in a small other", stages)
	}
	has := func(ins []instruction, op, sub string) bool {
		return slices.ContainsFunc(ins, func(in instruction) bool { return in.op == op && strings.Contains(in.args, sub) })
	}
	if !has(df, "RUN", "CGO_ENABLED=0 go build") {
		t.Error("Dockerfile does not build a static binary (CGO_ENABLED=0 go build)")
	}
	user := ""
	env := map[string]string{}
	for _, in := range final {
		switch in.op {
		case "USER":
			user = in.args
		case "ENV":
			for _, kv := range regexp.MustCompile(`\S+=\S+`).FindAllString(in.args, -1) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		}
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0:") || user == "0" {
		t.Errorf("the image runs as %q, want a non-root user", user)
	}
	if !has(final, "VOLUME", "/data") || env["DINGCHAT_DATA"] != "/data" {
		t.Errorf("the image keeps its data elsewhere than the /data volume (DINGCHAT_DATA=%q)", env["DINGCHAT_DATA"])
	}
	if !has(final, "HEALTHCHECK", `/dingchat", "health"]`) {
		t.Error("the image has no HEALTHCHECK through dingchat health")
	}
	if !has(final, "EXPOSE", "8080") {
		t.Error("the image does not expose 8080")
	}
	if _, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Errorf("dingchat refuses the image's environment %v: %v", env, err)
	}

	b, err := os.ReadFile("../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
			DependsOn   map[string]any    `yaml:"depends_on"`
			Healthcheck map[string]any    `yaml:"healthcheck"`
		} `yaml:"services"`
		Configs map[string]struct {
			Content string `yaml:"content"`
		} `yaml:"configs"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	var nodes, published []string
	for name, s := range compose.Services {
		if s.Build == "." {
			nodes = append(nodes, name)
			dbURL := s.Environment["DINGCHAT_DB"]
			u, err := url.Parse(dbURL)
			if err != nil || u.Scheme != "postgres" {
				t.Errorf("node %s: DINGCHAT_DB %q is not a PostgreSQL URL", name, dbURL)
			} else if db, ok := compose.Services[u.Hostname()]; !ok || !strings.HasPrefix(db.Image, "postgres:") || db.Healthcheck == nil {
				t.Errorf("node %s: its database %q is no PostgreSQL service with a health check", name, u.Hostname())
			} else if _, ok := s.DependsOn[u.Hostname()]; !ok {
				t.Errorf("node %s does not wait for its database", name)
			}
			nodeEnv := map[string]string{"DINGCHAT_ADDR": env["DINGCHAT_ADDR"], "DINGCHAT_DATA": env["DINGCHAT_DATA"]}
			for k, v := range s.Environment {
				nodeEnv[k] = v
			}
			if _, err := config.Load(nil, func(k string) string { return nodeEnv[k] }, io.Discard); err != nil {
				t.Errorf("node %s: dingchat refuses its environment: %v", name, err)
			}
			if !slices.ContainsFunc(s.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/data") }) {
				t.Errorf("node %s mounts no shared volume on /data (uploads must be seen by every node)", name)
			}
		}
		if len(s.Ports) > 0 {
			published = append(published, name)
		}
		for _, v := range s.Volumes {
			if vol, _, ok := strings.Cut(v, ":"); ok && !strings.HasPrefix(vol, ".") && !strings.HasPrefix(vol, "/") {
				if _, declared := compose.Volumes[vol]; !declared {
					t.Errorf("service %s mounts volume %s, which compose.yaml does not declare", name, vol)
				}
			}
		}
	}
	slices.Sort(nodes)
	if len(nodes) < 2 {
		t.Errorf("compose.yaml runs %d DingChat nodes, want two", len(nodes))
	}
	if len(published) != 1 || slices.Contains(nodes, published[0]) {
		t.Fatalf("services publishing ports: %v, want one proxy in front of the nodes", published)
	}
	proxy := compose.Services[published[0]]
	var proxyConf string
	for _, c := range compose.Configs {
		proxyConf += c.Content
	}
	for _, n := range nodes {
		if !strings.Contains(proxyConf, "server "+n+":8080") {
			t.Errorf("the proxy %s does not send to %s:8080", published[0], n)
		}
		if _, ok := proxy.DependsOn[n]; !ok {
			t.Errorf("the proxy does not wait for %s", n)
		}
	}
	// compose interpolates $name; nginx's own variables are written $$name
	if m := regexp.MustCompile(`(^|[^$])\$[a-z_]+`).FindString(proxyConf); m != "" {
		t.Errorf("proxy config has %q, which compose would replace; write $$", m)
	}
}

// TestContainerImage builds the image where a container engine runs.
func TestContainerImage(t *testing.T) {
	needBinary(t)
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no container engine: docker is not installed; TestContainerFiles checked the files")
	}
	if out, err := exec.Command(docker, "info").CombinedOutput(); err != nil {
		t.Skipf("no container engine: docker info: %v: %s", err, lastLine(out))
	}
	build := exec.Command(docker, "build", "-t", "dingchat:e2e", ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	out, err := exec.Command(docker, "run", "--rm", "dingchat:e2e", "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "dingchat ") {
		t.Fatalf("docker run dingchat:e2e version: %v %s", err, out)
	}
	if out, err := exec.Command(docker, "run", "--rm", "--entrypoint", "", "dingchat:e2e", "/usr/local/bin/dingchat", "health", "-h").CombinedOutput(); err != nil {
		t.Fatalf("the health check command fails in the image: %v %s", err, out)
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

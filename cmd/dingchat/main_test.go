package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(string) string { return "" }, &out, &errb)
	return code, out.String(), errb.String()
}

// TestHelpEverywhere: -h and --help on every command print its usage on
// stdout and exit 0, as Go programs do.
func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"},
		{"serve", "-h"}, {"serve", "--help"}, {"serve", "--addr", "127.0.0.1:0", "-h"},
		{"bench", "-h"}, {"bench", "--help"},
		{"org", "-h"}, {"org", "--help"}, {"org", "check", "-h"}, {"org", "check", "--help"},
		{"version", "-h"}, {"version", "--help"},
		{"health", "-h"}, {"health", "--help"},
	} {
		code, out, errb := runArgs(args...)
		if code != 0 {
			t.Errorf("dingchat %s exits %d, want 0 (stderr %q)", strings.Join(args, " "), code, errb)
		}
		if !strings.Contains(strings.ToLower(out), "usage") {
			t.Errorf("dingchat %s prints no usage on stdout: %q (stderr %q)", strings.Join(args, " "), out, errb)
		}
	}
}

func TestMisuseExits2(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"org"}, {"org", "lint", "x"}, {"org", "check"}, {"bench", "--nope"}} {
		if code, _, _ := runArgs(args...); code != 2 {
			t.Errorf("dingchat %s exits %d, want 2", strings.Join(args, " "), code)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runArgs(args...)
		if code != 0 || !strings.HasPrefix(out, "dingchat ") {
			t.Errorf("dingchat %s = %d %q", args[0], code, out)
		}
	}
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	if got, want := versionString(info), "v1.2.3 revision 0123abcd (2026-01-02T03:04:05Z) with uncommitted changes go1.26.0"; got != want {
		t.Errorf("versionString = %q, want %q", got, want)
	}
	if got, want := versionString(&debug.BuildInfo{GoVersion: "go1.26.0"}), "(devel) go1.26.0"; got != want {
		t.Errorf("versionString without VCS = %q, want %q", got, want)
	}
}

func TestOrgCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("corps:\n  - corpId: dingcorp0001\n    users:\n      - userid: zhangsan\n        memberToken: mt-zhangsan\n"), 0o600)
	code, out, errb := runArgs("org", "check", good)
	if code != 0 || !strings.Contains(out, "ok: 1 corps, 0 apps, 1 users") {
		t.Errorf("org check good = %d %q %q", code, out, errb)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("corps:\n  - corpId: dingcorp0001\n    users:\n      - userid: zhangsan\n        mobil: \"1\"\n"), 0o600)
	code, out, errb = runArgs("org", "check", bad)
	if code != 1 || !strings.Contains(errb, bad+": line 5: unknown key mobil in corps[0].users[0]") || out != "" {
		t.Errorf("org check bad = %d %q %q", code, out, errb)
	}
	if code, _, errb = runArgs("org", "check", filepath.Join(dir, "missing.yaml")); code != 1 || !strings.Contains(errb, "missing.yaml") {
		t.Errorf("org check of a missing file = %d %q", code, errb)
	}
}

func TestHealth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_dingchat/health" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	if code, out, errb := runArgs("health", "--addr", host); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("health of a healthy server = %d %q %q", code, out, errb)
	}
	var out, errb bytes.Buffer
	env := func(k string) string {
		if k == "DINGCHAT_ADDR" {
			return "0.0.0.0:" + host[strings.LastIndex(host, ":")+1:]
		}
		return ""
	}
	if code := run(context.Background(), []string{"health"}, env, &out, &errb); code != 0 {
		t.Errorf("health with DINGCHAT_ADDR on every interface = %d %q", code, errb.String())
	}
	if code, _, errb := runArgs("health", "--url", srv.URL+"/nope"); code != 1 || !strings.Contains(errb, "404") {
		t.Errorf("health of a 404 = %d %q", code, errb)
	}
	srv.Close()
	if code, _, _ := runArgs("health", "--addr", host); code != 1 {
		t.Errorf("health of a stopped server = %d, want 1", code)
	}
}

// The server sets its GC target unless the environment names one.
func TestServerGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	serverGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Fatalf("GOGC unset: the GC percent is %d, want %d", got, serveGCPercent)
	}
	serverGC(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set: the GC percent was changed to %d", got)
	}
}

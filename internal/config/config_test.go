package config

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Addr, "127.0.0.1:8080"; got != want {
		t.Fatalf("Addr = %q, want %q", got, want)
	}
	if got, want := c.DBPath(), "dingchat-data/dingchat.db"; got != want {
		t.Fatalf("DBPath = %q, want %q", got, want)
	}
	if !c.Demo {
		t.Fatal("Demo = false, want true")
	}
	if c.SQLiteSync != "full" {
		t.Fatalf("SQLiteSync = %q, want full: every commit survives power loss unless the operator says otherwise", c.SQLiteSync)
	}
}

func TestEveryFlagHasAnEnvTwin(t *testing.T) {
	e := map[string]string{
		"DINGCHAT_ADDR":             "0.0.0.0:9000",
		"DINGCHAT_DATA":             "/var/lib/dingchat",
		"DINGCHAT_DB":               "sqlite:/tmp/x.db",
		"DINGCHAT_ORG":              "org.yaml",
		"DINGCHAT_DEMO":             "false",
		"DINGCHAT_LOG_LEVEL":        "debug",
		"DINGCHAT_LOG_FORMAT":       "json",
		"DINGCHAT_SHUTDOWN_TIMEOUT": "3s",
		"DINGCHAT_ADMIN_TOKEN":      "adm-secret-0123456789",
		"DINGCHAT_SHOW_SECRETS":     "true",
		"DINGCHAT_TEST_CONTROLS":    "true",
		"DINGCHAT_REQUEST_LOG":      "50",
		"DINGCHAT_PPROF":            "127.0.0.1:6060",
		"DINGCHAT_SQLITE_SYNC":      "normal",
	}
	c, err := Load(nil, env(e), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "0.0.0.0:9000", DataDir: "/var/lib/dingchat", DB: "sqlite:/tmp/x.db", OrgFile: "org.yaml",
		Demo: false, LogLevel: slog.LevelDebug, LogFormat: "json", ShutdownTimeout: 3 * time.Second, AdminToken: "adm-secret-0123456789", ShowSecrets: true,
		TestControls: true, RequestLog: 50, Pprof: "127.0.0.1:6060", SQLiteSync: "normal"}
	if c != want {
		t.Fatalf("config = %+v, want %+v", c, want)
	}
	if got, want := c.DBPath(), "/tmp/x.db"; got != want {
		t.Fatalf("DBPath = %q, want %q", got, want)
	}
}

func TestRequestLogSize(t *testing.T) {
	for _, bad := range []string{"-1", "1000001", "many"} {
		if _, err := Load([]string{"--request-log", bad}, env(nil), io.Discard); err == nil {
			t.Errorf("--request-log %s accepted", bad)
		}
	}
	c, err := Load([]string{"--request-log", "0"}, env(nil), io.Discard)
	if err != nil || c.RequestLog != 0 || c.TestControls {
		t.Fatalf("config %+v, %v: want no request log and test controls off", c, err)
	}
}

func TestFlagBeatsEnv(t *testing.T) {
	c, err := Load([]string{"--addr", "127.0.0.1:7000"}, env(map[string]string{"DINGCHAT_ADDR": "127.0.0.1:9000"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Addr, "127.0.0.1:7000"; got != want {
		t.Fatalf("Addr = %q, want %q", got, want)
	}
}

func TestPostgresURL(t *testing.T) {
	for _, db := range []string{"postgres://dc:secret@db.example:5432/dingchat?sslmode=disable", "postgresql://dc:secret@db.example/dingchat"} {
		c, err := Load([]string{"--db", db}, env(nil), io.Discard)
		if err != nil {
			t.Fatalf("Load(--db %s): %v", db, err)
		}
		if !c.Postgres() {
			t.Fatalf("Postgres() = false for %s", db)
		}
		if name := c.DBName(); strings.Contains(name, "secret") || !strings.Contains(name, "db.example") {
			t.Fatalf("DBName() = %q, want the URL without its password", name)
		}
	}
	c, err := Load(nil, env(map[string]string{"DINGCHAT_DB": "postgres://dc@127.0.0.1/dingchat"}), io.Discard)
	if err != nil || !c.Postgres() {
		t.Fatalf("DINGCHAT_DB=postgres://…: Postgres() = %v, err %v", c.Postgres(), err)
	}
	if c, _ := Load(nil, env(nil), io.Discard); c.Postgres() {
		t.Fatal("the default is PostgreSQL, want the SQLite file")
	}
}

func TestRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		names string // the value as typed, which the error repeats
	}{
		{"addr without port", []string{"--addr", "localhost"}, nil, `"localhost"`},
		{"empty data dir", []string{"--data", ""}, nil, "data directory"},
		{"unknown db scheme", []string{"--db", "mysql://x"}, nil, `"mysql://x"`},
		{"a bare path for db", []string{"--db", "/x.db"}, nil, `"/x.db"`},
		{"db with a password", []string{"--db", "mysql://u:hunter2@h/d"}, nil, "mysql://u:xxxxx@h/d"},
		{"bad log level", []string{"--log-level", "loud"}, nil, `"loud"`},
		{"bad log format", []string{"--log-format", "xml"}, nil, `"xml"`},
		{"zero shutdown timeout", []string{"--shutdown-timeout", "0s"}, nil, "0s"},
		{"bad env bool", nil, map[string]string{"DINGCHAT_DEMO": "maybe"}, `DINGCHAT_DEMO="maybe"`},
		{"bad env db", nil, map[string]string{"DINGCHAT_DB": "/y.db"}, `"/y.db"`},
		{"unknown flag", []string{"--nope"}, nil, "nope"},
		{"stray argument", []string{"extra"}, nil, "extra"},
		{"short admin token", []string{"--admin-token", "short-token"}, nil, "at least 16 characters"},
		{"admin token twice", []string{"--admin-token", "0123456789abcdef", "--admin-token-file", "/nonexistent"}, nil, "both set"},
		{"missing admin token file", []string{"--admin-token-file", "/nonexistent/admin-token"}, nil, "admin token file"},
		{"pprof on every interface", []string{"--pprof", ":6060"}, nil, `":6060"`},
		{"pprof on a public address", []string{"--pprof", "0.0.0.0:6060"}, nil, `"0.0.0.0:6060"`},
		{"pprof on a host name", []string{"--pprof", "example.com:6060"}, nil, `"example.com:6060"`},
		{"pprof without port", []string{"--pprof", "127.0.0.1"}, nil, `"127.0.0.1"`},
		{"unknown sqlite sync", []string{"--sqlite-sync", "off"}, nil, `"off"`},
		{"empty sqlite sync", []string{"--sqlite-sync", ""}, nil, "sqlite-sync"},
		{"sqlite sync in the wrong case", []string{"--sqlite-sync", "NORMAL"}, nil, `"NORMAL"`},
		{"sqlite sync on PostgreSQL", []string{"--db", "postgres://dc@127.0.0.1/dingchat", "--sqlite-sync", "normal"}, nil, "synchronous_commit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.args, env(tc.env), io.Discard)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.names) {
				t.Errorf("error %q does not name %s", err, tc.names)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "dingchat.db") {
				t.Errorf("error %q shows a password or a path the user did not type", err)
			}
		})
	}
}

// The admin token can come from a file, so it shows neither in ps nor in
// the environment; the file's first line is the token.
func TestAdminTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(path, []byte("  file-admin-token-0123\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--admin-token-file", path}, env(nil), io.Discard)
	if err != nil || c.AdminToken != "file-admin-token-0123" {
		t.Fatalf("Load = %q, %v", c.AdminToken, err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := Load([]string{"--admin-token-file", empty}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: %v", err)
	}
}

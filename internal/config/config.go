// Package config turns flags and DINGCHAT_* environment variables into a
// Config. It keeps no package state.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything `dingchat serve` can be told.
type Config struct {
	Addr            string        // listen address
	DataDir         string        // where the SQLite file and blobs live
	DB              string        // "sqlite:PATH" or a postgres:// URL; "" = the SQLite file in DataDir
	OrgFile         string        // optional organisation file applied at start
	Demo            bool          // create the demo organisation when the store is empty
	LogLevel        slog.Level    // debug logs every request
	LogFormat       string        // text or json
	ShutdownTimeout time.Duration // how long in-flight requests may finish
	AdminToken      string        // bearer token of the admin API; "" = minted once and kept in the store
	TestControls    bool          // reset, the movable clock and fault injection through the admin API
	RequestLog      int           // how many API calls the request log keeps; 0 = none
	AdminTokenFile  string        // file holding AdminToken, so it stays out of ps and the environment
	ShowSecrets     bool          // print app secrets in the banner even when this start did not mint them
	// CallbackDenyPrivate refuses loopback and private callback URLs (71013),
	// as DingTalk does; off by default so test receivers on 127.0.0.1 work.
	CallbackDenyPrivate bool
	// PublicURL is how clients reach this server when a proxy stands in
	// front (https://chat.example.com): the Stream endpoint and robots'
	// sessionWebhooks are built on it. "" = as each request addressed it.
	PublicURL string
	Pprof     string // loopback address serving net/http/pprof; "" = off
	// SQLiteSync is how the SQLite store makes a commit durable: "full"
	// syncs the log on every commit (survives power loss); "normal" leaves
	// the log to the operating system, so a commit survives the process
	// being killed but not the machine going down (SQLite's WAL trade-off).
	SQLiteSync string
}

// MinSecretLen is the shortest admin token accepted: it is kept only as a
// fast hash, which a short secret would not survive.
const MinSecretLen = 16

// Default is what a plain `dingchat serve` uses.
func Default() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "dingchat-data",
		Demo:            true,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",
		ShutdownTimeout: 10 * time.Second,
		RequestLog:      1000,
		SQLiteSync:      "full",
	}
}

// Postgres reports whether DB names a PostgreSQL database (postgres://… or
// postgresql://…).
func (c Config) Postgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

// DBName describes the database for people: the SQLite file, or the
// PostgreSQL URL without its password.
func (c Config) DBName() string {
	if !c.Postgres() {
		return c.DBPath()
	}
	if u, err := url.Parse(c.DB); err == nil {
		return u.Redacted()
	}
	return "postgres://…"
}

// DBPath is the SQLite file: DB's path when it names one ("sqlite:PATH"),
// else dingchat.db in DataDir.
func (c Config) DBPath() string {
	if p, ok := strings.CutPrefix(c.DB, "sqlite:"); ok && p != "" {
		return p
	}
	return filepath.Join(c.DataDir, "dingchat.db")
}

// Load reads args (after the subcommand) and the environment. A flag on the
// command line wins over its DINGCHAT_* twin.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("dingchat serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var level string
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (env DINGCHAT_ADDR)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory for the SQLite file (env DINGCHAT_DATA)")
	fs.StringVar(&c.DB, "db", c.DB, "sqlite:PATH or postgres://…; empty means the SQLite file in the data directory (env DINGCHAT_DB)")
	fs.StringVar(&c.OrgFile, "org", c.OrgFile, "organisation file (YAML) applied at start (env DINGCHAT_ORG)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "create the demo organisation when the store holds none (env DINGCHAT_DEMO)")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error (env DINGCHAT_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (env DINGCHAT_LOG_FORMAT)")
	fs.StringVar(&c.AdminToken, "admin-token", c.AdminToken, "bearer token of the admin API; empty mints one and keeps it (env DINGCHAT_ADMIN_TOKEN)")
	fs.BoolVar(&c.TestControls, "test-controls", c.TestControls, "enable reset, the movable clock and fault injection in the admin API (env DINGCHAT_TEST_CONTROLS)")
	fs.IntVar(&c.RequestLog, "request-log", c.RequestLog, "how many API calls the request log keeps for the admin API; 0 = none (env DINGCHAT_REQUEST_LOG)")
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", c.AdminTokenFile, "file whose first line is the admin token (env DINGCHAT_ADMIN_TOKEN_FILE)")
	fs.BoolVar(&c.ShowSecrets, "show-secrets", c.ShowSecrets, "print every app secret in the start-up banner, not only freshly minted ones (env DINGCHAT_SHOW_SECRETS)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "base URL clients reach this server at behind a proxy, for the Stream endpoint and sessionWebhooks (env DINGCHAT_PUBLIC_URL)")
	fs.BoolVar(&c.CallbackDenyPrivate, "callback-deny-private", c.CallbackDenyPrivate, "refuse loopback and private event callback URLs, as DingTalk does (env DINGCHAT_CALLBACK_DENY_PRIVATE)")
	fs.StringVar(&c.Pprof, "pprof", c.Pprof, "loopback address for the Go profiler (net/http/pprof); empty = off (env DINGCHAT_PPROF)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "grace period for in-flight requests (env DINGCHAT_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.SQLiteSync, "sqlite-sync", c.SQLiteSync, "full: every commit survives power loss; normal: commits survive the process being killed, not the machine going down, and cost no fsync (env DINGCHAT_SQLITE_SYNC)")

	// environment first, so explicit flags override it
	for _, name := range []string{"addr", "data", "db", "org", "demo", "log-level", "log-format", "shutdown-timeout", "admin-token", "admin-token-file", "show-secrets", "test-controls", "request-log", "callback-deny-private", "public-url", "pprof", "sqlite-sync"} {
		env := "DINGCHAT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := fs.Set(name, v); err != nil {
				if name == "admin-token" {
					v = "…" // never echo a secret
				}
				return c, fmt.Errorf("%s=%q: %w", env, v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("log level %q: %w", level, err)
	}
	if c.AdminTokenFile != "" {
		if c.AdminToken != "" {
			return c, errors.New("admin-token and admin-token-file are both set: keep one")
		}
		b, err := os.ReadFile(c.AdminTokenFile)
		if err != nil {
			return c, fmt.Errorf("admin token file: %w", err)
		}
		c.AdminToken, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
		c.AdminToken = strings.TrimSpace(c.AdminToken)
		if c.AdminToken == "" {
			return c, fmt.Errorf("admin token file %s is empty", c.AdminTokenFile)
		}
	}
	return c, c.Validate()
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("public-url %q: want http(s)://HOST[:PORT]", c.PublicURL)
		}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr %q: %w", c.Addr, err)
	}
	if c.Pprof != "" {
		// the profiler shows memory and goroutines: never off this machine
		host, _, err := net.SplitHostPort(c.Pprof)
		if err != nil {
			return fmt.Errorf("pprof %q: %w", c.Pprof, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("pprof %q: must be a loopback address such as 127.0.0.1:6060", c.Pprof)
		}
	}
	if c.DataDir == "" {
		return errors.New("data directory must not be empty")
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "sqlite:") && !c.Postgres() {
		return fmt.Errorf("db %q: want sqlite:PATH or postgres://USER@HOST:PORT/DATABASE", typed(c.DB))
	}
	if c.SQLiteSync != "full" && c.SQLiteSync != "normal" {
		return fmt.Errorf("sqlite-sync %q: want full or normal", c.SQLiteSync)
	}
	if c.Postgres() && c.SQLiteSync != "full" {
		return errors.New("sqlite-sync applies to the SQLite store; PostgreSQL's durability is its server's synchronous_commit")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	if c.RequestLog < 0 || c.RequestLog > 1000000 {
		return errors.New("request log size is 0 to 1000000")
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("shutdown timeout %s: must be positive", c.ShutdownTimeout)
	}
	if c.AdminToken != "" && len(c.AdminToken) < MinSecretLen {
		return fmt.Errorf("admin token: at least %d characters, got %d", MinSecretLen, len(c.AdminToken))
	}
	return nil
}

// typed is a value as the user typed it, with any password in it hidden.
func typed(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	return v
}

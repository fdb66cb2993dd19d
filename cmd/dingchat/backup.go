package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/dingchat/dingchat/internal/backup"
	"github.com/dingchat/dingchat/internal/config"
)

// storeFlags are the --data and --db flags of serve, for the commands that
// work on a store without serving it.
func storeFlags(fs *flag.FlagSet, getenv func(string) string) *config.Config {
	c := config.Default()
	c.DataDir, c.DB = envOr(getenv("DINGCHAT_DATA"), c.DataDir), getenv("DINGCHAT_DB")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory: the SQLite file and blobs (env DINGCHAT_DATA)")
	fs.StringVar(&c.DB, "db", c.DB, "sqlite:PATH to name the SQLite file elsewhere (env DINGCHAT_DB)")
	return &c
}

func envOr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

var errPostgresBackup = errors.New("the store is PostgreSQL: back it up with pg_dump and copy the blob directory (see the README, Operating)")

// runBackup is `dingchat backup --to FILE`: a consistent copy of a running
// SQLite store and its blobs.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dingchat backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := storeFlags(fs, getenv)
	to := fs.String("to", "", "archive to write (a .tar.gz)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *to == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "dingchat backup: want --to FILE and no arguments")
		return 2
	}
	if c.Postgres() {
		fmt.Fprintln(stderr, "dingchat backup:", errPostgresBackup)
		return 1
	}
	m, err := backup.Backup(ctx, c.DBPath(), filepath.Join(c.DataDir, "blobs"), *to)
	if err != nil {
		fmt.Fprintln(stderr, "dingchat backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backed up %s (%d bytes, %d messages) and %d blobs to %s\n", c.DBPath(), m.DBBytes, m.Messages, m.Blobs, *to)
	return 0
}

// runRestore is `dingchat restore --from FILE`: an archive of dingchat backup
// back into an empty data directory (or SQLite path).
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dingchat restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := storeFlags(fs, getenv)
	from := fs.String("from", "", "archive written by dingchat backup")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *from == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "dingchat restore: want --from FILE and no arguments")
		return 2
	}
	if c.Postgres() {
		fmt.Fprintln(stderr, "dingchat restore:", errPostgresBackup)
		return 1
	}
	m, err := backup.Restore(ctx, *from, c.DBPath(), filepath.Join(c.DataDir, "blobs"))
	if err != nil {
		fmt.Fprintln(stderr, "dingchat restore:", err)
		return 1
	}
	fmt.Fprintf(stdout, "restored %s (%d messages, backed up %s) and %d blobs from %s\n", c.DBPath(), m.Messages, m.CreatedAt, m.Blobs, *from)
	return 0
}

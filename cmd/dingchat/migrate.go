package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dingchat/dingchat/internal/migrate"
)

// runMigrate is `dingchat migrate --from sqlite:PATH --to postgres://…`.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dingchat migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "sqlite:PATH of the store to move (stop dingchat first)")
	to := fs.String("to", "", "postgres://… of an empty schema (the URL's search_path names it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	path, ok := strings.CutPrefix(*from, "sqlite:")
	if !ok || path == "" || !(strings.HasPrefix(*to, "postgres://") || strings.HasPrefix(*to, "postgresql://")) || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "dingchat migrate: want --from sqlite:PATH --to postgres://USER@HOST:PORT/DATABASE")
		return 2
	}
	rep, err := migrate.Run(ctx, path, *to, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "dingchat migrate:", err)
		return 1
	}
	var rows int64
	for _, t := range rep.Tables {
		rows += t.Rows
		if t.How == "copied" {
			fmt.Fprintf(stdout, "verified %-16s %8d rows  checksum %s\n", t.Name, t.Rows, t.Checksum)
		} else {
			fmt.Fprintf(stdout, "%-8s %s\n", t.How, t.Name)
		}
	}
	fmt.Fprintf(stdout, "moved %d rows; copy the blob directory (<data>/blobs) to the --data directory the PostgreSQL nodes share\n", rows)
	return 0
}

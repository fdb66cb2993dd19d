package migrate_test

import (
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/migrate"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

// A table or column migrate does not know is refused by name before
// anything is written, so a store that grew a table nobody taught migrate
// about is never half moved.
func TestUnknownTablesFailLoudly(t *testing.T) {
	pg := dingtest.ClaimSchema(t, 2)
	ctx := context.Background()
	for _, c := range []struct{ ddl, want string }{
		{`CREATE TABLE surprise (id INTEGER PRIMARY KEY, note TEXT)`, "unknown table surprise"},
		{`ALTER TABLE chats ADD COLUMN colour TEXT NOT NULL DEFAULT ''`, "unknown column chats.colour"},
	} {
		path := filepath.Join(t.TempDir(), "dingchat.db")
		st, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		dingtest.Seed(t, st)
		st.Close()
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(c.ddl); err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, err = migrate.Run(ctx, path, pg, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: migrate = %v, want an error naming %q", c.ddl, err, c.want)
		}
	}
	// nothing was written: a clean store still goes in
	path := filepath.Join(t.TempDir(), "dingchat.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	dingtest.Seed(t, st)
	st.Close()
	rep, err := migrate.Run(ctx, path, pg, io.Discard)
	if err != nil {
		t.Fatalf("migrate a clean store after the refusals: %v", err)
	}
	var users int64
	for _, tr := range rep.Tables {
		if tr.Name == "users" {
			users = tr.Rows
		}
	}
	if users != int64(dingtest.Users+len(dingtest.Named)+len(dingtest.OtherOrg().Users)) {
		t.Errorf("users moved = %d", users)
	}
}

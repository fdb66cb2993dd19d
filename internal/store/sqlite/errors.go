package sqlite

import (
	"database/sql"
	"errors"

	"github.com/dingchat/dingchat/internal/ding"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// translate maps driver errors to domain kinds by result code, never by text.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var de *ding.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &ding.Error{Kind: ding.NotFound, Message: what + " not found", Err: err}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return &ding.Error{Kind: ding.Conflict, Message: what + " already exists", Err: err}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_CHECK:
			return &ding.Error{Kind: ding.Invalid, Message: what + " violates a constraint", Err: err}
		}
		switch se.Code() & 0xff { // primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
			return &ding.Error{Kind: ding.Unavailable, Message: "storage unavailable", Err: err}
		}
	}
	return &ding.Error{Kind: ding.Internal, Err: err}
}

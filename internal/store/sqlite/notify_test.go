package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest/told"
)

// A commit tells which corps' event logs it appended to, each once; a
// commit without events, and a write rolled back to its savepoint, tell
// nothing.
func TestOnEventsTellsCommittedCorps(t *testing.T) {
	ctx := context.Background()
	s := openInline(t)
	var a, b told.Recorder
	s.OnEvents(a.Add)
	s.OnEvents(b.Add)
	events := func(corps ...string) func(*sql.Tx) error {
		return func(tx *sql.Tx) error {
			evs := make([]ding.Event, len(corps))
			for i, c := range corps {
				evs[i] = ding.Event{CorpID: c, Type: "chat_update_title", CreatedAt: 1}
			}
			return s.appendEvents(tx, evs)
		}
	}

	if err := s.do(ctx, events("corpb", "corpa", "corpb")); err != nil {
		t.Fatal(err)
	}
	if got := a.Take(); !slices.Equal(got, []string{"corpa,corpb"}) {
		t.Errorf("told %q, want one commit of corpa,corpb", got)
	}
	if got := b.Take(); !slices.Equal(got, []string{"corpa,corpb"}) {
		t.Errorf("second listener told %q, want what the first was", got)
	}

	if err := s.do(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(`UPDATE settings SET value = value`); return err }); err != nil {
		t.Fatal(err)
	}
	if got := a.Take(); len(got) != 0 {
		t.Errorf("a commit without events told %q", got)
	}

	refused := errors.New("refused after its events")
	if err := s.do(ctx, func(tx *sql.Tx) error {
		if err := events("corpc")(tx); err != nil {
			return err
		}
		return refused
	}); !errors.Is(err, refused) {
		t.Fatalf("write: %v, want it refused", err)
	}
	if got := a.Take(); len(got) != 0 {
		t.Errorf("a write rolled back told %q", got)
	}

	// in one batch, a refused write's corps are left out and the others told
	var errs [3]error
	if err := s.InOneBatch(
		func() { errs[0] = s.do(ctx, events("corpd")) },
		func() {
			errs[1] = s.do(ctx, func(tx *sql.Tx) error {
				if err := events("corpe")(tx); err != nil {
					return err
				}
				return refused
			})
		},
		func() { errs[2] = s.do(ctx, events("corpf", "corpd")) },
	); err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || !errors.Is(errs[1], refused) || errs[2] != nil {
		t.Fatalf("batch answers %v", errs)
	}
	if got := a.Take(); !slices.Equal(got, []string{"corpd,corpf"}) {
		t.Errorf("the batch told %q, want one commit of corpd,corpf", got)
	}
	var n int
	if err := s.read.QueryRow(`SELECT count(*) FROM events WHERE corp_id = 'corpe' OR corp_id = 'corpc'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("refused writes left %d events (%v)", n, err)
	}
}

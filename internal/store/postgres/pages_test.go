package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// openWithPool opens a seeded store on a schema of its own, and a pool of
// the test's own on the same schema to reach the database directly.
func openWithPool(t *testing.T) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	st, url := oneNode(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return st, pool
}

// pageGroup makes group chatID with n messages numbered 1..n.
func pageGroup(t *testing.T, st ding.Store, chatID string, n int) {
	t.Helper()
	ctx := context.Background()
	g := newGroup(t, st, chatID, ding.TagInternal)
	for i := 1; i <= n; i++ {
		m := &ding.Message{ID: fmt.Sprintf("msg%s-%d", chatID, i), CorpID: g.CorpID, ChatID: chatID, SenderType: ding.SenderApp,
			Sender: dingtest.AppKey, MsgType: ding.MsgText, Body: []byte(fmt.Sprintf(`{"text":{"content":"%s %d"}}`, chatID, i)), CreatedAt: int64(i)}
		if err := st.AppendMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// checkPage fails unless ms are group chatID's messages want, in order.
func checkPage(t *testing.T, what, chatID string, ms []ding.Message, want ...int64) {
	t.Helper()
	if len(ms) != len(want) {
		t.Fatalf("%s: %d messages, want %d", what, len(ms), len(want))
	}
	for i, m := range ms {
		body := fmt.Sprintf(`{"text":{"content":"%s %d"}}`, chatID, want[i])
		if m.ChatID != chatID || m.Seq != want[i] || m.ID != fmt.Sprintf("msg%s-%d", chatID, want[i]) || string(m.Body) != body || m.CreatedAt != want[i] {
			t.Fatalf("%s: message %d is %s/%d %q %s, want %s/%d", what, i, m.ChatID, m.Seq, m.ID, m.Body, chatID, want[i])
		}
	}
}

// Pages read in one batch each get their own group's messages, and one
// page's failure is its answer alone: the others are read again and
// answered.
func TestPagesReadTogether(t *testing.T) {
	st := dingtest.OpenPostgresThrowaway(t)
	dingtest.Seed(t, st)
	pageGroup(t, st, "chatpa", 5)
	pageGroup(t, st, "chatpb", 3)
	reads := []*postgres.PageRead{
		{ChatID: "chatpa", Q: ding.MessageQuery{Desc: true, Limit: 2}},
		{ChatID: "chatpb", Q: ding.MessageQuery{Desc: true, Limit: 10}},
		{ChatID: "chatpa", Q: ding.MessageQuery{After: 3, Limit: 10}},
		{ChatID: "chatpa", Q: ding.MessageQuery{Desc: true, Before: 3, Limit: 1}},
		{ChatID: "chatnone", Q: ding.MessageQuery{Desc: true, Limit: 5}},
	}
	check := func(what string) {
		t.Helper()
		for i, r := range reads {
			if r.Err != nil {
				t.Fatalf("%s: page %d: %v", what, i, r.Err)
			}
		}
		checkPage(t, what+" a newest", "chatpa", reads[0].Out, 5, 4)
		checkPage(t, what+" b newest", "chatpb", reads[1].Out, 3, 2, 1)
		checkPage(t, what+" a after 3", "chatpa", reads[2].Out, 4, 5)
		checkPage(t, what+" a before 3", "chatpa", reads[3].Out, 2)
		checkPage(t, what+" none", "chatnone", reads[4].Out)
	}
	postgres.ReadPages(st.(*postgres.Store), reads)
	check("one batch")

	// a negative limit is refused by the database, which fails the pipeline
	bad := &postgres.PageRead{ChatID: "chatpb", Q: ding.MessageQuery{Desc: true, Limit: -1}}
	reads = append(reads[:2], append([]*postgres.PageRead{bad}, reads[2:]...)...)
	postgres.ReadPages(st.(*postgres.Store), reads)
	if bad.Err == nil || bad.Out != nil {
		t.Fatalf("negative limit: %d messages, %v; want an error", len(bad.Out), bad.Err)
	}
	reads = append(reads[:2], reads[3:]...)
	check("beside a failed page")
}

// Many readers at once, each on its own group and cursor, get their own
// pages (run with the race detector).
func TestPagesUnderConcurrency(t *testing.T) {
	st := dingtest.OpenPostgresThrowaway(t)
	dingtest.Seed(t, st)
	const groups = 4
	for g := range groups {
		pageGroup(t, st, fmt.Sprintf("chatpc%d", g), 10)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chat := fmt.Sprintf("chatpc%d", w%groups)
			for i := range 30 {
				before := int64(2 + (w+i)%9)
				ms, err := st.Messages(context.Background(), chat, ding.MessageQuery{Desc: true, Before: before, Limit: 3})
				if err != nil {
					errs <- err
					return
				}
				want := min(3, int(before-1))
				if len(ms) != want {
					errs <- fmt.Errorf("%s before %d: %d messages, want %d", chat, before, len(ms), want)
					return
				}
				for k, m := range ms {
					if m.ChatID != chat || m.Seq != before-1-int64(k) || m.ID != fmt.Sprintf("msg%s-%d", chat, m.Seq) {
						errs <- fmt.Errorf("%s before %d: message %d is %s/%d %s", chat, before, k, m.ChatID, m.Seq, m.ID)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A closed store answers pages Unavailable.
func TestPagesAfterClose(t *testing.T) {
	st := dingtest.OpenPostgresThrowaway(t)
	st.Close()
	_, err := st.Messages(context.Background(), "chatany", ding.MessageQuery{Desc: true, Limit: 5})
	if !ding.IsKind(err, ding.Unavailable) {
		t.Fatalf("Messages after Close = %v; want Unavailable", err)
	}
}

// A caller whose context ends stops waiting for its page, even while the
// readers wait on the database; the pages behind it are read once the
// database answers.
func TestPageCallerLeaves(t *testing.T) {
	ctx := context.Background()
	st, lock := openWithPool(t)
	pageGroup(t, st, "chatpl", 3)

	tx, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE messages IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	// both readers wait on the lock
	waiting := make(chan error, 2)
	for range 2 {
		go func() {
			ms, err := st.Messages(ctx, "chatpl", ding.MessageQuery{Desc: true, Limit: 5})
			if err == nil && len(ms) != 3 {
				err = fmt.Errorf("%d messages, want 3", len(ms))
			}
			waiting <- err
		}()
	}
	time.Sleep(100 * time.Millisecond)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = st.Messages(short, "chatpl", ding.MessageQuery{Desc: true, Limit: 5})
	if !ding.IsKind(err, ding.Unavailable) || time.Since(start) > 10*time.Second {
		t.Fatalf("Messages with an ended context = %v after %v; want Unavailable at its deadline", err, time.Since(start))
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-waiting; err != nil {
			t.Fatal(err)
		}
	}
	ms, err := st.Messages(ctx, "chatpl", ding.MessageQuery{After: 1, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, "after the lock", "chatpl", ms, 2, 3)
}

// Half the pool's connections read pages, one pipeline each: as many
// backends as that wait on a locked table, however many pages are asked
// for.
func TestPageReadersFollowThePool(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		conns   string
		readers int
	}{{"4", 2}, {"8", 4}, {"1", 1}} {
		url := dingtest.WithParams(dingtest.PostgresSchema(t, 2), map[string]string{"pool_max_conns": tc.conns})
		st, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		dingtest.Seed(t, st)
		pageGroup(t, st, "chatpr", 2)
		lock, err := pgxpool.New(ctx, dingtest.WithParams(url, map[string]string{"pool_max_conns": "2"}))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := lock.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE messages IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		var pid int
		if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.Messages(ctx, "chatpr", ding.MessageQuery{Desc: true, Limit: 5}); err != nil {
					t.Error(err)
				}
			}()
		}
		waiting := 0
		for try := 0; try < 100; try++ {
			time.Sleep(20 * time.Millisecond)
			if err := lock.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting >= tc.readers {
				break
			}
		}
		time.Sleep(100 * time.Millisecond) // a reader too many would show by now
		if err := lock.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		lock.Close()
		st.Close()
		if waiting != tc.readers {
			t.Fatalf("pool of %s: %d backends read pages at once; want %d", tc.conns, waiting, tc.readers)
		}
	}
}

package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const at0 = int64(1767225600000)

// twoNodes opens two stores on one schema, as two processes would.
func twoNodes(t *testing.T) (a, b *postgres.Store) {
	t.Helper()
	url := dingtest.PostgresSchema(t, 4)
	var nodes [2]*postgres.Store
	for i := range nodes {
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		nodes[i] = st
	}
	dingtest.Seed(t, nodes[0])
	return nodes[0], nodes[1]
}

// oneNode opens a seeded store on a schema of its own, and gives its URL.
func oneNode(t *testing.T) (*postgres.Store, string) {
	t.Helper()
	url := dingtest.PostgresSchema(t, 4)
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dingtest.Seed(t, st)
	return st, url
}

func newGroup(t *testing.T, st ding.Store, chatID string, tag int) *ding.Group {
	t.Helper()
	g := &ding.Group{ChatID: chatID, OpenConversationID: "cid" + chatID, CorpID: dingtest.CorpID, Name: "发送群",
		Owner: "manager4220", OwnerType: ding.MemberEmp, ConversationTag: tag, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: at0, UpdatedAt: at0}
	ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: at0},
		{ID: "zhangsan", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: at0}}
	if err := st.CreateGroup(context.Background(), g, ms, nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	return g
}

var (
	errDisbanded = errors.New("disbanded")
	errKind      = errors.New("not an internal group")
)

// sendCheck is chat/send's judgement of the group; seen gets the name it judged.
func sendCheck(seen *string) func(*ding.Group) error {
	return func(g *ding.Group) error {
		*seen = g.Name
		if g.ConversationTag != ding.TagInternal {
			return errKind
		}
		if g.Status == ding.StatusDisbanded {
			return errDisbanded
		}
		return nil
	}
}

func send(st *postgres.Store, chatID, id string, check func(*ding.Group) error) (*ding.Message, error) {
	m := &ding.Message{ID: id, CorpID: dingtest.CorpID, ChatID: chatID, SenderType: ding.SenderApp, Sender: dingtest.AppKey,
		MsgType: ding.MsgText, Body: []byte(`{"content":"hi"}`), CreatedAt: at0}
	err := st.AppendMessage(context.Background(), m, nil, check)
	return m, err
}

func update(t *testing.T, st *postgres.Store, chatID string, change func(*ding.Group)) {
	t.Helper()
	_, err := st.UpdateGroup(context.Background(), dingtest.CorpID, chatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		g := s.Group
		change(&g)
		return &ding.GroupChange{Group: g}, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
}

// A node's sends judge the group as it is now, whatever another node did
// to it since this node last sent there: a rename, a disband, and the
// group deleted and made again under the same chatid.
func TestSendSeesOtherNodesChanges(t *testing.T) {
	a, b := twoNodes(t)
	const chat = "chatsendnodes01"
	newGroup(t, a, chat, ding.TagInternal)
	var seen string
	if m, err := send(a, chat, "msg-1", sendCheck(&seen)); err != nil || m.Seq != 1 || seen != "发送群" {
		t.Fatalf("first send: seq %d, %v, judged %q", m.Seq, err, seen)
	}

	update(t, b, chat, func(g *ding.Group) { g.Name = "改名" })
	if m, err := send(a, chat, "msg-2", sendCheck(&seen)); err != nil || m.Seq != 2 || seen != "改名" {
		t.Fatalf("send after a rename on the other node: seq %d, %v, judged %q", m.Seq, err, seen)
	}

	update(t, b, chat, func(g *ding.Group) { g.Status = ding.StatusDisbanded })
	if _, err := send(a, chat, "msg-3", sendCheck(&seen)); !errors.Is(err, errDisbanded) {
		t.Fatalf("send after a disband on the other node: %v, want the check's refusal", err)
	}
	// refused on a header read before the change, it would be final too:
	// a group back in order is sent to
	update(t, b, chat, func(g *ding.Group) { g.Status = ding.StatusNormal })
	if m, err := send(a, chat, "msg-4", sendCheck(&seen)); err != nil || m.Seq != 3 {
		t.Fatalf("send after the group was restored on the other node: seq %d, %v", m.Seq, err)
	}

	// the corp deleted and a group made again under the same chatid, now
	// of another kind: its version is none that node A kept
	const again = "chatsendnodes02"
	newGroup(t, a, again, ding.TagInternal)
	if _, err := send(a, again, "msg-5", sendCheck(&seen)); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteCorp(context.Background(), dingtest.CorpID); err != nil {
		t.Fatal(err)
	}
	dingtest.Seed(t, b)
	newGroup(t, b, again, 0)
	if _, err := send(a, again, "msg-6", sendCheck(&seen)); !errors.Is(err, errKind) {
		t.Fatalf("send to the group made again as another kind: %v, want the kind refusal", err)
	}
	if _, err := send(a, chat, "msg-7", sendCheck(&seen)); !ding.IsKind(err, ding.NotFound) {
		t.Fatalf("send to a deleted group: %v, want NotFound", err)
	}
	update(t, b, again, func(g *ding.Group) { g.ConversationTag = ding.TagInternal })
	if m, err := send(a, again, "msg-8", sendCheck(&seen)); err != nil || m.Seq != 1 {
		t.Fatalf("first send to the group made again: seq %d, %v", m.Seq, err)
	}

	// the same after a reset of the whole store
	if _, err := b.Reset(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	dingtest.Seed(t, b)
	newGroup(t, b, again, 0)
	if _, err := send(a, again, "msg-9", sendCheck(&seen)); !errors.Is(err, errKind) {
		t.Fatalf("send to the group made again after a reset: %v, want the kind refusal", err)
	}
}

// Two nodes send to one group (and a second) at once while a third party
// keeps renaming the first: each group's messages are numbered 1…n without
// a gap or a repeat, and each send learns the number it was stored under.
func TestSendsFromTwoNodesGapFree(t *testing.T) {
	a, b := twoNodes(t)
	chats := []string{"chatsendgapfree1", "chatsendgapfree2"}
	for _, c := range chats {
		newGroup(t, a, c, ding.TagInternal)
	}
	const senders, each = 8, 40
	type sent struct {
		chat, id string
		seq      int64
	}
	out := make(chan sent, 2*senders*each)
	errs := make(chan error, 2*senders*each)
	stop := make(chan struct{})
	renamed := make(chan int)
	go func() {
		n := 0
		defer func() { renamed <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			n++
			name := fmt.Sprintf("第%d名", n)
			_, err := b.UpdateGroup(context.Background(), dingtest.CorpID, chats[0], func(s *ding.GroupState) (*ding.GroupChange, error) {
				g := s.Group
				g.Name = name
				return &ding.GroupChange{Group: g}, nil
			})
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < 2*senders; w++ {
		node := a
		if w%2 == 1 {
			node = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				chat := chats[k%2]
				var seen string
				m, err := send(node, chat, fmt.Sprintf("msg-%d-%d", w, k), sendCheck(&seen))
				if err != nil {
					errs <- err
					return
				}
				out <- sent{chat, m.ID, m.Seq}
			}
		}()
	}
	wg.Wait()
	close(stop)
	n := <-renamed
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	close(out)
	got := map[string]map[int64]string{}
	for s := range out {
		if got[s.chat] == nil {
			got[s.chat] = map[int64]string{}
		}
		if prev, ok := got[s.chat][s.seq]; ok {
			t.Fatalf("%s: %s and %s both got seq %d", s.chat, prev, s.id, s.seq)
		}
		got[s.chat][s.seq] = s.id
	}
	for _, c := range chats {
		ms, err := a.Messages(context.Background(), c, ding.MessageQuery{Limit: 10 * senders * each})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != senders*each {
			t.Fatalf("%s: %d messages stored, want %d", c, len(ms), senders*each)
		}
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Fatalf("%s: message %d has seq %d: a gap", c, i, m.Seq)
			}
			if got[c][m.Seq] != m.ID {
				t.Fatalf("%s: seq %d is %s in the store, %s was told so", c, m.Seq, m.ID, got[c][m.Seq])
			}
		}
	}
	t.Logf("%d renames during the sends", n)
}

// One send batch in flight per node: sends that arrive while a batch waits
// for its commit are held and leave together in the next batch, however
// long the first takes. (Two writers halved the batches; nearly every cost
// of a batch is paid per batch.)
func TestOneSendBatchInFlight(t *testing.T) {
	ctx := context.Background()
	st, url := oneNode(t)
	newGroup(t, st, "chatheld", ding.TagInternal)
	const others = 10
	for i := range others {
		newGroup(t, st, fmt.Sprintf("chatnext%d", i), ding.TagInternal)
	}
	var (
		commits atomic.Int64
		mu      sync.Mutex
		sizes   []int
	)
	st.ObserveCommits(func(n int, _ time.Duration, _ error) {
		commits.Add(1)
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	})

	// another connection holds the first group's row, so the batch that sends
	// to it waits for that transaction's end
	tx := holdRow(t, ctx, url, "chatheld")
	held := make(chan error, 1)
	go func() {
		_, err := send(st, "chatheld", "msgheld", nil)
		held <- err
	}()
	waitFor(t, "the first batch to wait for the row", func() bool { return waitedOn(ctx, tx) })

	var done atomic.Int64
	errs := make(chan error, others)
	for i := range others {
		go func() {
			_, err := send(st, fmt.Sprintf("chatnext%d", i), fmt.Sprintf("msgnext%d", i), nil)
			done.Add(1)
			errs <- err
		}()
	}
	waitFor(t, "the other sends to queue behind the batch in flight", func() bool {
		return postgres.QueuedSends(st) == others || done.Load() > 0
	})
	if n := done.Load(); n > 0 {
		t.Fatalf("%d sends were written while a batch was in flight", n)
	}
	before := commits.Load()
	mu.Lock()
	sizes = nil
	mu.Unlock()
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-held; err != nil {
		t.Fatalf("held send: %v", err)
	}
	for range others {
		if err := <-errs; err != nil {
			t.Fatalf("queued send: %v", err)
		}
	}
	// the held batch's commit, then one batch for all the queued sends
	if n := commits.Load() - before; n != 2 {
		t.Errorf("%d transactions after the row was released, want 2 (the held batch and one for the queued sends)", n)
	}
	// the commit metrics count the sends each batch carried
	mu.Lock()
	got := fmt.Sprint(sizes)
	mu.Unlock()
	if want := fmt.Sprint([]int{1, others}); got != want {
		t.Errorf("commits observed with %s writes, want %s", got, want)
	}
	for i := range others {
		if n, err := st.LastSeq(ctx, fmt.Sprintf("chatnext%d", i)); err != nil || n != 1 {
			t.Errorf("chatnext%d: last seq %d, %v; want 1", i, n, err)
		}
	}
}

// A batch locks its groups' rows in chat_id order whatever order the rows
// lie in, so that two nodes' batches never wait for each other in a
// cycle. The groups are made in reverse order, so a scan of the table
// meets the last of them first; that one is held, and the batch must then
// wait for it holding every other group's row.
func TestSendBatchLocksInOrder(t *testing.T) {
	ctx := context.Background()
	st, url := oneNode(t)
	const n = 20
	newGroup(t, st, "chatblock", ding.TagInternal)
	ids := make([]string, n)
	for i := n - 1; i >= 0; i-- {
		ids[i] = fmt.Sprintf("chatorder%02d", i)
		newGroup(t, st, ids[i], ding.TagInternal)
	}
	if err := postgres.Exec(st, `ANALYZE chats`); err != nil {
		t.Fatal(err)
	}

	// the first batch waits on chatblock, so the sends to the n groups
	// queue behind it and travel in one batch
	first := holdRow(t, ctx, url, "chatblock")
	errs := make(chan error, n+1)
	go func() {
		_, err := send(st, "chatblock", "msgblock", nil)
		errs <- err
	}()
	waitFor(t, "the first batch to wait for its row", func() bool { return waitedOn(ctx, first) })
	for i, id := range ids {
		go func() {
			_, err := send(st, id, fmt.Sprintf("msgorder%02d", i), nil)
			errs <- err
		}()
	}
	waitFor(t, "the sends to queue", func() bool { return postgres.QueuedSends(st) == n })
	last := holdRow(t, ctx, url, ids[n-1])
	if err := first.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the batch to wait for the last group's row", func() bool { return waitedOn(ctx, last) })

	// every row before the held one is locked by the waiting batch
	probe, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	tx, err := probe.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `SELECT chat_id FROM chats WHERE chat_id = ANY($1) ORDER BY chat_id FOR NO KEY UPDATE SKIP LOCKED`, ids[:n-1])
	if err != nil {
		t.Fatal(err)
	}
	free, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx)
	if len(free) > 0 {
		t.Errorf("the batch waits for %s without holding %v: it locks rows out of chat_id order", ids[n-1], free)
	}

	if err := last.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for range n + 1 {
		if err := <-errs; err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	for _, id := range ids {
		if seq, err := st.LastSeq(ctx, id); err != nil || seq != 1 {
			t.Errorf("%s: last seq %d, %v; want 1", id, seq, err)
		}
	}
}

// holdRow locks a group's row from a connection outside the stores' pools
// until the test ends or the returned transaction rolls back.
func holdRow(t *testing.T, ctx context.Context, url, chatID string) pgx.Tx {
	t.Helper()
	blocker, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(blocker.Close)
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, `SELECT 1 FROM chats WHERE chat_id = $1 FOR UPDATE`, chatID); err != nil {
		t.Fatal(err)
	}
	return tx
}

// listenedNode opens a seeded store on a schema of its own, and a second
// node that listens to its head notices until ctx ends.
func listenedNode(t *testing.T, ctx context.Context) (st *postgres.Store, url string, heard chan map[string]int64) {
	t.Helper()
	url = dingtest.PostgresSchema(t, 4)
	var nodes [2]*postgres.Store
	for i := range nodes {
		n, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		nodes[i] = n
	}
	dingtest.Seed(t, nodes[0])
	heard, ready := make(chan map[string]int64, 10), make(chan struct{})
	go nodes[1].ListenHeads(ctx, func() { close(ready) }, func(h map[string]int64, _ []string) { heard <- h })
	<-ready
	return nodes[0], url, heard
}

// announceWhileHeld announces a head while tx holds st's writers, checks
// that it is neither heard nor done until tx ends, then that it is heard
// once.
func announceWhileHeld(t *testing.T, ctx context.Context, st *postgres.Store, heard <-chan map[string]int64, held string, tx pgx.Tx) {
	t.Helper()
	announced := make(chan error, 1)
	go func() { announced <- st.AnnounceHeads(ctx, map[string]int64{"chatannounced": 7}, nil) }()
	select {
	case h := <-heard:
		t.Fatalf("heard %v while %s: the notice did not wait for it", h, held)
	case err := <-announced:
		t.Fatalf("AnnounceHeads returned (%v) while %s", err, held)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-announced:
		if err != nil {
			t.Fatalf("AnnounceHeads: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("AnnounceHeads never returned")
	}
	select {
	case h := <-heard:
		if h["chatannounced"] != 7 || len(h) != 1 {
			t.Fatalf("heard %v, want chatannounced 7", h)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the announcement was never heard")
	}
}

// holdTable locks st's chats table against writes until the returned
// transaction ends; waiting counts the transactions that wait for it.
func holdTable(t *testing.T, ctx context.Context, url string) (tx pgx.Tx, waiting func() int) {
	t.Helper()
	blocker, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(blocker.Close)
	tx, err = blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, `LOCK TABLE chats IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	return tx, func() int {
		var n int
		tx.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'chats'::regclass`).Scan(&n)
		return n
	}
}

// waitedOn is whether another transaction waits for tx's locks.
func waitedOn(ctx context.Context, tx pgx.Tx) bool {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'
		AND transactionid::text = pg_current_xact_id()::text`).Scan(&n)
	return err == nil && n > 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A head announcement made while a send batch is in flight rides in the
// next batch's transaction (no commit of its own) and is heard when that
// batch commits; when the next batch writes nothing, it is sent alone.
func TestHeadsRideWithSends(t *testing.T) {
	for _, c := range []struct {
		name  string
		id    string                  // of the send queued behind the held batch
		check func(*ding.Group) error // of that send
	}{
		{"with the next batch", "msgnext", nil},
		{"alone when the next batch writes nothing", "msgnext", func(*ding.Group) error { return errKind }},
		{"alone when the next batch fails", "msgheld", nil}, // the held send's id: the batch fails as a whole
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st, url, heard := listenedNode(t, ctx)
			newGroup(t, st, "chatheld", ding.TagInternal)
			newGroup(t, st, "chatnext", ding.TagInternal)

			tx := holdRow(t, ctx, url, "chatheld")
			sent := make(chan error, 2)
			go func() { _, err := send(st, "chatheld", "msgheld", nil); sent <- err }()
			waitFor(t, "the batch to wait for the row", func() bool { return waitedOn(ctx, tx) })
			go func() { _, err := send(st, "chatnext", c.id, c.check); sent <- err }()
			waitFor(t, "the next send to queue", func() bool { return postgres.QueuedSends(st) == 1 })

			announceWhileHeld(t, ctx, st, heard, "the send batch was held", tx)
			for range 2 {
				if err := <-sent; err != nil && !errors.Is(err, errKind) && !ding.IsKind(err, ding.Conflict) {
					t.Fatalf("send: %v", err)
				}
			}
		})
	}
}

package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// Creates from two nodes at once, some of them for a chatid another create
// takes too, some naming a user the corp does not have: each chatid is
// created once, the others are refused alone,
// and the corp's events are numbered 1…n with exactly the created groups'
// events, each create learning its events' numbers.
func TestCreatesFromTwoNodes(t *testing.T) {
	a, b := twoNodes(t)
	const creates = 60
	type outcome struct {
		chat   string
		err    error
		events []ding.Event
	}
	out := make(chan outcome, creates)
	var wg sync.WaitGroup
	for i := 0; i < creates; i++ {
		node := a
		if i%2 == 1 {
			node = b
		}
		chat := fmt.Sprintf("chatcreate%03d", i)
		if i%10 == 9 {
			chat = fmt.Sprintf("chatcreate%03d", i-1) // the same chatid as its neighbour, from the other node
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &ding.Group{ChatID: chat, OpenConversationID: fmt.Sprintf("cidcreate%03d", i), CorpID: dingtest.CorpID, Name: "批量",
				Owner: "manager4220", OwnerType: ding.MemberEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
				CreatorApp: dingtest.AppKey, CreatedAt: at0, UpdatedAt: at0}
			ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: at0},
				{ID: "zhangsan", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: at0}}
			if i%10 == 4 {
				ms = append(ms, ms[1]) // a member listed twice: refused alone
			}
			if i%10 == 6 {
				ms = append(ms, ding.Member{ID: "ghost", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: at0}) // refused alone
			}
			evs := []ding.Event{
				{CorpID: g.CorpID, Type: ding.EventChatCreate, ChatID: chat, OpenConversationID: g.OpenConversationID, Data: []byte(`{}`), CreatedAt: at0},
				{CorpID: g.CorpID, Type: ding.EventChatAddMember, ChatID: chat, OpenConversationID: g.OpenConversationID, Data: []byte(`{}`), CreatedAt: at0},
			}
			err := node.CreateGroup(context.Background(), g, ms, evs)
			if err == nil && g.MemberCount != len(ms) {
				err = fmt.Errorf("member count %d, want %d", g.MemberCount, len(ms))
			}
			out <- outcome{chat, err, evs}
		}()
	}
	wg.Wait()
	close(out)
	created := map[string]bool{}
	seqs := map[int64]string{}
	for o := range out {
		if o.err != nil {
			unknown := o.chat[len(o.chat)-1] == '6'
			if unknown && ding.ErrorReason(o.err) != ding.ReasonUnknownUser || !unknown && !ding.IsKind(o.err, ding.Conflict) {
				t.Fatalf("%s: %v, want success, Conflict, or an unknown user for a chat ending in 6", o.chat, o.err)
			}
			if unknown && o.err.Error() != "invalid/unknown_user: userid ghost is not in the corp" {
				t.Fatalf("%s: %q does not name the unknown user", o.chat, o.err)
			}
			continue
		}
		if created[o.chat] {
			t.Fatalf("%s created twice", o.chat)
		}
		created[o.chat] = true
		for _, e := range o.events {
			if prev, ok := seqs[e.Seq]; ok || e.Seq == 0 {
				t.Fatalf("event seq %d of %s, already %s's", e.Seq, o.chat, prev)
			}
			seqs[e.Seq] = o.chat
		}
	}
	// 60 creates: 6 lose the race for a chatid, 6 list a member twice, 6 an unknown user
	if want := creates - 6 - 6 - 6; len(created) != want {
		t.Fatalf("%d groups created, want %d", len(created), want)
	}
	evs, err := a.Events(context.Background(), dingtest.CorpID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2*len(created) {
		t.Fatalf("%d events stored, want %d", len(evs), 2*len(created))
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: a gap", i, e.Seq)
		}
		if seqs[e.Seq] != e.ChatID {
			t.Fatalf("event %d is %s's in the store, %s was told so", e.Seq, e.ChatID, seqs[e.Seq])
		}
		if _, err := a.Group(context.Background(), dingtest.CorpID, e.ChatID); err != nil {
			t.Fatalf("group %s of event %d: %v", e.ChatID, e.Seq, err)
		}
	}
}

// A create's statements, alone or in a batch, run with generic plans (the
// foreign-key checks of its member rows are then not planned anew for each
// row), and the setting ends with the create's transaction: a trigger on
// chat_members notes the plan_cache_mode of every insert, and the pool's
// connections still plan custom afterwards.
func TestCreatesPlanGeneric(t *testing.T) {
	ctx := context.Background()
	st, pool := openWithPool(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE plan_modes (mode TEXT NOT NULL);
		CREATE FUNCTION plan_mode_note() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO plan_modes VALUES (current_setting('plan_cache_mode'));
			RETURN NULL;
		END $$;
		CREATE TRIGGER plan_mode_note AFTER INSERT ON chat_members FOR EACH STATEMENT EXECUTE FUNCTION plan_mode_note()`); err != nil {
		t.Fatal(err)
	}
	create := func(i int) error {
		chat := fmt.Sprintf("chatplan%03d", i)
		g := &ding.Group{ChatID: chat, OpenConversationID: "cid" + chat, CorpID: dingtest.CorpID, Name: "计划",
			Owner: "manager4220", OwnerType: ding.MemberEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
			CreatorApp: dingtest.AppKey, CreatedAt: at0, UpdatedAt: at0}
		ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: at0},
			{ID: "zhangsan", Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: at0}}
		evs := []ding.Event{{CorpID: g.CorpID, Type: ding.EventChatCreate, ChatID: chat, OpenConversationID: g.OpenConversationID, Data: []byte(`{}`), CreatedAt: at0}}
		return st.CreateGroup(ctx, g, ms, evs)
	}
	if err := create(0); err != nil { // alone
		t.Fatalf("create alone: %v", err)
	}
	errs := make(chan error, 40)
	var wg sync.WaitGroup
	for i := 1; i <= 40; i++ { // together: most travel in batches
		wg.Add(1)
		go func() { defer wg.Done(); errs <- create(i) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("create in a batch: %v", err)
		}
	}
	rows, err := pool.Query(ctx, `SELECT mode, count(*) FROM plan_modes GROUP BY mode`)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]int{}
	for rows.Next() {
		var mode string
		var n int
		if err := rows.Scan(&mode, &n); err != nil {
			t.Fatal(err)
		}
		modes[mode] = n
	}
	if rows.Err() != nil || len(modes) != 1 || modes["force_generic_plan"] == 0 {
		t.Fatalf("members inserted under plan_cache_mode %v (%v); want force_generic_plan only", modes, rows.Err())
	}
	for i := 0; i < 8; i++ { // every connection the pool holds
		if got, err := postgres.ShowSetting(st, "plan_cache_mode"); err != nil || got != "force_custom_plan" {
			t.Fatalf("plan_cache_mode after the creates = %q, %v; want force_custom_plan", got, err)
		}
	}
}

// A head announcement made while creates are being written rides in the
// next create batch's transaction (no commit of its own) and is heard when
// that batch commits; when the next create fails, it is sent alone.
func TestHeadsRideWithCreates(t *testing.T) {
	for _, c := range []struct {
		name string
		next string // the chatid of the create queued behind the held ones
	}{
		{"with the next batch", "chatridenext"},
		{"alone when the next create fails", "chatrideheld1"}, // taken by a held create once it commits
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st, url, heard := listenedNode(t, ctx)

			tx, waiting := holdTable(t, ctx, url) // every create waits for the table
			created := make(chan error, 3)
			create := func(chatID string) {
				g := &ding.Group{ChatID: chatID, OpenConversationID: "cid" + chatID, CorpID: dingtest.CorpID, Name: "捎带群",
					Owner: "manager4220", OwnerType: ding.MemberEmp, Status: ding.StatusNormal,
					CreatorApp: dingtest.AppKey, CreatedAt: at0, UpdatedAt: at0}
				ms := []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: at0}}
				created <- st.CreateGroup(context.Background(), g, ms, nil)
			}
			go create("chatrideheld1")
			waitFor(t, "a writer to wait for the table", func() bool { return waiting() == 1 })
			go create("chatrideheld2")
			waitFor(t, "both writers to wait for the table", func() bool { return waiting() == 2 })
			go create(c.next)
			waitFor(t, "the next create to queue", func() bool { return postgres.QueuedCreates(st) == 1 })

			announceWhileHeld(t, ctx, st, heard, "the creates were held", tx)
			failed := 0
			for range 3 {
				if err := <-created; err != nil {
					if !ding.IsKind(err, ding.Conflict) {
						t.Fatalf("create: %v", err)
					}
					failed++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[c.next == "chatrideheld1"]; failed != want {
				t.Fatalf("%d creates failed, want %d", failed, want)
			}
		})
	}
}

// A notice that rides with creates never fails them: when PostgreSQL
// refuses it, the creates are written again without it, alone or in a
// batch, and the notice is handed back unsent.
func TestRefusedNoticeFailsNoCreate(t *testing.T) {
	st, url := oneNode(t)
	group := func(chatID string) (*ding.Group, []ding.Member) {
		return &ding.Group{ChatID: chatID, OpenConversationID: "cid" + chatID, CorpID: dingtest.CorpID, Name: "通知群",
				Owner: "manager4220", OwnerType: ding.MemberEmp, Status: ding.StatusNormal,
				CreatorApp: dingtest.AppKey, CreatedAt: at0, UpdatedAt: at0},
			[]ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: at0}}
	}
	// alone
	done := postgres.CarryBadNotice(st)
	g, ms := group("chatnoticealone")
	if err := st.CreateGroup(context.Background(), g, ms, nil); err != nil {
		t.Fatalf("a create carrying a refused notice: %v", err)
	}
	if <-done {
		t.Fatal("the refused notice was reported sent")
	}

	// in a batch: two writers held on the table, three creates queued behind them
	ctx := context.Background()
	tx, waiting := holdTable(t, ctx, url)
	created := make(chan error, 5)
	for i := range 5 {
		go func() {
			g, ms := group(fmt.Sprintf("chatnoticebatch%d", i))
			created <- st.CreateGroup(context.Background(), g, ms, nil)
		}()
		if i == 1 {
			waitFor(t, "both writers to wait for the table", func() bool { return waiting() == 2 })
		}
	}
	waitFor(t, "three creates to queue", func() bool { return postgres.QueuedCreates(st) == 3 })
	done = postgres.CarryBadNotice(st)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := <-created; err != nil {
			t.Fatalf("a create beside a refused notice: %v", err)
		}
	}
	if <-done {
		t.Fatal("the refused notice was reported sent")
	}
	for i := range 5 {
		if _, err := st.Group(ctx, dingtest.CorpID, fmt.Sprintf("chatnoticebatch%d", i)); err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
	}
}

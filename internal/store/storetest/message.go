package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

// msgGroup creates a group of corp A with manager4220, zhangsan and lisi.
func msgGroup(t *testing.T, st ding.Store, chatID string) *ding.Group {
	t.Helper()
	g := testGroup(corpA, chatID, "cid"+chatID, "消息群")
	g.ConversationTag = ding.TagInternal
	createGroup(t, st, g, []ding.Member{emp("manager4220", ding.RoleOwner, t0), emp("zhangsan", ding.RoleMember, t0+1),
		emp("lisi", ding.RoleMember, t0+2), ext("ext-a-001", ding.RoleMember, t0+3)}, nil)
	return g
}

func message(g *ding.Group, id string, at int64, body string) *ding.Message {
	return &ding.Message{ID: id, CorpID: g.CorpID, ChatID: g.ChatID, SenderType: ding.SenderApp, Sender: appA1,
		MsgType: ding.MsgText, Body: []byte(body), CreatedAt: at}
}

func appendMsg(t testing.TB, st ding.Store, m *ding.Message) {
	t.Helper()
	noErr(t, st.AppendMessage(ctx(), m, nil, nil), "AppendMessage "+m.ID)
}

// testMessageOrderConcurrent sends to two groups from many goroutines while
// updates change one of them: each group's messages are numbered 1…n in
// the order they were stored, every number once, and each send learns its
// number.
func testMessageOrderConcurrent(t *testing.T, st ding.Store) {
	seed(t, st)
	gs := []*ding.Group{msgGroup(t, st, "chatmsgconc1"), msgGroup(t, st, "chatmsgconc2")}
	const senders, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*senders*each+each)
	seqs := make([]map[string]int64, len(gs))
	var mu sync.Mutex
	for i := range seqs {
		seqs[i] = map[string]int64{}
	}
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				for gi, g := range gs {
					m := message(g, fmt.Sprintf("msg-%d-%d-%d", gi, w, k), t0+int64(k), fmt.Sprintf(`{"content":"第%d条 from %d 🎯"}`, k, w))
					checked := false
					err := st.AppendMessage(ctx(), m, nil, func(cur *ding.Group) error {
						checked = true
						if cur.ChatID != g.ChatID {
							return fmt.Errorf("check saw group %s", cur.ChatID)
						}
						return nil
					})
					if err != nil || !checked || m.Seq <= 0 {
						errs <- fmt.Errorf("AppendMessage %s: seq %d, checked %v, err %v", m.ID, m.Seq, checked, err)
						continue
					}
					mu.Lock()
					seqs[gi][m.ID] = m.Seq
					mu.Unlock()
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // meanwhile the first group keeps changing
		defer wg.Done()
		for k := 0; k < each; k++ {
			_, err := st.UpdateGroup(ctx(), corpA, gs[0].ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
				ng := s.Group
				ng.UpdatedAt++
				return &ding.GroupChange{Group: ng}, nil
			})
			if err != nil {
				errs <- fmt.Errorf("UpdateGroup: %v", err)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	for gi, g := range gs {
		ms, err := st.Messages(ctx(), g.ChatID, ding.MessageQuery{Limit: 10 * senders * each})
		noErr(t, err, "Messages")
		if got, want := len(ms), senders*each; got != want {
			t.Fatalf("group %d holds %d messages, want %d", gi, got, want)
		}
		for i, m := range ms {
			if got, want := m.Seq, int64(i+1); got != want {
				t.Fatalf("group %d message %d has seq %d, want %d", gi, i, got, want)
			}
			if got, want := m.Seq, seqs[gi][m.ID]; got != want {
				t.Fatalf("message %s stored with seq %d, AppendMessage said %d", m.ID, got, want)
			}
		}
		last, err := st.LastSeq(ctx(), g.ChatID)
		noErr(t, err, "LastSeq")
		if got, want := last, int64(senders*each); got != want {
			t.Fatalf("LastSeq = %d, want %d", got, want)
		}
	}
}

// testMessageCheck: check sees the group as it is when the message is
// stored, and its refusal stores nothing and comes back as is.
func testMessageCheck(t *testing.T, st ding.Store) {
	seed(t, st)
	g := msgGroup(t, st, "chatmsgcheck")
	_, err := st.UpdateGroup(ctx(), corpA, g.ChatID, func(s *ding.GroupState) (*ding.GroupChange, error) {
		ng := s.Group
		ng.Status = ding.StatusDisbanded
		return &ding.GroupChange{Group: ng}, nil
	})
	noErr(t, err, "UpdateGroup(disband)")
	refused := ding.Errorf(ding.Conflict, ding.ReasonChatDisbanded, "disbanded")
	err = st.AppendMessage(ctx(), message(g, "msg-refused", t0, `{}`), nil, func(cur *ding.Group) error {
		if cur.Status == ding.StatusDisbanded {
			return refused
		}
		return nil
	})
	if !errors.Is(err, refused) {
		t.Fatalf("AppendMessage err = %v, want check's error as is", err)
	}
	_, err = st.Message(ctx(), corpA, "msg-refused")
	wantKind(t, err, ding.NotFound, "Message(refused)")
	if last, err := st.LastSeq(ctx(), g.ChatID); err != nil || last != 0 {
		t.Fatalf("LastSeq after a refusal = %d, %v; want 0", last, err)
	}

	m := message(g, "msg-nogroup", t0, `{}`)
	m.ChatID = "chatnosuchgroup"
	wantKind(t, st.AppendMessage(ctx(), m, nil, nil), ding.NotFound, "AppendMessage(unknown group)")
	m = message(g, "msg-wrongcorp", t0, `{}`)
	m.CorpID = corpB
	wantKind(t, st.AppendMessage(ctx(), m, nil, nil), ding.NotFound, "AppendMessage(group of another corp)")
}

// testMessageRoundTrip: every field survives, the body byte for byte.
func testMessageRoundTrip(t *testing.T, st ding.Store) {
	seed(t, st)
	g := msgGroup(t, st, "chatmsgtrip")
	body := `{"msgtype":"text","text":{"content":"你好，世界 👨‍👩‍👧‍👦 \u00e9"},  "extra" : [1, 2.50]}`
	m := message(g, "msg+/trip==", t0+5, body)
	m.SenderType, m.Sender, m.MsgType = ding.SenderUser, "zhangsan", ding.MsgMarkdown
	ev := ding.Event{CorpID: corpA, Type: ding.EventChatUpdateSettings, ChatID: g.ChatID, Data: []byte(`{"发送":"✓"}`), CreatedAt: t0 + 5}
	noErr(t, st.AppendMessage(ctx(), m, []ding.Event{ev}, func(*ding.Group) error { return nil }), "AppendMessage(with an event)")
	got, err := st.Message(ctx(), corpA, m.ID)
	noErr(t, err, "Message")
	want := *m
	if got.ID != want.ID || got.CorpID != want.CorpID || got.ChatID != want.ChatID || got.Seq != 1 || got.SenderType != want.SenderType ||
		got.Sender != want.Sender || got.MsgType != want.MsgType || string(got.Body) != body || got.RecalledAt != 0 || got.CreatedAt != want.CreatedAt {
		t.Fatalf("Message = %+v (body %s), want %+v (body %s)", *got, got.Body, want, body)
	}
	_, err = st.Message(ctx(), corpB, m.ID)
	wantKind(t, err, ding.NotFound, "Message(other corp)")
	evs := events(t, st, corpA)
	if len(evs) != 1 {
		t.Fatalf("events = %+v, want the one written with the message", evs)
	}
	sameEvent(t, evs[0], ev, "event")
	wantKind(t, st.AppendMessage(ctx(), message(g, m.ID, t0, `{}`), nil, nil), ding.Conflict, "AppendMessage(id taken)")
	if last, err := st.LastSeq(ctx(), g.ChatID); err != nil || last != 1 {
		t.Fatalf("LastSeq after a conflict = %d, %v; want 1", last, err)
	}
	// a page carries every field too, whatever the text holds (commas and
	// digits where a page's framing might look for them, an empty body)
	m2 := message(g, "msg,2,", t0+6, `12,{"a":"b,"}`)
	m2.SenderType, m2.Sender, m2.MsgType = "9,", "1,2,3,李", ""
	m3 := message(g, "msg-3", t0+7, ``)
	appendMsg(t, st, m2)
	appendMsg(t, st, m3)
	noErr(t, st.RecallMessage(ctx(), corpA, m2.ID, t0+8, nil), "RecallMessage")
	m2.RecalledAt = t0 + 8
	m1 := want
	m1.Seq, m2.Seq, m3.Seq = 1, 2, 3
	for _, q := range []ding.MessageQuery{{Desc: true, Limit: 5}, {Limit: 5}} {
		ms, err := st.Messages(ctx(), g.ChatID, q)
		noErr(t, err, "Messages")
		want := []*ding.Message{m3, m2, &m1}
		if !q.Desc {
			want = []*ding.Message{&m1, m2, m3}
		}
		if len(ms) != len(want) {
			t.Fatalf("Messages(%+v) = %d messages, want %d", q, len(ms), len(want))
		}
		for i, w := range want {
			g := ms[i]
			if g.ID != w.ID || g.CorpID != w.CorpID || g.ChatID != w.ChatID || g.Seq != w.Seq ||
				g.SenderType != w.SenderType || g.Sender != w.Sender || g.MsgType != w.MsgType || string(g.Body) != string(w.Body) ||
				g.RecalledAt != w.RecalledAt || g.CreatedAt != w.CreatedAt {
				t.Fatalf("Messages(%+v)[%d] = %+v (body %q), want %+v (body %q)", q, i, g, g.Body, *w, w.Body)
			}
		}
	}
}

// testMessagePaging pages a timeline both ways by cursor.
func testMessagePaging(t *testing.T, st ding.Store) {
	seed(t, st)
	g := msgGroup(t, st, "chatmsgpage")
	other := msgGroup(t, st, "chatmsgpage2")
	for i := 1; i <= 25; i++ {
		appendMsg(t, st, message(g, fmt.Sprintf("page-%02d", i), t0+int64(i), fmt.Sprintf(`{"n":%d}`, i)))
		if i%5 == 0 {
			appendMsg(t, st, message(other, fmt.Sprintf("other-%02d", i), t0, `{}`))
		}
	}
	for _, tc := range []struct {
		q    ding.MessageQuery
		want []int64
	}{
		{ding.MessageQuery{Desc: true, Limit: 3}, []int64{25, 24, 23}},
		{ding.MessageQuery{Desc: true, Before: 23, Limit: 3}, []int64{22, 21, 20}},
		{ding.MessageQuery{Desc: true, Before: 3, Limit: 5}, []int64{2, 1}},
		{ding.MessageQuery{Desc: true, Before: 1, Limit: 5}, nil},
		{ding.MessageQuery{After: 0, Limit: 3}, []int64{1, 2, 3}},
		{ding.MessageQuery{After: 22, Limit: 5}, []int64{23, 24, 25}},
		{ding.MessageQuery{After: 25, Limit: 5}, nil},
	} {
		ms, err := st.Messages(ctx(), g.ChatID, tc.q)
		noErr(t, err, "Messages")
		var got []int64
		for _, m := range ms {
			got = append(got, m.Seq)
			if want := t0 + m.Seq; m.CreatedAt != want {
				t.Fatalf("message %d CreatedAt = %d, want %d", m.Seq, m.CreatedAt, want)
			}
			if m.ChatID != g.ChatID {
				t.Fatalf("Messages(%s) returned a message of %s", g.ChatID, m.ChatID)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Fatalf("Messages(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if last, err := st.LastSeq(ctx(), other.ChatID); err != nil || last != 5 {
		t.Fatalf("LastSeq(other) = %d, %v; want 5", last, err)
	}
	if last, err := st.LastSeq(ctx(), "chatnosuchgroup"); err != nil || last != 0 {
		t.Fatalf("LastSeq(unknown) = %d, %v; want 0", last, err)
	}
}

// testRecall: a message is recalled once.
func testRecall(t *testing.T, st ding.Store) {
	seed(t, st)
	g := msgGroup(t, st, "chatrecall")
	m := message(g, "msg-recall", t0, `{}`)
	appendMsg(t, st, m)
	ev := groupEvent(g, ding.EventChatRecallMessage, `{"id":"msg-recall"}`, t0+9)
	noErr(t, st.RecallMessage(ctx(), corpA, m.ID, t0+9, []ding.Event{ev}), "RecallMessage")
	got, err := st.Message(ctx(), corpA, m.ID)
	noErr(t, err, "Message")
	if got.RecalledAt != t0+9 {
		t.Fatalf("RecalledAt = %d, want %d", got.RecalledAt, t0+9)
	}
	wantKind(t, st.RecallMessage(ctx(), corpA, m.ID, t0+10, []ding.Event{ev}), ding.Conflict, "RecallMessage(twice)")
	wantKind(t, st.RecallMessage(ctx(), corpB, m.ID, t0+10, nil), ding.NotFound, "RecallMessage(other corp)")
	wantKind(t, st.RecallMessage(ctx(), corpA, "msg-nosuch", t0+10, nil), ding.NotFound, "RecallMessage(unknown)")
	if evs := events(t, st, corpA); len(evs) != 1 {
		t.Fatalf("events = %d, want the one recall", len(evs))
	}
}

// testReadMarks: marks only rise and never pass the newest message; readers
// page in member order.
func testReadMarks(t *testing.T, st ding.Store) {
	seed(t, st)
	g := msgGroup(t, st, "chatreadmarks")
	for i := 1; i <= 5; i++ {
		appendMsg(t, st, message(g, fmt.Sprintf("read-%d", i), t0, `{}`))
	}
	if mark, err := st.ReadMark(ctx(), g.ChatID, "zhangsan"); err != nil || mark != 0 {
		t.Fatalf("ReadMark(none) = %d, %v; want 0", mark, err)
	}
	for _, tc := range []struct {
		user      string
		seq, want int64
	}{
		{"zhangsan", 3, 3}, {"zhangsan", 2, 3}, {"zhangsan", 99, 5}, {"lisi", 4, 4}, {"manager4220", 5, 5},
	} {
		mark, err := st.MarkRead(ctx(), g.ChatID, tc.user, tc.seq)
		noErr(t, err, "MarkRead")
		if mark != tc.want {
			t.Fatalf("MarkRead(%s, %d) = %d, want %d", tc.user, tc.seq, mark, tc.want)
		}
		if got, err := st.ReadMark(ctx(), g.ChatID, tc.user); err != nil || got != tc.want {
			t.Fatalf("ReadMark(%s) = %d, %v; want %d", tc.user, got, err, tc.want)
		}
	}
	// staff in member order: manager4220 (pos 0), zhangsan (1), lisi (2)
	ids, next, err := st.Readers(ctx(), g.ChatID, 4, "", 0, 10)
	noErr(t, err, "Readers")
	if fmt.Sprint(ids) != "[manager4220 zhangsan lisi]" || next != 0 {
		t.Fatalf("Readers(4) = %v next %d, want [manager4220 zhangsan lisi] next 0", ids, next)
	}
	ids, next, err = st.Readers(ctx(), g.ChatID, 5, "manager4220", 0, 10)
	noErr(t, err, "Readers")
	if fmt.Sprint(ids) != "[zhangsan]" || next != 0 {
		t.Fatalf("Readers(5, except manager4220) = %v next %d, want [zhangsan] next 0", ids, next)
	}
	ids, next, err = st.Readers(ctx(), g.ChatID, 1, "", 0, 2)
	noErr(t, err, "Readers")
	if fmt.Sprint(ids) != "[manager4220 zhangsan]" || next == 0 {
		t.Fatalf("Readers(page 1) = %v next %d, want [manager4220 zhangsan] and a cursor", ids, next)
	}
	ids, next, err = st.Readers(ctx(), g.ChatID, 1, "", next, 2)
	noErr(t, err, "Readers")
	if fmt.Sprint(ids) != "[lisi]" || next != 0 {
		t.Fatalf("Readers(page 2) = %v next %d, want [lisi] next 0", ids, next)
	}
	ids, _, err = st.Readers(ctx(), g.ChatID, 6, "", 0, 10)
	if err != nil || ids == nil || len(ids) != 0 {
		t.Fatalf("Readers(none) = %#v, %v; want an empty list", ids, err)
	}
}

// testMembersAndGroupsOf: one member by kind and id; a user's groups, newest first.
func testMembersAndGroupsOf(t *testing.T, st ding.Store) {
	seed(t, st)
	g1 := msgGroup(t, st, "chatgroupsof1")
	g2 := testGroup(corpA, "chatgroupsof2", "cidgroupsof2", "后建的群")
	g2.CreatedAt = g1.CreatedAt + 1000
	createGroup(t, st, g2, []ding.Member{emp("zhangsan", ding.RoleOwner, t0), emp("wangwu", ding.RoleMember, t0)}, nil)
	gb := testGroup(corpB, "chatgroupsofb", "cidgroupsofb", "他司群")
	createGroup(t, st, gb, []ding.Member{emp("manager4220", ding.RoleOwner, t0)}, nil) // a userid of both corps

	m, err := st.Member(ctx(), g1.ChatID, ding.MemberEmp, "zhangsan")
	noErr(t, err, "Member")
	if want := emp("zhangsan", ding.RoleMember, t0+1); *m != want {
		t.Fatalf("Member = %+v, want %+v", *m, want)
	}
	_, err = st.Member(ctx(), g1.ChatID, ding.MemberExt, "zhangsan")
	wantKind(t, err, ding.NotFound, "Member(wrong kind)")
	_, err = st.Member(ctx(), g1.ChatID, ding.MemberEmp, "wangwu")
	wantKind(t, err, ding.NotFound, "Member(not in the group)")

	gs, err := st.GroupsOf(ctx(), corpA, "zhangsan")
	noErr(t, err, "GroupsOf")
	if len(gs) != 2 || gs[0].ChatID != g2.ChatID || gs[1].ChatID != g1.ChatID {
		t.Fatalf("GroupsOf(zhangsan) = %d groups, want %s then %s", len(gs), g2.ChatID, g1.ChatID)
	}
	if gs[1].MemberCount != 4 || gs[1].Name != g1.Name {
		t.Fatalf("GroupsOf[1] = %+v, want the whole group row", gs[1])
	}
	gs, err = st.GroupsOf(ctx(), corpA, "manager4220")
	noErr(t, err, "GroupsOf(manager4220)")
	for _, g := range gs {
		if g.ChatID == gb.ChatID {
			t.Fatalf("GroupsOf(corp A, manager4220) holds corp B's group")
		}
	}
	gs, err = st.GroupsOf(ctx(), corpA, "nobody")
	noErr(t, err, "GroupsOf(nobody)")
	if len(gs) != 0 {
		t.Fatalf("GroupsOf(nobody) = %d groups, want none", len(gs))
	}
}

// testLastSeqsAndCorpGroups: many groups' newest Seq in one read, groups
// without messages left out; a member's groups with heads and read marks;
// a corp's groups newest first, bounded.
func testLastSeqsAndCorpGroups(t *testing.T, st ding.Store) {
	seed(t, st)
	g1 := msgGroup(t, st, "chatlastseqs1")
	g2 := testGroup(corpA, "chatlastseqs2", "cidlastseqs2", "空群")
	g2.CreatedAt = g1.CreatedAt + 1000
	createGroup(t, st, g2, []ding.Member{emp("zhangsan", ding.RoleOwner, t0)}, nil)
	gb := testGroup(corpB, "chatlastseqsb", "cidlastseqsb", "他司群")
	createGroup(t, st, gb, []ding.Member{emp("manager4220", ding.RoleOwner, t0)}, nil)
	for i := range 3 {
		appendMsg(t, st, message(g1, fmt.Sprintf("msglastseqs%d", i), t0+int64(i), `{"content":"x"}`))
	}
	got, err := st.LastSeqs(ctx(), []string{g1.ChatID, g2.ChatID, "chatnosuch"})
	noErr(t, err, "LastSeqs")
	if len(got) != 1 || got[g1.ChatID] != 3 {
		t.Fatalf("LastSeqs = %v, want only %s at 3", got, g1.ChatID)
	}
	got, err = st.LastSeqs(ctx(), nil)
	noErr(t, err, "LastSeqs(none)")
	if len(got) != 0 {
		t.Fatalf("LastSeqs(none) = %v", got)
	}
	_, err = st.MarkRead(ctx(), g1.ChatID, "zhangsan", 2)
	noErr(t, err, "MarkRead")
	marks, err := st.ReadMarks(ctx(), "zhangsan", []string{g1.ChatID, g2.ChatID, "chatnosuch"})
	noErr(t, err, "ReadMarks")
	if len(marks) != 1 || marks[g1.ChatID] != 2 {
		t.Fatalf("ReadMarks = %v, want only %s at 2", marks, g1.ChatID)
	}
	if marks, err = st.ReadMarks(ctx(), "lisi", []string{g1.ChatID}); err != nil || len(marks) != 0 {
		t.Fatalf("ReadMarks(lisi) = %v, %v; want none", marks, err)
	}
	heads, err := st.MemberHeads(ctx(), corpA, "zhangsan")
	noErr(t, err, "MemberHeads")
	if want := []ding.GroupHead{{ChatID: g2.ChatID}, {ChatID: g1.ChatID, LastSeq: 3, ReadSeq: 2}}; !slices.Equal(heads, want) {
		t.Fatalf("MemberHeads = %+v, want %+v (the other corp's group left out)", heads, want)
	}
	if heads, err = st.MemberHeads(ctx(), corpA, "nobody"); err != nil || len(heads) != 0 {
		t.Fatalf("MemberHeads(nobody) = %v, %v; want none", heads, err)
	}
	gs, err := st.CorpGroups(ctx(), corpA, ding.GroupPage{Limit: 10})
	noErr(t, err, "CorpGroups")
	if len(gs) != 2 || gs[0].ChatID != g2.ChatID || gs[1].ChatID != g1.ChatID || gs[1].Name != g1.Name {
		t.Fatalf("CorpGroups = %+v, want %s then %s", gs, g2.ChatID, g1.ChatID)
	}
	gs, err = st.CorpGroups(ctx(), corpA, ding.GroupPage{Limit: 1})
	noErr(t, err, "CorpGroups(1)")
	if len(gs) != 1 || gs[0].ChatID != g2.ChatID {
		t.Fatalf("CorpGroups(limit 1) = %+v", gs)
	}
}

// testGroupPages: walking a listing page by page, with groups created in
// the same millisecond across page boundaries, visits each group once in
// the order of the whole list; a search narrows by name (ASCII case
// ignored) or chatid and pages alike.
func testGroupPages(t *testing.T, st ding.Store) {
	seed(t, st)
	var want []string
	for i := range 7 {
		g := testGroup(corpA, fmt.Sprintf("chatpage%d", i), fmt.Sprintf("cidpage%d", i), fmt.Sprintf("Team 群 %d", i))
		if i%2 == 1 {
			g.Name = fmt.Sprintf("other %d", i)
		}
		g.CreatedAt = t0 + int64(i/3) // three share each millisecond
		createGroup(t, st, g, []ding.Member{emp("zhangsan", ding.RoleOwner, t0), emp("lisi", ding.RoleMember, t0)}, nil)
	}
	gb := testGroup(corpB, "chatpageb", "cidpageb", "Team 他司")
	createGroup(t, st, gb, []ding.Member{emp("manager4220", ding.RoleOwner, t0)}, nil)
	all, err := st.GroupsOf(ctx(), corpA, "zhangsan")
	noErr(t, err, "GroupsOf")
	for _, g := range all {
		want = append(want, g.ChatID)
	}
	if len(want) != 7 {
		t.Fatalf("GroupsOf = %v, want the 7 groups", want)
	}
	walk := func(what string, page func(ding.GroupPage) ([]ding.Group, error), search string) []string {
		t.Helper()
		var got []string
		p := ding.GroupPage{Limit: 3, Search: search}
		for range 10 {
			gs, err := page(p)
			noErr(t, err, what)
			for _, g := range gs {
				got = append(got, g.ChatID)
			}
			if len(gs) < p.Limit {
				return got
			}
			last := gs[len(gs)-1]
			p.After = ding.GroupCursor{CreatedAt: last.CreatedAt, ChatID: last.ChatID}
		}
		t.Fatalf("%s: pages never end: %v", what, got)
		return nil
	}
	corp := func(p ding.GroupPage) ([]ding.Group, error) { return st.CorpGroups(ctx(), corpA, p) }
	member := func(p ding.GroupPage) ([]ding.Group, error) { return st.GroupsOfPage(ctx(), corpA, "zhangsan", p) }
	for what, page := range map[string]func(ding.GroupPage) ([]ding.Group, error){"CorpGroups": corp, "GroupsOfPage": member} {
		if got := walk(what, page, ""); !slices.Equal(got, want) {
			t.Fatalf("%s in pages of 3 = %v, want %v", what, got, want)
		}
		var teams []string
		for _, id := range want {
			if id[len(id)-1]%2 == 0 { // chatpage0, 2, 4, 6 are "Team …"
				teams = append(teams, id)
			}
		}
		if got := walk(what, page, "team"); !slices.Equal(got, teams) {
			t.Fatalf("%s searching \"team\" = %v, want %v", what, got, teams)
		}
		if got := walk(what, page, "chatpage5"); !slices.Equal(got, []string{"chatpage5"}) {
			t.Fatalf("%s searching a chatid = %v", what, got)
		}
		if got := walk(what, page, "群 4"); !slices.Equal(got, []string{"chatpage4"}) {
			t.Fatalf("%s searching Chinese = %v", what, got)
		}
	}
	gs, err := st.GroupsOfPage(ctx(), corpA, "nobody", ding.GroupPage{Limit: 3})
	noErr(t, err, "GroupsOfPage(nobody)")
	if len(gs) != 0 {
		t.Fatalf("GroupsOfPage(nobody) = %d groups", len(gs))
	}
}

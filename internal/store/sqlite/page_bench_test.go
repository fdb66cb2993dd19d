package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
)

// BenchmarkMessagesPage reads the newest 20 messages of a group, as the
// member history page does (20 and one more, to learn whether more lie beyond).
func BenchmarkMessagesPage(b *testing.B) {
	st := dingtest.OpenSQLite(b)
	dingtest.Seed(b, st)
	ctx := context.Background()
	g := &ding.Group{ChatID: "chatpage", OpenConversationID: "cidpage", CorpID: dingtest.CorpID, Name: "page",
		Owner: "manager4220", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatorApp: dingtest.AppKey, CreatedAt: 1, UpdatedAt: 1}
	if err := st.CreateGroup(ctx, g, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: 1}}, nil); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		m := &ding.Message{ID: fmt.Sprintf("msgAaI+V4fHPz+Sz%04d", i), CorpID: g.CorpID, ChatID: g.ChatID, SenderType: ding.SenderApp,
			Sender: dingtest.AppKey, MsgType: ding.MsgText, Body: []byte(fmt.Sprintf(`{"msgtype":"text","text":{"content":"hello %d"}}`, i)), CreatedAt: 1796342253511 + int64(i)}
		if err := st.AppendMessage(ctx, m, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ms, err := st.Messages(ctx, g.ChatID, ding.MessageQuery{Desc: true, Limit: 21})
		if err != nil || len(ms) != 21 {
			b.Fatal(len(ms), err)
		}
	}
}

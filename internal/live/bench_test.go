package live_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// BenchmarkFanout: one message to a group whose members all have a client
// open, until every client has it (no sockets: the hub's own cost).
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprint(n, "clients"), func(b *testing.B) {
			st := servertest.OpenStore(b)
			hub := live.New(st, live.Config{})
			obs := live.Observe(st, hub)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go hub.Run(ctx)
			g := &ding.Group{ChatID: "chatfanbench", OpenConversationID: "cidfanbench", CorpID: dingtest.CorpID, Name: "fan",
				Owner: "manager4220", OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal}
			if err := st.CreateGroup(ctx, g, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner}}, nil); err != nil {
				b.Fatal(err)
			}
			var got sync.WaitGroup
			for range n {
				c, _, err := hub.Watch(ctx, dingtest.CorpID, []string{g.ChatID}, live.Resume{})
				if err != nil {
					b.Fatal(err)
				}
				go func() {
					for {
						fs, err := c.Next(ctx)
						if err != nil {
							return
						}
						for range fs {
							got.Done()
						}
					}
				}()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got.Add(n)
				m := &ding.Message{ID: fmt.Sprint("m", i), CorpID: g.CorpID, ChatID: g.ChatID, SenderType: ding.SenderApp, Sender: "app",
					MsgType: ding.MsgText, Body: []byte(`{"msgtype":"text","text":{"content":"x"}}`)}
				if err := obs.AppendMessage(ctx, m, nil, nil); err != nil {
					b.Fatal(err)
				}
				got.Wait()
			}
		})
	}
}

package server_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/dingchat/dingchat/internal/server/servertest"
)

// TestNoOpUpdatesChangeNothing: an update that asks for what the group
// already is succeeds, records no event and leaves chat/get as it was. The
// group is owned by lisi, outside the narrow app's visibility, so a stored
// owner type that went astray would also show in convertToOpenConversationId.
func TestNoOpUpdatesChangeNothing(t *testing.T) {
	for _, c := range []struct{ name, fields string }{
		{"empty ownerType", `"ownerType":""`},
		{"same owner", `"owner":"lisi"`},
		{"same owner and ownerType", `"owner":"lisi","ownerType":"emp"`},
		{"same name", `"name":"李四群"`},
		{"existing member added", `"add_useridlist":["zhangsan"]`},
		{"non-member removed", `"del_useridlist":["wangwu"]`},
		{"empty lists", `"add_useridlist":[],"del_useridlist":[],"add_extidlist":[],"del_extidlist":[]`},
		{"options as they are", `"searchable":0,"chatBannedType":0`},
		{"Java SDK blanks", `"name":null,"showHistoryType":"","isBan":""`},
	} {
		for _, surface := range []string{"legacy", "v1.0"} {
			t.Run(surface+"/"+c.name, func(t *testing.T) {
				e := servertest.New(t)
				g := e.Group("李四群", "lisi", "zhangsan")
				before, events := e.ChatGet(g.ChatID), e.Events()
				body := `{"chatid":"` + g.ChatID + `",` + c.fields + `}`
				var r *servertest.Response
				if surface == "legacy" {
					r = e.Post("/chat/update?access_token={{token}}", body)
					legacyOK(t, r)
				} else {
					r = e.PostV1("/v1.0/im/group/update", "{{token}}", body)
					v1OK(t, r)
				}
				if n := e.Events(); n != events {
					t.Errorf("a no-op update recorded %d events", n-events)
				}
				if after := e.ChatGet(g.ChatID); !bytes.Equal(before.Body, after.Body) {
					t.Errorf("chat/get changed\nbefore: %s\nafter:  %s", before.Body, after.Body)
				}
				conv := e.PostV1("/v1.0/im/chat/"+g.ChatID+"/convertToOpenConversationId", "{{narrow_token}}", "")
				if conv.Status != http.StatusBadRequest || conv.JSON(t)["message"] != "群主不在应用可见性内" {
					t.Errorf("narrow app converting lisi's group: %d %s", conv.Status, conv.Body)
				}
			})
		}
	}
}

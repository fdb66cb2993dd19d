package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// TestConcurrentAddsKeepTheCap races updates that each fit under the member
// cap alone but not together: exactly one may win, through either surface.
func TestConcurrentAddsKeepTheCap(t *testing.T) {
	e := servertest.New(t)
	g := e.Group("抢位群")
	e.Fill(g.ChatID, 970) // user0001..user0967 and the three named members
	tok := e.Expand("{{token}}")
	const callers = 4 // each adds 30 fresh users: enough alone, too many together
	results := make([]*servertest.Response, callers)
	var wg sync.WaitGroup
	for i := range callers {
		ids := make([]string, 30)
		for j := range ids {
			ids[j] = `"` + dingtest.UserID(968+i*30+j) + `"`
		}
		list := "[" + strings.Join(ids, ",") + "]"
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"chatid":%q,"add_useridlist":%s}`, g.ChatID, list)
			if i%2 == 0 {
				results[i] = e.Post("/chat/update?access_token="+tok, body)
			} else {
				results[i] = e.PostV1("/v1.0/im/group/update", tok, body)
			}
		}()
	}
	wg.Wait()
	won := 0
	for i, r := range results {
		m := r.JSON(t)
		switch {
		case r.Status == 200 && (jsonNumber(m["errcode"]) == "0" || m["success"] == true):
			won++
		case i%2 == 0 && jsonNumber(m["errcode"]) == "49005":
		case i%2 == 1 && r.Status == 400 && m["code"] == "parameter.invalid":
		default:
			t.Errorf("caller %d: %d %s", i, r.Status, r.Body)
		}
	}
	if won != 1 {
		t.Errorf("%d updates won, want exactly 1", won)
	}
	if n := len(strs(chatGet(t, e, g.ChatID)["useridlist"])); n != ding.MaxMembers {
		t.Errorf("group has %d members, want %d", n, ding.MaxMembers)
	}
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

package oapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// chat/get's answer is written without reflection; it must be the bytes
// encoding/json writes for the same struct, nil lists (null) and empty
// ones ([]) kept apart.
func TestGetResponseJSONMatchesEncodingJSON(t *testing.T) {
	texts := []string{"", "研发群", `a"b\c`, "<b>&amp;</b>", "tab\there", "\xff", "sep\u2028", "😀"}
	lists := [][]string{nil, {}, {"zhangsan"}, {"u1", "", `q"uote`, "李四"}}
	pick := func(r *rand.Rand) string { return texts[r.IntN(len(texts))] }
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		g := getResponse{ok: ok{Errcode: r.IntN(3) - 1, Errmsg: pick(r)}, ChatInfo: chatInfo{
			Name: pick(r), Owner: pick(r), UserIDList: lists[r.IntN(len(lists))], AgentIDList: lists[r.IntN(len(lists))],
			ExtIDList: lists[r.IntN(len(lists))], ConversationTag: r.IntN(3), ChatBannedType: r.IntN(2), Searchable: r.IntN(2),
			ValidationType: r.IntN(2), MentionAllAuthority: r.IntN(2), ManagementType: r.IntN(2), ShowHistoryType: r.IntN(2),
			Icon: pick(r), Status: r.IntN(3) - 1, ChatID: pick(r),
		}}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(g); err != nil {
			t.Fatal(err)
		}
		got, err := g.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if w := bytes.TrimRight(want.Bytes(), "\n"); !bytes.Equal(got, w) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, w)
		}
	}
}

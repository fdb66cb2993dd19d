package dingchatapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

type listedGroup struct {
	ChatID  string `json:"chatid"`
	Name    string `json:"name"`
	LastSeq int64  `json:"lastSeq"`
	Unread  int64  `json:"unread"`
}

type groupListPage struct {
	Groups     []listedGroup `json:"groups"`
	NextCursor string        `json:"nextCursor"`
}

// TestGroupListPages walks the operator's and the member's group listings
// by nextCursor: groups created in the same millisecond are each listed
// once, in the order of the whole list; a search narrows the walk; a
// cursor that no listing gave and a limit out of range are refused.
func TestGroupListPages(t *testing.T) {
	t.Parallel()
	e := servertest.New(t)
	withAdmin(e)
	var names []string
	for i := range 7 {
		name := fmt.Sprintf("Weekly 周报 %d", i)
		if i%3 == 0 {
			name = fmt.Sprintf("闲聊 %d", i)
		}
		names = append(names, name)
		e.Group(name) // the clock stands still: one millisecond for all
	}
	texts(2)(e) // into the newest group
	as("zhangsan")(e)
	do := func(header map[string]string, path string) *servertest.Response {
		return e.Do(servertest.Request{Method: get, Path: path, Header: header})
	}
	walk := func(header map[string]string, path string, limit int) []string {
		t.Helper()
		var got []string
		cursor := ""
		for range 10 {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			r := do(header, fmt.Sprintf("%s%slimit=%d&cursor=%s", path, sep, limit, cursor))
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", path, r.Status, r.Body)
			}
			var p groupListPage
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			for _, g := range p.Groups {
				got = append(got, g.Name)
			}
			if p.NextCursor == "" {
				return got
			}
			if len(p.Groups) != limit {
				t.Fatalf("%s: a page of %d with a next cursor, want %d", path, len(p.Groups), limit)
			}
			cursor = p.NextCursor
		}
		t.Fatalf("%s: pages never end: %v", path, got)
		return nil
	}
	admin := "/_dingchat/admin/corps/" + dingtest.CorpID + "/groups"
	member := "/_dingchat/member/groups"
	var all groupListPage
	if r := do(bearer, member); r.Status != http.StatusOK || json.Unmarshal(r.Body, &all) != nil || len(all.Groups) != 7 || all.NextCursor != "" {
		t.Fatalf("member groups without a page: %d %s, want all 7 and no cursor", r.Status, r.Body)
	}
	if i := slices.IndexFunc(all.Groups, func(g listedGroup) bool { return g.Name == names[6] }); i < 0 || all.Groups[i].LastSeq != 2 || all.Groups[i].Unread != 2 {
		t.Fatalf("member groups = %+v, want %s with lastSeq 2 and 2 unread", all.Groups, names[6])
	}
	var want []string
	for _, g := range all.Groups {
		want = append(want, g.Name)
	}
	for _, c := range []struct {
		header map[string]string
		path   string
	}{{adminBearer, admin}, {bearer, member}} {
		for _, limit := range []int{1, 3, 7, 100} {
			if got := walk(c.header, c.path, limit); !slices.Equal(got, want) {
				t.Errorf("%s in pages of %d = %v, want %v", c.path, limit, got, want)
			}
		}
		var weekly []string
		for _, n := range want {
			if n[0] == 'W' {
				weekly = append(weekly, n)
			}
		}
		for _, q := range []string{"weekly", "WEEK", "%E5%91%A8%E6%8A%A5"} { // 周报
			if got := walk(c.header, c.path+"?q="+q, 2); !slices.Equal(got, weekly) {
				t.Errorf("%s searching %s = %v, want %v", c.path, q, got, weekly)
			}
		}
		for _, bad := range []struct{ query, reason string }{
			{"cursor=nonsense", "bad_cursor"}, {"cursor=12.", "bad_cursor"}, {"cursor=x.chat1", "bad_cursor"},
			{"limit=0&cursor=", ""}, {"limit=-1", "bad_size"}, {"limit=5001", "bad_size"}, {"limit=ten", "bad_size"},
		} {
			r := do(c.header, c.path+"?"+bad.query)
			if bad.reason == "" {
				if r.Status != http.StatusOK {
					t.Errorf("%s?%s: %d %s, want the default page", c.path, bad.query, r.Status, r.Body)
				}
				continue
			}
			if r.Status != http.StatusBadRequest || r.Header.Get("X-DingChat-Reason") == "" || !strings.HasPrefix(r.Header.Get("X-DingChat-Reason"), bad.reason) {
				t.Errorf("%s?%s: %d %q, want 400 %s", c.path, bad.query, r.Status, r.Header.Get("X-DingChat-Reason"), bad.reason)
			}
		}
	}
	if r := do(adminBearer, "/_dingchat/admin/corps/dingnosuchcorp/groups"); r.Status != http.StatusNotFound {
		t.Errorf("unknown corp: %d, want 404", r.Status)
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
)

// bigOrgYAML is the fixed corp with n more users u0001…: enough to push a
// group past its cap.
func bigOrgYAML(n int) string {
	var b strings.Builder
	b.WriteString(orgYAML)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "      - userid: %s\n        name: 用户%04d\n", bigUser(i), i)
	}
	return b.String()
}

func bigUser(i int) string { return fmt.Sprintf("u%04d", i) }

func bigUsers(from, to int) []string {
	var ids []string
	for i := from; i <= to; i++ {
		ids = append(ids, bigUser(i))
	}
	return ids
}

// TestTwoNodesOneDatabase starts two dingchat processes on one PostgreSQL
// schema at the same moment and sends them alternately concurrent creates,
// member updates, owner changes and messages. Whatever interleaving the
// database sees, no group exceeds 1000 members, the owner stays a member,
// message numbers are gap-free and unique, a token from one node works on the
// other, and the event log holds exactly one entry per change.
func TestTwoNodesOneDatabase(t *testing.T) {
	needBinary(t)
	db := dingtest.ClaimSchema(t, 8)
	t.Parallel()
	dir := t.TempDir()
	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte(bigOrgYAML(1100)), 0o600); err != nil {
		t.Fatal(err)
	}
	// both at once: migrations and the organisation are applied concurrently
	nodes := startNodes(t, 2, dir, org, db)
	node := func(i int) string { return nodes[i%2].Base }

	// tokens: asked of both nodes at once, one token comes back
	tokens := make([]string, 8)
	parallel(t, len(tokens), func(i int) error {
		var tok tokenBody
		if err := call(http.MethodGet, node(i)+"/gettoken?"+url.Values{"appkey": {appKey}, "appsecret": {appSecret}}.Encode(), nil, &tok); err != nil {
			return err
		}
		if tok.Errcode != 0 {
			return fmt.Errorf("gettoken: errcode %d %s", tok.Errcode, tok.Errmsg)
		}
		tokens[i] = tok.AccessToken
		return nil
	})
	for i, tok := range tokens {
		if tok != tokens[0] {
			t.Fatalf("node %d issued token %q, node 0 %q: want one live token per app", i%2, tok, tokens[0])
		}
	}
	q := "?access_token=" + url.QueryEscape(tokens[0]) // used on both nodes from here on

	// the group everything happens to: owner manager4220 and u0001…u0039
	var created createBody
	if err := call(http.MethodPost, node(1)+"/chat/create"+q, map[string]any{"name": "双节点群", "owner": "manager4220",
		"useridlist": append([]string{"manager4220"}, bigUsers(1, 39)...)}, &created); err != nil || created.Errcode != 0 {
		t.Fatalf("chat/create: %v %+v", err, created)
	}
	chatID := created.ChatID

	// the concurrent work, each request to alternating nodes
	const creates, sends = 20, 200
	type job struct {
		kind string
		body map[string]any
	}
	var jobs []job
	for i := 0; i < creates; i++ {
		jobs = append(jobs, job{"create", map[string]any{"name": fmt.Sprintf("并发群%02d", i), "owner": "manager4220",
			"useridlist": []string{"manager4220", bigUser(1000 + i), bigUser(1050 + i)}}})
	}
	for i := 0; i < 26; i++ { // 26 disjoint batches of 40: 1040 more, so some must be refused
		jobs = append(jobs, job{"add", map[string]any{"chatid": chatID, "add_useridlist": bigUsers(41+40*i, 80+40*i)}})
	}
	// removes and owner changes name each member once, but overlap: a member
	// may be removed before the group is handed to it (refused: the owner
	// must be a member), or while it owns the group (refused likewise)
	for i := 10; i <= 39; i++ {
		jobs = append(jobs, job{"remove", map[string]any{"chatid": chatID, "del_useridlist": []string{bigUser(i)}}})
	}
	for i := 1; i <= 19; i++ {
		jobs = append(jobs, job{"owner", map[string]any{"chatid": chatID, "owner": bigUser(i)}})
	}
	for i := 0; i < sends; i++ {
		jobs = append(jobs, job{"send", map[string]any{"chatid": chatID, "msg": map[string]any{"msgtype": "text", "text": map[string]any{"content": fmt.Sprintf("消息%03d 🚀", i)}}}})
	}
	// interleave the kinds
	for i := range jobs {
		j := (i * 7919) % len(jobs)
		jobs[i], jobs[j] = jobs[j], jobs[i]
	}
	var ok sync.Map // kind → *atomic.Int64
	var added sync.Map
	var watching atomic.Bool
	watching.Store(true)
	watchErr := make(chan error, 1)
	go func() { // meanwhile, read the group from both nodes: never over the cap, never without its owner
		for n := 0; watching.Load(); n++ {
			var got chatGetBody
			if err := call(http.MethodGet, node(n)+"/chat/get"+q+"&chatid="+chatID, nil, &got); err != nil {
				watchErr <- err
				return
			}
			if err := groupSane(got.ChatInfo); err != nil {
				watchErr <- err
				return
			}
		}
		watchErr <- nil
	}()
	parallel(t, len(jobs), func(i int) error {
		jb := jobs[i]
		path := "/chat/update"
		switch jb.kind {
		case "create":
			path = "/chat/create"
		case "send":
			path = "/chat/send"
		}
		var res errBody
		if err := call(http.MethodPost, node(i)+path+q, jb.body, &res); err != nil {
			return err
		}
		switch {
		case res.Errcode == 0:
			c, _ := ok.LoadOrStore(jb.kind, new(atomic.Int64))
			c.(*atomic.Int64).Add(1)
			if jb.kind == "add" {
				added.Store(fmt.Sprint(jb.body["add_useridlist"]), true)
			}
		case jb.kind == "add" && res.Errcode == 49005: // the cap
		case (jb.kind == "remove" || jb.kind == "owner") && res.Errcode == 49006: // the owner must be a member
		default:
			return fmt.Errorf("%s %v: errcode %d %s", jb.kind, jb.body, res.Errcode, res.Errmsg)
		}
		return nil
	})
	watching.Store(false)
	if err := <-watchErr; err != nil {
		t.Fatalf("while updates ran: %v", err)
	}
	count := func(kind string) int64 {
		c, _ := ok.LoadOrStore(kind, new(atomic.Int64))
		return c.(*atomic.Int64).Load()
	}
	if got := count("create"); got != creates {
		t.Fatalf("%d of %d creates succeeded", got, creates)
	}
	if got := count("send"); got != sends {
		t.Fatalf("%d of %d sends succeeded", got, sends)
	}
	t.Logf("succeeded: %d creates, %d of 26 adds, %d of 30 removes, %d of 19 owner changes, %d sends",
		count("create"), count("add"), count("remove"), count("owner"), count("send"))
	if count("add") == 26 {
		t.Fatalf("every add succeeded: the group would hold %d members", 40+26*40-count("remove"))
	}

	// both nodes see the same group, and its members add up
	var infos [2]chatInfo
	for i := range infos {
		var got chatGetBody
		if err := call(http.MethodGet, node(i)+"/chat/get"+q+"&chatid="+chatID, nil, &got); err != nil || got.Errcode != 0 {
			t.Fatalf("chat/get on node %d: %v %+v", i, err, got)
		}
		infos[i] = got.ChatInfo
		if err := groupSane(got.ChatInfo); err != nil {
			t.Fatal(err)
		}
	}
	if !sameSet(infos[0].UserIDList, infos[1].UserIDList) || infos[0].Owner != infos[1].Owner {
		t.Fatalf("the nodes disagree: %d members owned by %s, %d owned by %s", len(infos[0].UserIDList), infos[0].Owner, len(infos[1].UserIDList), infos[1].Owner)
	}
	if got, want := int64(len(infos[0].UserIDList)), 40+40*count("add")-count("remove"); got != want {
		t.Fatalf("group has %d members, want %d (40 + 40 × %d adds − %d removes): an update was lost", got, want, count("add"), count("remove"))
	}

	// a race at the cap: a group of 960 and, all at once, 14 adds of 10 new
	// members (room for 4), and for eight members a hand-over racing their
	// removal
	var full createBody
	if err := call(http.MethodPost, node(0)+"/chat/create"+q, map[string]any{"name": "满员群", "owner": "manager4220",
		"useridlist": append([]string{"manager4220"}, bigUsers(1, 39)...)}, &full); err != nil || full.Errcode != 0 {
		t.Fatalf("chat/create: %v %+v", err, full)
	}
	for i := 40; i < 960; i += 40 {
		var res errBody
		if err := call(http.MethodPost, node(i/40)+"/chat/update"+q, map[string]any{"chatid": full.ChatID, "add_useridlist": bigUsers(i, i+39)}, &res); err != nil || res.Errcode != 0 {
			t.Fatalf("filling the group: %v %+v", err, res)
		}
	}
	var burst []map[string]any
	for i := 0; i < 14; i++ {
		burst = append(burst, map[string]any{"chatid": full.ChatID, "add_useridlist": bigUsers(960+10*i, 969+10*i)})
	}
	for i := 2; i <= 9; i++ {
		burst = append(burst, map[string]any{"chatid": full.ChatID, "owner": bigUser(i)},
			map[string]any{"chatid": full.ChatID, "del_useridlist": []string{bigUser(i)}})
	}
	var burstAdds, burstRemoves atomic.Int64
	var start sync.WaitGroup
	start.Add(1)
	parallelAll(t, len(burst), func(i int) error {
		start.Wait()
		var res errBody
		if err := call(http.MethodPost, node(i)+"/chat/update"+q, burst[i], &res); err != nil {
			return err
		}
		switch {
		case res.Errcode == 0 && burst[i]["add_useridlist"] != nil:
			burstAdds.Add(1)
		case res.Errcode == 0 && burst[i]["del_useridlist"] != nil:
			burstRemoves.Add(1)
		case res.Errcode == 0, res.Errcode == 49005, res.Errcode == 49006:
		default:
			return fmt.Errorf("%v: errcode %d %s", burst[i], res.Errcode, res.Errmsg)
		}
		return nil
	}, start.Done)
	for i := 0; i < 2; i++ {
		var got chatGetBody
		if err := call(http.MethodGet, node(i)+"/chat/get"+q+"&chatid="+full.ChatID, nil, &got); err != nil || got.Errcode != 0 {
			t.Fatalf("chat/get on node %d: %v %+v", i, err, got)
		}
		if err := groupSane(got.ChatInfo); err != nil {
			t.Fatalf("after the race at the cap: %v", err)
		}
		if got, want := int64(len(got.ChatInfo.UserIDList)), 960+10*burstAdds.Load()-burstRemoves.Load(); got != want {
			t.Fatalf("full group has %d members, want %d", got, want)
		}
	}
	t.Logf("at the cap: %d of 14 adds and %d of 8 removes succeeded", burstAdds.Load(), burstRemoves.Load())

	// what the database holds
	st, err := postgres.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	msgs, err := st.Messages(ctx, chatID, ding.MessageQuery{Limit: 10 * sends})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(msgs), sends; got != want {
		t.Fatalf("group holds %d messages, want %d", got, want)
	}
	for i, m := range msgs {
		if got, want := m.Seq, int64(i+1); got != want {
			t.Fatalf("message %d has seq %d, want %d: numbers must be gap-free and unique", i, got, want)
		}
	}
	var evs []ding.Event
	for after := int64(0); ; {
		page, err := st.Events(ctx, corpID, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		evs = append(evs, page...)
		after = page[len(page)-1].Seq
	}
	types := map[string]int64{}
	fullTypes := map[string]int64{}
	for i, e := range evs {
		if got, want := e.Seq, int64(i+1); got != want {
			t.Fatalf("event %d has seq %d, want %d: the log must be gap-free", i, got, want)
		}
		if e.ChatID == full.ChatID {
			fullTypes[e.Type]++
			continue
		}
		types[e.Type]++
		if e.Type == ding.EventChatAddMember && e.ChatID == chatID {
			var d struct{ UserID []string }
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if len(d.UserID) == 40 && d.UserID[0] != "manager4220" {
				if _, ok := added.Load(fmt.Sprint(d.UserID)); !ok {
					t.Fatalf("event %d adds %v, which no successful request added", e.Seq, d.UserID)
				}
			}
		}
	}
	// the full group's events are counted apart: its hand-overs are not tallied
	for typ, want := range map[string]int64{
		ding.EventChatCreate:       creates + 1,
		ding.EventChatAddMember:    creates + 1 + count("add"),
		ding.EventChatRemoveMember: count("remove"),
		ding.EventChatUpdateOwner:  count("owner"),
	} {
		if got := types[typ]; got != want {
			t.Errorf("%d %s events, want %d: one per change", got, typ, want)
		}
	}
	if got, want := fullTypes[ding.EventChatAddMember], 1+23+burstAdds.Load(); got != want {
		t.Errorf("%d add events of the full group, want %d", got, want)
	}
	if got, want := fullTypes[ding.EventChatRemoveMember], burstRemoves.Load(); got != want {
		t.Errorf("%d remove events of the full group, want %d", got, want)
	}
	for _, p := range nodes {
		p.stop()
	}
}

// groupSane checks the rules a group always keeps.
func groupSane(c chatInfo) error {
	if len(c.UserIDList) > ding.MaxMembers {
		return fmt.Errorf("group has %d members, over the cap of %d", len(c.UserIDList), ding.MaxMembers)
	}
	for _, id := range c.UserIDList {
		if id == c.Owner {
			return nil
		}
	}
	return fmt.Errorf("owner %s is not among the %d members", c.Owner, len(c.UserIDList))
}

// parallel runs fn(0…n-1) on 16 workers and fails t with the first error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	next := atomic.Int64{}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					errs <- err
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

// parallelAll runs fn(0…n-1) each on its own goroutine, calls started once
// all are running, and fails t with the first error.
func parallelAll(t *testing.T, n int, fn func(i int) error, started func()) {
	t.Helper()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(i); err != nil {
				errs <- err
			}
		}()
	}
	started()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// call sends a JSON request (GET when body is nil) and decodes the answer;
// unlike legacy, it is safe off the test goroutine.
func call(method, rawURL string, body, out any) error {
	var req *http.Request
	var err error
	if body != nil {
		b, merr := json.Marshal(body)
		if merr != nil {
			return merr
		}
		req, err = http.NewRequest(method, rawURL, strings.NewReader(string(b)))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		req, err = http.NewRequest(method, rawURL, nil)
	}
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d", method, rawURL, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

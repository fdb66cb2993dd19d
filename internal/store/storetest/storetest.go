// Package storetest is the contract every ding.Store implementation runs:
// storetest.Run(t, open). It speaks only through ding's interfaces, so the
// SQLite store and a PostgreSQL store are held to the same behaviour.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

// Run runs the whole contract. open must return a fresh, empty, migrated
// store and arrange for it to be closed when t ends; it is called once per
// subtest, possibly from parallel subtests.
func Run(t *testing.T, open func(t testing.TB) ding.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st ding.Store)
	}{
		{"ApplyOrgIdempotent", testApplyOrgIdempotent},
		{"ApplyOrgUpserts", testApplyOrgUpserts},
		{"NotFound", testNotFound},
		{"ExistingSubsets", testExistingSubsets},
		{"TokenRenewedWhileValid", testTokenRenewedWhileValid},
		{"TokenNewAfterExpiry", testTokenNewAfterExpiry},
		{"TokenPerApp", testTokenPerApp},
		{"TokenOtherKeyNotRenewed", testTokenOtherKeyNotRenewed},
		{"JoinCodeReused", testJoinCodeReused},
		{"JoinCodeConcurrent", testJoinCodeConcurrent},
		{"GroupRoundTrip", testGroupRoundTrip},
		{"CreateGroupUnknownUser", testCreateGroupUnknownUser},
		{"GroupOtherCorp", testGroupOtherCorp},
		{"CreateGroupConflict", testCreateGroupConflict},
		{"UpdateGroupApplies", testUpdateGroupApplies},
		{"UpdateGroupDecideError", testUpdateGroupDecideError},
		{"UpdateGroupFailedApplyChangesNothing", testUpdateGroupFailedApply},
		{"UpdateGroupNilChange", testUpdateGroupNilChange},
		{"EventSeqPerCorp", testEventSeqPerCorp},
		{"EventPaging", testEventPaging},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ThousandMembers", testThousandMembers},
		{"GroupVersion", testGroupVersion},
		{"MessageOrderConcurrent", testMessageOrderConcurrent},
		{"MessageCheck", testMessageCheck},
		{"MessageRoundTrip", testMessageRoundTrip},
		{"MessagePaging", testMessagePaging},
		{"Recall", testRecall},
		{"ReadMarks", testReadMarks},
		{"MembersAndGroupsOf", testMembersAndGroupsOf},
		{"LastSeqsAndCorpGroups", testLastSeqsAndCorpGroups},
		{"GroupPages", testGroupPages},
		{"WriteAfterClose", testWriteAfterClose},
		{"Reset", testReset},
		{"DeleteCorp", testDeleteCorp},
		{"Settings", testSettings},
		{"SubscriptionCursor", testSubscriptionCursor},
		{"SuitePushCursors", testSuitePushCursors},
		{"CursorLease", testCursorLease},
		{"FailedEventsDrain", testFailedEventsDrain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// The fixture corps. Ids are shaped like DingTalk's but unique to this suite.
const (
	corpA = "dingstoretestcorpa001"
	corpB = "dingstoretestcorpb001"

	appA1 = "dingstoretestappa0001"
	appA2 = "dingstoretestappa0002"
	appB1 = "dingstoretestappb0001"

	t0 int64 = 1767225600123 // an odd millisecond, to catch truncation to seconds
)

func ctx() context.Context { return context.Background() }

// orgA is a small corp: two apps, named users with CJK names, two externals.
func orgA() *ding.Org {
	return &ding.Org{
		Corp: ding.Corp{ID: corpA, Name: "测试企业A", CreatedAt: t0},
		Apps: []ding.App{
			{Key: appA1, CorpID: corpA, Secret: "secret-a1", AgentID: 3001, Name: "应用一", Scopes: ding.DefaultScopes, VisibleAll: true, CreatedAt: t0},
			{Key: appA2, CorpID: corpA, Secret: "secret-a2", AgentID: 3002, Name: "应用二", Scopes: []string{ding.ScopeChatRead},
				VisibleUsers: []string{"zhangsan", "lisi"}, OrdinaryGroups: true, CreatedAt: t0 + 1},
		},
		Users: []ding.User{
			{CorpID: corpA, UserID: "manager4220", UnionID: "union-a-manager", Name: "管理员", Mobile: "13800000000", Title: "经理",
				JobNo: "A001", Email: "m@example.com", Active: true, Admin: true, DeptIDs: []int64{1, 2}, Created: t0},
			{CorpID: corpA, UserID: "zhangsan", UnionID: "union-a-zhangsan", Name: "张三", Mobile: "13800000001", Active: true, DeptIDs: []int64{1}, Created: t0},
			{CorpID: corpA, UserID: "lisi", UnionID: "union-a-lisi", Name: "李四", Mobile: "13800000002", Active: true, DeptIDs: []int64{1}, Created: t0},
			{CorpID: corpA, UserID: "wangwu", UnionID: "union-a-wangwu", Name: "王五😀", Active: false, Created: t0}, // no mobile
		},
		Externals: []ding.ExtContact{
			{CorpID: corpA, UnionID: "ext-a-001", Name: "外部联系人一", Mobile: "13700000001"},
			{CorpID: corpA, UnionID: "ext-a-002", Name: "外部联系人二"},
		},
	}
}

// orgB shares a userid and a mobile with orgA, to prove lookups are per corp.
func orgB() *ding.Org {
	return &ding.Org{
		Corp: ding.Corp{ID: corpB, Name: "测试企业B", CreatedAt: t0},
		Apps: []ding.App{{Key: appB1, CorpID: corpB, Secret: "secret-b1", AgentID: 4001, Name: "他司应用", Scopes: ding.DefaultScopes, VisibleAll: true, CreatedAt: t0}},
		Users: []ding.User{
			{CorpID: corpB, UserID: "manager4220", UnionID: "union-b-manager", Name: "他司管理员", Mobile: "13800000000", Active: true, Created: t0},
			{CorpID: corpB, UserID: "zhaoliu", UnionID: "union-b-zhaoliu", Name: "赵六", Mobile: "13900000001", Active: true, Created: t0},
		},
		Externals: []ding.ExtContact{{CorpID: corpB, UnionID: "ext-b-001", Name: "他司外部"}},
	}
}

// numberedUserID names the i-th user of bigOrg.
func numberedUserID(i int) string { return fmt.Sprintf("user%04d", i) }

// bigOrg is orgA with n more numbered users.
func bigOrg(n int) *ding.Org {
	org := orgA()
	for i := 1; i <= n; i++ {
		org.Users = append(org.Users, ding.User{CorpID: corpA, UserID: numberedUserID(i), UnionID: "union-" + numberedUserID(i),
			Name: fmt.Sprintf("用户%04d", i), Active: true, Created: t0})
	}
	return org
}

func seed(t testing.TB, st ding.Store, orgs ...*ding.Org) {
	t.Helper()
	if len(orgs) == 0 {
		orgs = []*ding.Org{orgA(), orgB()}
	}
	for _, org := range orgs {
		if err := st.ApplyOrg(ctx(), org); err != nil {
			t.Fatalf("ApplyOrg(%s): %v", org.Corp.ID, err)
		}
	}
}

// wantKind fails unless err has kind k.
func wantKind(t testing.TB, err error, k ding.Kind, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: err = nil, want kind %v", what, k)
	}
	if got := ding.ErrorKind(err); got != k {
		t.Fatalf("%s: kind = %v, want %v (err: %v)", what, got, k, err)
	}
}

func noErr(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// jsonEqual compares two JSON documents by value: a store may keep JSON as
// text or as a binary type that reorders keys.
func jsonEqual(t testing.TB, got, want []byte, what string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: stored data %q is not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: wanted data %q is not JSON: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: data = %s, want %s", what, got, want)
	}
}

// events reads every event of a corp.
func events(t testing.TB, st ding.Store, corpID string) []ding.Event {
	t.Helper()
	var out []ding.Event
	after := int64(0)
	for {
		page, err := st.Events(ctx(), corpID, after, 500)
		noErr(t, err, "Events")
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// wantGapFree fails unless evs have Seq 1, 2, 3, … in order.
func wantGapFree(t testing.TB, evs []ding.Event, what string) {
	t.Helper()
	for i, e := range evs {
		if got, want := e.Seq, int64(i+1); got != want {
			t.Fatalf("%s: event %d has seq %d, want %d", what, i, got, want)
		}
	}
}

// sameEvent compares an event read back with the one written.
func sameEvent(t testing.TB, got, want ding.Event, what string) {
	t.Helper()
	if got.CorpID != want.CorpID || got.Type != want.Type || got.ChatID != want.ChatID ||
		got.OpenConversationID != want.OpenConversationID || got.Operator != want.Operator || got.CreatedAt != want.CreatedAt {
		t.Fatalf("%s: event = %+v, want %+v", what, got, want)
	}
	jsonEqual(t, got.Data, want.Data, what)
}

func mustMembers(t testing.TB, st ding.Store, chatID string) []ding.Member {
	t.Helper()
	ms, err := st.Members(ctx(), chatID)
	noErr(t, err, "Members")
	return ms
}

func mustGroup(t testing.TB, st ding.Store, corpID, chatID string) *ding.Group {
	t.Helper()
	g, err := st.Group(ctx(), corpID, chatID)
	noErr(t, err, "Group")
	if g == nil {
		t.Fatalf("Group(%s, %s) = nil, nil", corpID, chatID)
	}
	return g
}

// memberIDs renders members compactly for comparisons and messages.
func memberIDs(ms []ding.Member) string {
	var b bytes.Buffer
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%s:%d", m.Kind, m.ID, m.Role)
	}
	return b.String()
}

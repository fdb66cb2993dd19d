package storetest

import (
	"reflect"
	"sort"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

// normApp and normUser make nil and empty slices compare equal: a store may
// return either for "none".
func normApp(a ding.App) ding.App {
	if len(a.Scopes) == 0 {
		a.Scopes = nil
	}
	if len(a.VisibleUsers) == 0 {
		a.VisibleUsers = nil
	}
	return a
}

func normUser(u ding.User) ding.User {
	if len(u.DeptIDs) == 0 {
		u.DeptIDs = nil
	}
	return u
}

// wantOrg fails unless everything org declares reads back exactly.
func wantOrg(t *testing.T, st ding.Store, org *ding.Org) {
	t.Helper()
	c, err := st.Corp(ctx(), org.Corp.ID)
	noErr(t, err, "Corp")
	if got, want := *c, org.Corp; got != want {
		t.Fatalf("Corp = %+v, want %+v", got, want)
	}

	wantApps := make([]ding.App, len(org.Apps))
	for i, a := range org.Apps {
		a.CorpID = org.Corp.ID
		wantApps[i] = normApp(a)
		got, err := st.App(ctx(), a.Key)
		noErr(t, err, "App "+a.Key)
		if got, want := normApp(*got), wantApps[i]; !reflect.DeepEqual(got, want) {
			t.Fatalf("App(%s) = %+v, want %+v", a.Key, got, want)
		}
	}
	sort.Slice(wantApps, func(i, j int) bool { return wantApps[i].Key < wantApps[j].Key })
	apps, err := st.AppsByCorp(ctx(), org.Corp.ID)
	noErr(t, err, "AppsByCorp")
	if got, want := len(apps), len(wantApps); got != want {
		t.Fatalf("len(AppsByCorp) = %d, want %d", got, want)
	}
	for i := range apps {
		if got, want := normApp(apps[i]), wantApps[i]; !reflect.DeepEqual(got, want) {
			t.Fatalf("AppsByCorp[%d] = %+v, want %+v", i, got, want)
		}
	}

	wantUsers := make([]ding.User, len(org.Users))
	for i, u := range org.Users {
		u.CorpID = org.Corp.ID
		wantUsers[i] = normUser(u)
		got, err := st.User(ctx(), org.Corp.ID, u.UserID)
		noErr(t, err, "User "+u.UserID)
		if got, want := normUser(*got), wantUsers[i]; !reflect.DeepEqual(got, want) {
			t.Fatalf("User(%s) = %+v, want %+v", u.UserID, got, want)
		}
		got, err = st.UserByUnionID(ctx(), org.Corp.ID, u.UnionID)
		noErr(t, err, "UserByUnionID "+u.UnionID)
		if got, want := got.UserID, u.UserID; got != want {
			t.Fatalf("UserByUnionID(%s).UserID = %q, want %q", u.UnionID, got, want)
		}
		if u.Mobile != "" {
			got, err = st.UserByMobile(ctx(), org.Corp.ID, u.Mobile)
			noErr(t, err, "UserByMobile "+u.Mobile)
			if got, want := got.UserID, u.UserID; got != want {
				t.Fatalf("UserByMobile(%s).UserID = %q, want %q", u.Mobile, got, want)
			}
		}
	}
	sort.Slice(wantUsers, func(i, j int) bool { return wantUsers[i].UserID < wantUsers[j].UserID })
	users, err := st.UsersByCorp(ctx(), org.Corp.ID, 10000)
	noErr(t, err, "UsersByCorp")
	if got, want := len(users), len(wantUsers); got != want {
		t.Fatalf("len(UsersByCorp) = %d, want %d", got, want)
	}
	for i := range users {
		if got, want := normUser(users[i]), wantUsers[i]; !reflect.DeepEqual(got, want) {
			t.Fatalf("UsersByCorp[%d] = %+v, want %+v", i, got, want)
		}
	}

	var exts []string
	for _, e := range org.Externals {
		exts = append(exts, e.UnionID)
	}
	found, err := st.ExistingExternals(ctx(), org.Corp.ID, exts)
	noErr(t, err, "ExistingExternals")
	if got, want := len(found), len(exts); got != want {
		t.Fatalf("len(ExistingExternals) = %d, want %d", got, want)
	}
}

func testApplyOrgIdempotent(t *testing.T, st ding.Store) {
	seed(t, st)
	wantOrg(t, st, orgA())
	wantOrg(t, st, orgB())
	seed(t, st) // the same declaration again changes nothing
	wantOrg(t, st, orgA())
	wantOrg(t, st, orgB())
	n, err := st.CountCorps(ctx())
	noErr(t, err, "CountCorps")
	if got, want := n, 2; got != want {
		t.Fatalf("CountCorps = %d, want %d", got, want)
	}
}

func testApplyOrgUpserts(t *testing.T, st ding.Store) {
	seed(t, st)
	org := orgA()
	org.Corp.Name = "改名后的企业"
	a := &org.Apps[0]
	a.Secret, a.AgentID, a.Name = "rotated-secret", 3999, "改名应用"
	a.Scopes, a.VisibleAll, a.VisibleUsers, a.OrdinaryGroups = []string{ding.ScopeChatRead}, false, []string{"lisi"}, true
	u := &org.Users[1] // zhangsan
	u.UnionID, u.Name, u.Mobile, u.Title, u.JobNo, u.Email = "union-a-zhangsan-2", "张三丰", "13811111111", "架构师", "A002", "z@example.com"
	u.Active, u.Admin, u.DeptIDs = false, true, []int64{3, 4, 5}
	org.Externals[0].Name, org.Externals[0].Mobile = "改名外部", "13722222222"
	org.Users = append(org.Users, ding.User{CorpID: corpA, UserID: "newcomer", UnionID: "union-a-newcomer", Name: "新人", Mobile: "13833333333", Created: t0})
	org.Externals = append(org.Externals, ding.ExtContact{CorpID: corpA, UnionID: "ext-a-003", Name: "新外部"})
	noErr(t, st.ApplyOrg(ctx(), org), "ApplyOrg changed")
	wantOrg(t, st, org)
	wantOrg(t, st, orgB()) // the other corp is untouched

	_, err := st.UserByMobile(ctx(), corpA, "13800000001")
	wantKind(t, err, ding.NotFound, "UserByMobile(old mobile)")
	_, err = st.UserByUnionID(ctx(), corpA, "union-a-zhangsan")
	wantKind(t, err, ding.NotFound, "UserByUnionID(old unionid)")
	n, err := st.CountCorps(ctx())
	noErr(t, err, "CountCorps")
	if got, want := n, 2; got != want {
		t.Fatalf("CountCorps = %d, want %d", got, want)
	}
}

func testNotFound(t *testing.T, st ding.Store) {
	seed(t, st)
	g := testGroup(corpA, "chatnotfound01", "cidnotfound01", "群")
	noErr(t, st.CreateGroup(ctx(), g, []ding.Member{{ID: "manager4220", Kind: ding.MemberEmp, Role: ding.RoleOwner, JoinedAt: t0}}, nil), "CreateGroup")

	check := func(what string, v any, err error) {
		t.Helper()
		wantKind(t, err, ding.NotFound, what)
		if rv := reflect.ValueOf(v); !rv.IsNil() {
			t.Fatalf("%s returned %v with its error, want nil", what, v)
		}
	}
	c, err := st.Corp(ctx(), "dingnosuchcorp")
	check("Corp(unknown)", c, err)
	a, err := st.App(ctx(), "dingnosuchapp")
	check("App(unknown)", a, err)
	u, err := st.User(ctx(), corpA, "nosuchuser")
	check("User(unknown)", u, err)
	u, err = st.User(ctx(), corpB, "lisi") // a user of corp A asked of corp B
	check("User(other corp)", u, err)
	u, err = st.User(ctx(), "dingnosuchcorp", "manager4220")
	check("User(unknown corp)", u, err)
	u, err = st.UserByMobile(ctx(), corpA, "19999999999")
	check("UserByMobile(unknown)", u, err)
	u, err = st.UserByMobile(ctx(), corpB, "13800000001") // zhangsan's mobile, corp B
	check("UserByMobile(other corp)", u, err)
	u, err = st.UserByMobile(ctx(), corpA, "") // wangwu has no mobile: "" matches nobody
	check("UserByMobile(empty)", u, err)
	u, err = st.UserByUnionID(ctx(), corpA, "union-nobody")
	check("UserByUnionID(unknown)", u, err)
	u, err = st.UserByUnionID(ctx(), corpB, "union-a-lisi")
	check("UserByUnionID(other corp)", u, err)
	gr, err := st.Group(ctx(), corpA, "chatnosuchgroup")
	check("Group(unknown)", gr, err)
	gr, err = st.GroupByOpenID(ctx(), corpA, "cidnosuchgroup")
	check("GroupByOpenID(unknown)", gr, err)
	tok, err := st.Token(ctx(), "00000000000000000000000000000000")
	check("Token(unknown)", tok, err)
	called := false
	gr, err = st.UpdateGroup(ctx(), corpA, "chatnosuchgroup", func(*ding.GroupState) (*ding.GroupChange, error) {
		called = true
		return nil, nil
	})
	check("UpdateGroup(unknown)", gr, err)
	if called {
		t.Fatalf("UpdateGroup(unknown) called decide")
	}
}

func testExistingSubsets(t *testing.T, st ding.Store) {
	seed(t, st)
	found, err := st.ExistingUsers(ctx(), corpA, []string{"manager4220", "zhaoliu", "nobody", "lisi", "lisi", ""})
	noErr(t, err, "ExistingUsers")
	if got, want := found, map[string]bool{"manager4220": true, "lisi": true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ExistingUsers = %v, want %v", got, want)
	}
	found, err = st.ExistingUsers(ctx(), corpB, []string{"manager4220", "zhaoliu", "lisi"})
	noErr(t, err, "ExistingUsers(B)")
	if got, want := found, map[string]bool{"manager4220": true, "zhaoliu": true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ExistingUsers(B) = %v, want %v", got, want)
	}
	// every id known, some twice: all of them, once each
	found, err = st.ExistingUsers(ctx(), corpA, []string{"lisi", "manager4220", "lisi"})
	noErr(t, err, "ExistingUsers(known)")
	if got, want := found, map[string]bool{"manager4220": true, "lisi": true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ExistingUsers(known) = %v, want %v", got, want)
	}
	found, err = st.ExistingUsers(ctx(), corpA, nil)
	noErr(t, err, "ExistingUsers(none)")
	if got, want := len(found), 0; got != want {
		t.Fatalf("len(ExistingUsers(none)) = %d, want %d", got, want)
	}
	found, err = st.ExistingExternals(ctx(), corpA, []string{"ext-a-002", "ext-b-001", "union-a-lisi", "ext-a-002"})
	noErr(t, err, "ExistingExternals")
	if got, want := found, map[string]bool{"ext-a-002": true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ExistingExternals = %v, want %v", got, want)
	}
	found, err = st.ExistingExternals(ctx(), corpA, []string{})
	noErr(t, err, "ExistingExternals(none)")
	if got, want := len(found), 0; got != want {
		t.Fatalf("len(ExistingExternals(none)) = %d, want %d", got, want)
	}
	// a lookup of many ids at once (a full update call and more) still works
	var many []string
	for i := 0; i < 500; i++ {
		many = append(many, numberedUserID(i))
	}
	many = append(many, "zhangsan")
	found, err = st.ExistingUsers(ctx(), corpA, many)
	noErr(t, err, "ExistingUsers(many)")
	if got, want := found, map[string]bool{"zhangsan": true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ExistingUsers(many) = %v, want %v", got, want)
	}
	// UsersByCorp honours its limit and its order
	users, err := st.UsersByCorp(ctx(), corpA, 2)
	noErr(t, err, "UsersByCorp")
	if got, want := len(users), 2; got != want {
		t.Fatalf("len(UsersByCorp(limit 2)) = %d, want %d", got, want)
	}
	if got, want := users[0].UserID+","+users[1].UserID, "lisi,manager4220"; got != want {
		t.Fatalf("UsersByCorp(limit 2) = %s, want %s", got, want)
	}
}

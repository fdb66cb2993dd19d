// Package dingtest is test wiring: a real store (a SQLite file in a temp dir,
// or a throwaway PostgreSQL schema), a clock tests can move, and a fixed
// organisation with known keys and users.
package dingtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/dingchat/dingchat/internal/store/sqlite"
)

// OpenStore opens a fresh store, closed at cleanup: SQLite in a temp dir, or
// PostgreSQL in a throwaway schema when DINGCHAT_TEST_STORE=postgres.
func OpenStore(t testing.TB) ding.Store {
	t.Helper()
	if Postgres(t) {
		return OpenPostgres(t)
	}
	return OpenSQLite(t)
}

// OpenSQLite opens a fresh SQLite store in a temp dir, closed at cleanup.
func OpenSQLite(t testing.TB) ding.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dingchat.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// OpenPostgres opens an empty PostgreSQL store in a schema of its own, from
// the pool of reusable schemas (see ClaimSchema); closed at cleanup. It
// skips t when DINGCHAT_TEST_POSTGRES is not set.
func OpenPostgres(t testing.TB) ding.Store {
	t.Helper()
	return openPostgres(t, ClaimSchema(t, 4))
}

// OpenPostgresThrowaway opens a PostgreSQL store in a schema created for t
// and dropped at cleanup: slower than OpenPostgres, but nothing is reused.
func OpenPostgresThrowaway(t testing.TB) ding.Store {
	t.Helper()
	return openPostgres(t, PostgresSchema(t, 4))
}

func openPostgres(t testing.TB, url string) ding.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A SeedSet is what a seeded store holds: the organisations applied, in order,
// to an empty store. Declare one per kind of seed at package level: its
// organisations are built and named once per test binary.
type SeedSet struct {
	orgs func() []*ding.Org
	once sync.Once
	list []*ding.Org
	key  string
	err  error
}

// NewSeedSet declares a seed of the organisations orgs returns.
func NewSeedSet(orgs func() []*ding.Org) *SeedSet { return &SeedSet{orgs: orgs} }

// FixtureSeed is both fixture corps, as Seed applies them.
var FixtureSeed = NewSeedSet(func() []*ding.Org { return []*ding.Org{Org(), OtherOrg()} })

// load builds the organisations and names them by their content.
func (s *SeedSet) load(t testing.TB) ([]*ding.Org, string) {
	t.Helper()
	s.once.Do(func() {
		s.list = s.orgs()
		b, err := json.Marshal(s.list)
		if err != nil {
			s.err = err
			return
		}
		h := sha256.Sum256(b)
		s.key = hex.EncodeToString(h[:8])
	})
	if s.err != nil {
		t.Fatalf("seed: %v", s.err)
	}
	return s.list, s.key
}

// OpenStoreSeeded opens a fresh store holding seed, closed at cleanup: a
// copy of a SQLite file seeded once per test binary, in a temp dir, or on
// PostgreSQL (DINGCHAT_TEST_STORE=postgres) a borrowed schema reset to a
// seeded template (see ClaimSeeded). The seed goes through the store's
// ApplyOrg either way; copying it is what makes a seeded store cheap.
func OpenStoreSeeded(t testing.TB, seed *SeedSet) ding.Store {
	t.Helper()
	if Postgres(t) {
		return OpenPostgresSeeded(t, seed)
	}
	return OpenSQLiteSeeded(t, t.TempDir(), seed)
}

// OpenPostgresSeeded is OpenPostgres with the schema holding seed.
func OpenPostgresSeeded(t testing.TB, seed *SeedSet) ding.Store {
	t.Helper()
	return openPostgres(t, ClaimSeeded(t, 4, seed))
}

// OpenSQLiteSeeded writes a copy of the SQLite file seeded with seed to
// dir/dingchat.db and opens it, closed at cleanup.
func OpenSQLiteSeeded(t testing.TB, dir string, seed *SeedSet) ding.Store {
	t.Helper()
	path := filepath.Join(dir, "dingchat.db")
	if err := os.WriteFile(path, sqliteSeed(t, seed), 0o600); err != nil {
		t.Fatalf("copy seeded database: %v", err)
	}
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// SQLite files seeded in this process, by seed key: seeding the fixture's
// 1100 users takes about a second under the race detector, migrating an
// empty file tens of milliseconds, copying either a few milliseconds.
var (
	sqliteSeedMu sync.Mutex
	sqliteSeeds  = map[string][]byte{}
)

func sqliteSeed(t testing.TB, seed *SeedSet) []byte {
	t.Helper()
	orgs, key := seed.load(t)
	sqliteSeedMu.Lock()
	defer sqliteSeedMu.Unlock()
	if b, ok := sqliteSeeds[key]; ok {
		return b
	}
	b, err := seedSQLite(orgs)
	if err != nil {
		t.Fatalf("seed a SQLite file: %v", err)
	}
	sqliteSeeds[key] = b
	return b
}

func seedSQLite(orgs []*ding.Org) ([]byte, error) {
	dir, err := os.MkdirTemp("", "dingchat-seed-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dingchat.db")
	st, err := sqlite.Open(path)
	if err != nil {
		return nil, err
	}
	for _, org := range orgs {
		if err := st.ApplyOrg(context.Background(), org); err != nil {
			st.Close()
			return nil, fmt.Errorf("seed %s: %w", org.Corp.ID, err)
		}
	}
	if err := st.Close(); err != nil { // closing the last connection checkpoints the WAL into the file
		return nil, err
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, fmt.Errorf("the WAL survived close; copying the main file alone would lose data")
	}
	return os.ReadFile(path)
}

// Clock is a clock tests move by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at a fixed instant so golden files stay stable.
func NewClock() *Clock { return &Clock{now: time.UnixMilli(1767225600000)} } // 2026-01-01T00:00:00Z

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Fixed keys of the fixture organisation.
const (
	CorpID    = "dingtestcorp00000001"
	AppKey    = "dingtestappkey000001"
	AppSecret = "test-secret-000001"
	// OrdinaryAppKey may create conversationTag 0 groups.
	OrdinaryAppKey    = "dingtestappkey000002"
	OrdinaryAppSecret = "test-secret-000002"
	// NarrowAppKey sees only manager4220 and zhangsan.
	NarrowAppKey    = "dingtestappkey000003"
	NarrowAppSecret = "test-secret-000003"
	// ReadOnlyAppKey holds only qyapi_chat_read.
	ReadOnlyAppKey    = "dingtestappkey000004"
	ReadOnlyAppSecret = "test-secret-000004"

	OtherCorpID    = "dingothercorp0000001"
	OtherAppKey    = "dingotherappkey00001"
	OtherAppSecret = "other-secret-000001"

	// Users is how many numbered users (user0001…) the fixture corp holds
	// besides the named ones: enough to fill a group past its cap.
	Users = 1100
	// Externals is how many external contacts (ext001…) the fixture corp holds.
	Externals = 50
)

// Named users of the fixture corp, with their mobiles.
var Named = []ding.User{
	{UserID: "manager4220", Name: "管理员", Mobile: "13800000000", UnionID: "union-manager4220"},
	{UserID: "zhangsan", Name: "张三", Mobile: "13800000001", UnionID: "union-zhangsan"},
	{UserID: "lisi", Name: "李四", Mobile: "13800000002", UnionID: "union-lisi"},
	{UserID: "wangwu", Name: "王五", Mobile: "13800000003", UnionID: "union-wangwu"},
}

// UserID returns the id of numbered user i (1-based).
func UserID(i int) string { return fmt.Sprintf("user%04d", i) }

// ExtID returns the unionId of numbered external contact i (1-based).
func ExtID(i int) string { return fmt.Sprintf("ext%03d", i) }

// Org returns the fixture corp.
func Org() *ding.Org {
	const t0 = 1767225600000
	org := &ding.Org{Corp: ding.Corp{ID: CorpID, Name: "测试企业", CreatedAt: t0}}
	org.Apps = []ding.App{
		{Key: AppKey, Secret: AppSecret, AgentID: 100001, Name: "测试应用", Scopes: ding.DefaultScopes, VisibleAll: true, CreatedAt: t0},
		{Key: OrdinaryAppKey, Secret: OrdinaryAppSecret, AgentID: 100002, Name: "普通群应用", Scopes: ding.DefaultScopes, VisibleAll: true, OrdinaryGroups: true, CreatedAt: t0},
		{Key: NarrowAppKey, Secret: NarrowAppSecret, AgentID: 100003, Name: "窄可见应用", Scopes: ding.DefaultScopes, VisibleUsers: []string{"manager4220", "zhangsan"}, CreatedAt: t0},
		{Key: ReadOnlyAppKey, Secret: ReadOnlyAppSecret, AgentID: 100004, Name: "只读应用", Scopes: []string{ding.ScopeChatRead}, VisibleAll: true, CreatedAt: t0},
	}
	for _, u := range Named {
		u.CorpID, u.Active, u.DeptIDs, u.Created = CorpID, true, []int64{1}, t0
		org.Users = append(org.Users, u)
	}
	for i := 1; i <= Users; i++ {
		org.Users = append(org.Users, ding.User{CorpID: CorpID, UserID: UserID(i), UnionID: "union-" + UserID(i),
			Name: fmt.Sprintf("用户%04d", i), Mobile: fmt.Sprintf("139%08d", i), Active: true, DeptIDs: []int64{1}, Created: t0})
	}
	for i := 1; i <= Externals; i++ {
		org.Externals = append(org.Externals, ding.ExtContact{CorpID: CorpID, UnionID: ExtID(i), Name: fmt.Sprintf("外部联系人%03d", i)})
	}
	return org
}

// OrgWithout returns the fixture corp less the named users, as an org file
// that dropped them would declare it.
func OrgWithout(userIDs ...string) *ding.Org {
	org := Org()
	kept := org.Users[:0]
	for _, u := range org.Users {
		if !slices.Contains(userIDs, u.UserID) {
			kept = append(kept, u)
		}
	}
	org.Users = kept
	return org
}

// OtherOrg is a second corp, to prove one corp's token never reaches another's data.
func OtherOrg() *ding.Org {
	const t0 = 1767225600000
	return &ding.Org{
		Corp: ding.Corp{ID: OtherCorpID, Name: "另一家企业", CreatedAt: t0},
		Apps: []ding.App{{Key: OtherAppKey, Secret: OtherAppSecret, AgentID: 200001, Name: "他司应用", Scopes: ding.DefaultScopes, VisibleAll: true, CreatedAt: t0}},
		Users: []ding.User{
			{CorpID: OtherCorpID, UserID: "manager4220", Name: "他司管理员", Mobile: "13900000000", UnionID: "union-other-manager", Active: true, Created: t0},
			{CorpID: OtherCorpID, UserID: "zhaoliu", Name: "赵六", Mobile: "13900000001", UnionID: "union-zhaoliu", Active: true, Created: t0},
		},
	}
}

// Seed applies both fixture corps to st.
func Seed(t testing.TB, st ding.Store) {
	t.Helper()
	for _, org := range []*ding.Org{Org(), OtherOrg()} {
		if err := st.ApplyOrg(context.Background(), org); err != nil {
			t.Fatalf("seed %s: %v", org.Corp.ID, err)
		}
	}
}

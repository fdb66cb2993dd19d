package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// lastByKey keeps the last of the items sharing a key, in first-seen order:
// what upserting them one by one leaves, and what one multi-row upsert
// (which may touch a row only once) needs.
func lastByKey[T any](items []T, key func(T) string) []T {
	at := make(map[string]int, len(items))
	var out []T
	for _, it := range items {
		k := key(it)
		if i, ok := at[k]; ok {
			out[i] = it
			continue
		}
		at[k] = len(out)
		out = append(out, it)
	}
	return out
}

// intArray renders ids as a PostgreSQL array literal, so that one text
// array can carry each user's department list through unnest.
func intArray(ids []int64) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// ApplyOrg upserts a corp and what it declares in one round trip: one
// statement per kind of row (per app for apps, which are few), however many
// users the corp has.
func (s *Store) ApplyOrg(ctx context.Context, org *ding.Org) error {
	return s.tx(ctx, "organisation", func(t *txn) error {
		names, err := suiteNames(ctx, t, org)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		c := org.Corp
		b.Queue(`INSERT INTO corps (id, name, created_at, monthly_quota) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, monthly_quota = excluded.monthly_quota`, c.ID, c.Name, c.CreatedAt, c.MonthlyQuota)
		for _, a := range org.Apps {
			b.Queue(`INSERT INTO apps (app_key, corp_id, secret, agent_id, name, scopes, visible_all, visible_users, ordinary_groups, created_at, limits)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (app_key) DO UPDATE SET corp_id = excluded.corp_id, secret = excluded.secret, agent_id = excluded.agent_id,
					name = excluded.name, scopes = excluded.scopes, visible_all = excluded.visible_all,
					visible_users = excluded.visible_users, ordinary_groups = excluded.ordinary_groups, limits = excluded.limits`,
				a.Key, c.ID, a.Secret, a.AgentID, a.Name, nonNil(a.Scopes), a.VisibleAll, nonNil(a.VisibleUsers), a.OrdinaryGroups, a.CreatedAt, jsonText(a.Limits))
		}
		if users := lastByKey(org.Users, func(u ding.User) string { return u.UserID }); len(users) > 0 {
			n := len(users)
			ids, unions, names, mobiles, titles, jobs, emails, depts := make([]string, n), make([]string, n), make([]string, n),
				make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			active, admin := make([]bool, n), make([]bool, n)
			created := make([]int64, n)
			for i, u := range users {
				ids[i], unions[i], names[i], mobiles[i], titles[i], jobs[i], emails[i] = u.UserID, u.UnionID, u.Name, u.Mobile, u.Title, u.JobNo, u.Email
				active[i], admin[i], depts[i], created[i] = u.Active, u.Admin, intArray(u.DeptIDs), u.Created
			}
			b.Queue(`INSERT INTO users (corp_id, userid, unionid, name, mobile, title, job_no, email, active, admin, dept_ids, created_at)
				SELECT $1, u.userid, u.unionid, u.name, u.mobile, u.title, u.job_no, u.email, u.active, u.admin, u.depts::bigint[], u.created_at
				FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[], $10::bool[], $11::text[], $12::bigint[])
					AS u(userid, unionid, name, mobile, title, job_no, email, active, admin, depts, created_at)
				ON CONFLICT (corp_id, userid) DO UPDATE SET unionid = excluded.unionid, name = excluded.name, mobile = excluded.mobile,
					title = excluded.title, job_no = excluded.job_no, email = excluded.email, active = excluded.active,
					admin = excluded.admin, dept_ids = excluded.dept_ids`,
				c.ID, ids, unions, names, mobiles, titles, jobs, emails, active, admin, depts, created)
		}
		if exts := lastByKey(org.Externals, func(e ding.ExtContact) string { return e.UnionID }); len(exts) > 0 {
			unions, names, mobiles := make([]string, len(exts)), make([]string, len(exts)), make([]string, len(exts))
			for i, e := range exts {
				unions[i], names[i], mobiles[i] = e.UnionID, e.Name, e.Mobile
			}
			b.Queue(`INSERT INTO externals (corp_id, unionid, name, mobile)
				SELECT $1, e.unionid, e.name, e.mobile FROM unnest($2::text[], $3::text[], $4::text[]) AS e(unionid, name, mobile)
				ON CONFLICT (corp_id, unionid) DO UPDATE SET name = excluded.name, mobile = excluded.mobile`, c.ID, unions, names, mobiles)
		}
		for _, t := range org.MemberTokens {
			queueMemberToken(b, t)
		}
		for _, r := range org.Robots {
			r.CorpID = c.ID
			queueRobot(b, &r)
		}
		queueSuites(b, org, names)
		return t.commit(ctx, b)
	})
}

// CountCorps returns how many corps exist.
func (s *Store) CountCorps(ctx context.Context) (int, error) {
	var n int
	err := s.q().QueryRow(ctx, `SELECT COUNT(*) FROM corps`).Scan(&n)
	return n, translate(err, "corps")
}

func scanCorp(r pgx.Row) (ding.Corp, error) {
	var c ding.Corp
	err := r.Scan(&c.ID, &c.Name, &c.CreatedAt, &c.MonthlyQuota)
	return c, err
}

// Corps lists corps, oldest first.
func (s *Store) Corps(ctx context.Context) ([]ding.Corp, error) {
	rows, err := s.q().Query(ctx, `SELECT id, name, created_at, monthly_quota FROM corps ORDER BY created_at, id`)
	return collect(rows, err, "corps", func(r pgx.Rows) (ding.Corp, error) { return scanCorp(r) })
}

// Corp returns NotFound when id is unknown.
func (s *Store) Corp(ctx context.Context, id string) (*ding.Corp, error) {
	c, err := scanCorp(s.q().QueryRow(ctx, `SELECT id, name, created_at, monthly_quota FROM corps WHERE id = $1`, id))
	if err != nil {
		return nil, translate(err, "corp")
	}
	return &c, nil
}

const appCols = `app_key, corp_id, secret, agent_id, name, scopes, visible_all, visible_users, ordinary_groups, created_at, limits, suite_key`

func scanApp(row pgx.Row) (*ding.App, error) {
	var a ding.App
	var limits string
	if err := row.Scan(&a.Key, &a.CorpID, &a.Secret, &a.AgentID, &a.Name, &a.Scopes, &a.VisibleAll, &a.VisibleUsers, &a.OrdinaryGroups, &a.CreatedAt, &limits, &a.SuiteKey); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(limits), &a.Limits); err != nil {
		return nil, err
	}
	a.Scopes, a.VisibleUsers = nonNil(a.Scopes), nonNil(a.VisibleUsers)
	return &a, nil
}

// App returns NotFound when key is unknown.
func (s *Store) App(ctx context.Context, key string) (*ding.App, error) {
	a, err := scanApp(s.q().QueryRow(ctx, `SELECT `+appCols+` FROM apps WHERE app_key = $1`, key))
	if err != nil {
		return nil, translate(err, "app")
	}
	return a, nil
}

// mustAffect answers NotFound when a statement touched no row.
func mustAffect(what string) func(pgconn.CommandTag) error {
	return func(ct pgconn.CommandTag) error {
		if ct.RowsAffected() == 0 {
			return ding.Errorf(ding.NotFound, ding.ReasonNone, "%s not found", what)
		}
		return nil
	}
}

// SetAppLimits replaces an app's limits.
func (s *Store) SetAppLimits(ctx context.Context, key string, l ding.Limits) error {
	return s.batch(ctx, "app", func(b *pgx.Batch) {
		b.Queue(`UPDATE apps SET limits = $1 WHERE app_key = $2`, jsonText(l), key).Exec(mustAffect("app"))
	})
}

// SetMonthlyQuota sets a corp's monthly quota.
func (s *Store) SetMonthlyQuota(ctx context.Context, corpID string, quota int) error {
	return s.batch(ctx, "corp", func(b *pgx.Batch) {
		b.Queue(`UPDATE corps SET monthly_quota = $1 WHERE id = $2`, quota, corpID).Exec(mustAffect("corp"))
	})
}

// AppsByCorp lists a corp's apps ordered by key.
func (s *Store) AppsByCorp(ctx context.Context, corpID string) ([]ding.App, error) {
	rows, err := s.q().Query(ctx, `SELECT `+appCols+` FROM apps WHERE corp_id = $1 ORDER BY app_key`, corpID)
	return collect(rows, err, "apps", func(r pgx.Rows) (ding.App, error) {
		a, err := scanApp(r)
		if err != nil {
			return ding.App{}, err
		}
		return *a, nil
	})
}

const userCols = `corp_id, userid, unionid, name, mobile, title, job_no, email, active, admin, dept_ids, created_at`

func scanUser(row pgx.Row) (*ding.User, error) {
	var u ding.User
	if err := row.Scan(&u.CorpID, &u.UserID, &u.UnionID, &u.Name, &u.Mobile, &u.Title, &u.JobNo, &u.Email, &u.Active, &u.Admin, &u.DeptIDs, &u.Created); err != nil {
		return nil, err
	}
	if u.DeptIDs == nil {
		u.DeptIDs = []int64{}
	}
	return &u, nil
}

func (s *Store) userBy(ctx context.Context, col, corpID, v string) (*ding.User, error) {
	u, err := scanUser(s.q().QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE corp_id = $1 AND `+col+` = $2`, corpID, v))
	if err != nil {
		return nil, translate(err, "user")
	}
	return u, nil
}

// User returns NotFound when the user is not in the corp.
func (s *Store) User(ctx context.Context, corpID, userID string) (*ding.User, error) {
	return s.userBy(ctx, "userid", corpID, userID)
}

// UserByMobile returns NotFound when no user of the corp has the mobile.
func (s *Store) UserByMobile(ctx context.Context, corpID, mobile string) (*ding.User, error) {
	if mobile == "" {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "user not found")
	}
	return s.userBy(ctx, "mobile", corpID, mobile)
}

// UserByUnionID returns NotFound when no user of the corp has the unionId.
func (s *Store) UserByUnionID(ctx context.Context, corpID, unionID string) (*ding.User, error) {
	return s.userBy(ctx, "unionid", corpID, unionID)
}

// UsersByCorp lists a corp's users ordered by userid, at most limit.
func (s *Store) UsersByCorp(ctx context.Context, corpID string, limit int) ([]ding.User, error) {
	rows, err := s.q().Query(ctx, `SELECT `+userCols+` FROM users WHERE corp_id = $1 ORDER BY userid LIMIT $2`, corpID, limit)
	return collect(rows, err, "users", func(r pgx.Rows) (ding.User, error) {
		u, err := scanUser(r)
		if err != nil {
			return ding.User{}, err
		}
		return *u, nil
	})
}

func (s *Store) existing(ctx context.Context, table, col, corpID string, ids []string) (map[string]bool, error) {
	found := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	rows, err := s.q().Query(ctx, `SELECT `+col+` FROM `+table+` WHERE corp_id = $1 AND `+col+` = ANY($2::text[])`, corpID, ids)
	list, err := collect(rows, err, table, func(r pgx.Rows) (string, error) {
		var id string
		err := r.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, err
	}
	for _, id := range list {
		found[id] = true
	}
	return found, nil
}

// ExistingUsers returns the subset of ids that are users of the corp.
func (s *Store) ExistingUsers(ctx context.Context, corpID string, ids []string) (map[string]bool, error) {
	return s.existing(ctx, "users", "userid", corpID, ids)
}

// ExistingExternals returns the subset of unionIds that are external contacts of the corp.
func (s *Store) ExistingExternals(ctx context.Context, corpID string, unionIDs []string) (map[string]bool, error) {
	return s.existing(ctx, "externals", "unionid", corpID, unionIDs)
}

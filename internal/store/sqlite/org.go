package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
)

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ApplyOrg upserts a corp and what it declares in one transaction.
func (s *Store) ApplyOrg(ctx context.Context, org *ding.Org) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		c := org.Corp
		if _, err := tx.Exec(`INSERT INTO corps (id, name, created_at, monthly_quota) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, monthly_quota = excluded.monthly_quota`, c.ID, c.Name, c.CreatedAt, c.MonthlyQuota); err != nil {
			return translate(err, "corp")
		}
		for _, a := range org.Apps {
			if _, err := tx.Exec(`INSERT INTO apps (app_key, corp_id, secret, agent_id, name, scopes, visible_all, visible_users, ordinary_groups, created_at, limits)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (app_key) DO UPDATE SET corp_id = excluded.corp_id, secret = excluded.secret, agent_id = excluded.agent_id,
					name = excluded.name, scopes = excluded.scopes, visible_all = excluded.visible_all,
					visible_users = excluded.visible_users, ordinary_groups = excluded.ordinary_groups, limits = excluded.limits`,
				a.Key, c.ID, a.Secret, a.AgentID, a.Name, jsonText(nonNil(a.Scopes)), b2i(a.VisibleAll), jsonText(nonNil(a.VisibleUsers)), b2i(a.OrdinaryGroups), a.CreatedAt, jsonText(a.Limits)); err != nil {
				return translate(err, "app "+a.Key)
			}
		}
		for _, u := range org.Users {
			if _, err := tx.Exec(`INSERT INTO users (corp_id, userid, unionid, name, mobile, title, job_no, email, active, admin, dept_ids, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (corp_id, userid) DO UPDATE SET unionid = excluded.unionid, name = excluded.name, mobile = excluded.mobile,
					title = excluded.title, job_no = excluded.job_no, email = excluded.email, active = excluded.active,
					admin = excluded.admin, dept_ids = excluded.dept_ids`,
				c.ID, u.UserID, u.UnionID, u.Name, u.Mobile, u.Title, u.JobNo, u.Email, b2i(u.Active), b2i(u.Admin), jsonText(nonNilInt(u.DeptIDs)), u.Created); err != nil {
				return translate(err, "user "+u.UserID)
			}
		}
		for _, e := range org.Externals {
			if _, err := tx.Exec(`INSERT INTO externals (corp_id, unionid, name, mobile) VALUES (?, ?, ?, ?)
				ON CONFLICT (corp_id, unionid) DO UPDATE SET name = excluded.name, mobile = excluded.mobile`,
				c.ID, e.UnionID, e.Name, e.Mobile); err != nil {
				return translate(err, "external contact "+e.UnionID)
			}
		}
		for _, t := range org.MemberTokens {
			if err := saveMemberToken(tx, t); err != nil {
				return err
			}
		}
		for _, r := range org.Robots {
			r.CorpID = c.ID
			if err := saveRobot(tx, &r); err != nil {
				return err
			}
		}
		if err := applySuites(tx, org); err != nil {
			return err
		}
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilInt(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

// CountCorps returns how many corps exist.
func (s *Store) CountCorps(ctx context.Context) (int, error) {
	var n int
	err := s.readRow(ctx, `SELECT COUNT(*) FROM corps`).Scan(&n)
	return n, translate(err, "corps")
}

// Corps lists corps, oldest first.
func (s *Store) Corps(ctx context.Context) ([]ding.Corp, error) {
	rows, err := s.readRows(ctx, `SELECT id, name, created_at, monthly_quota FROM corps ORDER BY created_at, id`)
	if err != nil {
		return nil, translate(err, "corps")
	}
	defer rows.Close()
	var out []ding.Corp
	for rows.Next() {
		var c ding.Corp
		if err := rows.Scan(&c.ID, &c.Name, &c.CreatedAt, &c.MonthlyQuota); err != nil {
			return nil, translate(err, "corps")
		}
		out = append(out, c)
	}
	return out, translate(rows.Err(), "corps")
}

// Corp returns NotFound when id is unknown.
func (s *Store) Corp(ctx context.Context, id string) (*ding.Corp, error) {
	var c ding.Corp
	err := s.readRow(ctx, `SELECT id, name, created_at, monthly_quota FROM corps WHERE id = ?`, id).Scan(&c.ID, &c.Name, &c.CreatedAt, &c.MonthlyQuota)
	if err != nil {
		return nil, translate(err, "corp")
	}
	return &c, nil
}

const appCols = `app_key, corp_id, secret, agent_id, name, scopes, visible_all, visible_users, ordinary_groups, created_at, limits, suite_key`

func scanApp(row interface{ Scan(...any) error }) (*ding.App, error) {
	var a ding.App
	var scopes, visible, limits string
	if err := row.Scan(&a.Key, &a.CorpID, &a.Secret, &a.AgentID, &a.Name, &scopes, &a.VisibleAll, &visible, &a.OrdinaryGroups, &a.CreatedAt, &limits, &a.SuiteKey); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(limits), &a.Limits); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &a.Scopes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(visible), &a.VisibleUsers); err != nil {
		return nil, err
	}
	return &a, nil
}

// App returns NotFound when key is unknown.
func (s *Store) App(ctx context.Context, key string) (*ding.App, error) {
	a, err := scanApp(s.readRow(ctx, `SELECT `+appCols+` FROM apps WHERE app_key = ?`, key))
	if err != nil {
		return nil, translate(err, "app")
	}
	return a, nil
}

func mustAffect(res sql.Result, what string) error {
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ding.Errorf(ding.NotFound, ding.ReasonNone, "%s not found", what)
	}
	return nil
}

// SetAppLimits replaces an app's limits.
func (s *Store) SetAppLimits(ctx context.Context, key string, l ding.Limits) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE apps SET limits = ? WHERE app_key = ?`, jsonText(l), key)
		if err != nil {
			return translate(err, "app")
		}
		return mustAffect(res, "app")
	})
}

// SetMonthlyQuota sets a corp's monthly quota.
func (s *Store) SetMonthlyQuota(ctx context.Context, corpID string, quota int) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE corps SET monthly_quota = ? WHERE id = ?`, quota, corpID)
		if err != nil {
			return translate(err, "corp")
		}
		return mustAffect(res, "corp")
	})
}

// AppsByCorp lists a corp's apps ordered by key.
func (s *Store) AppsByCorp(ctx context.Context, corpID string) ([]ding.App, error) {
	rows, err := s.readRows(ctx, `SELECT `+appCols+` FROM apps WHERE corp_id = ? ORDER BY app_key`, corpID)
	if err != nil {
		return nil, translate(err, "apps")
	}
	defer rows.Close()
	var out []ding.App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, translate(err, "apps")
		}
		out = append(out, *a)
	}
	return out, translate(rows.Err(), "apps")
}

const userCols = `corp_id, userid, unionid, name, mobile, title, job_no, email, active, admin, dept_ids, created_at`

func scanUser(row interface{ Scan(...any) error }) (*ding.User, error) {
	var u ding.User
	var depts string
	if err := row.Scan(&u.CorpID, &u.UserID, &u.UnionID, &u.Name, &u.Mobile, &u.Title, &u.JobNo, &u.Email, &u.Active, &u.Admin, &depts, &u.Created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(depts), &u.DeptIDs); err != nil {
		return nil, err
	}
	return &u, nil
}

func (s *Store) userBy(ctx context.Context, col, corpID, v string) (*ding.User, error) {
	u, err := scanUser(s.readRow(ctx, `SELECT `+userCols+` FROM users WHERE corp_id = ? AND `+col+` = ?`, corpID, v))
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
	rows, err := s.readRows(ctx, `SELECT `+userCols+` FROM users WHERE corp_id = ? ORDER BY userid LIMIT ?`, corpID, limit)
	if err != nil {
		return nil, translate(err, "users")
	}
	defer rows.Close()
	var out []ding.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, translate(err, "users")
		}
		out = append(out, *u)
	}
	return out, translate(rows.Err(), "users")
}

func existing(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, table, col, corpID string, ids []string) (map[string]bool, error) {
	found := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, corpID)
	for _, id := range ids {
		if !found[id] {
			found[id] = true
			args = append(args, id)
		}
	}
	in := col + ` IN (?` + strings.Repeat(",?", len(args)-2) + `)`
	// usually every id exists (a create names known users): one count
	// answers that, where reading a row per id cost a column read each (the
	// driver locks the connection for every one)
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE corp_id = ? AND `+in, args...).Scan(&n); err != nil {
		return nil, translate(err, table)
	}
	if n == len(args)-1 {
		return found, nil
	}
	clear(found)
	rows, err := q.QueryContext(ctx, `SELECT `+col+` FROM `+table+` WHERE corp_id = ? AND `+in, args...)
	if err != nil {
		return nil, translate(err, table)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err, table)
		}
		found[id] = true
	}
	return found, translate(rows.Err(), table)
}

// ExistingUsers returns the subset of ids that are users of the corp.
func (s *Store) ExistingUsers(ctx context.Context, corpID string, ids []string) (map[string]bool, error) {
	return existing(ctx, s.read, "users", "userid", corpID, ids)
}

// ExistingExternals returns the subset of unionIds that are external contacts of the corp.
func (s *Store) ExistingExternals(ctx context.Context, corpID string, unionIDs []string) (map[string]bool, error) {
	return existing(ctx, s.read, "externals", "unionid", corpID, unionIDs)
}

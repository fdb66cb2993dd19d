package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

var _ ding.SuiteStore = (*Store)(nil)

// lockSuiteToken is the advisory lock name under which a suite's token is
// issued, so that nodes asked at once hand out one token.
const lockSuiteToken = "suitetoken:" // + suite key

// queueSuites upserts an org's suites, then its authorisations with the app
// each one acts through; names holds the name of every suite an
// authorisation refers to. A suite declared without a ticket keeps the one
// it has (minted earlier).
func queueSuites(b *pgx.Batch, org *ding.Org, names map[string]string) {
	for _, s := range org.Suites {
		b.Queue(`INSERT INTO suites (suite_key, secret, ticket, custom, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (suite_key) DO UPDATE SET secret = excluded.secret, custom = excluded.custom, name = excluded.name,
				ticket = CASE WHEN excluded.ticket <> '' THEN excluded.ticket ELSE suites.ticket END`,
			s.Key, s.Secret, s.Ticket, s.Custom, s.Name, s.CreatedAt)
	}
	for _, a := range org.SuiteAuths {
		a.CorpID = org.Corp.ID
		app := a.App(names[a.SuiteKey])
		b.Queue(`INSERT INTO apps (app_key, corp_id, secret, agent_id, name, scopes, visible_all, visible_users, ordinary_groups, created_at, suite_key)
			VALUES ($1, $2, '', $3, $4, $5, $6, '{}', false, $7, $8)
			ON CONFLICT (app_key) DO UPDATE SET agent_id = excluded.agent_id, name = excluded.name, scopes = excluded.scopes`,
			app.Key, app.CorpID, app.AgentID, app.Name, nonNil(app.Scopes), app.VisibleAll, app.CreatedAt, app.SuiteKey)
		b.Queue(`INSERT INTO suite_auths (suite_key, corp_id, app_key, permanent_code, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (suite_key, corp_id) DO UPDATE SET permanent_code = excluded.permanent_code`,
			a.SuiteKey, a.CorpID, app.Key, a.PermanentCode, a.CreatedAt)
		// the suite's push hears the corp from its authorisation on
		b.Queue(`INSERT INTO event_cursors (consumer, corp_id, seq)
			SELECT 'http:' || id, $1, COALESCE((SELECT seq FROM event_seqs WHERE corp_id = $1), 0)
			FROM subscriptions WHERE kind = $2 AND key = $3
			ON CONFLICT (consumer, corp_id) DO NOTHING`, a.CorpID, ding.SubSuitePush, a.SuiteKey)
	}
}

// suiteNames reads, inside t, the names of the suites org's authorisations
// refer to but org does not declare; NotFound for a suite that does not exist.
func suiteNames(ctx context.Context, t *txn, org *ding.Org) (map[string]string, error) {
	names := map[string]string{}
	for _, s := range org.Suites {
		names[s.Key] = s.Name
	}
	var missing []string
	for _, a := range org.SuiteAuths {
		if _, ok := names[a.SuiteKey]; !ok {
			missing = append(missing, a.SuiteKey)
			names[a.SuiteKey] = ""
		}
	}
	if len(missing) == 0 {
		return names, nil
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT suite_key, name FROM suites WHERE suite_key = ANY($1::text[])`, missing).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var key, name string
			if err := rows.Scan(&key, &name); err != nil {
				return err
			}
			names[key] = name
		}
		return nil
	})
	if err := t.read(ctx, b); err != nil {
		return nil, err
	}
	for _, key := range missing {
		if names[key] == "" {
			var found bool
			// a suite may be named ""; only a missing row is an error
			b := &pgx.Batch{}
			b.Queue(`SELECT EXISTS (SELECT 1 FROM suites WHERE suite_key = $1)`, key).QueryRow(func(r pgx.Row) error { return r.Scan(&found) })
			if err := t.read(ctx, b); err != nil {
				return nil, err
			}
			if !found {
				return nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "suite %s not found", key)
			}
		}
	}
	return names, nil
}

// Suite returns NotFound when key is unknown.
func (s *Store) Suite(ctx context.Context, key string) (*ding.Suite, error) {
	var st ding.Suite
	err := s.q().QueryRow(ctx, `SELECT suite_key, secret, ticket, custom, name, created_at FROM suites WHERE suite_key = $1`, key).
		Scan(&st.Key, &st.Secret, &st.Ticket, &st.Custom, &st.Name, &st.CreatedAt)
	if err != nil {
		return nil, translate(err, "suite")
	}
	return &st, nil
}

// EnsureSuiteTicket returns the suite's ticket, storing fresh when it has
// none. Nodes minting at once agree: the second update finds a ticket set
// and changes nothing, and both read the first one's.
func (s *Store) EnsureSuiteTicket(ctx context.Context, key, fresh string) (string, error) {
	var ticket string
	err := s.batch(ctx, "suite", func(b *pgx.Batch) {
		b.Queue(`UPDATE suites SET ticket = $2 WHERE suite_key = $1 AND ticket = ''`, key, fresh)
		b.Queue(`SELECT ticket FROM suites WHERE suite_key = $1`, key).QueryRow(func(r pgx.Row) error { return r.Scan(&ticket) })
	})
	if err != nil {
		return "", err
	}
	return ticket, nil
}

// SuiteAuth returns NotFound when corpID has not authorised the suite.
func (s *Store) SuiteAuth(ctx context.Context, suiteKey, corpID string) (*ding.SuiteAuth, error) {
	var a ding.SuiteAuth
	err := s.q().QueryRow(ctx, `SELECT sa.suite_key, sa.corp_id, sa.permanent_code, a.agent_id, a.scopes, sa.created_at
		FROM suite_auths sa JOIN apps a ON a.app_key = sa.app_key WHERE sa.suite_key = $1 AND sa.corp_id = $2`, suiteKey, corpID).
		Scan(&a.SuiteKey, &a.CorpID, &a.PermanentCode, &a.AgentID, &a.Scopes, &a.CreatedAt)
	if err != nil {
		return nil, translate(err, "authorisation")
	}
	a.Scopes = nonNil(a.Scopes)
	return &a, nil
}

const suiteTokenCols = `token, suite_key, created_at, expires_at, salt, key_id`

func scanSuiteToken(r pgx.Row) (*ding.SuiteToken, error) {
	var t ding.SuiteToken
	if err := r.Scan(&t.Hash, &t.SuiteKey, &t.CreatedAt, &t.ExpiresAt, &t.Salt, &t.KeyID); err != nil {
		return nil, err
	}
	return &t, nil
}

// IssueSuiteToken renews the suite's live token or stores fresh, under an
// advisory lock on the suite, in one round trip (as IssueToken).
func (s *Store) IssueSuiteToken(ctx context.Context, fresh ding.SuiteToken, now int64) (*ding.SuiteToken, error) {
	var out *ding.SuiteToken
	err := s.batch(ctx, "suite token", func(b *pgx.Batch) {
		out = nil
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, lockSuiteToken+fresh.SuiteKey)
		b.Queue(`UPDATE suite_tokens SET expires_at = $3 WHERE token = (
				SELECT token FROM suite_tokens WHERE suite_key = $1 AND key_id = $4 AND expires_at > $2 ORDER BY expires_at DESC LIMIT 1)
			RETURNING `+suiteTokenCols, fresh.SuiteKey, now, fresh.ExpiresAt, fresh.KeyID).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					t, err := scanSuiteToken(rows)
					if err != nil {
						return err
					}
					out = t
				}
				return nil
			})
		b.Queue(`INSERT INTO suite_tokens (`+suiteTokenCols+`) SELECT $1, $2, $3, $4, $6, $7
			WHERE NOT EXISTS (SELECT 1 FROM suite_tokens WHERE suite_key = $2 AND key_id = $7 AND expires_at > $5)`,
			fresh.Hash, fresh.SuiteKey, fresh.CreatedAt, fresh.ExpiresAt, now, fresh.Salt, fresh.KeyID)
		b.Queue(`DELETE FROM suite_tokens WHERE suite_key = $1 AND expires_at < $2`, fresh.SuiteKey, now-keepExpired)
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		t := fresh
		out = &t
	}
	out.Value = ""
	return out, nil
}

// SuiteToken returns NotFound when no suite token has hash.
func (s *Store) SuiteToken(ctx context.Context, hash string) (*ding.SuiteToken, error) {
	t, err := scanSuiteToken(s.q().QueryRow(ctx, `SELECT `+suiteTokenCols+` FROM suite_tokens WHERE token = $1`, hash))
	if err != nil {
		return nil, translate(err, "suite token")
	}
	return t, nil
}

// AddToken stores t next to its app's other tokens, which stay valid.
func (s *Store) AddToken(ctx context.Context, t ding.Token, now int64) error {
	return s.batch(ctx, "token", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.Hash, t.AppKey, t.CorpID, t.CreatedAt, t.ExpiresAt, t.Salt, t.KeyID)
		b.Queue(`DELETE FROM tokens WHERE app_key = $1 AND expires_at < $2`, t.AppKey, now-keepExpired)
	})
}

const chatAppsSQL = `SELECT chat_id, corp_id, agent_id, suite_key, bound_at FROM chat_apps WHERE chat_id = $1 ORDER BY pos`

func scanChatApp(r pgx.Rows) (ding.ChatApp, error) {
	var a ding.ChatApp
	err := r.Scan(&a.ChatID, &a.CorpID, &a.AgentID, &a.SuiteKey, &a.BoundAt)
	return a, err
}

// ChatApps lists the apps bound to a group, in binding order.
func (s *Store) ChatApps(ctx context.Context, chatID string) ([]ding.ChatApp, error) {
	rows, err := s.q().Query(ctx, chatAppsSQL, chatID)
	out, err := collect(rows, err, "bound apps", scanChatApp)
	if err == nil && out == nil {
		out = []ding.ChatApp{}
	}
	return out, err
}

// UpdateChatApps locks the group's row, lets decide judge the group and its
// bound apps, and applies the change, in one transaction: the lock keeps the
// cap on bound apps across nodes.
func (s *Store) UpdateChatApps(ctx context.Context, corpID, chatID string, decide func(*ding.ChatAppState) (*ding.ChatAppChange, error)) error {
	defer s.versions.drop(chatID) // this node's next read sees the change
	var events []ding.Event
	err := s.tx(ctx, "bound app", func(t *txn) error {
		var g *ding.Group
		apps := []ding.ChatApp{}
		b := &pgx.Batch{}
		b.Queue(`SELECT `+chatCols+` FROM chats WHERE chat_id = $1 AND corp_id = $2 FOR NO KEY UPDATE`, chatID, corpID).
			QueryRow(func(row pgx.Row) (err error) {
				g, err = scanGroup(row)
				return err
			})
		b.Queue(chatAppsSQL, chatID).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				a, err := scanChatApp(rows)
				if err != nil {
					return err
				}
				apps = append(apps, a)
			}
			return nil
		})
		if err := t.read(ctx, b); err != nil {
			return translateGroup(err)
		}
		ch, err := decide(&ding.ChatAppState{Group: *g, Apps: apps})
		if err != nil {
			return verdict{err}
		}
		if ch == nil {
			return nil
		}
		w := &pgx.Batch{}
		if len(ch.Unbind) > 0 {
			ids := make([]int64, len(ch.Unbind))
			for i, a := range ch.Unbind {
				ids[i] = a.AgentID
			}
			w.Queue(`DELETE FROM chat_apps WHERE chat_id = $1 AND agent_id = ANY($2::bigint[])`, chatID, ids)
		}
		if len(ch.Bind) > 0 {
			n := len(ch.Bind)
			ids, suites, at := make([]int64, n), make([]string, n), make([]int64, n)
			for i, a := range ch.Bind {
				ids[i], suites[i], at[i] = a.AgentID, a.SuiteKey, a.BoundAt
			}
			w.Queue(`INSERT INTO chat_apps (chat_id, agent_id, suite_key, corp_id, pos, bound_at)
				SELECT $1, b.agent_id, b.suite_key, $2, base.pos + b.ord - 1, b.bound_at
				FROM (SELECT COALESCE(MAX(pos), -1) + 1 AS pos FROM chat_apps WHERE chat_id = $1) AS base,
					unnest($3::bigint[], $4::text[], $5::bigint[]) WITH ORDINALITY AS b(agent_id, suite_key, bound_at, ord)`,
				chatID, g.CorpID, ids, suites, at)
		}
		if ch.Status != 0 {
			// a new version: a send that judged the old status tries again
			w.Queue(`UPDATE chats SET status = $2, updated_at = $3, version = nextval('chat_versions') WHERE chat_id = $1`, chatID, ch.Status, ch.UpdatedAt)
		} else if len(ch.Bind)+len(ch.Unbind) > 0 {
			// the bound apps are part of what a reader keeps of the group
			w.Queue(`UPDATE chats SET version = nextval('chat_versions') WHERE chat_id = $1`, chatID)
		}
		queueEvents(w, ch.Events)
		if err := t.commit(ctx, w); err != nil {
			return err
		}
		events = ch.Events
		return nil
	})
	if err == nil {
		s.tellEvents(events)
	}
	return err
}

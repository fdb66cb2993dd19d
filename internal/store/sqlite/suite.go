package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/dingchat/dingchat/internal/ding"
)

// applySuites upserts an org's suites, then its authorisations with the app
// each one acts through. A suite declared without a ticket keeps the one it
// has (minted earlier).
func applySuites(tx *sql.Tx, org *ding.Org) error {
	names := map[string]string{}
	for _, s := range org.Suites {
		names[s.Key] = s.Name
		if _, err := tx.Exec(`INSERT INTO suites (suite_key, secret, ticket, custom, name, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (suite_key) DO UPDATE SET secret = excluded.secret, custom = excluded.custom, name = excluded.name,
				ticket = CASE WHEN excluded.ticket <> '' THEN excluded.ticket ELSE suites.ticket END`,
			s.Key, s.Secret, s.Ticket, b2i(s.Custom), s.Name, s.CreatedAt); err != nil {
			return translate(err, "suite "+s.Key)
		}
	}
	for _, a := range org.SuiteAuths {
		a.CorpID = org.Corp.ID
		name, ok := names[a.SuiteKey]
		if !ok {
			if err := tx.QueryRow(`SELECT name FROM suites WHERE suite_key = ?`, a.SuiteKey).Scan(&name); err != nil {
				return translate(err, "suite "+a.SuiteKey)
			}
		}
		app := a.App(name)
		if _, err := tx.Exec(`INSERT INTO apps (app_key, corp_id, secret, agent_id, name, scopes, visible_all, visible_users, ordinary_groups, created_at, suite_key)
			VALUES (?, ?, '', ?, ?, ?, ?, '[]', 0, ?, ?)
			ON CONFLICT (app_key) DO UPDATE SET agent_id = excluded.agent_id, name = excluded.name, scopes = excluded.scopes`,
			app.Key, app.CorpID, app.AgentID, app.Name, jsonText(nonNil(app.Scopes)), b2i(app.VisibleAll), app.CreatedAt, app.SuiteKey); err != nil {
			return translate(err, "app "+app.Key)
		}
		if _, err := tx.Exec(`INSERT INTO suite_auths (suite_key, corp_id, app_key, permanent_code, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (suite_key, corp_id) DO UPDATE SET permanent_code = excluded.permanent_code`,
			a.SuiteKey, a.CorpID, app.Key, a.PermanentCode, a.CreatedAt); err != nil {
			return translate(err, "authorisation of "+a.SuiteKey)
		}
		// the suite's push hears the corp from its authorisation on
		if _, err := tx.Exec(`INSERT INTO event_cursors (consumer, corp_id, seq)
			SELECT 'http:' || id, ?, (SELECT COALESCE(MAX(seq), 0) FROM events WHERE corp_id = ?)
			FROM subscriptions WHERE kind = ? AND key = ?
			ON CONFLICT (consumer, corp_id) DO NOTHING`, a.CorpID, a.CorpID, ding.SubSuitePush, a.SuiteKey); err != nil {
			return translate(err, "cursor")
		}
	}
	return nil
}

// Suite returns NotFound when key is unknown.
func (s *Store) Suite(ctx context.Context, key string) (*ding.Suite, error) {
	var st ding.Suite
	err := s.readRow(ctx, `SELECT suite_key, secret, ticket, custom, name, created_at FROM suites WHERE suite_key = ?`, key).
		Scan(&st.Key, &st.Secret, &st.Ticket, &st.Custom, &st.Name, &st.CreatedAt)
	if err != nil {
		return nil, translate(err, "suite")
	}
	return &st, nil
}

// EnsureSuiteTicket returns the suite's ticket, storing fresh when it has none.
func (s *Store) EnsureSuiteTicket(ctx context.Context, key, fresh string) (string, error) {
	var ticket string
	err := s.do(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRow(`SELECT ticket FROM suites WHERE suite_key = ?`, key).Scan(&ticket); err != nil {
			return translate(err, "suite")
		}
		if ticket != "" {
			return nil
		}
		ticket = fresh
		_, err := tx.Exec(`UPDATE suites SET ticket = ? WHERE suite_key = ?`, fresh, key)
		return translate(err, "suite")
	})
	if err != nil {
		return "", err
	}
	return ticket, nil
}

// SuiteAuth returns NotFound when corpID has not authorised the suite.
func (s *Store) SuiteAuth(ctx context.Context, suiteKey, corpID string) (*ding.SuiteAuth, error) {
	var a ding.SuiteAuth
	var scopes string
	err := s.readRow(ctx, `SELECT sa.suite_key, sa.corp_id, sa.permanent_code, a.agent_id, a.scopes, sa.created_at
		FROM suite_auths sa JOIN apps a ON a.app_key = sa.app_key WHERE sa.suite_key = ? AND sa.corp_id = ?`, suiteKey, corpID).
		Scan(&a.SuiteKey, &a.CorpID, &a.PermanentCode, &a.AgentID, &scopes, &a.CreatedAt)
	if err != nil {
		return nil, translate(err, "authorisation")
	}
	if err := json.Unmarshal([]byte(scopes), &a.Scopes); err != nil {
		return nil, translate(err, "authorisation")
	}
	return &a, nil
}

// IssueSuiteToken renews the suite's live token or stores fresh.
func (s *Store) IssueSuiteToken(ctx context.Context, fresh ding.SuiteToken, now int64) (*ding.SuiteToken, error) {
	out := fresh
	err := s.do(ctx, func(tx *sql.Tx) error {
		out = fresh
		var live ding.SuiteToken
		err := tx.QueryRow(`SELECT `+suiteTokenCols+` FROM suite_tokens
			WHERE suite_key = ? AND key_id = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1`, fresh.SuiteKey, fresh.KeyID, now).
			Scan(&live.Hash, &live.SuiteKey, &live.CreatedAt, &live.ExpiresAt, &live.Salt, &live.KeyID)
		switch {
		case err == nil:
			if _, err := tx.Exec(`UPDATE suite_tokens SET expires_at = ? WHERE token = ?`, fresh.ExpiresAt, live.Hash); err != nil {
				return translate(err, "suite token")
			}
			live.ExpiresAt = fresh.ExpiresAt
			out = live
		case errors.Is(err, sql.ErrNoRows):
			if fresh.Hash == "" {
				return ding.Errorf(ding.Internal, ding.ReasonNone, "a suite token must be stored by its hash")
			}
			if _, err := tx.Exec(`INSERT INTO suite_tokens (`+suiteTokenCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
				fresh.Hash, fresh.SuiteKey, fresh.CreatedAt, fresh.ExpiresAt, fresh.Salt, fresh.KeyID); err != nil {
				return translate(err, "suite token")
			}
		default:
			return translate(err, "suite token")
		}
		_, err = tx.Exec(`DELETE FROM suite_tokens WHERE suite_key = ? AND expires_at < ?`, fresh.SuiteKey, now-keepExpired)
		return translate(err, "suite token")
	})
	if err != nil {
		return nil, err
	}
	out.Value = ""
	return &out, nil
}

const suiteTokenCols = `token, suite_key, created_at, expires_at, salt, key_id`

// SuiteToken returns NotFound when no suite token has hash.
func (s *Store) SuiteToken(ctx context.Context, hash string) (*ding.SuiteToken, error) {
	var t ding.SuiteToken
	err := s.readRow(ctx, `SELECT `+suiteTokenCols+` FROM suite_tokens WHERE token = ?`, hash).
		Scan(&t.Hash, &t.SuiteKey, &t.CreatedAt, &t.ExpiresAt, &t.Salt, &t.KeyID)
	if err != nil {
		return nil, translate(err, "suite token")
	}
	return &t, nil
}

// AddToken stores t next to its app's other tokens, which stay valid.
func (s *Store) AddToken(ctx context.Context, t ding.Token, now int64) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		if err := insertToken(tx, t); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM tokens WHERE app_key = ? AND expires_at < ?`, t.AppKey, now-keepExpired)
		return translate(err, "token")
	})
}

func chatApps(ctx context.Context, q querier, chatID string) ([]ding.ChatApp, error) {
	rows, err := q.QueryContext(ctx, `SELECT chat_id, corp_id, agent_id, suite_key, bound_at FROM chat_apps WHERE chat_id = ? ORDER BY pos`, chatID)
	if err != nil {
		return nil, translate(err, "bound apps")
	}
	defer rows.Close()
	out := []ding.ChatApp{}
	for rows.Next() {
		var b ding.ChatApp
		if err := rows.Scan(&b.ChatID, &b.CorpID, &b.AgentID, &b.SuiteKey, &b.BoundAt); err != nil {
			return nil, translate(err, "bound apps")
		}
		out = append(out, b)
	}
	return out, translate(rows.Err(), "bound apps")
}

// ChatApps lists the apps bound to a group, in binding order.
func (s *Store) ChatApps(ctx context.Context, chatID string) ([]ding.ChatApp, error) {
	return chatApps(ctx, s.read, chatID)
}

// UpdateChatApps runs decide on the group and its bound apps inside the
// writer's transaction and applies what it returns.
func (s *Store) UpdateChatApps(ctx context.Context, corpID, chatID string, decide func(*ding.ChatAppState) (*ding.ChatAppChange, error)) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		g, err := scanGroup(tx.QueryRow(`SELECT `+chatCols+` FROM chats WHERE chat_id = ? AND corp_id = ?`, chatID, corpID))
		if err != nil {
			return translate(err, "group")
		}
		// not the caller's ctx: the transaction is shared with the rest of the batch
		apps, err := chatApps(context.Background(), tx, chatID)
		if err != nil {
			return err
		}
		ch, err := decide(&ding.ChatAppState{Group: *g, Apps: apps})
		if err != nil || ch == nil {
			return err
		}
		for _, b := range ch.Unbind {
			if _, err := tx.Exec(`DELETE FROM chat_apps WHERE chat_id = ? AND agent_id = ?`, chatID, b.AgentID); err != nil {
				return translate(err, "bound app")
			}
		}
		for _, b := range ch.Bind {
			if _, err := tx.Exec(`INSERT INTO chat_apps (chat_id, agent_id, suite_key, corp_id, pos, bound_at)
				VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(pos), -1) + 1 FROM chat_apps WHERE chat_id = ?), ?)`,
				chatID, b.AgentID, b.SuiteKey, g.CorpID, chatID, b.BoundAt); err != nil {
				return translate(err, "bound app")
			}
		}
		if ch.Status != 0 {
			if _, err := tx.Exec(`UPDATE chats SET status = ?, updated_at = ? WHERE chat_id = ?`, ch.Status, ch.UpdatedAt, chatID); err != nil {
				return translate(err, "group")
			}
		}
		if ch.Status != 0 || len(ch.Bind)+len(ch.Unbind) > 0 {
			var version int64
			if err := tx.QueryRow(`UPDATE chats SET version = version + 1 WHERE chat_id = ? RETURNING version`, chatID).Scan(&version); err != nil {
				return translate(err, "group")
			}
			s.moved(g.CorpID, chatID, version)
		}
		return s.appendEvents(tx, ch.Events)
	})
}

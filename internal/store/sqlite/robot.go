package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/dingchat/dingchat/internal/ding"
)

var _ ding.RobotStore = (*Store)(nil)

func saveRobot(tx *sql.Tx, r *ding.Robot) error {
	_, err := tx.Exec(`INSERT INTO robots (robot_code, corp_id, name, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (robot_code) DO UPDATE SET corp_id = excluded.corp_id, name = excluded.name`, r.Code, r.CorpID, r.Name, r.CreatedAt)
	return translate(err, "robot "+r.Code)
}

// SaveRobot creates a robot or updates its corp and name.
func (s *Store) SaveRobot(ctx context.Context, r *ding.Robot) error {
	return s.do(ctx, func(tx *sql.Tx) error { return saveRobot(tx, r) })
}

const robotCols = `robot_code, corp_id, name, created_at`

func scanRobots(rows *sql.Rows, err error) ([]ding.Robot, error) {
	if err != nil {
		return nil, translate(err, "robots")
	}
	defer rows.Close()
	out := []ding.Robot{}
	for rows.Next() {
		var r ding.Robot
		if err := rows.Scan(&r.Code, &r.CorpID, &r.Name, &r.CreatedAt); err != nil {
			return nil, translate(err, "robots")
		}
		out = append(out, r)
	}
	return out, translate(rows.Err(), "robots")
}

// Robot returns NotFound when no robot has the code.
func (s *Store) Robot(ctx context.Context, code string) (*ding.Robot, error) {
	var r ding.Robot
	err := s.readRow(ctx, `SELECT `+robotCols+` FROM robots WHERE robot_code = ?`, code).
		Scan(&r.Code, &r.CorpID, &r.Name, &r.CreatedAt)
	if err != nil {
		return nil, translate(err, "robot")
	}
	return &r, nil
}

// RobotsByCorp lists a corp's robots ordered by code.
func (s *Store) RobotsByCorp(ctx context.Context, corpID string) ([]ding.Robot, error) {
	return scanRobots(s.readRows(ctx, `SELECT `+robotCols+` FROM robots WHERE corp_id = ? ORDER BY robot_code`, corpID))
}

// AddGroupRobot puts a robot in a group with its events.
func (s *Store) AddGroupRobot(ctx context.Context, chatID, code string, at int64, events []ding.Event) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO chat_robots (chat_id, robot_code, added_at) VALUES (?, ?, ?)`, chatID, code, at); err != nil {
			return translate(err, "group robot")
		}
		return s.appendEvents(tx, events)
	})
}

// RemoveGroupRobot takes a robot out of a group with its events.
func (s *Store) RemoveGroupRobot(ctx context.Context, chatID, code string, events []ding.Event) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM chat_robots WHERE chat_id = ? AND robot_code = ?`, chatID, code)
		if err != nil {
			return translate(err, "group robot")
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return translate(sql.ErrNoRows, "group robot")
		}
		return s.appendEvents(tx, events)
	})
}

// GroupRobots lists a group's robots in the order they were added.
func (s *Store) GroupRobots(ctx context.Context, chatID string) ([]ding.Robot, error) {
	return scanRobots(s.readRows(ctx, `SELECT `+prefixed("r.", robotCols)+` FROM chat_robots g
		JOIN robots r ON r.robot_code = g.robot_code WHERE g.chat_id = ? ORDER BY g.added_at, g.robot_code`, chatID))
}

// InGroup reports whether a robot is in a group.
func (s *Store) InGroup(ctx context.Context, chatID, code string) (bool, error) {
	var n int
	err := s.readRow(ctx, `SELECT COUNT(*) FROM chat_robots WHERE chat_id = ? AND robot_code = ?`, chatID, code).Scan(&n)
	return n > 0, translate(err, "group robot")
}

// CreateWebhook stores a custom robot.
func (s *Store) CreateWebhook(ctx context.Context, w *ding.Webhook) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO webhooks (token, corp_id, chat_id, name, secret, keywords, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			w.Token, w.CorpID, w.ChatID, w.Name, w.Secret, jsonText(nonNil(w.Keywords)), w.CreatedAt)
		return translate(err, "webhook")
	})
}

const webhookCols = `token, corp_id, chat_id, name, secret, keywords, created_at`

func scanWebhook(row interface{ Scan(...any) error }) (*ding.Webhook, error) {
	var w ding.Webhook
	var kw string
	if err := row.Scan(&w.Token, &w.CorpID, &w.ChatID, &w.Name, &w.Secret, &kw, &w.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(kw), &w.Keywords); err != nil {
		return nil, err
	}
	return &w, nil
}

// Webhook returns NotFound when no custom robot has the token.
func (s *Store) Webhook(ctx context.Context, token string) (*ding.Webhook, error) {
	w, err := scanWebhook(s.readRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE token = ?`, token))
	if err != nil {
		return nil, translate(err, "webhook")
	}
	return w, nil
}

// Webhooks lists a group's custom robots, oldest first.
func (s *Store) Webhooks(ctx context.Context, chatID string) ([]ding.Webhook, error) {
	rows, err := s.readRows(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE chat_id = ? ORDER BY created_at, rowid`, chatID)
	if err != nil {
		return nil, translate(err, "webhooks")
	}
	defer rows.Close()
	out := []ding.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, translate(err, "webhooks")
		}
		out = append(out, *w)
	}
	return out, translate(rows.Err(), "webhooks")
}

// LimitWebhook runs decide on the stored window and keeps what it leaves.
// The write always commits: a refusal that starts a throttle must persist,
// so decide's error travels beside the transaction, not through it.
func (s *Store) LimitWebhook(ctx context.Context, token string, decide func(*ding.WebhookWindow) error) error {
	var verdict error
	err := s.do(ctx, func(tx *sql.Tx) error {
		var win ding.WebhookWindow
		var sent string
		if err := tx.QueryRow(`SELECT sent, throttled_until FROM webhooks WHERE token = ?`, token).Scan(&sent, &win.ThrottledUntil); err != nil {
			return translate(err, "webhook")
		}
		if err := json.Unmarshal([]byte(sent), &win.Sent); err != nil {
			return translate(err, "webhook window")
		}
		verdict = decide(&win)
		if win.Sent == nil {
			win.Sent = []int64{}
		}
		_, err := tx.Exec(`UPDATE webhooks SET sent = ?, throttled_until = ? WHERE token = ?`, jsonText(win.Sent), win.ThrottledUntil, token)
		return translate(err, "webhook window")
	})
	if err != nil {
		return err
	}
	return verdict
}

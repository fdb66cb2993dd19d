package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

var _ ding.RobotStore = (*Store)(nil)

func queueRobot(b *pgx.Batch, r *ding.Robot) {
	b.Queue(`INSERT INTO robots (robot_code, corp_id, name, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (robot_code) DO UPDATE SET corp_id = excluded.corp_id, name = excluded.name`, r.Code, r.CorpID, r.Name, r.CreatedAt)
}

// SaveRobot creates a robot or updates its corp and name.
func (s *Store) SaveRobot(ctx context.Context, r *ding.Robot) error {
	return s.batch(ctx, "robot "+r.Code, func(b *pgx.Batch) { queueRobot(b, r) })
}

const robotCols = `robot_code, corp_id, name, created_at`

func scanRobot(r pgx.Row) (ding.Robot, error) {
	var x ding.Robot
	err := r.Scan(&x.Code, &x.CorpID, &x.Name, &x.CreatedAt)
	return x, err
}

// robots lists robots, an empty list (not nil) when there are none.
func robots(rows pgx.Rows, err error) ([]ding.Robot, error) {
	out, err := collect(rows, err, "robots", func(r pgx.Rows) (ding.Robot, error) { return scanRobot(r) })
	if err == nil && out == nil {
		out = []ding.Robot{}
	}
	return out, err
}

// Robot returns NotFound when no robot has the code.
func (s *Store) Robot(ctx context.Context, code string) (*ding.Robot, error) {
	r, err := scanRobot(s.q().QueryRow(ctx, `SELECT `+robotCols+` FROM robots WHERE robot_code = $1`, code))
	if err != nil {
		return nil, translate(err, "robot")
	}
	return &r, nil
}

// RobotsByCorp lists a corp's robots ordered by code.
func (s *Store) RobotsByCorp(ctx context.Context, corpID string) ([]ding.Robot, error) {
	return robots(s.q().Query(ctx, `SELECT `+robotCols+` FROM robots WHERE corp_id = $1 ORDER BY robot_code`, corpID))
}

// AddGroupRobot puts a robot in a group with its events, in one round trip.
func (s *Store) AddGroupRobot(ctx context.Context, chatID, code string, at int64, events []ding.Event) error {
	err := s.batch(ctx, "group robot", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO chat_robots (chat_id, robot_code, added_at) VALUES ($1, $2, $3)`, chatID, code, at)
		queueEvents(b, events)
	})
	if err == nil {
		s.tellEvents(events)
	}
	return err
}

// RemoveGroupRobot takes a robot out of a group with its events: the events
// are written only after the delete found the robot.
func (s *Store) RemoveGroupRobot(ctx context.Context, chatID, code string, events []ding.Event) error {
	err := s.tx(ctx, "group robot", func(t *txn) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM chat_robots WHERE chat_id = $1 AND robot_code = $2`, chatID, code).Exec(mustAffect("group robot"))
		if len(events) == 0 {
			return t.commit(ctx, b)
		}
		if err := t.read(ctx, b); err != nil {
			return err
		}
		w := &pgx.Batch{}
		queueEvents(w, events)
		return t.commit(ctx, w)
	})
	if err == nil {
		s.tellEvents(events)
	}
	return err
}

// GroupRobots lists a group's robots in the order they were added.
func (s *Store) GroupRobots(ctx context.Context, chatID string) ([]ding.Robot, error) {
	return robots(s.q().Query(ctx, `SELECT `+prefixed("r.", robotCols)+` FROM chat_robots g
		JOIN robots r ON r.robot_code = g.robot_code WHERE g.chat_id = $1 ORDER BY g.added_at, g.robot_code`, chatID))
}

// InGroup reports whether a robot is in a group.
func (s *Store) InGroup(ctx context.Context, chatID, code string) (bool, error) {
	var in bool
	err := s.q().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM chat_robots WHERE chat_id = $1 AND robot_code = $2)`, chatID, code).Scan(&in)
	return in, translate(err, "group robot")
}

// CreateWebhook stores a custom robot.
func (s *Store) CreateWebhook(ctx context.Context, w *ding.Webhook) error {
	return s.batch(ctx, "webhook", func(b *pgx.Batch) {
		b.Queue(`INSERT INTO webhooks (token, corp_id, chat_id, name, secret, keywords, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			w.Token, w.CorpID, w.ChatID, w.Name, w.Secret, nonNil(w.Keywords), w.CreatedAt)
	})
}

const webhookCols = `token, corp_id, chat_id, name, secret, keywords, created_at`

func scanWebhook(row pgx.Row) (*ding.Webhook, error) {
	var w ding.Webhook
	if err := row.Scan(&w.Token, &w.CorpID, &w.ChatID, &w.Name, &w.Secret, &w.Keywords, &w.CreatedAt); err != nil {
		return nil, err
	}
	w.Keywords = nonNil(w.Keywords)
	return &w, nil
}

// Webhook returns NotFound when no custom robot has the token.
func (s *Store) Webhook(ctx context.Context, token string) (*ding.Webhook, error) {
	w, err := scanWebhook(s.q().QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE token = $1`, token))
	if err != nil {
		return nil, translate(err, "webhook")
	}
	return w, nil
}

// Webhooks lists a group's custom robots, oldest first.
func (s *Store) Webhooks(ctx context.Context, chatID string) ([]ding.Webhook, error) {
	rows, err := s.q().Query(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE chat_id = $1 ORDER BY created_at, n`, chatID)
	out, err := collect(rows, err, "webhooks", func(r pgx.Rows) (ding.Webhook, error) {
		w, err := scanWebhook(r)
		if err != nil {
			return ding.Webhook{}, err
		}
		return *w, nil
	})
	if err == nil && out == nil {
		out = []ding.Webhook{}
	}
	return out, err
}

// LimitWebhook runs decide on the stored window, its row locked, and keeps
// what decide leaves. The write always commits: a refusal that starts a
// throttle must persist, so decide's error travels beside the transaction,
// not through it.
func (s *Store) LimitWebhook(ctx context.Context, token string, decide func(*ding.WebhookWindow) error) error {
	var refusal error
	err := s.tx(ctx, "webhook", func(t *txn) error {
		var win ding.WebhookWindow
		b := &pgx.Batch{}
		b.Queue(`SELECT sent, throttled_until FROM webhooks WHERE token = $1 FOR UPDATE`, token).
			QueryRow(func(r pgx.Row) error { return r.Scan(&win.Sent, &win.ThrottledUntil) })
		if err := t.read(ctx, b); err != nil {
			return err
		}
		if len(win.Sent) == 0 {
			win.Sent = nil
		}
		refusal = decide(&win)
		if win.Sent == nil {
			win.Sent = []int64{}
		}
		w := &pgx.Batch{}
		w.Queue(`UPDATE webhooks SET sent = $1, throttled_until = $2 WHERE token = $3`, win.Sent, win.ThrottledUntil, token)
		return t.commit(ctx, w)
	})
	if err != nil {
		return err
	}
	return refusal
}

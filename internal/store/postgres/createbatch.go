package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/store/knownusers"
	"github.com/jackc/pgx/v5"
)

// Creates go through a group commit of their own: every create writes
// events, and a corp's events are numbered from its counter row, which each
// transaction holds locked from its update to its commit. One transaction
// per create therefore queued a corp's creates one commit (one WAL flush)
// apart. The creates queued while a batch commits travel together in the
// next one: one round trip, one commit, the counter moved once by all
// their events.
const (
	maxCreateBatch   = 64
	maxCreateMembers = 4096 // member rows per batch, beyond the first create
	createWriters    = 2
)

type createReq struct {
	g       *ding.Group
	members []ding.Member
	events  []ding.Event
	err     chan error
}

// createQueue is the creates' group commit, with the head notices that
// ride in its batches' transactions (heads.go).
type createQueue struct {
	commitQueue[*createReq]
	notices notices
}

func (s *Store) startCreators() {
	s.creates.commitQueue = commitQueue[*createReq]{write: s.writeCreates, maxBatch: maxCreateBatch,
		weight: func(r *createReq) int { return len(r.members) }, maxWeight: maxCreateMembers}
	s.creates.start(createWriters)
}

// create queues a create and waits for its outcome, as for sends.
func (s *Store) create(ctx context.Context, r *createReq) error {
	return s.creates.submit(ctx, r, r.err)
}

// writeCreates commits a batch of creates in one round trip and answers
// each; a batch that fails as a whole (a taken chatid, a member listed
// twice) is written create by create, so that each gets its own answer.
// The head notices waiting ride in the first transaction; when it fails
// they are sent alone, and never fail a create.
func (s *Store) writeCreates(batch []*createReq) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	s.creates.notices.begin()
	defer func() { s.creates.notices.end(len(s.creates.reqs) > 0) }()
	ns := s.creates.notices.take()
	if len(batch) == 1 {
		r := batch[0]
		err := s.createOne(ctx, r.g, r.members, r.events, ns)
		if err != nil && len(ns) > 0 {
			err = s.createOne(ctx, r.g, r.members, r.events, nil)
		}
		r.err <- err
		return
	}
	var events []ding.Event
	for _, r := range batch {
		events = append(events, r.events...)
	}
	checks := make([]*usersCheck, len(batch))
	err := s.batchOf(ctx, "group", len(batch), func(b *pgx.Batch) {
		queueGenericPlans(b)
		for i, r := range batch {
			checks[i] = s.queueCreate(b, r.g, r.members)
		}
		queueEvents(b, events)
		for _, n := range ns {
			n.queue(b) // announced when the batch commits
		}
	})
	answer(ns, err == nil)
	if err == nil {
		s.tellEvents(events)
		for i, r := range batch {
			checks[i].learn(&s.users)
			copy(r.events, events[:len(r.events)])
			events = events[len(r.events):]
			r.g.MemberCount = len(r.members)
			r.err <- nil
		}
		return
	}
	for _, r := range batch {
		r.err <- s.createOne(ctx, r.g, r.members, r.events, nil)
	}
}

// queueGenericPlans makes the rest of the batch's implicit transaction
// reuse each statement's generic plan instead of planning it for every run
// (the pool's force_custom_plan, postgres.go). It matters for the foreign
// keys: each member row's check that its group exists (chat_members to
// chats) is a statement of its own, run through SPI, and under
// force_custom_plan PostgreSQL planned it anew for every row, which was
// nearly half of the database's CPU per create. Every statement of a create
// reaches its rows through a primary key (chats, chat_members, event_seqs;
// the checks look up chats' and corps' keys), so one plan fits every run
// whatever the tables' size.
func queueGenericPlans(b *pgx.Batch) {
	b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
}

// queueCreate queues the check of the staff members (the whole
// transaction fails with codeUnknownUser when one is no user of the corp),
// the group's row and its members. Staff members this node found before
// are checked only when users were removed since (migration 0012).
func (s *Store) queueCreate(b *pgx.Batch, g *ding.Group, members []ding.Member) *usersCheck {
	c := &usersCheck{corp: g.CorpID, staff: ding.StaffIDs(members), removed: -1}
	if len(c.staff) > 0 {
		known := int64(-1) // NULL: check them all
		if ok, gen := s.users.All(c.corp, c.staff); ok {
			known = int64(gen)
		}
		b.Queue(`SELECT dingchat_check_users($1, $2::text[], NULLIF($3::bigint, -1))`, c.corp, c.staff, known).
			QueryRow(func(r pgx.Row) error {
				if err := r.Scan(&c.removed); err != nil {
					return err
				}
				if c.removed != known {
					s.userReads.Add(1) // the check read every one
				}
				return nil
			})
	}
	row := *g
	row.MemberCount = len(members)
	b.Queue(`INSERT INTO chats (`+chatCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		groupArgs(&row)...)
	queueMembers(b, g.ChatID, members)
	return c
}

// usersCheck is a create's check of its staff members and, once run, the
// stamp of the last removal of users its answer belongs to (-1 until then).
type usersCheck struct {
	corp    string
	staff   []string
	removed int64
}

// learn remembers, after the create committed, that its staff members are
// users of the corp as of the stamp the check read.
func (c *usersCheck) learn(k *knownusers.Set) {
	if len(c.staff) == 0 || c.removed < 0 {
		return
	}
	k.Advance(uint64(c.removed))
	k.Add(uint64(c.removed), c.corp, c.staff)
}

// createOne stores one create in its own transaction, with the notices
// ns, which it answers.
func (s *Store) createOne(ctx context.Context, g *ding.Group, members []ding.Member, events []ding.Event, ns []*notice) error {
	var check *usersCheck
	err := s.batch(ctx, "group", func(b *pgx.Batch) {
		queueGenericPlans(b)
		check = s.queueCreate(b, g, members)
		queueEvents(b, events)
		for _, n := range ns {
			n.queue(b)
		}
	})
	answer(ns, err == nil)
	if err != nil {
		return err
	}
	check.learn(&s.users)
	s.tellEvents(events)
	g.MemberCount = len(members)
	return nil
}

package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
)

// Pages of messages are read by a few readers, each sending the pages
// asked for while its last batch was out in one pipeline: one write and
// one read on the pool's connection, and one wake-up of its backend, for
// all of them, where each page alone paid its own round trip and a pool
// connection of its own. A lone page still goes at once, in a batch of one.
// A pipeline's pages run one after another in one backend, so the readers
// are half the pool: on 2 cores (a pool of 4) two readers served as many
// pages as one and more than three, which ran more backends on the same
// cores; a larger pool is a machine, or a database, with cores to run more.
// The other half is left to writes and header reads.
const maxPageBatch = 64

func pageReaders(poolSize int32) int {
	return max(1, int(poolSize)/2)
}

type pageReq struct {
	chatID string
	q      ding.MessageQuery
	out    []ding.Message
	done   chan error
}

func (s *Store) startPageReaders() {
	s.pages.write, s.pages.maxBatch = s.readPages, maxPageBatch
	s.pages.start(pageReaders(s.pool.Config().MaxConns))
}

// Each page runs on a generic plan, set once for the pipeline's implicit
// transaction: the pool plans every statement for its arguments
// (postgres.go), and for a page, whose only plan is a walk of the primary
// key (chat_id, seq) from one end, planning it anew each time was a fixed
// cost of each page.
const (
	pagePlanSQL = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`
	pageDescSQL = `SELECT ` + pageCols + ` FROM messages WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`
	pageAscSQL  = `SELECT ` + pageCols + ` FROM messages WHERE chat_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`
)

func queuePage(b *pgx.Batch, r *pageReq) {
	var qq *pgx.QueuedQuery
	if r.q.Desc {
		before := r.q.Before
		if before <= 0 {
			before = 1<<63 - 1
		}
		qq = b.Queue(pageDescSQL, r.chatID, before, r.q.Limit)
	} else {
		qq = b.Queue(pageAscSQL, r.chatID, r.q.After, r.q.Limit)
	}
	qq.Query(func(rows pgx.Rows) (err error) {
		r.out, err = scanPage(rows, r.chatID, r.q.Limit)
		return err
	})
}

// readPages reads a batch of pages in one pipeline and answers each. When
// the pipeline fails, each page is read again alone, so that one page's
// failure is its own answer and not its neighbours'.
func (s *Store) readPages(batch []*pageReq) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout) // bounds the retries too
	defer cancel()
	err := s.readPageBatch(ctx, batch)
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			if err != nil {
				r.out = nil
			}
			r.done <- err
		}
		return
	}
	for _, r := range batch {
		r.out = nil
		err := s.readPageBatch(ctx, []*pageReq{r})
		if err != nil {
			r.out = nil
		}
		r.done <- err
	}
}

func (s *Store) readPageBatch(ctx context.Context, batch []*pageReq) error {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(batch)+1)}
	b.Queue(pagePlanSQL)
	for _, r := range batch {
		queuePage(b, r)
	}
	return s.pool.SendBatch(ctx, b).Close()
}

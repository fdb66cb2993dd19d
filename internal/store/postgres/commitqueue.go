package postgres

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

// commitQueue is a node's group commit: requests queued while a batch
// commits travel together in the next one, written by a few writers (one
// commits while the next batch forms). Sends and creates each have one;
// pages of messages use the same loop to read in batches (pages.go).
type commitQueue[R any] struct {
	reqs chan R
	stop chan struct{}
	done chan struct{}

	write     func([]R) // commits a batch and answers each request
	maxBatch  int
	weight    func(R) int // a request's rows; nil counts 1 each
	maxWeight int
}

func (q *commitQueue[R]) start(writers int) {
	q.reqs, q.stop, q.done = make(chan R, 4*q.maxBatch), make(chan struct{}), make(chan struct{})
	finished := make(chan struct{}, writers)
	for range writers {
		go func() {
			q.loop()
			finished <- struct{}{}
		}()
	}
	go func() {
		for range writers {
			<-finished
		}
		close(q.done)
	}()
}

// close writes what is queued and stops the writers.
func (q *commitQueue[R]) close() {
	close(q.stop)
	<-q.done
}

// submit queues r and waits for its outcome on errc. Once queued, the
// outcome is awaited even if ctx ends, so a caller never reports failure
// for a write that committed.
func (q *commitQueue[R]) submit(ctx context.Context, r R, errc <-chan error) error {
	return q.await(ctx, r, errc, nil)
}

// ask queues a read and waits for its outcome or for ctx to end: nobody
// needs a read's outcome once its caller is gone.
func (q *commitQueue[R]) ask(ctx context.Context, r R, errc <-chan error) error {
	return q.await(ctx, r, errc, ctx.Done())
}

func (q *commitQueue[R]) await(ctx context.Context, r R, errc <-chan error, gone <-chan struct{}) error {
	select {
	case q.reqs <- r:
	case <-ctx.Done():
		return cancelled(ctx)
	case <-q.stop:
		return errClosed
	}
	select {
	case err := <-errc:
		return err
	case <-gone:
		return cancelled(ctx)
	case <-q.done:
		select {
		case err := <-errc:
			return err
		default:
			return errClosed // queued after the final drain
		}
	}
}

func cancelled(ctx context.Context) error {
	return &ding.Error{Kind: ding.Unavailable, Message: "request cancelled", Err: ctx.Err()}
}

func (q *commitQueue[R]) loop() {
	batch := make([]R, 0, q.maxBatch)
	for {
		batch = batch[:0]
		var first R
		select {
		case first = <-q.reqs:
		case <-q.stop:
			for {
				select {
				case r := <-q.reqs:
					q.write([]R{r})
				default:
					return
				}
			}
		}
		batch = append(batch, first)
		rows := q.rows(first)
	drain:
		for len(batch) < q.maxBatch && (q.weight == nil || rows < q.maxWeight) {
			select {
			case r := <-q.reqs:
				batch = append(batch, r)
				rows += q.rows(r)
			default:
				break drain
			}
		}
		q.write(batch)
	}
}

func (q *commitQueue[R]) rows(r R) int {
	if q.weight == nil {
		return 1
	}
	return q.weight(r)
}

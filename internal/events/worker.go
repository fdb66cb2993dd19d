package events

import (
	"context"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// worker delivers one subscription's events of one corp, in order, while
// its node holds the cursor's lease.
type worker struct {
	d     *Dispatcher
	subID string
	cur   ding.Cursor // the saved state; pending holds what is not saved yet

	pending   []ding.Delivery
	failed    []ding.FailedEvent
	dirty     bool
	lastSave  time.Time
	leaseTill int64
}

func (w *worker) consumer() string { return w.cur.Consumer }

func (w *worker) run(ctx context.Context) {
	d := w.d
	w.leaseTill = w.cur.LeaseUntil
	w.lastSave = time.Now()
	defer func() {
		// save what was done and hand the cursor back, even while shutting down
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if w.save(sctx) {
			d.store.ReleaseCursor(sctx, w.cur.Consumer, w.cur.CorpID, d.cfg.Node)
		}
	}()
	for ctx.Err() == nil {
		sub := d.sub(w.subID)
		if sub == nil {
			return
		}
		now := d.clock.Now().UnixMilli()
		// renew the lease well before it runs out
		if w.leaseTill-now < d.cfg.Lease.Milliseconds()*2/3 || (w.dirty && time.Since(w.lastSave) >= d.cfg.Flush) {
			if !w.save(ctx) {
				return
			}
		}
		if w.cur.NextAt > now {
			w.sleep(ctx, nil, time.Duration(w.cur.NextAt-now)*time.Millisecond)
			continue
		}
		wait := d.waitFor(w.cur.CorpID, w.cur.Seq)
		if wait != nil {
			if w.dirty && !w.save(ctx) {
				return
			}
			w.sleep(ctx, wait, d.cfg.Lease/3)
			continue
		}
		evs, err := d.store.Events(ctx, w.cur.CorpID, w.cur.Seq, d.cfg.BatchEvents)
		if err != nil {
			w.sleep(ctx, nil, d.cfg.Poll*4)
			continue
		}
		if len(evs) == 0 {
			// the head was read before our cursor caught up; wait for the next move
			w.sleep(ctx, d.nextMove(w.cur.CorpID), d.cfg.Poll*4)
			continue
		}
		for i := range evs {
			if ctx.Err() != nil || !w.deliver(ctx, sub, &evs[i]) {
				break
			}
			if time.Since(w.lastSave) >= d.cfg.Flush && !w.save(ctx) {
				return
			}
		}
	}
}

// sleep waits for wake, for d, or for ctx, whichever comes first; a short
// cap keeps a movable clock's jumps visible.
func (w *worker) sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) {
	if d > w.d.cfg.Refresh {
		d = w.d.cfg.Refresh
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}

// deliver pushes ev once and records the attempt; it reports whether the
// worker may go on to the next event.
func (w *worker) deliver(ctx context.Context, sub *ding.Subscription, ev *ding.Event) bool {
	d := w.d
	if !sub.Wants(ev.Type) {
		w.advance(ev.Seq)
		return true
	}
	biz := d.Biz(ctx, ev)
	plain := d.pusher.Payload(sub, ev, biz, EventID(ev.CorpID, ev.Seq))
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	at := d.clock.Now().UnixMilli()
	pctx, cancel := context.WithTimeout(ctx, d.cfg.PushTimeout)
	res := d.pusher.Push(pctx, sub, plain)
	cancel()
	<-d.sem
	if ctx.Err() != nil && res.Failure != "" {
		return false // shutting down: this attempt does not count
	}
	attempt := w.cur.Attempts + 1
	rec := ding.Delivery{Consumer: w.cur.Consumer, CorpID: ev.CorpID, Seq: ev.Seq, EventType: ev.Type, Attempt: attempt,
		At: at, Status: res.Status, LatencyMs: res.LatencyMs, Outcome: ding.DeliveryOK, Payload: string(plain)}
	ok := res.Failure == ""
	if !ok {
		rec.Error = res.Failure
		if res.Err != nil {
			rec.Error += ": " + res.Err.Error()
		}
		if attempt >= d.cfg.MaxAttempts {
			rec.Outcome = ding.DeliveryFailed
			w.failed = append(w.failed, ding.FailedEvent{SubID: sub.ID, CorpID: ev.CorpID, Seq: ev.Seq, Type: ev.Type,
				EventTime: ev.CreatedAt, Payload: string(legacyPayload(d, sub, ev, biz))})
		} else {
			rec.Outcome = ding.DeliveryRetry
		}
	}
	w.pending = append(w.pending, rec)
	w.dirty = true
	if d.cfg.OnDelivery != nil {
		d.cfg.OnDelivery(rec)
	}
	switch rec.Outcome {
	case ding.DeliveryOK, ding.DeliveryFailed:
		w.advance(ev.Seq)
		return true
	default:
		w.cur.Attempts = attempt
		w.cur.NextAt = d.clock.Now().Add(d.cfg.Retries[min(attempt-1, len(d.cfg.Retries)-1)]).UnixMilli()
		return false
	}
}

// legacyPayload is what get_call_back_failed_result lists of an event: the
// legacy dialect, whatever the subscription speaks.
func legacyPayload(d *Dispatcher, sub *ding.Subscription, ev *ding.Event, biz map[string]any) []byte {
	legacy := *sub
	legacy.Kind = ding.SubRegister
	return d.pusher.Payload(&legacy, ev, biz, EventID(ev.CorpID, ev.Seq))
}

func (w *worker) advance(seq int64) {
	w.cur.Seq = seq
	w.cur.Attempts = 0
	w.cur.NextAt = 0
	w.dirty = true
}

// save writes the cursor, the attempts and the failed results and renews
// the lease; false when the lease is lost (another node took over).
func (w *worker) save(ctx context.Context) bool {
	d := w.d
	until := d.clock.Now().UnixMilli() + d.cfg.Lease.Milliseconds()
	p := &ding.Progress{Consumer: w.cur.Consumer, CorpID: w.cur.CorpID, Owner: d.cfg.Node, Seq: w.cur.Seq,
		Attempts: w.cur.Attempts, NextAt: w.cur.NextAt, LeaseUntil: until, Deliveries: w.pending, Failed: w.failed}
	err := d.store.SaveProgress(ctx, p)
	if ding.IsKind(err, ding.Conflict) {
		d.log.Warn("events: lease lost; another node delivers now", "consumer", w.cur.Consumer, "corp", w.cur.CorpID)
		return false
	}
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("events: save progress", "consumer", w.cur.Consumer, "err", err)
		}
		return true // keep what is pending and try again
	}
	w.pending, w.failed, w.dirty = nil, nil, false
	w.lastSave = time.Now()
	w.leaseTill = until
	return true
}

package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// worker delivers one subscription's events of one corp, in order, while
// its node holds the cursor's lease.
type worker struct {
	d    *Dispatcher
	sink sink
	cur  ding.Cursor // the saved state; pending holds what is not saved yet

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
		if !w.sink.alive() {
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
			if ctx.Err() != nil || !w.deliver(ctx, &evs[i]) {
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

// deliver makes one attempt at ev and records it; it reports whether the
// worker may go on to the next event.
func (w *worker) deliver(ctx context.Context, ev *ding.Event) bool {
	d := w.d
	biz := d.Biz(ctx, ev)
	if !w.sink.wants(ev, biz) {
		w.advance(ev.Seq)
		return true
	}
	paced, ok := d.giveWay(ctx)
	if !ok {
		return false
	}
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		if paced {
			d.leave(0)
		}
		return false
	}
	start := time.Now()
	at := d.clock.Now().UnixMilli()
	fault := w.fault(ctx, ev)
	var payload []byte
	var res ding.PushResult
	var once bool
	if fault.Delay > 0 {
		t := time.NewTimer(fault.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	if fault.Fail || fault.Close {
		if fault.Close {
			w.sink.drop()
		}
		payload, _ = json.Marshal(biz)
		res = ding.PushResult{Failure: ding.PushBadReply, Err: fmt.Errorf("injected by fault rule %s", fault.RuleID)}
	} else {
		pctx, cancel := context.WithTimeout(ctx, d.cfg.PushTimeout)
		payload, res, once = w.sink.deliver(pctx, ev, biz)
		cancel()
		for i := 0; i < fault.Duplicate && res.Failure == ""; i++ {
			pctx, cancel := context.WithTimeout(ctx, d.cfg.PushTimeout)
			w.sink.deliver(pctx, ev, biz) // a duplicate, as DingTalk may send: its outcome changes nothing
			cancel()
		}
	}
	<-d.sem
	if paced {
		d.leave(time.Since(start))
	}
	if ctx.Err() != nil && res.Failure != "" {
		return false // shutting down: this attempt does not count
	}
	if res.Failure == ding.PushUnreachable && !w.sink.alive() {
		return false // the client left mid-delivery: whoever holds it next tries again
	}
	attempt := w.cur.Attempts + 1
	rec := ding.Delivery{Consumer: w.cur.Consumer, CorpID: ev.CorpID, Seq: ev.Seq, EventType: ev.Type, Attempt: attempt,
		At: at, Status: res.Status, LatencyMs: res.LatencyMs, Outcome: ding.DeliveryOK, Payload: string(payload)}
	if res.Failure != "" {
		rec.Error = res.Failure
		if res.Err != nil {
			rec.Error += ": " + res.Err.Error()
		}
		if once || attempt >= d.cfg.MaxAttempts {
			rec.Outcome = ding.DeliveryFailed
			if f := w.sink.giveUp(ev, biz); f != nil {
				w.failed = append(w.failed, *f)
			}
		} else {
			rec.Outcome = ding.DeliveryRetry
		}
	}
	w.pending = append(w.pending, rec)
	w.dirty = true
	if d.cfg.OnDelivery != nil {
		d.cfg.OnDelivery(rec)
	}
	if rec.Outcome == ding.DeliveryRetry {
		w.cur.Attempts = attempt
		w.cur.NextAt = d.clock.Now().Add(d.cfg.Retries[min(attempt-1, len(d.cfg.Retries)-1)]).UnixMilli()
		return false
	}
	w.advance(ev.Seq)
	return true
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

// fault asks the test controls' delivery-fault rules about this attempt.
func (w *worker) fault(ctx context.Context, ev *ding.Event) ding.DeliveryFault {
	if w.d.cfg.Faults == nil {
		return ding.DeliveryFault{}
	}
	p := ding.Push{Channel: ding.DeliveryCallback, CorpID: ev.CorpID, EventType: ev.Type, Body: ev.Data}
	kind, id, _ := strings.Cut(w.cur.Consumer, ":")
	p.Subscription = id
	if kind == "stream" {
		p.Channel, p.AppKey = ding.DeliveryStream, id
	} else if sub := w.d.sub(id); sub != nil {
		p.AppKey = sub.Key
	}
	return w.d.cfg.Faults.DeliveryFault(ctx, p)
}

package events

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// sink is where one consumer's events go: an HTTP subscription or a
// Stream client.
type sink interface {
	// alive reports whether the consumer can still take events here: its
	// subscription exists, or its client is connected to this node.
	alive() bool
	// wants reports whether the consumer takes ev.
	wants(ev *ding.Event, biz map[string]any) bool
	// deliver makes one attempt; once marks fire-and-forget deliveries
	// (robot messages), which are never retried.
	deliver(ctx context.Context, ev *ding.Event, biz map[string]any) (payload []byte, res ding.PushResult, once bool)
	// giveUp is what get_call_back_failed_result lists once ev is given up
	// on; nil when the consumer has no such list.
	giveUp(ev *ding.Event, biz map[string]any) *ding.FailedEvent
	// drop closes the consumer's connection (a Stream socket); HTTP has none.
	drop()
}

// httpSink pushes to an HTTP subscription.
type httpSink struct {
	d     *Dispatcher
	subID string
}

func (s *httpSink) sub() *ding.Subscription { return s.d.sub(s.subID) }

func (s *httpSink) alive() bool { return s.sub() != nil }

func (s *httpSink) wants(ev *ding.Event, biz map[string]any) bool {
	sub := s.sub()
	if sub == nil {
		return false
	}
	if sub.Kind == ding.SubRobot {
		return ev.Type == ding.EventBotMessage && biz["appKey"] == sub.Key
	}
	if ev.Type == ding.EventChatDisbandMicroapp && sub.Kind == ding.SubSuitePush && biz["suiteKey"] != sub.Key {
		return false // another suite's micro-app
	}
	return sub.Wants(ev.Type)
}

func (s *httpSink) deliver(ctx context.Context, ev *ding.Event, biz map[string]any) ([]byte, ding.PushResult, bool) {
	sub := s.sub()
	if sub == nil {
		return nil, ding.PushResult{Failure: ding.PushUnreachable, Err: errors.New("subscription deleted")}, false
	}
	if sub.Kind == ding.SubRobot {
		body := botPayload(biz, s.d.cfg.PublicURL)
		return body, s.d.postRobot(ctx, sub, body), true
	}
	plain := s.d.payload(sub, ev, biz)
	return plain, s.d.pusher.Push(ctx, sub, plain), false
}

func (s *httpSink) drop() {}

func (s *httpSink) giveUp(ev *ding.Event, biz map[string]any) *ding.FailedEvent {
	sub := s.sub()
	if sub == nil || sub.Kind == ding.SubRobot {
		return nil
	}
	legacy := *sub
	legacy.Kind = ding.SubRegister
	return &ding.FailedEvent{SubID: sub.ID, CorpID: ev.CorpID, Seq: ev.Seq, Type: ev.Type, EventTime: ev.CreatedAt,
		Payload: string(s.d.pusher.Payload(&legacy, ev, biz, ding.EventID(ev.CorpID, ev.Seq)))}
}

// streamSink sends to one of a Stream client's connections on this node.
type streamSink struct {
	d        *Dispatcher
	clientID string
}

func (s *streamSink) alive() bool {
	for _, c := range s.d.hub.Clients() {
		if c == s.clientID {
			return true
		}
	}
	return false
}

func (s *streamSink) wants(ev *ding.Event, biz map[string]any) bool {
	if ev.Type == ding.EventBotMessage {
		return biz["appKey"] == s.clientID
	}
	if ev.Type == ding.EventChatDisbandMicroapp {
		return biz["suiteKey"] == s.clientID
	}
	return ding.Pushed(ev.Type)
}

// botMaxAge is how old a robot message may be when its client connects:
// a bot that was away does not get a backlog of questions whose
// sessionWebhook is about to expire; DingTalk drops them too.
const botMaxAge = time.Minute

func (s *streamSink) deliver(ctx context.Context, ev *ding.Event, biz map[string]any) ([]byte, ding.PushResult, bool) {
	start := time.Now()
	if ev.Type == ding.EventBotMessage {
		if age := s.d.clock.Now().UnixMilli() - ev.CreatedAt; age > botMaxAge.Milliseconds() {
			return nil, ding.PushResult{Failure: ding.PushTimeout, Err: fmt.Errorf("robot message %s old: not sent", time.Duration(age)*time.Millisecond)}, true
		}
		body := botPayload(biz, s.d.hub.BaseURL(s.clientID))
		f := ding.StreamFrame{Type: ding.StreamCallback, Headers: map[string]string{"topic": ding.TopicBotMessage, "appId": s.clientID}, Data: string(body)}
		_, ok, err := s.d.hub.Send(ctx, s.clientID, f, false)
		return body, streamResult(start, ding.StreamAck{Code: http.StatusOK}, ok, err), true
	}
	data, _ := json.Marshal(biz)
	f := ding.StreamFrame{Type: ding.StreamEvent, Data: string(data), Headers: map[string]string{
		"topic": "*", "eventId": ding.EventID(ev.CorpID, ev.Seq), "eventType": ev.Type, "eventCorpId": ev.CorpID,
		"eventBornTime": strconv.FormatInt(ev.CreatedAt, 10), "eventUnifiedAppId": s.clientID,
	}}
	actx, cancel := context.WithTimeout(ctx, s.d.cfg.AckTimeout)
	defer cancel()
	a, ok, err := s.d.hub.Send(actx, s.clientID, f, true)
	return data, streamResult(start, a, ok, err), false
}

// streamResult reads an ACK the way the SDKs mean it: code 200 is
// success unless data says LATER; any other code is a failure.
func streamResult(start time.Time, a ding.StreamAck, ok bool, err error) ding.PushResult {
	r := ding.PushResult{Status: a.Code, LatencyMs: time.Since(start).Milliseconds()}
	switch {
	case !ok:
		r.Failure, r.Err = ding.PushUnreachable, errors.New("no connection of the client takes this frame")
	case errors.Is(err, context.DeadlineExceeded):
		r.Failure, r.Err = ding.PushTimeout, errors.New("no ACK in time")
	case err != nil:
		r.Failure, r.Err = ding.PushUnreachable, err
	case a.Code != http.StatusOK:
		r.Failure, r.Err = ding.PushBadReply, fmt.Errorf("ACK code %d %s", a.Code, a.Message)
	default:
		var d struct{ Status string }
		if json.Unmarshal([]byte(a.Data), &d) == nil && strings.EqualFold(d.Status, "LATER") {
			r.Failure, r.Err = ding.PushNotSuccess, errors.New("the client answered LATER")
		}
	}
	return r
}

func (s *streamSink) giveUp(*ding.Event, map[string]any) *ding.FailedEvent { return nil }

func (s *streamSink) drop() { s.d.hub.Drop(s.clientID) }

// botPayload is a robot callback's body: the event's fields without the
// routing ones, with the sessionWebhook on base.
func botPayload(biz map[string]any, base string) []byte {
	v := make(map[string]any, len(biz))
	for k, x := range biz {
		switch k {
		case "appKey", "session", "chatId", "corpId", "operator", "operatorUnionId", "openConversationId", "timeStamp":
		default:
			v[k] = x
		}
	}
	if tok, _ := biz["session"].(string); tok != "" {
		v["sessionWebhook"] = strings.TrimRight(base, "/") + "/robot/sendBySession?session=" + tok
	}
	b, _ := json.Marshal(v)
	return b
}

// postRobot is a robot's HTTP mode: the message as JSON with DingTalk's
// timestamp and sign headers, signed with the app's secret.
func (d *Dispatcher) postRobot(ctx context.Context, sub *ding.Subscription, body []byte) ding.PushResult {
	start := time.Now()
	app, err := d.store.App(ctx, sub.Key)
	if err != nil {
		return ding.PushResult{Failure: ding.PushUnreachable, Err: fmt.Errorf("robot's app: %w", err)}
	}
	ts := strconv.FormatInt(d.clock.Now().UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(app.Secret))
	m.Write([]byte(ts + "\n" + app.Secret))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, strings.NewReader(string(body)))
	if err != nil {
		return ding.PushResult{Failure: ding.PushUnreachable, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	resp, err := d.robotClient.Do(req)
	r := ding.PushResult{LatencyMs: time.Since(start).Milliseconds()}
	if err != nil {
		r.Failure, r.Err = ding.PushUnreachable, err
		return r
	}
	resp.Body.Close()
	r.Status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		r.Failure, r.Err = ding.PushBadReply, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return r
}

// payload is ev's plaintext in sub's dialect; every subscription of one
// dialect pushes the same bytes (encrypted each with its own key), so it
// is built once.
func (d *Dispatcher) payload(sub *ding.Subscription, ev *ding.Event, biz map[string]any) []byte {
	k := ev.CorpID + "\x00" + strconv.FormatInt(ev.Seq, 10) + "\x00" + strconv.Itoa(sub.Dialect())
	d.mu.Lock()
	p, ok := d.payloads[k]
	d.mu.Unlock()
	if ok {
		return p
	}
	p = d.pusher.Payload(sub, ev, biz, ding.EventID(ev.CorpID, ev.Seq))
	d.mu.Lock()
	if len(d.payloads) >= 4096 {
		clear(d.payloads)
	}
	d.payloads[k] = p
	d.mu.Unlock()
	return p
}

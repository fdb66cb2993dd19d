package dingchatapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/service"
)

// pushRequest sets an app's or a suite's HTTP push, as the developer
// console's event subscription page does.
type pushRequest struct {
	URL        string   `json:"url"`
	Token      string   `json:"token"`
	AESKey     string   `json:"aesKey"`
	EventTypes []string `json:"eventTypes"`
	// Verify posts check_url first (default true), as the console's button does.
	Verify *bool `json:"verify"`
}

type pushResponse struct {
	Kind       string   `json:"kind"`
	Key        string   `json:"key"`
	CorpID     string   `json:"corpId,omitempty"`
	URL        string   `json:"url"`
	Token      string   `json:"token"`
	AESKey     string   `json:"aesKey"`
	OwnerKey   string   `json:"ownerKey"`
	EventTypes []string `json:"eventTypes"`
	CreatedAt  int64    `json:"createdAt"`
	UpdatedAt  int64    `json:"updatedAt"`
}

func pushView(s *ding.Subscription) pushResponse {
	types := s.Types
	if types == nil {
		types = []string{}
	}
	return pushResponse{Kind: s.Kind, Key: s.Key, CorpID: s.CorpID, URL: s.URL, Token: s.Token, AESKey: s.AESKey,
		OwnerKey: s.OwnerKey, EventTypes: types, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func (a *API) setPush(kind string) func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		var req pushRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		in := service.PushInput{URL: req.URL, Token: req.Token, AESKey: req.AESKey, Types: req.EventTypes}
		verify := req.Verify == nil || *req.Verify
		var sub *ding.Subscription
		var err error
		if kind == ding.SubSuitePush {
			sub, err = a.svc.SetSuitePush(r.Context(), r.PathValue("key"), in, verify)
		} else {
			sub, err = a.svc.SetAppPush(r.Context(), r.PathValue("key"), in, verify)
		}
		if err != nil {
			return nil, err
		}
		return pushView(sub), nil
	}
}

func (a *API) getPush(kind string) func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		sub, err := a.svc.Subscription(r.Context(), kind, r.PathValue("key"))
		if err != nil {
			return nil, err
		}
		return pushView(sub), nil
	}
}

func (a *API) deletePush(kind string) func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		if err := a.svc.DeletePush(r.Context(), kind, r.PathValue("key")); err != nil {
			return nil, err
		}
		return okResponse{OK: true}, nil
	}
}

func (a *API) subscriptions(r *http.Request) (any, error) {
	subs, err := a.svc.Subscriptions(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]pushResponse, len(subs))
	for i := range subs {
		out[i] = pushView(&subs[i])
	}
	return map[string]any{"subscriptions": out}, nil
}

type deliveryView struct {
	ID         int64           `json:"id"`
	Consumer   string          `json:"consumer"`
	CorpID     string          `json:"corpId"`
	Seq        int64           `json:"seq"`
	EventType  string          `json:"eventType"`
	Attempt    int             `json:"attempt"`
	At         int64           `json:"at"`
	HTTPStatus int             `json:"httpStatus"`
	LatencyMs  int64           `json:"latencyMs"`
	Outcome    string          `json:"outcome"`
	Error      string          `json:"error,omitempty"`
	Payload    json.RawMessage `json:"payload"`
}

func deliveryViews(ds []ding.Delivery) []deliveryView {
	out := make([]deliveryView, len(ds))
	for i, d := range ds {
		p := json.RawMessage(d.Payload)
		if !json.Valid(p) {
			p, _ = json.Marshal(d.Payload)
		}
		out[i] = deliveryView{ID: d.ID, Consumer: d.Consumer, CorpID: d.CorpID, Seq: d.Seq, EventType: d.EventType, Attempt: d.Attempt,
			At: d.At, HTTPStatus: d.Status, LatencyMs: d.LatencyMs, Outcome: d.Outcome, Error: d.Error, Payload: p}
	}
	return out
}

type eventView struct {
	Seq                int64           `json:"seq"`
	EventID            string          `json:"eventId"`
	Type               string          `json:"type"`
	Pushed             bool            `json:"pushed"`
	ChatID             string          `json:"chatId"`
	OpenConversationID string          `json:"openConversationId"`
	Operator           string          `json:"operator"`
	CreatedAt          int64           `json:"createdAt"`
	Data               json.RawMessage `json:"data"`
	Deliveries         []deliveryView  `json:"deliveries"`
}

// intParam reads an optional integer query parameter.
func intParam(r *http.Request, key string) (int64, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "%s must be a non-negative integer", key)
	}
	return n, nil
}

// eventLog pages a corp's event log oldest first: ?after=SEQ&limit=N; the
// answer's next is the after of the next page. With order=desc it pages
// newest first: ?order=desc&before=SEQ (0 = from the newest); next is the
// before of the next, older, page, 0 at the start of the log.
func (a *API) eventLog(r *http.Request) (any, error) {
	after, err := intParam(r, "after")
	if err != nil {
		return nil, err
	}
	before, err := intParam(r, "before")
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit")
	if err != nil {
		return nil, err
	}
	var entries []service.EventEntry
	desc := false
	switch r.URL.Query().Get("order") {
	case "", "asc":
		entries, err = a.svc.EventLog(r.Context(), r.PathValue("corpid"), after, int(limit))
	case "desc":
		desc = true
		entries, err = a.svc.EventLogBefore(r.Context(), r.PathValue("corpid"), before, int(limit))
	default:
		err = ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "order is asc or desc")
	}
	if err != nil {
		return nil, err
	}
	out := make([]eventView, len(entries))
	next := after
	if desc {
		next = 0
		if n := len(entries); n > 0 && entries[n-1].Event.Seq > 1 {
			next = entries[n-1].Event.Seq
		}
	}
	for i, e := range entries {
		data := json.RawMessage(e.Event.Data)
		if len(data) == 0 {
			data = json.RawMessage("{}")
		}
		out[i] = eventView{Seq: e.Event.Seq, EventID: ding.EventID(e.Event.CorpID, e.Event.Seq), Type: e.Event.Type,
			Pushed: ding.Pushed(e.Event.Type), ChatID: e.Event.ChatID, OpenConversationID: e.Event.OpenConversationID,
			Operator: e.Event.Operator, CreatedAt: e.Event.CreatedAt, Data: data, Deliveries: deliveryViews(e.Deliveries)}
		if !desc {
			next = e.Event.Seq
		}
	}
	return map[string]any{"events": out, "next": next}, nil
}

// deliveries pages delivery attempts newest first: ?consumer=&corpId=&before=ID&limit=N.
func (a *API) deliveries(r *http.Request) (any, error) {
	before, err := intParam(r, "before")
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit")
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	ds, err := a.svc.Deliveries(r.Context(), ding.DeliveryFilter{Consumer: q.Get("consumer"), CorpID: q.Get("corpId"), Before: before, Limit: int(limit)})
	if err != nil {
		return nil, err
	}
	var next int64
	if len(ds) > 0 {
		next = ds[len(ds)-1].ID
	}
	return map[string]any{"deliveries": deliveryViews(ds), "next": next}, nil
}

type robotURLRequest struct {
	MessageURL string `json:"messageUrl"`
}

// setRobotURL sets an app robot's HTTP mode ("" turns it off: Stream only).
func (a *API) setRobotURL(r *http.Request) (any, error) {
	var req robotURLRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := a.svc.SetRobotURL(r.Context(), r.PathValue("key"), req.MessageURL); err != nil {
		return nil, err
	}
	return okResponse{OK: true}, nil
}

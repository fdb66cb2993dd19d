package dingchatapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// SetRequestLog gives the admin API the node's request log to read.
func (a *API) SetRequestLog(l *httpx.RequestLog) { a.reqlog = l }

// decodeStrict is decode refusing unknown members, so that a typo in a
// fault rule or clock move is an error rather than a rule matching too much.
func decodeStrict(r *http.Request, v any) error {
	b, err := httpx.ReadBody(r, 64<<10)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "field %s must not be a JSON %s", te.Field, te.Value)
		}
		return ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body is not the expected JSON object: %v", err)
	}
	if d.More() {
		return ding.Errorf(ding.Invalid, ding.ReasonMalformedBody, "body holds more than one JSON value")
	}
	return nil
}

func (a *API) reset(r *http.Request) (any, error) {
	return a.svc.Reset(r.Context())
}

func (a *API) readClock(r *http.Request) (any, error) {
	return a.svc.ReadClock(r.Context()), nil
}

func (a *API) moveClock(r *http.Request) (any, error) {
	var m service.ClockMove
	if err := decodeStrict(r, &m); err != nil {
		return nil, err
	}
	return a.svc.MoveClock(r.Context(), m)
}

func (a *API) listFaults(r *http.Request) (any, error) {
	return map[string]any{"faults": a.svc.Faults().List()}, nil
}

func (a *API) addFault(r *http.Request) (any, error) {
	var f service.FaultRule
	if err := decodeStrict(r, &f); err != nil {
		return nil, err
	}
	return a.svc.AddFault(r.Context(), f)
}

func (a *API) clearFaults(r *http.Request) (any, error) {
	if err := a.svc.ClearFaults(r.Context()); err != nil {
		return nil, err
	}
	return map[string]any{"faults": []service.FaultRule{}}, nil
}

func (a *API) removeFault(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if err := a.svc.RemoveFault(r.Context(), id); err != nil {
		return nil, err
	}
	return map[string]string{"removed": id}, nil
}

// timeParam reads an RFC 3339 time or Unix milliseconds.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "%s %q is neither RFC 3339 nor Unix milliseconds", name, v)
	}
	return t, nil
}

func rangeParam(r *http.Request, name string, def, min, max int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "%s %q is not a number from %d to %d", name, v, min, max)
	}
	return n, nil
}

type requestsPage struct {
	Requests  []httpx.LoggedCall `json:"requests"`
	NextAfter int64              `json:"nextAfter"` // pass as after= (before= with order=desc) for the next page
	HasMore   bool               `json:"hasMore"`
}

// requests reads the request log: ?app=&path=&method=&surface=&errcode=
// &status=&faulted=true&since=&until=&after=&limit=, oldest first; with
// order=desc newest first from before= (0 = the newest). bodies=false
// leaves the bodies out (GET …/requests/{seq} has them).
func (a *API) requests(r *http.Request) (any, error) {
	q := r.URL.Query()
	f := httpx.LogFilter{AppKey: q.Get("app"), Path: q.Get("path"), Method: q.Get("method"), Surface: q.Get("surface"),
		Errcode: q.Get("errcode"), Faulted: q.Get("faulted") == "true"}
	var err error
	if f.Since, err = timeParam(r, "since"); err != nil {
		return nil, err
	}
	if f.Until, err = timeParam(r, "until"); err != nil {
		return nil, err
	}
	if f.After, err = rangeParam(r, "after", 0, 0, 1<<62); err != nil {
		return nil, err
	}
	status, err := rangeParam(r, "status", 0, 0, 599)
	if err != nil {
		return nil, err
	}
	f.Status = int(status)
	limit, err := rangeParam(r, "limit", 100, 1, 1000)
	if err != nil {
		return nil, err
	}
	f.Limit = int(limit)
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		f.Desc = true
		if f.Before, err = rangeParam(r, "before", 0, 0, 1<<62); err != nil {
			return nil, err
		}
	default:
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "order is asc or desc")
	}
	calls, more := a.reqlog.Find(f)
	if q.Get("bodies") == "false" {
		for i := range calls {
			calls[i].RequestBody, calls[i].ResponseBody = nil, nil
		}
	}
	next := f.After
	if len(calls) > 0 {
		next = calls[len(calls)-1].Seq
	}
	return requestsPage{Requests: calls, NextAfter: next, HasMore: more}, nil
}

// request is GET /_dingchat/admin/requests/{seq}: one call with its bodies,
// while the log still holds it.
func (a *API) request(r *http.Request) (any, error) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "seq %q is not a call's number", r.PathValue("seq"))
	}
	calls, _ := a.reqlog.Find(httpx.LogFilter{After: seq - 1, Limit: 1})
	if len(calls) == 0 || calls[0].Seq != seq {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "the request log no longer holds call %d", seq)
	}
	return calls[0], nil
}

func (a *API) clearRequests(r *http.Request) (any, error) {
	a.reqlog.Clear()
	return map[string]any{"requests": []httpx.LoggedCall{}}, nil
}

type loggedEvent struct {
	Seq                int64           `json:"seq"`
	Type               string          `json:"type"`
	ChatID             string          `json:"chatId,omitempty"`
	OpenConversationID string          `json:"openConversationId,omitempty"`
	Operator           string          `json:"operator,omitempty"`
	Data               json.RawMessage `json:"data,omitempty"`
	CreatedAt          int64           `json:"createdAt"`
}

type eventsPage struct {
	CorpID    string        `json:"corpId"`
	Events    []loggedEvent `json:"events"`
	NextAfter int64         `json:"nextAfter"`
	HasMore   bool          `json:"hasMore"`
}

// events reads a corp's event log: ?corpId=&type=&since=&until=&after=&limit=
func (a *API) findEvents(r *http.Request) (any, error) {
	q := service.EventQuery{CorpID: r.URL.Query().Get("corpId"), Type: r.URL.Query().Get("type")}
	if q.CorpID == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "corpId is required")
	}
	since, err := timeParam(r, "since")
	if err != nil {
		return nil, err
	}
	until, err := timeParam(r, "until")
	if err != nil {
		return nil, err
	}
	if !since.IsZero() {
		q.Since = since.UnixMilli()
	}
	if !until.IsZero() {
		q.Until = until.UnixMilli()
	}
	if q.After, err = rangeParam(r, "after", 0, 0, 1<<62); err != nil {
		return nil, err
	}
	limit, err := rangeParam(r, "limit", 100, 1, 500)
	if err != nil {
		return nil, err
	}
	q.Limit = int(limit)
	evs, next, more, err := a.svc.FindEvents(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := eventsPage{CorpID: q.CorpID, Events: make([]loggedEvent, 0, len(evs)), NextAfter: next, HasMore: more}
	for _, e := range evs {
		le := loggedEvent{Seq: e.Seq, Type: e.Type, ChatID: e.ChatID, OpenConversationID: e.OpenConversationID,
			Operator: e.Operator, CreatedAt: e.CreatedAt}
		if json.Valid(e.Data) {
			le.Data = e.Data
		}
		out.Events = append(out.Events, le)
	}
	return out, nil
}

func (a *API) createTestCorp(r *http.Request) (any, error) {
	var in service.TestCorpInput
	if r.ContentLength != 0 {
		if err := decodeStrict(r, &in); err != nil {
			return nil, err
		}
	}
	return a.svc.CreateTestCorp(r.Context(), in)
}

func (a *API) deleteCorp(r *http.Request) (any, error) {
	id := r.PathValue("corpid")
	if err := a.svc.DeleteCorp(r.Context(), id); err != nil {
		return nil, err
	}
	return map[string]string{"deleted": id}, nil
}

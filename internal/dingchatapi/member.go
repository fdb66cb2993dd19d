package dingchatapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

type meResponse struct {
	CorpID string `json:"corpId"`
	UserID string `json:"userid"`
	Name   string `json:"name"`
}

func (a *API) me(r *http.Request, mc *service.MemberCaller) (any, error) {
	u, err := a.svc.Me(r.Context(), mc)
	if err != nil {
		return nil, err
	}
	return meResponse{CorpID: mc.CorpID, UserID: mc.UserID, Name: u.Name}, nil
}

type groupJSON struct {
	ChatID             string `json:"chatid"`
	OpenConversationID string `json:"openConversationId"`
	Name               string `json:"name"`
	Owner              string `json:"owner"`
	ConversationTag    int    `json:"conversationTag"`
	Status             int    `json:"status"`
	MemberCount        int    `json:"memberCount"`
	LastSeq            int64  `json:"lastSeq"`
	ReadSeq            int64  `json:"readSeq"`
	Unread             int64  `json:"unread"`
}

type groupsResponse struct {
	Groups []groupJSON `json:"groups"`
}

func (a *API) groups(r *http.Request, mc *service.MemberCaller) (any, error) {
	gs, err := a.svc.MemberGroups(r.Context(), mc)
	if err != nil {
		return nil, err
	}
	out := groupsResponse{Groups: make([]groupJSON, 0, len(gs))}
	for _, mg := range gs {
		g := mg.Group
		out.Groups = append(out.Groups, groupJSON{ChatID: g.ChatID, OpenConversationID: g.OpenConversationID, Name: g.Name,
			Owner: g.Owner, ConversationTag: g.ConversationTag, Status: g.Status, MemberCount: g.MemberCount,
			LastSeq: mg.LastSeq, ReadSeq: mg.ReadSeq, Unread: max(0, mg.LastSeq-mg.ReadSeq)})
	}
	return out, nil
}

type messageJSON struct {
	MessageID  string          `json:"messageId"`
	Seq        int64           `json:"seq"`
	ChatID     string          `json:"chatid"`
	SenderType string          `json:"senderType"`
	Sender     string          `json:"sender"`
	MsgType    string          `json:"msgtype"`
	Msg        json.RawMessage `json:"msg"` // null once recalled
	Recalled   bool            `json:"recalled"`
	RecalledAt int64           `json:"recalledAt,omitempty"`
	CreatedAt  int64           `json:"createdAt"`
}

func messageView(m ding.Message) messageJSON {
	v := messageJSON{MessageID: m.ID, Seq: m.Seq, ChatID: m.ChatID, SenderType: m.SenderType, Sender: m.Sender,
		MsgType: m.MsgType, Msg: m.Body, CreatedAt: m.CreatedAt}
	if m.RecalledAt != 0 {
		v.Msg, v.Recalled, v.RecalledAt = json.RawMessage("null"), true, m.RecalledAt
	}
	return v
}

type messagesResponse struct {
	Messages   []messageJSON `json:"messages"`
	NextCursor int64         `json:"nextCursor"`
	HasMore    bool          `json:"hasMore"`
}

func queryInt(r *http.Request, key string, reason ding.Reason) (int64, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, ding.Errorf(ding.Invalid, reason, "%s must be an integer", key)
	}
	return n, nil
}

// messages pages a timeline: order=desc (default) walks back from cursor
// (exclusive; 0 = newest), order=asc walks forward from cursor (exclusive).
func (a *API) messages(r *http.Request, mc *service.MemberCaller) (any, error) {
	cursor, err := queryInt(r, "cursor", ding.ReasonBadCursor)
	if err != nil {
		return nil, err
	}
	limit, err := queryInt(r, "limit", ding.ReasonBadSize)
	if err != nil {
		return nil, err
	}
	q := ding.MessageQuery{Limit: int(limit)}
	switch r.URL.Query().Get("order") {
	case "", "desc":
		q.Desc, q.Before = true, cursor
	case "asc":
		q.After = cursor
	default:
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "order is asc or desc")
	}
	ms, more, err := a.svc.MemberMessages(r.Context(), mc, r.PathValue("chatid"), q)
	if err != nil {
		return nil, err
	}
	out := messagesResponse{Messages: make([]messageJSON, 0, len(ms)), HasMore: more}
	for _, m := range ms {
		out.Messages = append(out.Messages, messageView(m))
	}
	if len(ms) > 0 {
		out.NextCursor = ms[len(ms)-1].Seq
	}
	return out, nil
}

type sendResponse struct {
	MessageID string `json:"messageId"`
	Seq       int64  `json:"seq"`
}

func (a *API) send(r *http.Request, mc *service.MemberCaller) (any, error) {
	body, err := httpx.ReadBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	m, err := a.svc.MemberSend(r.Context(), mc, r.PathValue("chatid"), body)
	if err != nil {
		return nil, err
	}
	return sendResponse{MessageID: m.ID, Seq: m.Seq}, nil
}

type readRequest struct {
	Seq *int64 `json:"seq"`
}

type readResponse struct {
	ReadSeq int64 `json:"readSeq"`
}

func (a *API) markRead(r *http.Request, mc *service.MemberCaller) (any, error) {
	var req readRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Seq == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "seq is required")
	}
	mark, err := a.svc.MemberMarkRead(r.Context(), mc, r.PathValue("chatid"), *req.Seq)
	if err != nil {
		return nil, err
	}
	return readResponse{ReadSeq: mark}, nil
}

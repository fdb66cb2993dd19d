package dingchatapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/live"
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
	Groups     []groupJSON `json:"groups"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

// groups is GET /_dingchat/member/groups: every group of the member, or
// one page of them when the request names a cursor, a search or a limit.
func (a *API) groups(r *http.Request, mc *service.MemberCaller) (any, error) {
	var gs []service.MemberGroup
	var next string
	var err error
	if v := r.URL.Query(); v.Has("cursor") || v.Has("q") || v.Has("limit") {
		q, qerr := groupListQuery(r)
		if qerr != nil {
			return nil, qerr
		}
		gs, next, err = a.svc.MemberGroupsPage(r.Context(), mc, q)
	} else {
		gs, err = a.svc.MemberGroups(r.Context(), mc)
	}
	if err != nil {
		return nil, err
	}
	out := groupsResponse{Groups: make([]groupJSON, 0, len(gs)), NextCursor: next}
	for _, mg := range gs {
		g := mg.Group
		out.Groups = append(out.Groups, groupJSON{ChatID: g.ChatID, OpenConversationID: g.OpenConversationID, Name: g.Name,
			Owner: g.Owner, ConversationTag: g.ConversationTag, Status: g.Status, MemberCount: g.MemberCount,
			LastSeq: mg.LastSeq, ReadSeq: mg.ReadSeq, Unread: max(0, mg.LastSeq-mg.ReadSeq)})
	}
	return out, nil
}

type messagesResponse struct {
	Messages   []ding.Message // shown as live.MessageView shows each
	NextCursor int64
	HasMore    bool
}

// AppendJSON writes the page as {"messages":[…],"nextCursor":…,"hasMore":…}
// straight from the messages, without a view of each to encode.
func (p messagesResponse) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"messages":[`...)
	for i := range p.Messages {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = live.AppendMessageJSON(dst, &p.Messages[i]); err != nil {
			return dst, err
		}
	}
	dst = append(dst, `],"nextCursor":`...)
	dst = strconv.AppendInt(dst, p.NextCursor, 10)
	dst = append(dst, `,"hasMore":`...)
	dst = strconv.AppendBool(dst, p.HasMore)
	return append(dst, '}'), nil
}

func queryInt(r *http.Request, key string, reason ding.Reason) (int64, error) {
	return valuesInt(r.URL.Query(), key, reason)
}

func valuesInt(v url.Values, key string, reason ding.Reason) (int64, error) {
	s := v.Get(key)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ding.Errorf(ding.Invalid, reason, "%s must be an integer", key)
	}
	return n, nil
}

// pageQuery reads a timeline page: order=desc (default) walks back from
// cursor (exclusive; 0 = newest), order=asc walks forward from cursor
// (exclusive). The query string is parsed once.
func pageQuery(r *http.Request) (ding.MessageQuery, error) {
	v := r.URL.Query()
	cursor, err := valuesInt(v, "cursor", ding.ReasonBadCursor)
	if err != nil {
		return ding.MessageQuery{}, err
	}
	limit, err := valuesInt(v, "limit", ding.ReasonBadSize)
	if err != nil {
		return ding.MessageQuery{}, err
	}
	q := ding.MessageQuery{Limit: int(limit)}
	switch v.Get("order") {
	case "", "desc":
		q.Desc, q.Before = true, cursor
	case "asc":
		q.After = cursor
	default:
		return q, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "order is asc or desc")
	}
	return q, nil
}

func messagesPage(ms []ding.Message, more bool) messagesResponse {
	out := messagesResponse{Messages: ms, HasMore: more}
	if len(ms) > 0 {
		out.NextCursor = ms[len(ms)-1].Seq
	}
	return out
}

func (a *API) messages(r *http.Request, mc *service.MemberCaller) (any, error) {
	q, err := pageQuery(r)
	if err != nil {
		return nil, err
	}
	ms, more, err := a.svc.MemberMessages(r.Context(), mc, r.PathValue("chatid"), q)
	if err != nil {
		return nil, err
	}
	return messagesPage(ms, more), nil
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

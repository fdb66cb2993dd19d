package oapi

import (
	"net/http"
	"strconv"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/groupform"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/jsonx"
	"github.com/dingchat/dingchat/internal/service"
)

type createResponse struct {
	ok
	ChatID             string `json:"chatid"`
	OpenConversationID string `json:"openConversationId"`
	ConversationTag    int    `json:"conversationTag"`
}

func (a *API) chatCreate(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	in, err := groupform.Create(p, groupform.Flat)
	if err != nil {
		return nil, err
	}
	g, err := a.svc.CreateGroup(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return createResponse{ok: okBody, ChatID: g.ChatID, OpenConversationID: g.OpenConversationID, ConversationTag: g.ConversationTag}, nil
}

func (a *API) chatUpdate(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	in, err := groupform.Update(p, groupform.Flat)
	if err != nil {
		return nil, err
	}
	opts := &in.Options
	if opts.ChatBannedType == nil {
		// isBan is chat/update's older spelling of chatBannedType
		ban, err := p.Bool("isBan")
		if err != nil {
			return nil, err
		}
		if ban != nil {
			v := 0
			if *ban {
				v = 1
			}
			opts.ChatBannedType = &v
		}
	}
	if _, err := a.svc.UpdateGroup(r.Context(), c, in); err != nil {
		return nil, err
	}
	return okBody, nil
}

// chatInfo is chat/get's chat_info.
type chatInfo struct {
	Name                string   `json:"name"`
	Owner               string   `json:"owner"`
	UserIDList          []string `json:"useridlist"`
	AgentIDList         []string `json:"agentidlist"`
	ExtIDList           []string `json:"extidlist"`
	ConversationTag     int      `json:"conversationTag"`
	ChatBannedType      int      `json:"chatBannedType"`
	Searchable          int      `json:"searchable"`
	ValidationType      int      `json:"validationType"`
	MentionAllAuthority int      `json:"mentionAllAuthority"`
	ManagementType      int      `json:"managementType"`
	ShowHistoryType     int      `json:"showHistoryType"`
	Icon                string   `json:"icon"`
	Status              int      `json:"status"`
	ChatID              string   `json:"chatid"`
}

type getResponse struct {
	ok
	ChatInfo chatInfo `json:"chat_info"`
}

// AppendJSON writes the answer as encoding/json does (the struct's tags),
// without reflection: chat/get is the most frequent read of integrations.
func (g getResponse) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"errcode":`...)
	dst = strconv.AppendInt(dst, int64(g.Errcode), 10)
	dst = append(dst, `,"errmsg":`...)
	dst = jsonx.AppendString(dst, g.Errmsg)
	c := &g.ChatInfo
	dst = append(dst, `,"chat_info":{"name":`...)
	dst = jsonx.AppendString(dst, c.Name)
	dst = append(dst, `,"owner":`...)
	dst = jsonx.AppendString(dst, c.Owner)
	dst = append(dst, `,"useridlist":`...)
	dst = appendStrings(dst, c.UserIDList)
	dst = append(dst, `,"agentidlist":`...)
	dst = appendStrings(dst, c.AgentIDList)
	dst = append(dst, `,"extidlist":`...)
	dst = appendStrings(dst, c.ExtIDList)
	for _, f := range [...]struct {
		key string
		v   int
	}{
		{`,"conversationTag":`, c.ConversationTag}, {`,"chatBannedType":`, c.ChatBannedType},
		{`,"searchable":`, c.Searchable}, {`,"validationType":`, c.ValidationType},
		{`,"mentionAllAuthority":`, c.MentionAllAuthority}, {`,"managementType":`, c.ManagementType},
		{`,"showHistoryType":`, c.ShowHistoryType},
	} {
		dst = append(dst, f.key...)
		dst = strconv.AppendInt(dst, int64(f.v), 10)
	}
	dst = append(dst, `,"icon":`...)
	dst = jsonx.AppendString(dst, c.Icon)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(c.Status), 10)
	dst = append(dst, `,"chatid":`...)
	dst = jsonx.AppendString(dst, c.ChatID)
	return append(dst, "}}"...), nil
}

// appendStrings writes a list as encoding/json does: nil as null.
func appendStrings(dst []byte, l []string) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonx.AppendString(dst, s)
	}
	return append(dst, ']')
}

func (a *API) chatGet(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, err := p.String("chatid")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonChatIDMissing, "missing chatid")
	}
	v, err := a.svc.GetGroup(r.Context(), c, service.GroupRef{ChatID: id})
	if err != nil {
		return nil, err
	}
	g, o := v.Group, v.Group.Options
	return getResponse{ok: okBody, ChatInfo: chatInfo{
		Name: g.Name, Owner: g.Owner, UserIDList: v.UserIDs, AgentIDList: v.AgentIDs, ExtIDList: v.ExtIDs,
		ConversationTag: g.ConversationTag, ChatBannedType: o.ChatBannedType, Searchable: o.Searchable,
		ValidationType: o.ValidationType, MentionAllAuthority: o.MentionAllAuthority, ManagementType: o.ManagementType,
		ShowHistoryType: o.ShowHistoryType, Icon: g.Icon, Status: g.Status, ChatID: g.ChatID,
	}}, nil
}

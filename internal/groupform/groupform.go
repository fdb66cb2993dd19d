// Package groupform reads a group's create and update fields the way both
// DingTalk generations send them (chat/create and /v1.0/im/group/create use
// the same names), so the legacy and v1.0 surfaces build the service's
// inputs with one reader. Only where the options live differs.
package groupform

import (
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// Options reads a group's management options from a request.
type Options func(p *httpx.Params) (service.OptionsPatch, error)

var optionKeys = []string{"showHistoryType", "searchable", "validationType", "mentionAllAuthority", "managementType", "chatBannedType"}

func readOptions(p *httpx.Params) (service.OptionsPatch, error) {
	var o service.OptionsPatch
	f := &httpx.Fields{P: p}
	for i, dst := range []**int{&o.ShowHistoryType, &o.Searchable, &o.ValidationType, &o.MentionAllAuthority, &o.ManagementType, &o.ChatBannedType} {
		*dst = f.Int(optionKeys[i])
	}
	return o, f.Err
}

// Flat reads the options as top-level keys (the legacy surface).
func Flat(p *httpx.Params) (service.OptionsPatch, error) { return readOptions(p) }

// Nested reads the options from the managementOptions object (v1.0).
func Nested(p *httpx.Params) (service.OptionsPatch, error) {
	m, err := p.Object("managementOptions")
	if err != nil || m == nil {
		return service.OptionsPatch{}, err
	}
	return readOptions(m)
}

// Create reads a group to create.
func Create(p *httpx.Params, opts Options) (service.CreateGroupInput, error) {
	f := &httpx.Fields{P: p}
	in := service.CreateGroupInput{
		Name: f.Str("name"), Owner: f.Str("owner"), OwnerType: f.Str("ownerType"),
		UserIDs: f.List("useridlist"), ExtIDs: f.List("extidlist"),
		ConversationTag: f.Int("conversationTag"), Icon: f.Str("icon"),
	}
	if f.Err != nil {
		return in, f.Err
	}
	o, err := opts(p)
	in.Options = o
	return in, err
}

// Update reads a change to a group.
func Update(p *httpx.Params, opts Options) (service.UpdateGroupInput, error) {
	f := &httpx.Fields{P: p}
	in := service.UpdateGroupInput{
		ChatID: f.Str("chatid"), Name: f.OptStr("name"), Owner: f.OptStr("owner"), OwnerType: f.OptStr("ownerType"),
		AddUserIDs: f.List("add_useridlist"), DelUserIDs: f.List("del_useridlist"),
		AddExtIDs: f.List("add_extidlist"), DelExtIDs: f.List("del_extidlist"),
		Icon: f.OptStr("icon"),
	}
	if f.Err != nil {
		return in, f.Err
	}
	o, err := opts(p)
	in.Options = o
	return in, err
}

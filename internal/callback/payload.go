package callback

import (
	"encoding/json"

	"github.com/dingchat/dingchat/internal/ding"
)

// Payload is the plaintext an event is pushed as to sub; biz is the
// event's camelCase business object, enriched with union ids.
func Payload(sub *ding.Subscription, ev *ding.Event, biz map[string]any, eventID string) []byte {
	var v map[string]any
	if sub.Dialect() == ding.DialectLegacy {
		v = legacyPayload(ev, biz)
	} else {
		v = pushPayload(ev, biz, eventID)
	}
	b, _ := json.Marshal(v)
	return b
}

// LegacyPayload is the PascalCase object of the legacy dialect; failed
// results carry it too.
func LegacyPayload(ev *ding.Event, biz map[string]any) []byte {
	b, _ := json.Marshal(legacyPayload(ev, biz))
	return b
}

// legacyPayload is what register_call_back subscribers receive:
// {"EventType","TimeStamp","CorpId","ChatId","OpenConversationId",…}.
func legacyPayload(ev *ding.Event, biz map[string]any) map[string]any {
	v := map[string]any{
		"EventType":          ev.Type,
		"TimeStamp":          ev.CreatedAt,
		"CorpId":             ev.CorpID,
		"ChatId":             ev.ChatID,
		"OpenConversationId": ev.OpenConversationID,
		"Operator":           ev.Operator,
	}
	switch ev.Type {
	case ding.EventChatAddMember, ding.EventChatRemoveMember:
		v["UserId"] = list(biz["userId"])
	case ding.EventChatUpdateOwner:
		v["Owner"] = biz["owner"]
	case ding.EventChatUpdateTitle:
		v["Title"] = biz["title"]
	case ding.EventChatDisbandMicroapp:
		v["AgentId"] = biz["agentId"]
	}
	return v
}

// pushPayload is the developer console's HTTP push: a PascalCase envelope
// around the camelCase business fields.
func pushPayload(ev *ding.Event, biz map[string]any, eventID string) map[string]any {
	v := make(map[string]any, len(biz)+5)
	for k, x := range biz {
		v[k] = x
	}
	v["EventType"] = ev.Type
	v["EventTime"] = ev.CreatedAt
	v["CorpId"] = ev.CorpID
	v["BizId"] = ev.ChatID // unconfirmed: the docs' examples leave BizId's meaning open
	v["eventId"] = eventID
	return v
}

func list(x any) any {
	if x == nil {
		return []string{}
	}
	return x
}

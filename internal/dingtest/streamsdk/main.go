// Command streamsdk is a bot written with DingTalk's official Go Stream SDK
// (github.com/open-dingtalk/dingtalk-stream-sdk-go), run by the tests as a
// process of its own: the SDK writes ACKs and reconnects from goroutines
// that race with each other, which the race detector would otherwise
// blame on the test.
//
// It prints one JSON object per line: {"started":"yes"}, then
// {"event":TYPE,"eventId":ID,"corpId":…,"appId":…,"bornTime":MS,"data":{…}}
// for each event (answering LATER to the first of -later's type), and
// {"robot":CONTENT,…} for each robot message, which it answers through the
// sessionWebhook with "收到: CONTENT".
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
)

type quiet struct{}

func (quiet) Debugf(string, ...interface{})   {}
func (quiet) Infof(string, ...interface{})    {}
func (quiet) Warningf(string, ...interface{}) {}
func (quiet) Errorf(string, ...interface{})   {}
func (quiet) Fatalf(string, ...interface{})   {}

var out sync.Mutex

func say(v map[string]any) {
	b, _ := json.Marshal(v)
	out.Lock()
	fmt.Println(string(b))
	out.Unlock()
}

func main() {
	host := flag.String("host", "", "DingChat's base URL")
	key := flag.String("key", "", "client id (app key)")
	secret := flag.String("secret", "", "client secret")
	later := flag.String("later", "", "answer LATER to the first event of this type")
	flag.Parse()
	logger.SetLogger(quiet{})
	cli := client.NewStreamClient(client.WithAppCredential(client.NewAppCredentialConfig(*key, *secret)), client.WithOpenApiHost(*host))
	var mu sync.Mutex
	laterDone := false
	cli.RegisterAllEventRouter(event.NewDefaultEventFrameHandler(func(_ context.Context, h *event.EventHeader, raw []byte) (event.EventProcessStatusType, error) {
		var data any
		json.Unmarshal(raw, &data)
		mu.Lock()
		isLater := h.EventType == *later && !laterDone
		if isLater {
			laterDone = true
		}
		mu.Unlock()
		say(map[string]any{"event": h.EventType, "eventId": h.EventId, "corpId": h.EventCorpId, "appId": h.EventUnifiedAppId,
			"bornTime": h.EventBornTime, "data": data, "later": isLater})
		if isLater {
			return event.EventProcessStatusKLater, nil
		}
		return event.EventProcessStatusKSuccess, nil
	}).OnEventReceived)
	replier := chatbot.NewChatbotReplier()
	cli.RegisterChatBotCallbackRouter(func(ctx context.Context, m *chatbot.BotCallbackDataModel) ([]byte, error) {
		b, _ := json.Marshal(m)
		var all map[string]any
		json.Unmarshal(b, &all)
		all["robot"] = m.Text.Content
		say(all)
		return []byte(""), replier.SimpleReplyText(ctx, m.SessionWebhook, []byte("收到: "+m.Text.Content))
	})
	if err := cli.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	say(map[string]any{"started": "yes"})
	select {}
}

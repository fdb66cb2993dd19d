package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/server/servertest"
	"github.com/dingchat/dingchat/internal/service"
)

// Delivery-fault rules reach the dispatcher: a failed attempt is retried,
// a duplicate arrives twice, and a closed Stream socket gets the event once
// the client is back.
func TestDeliveryFaultRules(t *testing.T) {
	e := servertest.New(t)
	e.Dispatch(events.Config{Poll: 5 * time.Millisecond, Refresh: 20 * time.Millisecond, Faults: e.Svc.Faults()})
	rc := newReceiver(t, dingtest.CorpID)
	if got := errcode(t, e.Post("/call_back/register_call_back?access_token={{token}}", registerBody(rc.srv.URL, "chat_update_title"))); got != 0 {
		t.Fatal("register failed")
	}
	rc.waitFor(1)
	sub := ding.SubscriptionID(ding.SubRegister, dingtest.AppKey)
	if _, err := e.Svc.Faults().Add(service.FaultRule{Surface: ding.DeliveryCallback, Subscription: sub, Action: service.FaultFail, Count: 1}); err != nil {
		t.Fatal(err)
	}
	g := e.Group("故障群", "manager4220", "zhangsan")
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"先失败"}`, g.ChatID))
	waitScheduled(t, e, "http:", 1)
	if n := len(rc.pushes()); n != 1 {
		t.Fatalf("the failed attempt reached the receiver (%d pushes)", n)
	}
	e.Clock.Advance(events.Retries[0])
	if got := rc.waitFor(2); got[1]["Title"] != "先失败" {
		t.Fatalf("retry = %v", got[1])
	}
	eventually(t, func() bool {
		ds, _ := e.Store.Deliveries(t.Context(), ding.DeliveryFilter{Limit: 10})
		for _, d := range ds {
			if strings.Contains(d.Error, "fault rule") {
				return true
			}
		}
		return false
	})
	if _, err := e.Svc.Faults().Add(service.FaultRule{Surface: ding.DeliveryCallback, Action: service.FaultDuplicate, Copies: 1, Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"两份"}`, g.ChatID))
	got := rc.waitFor(4)
	if got[2]["Title"] != "两份" || got[3]["Title"] != "两份" {
		t.Fatalf("duplicate = %v, %v", got[2], got[3])
	}

	// Stream: the socket is closed instead of the frame being sent
	if _, err := e.Svc.Faults().Add(service.FaultRule{Surface: ding.DeliveryStream, Action: service.FaultClose, Count: 1}); err != nil {
		t.Fatal(err)
	}
	dial := func() *websocket.Conn {
		c := dialStream(t, e)
		return c
	}
	c := dial()
	eventually(t, func() bool { return len(e.Gateway.Clients()) == 1 })
	e.Post("/chat/update?access_token={{token}}", fmt.Sprintf(`{"chatid":%q,"name":"断开"}`, g.ChatID))
	if _, _, err := c.Read(t.Context()); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("after a close rule: %v, want the socket closed", err)
	}
	c2 := dial()
	defer c2.CloseNow()
	e.Clock.Advance(events.Retries[0])
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, raw, err := c2.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("the event never came back: %v", err)
		}
		var f struct {
			Type    string
			Headers map[string]string
			Data    string
		}
		json.Unmarshal(raw, &f)
		if f.Type == "EVENT" && strings.Contains(f.Data, "断开") {
			return
		}
		if f.Type == "EVENT" {
			ack, _ := json.Marshal(map[string]any{"code": 200, "headers": map[string]string{"messageId": f.Headers["messageId"]}, "data": ""})
			c2.Write(t.Context(), websocket.MessageText, ack)
		}
	}
}

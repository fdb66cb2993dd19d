package service

import (
	"context"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

func TestDeliveryFaults(t *testing.T) {
	f := NewFaults()
	ctx := context.Background()
	d := ding.Push{Channel: ding.DeliveryCallback, Subscription: "sub-1", AppKey: "app1", CorpID: "corp1", EventType: ding.EventChatDisband, Body: []byte(`{"EventType":"chat_disband"}`)}
	if got := f.DeliveryFault(ctx, d); got != (ding.DeliveryFault{}) {
		t.Fatalf("no rules: %+v", got)
	}
	mustAdd := func(r FaultRule) *FaultRule {
		t.Helper()
		out, err := f.Add(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	fail := mustAdd(FaultRule{Surface: ding.DeliveryCallback, Subscription: "sub-1", Action: FaultFail, Count: 2})
	dup := mustAdd(FaultRule{Surface: ding.DeliveryCallback, EventType: ding.EventChatDisband, Action: FaultDuplicate, Copies: 2})
	mustAdd(FaultRule{Surface: ding.DeliveryStream, Action: FaultClose})
	mustAdd(FaultRule{Surface: ding.DeliveryStream, Action: FaultDelay, LatencyMs: 1500, BodyContains: "slow"})
	for i := 0; i < 2; i++ {
		if got := f.DeliveryFault(ctx, d); !got.Fail || got.RuleID != fail.ID {
			t.Fatalf("attempt %d: %+v, want fail by %s", i+1, got, fail.ID)
		}
	}
	// the fail rule is spent: the next rule decides
	if got := f.DeliveryFault(ctx, d); got.Duplicate != 2 || got.Fail || got.RuleID != dup.ID {
		t.Fatalf("third attempt: %+v", got)
	}
	other := d
	other.EventType = ding.EventChatQuit
	if got := f.DeliveryFault(ctx, other); got != (ding.DeliveryFault{}) {
		t.Fatalf("another event type: %+v", got)
	}
	st := ding.Push{Channel: ding.DeliveryStream, Body: []byte("slow")}
	if got := f.DeliveryFault(ctx, st); !got.Close || got.Fail {
		t.Fatalf("stream: %+v", got)
	}
	f.Remove(f.List()[2].ID)
	if got := f.DeliveryFault(ctx, st); got.Delay != 1500*time.Millisecond {
		t.Fatalf("stream delay: %+v", got)
	}
	// API calls never meet delivery rules, nor deliveries API rules
	mustAdd(FaultRule{Path: "/chat/send", Action: FaultError})
	if r := f.MatchCall(Call{Surface: "legacy", Path: "/chat/send"}); r == nil || r.Action != FaultError {
		t.Fatalf("API rule: %+v", r)
	}
	f.Clear()
	if f.Active() || f.MatchCall(Call{Surface: "legacy", Path: "/chat/send"}) != nil {
		t.Fatal("rules left after Clear")
	}
}

func TestFaultProbability(t *testing.T) {
	f := NewFaults()
	if _, err := f.Add(FaultRule{Action: FaultError, Probability: 0.5}); err != nil {
		t.Fatal(err)
	}
	hits := 0
	for i := 0; i < 2000; i++ {
		if f.MatchCall(Call{Surface: "v1.0", Path: "/v1.0/im/group/create"}) != nil {
			hits++
		}
	}
	// 2000 draws at p = 0.5: outside 800..1200 is about 20 standard deviations away
	if hits < 800 || hits > 1200 || f.List()[0].Hits != hits {
		t.Fatalf("%d hits of 2000 at probability 0.5 (rule counted %d)", hits, f.List()[0].Hits)
	}
}

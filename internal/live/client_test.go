package live_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

// A client waiting for frames is let go when its context ends, also when
// Next is called again with another context, and when the hub stops.
func TestNextEnds(t *testing.T) {
	st := servertest.OpenStore(t)
	hub := live.New(st, live.Config{})
	run, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { hub.Run(run); close(ran) }()
	defer func() { stop(); <-ran }()

	next := func(c *live.Client, ctx context.Context) <-chan error {
		out := make(chan error, 1)
		go func() {
			for {
				if _, err := c.Next(ctx); err != nil {
					out <- err
					return
				}
			}
		}()
		return out
	}
	wait := func(ch <-chan error, want error) {
		t.Helper()
		select {
		case err := <-ch:
			if !errors.Is(err, want) {
				t.Fatalf("Next: %v, want %v", err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Next still waiting 5 s after it should have returned %v", want)
		}
	}

	c, _, err := hub.Watch(context.Background(), dingtest.CorpID, nil, live.Resume{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 2 { // a fresh context each time: each must wake the waiter
		ctx, cancel := context.WithCancel(context.Background())
		ended := next(c, ctx)
		time.Sleep(20 * time.Millisecond)
		cancel()
		wait(ended, context.Canceled)
	}

	c2, _, err := hub.Watch(context.Background(), dingtest.CorpID, nil, live.Resume{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	closed := next(c2, context.Background())
	time.Sleep(20 * time.Millisecond)
	stop()
	wait(closed, live.ErrClosed)
	// a client that connects after the stop is told at once
	c3, _, err := hub.Watch(context.Background(), dingtest.CorpID, nil, live.Resume{})
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	wait(next(c3, context.Background()), live.ErrClosed)
}

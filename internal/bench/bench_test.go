package bench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/bench"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/server/servertest"
)

func users(n int) []string {
	us := []string{"manager4220", "zhangsan", "lisi", "wangwu"}
	for i := 1; len(us) < n; i++ {
		us = append(us, dingtest.UserID(i))
	}
	return us
}

// The tool's counts are the server's: every successful send is one message.
func TestRunSendCountsWhatTheServerStored(t *testing.T) {
	e := servertest.New(t)
	var progress strings.Builder
	r, err := bench.Run(context.Background(), bench.Config{URL: e.URL, AppKey: dingtest.AppKey, AppSecret: dingtest.AppSecret,
		Scenario: bench.ScenarioSend, Concurrency: 4, Duration: 1200 * time.Millisecond, Members: 50, Users: users(50), Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Errors != 0 {
		t.Fatalf("result %s (first error %q), want requests and no errors", r, r.FirstError)
	}
	if !(r.P50 <= r.P90 && r.P90 <= r.P99 && r.P99 <= r.Max) || r.P50 <= 0 {
		t.Fatalf("percentiles out of order: %s", r)
	}
	groups, err := e.Store.GroupsOf(context.Background(), dingtest.CorpID, "manager4220")
	if err != nil || len(groups) != 1 {
		t.Fatalf("groups = %v, %v; want the one the run made", groups, err)
	}
	if got := groups[0].MemberCount; got != 50 {
		t.Fatalf("group members = %d, want 50 (40 at create, 10 by update)", got)
	}
	last, err := e.Store.LastSeq(context.Background(), groups[0].ChatID)
	if err != nil {
		t.Fatal(err)
	}
	if last != r.Requests {
		t.Fatalf("server stored %d messages, tool counted %d", last, r.Requests)
	}
	if !strings.Contains(progress.String(), "requests") {
		t.Fatalf("no progress shown: %q", progress.String())
	}
}

func TestRunCreateAndGet(t *testing.T) {
	e := servertest.New(t)
	for _, sc := range []string{bench.ScenarioCreate, bench.ScenarioGet} {
		r, err := bench.Run(context.Background(), bench.Config{URL: e.URL, AppKey: dingtest.AppKey, AppSecret: dingtest.AppSecret,
			Scenario: sc, Concurrency: 2, Duration: 300 * time.Millisecond, Members: 3, Users: users(3)})
		if err != nil || r.Requests == 0 || r.Errors != 0 {
			t.Fatalf("%s: %s, %v (first error %q)", sc, r, err, r.FirstError)
		}
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	e := servertest.New(t)
	for _, tc := range []struct {
		name string
		cfg  bench.Config
	}{
		{"bad secret", bench.Config{AppKey: dingtest.AppKey, AppSecret: "nope", Scenario: bench.ScenarioSend}},
		{"unknown scenario", bench.Config{AppKey: dingtest.AppKey, AppSecret: dingtest.AppSecret, Scenario: "dance"}},
		{"too many members", bench.Config{AppKey: dingtest.AppKey, AppSecret: dingtest.AppSecret, Scenario: bench.ScenarioSend, Members: 5, Users: users(3)}},
	} {
		cfg := tc.cfg
		cfg.URL, cfg.Concurrency, cfg.Duration = e.URL, 1, 100*time.Millisecond
		if cfg.Members == 0 {
			cfg.Members = 2
			cfg.Users = users(3)
		}
		if _, err := bench.Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: Run succeeded, want an error", tc.name)
		}
	}
	// an error answer counts as an error, not as throughput
	r, err := bench.Run(context.Background(), bench.Config{URL: e.URL, AppKey: dingtest.ReadOnlyAppKey, AppSecret: dingtest.ReadOnlyAppSecret,
		Scenario: bench.ScenarioCreate, Concurrency: 1, Duration: 200 * time.Millisecond, Members: 3, Users: users(3)})
	if err != nil || r.Errors != r.Requests || r.Requests == 0 || !strings.Contains(r.FirstError, "43007") || r.PerSecond() != 0 {
		t.Fatalf("read-only app creating: %s, %v (first error %q)", r, err, r.FirstError)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dingchat/dingchat/internal/callback"
	"github.com/dingchat/dingchat/internal/config"
	"github.com/dingchat/dingchat/internal/console"
	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/events"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/live"
	"github.com/dingchat/dingchat/internal/logx"
	"github.com/dingchat/dingchat/internal/media"
	"github.com/dingchat/dingchat/internal/metrics"
	"github.com/dingchat/dingchat/internal/orgfile"
	"github.com/dingchat/dingchat/internal/server"
	"github.com/dingchat/dingchat/internal/service"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/dingchat/dingchat/internal/store/sqlite"
	"github.com/dingchat/dingchat/internal/stream"
)

// Main is one running dingchat: opened by Open, stopped by Run's context.
type Main struct {
	Config     config.Config
	Store      ding.Store
	Service    *service.Service
	Server     *server.Server
	Dispatcher *events.Dispatcher
	Gateway    *stream.Gateway
	// Live delivers commits to members' and the console's sockets.
	Live *live.Hub
	// Metrics is served at /_dingchat/metrics; more collectors may be
	// registered on Metrics.Registry before Run.
	Metrics *metrics.Metrics
	log     *slog.Logger
	stdout  io.Writer
	admin   service.AdminSecret
	// demoCorp is the demo corp when this start created it: its secrets
	// were minted now and may be shown once.
	demoCorp string
	// demoMember is a member token minted with the demo organisation at
	// this start; printed once, never again (a later start cannot read it back)
	demoMember *ding.MemberToken
	stopPprof  func()
}

// Open loads the configuration, opens the store, applies the organisation
// and binds the listener; nothing is served until Run.
func Open(args []string, getenv func(string) string, stdout, stderr io.Writer) (*Main, error) {
	usageOut := stderr
	if wantsHelp(args) {
		usageOut = stdout // asked for: it is the answer, not a complaint
	}
	cfg, err := config.Load(args, getenv, usageOut)
	if errors.Is(err, flag.ErrHelp) {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	var h slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	}
	// a failing disk fails every request alike: log a few, count the rest
	log := slog.New(logx.RateLimit(h, slog.LevelWarn, 5, 10*time.Second))

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	blobs, err := media.NewDir(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		st.Close()
		return nil, err
	}
	m := &Main{Config: cfg, Store: st, log: log, stdout: stdout}
	pusher := callback.NewPusher(nil, cfg.CallbackDenyPrivate)
	m.Live = live.New(st, live.Config{OnEvents: func() {
		if m.Dispatcher != nil {
			m.Dispatcher.Poke()
		}
	}, OnHeard: func() {
		if m.Dispatcher != nil {
			m.Dispatcher.Heard()
		}
	}})
	var tc *orgfile.TestControls
	if cfg.OrgFile != "" {
		if tc, err = orgfile.LoadTestControls(cfg.OrgFile); err != nil {
			st.Close()
			return nil, err
		}
		if tc != nil && tc.Enabled {
			cfg.TestControls = true // the file switches them on as the flag does
			m.Config.TestControls = true
		}
	}
	var clock ding.Clock
	opts := []service.Option{service.WithBlobs(blobs), service.WithPusher(pusher),
		service.OnSubscriptionsChanged(func() {
			if m.Dispatcher != nil {
				m.Dispatcher.Refresh()
			}
		})}
	if cfg.TestControls {
		clock = ding.NewControlClock(nil)
		opts = append(opts, service.WithTestControls())
	}
	m.Service = service.New(live.Observe(st, m.Live), clock, nil, opts...)
	m.Gateway = stream.New(m.Service, log, stream.Options{OnConnect: func(string) {
		if m.Dispatcher != nil {
			m.Dispatcher.Refresh()
		}
	}})
	// retry backoff follows the server's clock, moved or not
	m.Dispatcher = events.New(st, pusher, m.Service.Clock(), events.Config{Log: log, Calls: m.Service.Calls(), ClaimAll: !cfg.Postgres(), PublicURL: cfg.PublicURL, Faults: m.Service.Faults(),
		Told: m.Live.TellsEvents})
	m.Dispatcher.SetStreamHub(m.Gateway)
	// a reset empties subscriptions and cursors: the dispatcher re-reads them
	m.Service.OnReset(func(context.Context) { m.Dispatcher.Reset(); m.Live.Reset() })
	// a clock moved before a restart, or by another node, stays moved
	if err := m.Service.SyncControls(context.Background()); err != nil {
		st.Close()
		return nil, err
	}
	if err := m.applyOrg(context.Background()); err != nil {
		st.Close()
		return nil, err
	}
	if err := applyTestControls(context.Background(), m.Service, tc); err != nil {
		st.Close()
		return nil, fmt.Errorf("%s: testControls: %w", cfg.OrgFile, err)
	}
	if m.admin, err = m.Service.AdminToken(context.Background(), cfg.AdminToken); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Pprof != "" {
		if m.stopPprof, err = startPprof(cfg.Pprof, log); err != nil {
			st.Close()
			return nil, fmt.Errorf("pprof: %w", err)
		}
	}
	m.Metrics = metrics.New()
	if o, ok := st.(commitObserver); ok {
		o.ObserveCommits(m.Metrics.ObserveCommit)
	}
	if p, ok := st.(interface{ PoolStats() (int32, int32, int32) }); ok {
		m.Metrics.WatchPool(p.PoolStats)
	}
	handler := server.Handler(m.Service, log, server.WithAdminTokenHash(m.admin.Hash), server.WithMetrics(m.Metrics),
		server.WithStream(m.Gateway), server.WithPublicURL(cfg.PublicURL), server.WithRequestLog(cfg.RequestLog),
		server.WithLive(m.Live), server.WithConsole(console.Handler()))
	if m.Server, err = server.Listen(cfg.Addr, handler, log); err != nil {
		if m.stopPprof != nil {
			m.stopPprof()
		}
		st.Close()
		return nil, err
	}
	m.Server.TrackConns(m.Metrics.ConnState)
	registerEventMetrics(m.Metrics.Registry, m.Dispatcher, m.Gateway)
	if cfg.PublicURL == "" {
		// robots in HTTP mode reply to where this server listens
		m.Dispatcher.SetPublicURL("http://" + m.Server.Addr().String())
	}
	return m, nil
}

// commitObserver is a store that reports its commits (both stores do).
type commitObserver interface {
	ObserveCommits(func(batch int, took time.Duration, err error))
}

// openStore opens the PostgreSQL database DB names, or else the SQLite file.
func openStore(cfg config.Config) (ding.Store, error) {
	if cfg.Postgres() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return postgres.Open(ctx, cfg.DB)
	}
	return sqlite.OpenOptions(cfg.DBPath(), sqlite.Options{SyncNormal: cfg.SQLiteSync == "normal"})
}

// applyOrg applies the org file and the demo, and keeps both in memory for
// a reset to apply again.
func (m *Main) applyOrg(ctx context.Context) error {
	var orgs []*ding.Org
	if m.Config.OrgFile != "" {
		var err error
		if orgs, err = orgfile.Load(m.Config.OrgFile, time.Now().UnixMilli()); err != nil {
			return err
		}
	}
	m.Service.Declare(orgs, m.Config.Demo)
	created, err := m.Service.ApplyDeclared(ctx)
	if err != nil && m.Config.OrgFile != "" {
		return fmt.Errorf("apply %s: %w", m.Config.OrgFile, err)
	}
	if err != nil {
		return err
	}
	if created != "" {
		m.demoCorp = created
		m.log.Info("created the demo organisation")
		if m.demoMember, err = m.Service.IssueDemoMemberToken(ctx); err != nil {
			return err
		}
		m.Service.DeclareMemberToken(*m.demoMember)
	}
	return nil
}

// Run serves until ctx ends, then shuts down gracefully and closes the store.
func (m *Main) Run(ctx context.Context) error {
	m.banner(ctx)
	errc := make(chan error, 1)
	go func() { errc <- m.Server.Serve() }()
	dctx, stopEvents := context.WithCancel(context.Background())
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		m.Dispatcher.Run(dctx)
	}()
	lctx, stopLive := context.WithCancel(context.Background())
	lived := make(chan struct{})
	go func() {
		defer close(lived)
		m.Live.Run(lctx)
	}()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	// nodes sharing a database follow each other's resets and clock moves
	go m.Service.WatchControls(wctx, 250*time.Millisecond, func(err error) { m.log.Warn("test controls: cannot read the store", "err", err) })
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		m.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		// Stream clients are told to go first, so they reconnect elsewhere
		m.Gateway.Shutdown(sctx)
		err = m.Server.Shutdown(sctx)
		cancel()
	}
	if m.stopPprof != nil {
		m.stopPprof()
	}
	// deliveries stop after the last request: they save their place and
	// give up their leases before the store closes
	stopEvents()
	<-dispatched
	stopLive()
	<-lived
	return errors.Join(err, m.Store.Close())
}

func (m *Main) banner(ctx context.Context) {
	base := "http://" + m.Server.Addr().String()
	w := m.stdout
	fmt.Fprintf(w, "DingChat is listening on %s\n", base)
	fmt.Fprintf(w, "  data:   %s\n", m.Config.DBName())
	if !m.Config.Postgres() && m.Config.SQLiteSync == "normal" {
		fmt.Fprintf(w, "          commits are not synced (--sqlite-sync normal): they survive the process being\n          killed, not a power loss or a crash of the machine\n")
	}
	fmt.Fprintf(w, "  health: %s/_dingchat/health\n", base)
	switch {
	case m.admin.Minted != "":
		fmt.Fprintf(w, "  admin token: %s\n    (minted now and kept only as a hash: this is the one time it is shown;\n     set --admin-token-file to choose your own)\n", m.admin.Minted)
	case m.admin.Configured:
		fmt.Fprintf(w, "  admin token: as configured\n")
	default:
		fmt.Fprintf(w, "  admin token: kept as a hash since it was minted (shown at that start only;\n    set --admin-token-file to choose a new one)\n")
	}
	if m.Service.TestControls() {
		c := m.Service.ReadClock(ctx)
		clock := "real time"
		if c.Pinned {
			clock = "pinned at " + c.Now
		} else if c.OffsetMs != 0 {
			clock = fmt.Sprintf("moved %s ahead: %s", time.Duration(c.OffsetMs)*time.Millisecond, c.Now)
		}
		fmt.Fprintf(w, "  test controls: ON (reset, clock, faults under %s/_dingchat/admin/); clock: %s\n", base, clock)
	}
	sums, err := m.Service.Summarize(ctx, 1000)
	if err != nil {
		m.log.Warn("cannot list the organisation", "err", err)
		return
	}
	for _, s := range sums {
		fmt.Fprintf(w, "\ncorp %s (%s)\n", s.Corp.ID, s.Corp.Name)
		// secrets are shown in full only when minted by this start (the
		// demo organisation it created) or when asked for
		show := m.Config.ShowSecrets || s.Corp.ID == m.demoCorp
		var first *ding.App
		for i, a := range s.Apps {
			if a.SuiteKey != "" {
				fmt.Fprintf(w, "  ISV app of suite %s  agentId %d (tokens via /service/get_corp_token)\n", a.SuiteKey, a.AgentID)
				continue
			}
			secret := a.Secret
			if !show {
				secret = httpx.Mask(a.Secret) + " (--show-secrets prints it)"
			}
			fmt.Fprintf(w, "  app %s  agentId %d\n    appKey    %s\n    appSecret %s\n", a.Name, a.AgentID, a.Key, secret)
			if first == nil {
				first = &s.Apps[i]
			}
		}
		fmt.Fprintf(w, "  users (%d): %s\n", len(s.Users), sampleUsers(s.Users, 6))
		if t := m.demoMember; t != nil && t.CorpID == s.Corp.ID {
			fmt.Fprintf(w, "  member token of %s (minted now, shown once): %s\n", t.UserID, t.Value)
		}
		fmt.Fprintf(w, "  member tokens (the join page and /_dingchat/member/ ask for one):\n"+
			"    curl -X POST -H 'Authorization: Bearer ADMIN_TOKEN' -d '{\"corpId\":\"%s\",\"userid\":\"USERID\"}' %s/_dingchat/admin/member-tokens\n",
			s.Corp.ID, base)
		if first != nil {
			secret := "APPSECRET"
			if show {
				secret = first.Secret
			}
			fmt.Fprintf(w, "\ntry:\n  curl '%s/gettoken?appkey=%s&appsecret=%s'\n", base, first.Key, secret)
		}
	}
}

// sampleUsers names a few users, the ones DingTalk's docs use first.
func sampleUsers(us []ding.User, n int) string {
	docs := []string{"manager4220", "zhangsan", "lisi", "wangwu"}
	have := make(map[string]bool, len(us))
	for _, u := range us {
		have[u.UserID] = true
	}
	var ids []string
	for _, id := range docs {
		if have[id] {
			ids = append(ids, id)
		}
	}
	for _, u := range us {
		if len(ids) >= n {
			break
		}
		if !slices.Contains(docs, u.UserID) {
			ids = append(ids, u.UserID)
		}
	}
	if len(us) > len(ids) {
		ids = append(ids, "…")
	}
	return strings.Join(ids, ", ")
}

// applyTestControls sets what the org file's testControls declare: its
// fault rules replace the stored ones, and its clock applies when the
// clock has not been moved (a restart keeps a moved clock where it is).
func applyTestControls(ctx context.Context, svc *service.Service, tc *orgfile.TestControls) error {
	if tc == nil || !tc.Enabled {
		return nil
	}
	if tc.Faults != nil {
		if err := svc.ClearFaults(ctx); err != nil {
			return err
		}
		for i, f := range tc.Faults {
			b, err := json.Marshal(f)
			if err != nil {
				return fmt.Errorf("faults[%d]: %w", i, err)
			}
			var r service.FaultRule
			d := json.NewDecoder(bytes.NewReader(b))
			d.DisallowUnknownFields()
			if err := d.Decode(&r); err != nil {
				return fmt.Errorf("faults[%d]: %w", i, err)
			}
			if _, err := svc.AddFault(ctx, r); err != nil {
				return fmt.Errorf("faults[%d]: %w", i, err)
			}
		}
	}
	if tc.Clock != "" && svc.ReadClock(ctx).OffsetMs == 0 && !svc.ReadClock(ctx).Pinned {
		move := service.ClockMove{Pin: tc.Clock}
		if strings.HasPrefix(tc.Clock, "+") {
			move = service.ClockMove{Advance: tc.Clock}
		}
		if _, err := svc.MoveClock(ctx, move); err != nil {
			return fmt.Errorf("clock %q: %w", tc.Clock, err)
		}
	}
	return nil
}

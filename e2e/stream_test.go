package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
)

// waitTitles waits until the SDK bot has handled exactly want, in order,
// counting each title once (redeliveries are allowed).
func waitTitles(t *testing.T, bot *dingtest.SDKBot, want []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var titles []string
		for _, l := range bot.Matching(func(m map[string]any) bool { return m["event"] == "chat_update_title" }) {
			d, _ := l["data"].(map[string]any)
			titles = append(titles, fmt.Sprint(d["title"]))
		}
		got := distinct(titles)
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SDK handled titles %v, want %v; its stderr:\n%s", got, want, bot.Stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The official SDK survives a server restart: told to disconnect, it
// reconnects, and events committed while it was away arrive, in order.
func TestStreamSDKRestart(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// a fixed port, so the SDK's reconnection finds the restarted server
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"--addr", addr, "--data", data, "--org", writeOrg(t, dir), "--demo=false"}
	p := startEnv(t, nil, args...)
	bot := dingtest.StartSDKBot(t, p.Base, appKey, appSecret, "")
	token := getToken(t, p.Base, appKey, appSecret)
	chat := createGroup(t, p.Base, token)
	time.Sleep(300 * time.Millisecond) // the client's cursor exists from its connection on
	rename(t, p.Base, token, chat, "重启前")
	waitTitles(t, bot, []string{"重启前"}, 10*time.Second)
	p.stop()
	p2 := startEnv(t, nil, args...)
	defer p2.stop()
	// committed before the SDK is back (it waits 3 s between tries)
	rename(t, p2.Base, token, chat, "重启后一")
	rename(t, p2.Base, token, chat, "重启后二")
	waitTitles(t, bot, []string{"重启前", "重启后一", "重启后二"}, 20*time.Second)
}

// failover forwards to the first node that answers: a load balancer in
// front of several nodes, keeping the Host clients addressed.
type failover struct {
	nodes []*url.URL
	down  []atomic.Bool
}

func (f *failover) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for i, n := range f.nodes {
		if f.down[i].Load() {
			continue
		}
		rp := httputil.NewSingleHostReverseProxy(n)
		rp.Director = func(req *http.Request) {
			req.URL.Scheme, req.URL.Host = n.Scheme, n.Host // Host stays the balancer's
		}
		rp.ServeHTTP(w, r)
		return
	}
	http.Error(w, "no node", http.StatusBadGateway)
}

// On PostgreSQL a client connected to node A hears what is committed
// through node B; when A dies the SDK reconnects (through the balancer, to
// B) and loses nothing.
func TestStreamTwoNodes(t *testing.T) {
	needBinary(t)
	if !dingtest.Postgres(t) {
		t.Skip("several nodes share a database on PostgreSQL only (DINGCHAT_TEST_STORE=postgres)")
	}
	db := dingtest.ClaimSchema(t, 8)
	dir := t.TempDir()
	orgPath := writeOrg(t, dir)
	nodes := startNodes(t, 2, dir, orgPath, db)
	lb := &failover{down: make([]atomic.Bool, 2)}
	for _, p := range nodes {
		u, _ := url.Parse(p.Base)
		lb.nodes = append(lb.nodes, u)
	}
	front := newHTTPServer(t, lb)
	bot := dingtest.StartSDKBot(t, front, appKey, appSecret, "")
	token := getToken(t, nodes[1].Base, appKey, appSecret)
	chat := createGroup(t, nodes[1].Base, token)
	time.Sleep(300 * time.Millisecond)
	var want []string
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("经B改名%d", i)
		rename(t, nodes[1].Base, token, chat, name) // the client is on node 0
		want = append(want, name)
	}
	waitTitles(t, bot, want, 10*time.Second)
	lb.down[0].Store(true)
	nodes[0].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[0].done
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("A死后%d", i)
		rename(t, nodes[1].Base, token, chat, name)
		want = append(want, name)
	}
	// node 1 takes the client's cursor once node 0's lease runs out (15 s)
	waitTitles(t, bot, want, 40*time.Second)
}

func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

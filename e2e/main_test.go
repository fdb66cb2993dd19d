package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dingchat/dingchat/internal/dingtest"
)

// binary is the dingchat program built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test skips itself
	}
	dir, err := os.MkdirTemp("", "dingchat-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dingchat")
	build := exec.Command("go", "build", "-o", binary, "./cmd/dingchat")
	build.Dir = ".." // the module root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build dingchat:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needBinary skips under -short; otherwise the test runs against the binary.
func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
}

// The fixed organisation every test but the demo one runs against.
const (
	corpID    = "dinge2ecorp000000001"
	appKey    = "dinge2eappkey0000001"
	appSecret = "e2e-secret-0000000001"
)

const orgYAML = `corps:
  - corpId: ` + corpID + `
    name: 端到端测试企业
    apps:
      - appKey: ` + appKey + `
        appSecret: ` + appSecret + `
        agentId: 300001
        name: 端到端应用
    users:
      - userid: manager4220
        name: 管理员
        mobile: "13800000000"
        admin: true
        memberToken: ` + ownerToken + `
      - userid: zhangsan
        name: 张三
        mobile: "13800000001"
        title: 工程师
      - userid: lisi
        name: 李四
        mobile: "13800000002"
      - userid: wangwu
        name: 王五
        mobile: "13800000003"
        memberToken: ` + wangwuToken + `
`

// writeOrg writes the fixed organisation file into dir and returns its path.
func writeOrg(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(path, []byte(orgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// proc is one running dingchat.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	Base   string // http://127.0.0.1:PORT
	Host   string // 127.0.0.1:PORT
	out    *lockedBuffer
	errb   *lockedBuffer
	done   chan struct{}
	first  chan string // the first stdout line
	waitEr error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serverEnv is the test's environment without DINGCHAT_* settings, so the
// flags alone decide.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DINGCHAT_") {
			env = append(env, kv)
		}
	}
	return env
}

// start runs `dingchat serve --addr 127.0.0.1:0` with args appended, reads
// the address from the first stdout line and waits until it is healthy.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	return startEnv(t, nil, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
}

// startEnv runs `dingchat serve` with args and the DINGCHAT_* settings in env.
// On PostgreSQL (DINGCHAT_TEST_STORE=postgres) a run that names no database
// gets the schema standing in for its data directory.
func startEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	needBinary(t)
	if dingtest.Postgres(t) && setting(args, env, "db") == "" {
		args = append(args, "--db", database(t, setting(args, env, "data")))
	}
	p := launch(t, env, args...)
	p.ready()
	return p
}

// launch starts `dingchat serve` and returns at once; ready waits for it.
func launch(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = append(serverEnv(), env...)
	p := &proc{t: t, cmd: cmd, out: &lockedBuffer{}, errb: &lockedBuffer{}, done: make(chan struct{}), first: make(chan string, 1)}
	cmd.Stderr = p.errb
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dingchat: %v", err)
	}
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("dingchat stdout:\n%s\ndingchat stderr:\n%s", p.out, p.errb)
		}
	})
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		p.out.Write([]byte(line))
		p.first <- line
		io.Copy(p.out, r)
		p.waitEr = cmd.Wait()
		close(p.done)
	}()
	return p
}

// ready reads the address from the first stdout line and waits until the
// server is healthy.
func (p *proc) ready() {
	t := p.t
	t.Helper()
	var line string
	select {
	case line = <-p.first:
	case <-time.After(15 * time.Second):
		t.Fatalf("dingchat printed nothing within 15s; stderr:\n%s", p.errb)
	}
	const prefix = "DingChat is listening on http://"
	if !strings.HasPrefix(line, prefix) {
		<-p.done
		t.Fatalf("first stdout line = %q, want prefix %q; exit: %v; stderr:\n%s", line, prefix, p.waitEr, p.errb)
	}
	p.Host = strings.TrimSpace(strings.TrimPrefix(line, prefix))
	p.Base = "http://" + p.Host
	if strings.HasSuffix(p.Host, ":0") {
		t.Fatalf("banner names port 0, not the bound port: %q", line)
	}
	p.waitHealthy()
}

func (p *proc) waitHealthy() {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(p.Base + "/_dingchat/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if got, want := strings.TrimSpace(string(body)), `{"status":"ok"}`; got != want {
					p.t.Fatalf("health body = %s, want %s", got, want)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("dingchat at %s not healthy after 10s (last error %v)", p.Base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires a clean exit with status 0.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	p.wait()
}

// wait waits for the exit after a signal and requires status 0.
func (p *proc) wait() {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Fatalf("dingchat did not exit within 15s of SIGTERM")
	}
	if p.waitEr != nil {
		p.t.Fatalf("dingchat exited with %v after SIGTERM, want status 0; stderr:\n%s", p.waitEr, p.errb)
	}
}

// waitStdout waits until stdout contains s and returns all of stdout.
func (p *proc) waitStdout(s string) string {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := p.out.String()
		if strings.Contains(out, s) {
			return out
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("stdout does not contain %q:\n%s", s, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// setting is the value args (--name v or --name=v) or env (DINGCHAT_NAME=v)
// give a flag, "" when neither does.
func setting(args, env []string, name string) string {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DINGCHAT_"+strings.ToUpper(name)+"="); ok {
			return v
		}
	}
	return ""
}

// databases maps a data directory to the PostgreSQL schema standing in for
// it, so that a restart on the same directory finds the same data.
var (
	databasesMu sync.Mutex
	databases   = map[string]string{}
)

// database is the PostgreSQL URL (with its search_path) for the data
// directory data, borrowed for the rest of t.
func database(t *testing.T, data string) string {
	t.Helper()
	databasesMu.Lock()
	defer databasesMu.Unlock()
	if url, ok := databases[data]; ok {
		return url
	}
	url := dingtest.ClaimSchema(t, 8)
	databases[data] = url
	t.Cleanup(func() {
		databasesMu.Lock()
		delete(databases, data)
		databasesMu.Unlock()
	})
	return url
}

// bannerData is what the banner's data line shows for the data directory.
func bannerData(t *testing.T, data string) string {
	t.Helper()
	if dingtest.Postgres(t) {
		return "  data:   " + database(t, data)
	}
	return "  data:   " + filepath.Join(data, "dingchat.db")
}

// startOrg starts dingchat on a fresh data dir with the fixed organisation
// and no demo corp. It returns the process and the data dir.
func startOrg(t *testing.T) (*proc, string) {
	t.Helper()
	needBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	return start(t, "--data", data, "--org", writeOrg(t, dir), "--demo=false"), data
}

// legacy calls a legacy endpoint the way DingTalk's own docs show it: GET
// with the query, or POST with a JSON body. It decodes the answer into out
// and returns the raw body.
func legacy(t *testing.T, method, rawURL string, body any, out any) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d, want 200; body %s", method, rawURL, resp.StatusCode, raw)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/json"; got != want {
		t.Fatalf("%s %s: Content-Type = %q, want %q", method, rawURL, got, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, rawURL, raw, err)
		}
	}
	return raw
}

// errBody is the legacy envelope.
type errBody struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

type tokenBody struct {
	errBody
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// getToken calls GET /gettoken with the fixed app's credentials.
func getToken(t *testing.T, base, key, secret string) string {
	t.Helper()
	var tok tokenBody
	raw := legacy(t, http.MethodGet, base+"/gettoken?"+url.Values{"appkey": {key}, "appsecret": {secret}}.Encode(), nil, &tok)
	if tok.Errcode != 0 || tok.AccessToken == "" {
		t.Fatalf("gettoken = %s, want errcode 0 and a token", raw)
	}
	if got, want := tok.ExpiresIn, 7200; got != want {
		t.Fatalf("expires_in = %d, want %d", got, want)
	}
	return tok.AccessToken
}

// chatInfo is chat/get's chat_info as DingTalk documents it.
type chatInfo struct {
	Name                string   `json:"name"`
	Owner               string   `json:"owner"`
	UserIDList          []string `json:"useridlist"`
	ConversationTag     int      `json:"conversationTag"`
	ChatBannedType      int      `json:"chatBannedType"`
	Searchable          int      `json:"searchable"`
	ValidationType      int      `json:"validationType"`
	MentionAllAuthority int      `json:"mentionAllAuthority"`
	ManagementType      int      `json:"managementType"`
	ShowHistoryType     int      `json:"showHistoryType"`
	Status              int      `json:"status"`
	ChatID              string   `json:"chatid"`
}

type chatGetBody struct {
	errBody
	ChatInfo chatInfo `json:"chat_info"`
}

// chatGet reads a group over the legacy surface and requires success.
func chatGet(t *testing.T, base, token, chatID string) chatInfo {
	t.Helper()
	var got chatGetBody
	raw := legacy(t, http.MethodGet, base+"/chat/get?"+url.Values{"access_token": {token}, "chatid": {chatID}}.Encode(), nil, &got)
	if got.Errcode != 0 {
		t.Fatalf("chat/get %s = %s, want errcode 0", chatID, raw)
	}
	return got.ChatInfo
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
		if m[s] < 0 {
			return false
		}
	}
	return true
}

// startNodes starts n dingchat processes at once on one database, each
// with a data directory of its own under dir, and waits until all answer.
func startNodes(t *testing.T, n int, dir, org, db string) []*proc {
	t.Helper()
	nodes := make([]*proc, n)
	for i := range nodes {
		nodes[i] = launch(t, nil, "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, fmt.Sprint("node", i)),
			"--org", org, "--demo=false", "--db", db)
	}
	for _, p := range nodes {
		p.ready()
	}
	return nodes
}

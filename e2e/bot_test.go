package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeBot builds the README's 20-line bot as a program of its own
// and runs it against the demo organisation: a member @-mentions the
// app's robot and the bot's reply lands in the group.
func TestReadmeBot(t *testing.T) {
	needBinary(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var src string
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], "RegisterChatBotCallbackRouter") && strings.Contains(m[1], "package main") {
			src = m[1]
		}
	}
	if src == "" {
		t.Fatal("README has no bot example")
	}
	if n := strings.Count(strings.TrimSpace(src), "\n") + 1; n > 25 {
		t.Errorf("the README's bot is %d lines", n)
	}
	// a module of its own that uses this module's requirements, offline
	dir := t.TempDir()
	mod, _ := os.ReadFile("../go.mod")
	sum, _ := os.ReadFile("../go.sum")
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte(strings.Replace(string(mod), "module github.com/dingchat/dingchat", "module readmebot", 1)), 0o600)
	os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o600)
	d := startDemo(t)
	// the example talks to the README's address; point it at this server
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(strings.Replace(src, "http://127.0.0.1:8080", d.Base, 1)), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-mod=mod", "-o", "bot", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the README's bot does not build: %v\n%s", err, out)
	}

	out := d.waitStdout("try:")
	corp := regexp.MustCompile(`(?m)^corp (\S+) `).FindStringSubmatch(out)
	mt := memberTokenLine.FindStringSubmatch(out)
	if corp == nil || mt == nil {
		t.Fatalf("banner names no corp or member token:\n%s", out)
	}
	var created createBody
	legacy(t, "POST", d.Base+"/chat/create?access_token="+d.token, map[string]any{
		"name": "机器人", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan", mt[1]}}, &created)
	admin := func(path, body string) {
		t.Helper()
		a := runCurl(t, needCurl(t), []string{"-H", "Authorization: Bearer " + d.admin, "-d", body, d.Base + path})
		if a.Status != 200 {
			t.Fatalf("%s: %s", path, a)
		}
	}
	admin("/_dingchat/admin/robots", `{"corpId":"`+corp[1]+`","robotCode":"`+d.key+`","name":"演示机器人"}`)
	admin("/_dingchat/admin/groups/"+created.ChatID+"/robots", `{"robotCode":"`+d.key+`"}`)

	bot := exec.CommandContext(ctx, filepath.Join(dir, "bot"))
	bot.Env = append(os.Environ(), "APP_KEY="+d.key, "APP_SECRET="+d.secret)
	if err := bot.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { bot.Process.Kill(); bot.Wait() }()
	time.Sleep(time.Second) // the bot connects
	send := runCurl(t, needCurl(t), []string{"-H", "Authorization: Bearer " + mt[2], "-d",
		`{"msgtype":"text","text":{"content":"@演示机器人 你好"},"at":{"atRobotCodes":["` + d.key + `"]}}`,
		d.Base + "/_dingchat/member/groups/" + created.ChatID + "/messages"})
	if send.Status != 200 {
		t.Fatalf("member send: %s", send)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		a := runCurl(t, needCurl(t), []string{"-H", "Authorization: Bearer " + mt[2], d.Base + "/_dingchat/member/groups/" + created.ChatID + "/messages?limit=5"})
		if strings.Contains(string(a.Body), "你说: @演示机器人 你好") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the bot's reply never reached the group")
}

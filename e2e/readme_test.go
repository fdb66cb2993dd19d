package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeCommands are the shell commands of the README's plain code blocks,
// continuation lines joined; output lines shown beside them are left out.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	var block []string
	in, shell := false, false
	for _, line := range strings.Split(string(b), "\n") {
		if lang, ok := strings.CutPrefix(line, "```"); ok {
			if in && shell {
				cmds = append(cmds, blockCommands(block)...)
			}
			in, shell, block = !in, lang == "" || lang == "sh" || lang == "bash", nil
			continue
		}
		if in {
			block = append(block, line)
		}
	}
	return cmds
}

func blockCommands(lines []string) []string {
	var cmds []string
	for i := 0; i < len(lines); i++ {
		cmd := lines[i]
		for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
			i++
			cmd += "\n" + lines[i]
		}
		if commandWord.MatchString(cmd) {
			cmds = append(cmds, cmd)
		}
	}
	return cmds
}

var commandWord = regexp.MustCompile(`^(curl|dingchat|go|\./test|DINGCHAT_\w+=\S+ \./test|docker)\b`)

// notRun are the README's commands no test runs, each with the reason.
var notRun = map[string]string{
	"go install github.com/dingchat/dingchat/cmd/dingchat@latest": "fetches the published module from the network",
	"./test": "is the command running this test",
	"DINGCHAT_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' ./test":                                                    "is the command running this test",
	"dingchat serve --db 'postgres://dingchat:PASSWORD@db.example:5432/dingchat?sslmode=require'":                                                "names a server the README invents; the PostgreSQL pass runs the binary on a real one",
	"dingchat backup --data dingchat-data --to dingchat-backup.tar.gz":                                                                           "needs a store; TestBackupUnderLoadRestores backs one up under load",
	"dingchat restore --from dingchat-backup.tar.gz --data restored-data":                                                                        "needs a backup; TestBackupUnderLoadRestores restores one",
	"dingchat migrate --from sqlite:dingchat-data/dingchat.db --to 'postgres://dingchat:PASSWORD@db.example:5432/dingchat?search_path=dingchat'": "names a server the README invents; TestMigrateToPostgres moves a store into a real one",
	"docker build -t dingchat .":                              "needs a container engine; TestContainerImage builds the image where one runs",
	"docker run -p 8080:8080 -v dingchat-data:/data dingchat": "needs a container engine; TestContainerImage runs the image where one runs",
	"docker compose up --build":                               "needs a container engine; TestContainerFiles checks the compose file",
	"curl -X POST 'http://127.0.0.1:8080/call_back/register_call_back?access_token=TOKEN' \\\n     -H 'Content-Type: application/json' \\\n     -d '{\"call_back_tag\":[\"chat_add_member\",\"chat_update_title\"],\"token\":\"my-callback-token\",\"aes_key\":\"Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7\",\"url\":\"http://127.0.0.1:9000/dingtalk/events\"}'": "needs a callback receiver on port 9000; TestRegisterCallbackChecksURL and TestCallbackWithSDK register against real ones",
}

// TestReadmeCommands runs every command of the README: curl commands
// through curl against a started demo (placeholders filled), dingchat
// commands with the built binary, go build as TestMain does. A command this
// test does not know fails it, so a new README command gets run too.
func TestReadmeCommands(t *testing.T) {
	t.Parallel()
	curl := needCurl(t)
	d := startDemo(t)
	dir := t.TempDir()

	// the README's organisation file, for org check and the suite's ticket
	readme, _ := os.ReadFile("../README.md")
	yml := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(readme)
	if yml == nil {
		t.Fatal("README has no yaml example")
	}
	if err := os.WriteFile(filepath.Join(dir, "org.yaml"), yml[1], 0o600); err != nil {
		t.Fatal(err)
	}
	const orgAdmin = "e2e-readme-org-admin"
	org := start(t, "--data", filepath.Join(dir, "orgdata"), "--org", filepath.Join(dir, "org.yaml"), "--demo=false", "--admin-token", orgAdmin)

	// a group in the demo, with a custom robot for the webhook example
	var created createBody
	legacy(t, "POST", d.Base+"/chat/create?access_token="+d.token, map[string]any{
		"name": "README", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan"}}, &created)
	hook := runCurl(t, curl, []string{"-H", "Authorization: Bearer " + d.admin, "-d", `{"name":"README"}`,
		d.Base + "/_dingchat/admin/groups/" + created.ChatID + "/webhooks"})
	var h struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(hook.Body, &h) != nil || h.AccessToken == "" {
		t.Fatalf("create a webhook: %s", hook)
	}
	out := d.waitStdout("try:")
	corp := regexp.MustCompile(`(?m)^corp (\S+) `).FindStringSubmatch(out)
	mt := memberTokenLine.FindStringSubmatch(out)
	if corp == nil || mt == nil {
		t.Fatalf("banner names no corp or member token:\n%s", out)
	}

	// the test controls run on a server of their own, started with them on
	ctl := start(t, "--data", filepath.Join(dir, "ctldata"), "--test-controls", "--admin-token", demoAdminToken)
	ctlCorp := regexp.MustCompile(`(?m)^corp (\S+) `).FindStringSubmatch(ctl.waitStdout("try:"))
	if ctlCorp == nil {
		t.Fatal("the controls server's banner names no corp")
	}
	// what the README's TESTCORPID and RULEID stand for, made just before the command needs it
	made := func(path, body, field string) string {
		a := runCurl(t, curl, []string{"-H", "Authorization: Bearer " + demoAdminToken, "-d", body, ctl.Base + path})
		var m map[string]any
		json.Unmarshal(a.Body, &m)
		id, _ := m[field].(string)
		if id == "" {
			t.Fatalf("controls server: %s", a)
		}
		return id
	}
	controls := []string{"/_dingchat/admin/reset", "/_dingchat/admin/clock", "/_dingchat/admin/faults", "/_dingchat/admin/requests",
		"/_dingchat/admin/events?", "TESTCORPID", `"robots":1`}

	ran := 0
	for _, cmd := range readmeCommands(t) {
		if why, ok := notRun[cmd]; ok {
			t.Logf("not run (%s): %s", why, cmd)
			continue
		}
		words, err := shellWords(cmd)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case words[0] == "curl":
			base, admin, token := d.Base, d.admin, d.token
			if strings.Contains(cmd, "SUITEKEY") {
				base, admin = org.Base, orgAdmin
			}
			if strings.Contains(cmd, "/robot/send") {
				token = h.AccessToken
			}
			corpID, control, testCorp, ruleID := corp[1], false, "", ""
			for _, c := range controls {
				if strings.Contains(cmd, c) {
					base, admin, corpID, control = ctl.Base, demoAdminToken, ctlCorp[1], true
				}
			}
			if strings.Contains(cmd, "TESTCORPID") {
				testCorp = made("/_dingchat/admin/corps", `{}`, "corpId")
			}
			if strings.Contains(cmd, "RULEID") {
				ruleID = made("/_dingchat/admin/faults", `{"path":"/nothing","action":"drop"}`, "id")
			}
			filled := strings.NewReplacer("http://127.0.0.1:8080", base, "ADMIN_TOKEN", admin, "SUITEKEY", "suitekey0001",
				"MEMBER_TOKEN", mt[2], "TESTCORPID", testCorp, "CORPID", corpID, "CHATID", created.ChatID, "USERID", "zhangsan",
				"RULEID", ruleID)
			args := make([]string, 0, len(words)-1)
			for _, w := range words[1:] {
				w = filled.Replace(w)
				w = regexp.MustCompile(`\bKEY\b`).ReplaceAllString(w, d.key)
				w = regexp.MustCompile(`\bSECRET\b`).ReplaceAllString(w, d.secret)
				w = regexp.MustCompile(`\bTOKEN\b`).ReplaceAllString(w, token)
				args = append(args, w)
			}
			a := runCurl(t, curl, args)
			switch {
			case strings.Contains(cmd, `"useridlist":["userid1"]`): // the README's refusal example
				if want := "owner_not_member: owner manager4220 must be a member"; a.Status != 400 || a.reason() != want {
					t.Errorf("%s\n=> %s, want 400 with reason %q", cmd, a, want)
				}
			case a.Status != 200 || (!control && a.errcode() != 0 && a.errcode() != -999): // a fault rule holds an errcode of its own
				t.Errorf("%s\n=> %s", cmd, a)
			}
		case words[0] == "dingchat" && len(words) > 1 && words[1] == "bench":
			args := append([]string{}, words[1:]...)
			for i, w := range args {
				args[i] = strings.NewReplacer("KEY", d.key, "SECRET", d.secret).Replace(w)
				if w == "10s" {
					args[i] = "1s" // the README's run, shorter
				}
			}
			runBinary(t, dir, []string{"DINGCHAT_BENCH_URL=" + d.Base}, 0, args...)
		case words[0] == "dingchat":
			runBinary(t, dir, nil, 0, words[1:]...)
		case words[0] == "go" && len(words) > 1 && words[1] == "run":
			// `go run ./cmd/dingchat serve` is what start does with the built binary
		case words[0] == "go" && len(words) > 1 && words[1] == "build":
			// TestMain builds the binary with this very command
			if strings.Join(words, " ") != "go build -o dingchat ./cmd/dingchat" {
				t.Errorf("README builds with %q; TestMain builds with go build -o dingchat ./cmd/dingchat", cmd)
			}
		default:
			t.Errorf("README command no test runs (run it here, or say in notRun why not): %s", cmd)
			continue
		}
		ran++
	}
	t.Logf("ran %d README commands", ran)
	if ran < 8 {
		t.Errorf("ran %d README commands; the extraction is probably broken", ran)
	}
}

// runBinary runs the built dingchat in dir and requires exit code want.
func runBinary(t *testing.T, dir string, env []string, want int, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(serverEnv(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Errorf("dingchat %s exited %d, want %d:\n%s", strings.Join(args, " "), code, want, out.String())
	}
	return out.Bytes()
}

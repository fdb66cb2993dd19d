package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// demo is a started demo organisation with what the documents' commands
// need filled in.
type demo struct {
	*proc
	key, secret, token, admin string
}

const demoAdminToken = "e2e-demo-admin-token"

func startDemo(t *testing.T) *demo {
	t.Helper()
	p := start(t, "--data", filepath.Join(t.TempDir(), "data"), "--admin-token", demoAdminToken)
	out := p.waitStdout("try:")
	key, secret := appKeyLine.FindStringSubmatch(out), appSecretLine.FindStringSubmatch(out)
	if key == nil || secret == nil {
		t.Fatalf("banner names no appKey/appSecret:\n%s", out)
	}
	return &demo{proc: p, key: key[1], secret: secret[1], token: getToken(t, p.Base, key[1], secret[1]), admin: demoAdminToken}
}

func seed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// upload puts a file into the demo corp the way curl -F does and returns its media_id.
func (d *demo) upload(t *testing.T, curl, typ, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	a := runCurl(t, curl, []string{"-F", "media=@" + path, d.Base + "/media/upload?access_token=" + d.token + "&type=" + typ})
	var b struct {
		Errcode int    `json:"errcode"`
		MediaID string `json:"media_id"`
	}
	if json.Unmarshal(a.Body, &b) != nil || b.Errcode != 0 || b.MediaID == "" {
		t.Fatalf("upload %s: %s", name, a)
	}
	return b.MediaID
}

// TestSeedExamples sends every request example of DingTalk's documents
// (testdata/seeds, copied byte for byte from them) to the demo organisation
// the way a user pastes it into curl: a JSON body given to -d, which curl
// labels application/x-www-form-urlencoded, or the document's own curl
// command. Only the placeholders change.
func TestSeedExamples(t *testing.T) {
	t.Parallel()
	curl := needCurl(t)
	d := startDemo(t)
	legacyURL := func(path string) string { return d.Base + path + "?access_token=" + d.token }
	post := func(path, body string) curlAnswer { return runCurl(t, curl, []string{"-d", body, legacyURL(path)}) }
	ok := func(what string, a curlAnswer) {
		t.Helper()
		if a.Status != 200 || a.errcode() != 0 {
			t.Errorf("%s: %s, want errcode 0", what, a)
		}
	}
	refused := func(what string, a curlAnswer, errcode int, reason string) {
		t.Helper()
		if a.Status != 200 || a.errcode() != errcode || !strings.Contains(a.reason(), reason) {
			t.Errorf("%s: %s, want errcode %d with reason %q", what, a, errcode, reason)
		}
	}

	// chat/create, chat/update and chat/get of the 2016 document
	created := post("/chat/create", seed(t, "000_chat_create.json"))
	ok("chat/create", created)
	var c struct {
		ChatID string `json:"chatid"`
	}
	json.Unmarshal(created.Body, &c)
	if c.ChatID == "" {
		t.Fatalf("chat/create answered no chatid: %s", created)
	}
	fill := func(body string) string {
		body = strings.ReplaceAll(body, "chatxxxxxxxxxxxxxxxxxxx", c.ChatID)
		return strings.ReplaceAll(body, "chatxxxxxxxxx", c.ChatID)
	}
	ok("chat/update", post("/chat/update", fill(seed(t, "000_chat_update.json"))))
	ok("chat/get", runCurl(t, curl, []string{legacyURL("/chat/get") + "&chatid=" + c.ChatID}))

	// the README's step before the chat/send examples: their sender joins
	ok("chat/update adding manager1122", post("/chat/update", `{"chatid":"`+c.ChatID+`","add_useridlist":["manager1122"]}`))

	image := d.upload(t, curl, "image", "photo.png", []byte("\x89PNG\r\n\x1a\nexample"))
	voice := d.upload(t, curl, "voice", "voice.amr", []byte("#!AMR\nexample"))
	file := d.upload(t, curl, "file", "report.pdf", []byte("%PDF-1.4 example"))
	for _, m := range []struct {
		name, media string
	}{{"text", ""}, {"image", image}, {"file", file}, {"link", ""}, {"oa", image}} {
		body := fill(seed(t, "000_send_"+m.name+".json"))
		body = strings.ReplaceAll(body, "MEDIA_ID", m.media)
		body = strings.ReplaceAll(body, "@lADOADmaWMzazQKA", m.media)
		ok("chat/send "+m.name, post("/chat/send", body))
	}
	// DingTalk wants a voice message's duration; the 2016 example has none
	voiceBody := strings.ReplaceAll(fill(seed(t, "000_send_voice.json")), "MEDIA_ID", voice)
	refused("chat/send voice as documented", post("/chat/send", voiceBody), 34014, "msg_malformed: voice.duration must be 1..60 seconds")
	// the OA example's image, unfilled, names the media id it cannot find
	oa := fill(seed(t, "000_send_oa.json"))
	refused("chat/send oa with the document's media id", post("/chat/send", oa), 40007, "@lADOADmaWMzazQKA")

	// the later document's own curl command, host and token filled
	cmd := strings.ReplaceAll(seed(t, "001_chat_create.curl"), "http://127.0.0.1/", d.Base+"/")
	cmd = strings.ReplaceAll(cmd, "6d1bxxxx", d.token)
	words, err := shellWords(cmd)
	if err != nil || words[0] != "curl" {
		t.Fatalf("001_chat_create.curl: %q, %v", words, err)
	}
	refused("the document's curl chat/create", runCurl(t, curl, words[1:]), 49006, "owner_not_member: owner manager4220 must be a member")

	// the v1.0 document's HTTP example, as curl sends it
	lines := strings.Split(seed(t, "002_group_create.http"), "\n")
	args := []string{"-X", "POST", d.Base + "/v1.0/im/group/create"}
	i := 1
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "{"); i++ {
		k, v, _ := strings.Cut(lines[i], ":")
		if strings.EqualFold(k, "Host") {
			continue
		}
		if k == "x-acs-dingtalk-access-token" {
			v = d.token
		}
		args = append(args, "-H", k+": "+v)
	}
	args = append(args, "--data-raw", strings.Join(lines[i:], "\n"))
	a := runCurl(t, curl, args)
	if a.Status != 400 || !strings.Contains(string(a.Body), `"code":"parameter.invalid"`) || a.reason() == "" {
		t.Errorf("v1.0 group/create as documented: %s, want 400 parameter.invalid with a reason", a)
	}
	t.Logf("v1.0 group/create as documented: %s", a.reason())
}

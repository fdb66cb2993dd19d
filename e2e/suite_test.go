package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	oauth2 "github.com/alibabacloud-go/dingtalk/oauth2_1_0"
	"github.com/alibabacloud-go/tea/tea"
)

// The e2e corp with an ISV suite it authorised, as an org file declares them.
const (
	isvSuiteKey    = "suitee2ekey000000001"
	isvSuiteSecret = "e2e-suite-secret-0001"
	isvTicket      = "e2e-suite-ticket-0001"
	isvAgentID     = 600001
)

const isvOrgYAML = orgYAML + `suites:
  - suiteKey: ` + isvSuiteKey + `
    suiteSecret: ` + isvSuiteSecret + `
    suiteTicket: ` + isvTicket + `
    name: 端到端ISV应用
    authCorps:
      - corpId: ` + corpID + `
        permanentCode: e2e-permanent-code
        agentId: 600001
`

// TestISVThroughOfficialSDK gets suite and corp tokens through the official
// Go SDK's oauth2 client from a binary started with an org file that
// declares a suite, signs get_corp_token as the Java SDK does, then binds
// the suite's app to a group with the legacy calls.
func TestISVThroughOfficialSDK(t *testing.T) {
	t.Parallel()
	needBinary(t)
	dir := t.TempDir()
	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte(isvOrgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "--data", filepath.Join(dir, "data"), "--org", org, "--demo=false")
	c, err := oauth2.NewClient(sdkConfig(p.Host))
	if err != nil {
		t.Fatal(err)
	}

	st, err := c.GetSuiteAccessToken(&oauth2.GetSuiteAccessTokenRequest{SuiteKey: tea.String(isvSuiteKey),
		SuiteSecret: tea.String(isvSuiteSecret), SuiteTicket: tea.String(isvTicket)})
	if err != nil {
		t.Fatalf("GetSuiteAccessToken: %v", err)
	}
	if tea.StringValue(st.Body.AccessToken) == "" || tea.Int64Value(st.Body.ExpireIn) != 7200 {
		t.Fatalf("suite token %s", st.Body)
	}
	_, err = c.GetSuiteAccessToken(&oauth2.GetSuiteAccessTokenRequest{SuiteKey: tea.String(isvSuiteKey),
		SuiteSecret: tea.String(isvSuiteSecret), SuiteTicket: tea.String("stale")})
	sdkError(t, "GetSuiteAccessToken with a stale ticket", err, 400, "invalidSuiteTicket", "suiteTicket无效")

	ct, err := c.GetCorpAccessToken(&oauth2.GetCorpAccessTokenRequest{SuiteKey: tea.String(isvSuiteKey), SuiteSecret: tea.String(isvSuiteSecret),
		AuthCorpId: tea.String(corpID), SuiteTicket: tea.String(isvTicket)})
	if err != nil {
		t.Fatalf("GetCorpAccessToken: %v", err)
	}
	v1Tok := tea.StringValue(ct.Body.AccessToken)
	_, err = c.GetCorpAccessToken(&oauth2.GetCorpAccessTokenRequest{SuiteKey: tea.String("suitenosuch"), SuiteSecret: tea.String(isvSuiteSecret),
		AuthCorpId: tea.String(corpID), SuiteTicket: tea.String(isvTicket)})
	sdkError(t, "GetCorpAccessToken with an unknown suite", err, 400, "invalidSuiteKey", "suitekey不合法")
	_, err = c.GetCorpAccessToken(&oauth2.GetCorpAccessTokenRequest{SuiteKey: tea.String(isvSuiteKey), SuiteSecret: tea.String(isvSuiteSecret),
		AuthCorpId: tea.String("dingnosuchcorp"), SuiteTicket: tea.String(isvTicket)})
	sdkError(t, "GetCorpAccessToken for a corp that did not authorise", err, 400, "invalidAuthInfo", "授权关系不存在")

	// the signed get_corp_token, with the query the Java SDK builds
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(isvSuiteSecret))
	m.Write([]byte(ts + "\n" + isvTicket))
	q := url.Values{"timestamp": {ts}, "suiteTicket": {isvTicket}, "accessKey": {isvSuiteKey},
		"signature": {base64.StdEncoding.EncodeToString(m.Sum(nil))}}
	var signed tokenBody
	legacy(t, "POST", p.Base+"/service/get_corp_token?"+q.Encode(), map[string]string{"auth_corpid": corpID}, &signed)
	if signed.Errcode != 0 || signed.AccessToken == "" || signed.AccessToken == v1Tok {
		t.Fatalf("signed get_corp_token = %+v", signed)
	}

	// a group made with one corp token, the app bound with the other
	var created struct {
		errBody
		ChatID string `json:"chatid"`
	}
	legacy(t, "POST", p.Base+"/chat/create?access_token="+signed.AccessToken,
		map[string]any{"name": "ISV群", "owner": "manager4220", "useridlist": []string{"manager4220", "zhangsan"}}, &created)
	if created.Errcode != 0 || created.ChatID == "" {
		t.Fatalf("chat/create = %+v", created)
	}
	var bind errBody
	legacy(t, "GET", p.Base+"/chat/bind?access_token="+v1Tok+"&chatid="+created.ChatID+"&agentid="+strconv.Itoa(isvAgentID), nil, &bind)
	if bind.Errcode != 0 {
		t.Fatalf("chat/bind = %+v", bind)
	}
	var got struct {
		errBody
		ChatInfo struct {
			AgentIDList []string `json:"agentidlist"`
		} `json:"chat_info"`
	}
	legacy(t, "GET", p.Base+"/chat/get?access_token="+signed.AccessToken+"&chatid="+created.ChatID, nil, &got)
	if len(got.ChatInfo.AgentIDList) != 1 || got.ChatInfo.AgentIDList[0] != "600001" {
		t.Fatalf("chat/get = %+v", got)
	}
	// the internal app may not bind
	var refused errBody
	legacy(t, "GET", p.Base+"/chat/bind?access_token="+v1Token(t, p.Host)+"&chatid="+created.ChatID+"&agentid=300001", nil, &refused)
	if refused.Errcode != 800001 {
		t.Fatalf("chat/bind with an internal app's token = %+v, want 800001", refused)
	}
}

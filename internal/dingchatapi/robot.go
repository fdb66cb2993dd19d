package dingchatapi

import (
	"net/http"
	"net/url"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/service"
)

type robotJSON struct {
	RobotCode string `json:"robotCode"`
	CorpID    string `json:"corpId"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"createdAt"`
}

func robotView(r ding.Robot) robotJSON {
	return robotJSON{RobotCode: r.Code, CorpID: r.CorpID, Name: r.Name, CreatedAt: r.CreatedAt}
}

type robotsResponse struct {
	Robots []robotJSON `json:"robots"`
}

func robotsView(rs []ding.Robot) robotsResponse {
	out := robotsResponse{Robots: make([]robotJSON, 0, len(rs))}
	for _, r := range rs {
		out.Robots = append(out.Robots, robotView(r))
	}
	return out
}

type saveRobotRequest struct {
	CorpID    string `json:"corpId"`
	RobotCode string `json:"robotCode"`
	Name      string `json:"name"`
}

// saveRobot declares an org robot: POST /_dingchat/admin/robots.
func (a *API) saveRobot(r *http.Request) (any, error) {
	var req saveRobotRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	rb, err := a.svc.SaveRobot(r.Context(), req.CorpID, req.RobotCode, req.Name)
	if err != nil {
		return nil, err
	}
	return robotView(*rb), nil
}

// robots lists a corp's org robots: GET /_dingchat/admin/robots?corpId=.
func (a *API) robots(r *http.Request) (any, error) {
	rs, err := a.svc.Robots(r.Context(), r.URL.Query().Get("corpId"))
	if err != nil {
		return nil, err
	}
	return robotsView(rs), nil
}

type groupRobotRequest struct {
	RobotCode string `json:"robotCode"`
}

// addGroupRobot: POST /_dingchat/admin/groups/{chatid}/robots.
func (a *API) addGroupRobot(r *http.Request) (any, error) {
	var req groupRobotRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	rb, err := a.svc.AddGroupRobot(r.Context(), r.PathValue("chatid"), req.RobotCode)
	if err != nil {
		return nil, err
	}
	return robotView(*rb), nil
}

type removedResponse struct {
	Removed bool `json:"removed"`
}

// removeGroupRobot: DELETE /_dingchat/admin/groups/{chatid}/robots/{robotCode}.
func (a *API) removeGroupRobot(r *http.Request) (any, error) {
	if err := a.svc.RemoveGroupRobot(r.Context(), r.PathValue("chatid"), r.PathValue("robotCode")); err != nil {
		return nil, err
	}
	return removedResponse{Removed: true}, nil
}

// groupRobots: GET /_dingchat/admin/groups/{chatid}/robots.
func (a *API) groupRobots(r *http.Request) (any, error) {
	rs, err := a.svc.GroupRobots(r.Context(), r.PathValue("chatid"))
	if err != nil {
		return nil, err
	}
	return robotsView(rs), nil
}

type createWebhookRequest struct {
	Name        string   `json:"name"`
	AccessToken string   `json:"access_token"`
	Secret      string   `json:"secret"`
	Sign        bool     `json:"sign"`
	Keywords    []string `json:"keywords"`
}

// webhookJSON shows a custom robot with what its integration needs: the
// access_token of its URL and, when signing is on, its secret.
type webhookJSON struct {
	Name        string   `json:"name"`
	ChatID      string   `json:"chatid"`
	AccessToken string   `json:"access_token"`
	Secret      string   `json:"secret"`
	Keywords    []string `json:"keywords"`
	Path        string   `json:"path"` // append to the server's origin to get the webhook URL
	CreatedAt   int64    `json:"createdAt"`
}

func webhookView(w ding.Webhook) webhookJSON {
	kw := w.Keywords
	if kw == nil {
		kw = []string{}
	}
	return webhookJSON{Name: w.Name, ChatID: w.ChatID, AccessToken: w.Token, Secret: w.Secret, Keywords: kw,
		Path: "/robot/send?access_token=" + url.QueryEscape(w.Token), CreatedAt: w.CreatedAt}
}

// createWebhook installs a custom robot: POST /_dingchat/admin/groups/{chatid}/webhooks.
func (a *API) createWebhook(r *http.Request) (any, error) {
	var req createWebhookRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	w, err := a.svc.CreateWebhook(r.Context(), service.CreateWebhookInput{ChatID: r.PathValue("chatid"), Name: req.Name,
		AccessToken: req.AccessToken, Secret: req.Secret, Sign: req.Sign, Keywords: req.Keywords})
	if err != nil {
		return nil, err
	}
	return webhookView(*w), nil
}

type webhooksResponse struct {
	Webhooks []webhookJSON `json:"webhooks"`
}

// webhooks lists a group's custom robots: GET /_dingchat/admin/groups/{chatid}/webhooks.
func (a *API) webhooks(r *http.Request) (any, error) {
	ws, err := a.svc.Webhooks(r.Context(), r.PathValue("chatid"))
	if err != nil {
		return nil, err
	}
	out := webhooksResponse{Webhooks: make([]webhookJSON, 0, len(ws))}
	for _, w := range ws {
		out.Webhooks = append(out.Webhooks, webhookView(w))
	}
	return out, nil
}

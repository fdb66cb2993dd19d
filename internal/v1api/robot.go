package v1api

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

type robotSendResponse struct {
	ProcessQueryKey string `json:"processQueryKey"`
}

func (a *API) robotSend(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &httpx.Fields{P: p}
	in := service.RobotSendInput{OpenID: f.Str("openConversationId"), RobotCode: f.Str("robotCode"), MsgKey: f.Str("msgKey")}
	if f.Err != nil {
		return nil, f.Err
	}
	// msgParam is JSON text inside a string; anything else is not a msgParam
	if s, ok := p.Raw("msgParam").(string); ok {
		in.MsgParam = &s
	}
	m, err := a.svc.SendRobotMessage(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return robotSendResponse{ProcessQueryKey: m.ID}, nil
}

type robotQueryResponse struct {
	SendStatus  string   `json:"sendStatus"`
	ReadUserIDs []string `json:"readUserIds"`
	NextToken   string   `json:"nextToken,omitempty"` // a string, as the SDK declares it
	HasMore     bool     `json:"hasMore"`
}

func (a *API) robotQuery(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &httpx.Fields{P: p}
	in := service.RobotQueryInput{ProcessQueryKey: f.Str("processQueryKey"), OpenID: f.Str("openConversationId"),
		RobotCode: f.Str("robotCode"), MaxResults: f.Int("maxResults"), NextToken: f.Str("nextToken")}
	if f.Err != nil {
		return nil, f.Err
	}
	res, err := a.svc.QueryRobotMessage(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return robotQueryResponse{SendStatus: res.SendStatus, ReadUserIDs: res.ReadUserIDs, NextToken: res.NextToken, HasMore: res.NextToken != ""}, nil
}

type robotRecallResponse struct {
	SuccessResult []string          `json:"successResult"`
	FailedResult  map[string]string `json:"failedResult"`
}

func (a *API) robotRecall(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	f := &httpx.Fields{P: p}
	open, code := f.Str("openConversationId"), f.Str("robotCode")
	keys := f.List("processQueryKeys")
	if f.Err != nil {
		return nil, f.Err
	}
	if keys == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "processQueryKeys is required")
	}
	res, err := a.svc.RecallRobotMessages(r.Context(), c, open, code, keys)
	if err != nil {
		return nil, err
	}
	return robotRecallResponse{SuccessResult: res.Success, FailedResult: res.Failed}, nil
}

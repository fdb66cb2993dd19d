package dingchatapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/service"
)

type memberTokenRequest struct {
	CorpID string `json:"corpId"`
	UserID string `json:"userid"`
}

type memberTokenResponse struct {
	Token  string `json:"token"`
	CorpID string `json:"corpId"`
	UserID string `json:"userid"`
}

func (a *API) issueMemberToken(r *http.Request) (any, error) {
	var req memberTokenRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	t, err := a.svc.IssueMemberToken(r.Context(), req.CorpID, req.UserID)
	if err != nil {
		return nil, err
	}
	return memberTokenResponse{Token: t.Value, CorpID: t.CorpID, UserID: t.UserID}, nil
}

type okResponse struct {
	OK bool `json:"ok"`
}

func (a *API) adminDisband(r *http.Request) (any, error) {
	if err := a.svc.DisbandGroup(r.Context(), service.AdminActor(r.PathValue("corpid")), r.PathValue("chatid")); err != nil {
		return nil, err
	}
	return okResponse{OK: true}, nil
}

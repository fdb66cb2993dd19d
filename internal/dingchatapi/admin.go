package dingchatapi

import (
	"net/http"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/service"
)

type memberTokenRequest struct {
	CorpID    string `json:"corpId"`
	UserID    string `json:"userid"`
	ExpiresIn int64  `json:"expiresIn"` // seconds; 0 = the default
}

type memberTokenResponse struct {
	Token     string `json:"token"`
	CorpID    string `json:"corpId"`
	UserID    string `json:"userid"`
	ExpiresAt int64  `json:"expiresAt"` // Unix ms
}

type revokeRequest struct {
	CorpID string `json:"corpId"`
	UserID string `json:"userid"`
	Token  string `json:"token"` // "" = every token of the user
}

type revokeResponse struct {
	Revoked int `json:"revoked"`
}

func (a *API) revokeMemberTokens(r *http.Request) (any, error) {
	var req revokeRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	n, err := a.svc.RevokeMemberTokens(r.Context(), req.CorpID, req.UserID, req.Token)
	if err != nil {
		return nil, err
	}
	return revokeResponse{Revoked: n}, nil
}

func (a *API) issueMemberToken(r *http.Request) (any, error) {
	var req memberTokenRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > int64(service.MaxMemberTokenTTL/time.Second) {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "expiresIn must be between 60 and %d seconds", int64(service.MaxMemberTokenTTL/time.Second))
	}
	t, err := a.svc.IssueMemberToken(r.Context(), req.CorpID, req.UserID, time.Duration(req.ExpiresIn)*time.Second)
	if err != nil {
		return nil, err
	}
	return memberTokenResponse{Token: t.Value, CorpID: t.CorpID, UserID: t.UserID, ExpiresAt: t.ExpiresAt}, nil
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

package dingchatapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/service"
)

func (a *API) quit(r *http.Request, mc *service.MemberCaller) (any, error) {
	if err := a.svc.QuitGroup(r.Context(), mc, r.PathValue("chatid")); err != nil {
		return nil, err
	}
	return okResponse{OK: true}, nil
}

func (a *API) disband(r *http.Request, mc *service.MemberCaller) (any, error) {
	if err := a.svc.DisbandGroup(r.Context(), service.Actor{CorpID: mc.CorpID, UserID: mc.UserID}, r.PathValue("chatid")); err != nil {
		return nil, err
	}
	return okResponse{OK: true}, nil
}

type joinRequestJSON struct {
	UserID    string `json:"userid"`
	CreatedAt int64  `json:"createdAt"`
}

type joinRequestsResponse struct {
	Requests []joinRequestJSON `json:"requests"`
}

func (a *API) joinRequests(r *http.Request, mc *service.MemberCaller) (any, error) {
	rs, err := a.svc.JoinRequests(r.Context(), mc, r.PathValue("chatid"))
	if err != nil {
		return nil, err
	}
	out := joinRequestsResponse{Requests: make([]joinRequestJSON, 0, len(rs))}
	for _, jr := range rs {
		out.Requests = append(out.Requests, joinRequestJSON{UserID: jr.UserID, CreatedAt: jr.CreatedAt})
	}
	return out, nil
}

func (a *API) decideJoin(approve bool) memberHandler {
	return func(r *http.Request, mc *service.MemberCaller) (any, error) {
		if err := a.svc.DecideJoin(r.Context(), mc, r.PathValue("chatid"), r.PathValue("userid"), approve); err != nil {
			return nil, err
		}
		return okResponse{OK: true}, nil
	}
}

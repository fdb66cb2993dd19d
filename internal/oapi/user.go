package oapi

import (
	"net/http"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/httpx"
	"github.com/dingchat/dingchat/internal/service"
)

// legacyUser is the flat user of GET /user/get.
type legacyUser struct {
	ok
	UserID     string  `json:"userid"`
	UnionID    string  `json:"unionid"`
	Name       string  `json:"name"`
	Mobile     string  `json:"mobile"`
	Position   string  `json:"position"`
	JobNumber  string  `json:"jobnumber"`
	Email      string  `json:"email"`
	Active     bool    `json:"active"`
	IsAdmin    bool    `json:"isAdmin"`
	IsBoss     bool    `json:"isBoss"`
	IsHide     bool    `json:"isHide"`
	Department []int64 `json:"department"`
	Avatar     string  `json:"avatar"`
}

func depts(u *ding.User) []int64 {
	if u.DeptIDs == nil {
		return []int64{}
	}
	return u.DeptIDs
}

func (a *API) userGet(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, err := p.String("userid")
	if err != nil {
		return nil, err
	}
	u, err := a.svc.User(r.Context(), c, id)
	if err != nil {
		return nil, err
	}
	return legacyUser{ok: okBody, UserID: u.UserID, UnionID: u.UnionID, Name: u.Name, Mobile: u.Mobile, Position: u.Title,
		JobNumber: u.JobNo, Email: u.Email, Active: u.Active, IsAdmin: u.Admin, Department: depts(u)}, nil
}

// topUser is the result of /topapi/v2/user/get.
type topUser struct {
	UserID     string  `json:"userid"`
	UnionID    string  `json:"unionid"`
	Name       string  `json:"name"`
	Avatar     string  `json:"avatar"`
	StateCode  string  `json:"state_code"`
	Mobile     string  `json:"mobile"`
	HideMobile bool    `json:"hide_mobile"`
	Telephone  string  `json:"telephone"`
	JobNumber  string  `json:"job_number"`
	Title      string  `json:"title"`
	Email      string  `json:"email"`
	OrgEmail   string  `json:"org_email"`
	WorkPlace  string  `json:"work_place"`
	Remark     string  `json:"remark"`
	DeptIDList []int64 `json:"dept_id_list"`
	Active     bool    `json:"active"`
	Admin      bool    `json:"admin"`
	Boss       bool    `json:"boss"`
	Senior     bool    `json:"senior"`
	RealAuthed bool    `json:"real_authed"`
}

func (a *API) topUserGet(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, err := p.String("userid")
	if err != nil {
		return nil, err
	}
	u, err := a.svc.User(r.Context(), c, id)
	if err != nil {
		return nil, err
	}
	return topUser{UserID: u.UserID, UnionID: u.UnionID, Name: u.Name, StateCode: "86", Mobile: u.Mobile, JobNumber: u.JobNo,
		Title: u.Title, Email: u.Email, DeptIDList: depts(u), Active: u.Active, Admin: u.Admin, RealAuthed: true}, nil
}

type userIDResult struct {
	UserID string `json:"userid"`
}

// byMobile and byUnionID serve both generations of each lookup: topapi's
// result object and the older flat answer.
func (a *API) byMobile(r *http.Request, p *httpx.Params, c *service.Caller) (string, error) {
	m, err := p.String("mobile")
	if err != nil {
		return "", err
	}
	u, err := a.svc.UserByMobile(r.Context(), c, m)
	if err != nil {
		return "", err
	}
	return u.UserID, nil
}

func (a *API) byUnionID(r *http.Request, p *httpx.Params, c *service.Caller) (userID string, contactType int, err error) {
	id, err := p.String("unionid")
	if err != nil {
		return "", 0, err
	}
	ct, err := a.svc.ContactByUnionID(r.Context(), c, id)
	if err != nil {
		return "", 0, err
	}
	if ct.External {
		contactType = 1
	}
	return ct.UserID, contactType, nil
}

func (a *API) topUserByMobile(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, err := a.byMobile(r, p, c)
	if err != nil {
		return nil, err
	}
	return userIDResult{UserID: id}, nil
}

type unionResult struct {
	ContactType int    `json:"contact_type"`
	UserID      string `json:"userid"`
}

func (a *API) topUserByUnionID(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, ct, err := a.byUnionID(r, p, c)
	if err != nil {
		return nil, err
	}
	return unionResult{ContactType: ct, UserID: id}, nil
}

type legacyUserID struct {
	ok
	UserID string `json:"userid"`
}

// userByMobile is the pre-topapi GET /user/get_by_mobile.
func (a *API) userByMobile(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, err := a.byMobile(r, p, c)
	if err != nil {
		return nil, err
	}
	return legacyUserID{ok: okBody, UserID: id}, nil
}

type legacyUnionResult struct {
	ok
	ContactType int    `json:"contactType"`
	UserID      string `json:"userid"`
}

// userByUnionID is the pre-topapi GET /user/getUseridByUnionid.
func (a *API) userByUnionID(r *http.Request, p *httpx.Params, c *service.Caller) (any, error) {
	id, ct, err := a.byUnionID(r, p, c)
	if err != nil {
		return nil, err
	}
	return legacyUnionResult{ok: okBody, ContactType: ct, UserID: id}, nil
}

package service

import (
	"context"

	"github.com/dingchat/dingchat/internal/ding"
)

func (s *Service) lookup(ctx context.Context, c *Caller, v, what string, find func(context.Context, string, string) (*ding.User, error), notFound ding.Reason) (*ding.User, error) {
	if err := s.require(c, ding.ScopeContactRead); err != nil {
		return nil, err
	}
	if v == "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonMissingParam, "missing %s", what)
	}
	u, err := find(ctx, c.CorpID(), v)
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.NotFound, notFound, "no user with %s %s", what, v)
	}
	if err != nil {
		return nil, err
	}
	// as group creation does: an app restricted to some users reads only them
	if !c.App.Visible(u.UserID) {
		return nil, ding.Errorf(ding.Forbidden, ding.ReasonUserNotVisible, "%s %s is outside the app's visibility", what, v)
	}
	return u, nil
}

// User looks a staff member up by userid.
func (s *Service) User(ctx context.Context, c *Caller, userID string) (*ding.User, error) {
	return s.lookup(ctx, c, userID, "userid", s.store.User, ding.ReasonUserNotFound)
}

// UserByMobile looks a staff member up by mobile number.
func (s *Service) UserByMobile(ctx context.Context, c *Caller, mobile string) (*ding.User, error) {
	return s.lookup(ctx, c, mobile, "mobile", s.store.UserByMobile, ding.ReasonMobileNotFound)
}

// Contact is what a unionId resolves to inside the caller's corp.
type Contact struct {
	UserID   string
	External bool
}

// ContactByUnionID resolves a unionId to a staff member or an external contact.
func (s *Service) ContactByUnionID(ctx context.Context, c *Caller, unionID string) (*Contact, error) {
	u, err := s.lookup(ctx, c, unionID, "unionid", s.store.UserByUnionID, ding.ReasonUserNotFound)
	if err == nil {
		return &Contact{UserID: u.UserID}, nil
	}
	if !ding.IsKind(err, ding.NotFound) {
		return nil, err
	}
	ext, xerr := s.store.ExistingExternals(ctx, c.CorpID(), []string{unionID})
	if xerr != nil {
		return nil, xerr
	}
	if ext[unionID] {
		// an external contact has no userid in the corp; DingTalk answers its unionId's contact type only
		return &Contact{UserID: unionID, External: true}, nil
	}
	return nil, err
}

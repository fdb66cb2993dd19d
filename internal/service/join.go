package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// JoinLinkTTL is how long a join link works. DingTalk's group QR codes
// expire after 7 days (unconfirmed for the links of topapi/chat/qrcode/get).
const JoinLinkTTL = 7 * 24 * time.Hour

// JoinLinkRenewBefore: qrcode/get hands out the same link for a group and
// sharer until less than this is left of it, then a fresh one, so a link
// handed out always works for at least a day. The older one keeps working
// until it expires.
const JoinLinkRenewBefore = 24 * time.Hour

// A join link's code is a bearer secret, so the store keeps only its hash;
// yet DingTalk hands out the same link again, from any node and after a
// restart. So the code derives from a server-wide key and a random salt
// kept with the row, as access tokens derive from their app's secret: the
// store holds the key and the salts, never a code. Whoever reads the store
// could derive the live codes, but the same reader holds the app secrets,
// which add anyone to any group outright.

// joinLinkKey is the server's join-link key, created once in the store, and
// the id its codes are stored under.
func (s *Service) joinLinkKey(ctx context.Context) (key, keyID string, err error) {
	const name = "join_link_key"
	key, ok, err := s.store.GetSetting(ctx, name) // a read: on SQLite, Setting is a write
	if err == nil && !ok {
		var b [32]byte
		rand.Read(b[:])
		key, err = s.store.Setting(ctx, name, hex.EncodeToString(b[:]))
	}
	if err != nil {
		return "", "", err
	}
	return key, ding.SecretHash("dingchat join link key\x00" + key)[:16], nil
}

// joinCodeValue derives the code of (corp, chat, sharer) from key and salt:
// "v1," and 128 bits in base64url.
func (s *Service) joinCodeValue(key, corpID, chatID, sharer, salt string) string {
	subject := corpID + "\x00" + chatID + "\x00" + sharer
	if d, ok := s.ids.(tokenDeriver); ok {
		return "v1," + d.DeriveToken(key, subject, salt)
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(subject + "\x00" + salt))
	return "v1," + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// JoinLink returns a link that lets members of the corp join a group
// (topapi/chat/qrcode/get). The sharer must be in the group. The same
// sharer gets the same link until JoinLinkRenewBefore is left of it.
// DingChat serves the link itself under base.
func (s *Service) JoinLink(ctx context.Context, c *Caller, chatID, sharer, base string) (string, error) {
	if err := s.require(c, ding.ScopeChatBaseRead); err != nil {
		return "", err
	}
	if sharer == "" {
		return "", ding.Errorf(ding.Invalid, ding.ReasonUnknownUser, "missing userid")
	}
	g, err := s.resolve(ctx, c, GroupRef{ChatID: chatID})
	if err != nil {
		return "", err
	}
	if err := notDisbanded(g); err != nil {
		return "", err
	}
	if err := s.checkUsersKnown(ctx, c.CorpID(), []string{sharer}); err != nil {
		return "", err
	}
	if _, err := s.store.Member(ctx, g.ChatID, ding.MemberEmp, sharer); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			return "", ding.Errorf(ding.Invalid, ding.ReasonNotMember, "%s is not in the group", sharer)
		}
		return "", err
	}
	key, keyID, err := s.joinLinkKey(ctx)
	if err != nil {
		return "", err
	}
	now := s.nowMs()
	salt := s.ids.Token()
	fresh := ding.JoinCode{Hash: ding.SecretHash(s.joinCodeValue(key, g.CorpID, g.ChatID, sharer, salt)), Salt: salt, KeyID: keyID,
		CorpID: g.CorpID, ChatID: g.ChatID, Sharer: sharer, CreatedAt: now, ExpiresAt: now + JoinLinkTTL.Milliseconds()}
	jc, err := s.store.IssueJoinCode(ctx, fresh, now+JoinLinkRenewBefore.Milliseconds())
	if err != nil {
		return "", err
	}
	code := s.joinCodeValue(key, jc.CorpID, jc.ChatID, jc.Sharer, jc.Salt)
	if ding.SecretHash(code) != jc.Hash {
		return "", ding.Errorf(ding.Internal, ding.ReasonNone, "the stored join link of %s does not derive from the join-link key", g.ChatID)
	}
	return base + "/_dingchat/joingroup?code=" + url.QueryEscape(code) + "&_dt_no_comment=1&origin=11", nil
}

// JoinInfo is what a join link shows before anyone signs in.
type JoinInfo struct {
	Code          string
	Group         ding.Group
	OwnerName     string
	SharerName    string
	NeedsApproval bool
	Disbanded     bool
}

func (s *Service) joinCode(ctx context.Context, code string) (*ding.JoinCode, *ding.Group, error) {
	jc, err := s.store.JoinCode(ctx, ding.SecretHash(code))
	if err == nil && jc.ExpiresAt != 0 && jc.ExpiresAt <= s.nowMs() {
		err = ding.Errorf(ding.NotFound, ding.ReasonNone, "join link expired")
	}
	if ding.IsKind(err, ding.NotFound) {
		return nil, nil, ding.Errorf(ding.NotFound, ding.ReasonNone, "this join link is not valid")
	}
	if err != nil {
		return nil, nil, err
	}
	g, err := s.store.Group(ctx, jc.CorpID, jc.ChatID)
	if err != nil {
		return nil, nil, err
	}
	return jc, g, nil
}

func (s *Service) userName(ctx context.Context, corpID, userID string) string {
	if u, err := s.store.User(ctx, corpID, userID); err == nil {
		return u.Name
	}
	return userID
}

// JoinLinkInfo describes the group behind a join link.
func (s *Service) JoinLinkInfo(ctx context.Context, code string) (*JoinInfo, error) {
	jc, g, err := s.joinCode(ctx, code)
	if err != nil {
		return nil, err
	}
	return &JoinInfo{Code: code, Group: *g, OwnerName: s.userName(ctx, g.CorpID, g.Owner), SharerName: s.userName(ctx, g.CorpID, jc.Sharer),
		NeedsApproval: g.Options.ValidationType == 1, Disbanded: g.Status == ding.StatusDisbanded}, nil
}

// Join outcomes.
const (
	JoinJoined    = "joined"
	JoinRequested = "requested"
	JoinAlready   = "already_member"
)

// Join adds a signed-in member of the group's corp through a join link, or
// files a request when the group validates joins.
func (s *Service) Join(ctx context.Context, mc *MemberCaller, code string) (string, *ding.Group, error) {
	jc, g, err := s.joinCode(ctx, code)
	if err != nil {
		return "", nil, err
	}
	if g.CorpID != mc.CorpID {
		return "", nil, ding.Errorf(ding.Forbidden, ding.ReasonPermissionDenied, "the group belongs to another organisation")
	}
	if err := notDisbanded(g); err != nil {
		return "", nil, err
	}
	if _, err := s.store.Member(ctx, g.ChatID, ding.MemberEmp, mc.UserID); err == nil {
		return JoinAlready, g, nil
	}
	now := s.nowMs()
	if g.Options.ValidationType == 1 {
		if err := s.store.SaveJoinRequest(ctx, ding.JoinRequest{ChatID: g.ChatID, UserID: mc.UserID, Code: jc.Hash, CreatedAt: now}); err != nil {
			return "", nil, err
		}
		return JoinRequested, g, nil
	}
	g2, err := s.addMember(ctx, g, mc.UserID, mc.UserID, now)
	return JoinJoined, g2, err
}

// addMember adds one staff member inside the store's transaction, so the
// member cap holds however many join at once.
func (s *Service) addMember(ctx context.Context, g *ding.Group, userID, operator string, now int64) (*ding.Group, error) {
	return s.updateGroup(ctx, &Caller{App: &ding.App{CorpID: g.CorpID}}, g.ChatID, func(st *ding.GroupState) (*ding.GroupChange, error) {
		if err := notDisbanded(&st.Group); err != nil {
			return nil, err
		}
		for _, m := range st.Members {
			if m.Kind == ding.MemberEmp && m.ID == userID {
				return nil, nil
			}
		}
		if len(st.Members)+1 > ding.MaxMembers {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonMemberLimit, "a group holds at most %d members", ding.MaxMembers)
		}
		ng := st.Group
		ng.UpdatedAt = now
		return &ding.GroupChange{Group: ng, Add: []ding.Member{{ID: userID, Kind: ding.MemberEmp, Role: ding.RoleMember, JoinedAt: now}},
			Events: []ding.Event{s.eventBy(&ng, ding.EventChatAddMember, operator, now, map[string]any{"userId": []string{userID}, "unionId": []string{}})}}, nil
	})
}

// canApprove: the owner and admins decide on join requests.
func (s *Service) canApprove(ctx context.Context, mc *MemberCaller, chatID string) (*ding.Group, error) {
	g, err := s.memberGroup(ctx, mc, chatID)
	if err != nil {
		return nil, err
	}
	m, err := s.store.Member(ctx, g.ChatID, ding.MemberEmp, mc.UserID)
	if err != nil {
		return nil, err
	}
	if m.Role != ding.RoleOwner && m.Role != ding.RoleAdmin {
		return nil, ding.Errorf(ding.Forbidden, ding.ReasonNotOwner, "only the owner and admins decide on join requests")
	}
	return g, nil
}

// JoinRequests lists a group's pending join requests for its owner or admins.
func (s *Service) JoinRequests(ctx context.Context, mc *MemberCaller, chatID string) ([]ding.JoinRequest, error) {
	g, err := s.canApprove(ctx, mc, chatID)
	if err != nil {
		return nil, err
	}
	return s.store.JoinRequests(ctx, g.ChatID)
}

// DecideJoin approves (adding the member) or rejects a pending request.
func (s *Service) DecideJoin(ctx context.Context, mc *MemberCaller, chatID, userID string, approve bool) error {
	g, err := s.canApprove(ctx, mc, chatID)
	if err != nil {
		return err
	}
	noRequest := ding.Errorf(ding.NotFound, ding.ReasonNone, "no pending request from %s", userID)
	if approve {
		// add before deleting: an approval refused by a full or disbanded
		// group leaves the request pending
		rs, err := s.store.JoinRequests(ctx, g.ChatID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rs, func(r ding.JoinRequest) bool { return r.UserID == userID }) {
			return noRequest
		}
		if _, err := s.addMember(ctx, g, userID, mc.UserID, s.nowMs()); err != nil {
			return err
		}
	}
	if err := s.store.DeleteJoinRequest(ctx, g.ChatID, userID); err != nil {
		if ding.IsKind(err, ding.NotFound) {
			if approve {
				return nil // decided at the same time by someone else; the member is in
			}
			return noRequest
		}
		return err
	}
	return nil
}

package service

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/dingchat/dingchat/internal/ding"
)

var chatIDShape = regexp.MustCompile(`^chat[0-9a-f]{32}$`)

// OrgChatID is the chatid of a declared group without one of its own:
// stable across starts, so tests can rely on it.
func OrgChatID(corpID, name string) string {
	sum := sha256.Sum256([]byte(corpID + "/" + name))
	return "chat" + hex.EncodeToString(sum[:16])
}

// ensureGroup creates a declared group when it is missing, then puts in the
// robots and custom robots it declares that are not there yet. An existing
// group keeps its members and settings: the file seeds state, it does not
// reset it.
func (s *Service) ensureGroup(ctx context.Context, corpID string, d ding.OrgGroup) error {
	chatID := d.ChatID
	if chatID == "" {
		chatID = OrgChatID(corpID, d.Name)
	}
	if !chatIDShape.MatchString(chatID) {
		return fmt.Errorf("group %q: chatid must be chat followed by 32 lowercase hex digits", d.Name)
	}
	_, err := s.store.Group(ctx, corpID, chatID)
	switch {
	case ding.IsKind(err, ding.NotFound):
		if err := s.createOrgGroup(ctx, corpID, chatID, d); err != nil {
			return fmt.Errorf("group %q: %w", d.Name, err)
		}
	case err != nil:
		return err
	}
	for _, code := range d.Robots {
		in, err := s.store.InGroup(ctx, chatID, code)
		if err != nil {
			return err
		}
		if !in {
			if _, err := s.AddGroupRobot(ctx, chatID, code); err != nil {
				return fmt.Errorf("group %q: robot %s: %w", d.Name, code, err)
			}
		}
	}
	for _, w := range d.Webhooks {
		have, err := s.store.Webhook(ctx, w.Token)
		if err == nil {
			if have.ChatID != chatID {
				return fmt.Errorf("group %q: webhook %q: its access token belongs to another group", d.Name, w.Name)
			}
			continue
		}
		if !ding.IsKind(err, ding.NotFound) {
			return err
		}
		if _, err := s.CreateWebhook(ctx, CreateWebhookInput{ChatID: chatID, Name: w.Name, AccessToken: w.Token,
			Secret: w.Secret, Keywords: w.Keywords}); err != nil {
			return fmt.Errorf("group %q: webhook %q: %w", d.Name, w.Name, err)
		}
	}
	return nil
}

func (s *Service) createOrgGroup(ctx context.Context, corpID, chatID string, d ding.OrgGroup) error {
	if err := checkName(d.Name); err != nil {
		return err
	}
	members := dedupe(append([]string{d.Owner}, d.Members...))
	if d.Owner == "" {
		return ding.Errorf(ding.Invalid, ding.ReasonOwnerMissing, "owner is empty")
	}
	if len(members) > ding.MaxMembers {
		return ding.Errorf(ding.Invalid, ding.ReasonMemberLimit, "a group holds at most %d members", ding.MaxMembers)
	}
	if err := s.checkUsersKnown(ctx, corpID, members); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte("cid/" + chatID))
	now := s.nowMs()
	g := &ding.Group{ChatID: chatID, OpenConversationID: "cid" + base64.StdEncoding.EncodeToString(sum[:16]), CorpID: corpID,
		Name: d.Name, Owner: d.Owner, OwnerType: ding.OwnerEmp, ConversationTag: ding.TagInternal, Status: ding.StatusNormal,
		CreatedAt: now, UpdatedAt: now}
	ms := make([]ding.Member, 0, len(members))
	for _, id := range members {
		role := ding.RoleMember
		if id == d.Owner {
			role = ding.RoleOwner
		}
		ms = append(ms, ding.Member{ID: id, Kind: ding.MemberEmp, Role: role, JoinedAt: now})
	}
	events := []ding.Event{
		s.event(g, ding.EventChatCreate, now, map[string]any{"title": g.Name, "owner": g.Owner, "conversationTag": g.ConversationTag}),
		s.event(g, ding.EventChatAddMember, now, map[string]any{"userId": members, "unionId": []string{}}),
	}
	return s.store.CreateGroup(ctx, g, ms, events)
}

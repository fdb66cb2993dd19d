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
		// nodes starting together race here: losing the insert to another
		// node that created the same group is success, not a failure
		if err := s.createOrgGroup(ctx, corpID, chatID, d); err != nil {
			if !ding.IsKind(err, ding.Conflict) {
				return fmt.Errorf("group %q: %w", d.Name, err)
			}
			if _, gerr := s.store.Group(ctx, corpID, chatID); gerr != nil {
				return fmt.Errorf("group %q: %w", d.Name, err)
			}
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
				if in, ierr := s.store.InGroup(ctx, chatID, code); ierr != nil || !in || !ding.IsKind(err, ding.Conflict) {
					return fmt.Errorf("group %q: robot %s: %w", d.Name, code, err)
				}
			}
		}
	}
	for _, w := range d.Webhooks {
		if err := s.ensureOrgWebhook(ctx, chatID, w); err != nil {
			return fmt.Errorf("group %q: webhook %q: %w", d.Name, w.Name, err)
		}
	}
	return nil
}

// ensureOrgWebhook creates a declared custom robot unless its token is in
// the group already; a token another node has just stored for the same group
// counts as present.
func (s *Service) ensureOrgWebhook(ctx context.Context, chatID string, w ding.Webhook) error {
	have, err := s.store.Webhook(ctx, w.Token)
	if err == nil {
		if have.ChatID != chatID {
			return fmt.Errorf("its access token belongs to another group")
		}
		return nil
	}
	if !ding.IsKind(err, ding.NotFound) {
		return err
	}
	_, err = s.CreateWebhook(ctx, CreateWebhookInput{ChatID: chatID, Name: w.Name, AccessToken: w.Token,
		Secret: w.Secret, Keywords: w.Keywords})
	if ding.IsKind(err, ding.Conflict) {
		if have, gerr := s.store.Webhook(ctx, w.Token); gerr == nil && have.ChatID == chatID {
			return nil
		}
	}
	return err
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
	return s.store.CreateGroup(ctx, g, ms, events) // which checks the users
}

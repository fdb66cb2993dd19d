package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/dingchat/dingchat/internal/ding"
)

// ApplyOrg declares an organisation; applying the same one twice changes
// nothing. Declared groups are created when missing.
func (s *Service) ApplyOrg(ctx context.Context, org *ding.Org) error {
	for i := range org.MemberTokens {
		t := &org.MemberTokens[i]
		if t.Hash == "" {
			if len(t.Value) < MinSecretLen {
				return ding.Errorf(ding.Invalid, ding.ReasonNone, "the member token of %s must be at least %d characters long", t.UserID, MinSecretLen)
			}
			t.Hash = ding.SecretHash(t.Value)
		}
	}
	err := s.store.ApplyOrg(ctx, org)
	s.DropCaches()
	if err != nil {
		return err
	}
	for _, g := range org.Groups {
		if err := s.ensureGroup(ctx, org.Corp.ID, g); err != nil {
			return err
		}
	}
	for _, p := range org.Pushes {
		if err := s.applyPush(ctx, p); err != nil {
			return fmt.Errorf("%s push of %s: %w", p.Kind, p.Key, err)
		}
	}
	return nil
}

// applyPush saves a declared push unless it is saved as declared already:
// the receiver may not be up yet at start, so it is not verified.
func (s *Service) applyPush(ctx context.Context, p ding.OrgPush) error {
	if p.Kind == ding.SubRobot {
		if cur, err := s.store.Subscription(ctx, ding.SubscriptionID(p.Kind, p.Key)); err == nil && cur.URL == p.URL {
			return nil
		}
		return s.SetRobotURL(ctx, p.Key, p.URL)
	}
	in := PushInput{URL: p.URL, Token: p.Token, AESKey: p.AESKey, Types: p.Types}
	if cur, err := s.store.Subscription(ctx, ding.SubscriptionID(p.Kind, p.Key)); err == nil &&
		cur.URL == p.URL && cur.Token == p.Token && cur.AESKey == p.AESKey && slices.Equal(cur.Types, dedupe(p.Types)) {
		return nil
	}
	var err error
	if p.Kind == ding.SubSuitePush {
		_, err = s.SetSuitePush(ctx, p.Key, in, false)
	} else {
		_, err = s.SetAppPush(ctx, p.Key, in, false)
	}
	return err
}

var demoNames = []string{
	"赵敏", "钱伟", "孙丽", "李娜", "周杰", "吴昊", "郑爽", "冯涛", "陈静", "褚亮",
	"卫东", "蒋欣", "沈阳", "韩梅", "杨帆", "朱琳", "秦川", "尤佳", "许诺", "何平",
	"吕方", "施展", "张弛", "孔明", "曹操", "严冬", "华清", "金鑫", "魏巍", "陶然",
	"姜文", "戚薇", "谢娜", "邹凯", "喻恩", "柏林", "水清", "窦唯", "章程", "云飞",
	"苏醒", "潘越", "葛优", "奚梦", "范冰", "彭博",
}

// DemoOrg builds the demo organisation from seed: one corp, one internal
// app, and 53 users: the ones DingTalk's docs use (manager4220, zhangsan,
// lisi, wangwu; manager1122, userid1, userid2 of the chat/send and
// chat/create examples), and 46 more. The same seed gives
// the same organisation, so nodes starting together agree on it.
func (s *Service) DemoOrg(seed string) *ding.Org {
	now := s.nowMs()
	derive := func(label string, n int) string {
		sum := sha256.Sum256([]byte(seed + "/" + label))
		return hex.EncodeToString(sum[:])[:n]
	}
	corpID := "ding" + derive("corp", 16)
	org := &ding.Org{Corp: ding.Corp{ID: corpID, Name: "DingChat 演示企业", CreatedAt: now}}
	org.Apps = []ding.App{{
		Key: "ding" + derive("appkey", 16), CorpID: corpID, Secret: derive("secret", 64), AgentID: 2000000001,
		Name: "演示应用", Scopes: ding.DefaultScopes, VisibleAll: true, OrdinaryGroups: true, CreatedAt: now,
	}}
	add := func(id, name string) {
		n := len(org.Users)
		org.Users = append(org.Users, ding.User{CorpID: corpID, UserID: id, UnionID: derive("union/"+id, 22) + "iE", Name: name,
			Mobile: fmt.Sprintf("138%08d", n), Title: "员工", JobNo: fmt.Sprintf("%04d", n+1), Active: true,
			Admin: id == "manager4220" || id == "manager1122", DeptIDs: []int64{1}, Created: now})
	}
	add("manager4220", "管理员")
	add("zhangsan", "张三")
	add("lisi", "李四")
	add("wangwu", "王五")
	for i, name := range demoNames {
		add(fmt.Sprintf("user%03d", i+1), name)
	}
	// appended, so the users above keep their mobiles and job numbers
	add("manager1122", "主管")
	add("userid1", "用户一")
	add("userid2", "用户二")
	org.Externals = []ding.ExtContact{
		{CorpID: corpID, UnionID: derive("ext/1", 22) + "iE", Name: "外部客户甲"},
		{CorpID: corpID, UnionID: derive("ext/2", 22) + "iE", Name: "外部客户乙"},
	}
	return org
}

// OrgSummary is what a start-up banner shows.
type OrgSummary struct {
	Corp  ding.Corp
	Apps  []ding.App
	Users []ding.User
}

// EnsureDemo creates the demo organisation when the store holds no corp.
// It returns the corp id of the one it created, "" when it created none.
func (s *Service) EnsureDemo(ctx context.Context) (string, error) {
	n, err := s.store.CountCorps(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	// the first node to store a seed wins; every node then applies the same
	// organisation, which applying twice leaves unchanged
	seed, err := s.store.Setting(ctx, "demo_seed", s.ids.Token())
	if err != nil {
		return "", err
	}
	org := s.DemoOrg(seed)
	err = s.store.ApplyOrg(ctx, org)
	s.DropCaches()
	return org.Corp.ID, err
}

// DemoMemberUser is the demo user whose member token a fresh demo prints.
const DemoMemberUser = "manager4220"

// IssueDemoMemberToken mints a member token for the demo organisation's
// first user, so a new user can sign in to the join page straight away.
func (s *Service) IssueDemoMemberToken(ctx context.Context) (*ding.MemberToken, error) {
	seed, err := s.store.Setting(ctx, "demo_seed", "")
	if err != nil {
		return nil, err
	}
	return s.IssueMemberToken(ctx, s.DemoOrg(seed).Corp.ID, DemoMemberUser, 0)
}

// Summarize describes each corp for the banner, with up to users users.
func (s *Service) Summarize(ctx context.Context, users int) ([]OrgSummary, error) {
	corps, err := s.store.Corps(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]OrgSummary, 0, len(corps))
	for _, c := range corps {
		sum, err := s.summarize(ctx, c, users)
		if err != nil {
			return nil, err
		}
		out = append(out, *sum)
	}
	return out, nil
}

func (s *Service) summarize(ctx context.Context, c ding.Corp, users int) (*OrgSummary, error) {
	corpID := c.ID
	apps, err := s.store.AppsByCorp(ctx, corpID)
	if err != nil {
		return nil, err
	}
	us, err := s.store.UsersByCorp(ctx, corpID, users)
	if err != nil {
		return nil, err
	}
	return &OrgSummary{Corp: c, Apps: apps, Users: us}, nil
}

package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/dingchat/dingchat/internal/ding"
)

// ApplyOrg declares an organisation; applying the same one twice changes
// nothing. Declared groups are created when missing.
func (s *Service) ApplyOrg(ctx context.Context, org *ding.Org) error {
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
	return nil
}

var demoNames = []string{
	"赵敏", "钱伟", "孙丽", "李娜", "周杰", "吴昊", "郑爽", "冯涛", "陈静", "褚亮",
	"卫东", "蒋欣", "沈阳", "韩梅", "杨帆", "朱琳", "秦川", "尤佳", "许诺", "何平",
	"吕方", "施展", "张弛", "孔明", "曹操", "严冬", "华清", "金鑫", "魏巍", "陶然",
	"姜文", "戚薇", "谢娜", "邹凯", "喻恩", "柏林", "水清", "窦唯", "章程", "云飞",
	"苏醒", "潘越", "葛优", "奚梦", "范冰", "彭博",
}

// DemoOrg builds the demo organisation from seed: one corp, one internal
// app, and 50 users led by the ones DingTalk's docs use. The same seed gives
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
			Admin: id == "manager4220", DeptIDs: []int64{1}, Created: now})
	}
	add("manager4220", "管理员")
	add("zhangsan", "张三")
	add("lisi", "李四")
	add("wangwu", "王五")
	for i, name := range demoNames {
		add(fmt.Sprintf("user%03d", i+1), name)
	}
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
// It reports whether it created one.
func (s *Service) EnsureDemo(ctx context.Context) (bool, error) {
	n, err := s.store.CountCorps(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	// the first node to store a seed wins; every node then applies the same
	// organisation, which applying twice leaves unchanged
	seed, err := s.store.Setting(ctx, "demo_seed", s.ids.Token())
	if err != nil {
		return false, err
	}
	err = s.store.ApplyOrg(ctx, s.DemoOrg(seed))
	s.DropCaches()
	return true, err
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

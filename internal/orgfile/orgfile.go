// Package orgfile reads the organisation file that `dingchat serve --org`
// applies at start: corps, their apps, users and external contacts.
package orgfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dingchat/dingchat/internal/ding"
	"go.yaml.in/yaml/v3"
)

// File is the document's shape; field names are the YAML keys.
type File struct {
	Corps []Corp `yaml:"corps"`
	// Suites are ISV suites with the corps of this file that authorised them.
	Suites []Suite `yaml:"suites"`
	// TestControls switches the test controls on from the file, as
	// --test-controls does, and declares the clock and fault rules a test
	// run starts with.
	TestControls *TestControls `yaml:"testControls"`
}

// TestControls is the org file's testControls section.
type TestControls struct {
	Enabled bool `yaml:"enabled"`
	// Clock is where the clock starts when it has not been moved: "+2h"
	// ahead of real time, or an RFC 3339 time it is pinned at.
	Clock string `yaml:"clock"`
	// Faults are fault rules in the admin API's fields; at start they
	// replace the stored rules.
	Faults []map[string]any `yaml:"faults"`
}

// LoadTestControls reads the file's testControls section; nil when absent.
func LoadTestControls(path string) (*TestControls, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, _, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.TestControls, nil
}

// Suite is an ISV suite (a third-party app).
type Suite struct {
	SuiteKey    string     `yaml:"suiteKey"`
	SuiteSecret string     `yaml:"suiteSecret"`
	SuiteTicket string     `yaml:"suiteTicket"` // absent: minted by GET /_dingchat/admin/suites/{suiteKey}/ticket
	Name        string     `yaml:"name"`
	Custom      bool       `yaml:"custom"` // a custom (定制) app: any suiteTicket is accepted
	AuthCorps   []AuthCorp `yaml:"authCorps"`
	Callback    *Callback  `yaml:"callback"` // HTTP push of every authorising corp's events, signed with the SuiteKey
}

// Callback is an HTTP event push as DingTalk's developer console sets it.
type Callback struct {
	URL        string   `yaml:"url"`
	Token      string   `yaml:"token"`
	AESKey     string   `yaml:"aesKey"`
	EventTypes []string `yaml:"eventTypes"` // absent: every event DingChat pushes
}

func (c *Callback) push(kind, key string) ding.OrgPush {
	return ding.OrgPush{Kind: kind, Key: key, URL: c.URL, Token: c.Token, AESKey: c.AESKey, Types: c.EventTypes}
}

// AuthCorp is a corp's authorisation of a suite: the suite's app in that corp.
type AuthCorp struct {
	CorpID        string   `yaml:"corpId"`
	PermanentCode string   `yaml:"permanentCode"`
	AgentID       int64    `yaml:"agentId"` // default 5000 + the suite's position
	Scopes        []string `yaml:"scopes"`  // absent: every chat and contact scope
}

// Corp is one organisation.
type Corp struct {
	CorpID           string     `yaml:"corpId"`
	Name             string     `yaml:"name"`
	Apps             []App      `yaml:"apps"`
	Users            []User     `yaml:"users"`
	ExternalContacts []External `yaml:"externalContacts"`
	Robots           []Robot    `yaml:"robots"`
	Groups           []Group    `yaml:"groups"`
	// MonthlyQuota switches on the emulated monthly call quota (0 = off).
	MonthlyQuota int `yaml:"monthlyQuota"`
}

// App is an internal app of the corp.
type App struct {
	AppKey         string     `yaml:"appKey"`
	AppSecret      string     `yaml:"appSecret"`
	AgentID        int64      `yaml:"agentId"`
	Name           string     `yaml:"name"`
	Scopes         []string   `yaml:"scopes"`     // absent: every chat and contact scope
	Visibility     Visibility `yaml:"visibility"` // "all" (default) or a list of userids
	OrdinaryGroups bool       `yaml:"ordinaryGroups"`
	Limits         Limits     `yaml:"limits"`
	Callback       *Callback  `yaml:"callback"` // HTTP push of the corp's events, signed with the AppKey
	// RobotMessageURL puts the app's robot (robotCode = appKey) in HTTP
	// mode: @-mentions are posted there instead of over Stream.
	RobotMessageURL string `yaml:"robotMessageUrl"`
}

// Limits switch on an app's emulated platform limits; absent ones are off.
type Limits struct {
	QPS         int      `yaml:"qps"`
	PerMinute   int      `yaml:"perMinute"`
	IPAllowList []string `yaml:"ipAllowList"`
}

// Visibility is "all" or a list of userids.
type Visibility struct {
	All   bool
	Users []string
}

// UnmarshalYAML accepts the word all or a sequence of userids.
func (v *Visibility) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value != "all" {
			return fmt.Errorf("line %d: visibility is \"all\" or a list of userids", n.Line)
		}
		v.All = true
		return nil
	case yaml.SequenceNode:
		return n.Decode(&v.Users)
	}
	return fmt.Errorf("line %d: visibility is \"all\" or a list of userids", n.Line)
}

// User is a staff member.
type User struct {
	UserID    string  `yaml:"userid"`
	Name      string  `yaml:"name"`
	Mobile    string  `yaml:"mobile"`
	UnionID   string  `yaml:"unionId"` // absent: derived from corp and userid, stable across runs
	Title     string  `yaml:"title"`
	JobNumber string  `yaml:"jobNumber"`
	Email     string  `yaml:"email"`
	Admin     bool    `yaml:"admin"`
	Depts     []int64 `yaml:"departments"`
	// MemberToken is a fixed token for DingChat's member API (optional).
	MemberToken string `yaml:"memberToken"`
}

// Robot is an org robot; it sends to a group once the admin API adds it there.
type Robot struct {
	RobotCode string `yaml:"robotCode"`
	Name      string `yaml:"name"`
}

// Group is a group created at start when missing, so tests get a fixed
// chatid and fixed custom-robot tokens.
type Group struct {
	ChatID   string    `yaml:"chatid"` // absent: derived from corpId and name, stable
	Name     string    `yaml:"name"`
	Owner    string    `yaml:"owner"`
	Members  []string  `yaml:"members"`
	Robots   []string  `yaml:"robots"`
	Webhooks []Webhook `yaml:"webhooks"`
}

// Webhook is a custom robot of a declared group.
type Webhook struct {
	Name        string   `yaml:"name"`
	AccessToken string   `yaml:"accessToken"`
	Secret      string   `yaml:"secret"` // set: signed (加签)
	Keywords    []string `yaml:"keywords"`
}

// External is an external contact.
type External struct {
	UnionID string `yaml:"unionId"`
	Name    string `yaml:"name"`
	Mobile  string `yaml:"mobile"`
}

// Load reads and checks the file at path.
func Load(path string, now int64) ([]*ding.Org, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	orgs, err := Parse(f, now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return orgs, nil
}

// Parse decodes a document strictly: unknown keys are errors, so a typo
// does not silently drop a setting. Errors name the line and the YAML keys.
func Parse(r io.Reader, now int64) ([]*ding.Org, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	doc, ix, err := decode(b)
	if err != nil {
		return nil, err
	}
	orgs, err := build(doc, now)
	if err != nil {
		return nil, ix.at(err)
	}
	return orgs, nil
}

// decode reads the YAML into the file's shape, with the index of its lines.
func decode(b []byte) (File, index, error) {
	var doc File
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return doc, index{}, syntaxError(b, err)
	}
	ix := newIndex(&root)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return doc, ix, ix.decodeError(err)
	}
	return doc, ix, nil
}

// builder turns the decoded file into organisations, checking what must be
// unique across the whole file as it goes.
type builder struct {
	now                                               int64
	seenCorp, seenApp, seenToken, seenRobot, seenHook map[string]bool
}

func build(doc File, now int64) ([]*ding.Org, error) {
	b := &builder{now: now, seenCorp: map[string]bool{}, seenApp: map[string]bool{}, seenToken: map[string]bool{},
		seenRobot: map[string]bool{}, seenHook: map[string]bool{}}
	var orgs []*ding.Org
	for ci, c := range doc.Corps {
		org, err := b.corp(fmt.Sprintf("corps[%d]", ci), c)
		if err != nil {
			return nil, err
		}
		orgs = append(orgs, org)
	}
	return addSuites(doc.Suites, orgs, now)
}

func (b *builder) corp(where string, c Corp) (*ding.Org, error) {
	if c.CorpID == "" {
		return nil, fmt.Errorf("%s: corpId is required", where)
	}
	if b.seenCorp[c.CorpID] {
		return nil, fmt.Errorf("%s: corpId %s appears twice", where, c.CorpID)
	}
	b.seenCorp[c.CorpID] = true
	name := c.Name
	if name == "" {
		name = c.CorpID
	}
	if ding.ValidateQuota(c.MonthlyQuota) != nil {
		return nil, fmt.Errorf("%s.monthlyQuota: must not be negative, got %d", where, c.MonthlyQuota)
	}
	org := &ding.Org{Corp: ding.Corp{ID: c.CorpID, Name: name, CreatedAt: b.now, MonthlyQuota: c.MonthlyQuota}}
	if err := b.apps(org, where, c.Apps); err != nil {
		return nil, err
	}
	users, err := b.users(org, where, c.Users)
	if err != nil {
		return nil, err
	}
	for ai, a := range c.Apps {
		for _, id := range a.Visibility.Users {
			if !users[id] {
				return nil, fmt.Errorf("%s.apps[%d].visibility: names unknown userid %s", where, ai, id)
			}
		}
		if a.Callback != nil {
			org.Pushes = append(org.Pushes, a.Callback.push(ding.SubAppPush, a.AppKey))
		}
	}
	if err := b.externals(org, where, c.ExternalContacts); err != nil {
		return nil, err
	}
	robots, err := b.robots(org, where, c.Robots)
	if err != nil {
		return nil, err
	}
	if err := b.groups(org, where, c.Groups, users, robots); err != nil {
		return nil, err
	}
	return org, nil
}

func (b *builder) apps(org *ding.Org, where string, apps []App) error {
	for ai, a := range apps {
		w := fmt.Sprintf("%s.apps[%d]", where, ai)
		if a.AppKey == "" || a.AppSecret == "" {
			return fmt.Errorf("%s: appKey and appSecret are required", w)
		}
		limits := ding.Limits{QPS: a.Limits.QPS, PerMinute: a.Limits.PerMinute, IPAllowList: a.Limits.IPAllowList}
		if err := limits.Validate(); err != nil {
			return fmt.Errorf("%s.limits: %s", w, ding.ErrorMessage(err))
		}
		if b.seenApp[a.AppKey] {
			return fmt.Errorf("%s: appKey %s appears twice", w, a.AppKey)
		}
		b.seenApp[a.AppKey] = true
		scopes := a.Scopes
		if scopes == nil {
			scopes = ding.DefaultScopes
		}
		agent := a.AgentID
		if agent == 0 {
			agent = int64(1000 + ai)
		}
		appName := a.Name
		if appName == "" {
			appName = a.AppKey
		}
		all := a.Visibility.All || a.Visibility.Users == nil
		org.Apps = append(org.Apps, ding.App{Key: a.AppKey, CorpID: org.Corp.ID, Secret: a.AppSecret, AgentID: agent, Name: appName,
			Scopes: scopes, VisibleAll: all, VisibleUsers: a.Visibility.Users, OrdinaryGroups: a.OrdinaryGroups, CreatedAt: b.now,
			Limits: limits})
	}
	return nil
}

// users adds the corp's users and returns the set of their userids.
func (b *builder) users(org *ding.Org, where string, users []User) (map[string]bool, error) {
	seenUser, seenMobile := map[string]bool{}, map[string]bool{}
	for ui, u := range users {
		w := fmt.Sprintf("%s.users[%d]", where, ui)
		if u.UserID == "" {
			return nil, fmt.Errorf("%s: userid is required", w)
		}
		if seenUser[u.UserID] {
			return nil, fmt.Errorf("%s: userid %s appears twice", w, u.UserID)
		}
		seenUser[u.UserID] = true
		if u.Mobile != "" {
			if seenMobile[u.Mobile] {
				return nil, fmt.Errorf("%s: mobile %s appears twice", w, u.Mobile)
			}
			seenMobile[u.Mobile] = true
		}
		name := u.Name
		if name == "" {
			name = u.UserID
		}
		union := u.UnionID
		if union == "" {
			union = DeriveUnionID(org.Corp.ID, u.UserID)
		}
		depts := u.Depts
		if depts == nil {
			depts = []int64{1}
		}
		org.Users = append(org.Users, ding.User{CorpID: org.Corp.ID, UserID: u.UserID, UnionID: union, Name: name, Mobile: u.Mobile,
			Title: u.Title, JobNo: u.JobNumber, Email: u.Email, Active: true, Admin: u.Admin, DeptIDs: depts, Created: b.now})
		if u.MemberToken != "" {
			if b.seenToken[u.MemberToken] {
				return nil, fmt.Errorf("%s: memberToken appears twice", w)
			}
			b.seenToken[u.MemberToken] = true
			org.MemberTokens = append(org.MemberTokens, ding.MemberToken{Value: u.MemberToken, CorpID: org.Corp.ID, UserID: u.UserID, CreatedAt: b.now})
		}
	}
	return seenUser, nil
}

func (b *builder) externals(org *ding.Org, where string, exts []External) error {
	seenExt := map[string]bool{}
	for ei, e := range exts {
		w := fmt.Sprintf("%s.externalContacts[%d]", where, ei)
		if e.UnionID == "" {
			return fmt.Errorf("%s: unionId is required", w)
		}
		if seenExt[e.UnionID] {
			return fmt.Errorf("%s: unionId %s appears twice", w, e.UnionID)
		}
		seenExt[e.UnionID] = true
		org.Externals = append(org.Externals, ding.ExtContact{CorpID: org.Corp.ID, UnionID: e.UnionID, Name: e.Name, Mobile: e.Mobile})
	}
	return nil
}

// robots adds the corp's org robots and returns the set of their codes.
func (b *builder) robots(org *ding.Org, where string, robots []Robot) (map[string]bool, error) {
	corpRobots := map[string]bool{}
	for ri, r := range robots {
		w := fmt.Sprintf("%s.robots[%d]", where, ri)
		if r.RobotCode == "" {
			return nil, fmt.Errorf("%s: robotCode is required", w)
		}
		if b.seenRobot[r.RobotCode] { // robot codes are unique across corps
			return nil, fmt.Errorf("%s: robotCode %s appears twice", w, r.RobotCode)
		}
		b.seenRobot[r.RobotCode] = true
		corpRobots[r.RobotCode] = true
		name := r.Name
		if name == "" {
			name = r.RobotCode
		}
		org.Robots = append(org.Robots, ding.Robot{Code: r.RobotCode, CorpID: org.Corp.ID, Name: name, CreatedAt: b.now})
	}
	return corpRobots, nil
}

func (b *builder) groups(org *ding.Org, where string, groups []Group, users, robots map[string]bool) error {
	for gi, g := range groups {
		w := fmt.Sprintf("%s.groups[%d]", where, gi)
		if g.Name == "" || g.Owner == "" {
			return fmt.Errorf("%s: name and owner are required", w)
		}
		for _, id := range append([]string{g.Owner}, g.Members...) {
			if !users[id] {
				return fmt.Errorf("%s: %s is not a user of the corp", w, id)
			}
		}
		for _, code := range g.Robots {
			if !robots[code] {
				return fmt.Errorf("%s.robots: robot %s is not declared in this corp", w, code)
			}
		}
		og := ding.OrgGroup{ChatID: g.ChatID, Name: g.Name, Owner: g.Owner, Members: g.Members, Robots: g.Robots}
		for hi, h := range g.Webhooks {
			hw := fmt.Sprintf("%s.webhooks[%d]", w, hi)
			if h.Name == "" || h.AccessToken == "" {
				return fmt.Errorf("%s: name and accessToken are required", hw)
			}
			if b.seenHook[h.AccessToken] {
				return fmt.Errorf("%s: accessToken appears twice", hw)
			}
			b.seenHook[h.AccessToken] = true
			og.Webhooks = append(og.Webhooks, ding.Webhook{Token: h.AccessToken, Name: h.Name, Secret: h.Secret, Keywords: h.Keywords})
		}
		org.Groups = append(org.Groups, og)
	}
	return nil
}

// DeriveUnionID gives a user without a declared unionId a stable one.
func DeriveUnionID(corpID, userID string) string {
	sum := sha256.Sum256([]byte(corpID + "/" + userID))
	return hex.EncodeToString(sum[:11]) + "iE"
}

// addSuites gives each authorisation to its corp's org, with the suite
// itself, and every suite to the first org too, so that applying the orgs
// in order declares each suite before any corp uses it.
func addSuites(suites []Suite, orgs []*ding.Org, now int64) ([]*ding.Org, error) {
	byCorp := map[string]*ding.Org{}
	appKeys := map[string]bool{}
	agents := map[string]map[int64]string{} // corp → agentId → who holds it
	for _, o := range orgs {
		byCorp[o.Corp.ID] = o
		agents[o.Corp.ID] = map[int64]string{}
		for _, a := range o.Apps {
			appKeys[a.Key] = true
			agents[o.Corp.ID][a.AgentID] = "app " + a.Key
		}
	}
	seen := map[string]bool{}
	for si, s := range suites {
		w := fmt.Sprintf("suites[%d]", si)
		if s.SuiteKey == "" || s.SuiteSecret == "" {
			return nil, fmt.Errorf("%s: suiteKey and suiteSecret are required", w)
		}
		if seen[s.SuiteKey] {
			return nil, fmt.Errorf("%s: suiteKey %s appears twice", w, s.SuiteKey)
		}
		seen[s.SuiteKey] = true
		if len(orgs) == 0 {
			return nil, fmt.Errorf("%s: a suite needs a corp in the file", w)
		}
		name := s.Name
		if name == "" {
			name = s.SuiteKey
		}
		suite := ding.Suite{Key: s.SuiteKey, Secret: s.SuiteSecret, Ticket: s.SuiteTicket, Custom: s.Custom, Name: name, CreatedAt: now}
		holders := []*ding.Org{orgs[0]}
		authorised := map[string]bool{}
		for ai, a := range s.AuthCorps {
			aw := fmt.Sprintf("%s.authCorps[%d]", w, ai)
			if a.CorpID == "" || a.PermanentCode == "" {
				return nil, fmt.Errorf("%s: corpId and permanentCode are required", aw)
			}
			o, ok := byCorp[a.CorpID]
			if !ok {
				return nil, fmt.Errorf("%s: corpId %s is not declared under corps", aw, a.CorpID)
			}
			if authorised[a.CorpID] {
				return nil, fmt.Errorf("%s: corpId %s authorises the suite twice", aw, a.CorpID)
			}
			authorised[a.CorpID] = true
			if appKeys[ding.SuiteAppKey(s.SuiteKey, a.CorpID)] {
				return nil, fmt.Errorf("%s: appKey %s is taken by an app", aw, ding.SuiteAppKey(s.SuiteKey, a.CorpID))
			}
			agent := a.AgentID
			if agent == 0 {
				agent = int64(5000 + si)
			}
			if who, taken := agents[a.CorpID][agent]; taken {
				return nil, fmt.Errorf("%s: agentId %d is taken by %s in corp %s", aw, agent, who, a.CorpID)
			}
			agents[a.CorpID][agent] = "suite " + s.SuiteKey
			o.SuiteAuths = append(o.SuiteAuths, ding.SuiteAuth{SuiteKey: s.SuiteKey, CorpID: a.CorpID, PermanentCode: a.PermanentCode,
				AgentID: agent, Scopes: a.Scopes, CreatedAt: now})
			if o != orgs[0] {
				holders = append(holders, o)
			}
		}
		for _, o := range holders {
			o.Suites = append(o.Suites, suite)
		}
		if s.Callback != nil {
			// declared with the first corp: the suite is stored by then
			orgs[0].Pushes = append(orgs[0].Pushes, s.Callback.push(ding.SubSuitePush, s.SuiteKey))
		}
	}
	return orgs, nil
}

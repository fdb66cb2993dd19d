package dingtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
)

// The ISV fixture: Suites numbered suites, each authorised by the fixture
// corp (enough to pass the per-group cap on bound apps), the first also by
// the other corp; a custom app; and a suite no corp authorised.
const (
	Suites = ding.MaxChatApps + 1

	// SuiteKey is suite 1.
	SuiteKey           = "suitetestkey00000001"
	SuiteSecret        = "test-suite-secret-0001"
	SuiteTicket        = "test-suite-ticket-0001"
	SuitePermanentCode = "test-permanent-code-0001"
	SuiteAgentID       = 300001 // suite 1's agentId in CorpID
	SuiteOtherAgentID  = 400001 // suite 1's agentId in OtherCorpID
	// SuiteOtherPermanentCode is OtherCorpID's permanent code for suite 1.
	SuiteOtherPermanentCode = "other-permanent-code-0001"

	// CustomSuiteKey is a custom (定制) app authorised by CorpID: any
	// suiteTicket passes for it.
	CustomSuiteKey     = "customtestkey0000001"
	CustomSuiteSecret  = "test-custom-secret-0001"
	CustomSuiteAgentID = 310001

	// LoneSuiteKey is a suite no corp authorised.
	LoneSuiteKey    = "suitetestkeylone0001"
	LoneSuiteSecret = "test-lone-secret-0001"
	LoneSuiteTicket = "test-lone-ticket-0001"
)

// SuiteKeyN, SuiteSecretN, SuiteTicketN, SuitePermanentCodeN and
// SuiteAgentIDN name suite i (1-based); suite 1 is SuiteKey.
func SuiteKeyN(i int) string           { return fmt.Sprintf("suitetestkey%08d", i) }
func SuiteSecretN(i int) string        { return fmt.Sprintf("test-suite-secret-%04d", i) }
func SuiteTicketN(i int) string        { return fmt.Sprintf("test-suite-ticket-%04d", i) }
func SuitePermanentCodeN(i int) string { return fmt.Sprintf("test-permanent-code-%04d", i) }
func SuiteAgentIDN(i int) int64        { return int64(300000 + i) }

// SuiteOrgs declares the ISV fixture on top of the fixture corps.
func SuiteOrgs() []*ding.Org {
	const t0 = 1767225600000
	org := &ding.Org{Corp: Org().Corp}
	other := &ding.Org{Corp: OtherOrg().Corp}
	for i := 1; i <= Suites; i++ {
		org.Suites = append(org.Suites, ding.Suite{Key: SuiteKeyN(i), Secret: SuiteSecretN(i), Ticket: SuiteTicketN(i),
			Name: fmt.Sprintf("ISV应用%d", i), CreatedAt: t0})
		org.SuiteAuths = append(org.SuiteAuths, ding.SuiteAuth{SuiteKey: SuiteKeyN(i), CorpID: CorpID,
			PermanentCode: SuitePermanentCodeN(i), AgentID: SuiteAgentIDN(i), CreatedAt: t0})
	}
	org.Suites = append(org.Suites,
		ding.Suite{Key: CustomSuiteKey, Secret: CustomSuiteSecret, Custom: true, Name: "定制应用", CreatedAt: t0},
		ding.Suite{Key: LoneSuiteKey, Secret: LoneSuiteSecret, Ticket: LoneSuiteTicket, Name: "未授权应用", CreatedAt: t0})
	org.SuiteAuths = append(org.SuiteAuths, ding.SuiteAuth{SuiteKey: CustomSuiteKey, CorpID: CorpID,
		PermanentCode: "test-custom-permanent-code", AgentID: CustomSuiteAgentID, CreatedAt: t0})
	other.SuiteAuths = []ding.SuiteAuth{{SuiteKey: SuiteKey, CorpID: OtherCorpID, PermanentCode: SuiteOtherPermanentCode,
		AgentID: SuiteOtherAgentID, CreatedAt: t0}}
	return []*ding.Org{org, other}
}

// SeedSuites applies the ISV fixture to a store seeded with the fixture corps.
func SeedSuites(t testing.TB, st ding.Store) {
	t.Helper()
	for _, org := range SuiteOrgs() {
		if err := st.ApplyOrg(context.Background(), org); err != nil {
			t.Fatalf("seed suites of %s: %v", org.Corp.ID, err)
		}
	}
}

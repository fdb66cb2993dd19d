package service

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/dingchat/dingchat/internal/ding"
)

// CheckTimeout is how long a receiver has to answer check_url: DingTalk's
// developer console gives 1500 ms.
const CheckTimeout = 1500 * time.Millisecond

// CallbackTags are the call_back_tag values register_call_back accepts
// (71008 for any other). DingChat fires only the chat_* ones; the rest are
// DingTalk's contact, approval and attendance events, accepted so that an
// integration registering its usual list is not refused.
var CallbackTags = []string{
	ding.EventChatAddMember, ding.EventChatRemoveMember, ding.EventChatQuit, ding.EventChatUpdateOwner,
	ding.EventChatUpdateTitle, ding.EventChatDisband, ding.EventChatDisbandMicroapp,
	"user_add_org", "user_modify_org", "user_leave_org", "user_active_org", "org_admin_add", "org_admin_remove",
	"org_dept_create", "org_dept_modify", "org_dept_remove", "org_remove", "org_change",
	"label_user_change", "label_conf_add", "label_conf_del", "label_conf_modify",
	"bpms_task_change", "bpms_instance_change", "check_in", "attendance_check_record",
	"attendance_schedule_change", "attendance_overtime_duration",
}

// CallbackInput is the body of register_call_back and update_call_back;
// nil means the field was absent.
type CallbackInput struct {
	Tags   []string
	Token  *string
	AESKey *string
	URL    *string
}

// PushInput sets an app's or a suite's HTTP push, as DingTalk's developer
// console does: every event type when Types is empty.
type PushInput struct {
	URL    string
	Token  string
	AESKey string
	Types  []string
}

// WithPusher gives the service what posts check_url; without it
// subscribing answers Unavailable.
func WithPusher(p ding.Pusher) Option { return func(s *Service) { s.pusher = p } }

// OnSubscriptionsChanged is called after a subscription is saved or
// deleted, so delivery starts without waiting for its next look.
func OnSubscriptionsChanged(f func()) Option { return func(s *Service) { s.subsChanged = f } }

func (s *Service) changedSubs() {
	if s.subsChanged != nil {
		s.subsChanged()
	}
}

// callbackOwnerKey is the trailing key of a register_call_back
// subscription: the CorpId, or the SuiteKey for an ISV app (unconfirmed for
// ISV apps; the crypto docs say suites sign with their key).
func callbackOwnerKey(c *Caller) string {
	if c.App.SuiteKey != "" {
		return c.App.SuiteKey
	}
	return c.CorpID()
}

func checkSubscriptionFields(token, aesKey, rawURL string) error {
	// the register doc asks for a token of at least 6 and under 64 characters
	if n := len([]rune(token)); n < 6 || n >= 64 {
		return ding.Errorf(ding.Invalid, ding.ReasonCallbackField, "token must be 6 to 63 characters, got %d", n)
	}
	if !validAESKey(aesKey) {
		return ding.Errorf(ding.Invalid, ding.ReasonAESKey, "aes_key must be 43 characters of [A-Za-z0-9], got %d", len(aesKey))
	}
	return checkSubscriptionURL(rawURL)
}

func checkSubscriptionURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ding.Errorf(ding.Invalid, ding.ReasonCallbackURL, "url must be an absolute http or https URL without credentials")
	}
	return nil
}

// validAESKey is DingTalk's rule: 43 characters from a-z, A-Z and 0-9.
func validAESKey(k string) bool {
	if len(k) != 43 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (s *Service) callbackFromInput(c *Caller, in CallbackInput) (*ding.Subscription, error) {
	if in.Tags == nil || in.Token == nil || in.AESKey == nil || in.URL == nil {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonCallbackField, "call_back_tag, token, aes_key and url are required")
	}
	if len(in.Tags) == 0 {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonCallbackField, "call_back_tag is empty")
	}
	for _, t := range in.Tags {
		if !slices.Contains(CallbackTags, t) {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonCallbackTag, "call_back_tag %q is not in the list", t)
		}
	}
	if err := checkSubscriptionFields(*in.Token, *in.AESKey, *in.URL); err != nil {
		return nil, err
	}
	now := s.nowMs()
	return &ding.Subscription{ID: ding.SubscriptionID(ding.SubRegister, c.App.Key), Kind: ding.SubRegister, Key: c.App.Key,
		CorpID: c.CorpID(), OwnerKey: callbackOwnerKey(c), Types: dedupe(in.Tags), Token: *in.Token, AESKey: *in.AESKey,
		URL: *in.URL, CreatedAt: now, UpdatedAt: now}, nil
}

// checkURL posts an encrypted check_url to the subscription's URL and
// succeeds only when the reply decrypts to "success".
func (s *Service) checkURL(ctx context.Context, sub *ding.Subscription) error {
	if s.pusher == nil {
		return ding.Errorf(ding.Unavailable, ding.ReasonNone, "callbacks are not configured")
	}
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	res := s.pusher.Push(cctx, sub, []byte(`{"EventType":"check_url"}`))
	if res.Failure == "" {
		return nil
	}
	reason := map[string]ding.Reason{
		ding.PushUnreachable: ding.ReasonCallbackUnreachable,
		ding.PushTimeout:     ding.ReasonCallbackTimeout,
		ding.PushBadReply:    ding.ReasonCallbackBadReply,
		ding.PushSignature:   ding.ReasonCallbackSignature,
		ding.PushNotSuccess:  ding.ReasonCallbackNotSuccess,
		ding.PushRefused:     ding.ReasonCallbackAddress,
	}[res.Failure]
	if reason == "" {
		reason = ding.ReasonCallbackUnreachable
	}
	e := ding.Errorf(ding.Invalid, reason, "check_url to the callback URL failed: %s", res.Failure)
	e.Err = res.Err
	return e
}

// RegisterCallback is /call_back/register_call_back: one subscription per
// app, verified with check_url before it is saved.
func (s *Service) RegisterCallback(ctx context.Context, c *Caller, in CallbackInput) error {
	sub, err := s.callbackFromInput(c, in)
	if err != nil {
		return err
	}
	if _, err := s.store.Subscription(ctx, sub.ID); err == nil {
		return ding.Errorf(ding.Conflict, ding.ReasonCallbackExists, "the app has a callback already; use update_call_back")
	} else if !ding.IsKind(err, ding.NotFound) {
		return err
	}
	if err := s.checkURL(ctx, sub); err != nil {
		return err
	}
	if err := s.store.SaveSubscription(ctx, sub); err != nil {
		return err
	}
	s.changedSubs()
	return nil
}

// UpdateCallback is /call_back/update_call_back: it replaces the app's
// subscription, keeping its place in the event log.
func (s *Service) UpdateCallback(ctx context.Context, c *Caller, in CallbackInput) error {
	sub, err := s.callbackFromInput(c, in)
	if err != nil {
		return err
	}
	if _, err := s.store.Subscription(ctx, sub.ID); ding.IsKind(err, ding.NotFound) {
		return ding.Errorf(ding.NotFound, ding.ReasonCallbackMissing, "the app has no callback; use register_call_back")
	} else if err != nil {
		return err
	}
	if err := s.checkURL(ctx, sub); err != nil {
		return err
	}
	if err := s.store.SaveSubscription(ctx, sub); err != nil {
		return err
	}
	s.changedSubs()
	return nil
}

// Callback is /call_back/get_call_back.
func (s *Service) Callback(ctx context.Context, c *Caller) (*ding.Subscription, error) {
	sub, err := s.store.Subscription(ctx, ding.SubscriptionID(ding.SubRegister, c.App.Key))
	if ding.IsKind(err, ding.NotFound) {
		return nil, ding.Errorf(ding.NotFound, ding.ReasonCallbackMissing, "the app has no callback")
	}
	return sub, err
}

// DeleteCallback is /call_back/delete_call_back.
func (s *Service) DeleteCallback(ctx context.Context, c *Caller) error {
	err := s.store.DeleteSubscription(ctx, ding.SubscriptionID(ding.SubRegister, c.App.Key))
	if ding.IsKind(err, ding.NotFound) {
		return ding.Errorf(ding.NotFound, ding.ReasonCallbackNotFound, "the app has no callback")
	}
	if err == nil {
		s.changedSubs()
	}
	return err
}

// FailedCallbacks is /call_back/get_call_back_failed_result: the events
// given up on, at most ding.MaxFailedPage a call. Each call hands out the
// oldest ones and forgets them, so has_more drains the list (the API has
// no cursor; unconfirmed that DingTalk forgets what it returned).
func (s *Service) FailedCallbacks(ctx context.Context, c *Caller) ([]ding.FailedEvent, bool, error) {
	return s.store.TakeFailedEvents(ctx, ding.SubscriptionID(ding.SubRegister, c.App.Key), ding.MaxFailedPage)
}

func (s *Service) pushSubscription(kind, key, corpID, owner string, in PushInput) (*ding.Subscription, error) {
	if err := checkSubscriptionFields(in.Token, in.AESKey, in.URL); err != nil {
		return nil, err
	}
	for _, t := range in.Types {
		if !ding.Pushed(t) {
			return nil, ding.Errorf(ding.Invalid, ding.ReasonCallbackTag, "event type %q is not one DingChat pushes (%v)", t, ding.PushedEvents)
		}
	}
	now := s.nowMs()
	return &ding.Subscription{ID: ding.SubscriptionID(kind, key), Kind: kind, Key: key, CorpID: corpID, OwnerKey: owner,
		Types: dedupe(in.Types), Token: in.Token, AESKey: in.AESKey, URL: in.URL, CreatedAt: now, UpdatedAt: now}, nil
}

// SetAppPush sets an internal app's HTTP push (trailing key: the AppKey);
// with verify the URL must answer check_url first, as the console's
// button requires.
func (s *Service) SetAppPush(ctx context.Context, appKey string, in PushInput, verify bool) (*ding.Subscription, error) {
	app, err := s.store.App(ctx, appKey)
	if err != nil {
		return nil, err
	}
	kind, key, corp, owner := ding.SubAppPush, app.Key, app.CorpID, app.Key
	if app.SuiteKey != "" {
		return nil, ding.Errorf(ding.Invalid, ding.ReasonInvalidParam, "%s is an ISV suite's app: set the suite's push instead", appKey)
	}
	return s.savePush(ctx, kind, key, corp, owner, in, verify)
}

// SetSuitePush sets an ISV suite's HTTP push (trailing key: the SuiteKey):
// it receives the events of every corp that authorised the suite.
func (s *Service) SetSuitePush(ctx context.Context, suiteKey string, in PushInput, verify bool) (*ding.Subscription, error) {
	if _, err := s.store.Suite(ctx, suiteKey); err != nil {
		return nil, err
	}
	return s.savePush(ctx, ding.SubSuitePush, suiteKey, "", suiteKey, in, verify)
}

func (s *Service) savePush(ctx context.Context, kind, key, corp, owner string, in PushInput, verify bool) (*ding.Subscription, error) {
	sub, err := s.pushSubscription(kind, key, corp, owner, in)
	if err != nil {
		return nil, err
	}
	if verify {
		if err := s.checkURL(ctx, sub); err != nil {
			return nil, err
		}
	}
	if err := s.store.SaveSubscription(ctx, sub); err != nil {
		return nil, err
	}
	s.changedSubs()
	return sub, nil
}

// Subscription returns a subscription by kind and key.
func (s *Service) Subscription(ctx context.Context, kind, key string) (*ding.Subscription, error) {
	return s.store.Subscription(ctx, ding.SubscriptionID(kind, key))
}

// Subscriptions lists every HTTP subscription.
func (s *Service) Subscriptions(ctx context.Context) ([]ding.Subscription, error) {
	return s.store.Subscriptions(ctx)
}

// DeletePush removes an app's or a suite's HTTP push.
func (s *Service) DeletePush(ctx context.Context, kind, key string) error {
	if err := s.store.DeleteSubscription(ctx, ding.SubscriptionID(kind, key)); err != nil {
		return err
	}
	s.changedSubs()
	return nil
}

// EventEntry is one event of the log with its delivery attempts.
type EventEntry struct {
	Event      ding.Event
	Deliveries []ding.Delivery
}

// EventLog lists a corp's events after `after`, oldest first, each with
// its delivery attempts (newest first).
func (s *Service) EventLog(ctx context.Context, corpID string, after int64, limit int) ([]EventEntry, error) {
	if _, err := s.store.Corp(ctx, corpID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	evs, err := s.store.Events(ctx, corpID, after, limit)
	if err != nil {
		return nil, err
	}
	return s.withDeliveries(ctx, corpID, evs)
}

// EventLogBefore lists the corp's events before `before` (0 = the newest
// on), newest first: the page of the log an operator reads first.
func (s *Service) EventLogBefore(ctx context.Context, corpID string, before int64, limit int) ([]EventEntry, error) {
	if _, err := s.store.Corp(ctx, corpID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if before <= 0 {
		head, err := s.store.LatestEventSeq(ctx, corpID)
		if err != nil {
			return nil, err
		}
		before = head + 1
	}
	// sequence numbers are gap-free: the page is a range of them
	after := max(0, before-1-int64(limit))
	evs, err := s.store.Events(ctx, corpID, after, int(before-1-after))
	if err != nil {
		return nil, err
	}
	slices.Reverse(evs)
	return s.withDeliveries(ctx, corpID, evs)
}

// maxLogDeliveries bounds the attempts one page of the event log shows: the
// newest are kept.
const maxLogDeliveries = 2000

// withDeliveries attaches each pushed event's delivery attempts, read in
// one statement for the whole page.
func (s *Service) withDeliveries(ctx context.Context, corpID string, evs []ding.Event) ([]EventEntry, error) {
	out := make([]EventEntry, len(evs))
	var from, to int64
	for i, e := range evs {
		out[i].Event = e
		if !ding.Pushed(e.Type) {
			continue
		}
		if from == 0 || e.Seq < from {
			from = e.Seq
		}
		to = max(to, e.Seq)
	}
	if from == 0 {
		return out, nil
	}
	ds, err := s.store.Deliveries(ctx, ding.DeliveryFilter{CorpID: corpID, SeqFrom: from, SeqTo: to, Limit: maxLogDeliveries})
	if err != nil {
		return nil, err
	}
	bySeq := map[int64][]ding.Delivery{}
	for _, d := range ds {
		bySeq[d.Seq] = append(bySeq[d.Seq], d)
	}
	for i := range out {
		if ding.Pushed(out[i].Event.Type) {
			out[i].Deliveries = bySeq[out[i].Event.Seq]
		}
	}
	return out, nil
}

// Deliveries lists delivery attempts, newest first.
func (s *Service) Deliveries(ctx context.Context, f ding.DeliveryFilter) ([]ding.Delivery, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	return s.store.Deliveries(ctx, f)
}

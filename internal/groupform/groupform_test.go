package groupform_test

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/groupform"
	"github.com/dingchat/dingchat/internal/httpx"
)

func params(t *testing.T, body string) *httpx.Params {
	t.Helper()
	p, err := httpx.ReadParams(httptest.NewRequest("POST", "/x", strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBothGenerationsReadAlike: the same fields give the same input, with
// the options flat (legacy) or under managementOptions (v1.0).
func TestBothGenerationsReadAlike(t *testing.T) {
	const fields = `"name":"群","owner":"manager4220","useridlist":["manager4220","zhangsan"],"conversationTag":2`
	flat, err := groupform.Create(params(t, `{`+fields+`,"searchable":1,"chatBannedType":"1"}`), groupform.Flat)
	if err != nil {
		t.Fatal(err)
	}
	nested, err := groupform.Create(params(t, `{`+fields+`,"managementOptions":{"searchable":1,"chatBannedType":1}}`), groupform.Nested)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(flat, nested) || flat.Name != "群" || len(flat.UserIDs) != 2 || *flat.Options.Searchable != 1 || *flat.Options.ChatBannedType != 1 {
		t.Fatalf("flat %+v, nested %+v", flat, nested)
	}
	up, err := groupform.Update(params(t, `{"chatid":"c","name":"新","add_useridlist":"lisi,wangwu","managementOptions":{"validationType":1}}`), groupform.Nested)
	if err != nil || up.ChatID != "c" || *up.Name != "新" || len(up.AddUserIDs) != 2 || *up.Options.ValidationType != 1 || up.Owner != nil {
		t.Fatalf("update %+v, %v", up, err)
	}
	for _, c := range []struct {
		body string
		opts groupform.Options
	}{
		{`{"name":["x"]}`, groupform.Flat},
		{`{"name":"n","searchable":"often"}`, groupform.Flat},
		{`{"name":"n","managementOptions":"none"}`, groupform.Nested},
		{`{"name":"n","managementOptions":{"searchable":"often"}}`, groupform.Nested},
	} {
		if _, err := groupform.Create(params(t, c.body), c.opts); ding.ErrorReason(err) != ding.ReasonInvalidParam {
			t.Errorf("%s: err %v, want an invalid parameter", c.body, err)
		}
	}
}

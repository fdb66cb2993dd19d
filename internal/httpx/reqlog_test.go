package httpx

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMaskBody(t *testing.T) {
	cases := []struct{ in, ct, want string }{
		{`{"appKey":"dingkey","appSecret":"abcdefghijklmnopq"}`, "application/json", `{"appKey":"dingkey","appSecret":"abcd…****** (17 chars)"}`},
		{`{"msg":{"text":{"content":"a&b"}},"chatid":"c1"}`, "application/json", `{"msg":{"text":{"content":"a&b"}},"chatid":"c1"}`},
		{`{"list":[{"token":"short"}]}`, "application/json", `{"list":[{"token":"****** (5 chars)"}]}`},
		{`corpid=x&corpsecret=0123456789`, "application/x-www-form-urlencoded", `"corpid=x\u0026corpsecret=%2A%2A%2A%2A%2A%2A+%2810+chars%29"`},
		{`not json`, "text/plain", `"not json"`},
		{"\xff\xfe", "application/octet-stream", "\"\uFFFD\""},
		{`--b\r\nfile`, "multipart/form-data; boundary=b", `"(multipart body not logged)"`},
	}
	for _, c := range cases {
		got, _ := MaskBody([]byte(c.in), c.ct, 1000)
		if string(got) != c.want {
			t.Errorf("MaskBody(%q) = %s, want %s", c.in, got, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("MaskBody(%q) is not JSON: %s", c.in, got)
		}
	}
	// key order and spacing survive when nothing is masked
	in := `{ "z": 1, "a": 2 }`
	if got, _ := MaskBody([]byte(in), "application/json", 1000); string(got) != `{ "z": 1, "a": 2 }` {
		t.Errorf("unmasked body changed: %s", got)
	}
	long := strings.Repeat("x", 50)
	if got, cut := MaskBody([]byte(long), "text/plain", 10); !cut || string(got) != `"xxxxxxxxxx"` {
		t.Errorf("truncation: %s %v", got, cut)
	}
}

func TestMaskQuery(t *testing.T) {
	q := MaskQuery("access_token=0123456789abcdef&chatid=c1&AppSecret=zz")
	if strings.Contains(q, "0123456789abcdef") || strings.Contains(q, "=zz") || !strings.Contains(q, "chatid=c1") {
		t.Fatalf("masked query %q", q)
	}
	if MaskQuery("chatid=c1&b=2") != "chatid=c1&b=2" {
		t.Fatal("a query without secrets changed")
	}
}

func TestRequestLogRing(t *testing.T) {
	l := NewRequestLog(3)
	t0 := time.Unix(1700000000, 0)
	for i := 1; i <= 5; i++ {
		l.Add(LoggedCall{Time: t0.Add(time.Duration(i) * time.Second), Path: fmt.Sprintf("/p%d", i%2), AppKey: "a"})
	}
	got, more := l.Find(LogFilter{Limit: 10})
	if more || len(got) != 3 || got[0].Seq != 3 || got[2].Seq != 5 {
		t.Fatalf("ring keeps %+v", got)
	}
	got, more = l.Find(LogFilter{Limit: 1, Path: "/p1"})
	if !more || len(got) != 1 || got[0].Seq != 3 {
		t.Fatalf("path page: %+v %v", got, more)
	}
	got, _ = l.Find(LogFilter{Limit: 10, After: 3, Until: t0.Add(5 * time.Second)})
	if len(got) != 1 || got[0].Seq != 4 {
		t.Fatalf("after and until: %+v", got)
	}
	// newest first, paged by before, After ignored
	got, more = l.Find(LogFilter{Desc: true, Limit: 2, After: 4})
	if !more || len(got) != 2 || got[0].Seq != 5 || got[1].Seq != 4 {
		t.Fatalf("newest page: %+v %v", got, more)
	}
	got, more = l.Find(LogFilter{Desc: true, Limit: 2, Before: got[1].Seq})
	if more || len(got) != 1 || got[0].Seq != 3 {
		t.Fatalf("older page: %+v %v", got, more)
	}
	got, _ = l.Find(LogFilter{Desc: true, Limit: 10, Path: "/p1"})
	if len(got) != 2 || got[0].Seq != 5 || got[1].Seq != 3 {
		t.Fatalf("newest first by path: %+v", got)
	}
	l.Clear()
	if got, _ := l.Find(LogFilter{Limit: 10}); len(got) != 0 {
		t.Fatalf("after clear: %+v", got)
	}
	l.Add(LoggedCall{})
	if got, _ := l.Find(LogFilter{Limit: 10}); len(got) != 1 || got[0].Seq != 6 {
		t.Fatalf("seq after clear: %+v", got)
	}
	var none *RequestLog // size 0: no log, every call a no-op
	none.Add(LoggedCall{})
	if got, _ := none.Find(LogFilter{Limit: 1}); len(got) != 0 {
		t.Fatal("nil log found calls")
	}
}

// Find masks what Keep stored; the ring holds its own copy of the bodies.
func TestRequestLogMasksWhenRead(t *testing.T) {
	l := NewRequestLog(2)
	req := []byte(`{"appKey":"k","appSecret":"abcdefghijklmnopq"}`)
	resp := []byte(`{"errcode":0,"access_token":"0123456789abcdef0123"}`)
	var c LoggedCall
	c.Keep("access_token=0123456789abcdef0123&chatid=c1", req, "application/json", resp, "application/json", 1000)
	l.Add(c)
	copy(req, strings.Repeat("z", len(req))) // the caller reuses its buffers
	copy(resp, strings.Repeat("z", len(resp)))
	for i := 0; i < 2; i++ { // reading twice shows the same
		got, _ := l.Find(LogFilter{Limit: 10})
		b, _ := json.Marshal(got)
		if len(got) != 1 || strings.Contains(string(b), "abcdefghijklmnopq") || strings.Contains(string(b), "0123456789abcdef0123") ||
			!strings.Contains(string(b), `"appSecret":"abcd…`) || !strings.Contains(got[0].Query, "chatid=c1") ||
			!strings.Contains(string(got[0].ResponseBody), `"access_token":"0123…`) {
			t.Fatalf("read %d: %s", i, b)
		}
	}
	var cut LoggedCall
	cut.Keep("", []byte(strings.Repeat("x", 50)), "text/plain", nil, "", 10)
	l.Add(cut)
	if got, _ := l.Find(LogFilter{After: 1, Limit: 1}); len(got) != 1 || !got[0].Truncated || string(got[0].RequestBody) != `"xxxxxxxxxx"` ||
		got[0].ResponseBody != nil {
		t.Fatalf("cut body: %+v", got)
	}
}

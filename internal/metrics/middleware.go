package metrics

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Middleware counts and times requests. It must wrap the ServeMux itself
// (nothing may copy the request in between): the mux records the route
// pattern it chose on the request, and the pattern, not the path, is the
// route label, so ids in paths do not become label values.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inflight.Inc()
		sw := &sniffer{ResponseWriter: w}
		defer func() {
			m.inflight.Dec()
			route := r.Pattern
			if route == "" || route == "/" {
				route = "unmatched" // unknown paths are many; one label for all
			}
			surface := Surface(r.URL.Path)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			m.counter(requestLabels{surface, route, status, sw.code(status)}).Inc()
			m.timer(routeLabels{surface, route}).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

// requestLabels and routeLabels key the children of the request metrics
// already looked up: prometheus hashes and checks every label value on
// each lookup, and the set of them is small (routes are patterns, codes
// DingChat's own).
type requestLabels struct {
	surface, route string
	status         int
	code           string
}

type routeLabels struct{ surface, route string }

func (m *Metrics) counter(k requestLabels) prometheus.Counter {
	if c, ok := m.counters.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c := m.requests.WithLabelValues(k.surface, k.route, strconv.Itoa(k.status), k.code)
	m.counters.Store(k, c)
	return c
}

func (m *Metrics) timer(k routeLabels) prometheus.Observer {
	if o, ok := m.timers.Load(k); ok {
		return o.(prometheus.Observer)
	}
	o := m.latency.WithLabelValues(k.surface, k.route)
	m.timers.Store(k, o)
	return o
}

// Surface names the API a path belongs to.
func Surface(path string) string {
	switch {
	case strings.HasPrefix(path, "/_dingchat/"):
		return "dingchat"
	case strings.HasPrefix(path, "/v1.0/"), strings.HasPrefix(path, "/v2.0/"):
		return "v1"
	case strings.HasPrefix(path, "/topapi/"):
		return "topapi"
	}
	return "legacy"
}

// sniffer keeps the status and the start of the body, where DingChat's
// JSON answers put errcode (legacy, topapi) or code (v1.0 and DingChat's
// own errors).
type sniffer struct {
	http.ResponseWriter
	status int
	n      int
	head   [sniffLen]byte // in the sniffer itself: no allocation a call
}

const sniffLen = 160

func (s *sniffer) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *sniffer) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	s.n += copy(s.head[s.n:], b)
	return s.ResponseWriter.Write(b)
}

func (s *sniffer) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *sniffer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

func (s *sniffer) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// code is the answer's errcode, or for an HTTP error its code string; ""
// when the body carries neither (media downloads, pages, metrics).
func (s *sniffer) code(status int) string {
	h := s.head[:s.n]
	if i := bytes.Index(h, []byte(`"errcode":`)); i >= 0 {
		rest := h[i+len(`"errcode":`):]
		j := 0
		for j < len(rest) && (rest[j] == '-' || rest[j] >= '0' && rest[j] <= '9') {
			j++
		}
		if j > 0 && j < len(rest) {
			return errcode(rest[:j])
		}
		return ""
	}
	if status < 400 {
		return ""
	}
	if i := bytes.Index(h, []byte(`"code":"`)); i >= 0 {
		rest := h[i+len(`"code":"`):]
		if j := bytes.IndexByte(rest, '"'); j > 0 && j <= 80 {
			return string(rest[:j])
		}
	}
	return ""
}

// errcode is b as a string, without an allocation for the codes most
// answers carry.
func errcode(b []byte) string {
	switch string(b) {
	case "0":
		return "0"
	case "-1":
		return "-1"
	}
	return string(b)
}

package dingchatapi

import "net/http"

// StreamLister is what the console needs of the Stream gateway: the
// connections open on this node.
type StreamLister interface {
	Connections() []map[string]any
}

type streamsResponse struct {
	Served      bool             `json:"served"`
	Connections []map[string]any `json:"connections"`
}

// streamConns is GET /_dingchat/admin/streams.
func (a *API) streamConns(r *http.Request) (any, error) {
	if a.streams == nil {
		return streamsResponse{Connections: []map[string]any{}}, nil
	}
	cs := a.streams.Connections()
	if cs == nil {
		cs = []map[string]any{}
	}
	return streamsResponse{Served: true, Connections: cs}, nil
}

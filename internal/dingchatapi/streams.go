package dingchatapi

import "net/http"

// StreamConn is one open Stream connection as the console lists it.
type StreamConn struct {
	ID          string   `json:"id"`
	ClientID    string   `json:"clientId"` // the app key it signed in with
	CorpID      string   `json:"corpId,omitempty"`
	Node        string   `json:"node,omitempty"`
	RemoteAddr  string   `json:"remoteAddr,omitempty"`
	ConnectedAt int64    `json:"connectedAt"` // Unix ms
	Topics      []string `json:"topics,omitempty"`
}

// StreamLister is what the Stream gateway implements for the console; until
// one is wired the console says Stream connections are not served.
type StreamLister interface {
	StreamConns() []StreamConn
}

type streamsResponse struct {
	Served      bool         `json:"served"`
	Connections []StreamConn `json:"connections"`
}

func (a *API) streamConns(r *http.Request) (any, error) {
	if a.streams == nil {
		return streamsResponse{Connections: []StreamConn{}}, nil
	}
	cs := a.streams.StreamConns()
	if cs == nil {
		cs = []StreamConn{}
	}
	return streamsResponse{Served: true, Connections: cs}, nil
}

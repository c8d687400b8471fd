package server

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
)

// The bounds of serve's HTTP side, and the shapes of its answers, that the
// project's other servers (pod-agent) take as they are: one rule, one
// place. Serve itself uses the unexported pieces directly.

// MaxConns is how many connections serve holds open at once (see
// connLimit).
const MaxConns = maxConns

// ConnLimit bounds the open connections of one or more http.Servers as
// serve's are: past the limit each new connection closes the oldest one no
// handler is answering. Make one with NewConnLimit.
type ConnLimit struct{ l *connLimit }

// NewConnLimit is a limit of max open connections.
func NewConnLimit(max int) *ConnLimit { return &ConnLimit{l: newConnLimit(max)} }

// Serve serves hs on ln within the limit. It takes over hs.ConnContext and
// hs.ConnState, and wraps hs.Handler so that a connection is not closed to
// make room while its request is being answered.
func (c *ConnLimit) Serve(hs *http.Server, ln net.Listener) error {
	h := hs.Handler
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			c.l.serving(conn)
		}
		h.ServeHTTP(w, r)
	})
	hs.ConnContext = withConn
	hs.ConnState = c.l.state
	return hs.Serve(limitedListener{Listener: ln, limit: c.l})
}

// Open is how many connections are open.
func (c *ConnLimit) Open() int { return c.l.open() }

// TakeEvicted is how many connections were closed to make room since the
// last call.
func (c *ConnLimit) TakeEvicted() int { return c.l.takeEvicted() }

// AllowedHosts are the Host header values that name a listener at addr
// (see allowedHosts): a request naming anything else came through a name
// that was rebound to this address, and is refused.
func AllowedHosts(addr string) map[string]bool { return allowedHosts(addr) }

// ContainerDoc is the container credentials protocol's answer. Token is
// always there (botocore and the JS SDK require the field), empty without a
// session token.
type ContainerDoc struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	AccountID       string `json:"AccountId,omitempty"`
}

// ErrorDoc is the body of every refusal, in the shape the SDKs parse.
type ErrorDoc struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteJSON answers with status and v as JSON, never to be cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// WriteRefusal answers with an ErrorDoc and closes the connection after
// it: a client refused once is not kept waiting on an idle connection (one
// it could otherwise hold open, or send thousands of requests on).
func WriteRefusal(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Connection", "close")
	WriteJSON(w, status, ErrorDoc{Code: code, Message: msg})
}

// LogPath is a request's path as a log line shows it: its first 200 bytes,
// then "..." when there is more.
func LogPath(path string) string {
	if len(path) > 200 {
		return path[:200] + "..."
	}
	return path
}

package server

import (
	"net"
	"net/http"
)

// The bounds of serve's HTTP side that the project's other servers
// (pod-agent) take as they are: one rule, one place. Serve itself uses the
// unexported pieces directly.

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

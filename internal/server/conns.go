package server

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// maxConns bounds the connections the server holds open at once: enough
// for every SDK client of a machine, each with a connection kept alive,
// and few enough that the file descriptors and memory they take are small.
const maxConns = 256

// connLimit bounds the connections the server holds open, so that no
// number of clients, with the token or without, uses up the process's
// file descriptors and memory. Past max, each new connection closes the
// oldest one that no handler is answering: one that sends nothing, or
// its headers a byte at a time, or sits idle between requests. A client
// that sends its request as soon as it connects (every SDK does) is
// answered before max newer connections come, so it is served even while
// a flood of idle or slow connections is on; each of those the flood
// opens only pushes out another.
type connLimit struct {
	max     int
	mu      sync.Mutex
	seq     uint64
	conns   map[net.Conn]*tracked
	evicted int // closed to make room since the last takeEvicted
}

// tracked is one open connection.
type tracked struct {
	seq  uint64 // order of arrival
	busy bool   // a request on it is being answered
}

func newConnLimit(max int) *connLimit {
	return &connLimit{max: max, conns: map[net.Conn]*tracked{}}
}

// admit records c, and closes the oldest connection not being answered
// when there are more than max. It reports whether c itself stays open:
// it does not when every other connection is being answered.
func (l *connLimit) admit(c net.Conn) bool {
	l.mu.Lock()
	l.seq++
	l.conns[c] = &tracked{seq: l.seq}
	var victim net.Conn
	if len(l.conns) > l.max {
		for vc, t := range l.conns {
			if !t.busy && (victim == nil || t.seq < l.conns[victim].seq) {
				victim = vc
			}
		}
		if victim == nil {
			victim = c
		}
		delete(l.conns, victim)
		l.evicted++
	}
	l.mu.Unlock()
	if victim != nil {
		_ = victim.Close()
	}
	return victim != c
}

// serving marks c as being answered: a handler runs on it, and it is not
// closed to make room until its answer has been sent.
func (l *connLimit) serving(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.conns[c]; t != nil {
		t.busy = true
	}
}

// state follows net/http's view of each connection (http.Server.ConnState):
// idle once the answer is sent, gone once closed.
func (l *connLimit) state(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch s {
	case http.StateIdle:
		if t := l.conns[c]; t != nil {
			t.busy = false
		}
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	}
}

// open is how many connections are open.
func (l *connLimit) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// takeEvicted is how many connections were closed to make room since the
// last call.
func (l *connLimit) takeEvicted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.evicted
	l.evicted = 0
	return n
}

// limitedListener admits each connection it accepts into a connLimit.
type limitedListener struct {
	net.Listener
	limit *connLimit
}

func (ll limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ll.limit.admit(c) {
			return c, nil
		}
	}
}

// connKey is the context key of a request's connection (set by
// http.Server.ConnContext), which the handler marks as being answered.
type connKey struct{}

func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

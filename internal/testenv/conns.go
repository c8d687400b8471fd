package testenv

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// What the tests of the project's HTTP servers (serve's and pod-agent's)
// share to prove their bounds from the connection up: a request written by
// hand, the close after a refusal, connections counted at the listener, and
// a flood of connections that never finish a request.

// RawRequest sends text on a new connection to hostport and reads one
// answer, its body read in full (resp.Body reads it again). The connection
// stays open for the caller to read on through br, and is closed when the
// test ends.
func RawRequest(t testing.TB, hostport, text string) (*http.Response, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", hostport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(time.Minute)) // a guard against a hung test, nothing measured
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to %q: %v", text, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("the answer %s to %q: %v", resp.Status, text, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, br
}

// RefusedAndClosed sends text as RawRequest does and checks the answer is
// status, says Connection: close, and that the server closes the
// connection after it.
func RefusedAndClosed(t testing.TB, hostport, text string, status int) {
	t.Helper()
	resp, br := RawRequest(t, hostport, text)
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d", resp.StatusCode, status)
	}
	if !resp.Close {
		t.Fatalf("a %d keeps the connection open (headers %v)", resp.StatusCode, resp.Header)
	}
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after the %d: read %d bytes, %v; want the connection closed (EOF)", resp.StatusCode, n, err)
	}
}

// ConnCounter counts the connections the listeners it wraps have handed
// out and that are not closed yet, and the most there were at once.
type ConnCounter struct {
	mu         sync.Mutex
	open, peak int
}

// Listener is ln with its connections counted in n.
func (n *ConnCounter) Listener(ln net.Listener) net.Listener { return countingListener{ln, n} }

// Peak is the most connections that were open at once.
func (n *ConnCounter) Peak() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peak
}

func (n *ConnCounter) add(d int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.open += d
	n.peak = max(n.peak, n.open)
}

type countingListener struct {
	net.Listener
	n *ConnCounter
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.n.add(1)
	return &countedConn{Conn: c, n: l.n}, nil
}

type countedConn struct {
	net.Conn
	n    *ConnCounter
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.n.add(-1) })
	return c.Conn.Close()
}

// Flood opens idle+slow connections to hosts, in turn, that never finish a
// request: the idle ones send nothing, the slow ones partial (the start of
// a request's headers) and no more. Each has a minute's deadline (a guard
// against a hung test); all are closed when the test ends.
func Flood(t testing.TB, hosts []string, idle, slow int, partial string) []net.Conn {
	t.Helper()
	var flood []net.Conn
	t.Cleanup(func() {
		for _, c := range flood {
			c.Close()
		}
	})
	for i := range idle + slow {
		c, err := net.Dial("tcp", hosts[i%len(hosts)])
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		flood = append(flood, c)
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		if i >= idle {
			if _, err := io.WriteString(c, partial); err != nil {
				t.Fatal(err)
			}
		}
	}
	return flood
}

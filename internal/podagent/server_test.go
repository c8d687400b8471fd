package podagent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/server"
)

// The bounds of the agent's HTTP side, as serve's: the Host header names
// the agent, every refusal closes its connection, the open connections are
// bounded while a valid request is still served.

// serveAgent runs a.Serve on ln (a new loopback listener when nil) until
// the test ends, and returns the address it listens on.
func serveAgent(t *testing.T, a *Agent, ln ...net.Listener) string {
	t.Helper()
	if len(ln) == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln = append(ln, l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln...) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(time.Minute): // a guard against a hung test, nothing measured
			t.Error("Serve did not return after its context ended")
		}
		a.background.Wait() // no refresh logs after the test
	})
	return ln[0].Addr().String()
}

// rawRequest sends text on a new connection to hostport and reads one
// answer; the connection stays open for the caller to look at.
func rawRequest(t *testing.T, hostport, text string) (*http.Response, map[string]string, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", hostport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(time.Minute)) // a guard, nothing measured
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to %q: %v", text, err)
	}
	defer resp.Body.Close()
	var doc map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("answer %s to %q is no JSON document: %v", resp.Status, text, err)
	}
	return resp, doc, br
}

// TestHostChecked: a request whose Host header does not name the agent's
// address (a page that rebound its DNS name to it) is refused before its
// token is looked at; the address, and localhost for a loopback listener,
// are served.
func TestHostChecked(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	j := jwtFor("team-a", "app", c.now().Add(time.Hour), 1)
	v.valid[j] = "entity-a"
	host := serveAgent(t, a)
	_, port, _ := net.SplitHostPort(host)
	for _, tt := range []struct {
		host   string
		status int
		code   string
	}{
		{host, 200, ""},
		{"localhost:" + port, 200, ""},
		{"rebound.example", 403, "wrong_host"},
		{"rebound.example:" + port, 403, "wrong_host"},
		{"169.254.170.23", 403, "wrong_host"},
	} {
		t.Run(tt.host, func(t *testing.T) {
			resp, doc, _ := rawRequest(t, host, "GET "+CredsPath+" HTTP/1.1\r\nHost: "+tt.host+"\r\nAuthorization: "+j+"\r\n\r\n")
			if resp.StatusCode != tt.status || doc["code"] != tt.code {
				t.Errorf("status %d code %q, want %d %q", resp.StatusCode, doc["code"], tt.status, tt.code)
			}
		})
	}
	if logins, _ := v.counts(); logins != 1 {
		t.Errorf("%d logins, want 1: a request with the wrong Host must not reach Vault", logins)
	}
}

// TestRefusalClosesConnection: every refusal says Connection: close and
// the agent closes the connection after it; an answer with credentials
// keeps it alive.
func TestRefusalClosesConnection(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	good := jwtFor("team-a", "app", c.now().Add(time.Hour), 1)
	v.valid[good] = "entity-a"
	host := serveAgent(t, a)
	get := func(path, hostHeader, auth string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nAuthorization: " + auth + "\r\n\r\n"
	}
	for _, tt := range []struct {
		name, text string
		status     int
	}{
		{"no token", "GET " + CredsPath + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 401},
		{"refused by Vault", get(CredsPath, host, jwtFor("team-a", "app", c.now().Add(time.Hour), 2)), 401},
		{"wrong Host", get(CredsPath, "rebound.example", good), 403},
		{"unknown path", get("/v1/credentialz", host, good), 404},
		{"POST", "POST " + CredsPath + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: " + good + "\r\nContent-Length: 0\r\n\r\n", 405},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, _, br := rawRequest(t, host, tt.text)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if !resp.Close {
				t.Fatalf("a %d keeps the connection open (headers %v)", resp.StatusCode, resp.Header)
			}
			if n, err := br.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("after the %d: read %d bytes, %v; want the connection closed (EOF)", resp.StatusCode, n, err)
			}
		})
	}
	t.Run("credentials", func(t *testing.T) {
		resp, doc, _ := rawRequest(t, host, get(CredsPath, host, good))
		if resp.StatusCode != 200 || resp.Close || doc["AccessKeyId"] == "" {
			t.Errorf("status %d, Connection: close %v, %v; want 200 with credentials on a connection kept alive", resp.StatusCode, resp.Close, doc)
		}
	})
}

// counter counts the connections its listeners have handed out that are
// not closed yet, and the most there were at once.
type counter struct {
	mu         sync.Mutex
	open, peak int
}

func (n *counter) add(d int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.open += d
	n.peak = max(n.peak, n.open)
}

func (n *counter) maxOpen() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peak
}

// countingListener counts its connections in n.
type countingListener struct {
	net.Listener
	n *counter
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
	n    *counter
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.n.add(-1) })
	return c.Conn.Close()
}

// TestConnectionFlood: a flood of connections without a token (idle ones,
// and slow ones sending their headers a byte at a time), on two listeners,
// holds no more than the limit open over both, and a pod's request made
// while they are all open is answered with its credentials.
func TestConnectionFlood(t *testing.T) {
	const limit, idle, slow = 16, 150, 50
	a, v, c := newTestAgent(t, testConfig)
	j := jwtFor("team-a", "app", c.now().Add(time.Hour), 1)
	v.valid[j] = "entity-a"
	a.conns = server.NewConnLimit(limit)
	var n counter
	var lns []net.Listener
	var hosts []string
	for range 2 {
		inner, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns, hosts = append(lns, countingListener{Listener: inner, n: &n}), append(hosts, inner.Addr().String())
	}
	serveAgent(t, a, lns...)
	var flood []net.Conn
	t.Cleanup(func() {
		for _, c := range flood {
			c.Close()
		}
	})
	for i := range idle + slow {
		c, err := net.Dial("tcp", hosts[i%2])
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		flood = append(flood, c)
		if i >= idle {
			if _, err := io.WriteString(c, "GET "+CredsPath+" HTTP/1.1\r\nHo"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The kernel hands over connections in the order they came: by the time
	// this one is answered, the agent has seen the whole flood on its
	// listener (the other's may lag, which the bound below allows for).
	resp, doc, _ := rawRequest(t, hosts[1], "GET "+CredsPath+" HTTP/1.1\r\nHost: "+hosts[1]+"\r\nAuthorization: "+j+"\r\n\r\n")
	if resp.StatusCode != 200 || doc["AccessKeyId"] == "" {
		t.Fatalf("a pod's request during the flood: %d %v, want 200 with its credentials", resp.StatusCode, doc)
	}
	if peak := n.maxOpen(); peak > limit+2 {
		t.Errorf("the agent held %d connections open at once, want at most %d (the limit, and one arriving on each listener)", peak, limit+2)
	}
	if open := a.conns.Open(); open > limit {
		t.Errorf("%d connections tracked as open, want at most %d", open, limit)
	}
	_ = flood[0].SetReadDeadline(time.Now().Add(time.Minute)) // a guard, nothing measured
	if n, err := flood[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the oldest flood connection: read %d bytes, %v; want it closed by the agent", n, err)
	}
	if n := a.conns.TakeEvicted(); n == 0 {
		t.Error("no connection counted as closed to make room (the minute's log line says how many)")
	}
}

// TestRefusedTokenRemembered: a token Vault refused is refused again
// without a login for refusedTTL, with the same 401; then Vault is asked
// again (a fix on Vault's side is seen).
func TestRefusedTokenRemembered(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	bad := jwtFor("team-a", "app", c.now().Add(time.Hour), 1)
	host := serveAgent(t, a)
	ask := func() (int, map[string]string) {
		resp, doc, _ := rawRequest(t, host, "GET "+CredsPath+" HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: "+bad+"\r\n\r\n")
		return resp.StatusCode, doc
	}
	for i := range 3 {
		if status, doc := ask(); status != 401 || doc["code"] != "unauthorized" || !strings.Contains(doc["message"], "error validating token") {
			t.Fatalf("request %d: %d %v, want 401 with Vault's reason", i, status, doc)
		}
	}
	if logins, _ := v.counts(); logins != 1 {
		t.Errorf("3 requests with one refused token made %d logins, want 1", logins)
	}
	c.add(refusedTTL)
	v.valid[bad] = "entity-a" // now Vault takes it
	if status, doc := ask(); status != 200 {
		t.Errorf("after %s: %d %v, want 200 (Vault asked again)", refusedTTL, status, doc)
	}
	if logins, _ := v.counts(); logins != 2 {
		t.Errorf("%d logins, want 2", logins)
	}
}

// TestFailedLoginsThrottled: past failedLoginBurst refused logins, a new
// token gets 429 with Retry-After without a login, while a token verified
// before is still served; the budget grows back at failedLoginRate a
// second.
func TestFailedLoginsThrottled(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	good := jwtFor("team-a", "app", c.now().Add(time.Hour), 0)
	v.valid[good] = "entity-a"
	host := serveAgent(t, a)
	ask := func(jwt string) (*http.Response, map[string]string) {
		resp, doc, _ := rawRequest(t, host, "GET "+CredsPath+" HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: "+jwt+"\r\n\r\n")
		return resp, doc
	}
	if resp, doc := ask(good); resp.StatusCode != 200 {
		t.Fatalf("good token: %d %v", resp.StatusCode, doc)
	}
	forged := func(i int) string { return jwtFor("team-z", fmt.Sprint("sa", i), c.now().Add(time.Hour), i) }
	for i := range failedLoginBurst {
		if resp, doc := ask(forged(i)); resp.StatusCode != 401 {
			t.Fatalf("forged token %d: %d %v, want 401", i, resp.StatusCode, doc)
		}
	}
	logins, _ := v.counts()
	resp, doc := ask(forged(failedLoginBurst))
	if resp.StatusCode != 429 || doc["code"] != "throttled" || resp.Header.Get("Retry-After") == "" || !resp.Close {
		t.Errorf("one more new token: %d %v (Retry-After %q, close %v), want 429 throttled with Retry-After, closed",
			resp.StatusCode, doc, resp.Header.Get("Retry-After"), resp.Close)
	}
	if now, _ := v.counts(); now != logins {
		t.Errorf("the throttled token made %d logins, want 0", now-logins)
	}
	if resp, doc := ask(good); resp.StatusCode != 200 {
		t.Errorf("a token verified before, while throttled: %d %v, want 200", resp.StatusCode, doc)
	}
	c.add(time.Second) // failedLoginRate more may be tried
	for i := range failedLoginRate {
		if resp, _ := ask(forged(100 + i)); resp.StatusCode != 401 {
			t.Errorf("after a second, new token %d: %d, want 401 (tried at Vault)", i, resp.StatusCode)
		}
	}
	if resp, _ := ask(forged(200)); resp.StatusCode != 429 {
		t.Errorf("past the second's budget: %d, want 429", resp.StatusCode)
	}
}

// TestRefusedTokensBounded: the tokens remembered as refused are bounded;
// the oldest is forgotten first, and each expires after refusedTTL.
func TestRefusedTokensBounded(t *testing.T) {
	r := newRefusedTokens()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	refused := errors.New("refused")
	digest := func(i int) [32]byte { return [32]byte{byte(i), byte(i >> 8)} }
	for i := range maxRefused + 10 {
		now = now.Add(time.Second) // the budget grows back faster than it is spent
		r.refused(digest(i), refused, now)
	}
	if len(r.until) != maxRefused || len(r.order) != maxRefused {
		t.Errorf("%d remembered (%d in order), want %d", len(r.until), len(r.order), maxRefused)
	}
	if err := r.check(digest(0), now); err != nil {
		t.Errorf("the oldest, pushed out: %v, want nil", err)
	}
	last := digest(maxRefused + 9)
	if err := r.check(last, now); !errors.Is(err, refused) {
		t.Errorf("the newest: %v, want the refusal", err)
	}
	if err := r.check(last, now.Add(refusedTTL)); err != nil || len(r.until) != 0 {
		t.Errorf("after refusedTTL: %v, %d remembered; want nil, 0", err, len(r.until))
	}
}

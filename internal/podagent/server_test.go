package podagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/server"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
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

// request is the text of a GET of path with the Host header hostHeader
// and, unless auth is "", the Authorization header auth.
func request(path, hostHeader, auth string) string {
	text := "GET " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\n"
	if auth != "" {
		text += "Authorization: " + auth + "\r\n"
	}
	return text + "\r\n"
}

// ask sends a GET of CredsPath with hostHeader and auth on a new
// connection to hostport, and returns the answer and its JSON document.
func ask(t *testing.T, hostport, hostHeader, auth string) (*http.Response, map[string]string) {
	t.Helper()
	text := request(CredsPath, hostHeader, auth)
	resp, _ := testenv.RawRequest(t, hostport, text)
	var doc map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("answer %s to %q is no JSON document: %v", resp.Status, text, err)
	}
	return resp, doc
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
			resp, doc := ask(t, host, tt.host, j)
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
	for _, tt := range []struct {
		name, text string
		status     int
	}{
		{"no token", request(CredsPath, host, ""), 401},
		{"refused by Vault", request(CredsPath, host, jwtFor("team-a", "app", c.now().Add(time.Hour), 2)), 401},
		{"wrong Host", request(CredsPath, "rebound.example", good), 403},
		{"unknown path", request("/v1/credentialz", host, good), 404},
		{"POST", "POST " + CredsPath + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: " + good + "\r\nContent-Length: 0\r\n\r\n", 405},
	} {
		t.Run(tt.name, func(t *testing.T) { testenv.RefusedAndClosed(t, host, tt.text, tt.status) })
	}
	t.Run("credentials", func(t *testing.T) {
		resp, doc := ask(t, host, host, good)
		if resp.StatusCode != 200 || resp.Close || doc["AccessKeyId"] == "" {
			t.Errorf("status %d, Connection: close %v, %v; want 200 with credentials on a connection kept alive", resp.StatusCode, resp.Close, doc)
		}
	})
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
	var conns testenv.ConnCounter
	var lns []net.Listener
	var hosts []string
	for range 2 {
		inner, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns, hosts = append(lns, conns.Listener(inner)), append(hosts, inner.Addr().String())
	}
	serveAgent(t, a, lns...)
	flood := testenv.Flood(t, hosts, idle, slow, "GET "+CredsPath+" HTTP/1.1\r\nHo")
	// The kernel hands over connections in the order they came: by the time
	// this one is answered, the agent has seen the whole flood on its
	// listener (the other's may lag, which the bound below allows for).
	resp, doc := ask(t, hosts[1], hosts[1], j)
	if resp.StatusCode != 200 || doc["AccessKeyId"] == "" {
		t.Fatalf("a pod's request during the flood: %d %v, want 200 with its credentials", resp.StatusCode, doc)
	}
	if peak := conns.Peak(); peak > limit+2 {
		t.Errorf("the agent held %d connections open at once, want at most %d (the limit, and one arriving on each listener)", peak, limit+2)
	}
	if open := a.conns.Open(); open > limit {
		t.Errorf("%d connections tracked as open, want at most %d", open, limit)
	}
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
	for i := range 3 {
		if resp, doc := ask(t, host, host, bad); resp.StatusCode != 401 || doc["code"] != "unauthorized" ||
			!strings.Contains(doc["message"], "error validating token") {
			t.Fatalf("request %d: %d %v, want 401 with Vault's reason", i, resp.StatusCode, doc)
		}
	}
	if logins, _ := v.counts(); logins != 1 {
		t.Errorf("3 requests with one refused token made %d logins, want 1", logins)
	}
	c.add(refusedTTL)
	v.valid[bad] = "entity-a" // now Vault takes it
	if resp, doc := ask(t, host, host, bad); resp.StatusCode != 200 {
		t.Errorf("after %s: %d %v, want 200 (Vault asked again)", refusedTTL, resp.StatusCode, doc)
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
	if resp, doc := ask(t, host, host, good); resp.StatusCode != 200 {
		t.Fatalf("good token: %d %v", resp.StatusCode, doc)
	}
	forged := func(i int) string { return jwtFor("team-z", fmt.Sprint("sa", i), c.now().Add(time.Hour), i) }
	for i := range failedLoginBurst {
		if resp, doc := ask(t, host, host, forged(i)); resp.StatusCode != 401 {
			t.Fatalf("forged token %d: %d %v, want 401", i, resp.StatusCode, doc)
		}
	}
	logins, _ := v.counts()
	resp, doc := ask(t, host, host, forged(failedLoginBurst))
	if resp.StatusCode != 429 || doc["code"] != "throttled" || resp.Header.Get("Retry-After") == "" || !resp.Close {
		t.Errorf("one more new token: %d %v (Retry-After %q, close %v), want 429 throttled with Retry-After, closed",
			resp.StatusCode, doc, resp.Header.Get("Retry-After"), resp.Close)
	}
	if now, _ := v.counts(); now != logins {
		t.Errorf("the throttled token made %d logins, want 0", now-logins)
	}
	if resp, doc := ask(t, host, host, good); resp.StatusCode != 200 {
		t.Errorf("a token verified before, while throttled: %d %v, want 200", resp.StatusCode, doc)
	}
	c.add(time.Second) // failedLoginRate more may be tried
	for i := range failedLoginRate {
		if resp, _ := ask(t, host, host, forged(100+i)); resp.StatusCode != 401 {
			t.Errorf("after a second, new token %d: %d, want 401 (tried at Vault)", i, resp.StatusCode)
		}
	}
	if resp, _ := ask(t, host, host, forged(200)); resp.StatusCode != 429 {
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

// TestRefusalOutlivedBehindAnother: a token refused twice (two logins of
// it at once) keeps its first place in the order, so a token refused after
// it stays in the map past its time while the first blocks the expiry; it
// is tried at Vault again all the same once its time is up.
func TestRefusalOutlivedBehindAnother(t *testing.T) {
	r := newRefusedTokens()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	refused := errors.New("refused")
	first, second := [32]byte{1}, [32]byte{2}
	r.refused(first, refused, now)
	r.refused(second, refused, now.Add(time.Second))
	r.refused(first, refused, now.Add(20*time.Second)) // remembered again, until now+50s
	later := now.Add(refusedTTL + 5*time.Second)       // second's time is up, first's is not
	if err := r.check(second, later); err != nil {
		t.Errorf("a refusal past its time: %v, want nil (try Vault again)", err)
	}
	if err := r.check(first, later); !errors.Is(err, refused) {
		t.Errorf("a refusal still in its time: %v, want the refusal", err)
	}
}

// TestPastMaxIdentitiesRemembered: a token whose identity does not fit
// under max_identities gets 503 again without another login (and its
// revocation) for as long as a refusal is remembered, and without
// spending the budget of refused logins; after that Vault is asked again.
func TestPastMaxIdentitiesRemembered(t *testing.T) {
	a, v, c := newTestAgent(t, strings.Replace(testConfig, "max_identities = 10", "max_identities = 1", 1))
	ok := jwtFor("team-a", "app", c.now().Add(time.Hour), 1)
	other := jwtFor("team-b", "app", c.now().Add(time.Hour), 2)
	v.valid[ok], v.valid[other] = "entity-a", "entity-b"
	host := serveAgent(t, a)
	if resp, doc := ask(t, host, host, ok); resp.StatusCode != 200 {
		t.Fatalf("first identity: %d %v", resp.StatusCode, doc)
	}
	for i := range 3 {
		if resp, doc := ask(t, host, host, other); resp.StatusCode != 503 || doc["code"] != "too_many_identities" {
			t.Fatalf("request %d past max_identities: %d %v, want 503 too_many_identities", i, resp.StatusCode, doc)
		}
	}
	if logins, _ := v.counts(); logins != 2 {
		t.Errorf("3 requests past max_identities made %d logins in all, want 2 (one for each identity)", logins)
	}
	if a.refused.budget != failedLoginBurst {
		t.Errorf("budget of refused logins %v, want %v: the agent refused, not Vault", a.refused.budget, failedLoginBurst)
	}
	c.add(refusedTTL)
	ask(t, host, host, other)
	if logins, _ := v.counts(); logins != 3 {
		t.Errorf("after %s: %d logins, want 3 (Vault asked again)", refusedTTL, logins)
	}
}

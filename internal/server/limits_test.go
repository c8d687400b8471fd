package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// The bounds of the server against clients without the token: every
// refusal closes its connection, the open connections are bounded while a
// valid request is still served, refusals are logged at a bounded rate,
// and a blocked log delays no request.

// TestRefusalClosesConnection: every refusal says Connection: close and
// the server closes the connection after it (before, a 401 held it open
// for the idle timeout); an answer with credentials keeps it alive.
func TestRefusalClosesConnection(t *testing.T) {
	f := newFixture(t, true, newFetch(time.Hour))
	down := newFetch(time.Hour)
	down.err = errors.New("permission denied")
	fdown := newFixture(t, false, down)
	tests := []struct {
		name, host, head string
		status           int
	}{
		{"no token", f.host, "GET /creds/dev HTTP/1.1\r\nHost: " + f.host + "\r\n", 401},
		{"wrong Host", f.host, "GET /creds/dev HTTP/1.1\r\nHost: rebound.example\r\nAuthorization: " + f.srv.Token() + "\r\n", 403},
		{"unknown profile", f.host, "GET /creds/prod HTTP/1.1\r\nHost: " + f.host + "\r\nAuthorization: " + f.srv.Token() + "\r\n", 404},
		{"POST", f.host, "POST /creds/dev HTTP/1.1\r\nHost: " + f.host + "\r\nAuthorization: " + f.srv.Token() + "\r\nContent-Length: 0\r\n", 405},
		{"IMDS without a session token", f.host, "GET /latest/meta-data/iam/security-credentials/dev HTTP/1.1\r\nHost: " + f.host + "\r\n", 401},
		{"nothing valid", fdown.host, "GET /creds/dev HTTP/1.1\r\nHost: " + fdown.host + "\r\nAuthorization: " + fdown.srv.Token() + "\r\n", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testenv.RefusedAndClosed(t, tt.host, tt.head+"\r\n", tt.status) })
	}
	t.Run("credentials", func(t *testing.T) {
		resp, _ := testenv.RawRequest(t, f.host, "GET /creds/dev HTTP/1.1\r\nHost: "+f.host+"\r\nAuthorization: "+f.srv.Token()+"\r\n\r\n")
		if resp.StatusCode != 200 || resp.Close {
			t.Errorf("status %d, Connection: close %v; want 200 on a connection kept alive", resp.StatusCode, resp.Close)
		}
	})
}

// serving runs f's server with Serve on a listener counting its
// connections until the test ends, and returns the counter.
func (f *fixture) serving(t *testing.T) *testenv.ConnCounter {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n testenv.ConnCounter
	ln := n.Listener(inner)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	f.host = inner.Addr().String()
	f.url = "http://" + f.host
	t.Cleanup(func() {
		cancel()
		if err := testenv.WaitFor(t, done, "the server's shutdown"); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &n
}

// TestConnectionFlood: a flood of connections without the token (idle
// ones, and slow ones sending their headers a byte at a time) holds no
// more than the limit open on the server, and a valid request made while
// they are all open is answered with the credentials.
func TestConnectionFlood(t *testing.T) {
	const limit, idle, slow = 16, 200, 50
	f := newFixture(t, false, newFetch(time.Hour))
	f.srv.conns = newConnLimit(limit)
	conns := f.serving(t)
	// A slow client sends the start of its headers, and no more.
	flood := testenv.Flood(t, []string{f.host}, idle, slow, "GET /creds/dev HTTP/1.1\r\nHo")
	// The kernel hands the server connections in the order they came: by the
	// time this one is answered, the server has seen the whole flood.
	status, doc, _ := f.get(t, "GET", "/creds/dev", f.auth())
	if status != 200 || doc["AccessKeyId"] != keyID(1) {
		t.Fatalf("a valid request during the flood: %d %v, want 200 with the credentials", status, doc)
	}
	if peak := conns.Peak(); peak > limit+1 {
		t.Errorf("the server held %d connections open at once, want at most %d (the limit, and the one arriving)", peak, limit+1)
	}
	if open := f.srv.conns.open(); open > limit {
		t.Errorf("%d connections tracked as open, want at most %d", open, limit)
	}
	// A flood connection was closed by the server: it reads the end at once.
	if n, err := flood[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the oldest flood connection: read %d bytes, %v; want it closed by the server", n, err)
	}
	if !f.srv.endPeriod(false, summaryInterval) {
		t.Error("the period of the flood is not reported as one")
	}
	if log := f.logText(); !strings.Contains(log, fmt.Sprintf("connections closed unanswered in the last 10s, to keep at most %d open", limit)) {
		t.Errorf("no summary of the connections closed in the log:\n%s", log)
	}
}

// TestMemoryAfterFlood: in the first period without a flood after one
// with, the server gives memory back to the system, once.
func TestMemoryAfterFlood(t *testing.T) {
	f := newFixture(t, false, newFetch(time.Hour))
	freed := 0
	f.srv.freeOSMemory = func() { freed++ }
	f.srv.conns.evicted = 3 // a flood in this period
	flooded := f.srv.endPeriod(false, summaryInterval)
	if !flooded || freed != 0 {
		t.Fatalf("during the flood: flooded %v, freed %d times; want true, 0", flooded, freed)
	}
	flooded = f.srv.endPeriod(flooded, summaryInterval)
	if flooded || freed != 1 {
		t.Fatalf("after the flood: flooded %v, freed %d times; want false, 1", flooded, freed)
	}
	if f.srv.endPeriod(flooded, summaryInterval); freed != 1 {
		t.Errorf("a quiet period freed memory again (%d times)", freed)
	}
}

// TestRefusalLogRateLimited: a stream of refused requests gets a line each
// up to refusalBurst a second, then one summary line with their number by
// reason; the next second logs again.
func TestRefusalLogRateLimited(t *testing.T) {
	const n = 60
	f := newFixture(t, false, newFetch(time.Hour))
	for i := range n {
		headers := map[string]string(nil)
		if i%3 == 0 {
			headers = map[string]string{"Authorization": f.srv.Token(), "Host": "rebound.example"}
		}
		if status, _, _ := f.get(t, "GET", "/creds/dev", headers); status != 401 && status != 403 {
			t.Fatalf("request %d: status %d", i, status)
		}
	}
	f.clock.set(t0.Add(10 * time.Second))
	f.srv.endPeriod(false, summaryInterval)
	log := f.logText()
	if got := strings.Count(log, " status=40"); got != refusalBurst {
		t.Errorf("%d refusal lines for %d refusals within a second, want %d:\n%s", got, n, refusalBurst, log)
	}
	want := fmt.Sprintf("%d refused requests in the last 10s not logged one by one (more than %d a second): unauthorized=", n-refusalBurst, refusalBurst)
	if !strings.Contains(log, want) || !strings.Contains(log, " wrong_host=") {
		t.Errorf("no summary line %q... with both reasons in:\n%s", want, log)
	}
	before := strings.Count(log, " status=401")
	if status, _, _ := f.get(t, "GET", "/creds/dev", nil); status != 401 {
		t.Fatalf("status %d", status)
	}
	if got := strings.Count(f.logText(), " status=401"); got != before+1 {
		t.Errorf("a refusal in the next second: %d lines of 401, want %d", got, before+1)
	}
}

// gateWriter is a log whose writes block while the gate is held: stderr
// on a terminal scrolled back, a pipe nobody reads.
type gateWriter struct {
	gate sync.Mutex
	buf  testenv.Buffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.gate.Lock()
	defer g.gate.Unlock()
	return g.buf.Write(p)
}

// TestBlockedLog: requests are answered while the log cannot be written;
// the lines past the queue's bound are dropped and their number said.
func TestBlockedLog(t *testing.T) {
	const queue, requests = 4, 20
	fetch := newFetch(time.Hour)
	log := &gateWriter{}
	srv, err := New(Options{Profiles: []Profile{{Name: "dev", Fetch: fetch.fetch, Policy: cache.Policy{RefreshWindow: 15 * time.Minute}}},
		Now: fetch.clock.now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.logq = newAsyncLog(queue)
	ts := httptest.NewUnstartedServer(nil)
	ts.Config.Handler = srv.handler(ts.Listener.Addr().String())
	ts.Start()
	defer ts.Close()
	client := &http.Client{Timeout: time.Minute} // a guard against a hung test
	log.gate.Lock()
	for i := range requests {
		req := testenv.Request(t, context.Background(), "GET", ts.URL+"/creds/dev", map[string]string{"Authorization": srv.Token()})
		resp, err := client.Do(req)
		if err != nil {
			log.gate.Unlock()
			t.Fatalf("request %d with the log blocked: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("request %d: status %d", i, resp.StatusCode)
		}
	}
	log.gate.Unlock()
	srv.flushLog()
	text := log.buf.String()
	written := strings.Count(text, " status=200")
	var dropped int
	for _, l := range strings.Split(text, "\n") {
		if _, rest, ok := strings.Cut(l, prefix); ok && strings.HasSuffix(rest, " log lines dropped: stderr did not keep up") {
			fmt.Sscanf(rest, "%d", &dropped)
		}
	}
	if dropped == 0 || written+dropped != requests {
		t.Errorf("%d access lines written and %d said dropped, want some dropped and %d in all:\n%s", written, dropped, requests, text)
	}
}

// TestForwardedFor: IMDS refuses a request that carries X-Forwarded-For at
// all: empty, or an empty one first and a real one second (Header.Get
// reads only the first).
func TestForwardedFor(t *testing.T) {
	f := newFixture(t, true, newFetch(time.Hour))
	_, doc, _ := f.get(t, "PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"})
	tok, _ := doc["text"].(string)
	creds := "GET /latest/meta-data/iam/security-credentials/dev HTTP/1.1\r\nHost: " + f.host + "\r\nX-aws-ec2-metadata-token: " + tok + "\r\n"
	token := "PUT /latest/api/token HTTP/1.1\r\nHost: " + f.host + "\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 0\r\n"
	tests := []struct{ name, head, xff string }{
		{"empty, then a real one", creds, "X-Forwarded-For: \r\nX-Forwarded-For: 203.0.113.9\r\n"},
		{"empty alone", creds, "X-Forwarded-For:\r\n"},
		{"two real ones", creds, "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.7\r\n"},
		{"in lower case", creds, "x-forwarded-for: \r\n"},
		{"token: empty, then a real one", token, "X-Forwarded-For: \r\nX-Forwarded-For: 203.0.113.9\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := testenv.RawRequest(t, f.host, tt.head+tt.xff+"\r\n")
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 403 || strings.Contains(string(body), "AccessKeyId") {
				t.Errorf("status %d %s, want 403", resp.StatusCode, body)
			}
		})
	}
	if resp, _ := testenv.RawRequest(t, f.host, creds+"\r\n"); resp.StatusCode != 200 {
		t.Errorf("without the header: %d, want 200", resp.StatusCode)
	}
}

// TestIMDSRoleListWithoutSlash: .../security-credentials answers the role
// list, as .../security-credentials/ does (and EC2).
func TestIMDSRoleListWithoutSlash(t *testing.T) {
	f := newFixture(t, true, newFetch(time.Hour))
	_, doc, _ := f.get(t, "PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"})
	withTok := map[string]string{"X-aws-ec2-metadata-token": doc["text"].(string)}
	for _, path := range []string{"/latest/meta-data/iam/security-credentials", "/latest/meta-data/iam/security-credentials/"} {
		if status, doc, _ := f.get(t, "GET", path, withTok); status != 200 || doc["text"] != "dev" {
			t.Errorf("%s: %d %v, want 200 with the role list", path, status, doc)
		}
	}
	if status, _, _ := f.get(t, "GET", "/latest/meta-data/iam/security-credential", withTok); status != 404 {
		t.Errorf("a shorter path: %d, want 404", status)
	}
}

// TestHostNames: a loopback listener answers Host localhost:PORT too (no
// page can rebind localhost); other names, and localhost for an address
// that is not loopback, stay refused.
func TestHostNames(t *testing.T) {
	f := newFixture(t, true, newFetch(time.Hour))
	for _, host := range []string{"localhost:" + port(f.host), f.host} {
		headers := map[string]string{"Authorization": f.srv.Token(), "Host": host}
		if status, doc, _ := f.get(t, "GET", "/creds/dev", headers); status != 200 || doc["AccessKeyId"] != keyID(1) {
			t.Errorf("Host %s: %d %v, want 200 with the credentials", host, status, doc)
		}
		if status, _, _ := f.get(t, "PUT", "/latest/api/token", map[string]string{"Host": host, "X-aws-ec2-metadata-token-ttl-seconds": "60"}); status != 200 {
			t.Errorf("IMDS token with Host %s: %d, want 200", host, status)
		}
	}
	tests := []struct {
		addr, host string
		want       bool
	}{
		{"127.0.0.1:9911", "localhost:9911", true},
		{"127.0.0.1:9911", "localhost", false},
		{"127.0.0.1:9911", "localhost:9912", false},
		{"127.0.0.1:9911", "localhost.:9911", false},
		{"127.0.0.1:9911", "sub.localhost:9911", false},
		{"127.0.0.1:80", "localhost", true},
		{"[::1]:9911", "localhost:9911", true},
		{"[::1]:9911", "[::1]:9911", true},
		{"[::1]:80", "[::1]", true},
		{"169.254.170.2:9911", "169.254.170.2:9911", true},
		{"169.254.170.2:9911", "localhost:9911", false},
		{"192.0.2.7:9911", "localhost:9911", false},
	}
	for _, tt := range tests {
		if got := allowedHosts(tt.addr)[tt.host]; got != tt.want {
			t.Errorf("listening on %s, Host %s allowed: %v, want %v", tt.addr, tt.host, got, tt.want)
		}
	}
}

// TestWarmTriesEveryProfile: Warm goes on past a failing profile and says
// every failure, each with its profile's name; one profile's failure is its
// error as it was.
func TestWarmTriesEveryProfile(t *testing.T) {
	refused, down := errors.New("permission denied"), &url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: errors.New("connection refused")}
	a, b, c := newFetch(time.Hour), newFetch(time.Hour), newFetch(time.Hour)
	a.err, c.err = refused, down
	srv, err := New(Options{Profiles: []Profile{{Name: "a", Fetch: a.fetch}, {Name: "b", Fetch: b.fetch}, {Name: "c", Fetch: c.fetch}}, Now: a.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Warm(context.Background())
	var we *WarmError
	if !errors.As(err, &we) || len(we.Failures) != 2 || we.Failures[0].Name != "a" || we.Failures[1].Name != "c" {
		t.Fatalf("Warm: %v, want the failures of a and c", err)
	}
	if b.n != 1 {
		t.Errorf("profile b fetched %d times, want 1", b.n)
	}
	if !errors.Is(err, refused) || !errors.Is(err, down) {
		t.Errorf("%v does not wrap both failures", err)
	}
	if want := "profile a: permission denied; profile c: Get \"http://127.0.0.1:1\": connection refused"; err.Error() != want {
		t.Errorf("Warm: %q, want %q", err, want)
	}
	one, err := New(Options{Profiles: []Profile{{Name: "a", Fetch: a.fetch}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := one.Warm(context.Background()); err == nil || err.Error() != "permission denied" {
		t.Errorf("one profile: %v, want its error as it was", err)
	}
}

// TestUnavailableSays: the 503 says what the last refresh met, in words
// (not the error itself): Vault down, a refusal, a revocation.
func TestUnavailableSays(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Vault down", &url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: errors.New("connection refused")}, "Vault could not be reached"},
		{"Vault refused", &process.Error{Code: 1, Msg: "Vault refused: permission denied"}, "the last refresh failed"},
		{"revoked", fmt.Errorf("renew: %w", process.ErrRevoked), "Vault revoked them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fetch := newFetch(time.Hour)
			fetch.err = tt.err
			f := newFixture(t, false, fetch)
			status, doc, _ := f.get(t, "GET", "/creds/dev", f.auth())
			msg, _ := doc["message"].(string)
			if status != 503 || !strings.Contains(msg, tt.want) || !strings.Contains(msg, "see the server's log") {
				t.Errorf("%d %q, want 503 saying %q", status, msg, tt.want)
			}
		})
	}
}

func TestCheckListenAddr(t *testing.T) {
	tests := []struct {
		addr string
		bad  bool
	}{
		{"0.0.0.0:0", true}, {":0", true}, {":9911", true}, {"[::]:9911", true}, {"[::]:0", true},
		{"[::ffff:0.0.0.0]:9911", true},
		{"127.0.0.1:0", false}, {"[::1]:9911", false}, {"169.254.170.2:9911", false}, {"localhost:9911", false},
	}
	for _, tt := range tests {
		err := CheckListenAddr(tt.addr)
		if (err != nil) != tt.bad || tt.bad && !errors.Is(err, errUnspecified) {
			t.Errorf("CheckListenAddr(%q) = %v, want refused: %v", tt.addr, err, tt.bad)
		}
	}
	if ln, err := Listen("0.0.0.0:0"); err == nil {
		ln.Close()
		t.Error("Listen on 0.0.0.0:0 succeeded")
	}
}

func TestRoundDuration(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{10*time.Second + 834014*time.Nanosecond, 10 * time.Second},
		{61*time.Microsecond + 400, 61 * time.Microsecond},
		{1234567 * time.Microsecond, 1200 * time.Millisecond},
		{15*time.Minute + 299*time.Millisecond, 15 * time.Minute},
		{2500 * time.Microsecond, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := roundDuration(tt.in); got != tt.want {
			t.Errorf("roundDuration(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	f := newFixture(t, false, newFetch(time.Hour))
	f.srv.errorf("waited %s for %v", 10*time.Second+834014*time.Nanosecond, 2*time.Minute+time.Nanosecond)
	if log := f.logText(); !strings.Contains(log, "waited 10s for 2m0s") {
		t.Errorf("durations in a log line not rounded:\n%s", log)
	}
}

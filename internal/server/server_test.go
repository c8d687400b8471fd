package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const (
	secretKey    = "s3cr3t-server-unit-test-key"
	sessionToken = "session-token-server-unit-test"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock for the server and its profiles.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fakeFetch hands out credentials numbered from 1, issued at the clock's
// time and valid for life, or fails with err while err is set. Each fetch
// is announced on fetched.
type fakeFetch struct {
	mu      sync.Mutex
	clock   *clock
	life    time.Duration
	session bool
	err     error
	n       int
	fetched chan int
	gate    chan struct{} // when set, each fetch waits for a value on it
}

func (f *fakeFetch) fetch(_ context.Context, _ bool) (*process.Credentials, process.CredentialSource, error) {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() {
		select {
		case f.fetched <- f.n:
		default:
		}
	}()
	if f.err != nil {
		return nil, "", f.err
	}
	f.n++
	now := f.clock.now()
	c := &process.Credentials{AccessKeyID: keyID(f.n), SecretAccessKey: secretKey, IssuedAt: now, Expiration: now.Add(f.life)}
	if f.session {
		c.SessionToken = sessionToken
	}
	return c, process.SourceVault, nil
}

func (f *fakeFetch) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func keyID(n int) string { return "AKIAUNIT" + strings.Repeat("X", n) }

// fixture is a warm server behind an httptest listener on loopback.
type fixture struct {
	srv   *Server
	url   string // base URL
	host  string // host:port
	clock *clock
	fetch *fakeFetch
	log   *testenv.Buffer
}

func newFixture(t *testing.T, imds bool, fetch *fakeFetch) *fixture {
	t.Helper()
	f := &fixture{clock: fetch.clock, fetch: fetch, log: &testenv.Buffer{}}
	var err error
	f.srv, err = New(Options{Profiles: []Profile{{Name: "dev", Fetch: fetch.fetch,
		Policy: cache.Policy{RefreshWindow: 15 * time.Minute, MinRemaining: 5 * time.Minute}}}, IMDS: imds, Now: f.clock.now, Log: f.log})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Warm(context.Background()); err != nil && fetch.err == nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	f.host = ts.Listener.Addr().String()
	ts.Config.Handler = f.srv.handler(f.host)
	ts.Start()
	t.Cleanup(ts.Close)
	f.url = ts.URL
	t.Cleanup(func() {
		if log := f.logText(); strings.Contains(log, secretKey) || strings.Contains(log, sessionToken) ||
			strings.Contains(log, f.srv.Token()) {
			t.Errorf("the log holds a secret:\n%s", log)
		}
	})
	return f
}

// logText is the server's log so far, once the lines queued are written.
func (f *fixture) logText() string {
	f.srv.flushLog()
	return f.log.String()
}

func newFetch(life time.Duration) *fakeFetch {
	return &fakeFetch{clock: &clock{t: t0}, life: life, fetched: make(chan int, 16)}
}

// get asks path with the headers given (Host overrides the Host header).
func (f *fixture) get(t *testing.T, method, path string, headers map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req := testenv.Request(t, context.Background(), method, f.url+path, headers)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if resp.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, path, body)
		}
	} else {
		doc = map[string]any{"text": string(body)}
	}
	return resp.StatusCode, doc, resp.Header
}

func (f *fixture) auth() map[string]string { return map[string]string{"Authorization": f.srv.Token()} }

func TestRefusals(t *testing.T) {
	f := newFixture(t, false, newFetch(time.Hour))
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		status  int
		code    string
	}{
		{"no token", "GET", "/creds/dev", nil, 401, "unauthorized"},
		{"wrong token", "GET", "/creds/dev", map[string]string{"Authorization": "wrong"}, 401, "unauthorized"},
		{"token with a suffix", "GET", "/creds/dev", map[string]string{"Authorization": f.srv.Token() + "x"}, 401, "unauthorized"},
		{"Bearer token", "GET", "/creds/dev", map[string]string{"Authorization": "Bearer " + f.srv.Token()}, 401, "unauthorized"},
		{"wrong Host (DNS rebinding)", "GET", "/creds/dev", map[string]string{"Authorization": f.srv.Token(), "Host": "evil.example:" + port(f.host)}, 403, "wrong_host"},
		{"localhost without the port", "GET", "/creds/dev", map[string]string{"Authorization": f.srv.Token(), "Host": "localhost"}, 403, "wrong_host"},
		{"unknown profile", "GET", "/creds/prod", f.auth(), 404, "not_found"},
		{"no profile", "GET", "/", f.auth(), 404, "not_found"},
		{"POST", "POST", "/creds/dev", f.auth(), 405, "method"},
		{"IMDS path without --imds", "GET", "/latest/meta-data/iam/security-credentials/", nil, 401, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, doc, _ := f.get(t, tt.method, tt.path, tt.headers)
			if status != tt.status || doc["code"] != tt.code {
				t.Errorf("status %d, %v; want %d with code %q", status, doc, tt.status, tt.code)
			}
			if _, ok := doc["AccessKeyId"]; ok {
				t.Errorf("a refusal carries credentials: %v", doc)
			}
		})
	}
}

func port(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

func TestServesCredentials(t *testing.T) {
	for _, session := range []bool{true, false} {
		fetch := newFetch(time.Hour)
		fetch.session = session
		f := newFixture(t, false, fetch)
		status, doc, hdr := f.get(t, "GET", "/creds/dev", f.auth())
		if status != 200 {
			t.Fatalf("status %d: %v", status, doc)
		}
		want := map[string]any{"AccessKeyId": keyID(1), "SecretAccessKey": secretKey, "Token": "",
			"Expiration": t0.Add(time.Hour).Format(time.RFC3339)}
		if session {
			want["Token"] = sessionToken
		}
		if len(doc) != len(want) {
			t.Errorf("document %v, want the fields of %v", doc, want)
		}
		for k, v := range want {
			if doc[k] != v {
				t.Errorf("%s = %v, want %v", k, doc[k], v)
			}
		}
		if hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", hdr.Get("Cache-Control"))
		}
		lines := strings.Split(strings.TrimSpace(f.logText()), "\n")
		last := lines[len(lines)-1]
		for _, part := range []string{"GET", `"/creds/dev"`, "profile=dev", "status=200", "from=memory (vault)", "latency="} {
			if !strings.Contains(last, part) {
				t.Errorf("access log line %q lacks %q", last, part)
			}
		}
	}
}

// TestNothingValid: a failed start, or credentials that expired while Vault
// was down, make 503 with a JSON error, never 200.
func TestNothingValid(t *testing.T) {
	t.Run("never fetched", func(t *testing.T) {
		fetch := newFetch(time.Hour)
		fetch.err = errors.New("Vault answered 503")
		f := newFixture(t, false, fetch)
		status, doc, hdr := f.get(t, "GET", "/creds/dev", f.auth())
		if status != 503 || doc["code"] != "unavailable" || hdr.Get("Retry-After") == "" {
			t.Errorf("status %d %v, want 503 unavailable with Retry-After", status, doc)
		}
	})
	t.Run("outage grace, then expired", func(t *testing.T) {
		f := newFixture(t, false, newFetch(time.Hour))
		f.fetch.fail(errors.New("connection refused"))
		f.clock.set(t0.Add(50 * time.Minute)) // stale, 10 minutes left: served
		if status, doc, _ := f.get(t, "GET", "/creds/dev", f.auth()); status != 200 || doc["AccessKeyId"] != keyID(1) {
			t.Errorf("in the grace: %d %v, want 200 with the credentials in memory", status, doc)
		}
		f.clock.set(t0.Add(56 * time.Minute)) // 4 minutes left, below min_remaining
		if status, doc, _ := f.get(t, "GET", "/creds/dev", f.auth()); status != 503 || doc["code"] != "unavailable" {
			t.Errorf("below min_remaining: %d %v, want 503", status, doc)
		}
		f.clock.set(t0.Add(2 * time.Hour))
		if status, _, _ := f.get(t, "GET", "/creds/dev", f.auth()); status != 503 {
			t.Errorf("expired: %d, want 503", status)
		}
	})
}

// TestBackgroundRefresh: due credentials are refreshed by the refresher, not
// by the request, which is served from memory meanwhile.
func TestBackgroundRefresh(t *testing.T) {
	fetch := newFetch(time.Hour)
	f := newFixture(t, false, fetch)
	<-fetch.fetched // the warm-up
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	fetch.mu.Lock()
	fetch.gate = gate // the refresh hangs until the request has been answered
	fetch.mu.Unlock()
	f.clock.set(t0.Add(50 * time.Minute)) // inside the 15-minute window
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()

	if status, doc, _ := f.get(t, "GET", "/creds/dev", f.auth()); status != 200 || doc["AccessKeyId"] != keyID(1) {
		t.Errorf("due: %d %v, want the credentials in memory at once", status, doc)
	}
	gate <- struct{}{}
	if n := <-fetch.fetched; n != 2 {
		t.Fatalf("refresh %d, want 2", n)
	}
	if status, doc, _ := f.get(t, "GET", "/creds/dev", f.auth()); status != 200 || doc["AccessKeyId"] != keyID(2) {
		t.Errorf("after the refresh: %d %v, want the new credentials", status, doc)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after shutdown: %v", err)
	}
}

func TestDueIn(t *testing.T) {
	fetch := newFetch(time.Hour)
	f := newFixture(t, false, fetch)
	p := f.srv.profiles[0]
	if d := p.dueIn(t0); d != 45*time.Minute {
		t.Errorf("an hour's credentials are due in %s, want 45m", d)
	}
	fetch.life = 10 * time.Minute
	fetch.fail(nil)
	if err := p.refresh(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if d := p.dueIn(t0); d != 5*time.Minute {
		t.Errorf("ten minutes' credentials are due in %s, want 5m (half their life)", d)
	}
	fetch.fail(errors.New("down"))
	f.clock.set(t0.Add(6 * time.Minute))
	for i, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		_ = p.refresh(context.Background(), false)
		if d := p.dueIn(f.clock.now()); d != want {
			t.Errorf("after %d failures due in %s, want %s", i+1, d, want)
		}
	}
}

// TestRunner puts the real core behind the server: process.Runner with a
// fake Source and a cache folder. The warm-up mints; a second server on the
// same cache starts from the disk entry without asking the Source.
func TestRunner(t *testing.T) {
	dir := t.TempDir()
	src := &countingSource{}
	fetch := func(ctx context.Context, interactive bool) (*process.Credentials, process.CredentialSource, error) {
		r := &process.Runner{Settings: &config.Settings{Address: "http://127.0.0.1:1", Mount: "aws", Role: "dev",
			CacheDir: dir, RefreshWindow: 15 * time.Minute, MinRemaining: 5 * time.Minute, Timeout: time.Second},
			Now: time.Now, Debugf: func(string, ...any) {}, Warnf: func(string, ...any) {},
			NewSource: func(context.Context) (process.Source, error) { return src, nil }}
		return r.Credentials(ctx)
	}
	var origins []process.CredentialSource
	for range 2 {
		s, err := New(Options{Profiles: []Profile{{Name: "dev", Fetch: fetch, Policy: cache.Policy{RefreshWindow: 15 * time.Minute, MinRemaining: 5 * time.Minute}}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Warm(context.Background()); err != nil {
			t.Fatal(err)
		}
		h, ok := s.profiles[0].get()
		if !ok {
			t.Fatal("nothing to serve after Warm")
		}
		origins = append(origins, h.source)
	}
	if src.fetches != 1 || origins[0] != process.SourceVault || origins[1] != process.SourceCache {
		t.Errorf("fetches %d, origins %v; want 1 fetch, vault then cache", src.fetches, origins)
	}
}

type countingSource struct{ fetches int }

func (c *countingSource) Fetch(context.Context, process.Request) (*process.Credentials, error) {
	c.fetches++
	now := time.Now()
	return &process.Credentials{AccessKeyID: "AKIARUNNER", SecretAccessKey: secretKey, IssuedAt: now, Expiration: now.Add(time.Hour)}, nil
}

func (c *countingSource) Renew(context.Context, string, time.Duration, string) (time.Time, error) {
	return time.Time{}, errors.New("no renewal")
}

func TestIMDS(t *testing.T) {
	fetch := newFetch(time.Hour)
	fetch.session = true
	f := newFixture(t, true, fetch)
	ttl := map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"}
	status, doc, _ := f.get(t, "PUT", "/latest/api/token", ttl)
	tok, _ := doc["text"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("token: %d %v", status, doc)
	}
	withTok := map[string]string{"X-aws-ec2-metadata-token": tok}
	refusals := []struct {
		name, method, path string
		headers            map[string]string
		status             int
	}{
		{"token without TTL", "PUT", "/latest/api/token", nil, 400},
		{"token with TTL 0", "PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "0"}, 400},
		{"token with X-Forwarded-For", "PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.1"}, 403},
		{"GET token", "GET", "/latest/api/token", ttl, 405},
		{"no session token", "GET", "/latest/meta-data/iam/security-credentials/dev", nil, 401},
		{"forged session token", "GET", "/latest/meta-data/iam/security-credentials/dev", map[string]string{"X-aws-ec2-metadata-token": tok[:len(tok)-2] + "AA"}, 401},
		{"X-Forwarded-For", "GET", "/latest/meta-data/iam/security-credentials/dev", map[string]string{"X-aws-ec2-metadata-token": tok, "X-Forwarded-For": "10.0.0.1"}, 403},
		{"wrong Host", "GET", "/latest/meta-data/iam/security-credentials/dev", map[string]string{"X-aws-ec2-metadata-token": tok, "Host": "169.254.169.254"}, 403},
		{"other metadata", "GET", "/latest/meta-data/ami-id", withTok, 404},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if status, doc, _ := f.get(t, tt.method, tt.path, tt.headers); status != tt.status || doc["AccessKeyId"] != nil {
				t.Errorf("status %d %v, want %d", status, doc, tt.status)
			}
		})
	}
	if status, doc, _ := f.get(t, "GET", "/latest/meta-data/iam/security-credentials/", withTok); status != 200 || doc["text"] != "dev" {
		t.Errorf("role list: %d %v", status, doc)
	}
	status, doc, _ = f.get(t, "GET", "/latest/meta-data/iam/security-credentials/dev", withTok)
	if status != 200 || doc["Code"] != "Success" || doc["Type"] != "AWS-HMAC" || doc["AccessKeyId"] != keyID(1) ||
		doc["Token"] != sessionToken || doc["LastUpdated"] != t0.Format(time.RFC3339) {
		t.Errorf("credentials: %d %v", status, doc)
	}
	// The JS SDK v2 joins an endpoint that ends in a slash with /latest/...:
	// repeated slashes name the same paths.
	status, doc, _ = f.get(t, "PUT", "//latest/api/token", ttl)
	if tok2, _ := doc["text"].(string); status != 200 || !f.srv.imds.valid(tok2) {
		t.Errorf("token at //latest/api/token: %d %v", status, doc)
	}
	if status, doc, _ := f.get(t, "GET", "//latest/meta-data/iam/security-credentials/", withTok); status != 200 || doc["text"] != "dev" {
		t.Errorf("role list at //latest/...: %d %v", status, doc)
	}
	if status, doc, _ := f.get(t, "GET", "//latest//meta-data/iam///security-credentials/dev", withTok); status != 200 || doc["AccessKeyId"] != keyID(1) {
		t.Errorf("credentials at //latest//...: %d %v", status, doc)
	}
	f.clock.set(t0.Add(61 * time.Second))
	if status, _, _ := f.get(t, "GET", "/latest/meta-data/iam/security-credentials/dev", withTok); status != 401 {
		t.Errorf("expired session token: %d, want 401", status)
	}
}

func TestNewRefuses(t *testing.T) {
	fetch := newFetch(time.Hour).fetch
	for _, profiles := range [][]Profile{nil, {{Name: "a/b", Fetch: fetch}}, {{Name: "a", Fetch: fetch}, {Name: "a", Fetch: fetch}}} {
		if _, err := New(Options{Profiles: profiles}); err == nil {
			t.Errorf("New(%v) succeeded", profiles)
		}
	}
}

// TestSessionlessWarning: a client known to refuse credentials without a
// session token (the JS SDK v2, by its User-Agent) that is served such
// credentials gets them, and the log says once why it will fail; other
// clients, and credentials with a session token, make no warning.
func TestSessionlessWarning(t *testing.T) {
	const jsv2, cli = "aws-sdk-nodejs/2.1200.0 linux/v20.20.2", "aws-cli/2.9.19 Python/3.11.2"
	tests := []struct {
		name     string
		session  bool
		agents   []string
		warnings int
	}{
		{"JS SDK v2, no session token", false, []string{cli, jsv2, jsv2}, 1},
		{"other clients, no session token", false, []string{cli, "", "aws-sdk-go/1.44.0"}, 0},
		{"JS SDK v2, a session token", true, []string{jsv2}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fetch := newFetch(time.Hour)
			fetch.session = tt.session
			f := newFixture(t, false, fetch)
			for _, ua := range tt.agents {
				h := f.auth()
				h["User-Agent"] = ua
				if status, doc, _ := f.get(t, "GET", "/creds/dev", h); status != 200 || doc["AccessKeyId"] != keyID(1) {
					t.Fatalf("%s: %d %v", ua, status, doc)
				}
			}
			log := f.logText()
			if got := strings.Count(log, "without a session token"); got != tt.warnings {
				t.Errorf("%d warnings, want %d:\n%s", got, tt.warnings, log)
			}
			if tt.warnings > 0 && !strings.Contains(log, `dev: warning: served credentials without a session token (iam_user and static ones have none) to "`+jsv2+`", the JS SDK v2, which refuses them`) {
				t.Errorf("the warning does not name the profile and the client:\n%s", log)
			}
		})
	}
}

// TestHealth: /healthz needs no token and says ready or not, and nothing
// else: 200 while every profile has credentials it may serve, 503 before
// the first ones and after they expired. Ready closes with the first
// credentials, also when they come from a background refresh.
func TestHealth(t *testing.T) {
	fetch := newFetch(time.Hour)
	fetch.err = errors.New("connection refused")
	f := newFixture(t, false, fetch)
	health := func(want int, wantStatus string) {
		t.Helper()
		req := testenv.Request(t, context.Background(), "GET", f.url+healthPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want || string(body) != `{"status":"`+wantStatus+`"}`+"\n" {
			t.Errorf("%s: %d %q, want %d with status %s and nothing else", healthPath, resp.StatusCode, body, want, wantStatus)
		}
		for _, secret := range []string{"AKIA", secretKey, sessionToken, f.srv.Token(), "dev"} {
			if strings.Contains(string(body), secret) || strings.Contains(fmt.Sprint(resp.Header), secret) {
				t.Errorf("%s tells %q", healthPath, secret)
			}
		}
	}
	health(503, "not_ready")
	select {
	case <-f.srv.Ready():
		t.Fatal("Ready closed before any credentials")
	default:
	}
	fetch.fail(nil)
	if err := f.srv.profiles[0].refresh(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	<-f.srv.Ready() // closed by the refresh, or the test hangs
	health(200, "ready")
	if status, _, _ := f.get(t, "POST", healthPath, nil); status != 405 {
		t.Errorf("POST %s: %d, want 405", healthPath, status)
	}
	if status, _, _ := f.get(t, "GET", healthPath, map[string]string{"Host": "rebound.example"}); status != 403 {
		t.Errorf("%s with a foreign Host: %d, want 403", healthPath, status)
	}
	f.clock.set(t0.Add(2 * time.Hour))
	health(503, "not_ready")
}

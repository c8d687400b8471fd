package podagent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVault accepts the JWTs it was told about, each as an entity, for
// the roles given; it counts logins, mints and revocations.
type fakeVault struct {
	mu                    sync.Mutex
	now                   func() time.Time
	valid                 map[string]string // jwt -> entity
	logins, mints, revoke int
	release               chan struct{} // logins wait for it, when set
	loginTTL, credsTTL    time.Duration
	n                     int
	// mintGate, when set, holds every mint until it gets a value;
	// minting counts the mints waiting there, peak the most at once.
	mintGate       chan struct{}
	minting, peak  int
	mintErr        error // when set, every mint fails with it
	mintingChanged chan int
}

func newFakeVault(now func() time.Time) *fakeVault {
	return &fakeVault{now: now, valid: map[string]string{}, loginTTL: time.Hour, credsTTL: time.Hour}
}

func (f *fakeVault) Login(ctx context.Context, mount, role, jwt string) (*Login, error) {
	if f.release != nil {
		<-f.release
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	entity, ok := f.valid[jwt]
	if !ok {
		return nil, &RefusedError{Status: 400, Reason: "error validating token", Login: true}
	}
	f.n++
	return &Login{Token: fmt.Sprintf("hvs.login-%d", f.n), EntityID: entity, Expiry: f.now().Add(f.loginTTL)}, nil
}

func (f *fakeVault) Mint(ctx context.Context, token, mount string, r *Rule) (*Credentials, error) {
	if f.mintGate != nil {
		f.mu.Lock()
		f.minting++
		f.peak = max(f.peak, f.minting)
		n := f.minting
		f.mu.Unlock()
		if f.mintingChanged != nil {
			f.mintingChanged <- n
		}
		<-f.mintGate
		f.mu.Lock()
		f.minting--
		f.mu.Unlock()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mints++
	if f.mintErr != nil {
		return nil, f.mintErr
	}
	now := f.now()
	return &Credentials{AccessKeyID: fmt.Sprintf("AKIA-%s-%d", r.AWSRole, f.mints), SecretAccessKey: "secret",
		SessionToken: "session", Issued: now, Expiry: now.Add(f.credsTTL)}, nil
}

func (f *fakeVault) Revoke(ctx context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoke++
	return nil
}

func (f *fakeVault) revoked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revoke
}

func (f *fakeVault) Healthy(ctx context.Context) error { return nil }

func (f *fakeVault) counts() (logins, mints int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins, f.mints
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// jwtFor is an unsigned-looking JWT for a pod (the fake Vault decides what
// it accepts); n makes replicas' tokens differ.
func jwtFor(ns, sa string, exp time.Time, n int) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(map[string]string{"alg": "RS256"}) + "." + enc(map[string]any{
		"iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:" + ns + ":" + sa, "aud": []string{"vcp"},
		"exp": exp.Unix(), "jti": n,
	}) + ".c2ln"
}

const testConfig = `
max_identities = 10
idle_timeout = "10m"
[[rule]]
namespace = "team-a"
service_account = "app"
auth_role = "a"
aws_role = "a"
[default]
auth_role = "pods"
aws_role = "pods"
`

func newTestAgent(t *testing.T, config string) (*Agent, *fakeVault, *clock) {
	t.Helper()
	cfg, err := parseConfig(config, "test")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	v := newFakeVault(c.now)
	return New(cfg, v, c.now, t.Logf), v, c
}

// TestOneLoginOneMintPerIdentity: 50 concurrent requests from 5
// identities make 5 logins and 5 mints, and each identity gets its own.
func TestOneLoginOneMintPerIdentity(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	v.release = make(chan struct{})
	var jwts []string
	for i := range 5 {
		j := jwtFor("ns", fmt.Sprintf("sa%d", i), c.now().Add(time.Hour), i)
		v.valid[j] = fmt.Sprintf("entity-%d", i)
		jwts = append(jwts, j)
	}
	var wg sync.WaitGroup
	keys := make([]string, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cr, err := a.Credentials(context.Background(), jwts[i%5])
			errs[i] = err
			if err == nil {
				keys[i] = cr.AccessKeyID
			}
		}()
	}
	close(v.release)
	wg.Wait()
	for i := range 50 {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if keys[i] != keys[i%5] {
			t.Errorf("request %d got %s, another of its identity %s", i, keys[i], keys[i%5])
		}
	}
	if logins, mints := v.counts(); logins != 5 || mints != 5 {
		t.Errorf("logins, mints = %d, %d; want 5, 5", logins, mints)
	}
	if keys[0] == keys[1] {
		t.Errorf("two identities got the same credentials %s", keys[0])
	}
}

// TestReplicasShareOneMint: two pods of one service account send two
// JWTs of one identity: each JWT is verified (two logins), the
// credentials are minted once, and the login not kept is revoked.
func TestReplicasShareOneMint(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	j1, j2 := jwtFor("team-a", "app", c.now().Add(time.Hour), 1), jwtFor("team-a", "app", c.now().Add(2*time.Hour), 2)
	v.valid[j1], v.valid[j2] = "entity-a", "entity-a"
	c1, err := a.Credentials(context.Background(), j1)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := a.Credentials(context.Background(), j2)
	if err != nil {
		t.Fatal(err)
	}
	if logins, mints := v.counts(); logins != 2 || mints != 1 || c1.AccessKeyID != c2.AccessKeyID {
		t.Errorf("logins %d, mints %d, keys %s %s; want 2, 1, the same key", logins, mints, c1.AccessKeyID, c2.AccessKeyID)
	}
	if a.identities() != 1 {
		t.Errorf("%d identities, want 1", a.identities())
	}
	if v.revoked() != 1 {
		t.Errorf("%d logins revoked, want 1 (the second, used for nothing)", v.revoked())
	}
}

// TestDropKeepsLeasesInUse: an idle identity whose credentials are still
// valid is dropped without revoking its login (that would revoke their
// lease: an iam_user key a pod may still hold); one whose credentials
// have expired has its login revoked.
func TestDropKeepsLeasesInUse(t *testing.T) {
	for _, tt := range []struct {
		name     string
		credsTTL time.Duration
		revoked  int
	}{
		{"credentials still valid", time.Hour, 0},
		{"credentials expired", 5 * time.Minute, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, v, c := newTestAgent(t, testConfig)
			v.credsTTL = tt.credsTTL
			j := jwtFor("team-a", "app", c.now().Add(3*time.Hour), 1)
			v.valid[j] = "entity-a"
			if _, err := a.Credentials(context.Background(), j); err != nil {
				t.Fatal(err)
			}
			c.add(11 * time.Minute)
			a.sweep()
			if a.identities() != 0 || v.revoked() != tt.revoked {
				t.Errorf("%d identities, %d revoked; want 0, %d", a.identities(), v.revoked(), tt.revoked)
			}
		})
	}
}

// TestForgedTokenOfKnownIdentity: a JWT naming a pod whose credentials are
// in memory, but which Vault refuses, is refused: the claims never select
// what is served.
func TestForgedTokenOfKnownIdentity(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	good := jwtFor("team-a", "app", c.now().Add(time.Hour), 1)
	v.valid[good] = "entity-a"
	if _, err := a.Credentials(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	forged := jwtFor("team-a", "app", c.now().Add(time.Hour), 1) + "x" // same claims, another signature
	_, err := a.Credentials(context.Background(), forged)
	var re *RefusedError
	if !errors.As(err, &re) || !re.Login {
		t.Fatalf("forged token: err = %v, want Vault's refusal", err)
	}
}

// TestHTTPRefusals: what is not a good token gets 401 with a JSON error;
// a pod no rule matches 403; past max_identities 503.
func TestHTTPRefusals(t *testing.T) {
	a, v, c := newTestAgent(t, strings.Replace(testConfig, "max_identities = 10", "max_identities = 1", 1)+"")
	ok := jwtFor("team-a", "app", c.now().Add(time.Hour), 1)
	other := jwtFor("team-b", "app", c.now().Add(time.Hour), 2)
	v.valid[ok], v.valid[other] = "entity-a", "entity-b"
	host := serveAgent(t, a)
	for _, tt := range []struct {
		name, auth string
		status     int
		code       string
	}{
		{"no token", "", 401, "unauthorized"},
		{"not a JWT", "hello", 401, "unauthorized"},
		{"expired", jwtFor("team-a", "app", c.now().Add(-time.Second), 3), 401, "unauthorized"},
		{"refused by Vault", jwtFor("team-a", "app", c.now().Add(time.Hour), 4), 401, "unauthorized"},
		{"too large", strings.Repeat("a", maxTokenBytes+1), 401, "unauthorized"},
		{"good", ok, 200, ""},
		{"good with Bearer", "Bearer " + ok, 200, ""},
		{"past max_identities", other, 503, "too_many_identities"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+host+CredsPath, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || doc["code"] != tt.code {
				t.Errorf("status %d code %q (%s), want %d %q", resp.StatusCode, doc["code"], doc["message"], tt.status, tt.code)
			}
			if tt.status == 200 && (doc["AccessKeyId"] == "" || doc["Token"] != "session" || doc["Expiration"] == "") {
				t.Errorf("document %v", doc)
			}
		})
	}
}

// TestNoRule: without a default, a pod no rule names gets ErrNoRule and
// Vault is not asked.
func TestNoRule(t *testing.T) {
	a, v, c := newTestAgent(t, "[[rule]]\nnamespace = \"team-a\"\nauth_role = \"a\"\naws_role = \"a\"\n")
	j := jwtFor("team-b", "app", c.now().Add(time.Hour), 1)
	v.valid[j] = "e"
	if _, err := a.Credentials(context.Background(), j); !errors.Is(err, ErrNoRule) {
		t.Errorf("err = %v, want ErrNoRule", err)
	}
	if logins, _ := v.counts(); logins != 0 {
		t.Errorf("%d logins, want 0", logins)
	}
}

// TestRefreshAheadAndIdle: credentials are served from memory for half
// their life; past it a request is still served them at once while they
// are refreshed in the background, and later requests get the new ones;
// an identity idle past idle_timeout is dropped (its login revoked), and
// comes back with a new login.
func TestRefreshAheadAndIdle(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	j := jwtFor("team-a", "app", c.now().Add(3*time.Hour), 1)
	v.valid[j] = "entity-a"
	get := func() string {
		t.Helper()
		cr, err := a.Credentials(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		return cr.AccessKeyID
	}
	first := get()
	c.add(29 * time.Minute)
	if got := get(); got != first {
		t.Errorf("at 29 min: %s, want the first %s", got, first)
	}
	c.add(2 * time.Minute)
	if got := get(); got != first {
		t.Errorf("at 31 min of 60, the request that finds them due: %s, want the first %s at once", got, first)
	}
	a.background.Wait()
	if got := get(); got == first {
		t.Errorf("after the background refresh: still %s, want new ones", got)
	}
	if logins, mints := v.counts(); logins != 1 || mints != 2 {
		t.Errorf("logins, mints = %d, %d; want 1, 2", logins, mints)
	}
	c.add(11 * time.Minute)
	a.sweep()
	if a.identities() != 0 {
		t.Fatalf("%d identities after idle_timeout, want 0", a.identities())
	}
	get()
	if logins, mints := v.counts(); logins != 2 || mints != 3 {
		t.Errorf("after the drop: logins, mints = %d, %d; want 2, 3", logins, mints)
	}
}

// TestLoginRenewedWithNewestJWT: when the login nears its end, the next
// refresh logs in again with the identity's JWT; once that JWT has expired
// too, the request is refused rather than served.
func TestLoginRenewedWithNewestJWT(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	v.loginTTL, v.credsTTL = 20*time.Minute, 20*time.Minute
	j := jwtFor("team-a", "app", c.now().Add(time.Hour), 1)
	v.valid[j] = "entity-a"
	if _, err := a.Credentials(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	c.add(19 * time.Minute) // login within loginMargin of its end; credentials due
	if _, err := a.Credentials(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	a.background.Wait()
	if logins, mints := v.counts(); logins != 2 || mints != 2 {
		t.Errorf("logins, mints = %d, %d; want 2, 2", logins, mints)
	}
	c.add(time.Hour)
	if _, err := a.Credentials(context.Background(), j); !errors.Is(err, ErrExpired) {
		t.Errorf("with the JWT expired: err = %v, want ErrExpired", err)
	}
}

func TestParseConfig(t *testing.T) {
	for _, tt := range []struct{ name, text, err string }{
		{"default only", "[default]\nauth_role = \"p\"\naws_role = \"p\"\n", ""},
		{"nothing", "", "no [[rule]] and no [default]"},
		{"rule without roles", "[[rule]]\nnamespace = \"a\"\n", "rule 1: auth_role and aws_role are required"},
		{"unknown key", "[default]\nauth_role = \"p\"\naws_role = \"p\"\nrole = \"x\"\n", "unknown key"},
		{"default with namespace", "[default]\nnamespace = \"a\"\nauth_role = \"p\"\naws_role = \"p\"\n", "takes no namespace"},
		{"bad duration", "idle_timeout = \"soon\"\n[default]\nauth_role = \"p\"\naws_role = \"p\"\n", "soon"},
		{"kubernetes", "method = \"kubernetes\"\n[default]\nauth_role = \"p\"\naws_role = \"p\"\n", ""},
		{"unknown method", "method = \"oidc\"\n[default]\nauth_role = \"p\"\naws_role = \"p\"\n", `method "oidc": want "jwt" or "kubernetes"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.text, "t.toml")
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

// TestConfigMethodMount: the auth mount is the method's name unless
// auth_mount says otherwise.
func TestConfigMethodMount(t *testing.T) {
	const rule = "[default]\nauth_role = \"p\"\naws_role = \"p\"\n"
	for _, tt := range []struct{ text, method, mount string }{
		{rule, "jwt", "jwt"},
		{"method = \"kubernetes\"\n" + rule, "kubernetes", "kubernetes"},
		{"method = \"kubernetes\"\nauth_mount = \"k8s-pods\"\n" + rule, "kubernetes", "k8s-pods"},
	} {
		c, err := parseConfig(tt.text, "t.toml")
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
		} else if c.Method != tt.method || c.AuthMount != tt.mount {
			t.Errorf("%q: method %q, mount %q; want %q, %q", tt.text, c.Method, c.AuthMount, tt.method, tt.mount)
		}
	}
}

func TestMatch(t *testing.T) {
	cfg, err := parseConfig(testConfig+"\n", "t")
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Match("team-a", "app"); r.AuthRole != "a" {
		t.Errorf("team-a/app: %s", r.AuthRole)
	}
	if r := cfg.Match("team-a", "other"); r.AuthRole != "pods" {
		t.Errorf("team-a/other: %s, want the default", r.AuthRole)
	}
}

// TestRefusalLogBounded: a peer without a valid token cannot make a log line
// per request: a few a second get one, the rest are counted into the
// summary the agent writes each minute.
func TestRefusalLogBounded(t *testing.T) {
	cfg, err := parseConfig(testConfig, "test")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	a := New(cfg, newFakeVault(c.now), c.now, logf)
	h := a.Handler("example.com:80") // httptest.NewRequest's Host
	for range 200 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", CredsPath, nil))
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", rec.Code)
		}
	}
	if len(lines) > 10 {
		t.Errorf("200 refusals in one second wrote %d log lines, want a few", len(lines))
	}
	if s := a.refusals.Summary(c.now(), "refused requests"); !strings.Contains(s, "unauthorized=") {
		t.Errorf("summary %q does not count the refusals", s)
	}
}

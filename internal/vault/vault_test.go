package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Secret values the fake Vault hands out or is given; none may appear in
// an error, a hint or the debug log.
const (
	testToken        = testenv.FakeToken
	testAccessKey    = testenv.FakeAccessKey
	testSecretKey    = testenv.FakeSecretKey
	testSessionToken = testenv.FakeSessionToken
)

// now is the injected clock: every Vault request is "sent" at this moment.
var now = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedNow() time.Time { return now }

// fastRetries makes retry waits short for the test's duration.
func fastRetries(t *testing.T) {
	t.Helper()
	oldMin, oldMax := minRetryWait, maxRetryWait
	minRetryWait, maxRetryWait = time.Millisecond, 4*time.Millisecond
	t.Cleanup(func() { minRetryWait, maxRetryWait = oldMin, oldMax })
}

// noSecrets fails the test if any secret appears in texts.
var noSecrets = testenv.NoSecrets

// errorTexts is what the user would see of err: its text and its hint.
func errorTexts(err error) []string {
	out := []string{err.Error()}
	var pe *process.Error
	if errors.As(err, &pe) {
		out = append(out, pe.Hint)
	}
	return out
}

// debugLog collects --debug lines.
type debugLog = testenv.DebugLog

// request is what the fake Vault received.
type request struct {
	Method, Path, Token, Namespace string
	Body                           map[string]any
}

// fakeAccessor is the accessor of the fake Vault's token.
const fakeAccessor = "fakeAccessorOfTheToken"

// fakeVault is an httptest server standing in for Vault. respond answers
// the n-th request (counting from 1).
type fakeVault struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
	// lookups counts auth/token/lookup-self requests, which are answered with
	// tokenTTL (seconds; 0: a token that never expires) and not kept in reqs.
	lookups  int
	tokenTTL int
}

func newFakeVault(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *fakeVault {
	t.Helper()
	fv := &fakeVault{}
	fv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		if len(data) > 0 {
			if err := json.Unmarshal(data, &body); err != nil {
				body = map[string]any{"<unparsable>": string(data)}
			}
		}
		fv.mu.Lock()
		if r.URL.Path == "/v1/auth/token/lookup-self" {
			fv.lookups++
			ttl := fv.tokenTTL
			fv.mu.Unlock()
			fmt.Fprintf(w, `{"data":{"ttl":%d,"accessor":%q}}`, ttl, fakeAccessor)
			return
		}
		fv.reqs = append(fv.reqs, request{Method: r.Method, Path: r.URL.Path,
			Token: r.Header.Get("X-Vault-Token"), Namespace: r.Header.Get("X-Vault-Namespace"), Body: body})
		n := len(fv.reqs)
		fv.mu.Unlock()
		respond(n, w, r)
	}))
	t.Cleanup(fv.Close)
	return fv
}

func (fv *fakeVault) requests() []request {
	fv.mu.Lock()
	defer fv.mu.Unlock()
	return append([]request(nil), fv.reqs...)
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// always answers every request the same way.
func always(status int, body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { reply(w, status, body) }
}

// setup points the environment at addr, resolves settings from flags (role
// x unless given) and builds a Vault client with the fixed clock.
func setup(t *testing.T, addr string, flags *config.Flags) (*Vault, *config.Settings, *debugLog) {
	t.Helper()
	return setupWith(t, addr, flags, nil)
}

const (
	iamUserBody = `{"request_id":"1","lease_id":"aws/creds/x/iam1","renewable":true,"lease_duration":3600,` +
		`"data":{"access_key":"` + testAccessKey + `","secret_key":"` + testSecretKey + `","session_token":null},` +
		`"wrap_info":null,"warnings":null,"auth":null}`
	assumedRoleBody = `{"request_id":"2","lease_id":"aws/creds/x/sts1","renewable":false,"lease_duration":900,` +
		`"data":{"access_key":"ASIAEXAMPLE","secret_key":"` + testSecretKey + `","session_token":"` + testSessionToken + `",` +
		`"security_token":"` + testSessionToken + `","arn":"arn:aws:sts::123456789012:assumed-role/dev/vault-1","ttl":899},` +
		`"wrap_info":null,"warnings":null,"auth":null}`
	securityTokenOnlyBody = `{"lease_id":"aws/creds/x/sts2","lease_duration":900,` +
		`"data":{"access_key":"ASIAEXAMPLE","secret_key":"` + testSecretKey + `","security_token":"` + testSessionToken + `"}}`
	staticBody = `{"request_id":"3","lease_id":"","renewable":false,"lease_duration":0,` +
		`"data":{"access_key":"` + testAccessKey + `","secret_key":"` + testSecretKey + `",` +
		`"expiration":"2030-01-02T05:04:05+01:00","last_vault_rotation":"2030-01-01T00:00:00Z","ttl":3600}}`
)

func TestFetchSuccess(t *testing.T) {
	tests := []struct {
		name       string
		flags      *config.Flags
		body       string
		wantMethod string
		wantPath   string
		want       process.Credentials
	}{
		{
			name: "iam_user", body: iamUserBody, wantMethod: http.MethodPut, wantPath: "/v1/aws/creds/x",
			want: process.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
				Expiration: now.Add(time.Hour), IssuedAt: now, LeaseID: "aws/creds/x/iam1",
				LeaseDuration: time.Hour, Renewable: true},
		},
		{
			name: "iam_user with --type", flags: &config.Flags{config.IDType: "iam_user"}, body: iamUserBody,
			wantMethod: http.MethodPut, wantPath: "/v1/aws/creds/x",
			want: process.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
				Expiration: now.Add(time.Hour), IssuedAt: now, LeaseID: "aws/creds/x/iam1",
				LeaseDuration: time.Hour, Renewable: true},
		},
		{
			name: "assumed_role", flags: &config.Flags{config.IDType: "assumed_role"}, body: assumedRoleBody,
			wantMethod: http.MethodPut, wantPath: "/v1/aws/creds/x",
			want: process.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: testSecretKey, SessionToken: testSessionToken,
				AccountID: "123456789012", Expiration: now.Add(15 * time.Minute), IssuedAt: now,
				LeaseID: "aws/creds/x/sts1", LeaseDuration: 15 * time.Minute},
		},
		{
			name: "security_token only", flags: &config.Flags{config.IDType: "session_token"}, body: securityTokenOnlyBody,
			wantMethod: http.MethodPut, wantPath: "/v1/aws/creds/x",
			want: process.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: testSecretKey, SessionToken: testSessionToken,
				Expiration: now.Add(15 * time.Minute), IssuedAt: now, LeaseID: "aws/creds/x/sts2",
				LeaseDuration: 15 * time.Minute},
		},
		{
			name: "static", flags: &config.Flags{config.IDType: "static"}, body: staticBody,
			wantMethod: http.MethodGet, wantPath: "/v1/aws/static-creds/x",
			want: process.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
				Expiration: time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC), IssuedAt: now},
		},
		{
			name: "nested mount", flags: &config.Flags{config.IDMount: "team/aws"}, body: iamUserBody,
			wantMethod: http.MethodPut, wantPath: "/v1/team/aws/creds/x",
			want: process.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
				Expiration: now.Add(time.Hour), IssuedAt: now, LeaseID: "aws/creds/x/iam1",
				LeaseDuration: time.Hour, Renewable: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVault(t, always(200, tt.body))
			v, s, log := setup(t, fv.URL, tt.flags)
			c, err := v.Fetch(context.Background(), process.RequestOf(s))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			checkCredentials(t, c, &tt.want)
			if c.Expiration.Location() != time.UTC {
				t.Errorf("Expiration %v is not in UTC", c.Expiration)
			}
			reqs := fv.requests()
			if len(reqs) != 1 {
				t.Fatalf("Vault got %d requests, want 1", len(reqs))
			}
			if r := reqs[0]; r.Method != tt.wantMethod || r.Path != tt.wantPath || r.Token != testToken {
				t.Errorf("request %s %s (token ok: %v), want %s %s with the token",
					r.Method, r.Path, r.Token == testToken, tt.wantMethod, tt.wantPath)
			}
			noSecrets(t, log.String())
		})
	}
}

func checkCredentials(t *testing.T, got, want *process.Credentials) {
	t.Helper()
	if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey ||
		got.SessionToken != want.SessionToken || got.AccountID != want.AccountID ||
		got.LeaseID != want.LeaseID || got.LeaseDuration != want.LeaseDuration || got.Renewable != want.Renewable {
		t.Errorf("credentials\n%+v\nwant\n%+v", *got, *want)
	}
	if !got.Expiration.Equal(want.Expiration) {
		t.Errorf("Expiration = %s, want %s", got.Expiration.Format(time.RFC3339), want.Expiration.Format(time.RFC3339))
	}
	if !got.IssuedAt.Equal(want.IssuedAt) {
		t.Errorf("IssuedAt = %s, want %s", got.IssuedAt.Format(time.RFC3339), want.IssuedAt.Format(time.RFC3339))
	}
}

func TestFetchRequestBody(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/deploy"
	tests := []struct {
		name  string
		flags *config.Flags
		env   map[string]string
		body  string
		want  map[string]any
		ns    string
	}{
		{name: "nothing set", body: iamUserBody, want: map[string]any{}},
		{name: "ttl", flags: &config.Flags{config.IDTTL: "1h"}, body: assumedRoleBody, want: map[string]any{"ttl": "3600s"}},
		{name: "ttl in minutes", flags: &config.Flags{config.IDTTL: "90m"}, body: assumedRoleBody, want: map[string]any{"ttl": "5400s"}},
		{
			name:  "assumed_role options",
			flags: &config.Flags{config.IDType: "assumed_role", config.IDTTL: "15m", config.IDRoleARN: arn, config.IDRoleSessionName: "ci-run"},
			body:  assumedRoleBody,
			want:  map[string]any{"ttl": "900s", "role_arn": arn, "role_session_name": "ci-run"},
		},
		{
			name:  "mfa code",
			flags: &config.Flags{config.IDType: "session_token", config.IDMFACode: "123456"},
			body:  assumedRoleBody,
			want:  map[string]any{"mfa_code": "123456"},
		},
		{
			name: "namespace",
			env:  map[string]string{"VAULT_NAMESPACE": "team-a"},
			body: iamUserBody,
			want: map[string]any{},
			ns:   "team-a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVault(t, always(200, tt.body))
			v, s, _ := setupWith(t, fv.URL, tt.flags, tt.env)
			if _, err := v.Fetch(context.Background(), process.RequestOf(s)); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			reqs := fv.requests()
			if len(reqs) != 1 {
				t.Fatalf("Vault got %d requests, want 1", len(reqs))
			}
			got := reqs[0].Body
			if got == nil {
				got = map[string]any{}
			}
			if len(got) != len(tt.want) {
				t.Errorf("body %v, want %v", got, tt.want)
			}
			for k, w := range tt.want {
				if got[k] != w {
					t.Errorf("body[%s] = %v, want %v", k, got[k], w)
				}
			}
			if strings.Trim(reqs[0].Namespace, "/") != tt.ns {
				t.Errorf("namespace header %q, want %q", reqs[0].Namespace, tt.ns)
			}
		})
	}
}

// setupWith is setup with VAULT_* variables of the test's own (env):
// everything else is cleared.
func setupWith(t *testing.T, addr string, flags *config.Flags, env map[string]string) (*Vault, *config.Settings, *debugLog) {
	t.Helper()
	testenv.ClearVaultAWS(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("HOME", t.TempDir())
	if env["VAULT_ADDR"] == "" {
		t.Setenv("VAULT_ADDR", addr)
	}
	t.Setenv("VAULT_TOKEN", testToken)
	fastRetries(t)
	f := &config.Flags{config.IDRole: "x", config.IDCacheDir: t.TempDir()}
	if flags != nil {
		for id, v := range flags {
			if v != "" {
				f[id] = v
			}
		}
	}
	s, err := config.Resolve(config.Inputs{Flags: f, Getenv: os.Getenv})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	log := &debugLog{}
	v, err := New(context.Background(), s, Options{Now: fixedNow, Debugf: log.Printf, Getenv: os.Getenv})
	if err != nil {
		t.Fatalf("NewVault: %v", err)
	}
	return v, s, log
}

// sequence answers the n-th request with statuses[n-1] (the last one
// repeats); a 200 gets an iam_user body, anything else errs.
func sequence(errBody string, statuses ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		st := statuses[min(n, len(statuses))-1]
		if st == 200 {
			reply(w, 200, iamUserBody)
			return
		}
		reply(w, st, errBody)
	}
}

func TestFetchRetries(t *testing.T) {
	tests := []struct {
		name       string
		flags      *config.Flags
		env        map[string]string
		errBody    string
		statuses   []int
		wantCalls  int
		wantStatus int      // 0: success
		wantHint   []string // substrings of the hint
		wantMsg    string
	}{
		{name: "500 then 200", flags: &config.Flags{config.IDRetries: "2"}, statuses: []int{500, 200}, wantCalls: 2},
		{name: "429 then 200", flags: &config.Flags{config.IDRetries: "2"}, statuses: []int{429, 200}, wantCalls: 2},
		{name: "502 503 then 200", flags: &config.Flags{config.IDRetries: "2"}, statuses: []int{502, 503, 200}, wantCalls: 3},
		{
			name: "503 forever gives up", flags: &config.Flags{config.IDRetries: "2"}, statuses: []int{503},
			errBody: `{"errors":["overloaded"]}`, wantCalls: 3, wantStatus: 503,
			wantHint: []string{"--retries"}, wantMsg: "Vault answered 503: overloaded",
		},
		{
			name: "503 with retries 0", flags: &config.Flags{config.IDRetries: "0"}, statuses: []int{503},
			errBody: `{"errors":[]}`, wantCalls: 1, wantStatus: 503, wantHint: []string{"--retries"},
		},
		{
			name: "VAULT_MAX_RETRIES is honoured", env: map[string]string{"VAULT_MAX_RETRIES": "1"}, statuses: []int{500},
			errBody: `{"errors":[]}`, wantCalls: 2, wantStatus: 500,
		},
		{
			name: "sealed", flags: &config.Flags{config.IDRetries: "1"}, statuses: []int{503},
			errBody: `{"errors":["Vault is sealed"]}`, wantCalls: 2, wantStatus: 503, wantHint: []string{"unseal"},
		},
		{
			name: "429 forever", flags: &config.Flags{config.IDRetries: "3"}, statuses: []int{429},
			errBody: `{"errors":["rate limit quota exceeded"]}`, wantCalls: 4, wantStatus: 429,
		},
		{
			name: "400 role not found is not retried", flags: &config.Flags{config.IDRetries: "3"}, statuses: []int{400},
			errBody: `{"errors":["Role \"x\" not found"]}`, wantCalls: 1, wantStatus: 400,
			wantHint: []string{"--mount", "--role"}, wantMsg: `Role "x" not found`,
		},
		{
			name: "403 is not retried", flags: &config.Flags{config.IDRetries: "3"}, statuses: []int{403},
			errBody: `{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`, wantCalls: 1, wantStatus: 403,
			wantHint: []string{"token", "polic", "aws/creds/x"}, wantMsg: "Vault answered 403: permission denied",
		},
		{
			name: "404 is not retried", flags: &config.Flags{config.IDRetries: "3"}, statuses: []int{404},
			errBody: `{"errors":[]}`, wantCalls: 1, wantStatus: 404, wantHint: []string{"--mount", "--role"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVault(t, sequence(tt.errBody, tt.statuses...))
			v, s, log := setupWith(t, fv.URL, tt.flags, tt.env)
			c, err := v.Fetch(context.Background(), process.RequestOf(s))
			if calls := len(fv.requests()); calls != tt.wantCalls {
				t.Errorf("Vault got %d requests, want %d", calls, tt.wantCalls)
			}
			noSecrets(t, log.String())
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if c.SecretAccessKey != testSecretKey {
					t.Errorf("got secret key %q", c.SecretAccessKey)
				}
				return
			}
			if err == nil {
				t.Fatal("Fetch succeeded, want an error")
			}
			noSecrets(t, errorTexts(err)...)
			var pe *process.Error
			if !errors.As(err, &pe) || pe.Code != process.ExitFailure {
				t.Fatalf("error %v (%T) is not a process *Error with exit status 1", err, err)
			}
			var re *api.ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.wantStatus {
				t.Errorf("error %v does not wrap a %d response", err, tt.wantStatus)
			}
			if want := tt.wantStatus >= 500 || tt.wantStatus == 429; Unavailable(err) != want {
				t.Errorf("Unavailable = %v, want %v", !want, want)
			}
			for _, h := range tt.wantHint {
				if !strings.Contains(pe.Hint, h) {
					t.Errorf("hint %q, want it to contain %q", pe.Hint, h)
				}
			}
			if !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", pe.Msg, tt.wantMsg)
			}
			if strings.Contains(pe.Msg, "\n") {
				t.Errorf("message %q spans more than one line", pe.Msg)
			}
		})
	}
}

func TestFetchTimeout(t *testing.T) {
	tests := []struct {
		name  string
		flags *config.Flags
		ctx   func() (context.Context, context.CancelFunc)
	}{
		{"caller deadline", &config.Flags{config.IDTimeout: "60s"}, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}},
		{"--timeout", &config.Flags{config.IDTimeout: "1s"}, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			fv := newFakeVault(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				// Slower than any deadline: answers only once the client
				// has gone (or the test ends).
				select {
				case <-r.Context().Done():
				case <-release:
				}
			})
			t.Cleanup(func() { close(release) }) // runs before fv.Close
			v, s, log := setup(t, fv.URL, tt.flags)
			ctx, cancel := tt.ctx()
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := v.Fetch(ctx, process.RequestOf(s))
				done <- err
			}()
			err := testenv.WaitFor(t, done, "Fetch to time out")
			if err == nil {
				t.Fatal("Fetch succeeded against a server that never answers")
			}
			if !strings.Contains(err.Error(), "did not answer in time") || !strings.Contains(err.Error(), fv.URL) {
				t.Errorf("error %q, want it to say Vault at %s did not answer in time", err, fv.URL)
			}
			var pe *process.Error
			if !errors.As(err, &pe) || !strings.Contains(pe.Hint, "--timeout") {
				t.Errorf("error %v has no hint about --timeout", err)
			}
			if !Unavailable(err) {
				t.Error("a timeout is not classified as Vault unavailable")
			}
			noSecrets(t, append(errorTexts(err), log.String())...)
		})
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	fv := newFakeVault(t, always(200, iamUserBody))
	addr := fv.URL
	fv.Close()
	v, s, _ := setup(t, addr, &config.Flags{config.IDRetries: "1"})
	_, err := v.Fetch(context.Background(), process.RequestOf(s))
	if err == nil {
		t.Fatal("Fetch from a closed server succeeded")
	}
	if !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q, want it to say the connection to %s was refused", err, addr)
	}
	var pe *process.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Hint, "VAULT_ADDR") {
		t.Errorf("error %v has no hint about VAULT_ADDR", err)
	}
	if !Unavailable(err) {
		t.Error("a refused connection is not classified as Vault unavailable")
	}
	noSecrets(t, errorTexts(err)...)
}

func TestFetchBadResponses(t *testing.T) {
	tests := []struct {
		name    string
		flags   *config.Flags
		status  int
		body    string
		wantMsg string
	}{
		{name: "truncated JSON", body: `{"lease_duration":3600,"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `"`, wantMsg: "was cut short"},
		{name: "not JSON", body: `<html>` + testSecretKey + `</html>`, wantMsg: "not valid JSON"},
		{name: "no access_key", body: `{"lease_duration":3600,"data":{"secret_key":"` + testSecretKey + `"}}`, wantMsg: "no access_key"},
		{name: "no secret_key", body: `{"lease_duration":3600,"data":{"access_key":"AKIA"}}`, wantMsg: "no access_key or secret_key"},
		{name: "no data", body: `{"lease_duration":3600}`, wantMsg: "no access_key"},
		{name: "access_key not a string", body: `{"lease_duration":3600,"data":{"access_key":42,"secret_key":"` + testSecretKey + `"}}`, wantMsg: "not a string"},
		{name: "session_token not a string", body: `{"lease_duration":3600,"data":{"access_key":"A","secret_key":"` + testSecretKey + `","session_token":{"v":"` + testSessionToken + `"}}}`, wantMsg: "not a string"},
		{
			name:    "no lease_duration and no expiration",
			body:    `{"lease_duration":0,"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `"}}`,
			wantMsg: "neither a lease duration nor an expiration",
		},
		{
			name:    "expiration ignored for dynamic credentials",
			body:    `{"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `","expiration":"2031-01-01T00:00:00Z"}}`,
			wantMsg: "neither a lease duration nor an expiration",
		},
		{
			name: "static without expiration", flags: &config.Flags{config.IDType: "static"},
			body: `{"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `"}}`, wantMsg: "no expiration",
		},
		{
			name: "static expiration not RFC 3339", flags: &config.Flags{config.IDType: "static"},
			body: `{"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `","expiration":"tomorrow"}}`, wantMsg: "not an RFC 3339 time",
		},
		{
			// (Overdue by less than maxRotationOverdue is served: TestStaticRotationOverdue.)
			name: "static expired long ago", flags: &config.Flags{config.IDType: "static"},
			body: `{"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `","expiration":"2030-01-02T02:04:05Z"}}`, wantMsg: "expired",
		},
		{
			name: "static role missing", flags: &config.Flags{config.IDType: "static"},
			status: 404, body: `{"errors":[]}`, wantMsg: "Vault returned nothing",
		},
		{
			name: "iam_user type but session token", flags: &config.Flags{config.IDType: "iam_user"},
			body: assumedRoleBody, wantMsg: "--type says iam_user",
		},
		{
			name: "assumed_role type without session token", flags: &config.Flags{config.IDType: "assumed_role"},
			body: iamUserBody, wantMsg: "without a session token, but --type says assumed_role",
		},
		{
			name: "federation_token type without session token", flags: &config.Flags{config.IDType: "federation_token"},
			body: iamUserBody, wantMsg: "--type says federation_token",
		},
		// Issue 10, bug 6: what a hostile server sends is bounded.
		{
			name:    "secret key too long",
			body:    `{"lease_duration":3600,"data":{"access_key":"AKIA","secret_key":"` + strings.Repeat("s", 257) + `"}}`,
			wantMsg: "field secret_key has 257 bytes",
		},
		{
			name:    "access key too long",
			body:    `{"lease_duration":3600,"data":{"access_key":"` + strings.Repeat("A", 129) + `","secret_key":"` + testSecretKey + `"}}`,
			wantMsg: "field access_key has 129 bytes",
		},
		{
			name:    "access key with a control character",
			body:    `{"lease_duration":3600,"data":{"access_key":"AKIA\u001b[31m","secret_key":"` + testSecretKey + `"}}`,
			wantMsg: "field access_key holds a character not allowed",
		},
		{
			name:    "session token too long",
			body:    `{"lease_duration":900,"data":{"access_key":"ASIA","secret_key":"` + testSecretKey + `","session_token":"` + strings.Repeat("t", 64<<10+1) + `"}}`,
			wantMsg: "field session_token has 65537 bytes",
		},
		{
			name:    "session token with a newline",
			body:    `{"lease_duration":900,"data":{"access_key":"ASIA","secret_key":"` + testSecretKey + `","session_token":"abc\ndef"}}`,
			wantMsg: "field session_token holds a character not allowed",
		},
		{
			name:    "lease duration that overflows a time.Duration",
			body:    `{"lease_duration":9223372036854775807,"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `"}}`,
			wantMsg: "lease duration",
		},
		{
			name:    "lease duration decades away",
			body:    `{"lease_duration":946080000,"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `"}}`,
			wantMsg: "outside 0 to 10 years",
		},
		{
			name:    "negative lease duration",
			body:    `{"lease_duration":-5,"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `"}}`,
			wantMsg: "outside 0 to 10 years",
		},
		{
			name: "static expiration decades away", flags: &config.Flags{config.IDType: "static"},
			body: `{"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `","expiration":"2090-01-01T00:00:00Z"}}`, wantMsg: "more than 10 years from now",
		},
		{
			name:    "answer larger than the limit",
			body:    `{"lease_duration":3600,"data":{"access_key":"AKIA","secret_key":"` + testSecretKey + `","pad":"` + strings.Repeat("x", 5<<20) + `"}}`,
			wantMsg: "larger than 4 MiB",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == 0 {
				status = 200
			}
			fv := newFakeVault(t, always(status, tt.body))
			v, s, log := setup(t, fv.URL, tt.flags)
			c, err := v.Fetch(context.Background(), process.RequestOf(s))
			if err == nil {
				t.Fatalf("Fetch = %+v, want an error", c)
			}
			if c != nil {
				t.Errorf("Fetch returned credentials %+v along with the error", c)
			}
			var pe *process.Error
			if !errors.As(err, &pe) || pe.Code != process.ExitFailure {
				t.Fatalf("error %v (%T) is not a process *Error with exit status 1", err, err)
			}
			if !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", pe.Msg, tt.wantMsg)
			}
			if tt.wantMsg != "" && pe.Hint == "" {
				t.Error("no hint")
			}
			if Unavailable(err) {
				t.Error("a bad answer is classified as Vault unavailable")
			}
			if len(fv.requests()) != 1 {
				t.Errorf("Vault got %d requests, want 1", len(fv.requests()))
			}
			noSecrets(t, append(errorTexts(err), log.String())...)
		})
	}
}

// TestFetchPinnedToAddress: a Vault that redirects elsewhere (a standby, or
// a hostile server) never gets the token sent to the other host.
func TestFetchPinnedToAddress(t *testing.T) {
	other := newFakeVault(t, always(200, iamUserBody))
	fv := newFakeVault(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	v, s, log := setup(t, fv.URL, nil)
	c, err := v.Fetch(context.Background(), process.RequestOf(s))
	if err == nil {
		t.Fatalf("Fetch = %+v after a redirect to another host, want an error", c)
	}
	if !errors.Is(err, errOtherHost) {
		t.Errorf("error %v, want one wrapping errOtherHost", err)
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the other host got %d requests, want 0", n)
	}
	if n := len(fv.requests()); n != 1 {
		t.Errorf("Vault got %d requests, want 1 (no retry of a refused redirect)", n)
	}
	noSecrets(t, append(errorTexts(err), log.String())...)
}

func TestRenew(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantExp   time.Time
		wantErr   string
		wantCalls int
		wantUnav  bool
		minter    string // the accessor the lease was minted under; "" for the fake's
	}{
		// Issue 10, bug 3: another token's lease is not renewed, and Vault is
		// not asked.
		{name: "minted under another token", minter: "accessorOfAnotherToken", status: 200,
			body: `{"lease_id":"aws/creds/x/iam1","renewable":true,"lease_duration":3600}`, wantErr: process.ErrNotMinter.Error()},
		{name: "renewed", status: 200, body: `{"lease_id":"aws/creds/x/iam1","renewable":true,"lease_duration":3600}`,
			wantExp: now.Add(time.Hour), wantCalls: 1},
		{name: "renewed for less", status: 200, body: `{"lease_id":"aws/creds/x/iam1","renewable":true,"lease_duration":600}`,
			wantExp: now.Add(10 * time.Minute), wantCalls: 1},
		{name: "no lease duration", status: 200, body: `{"lease_id":"aws/creds/x/iam1","lease_duration":0}`,
			wantErr: "no lease duration", wantCalls: 1},
		{name: "lease not found", status: 400, body: `{"errors":["lease not found"]}`,
			wantErr: "Vault answered 400", wantCalls: 1},
		{name: "forbidden", status: 403, body: `{"errors":["permission denied"]}`,
			wantErr: "Vault answered 403", wantCalls: 1},
		{name: "unavailable", status: 503, body: `{"errors":[]}`,
			wantErr: "Vault answered 503", wantCalls: 2, wantUnav: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVault(t, always(tt.status, tt.body))
			v, _, log := setup(t, fv.URL, &config.Flags{config.IDRetries: "1"})
			minter := tt.minter
			if minter == "" {
				minter = fakeAccessor
			}
			exp, err := v.Renew(context.Background(), "aws/creds/x/iam1", time.Hour, minter)
			reqs := fv.requests()
			if len(reqs) != tt.wantCalls {
				t.Errorf("Vault got %d requests, want %d", len(reqs), tt.wantCalls)
			}
			if len(reqs) > 0 {
				r := reqs[0]
				if r.Method != http.MethodPut || r.Path != "/v1/sys/leases/renew" || r.Token != testToken {
					t.Errorf("request %s %s, want PUT /v1/sys/leases/renew with the token", r.Method, r.Path)
				}
				if r.Body["lease_id"] != "aws/creds/x/iam1" || r.Body["increment"] != float64(3600) {
					t.Errorf("body %v, want lease_id aws/creds/x/iam1 and increment 3600", r.Body)
				}
			}
			noSecrets(t, log.String())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Renew: %v", err)
				}
				if !exp.Equal(tt.wantExp) {
					t.Errorf("Renew = %s, want %s", exp.Format(time.RFC3339), tt.wantExp.Format(time.RFC3339))
				}
				return
			}
			if err == nil {
				t.Fatalf("Renew = %s, want an error", exp)
			}
			if !exp.IsZero() {
				t.Errorf("Renew returned expiration %s along with the error", exp)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
			if Unavailable(err) != tt.wantUnav {
				t.Errorf("Unavailable = %v, want %v", !tt.wantUnav, tt.wantUnav)
			}
			noSecrets(t, errorTexts(err)...)
		})
	}
}

// TestNewVaultAgentAddress shows that the resolved address is the one
// used: VAULT_AGENT_ADDR wins over VAULT_ADDR, as in config.Resolve.
func TestNewVaultAgentAddress(t *testing.T) {
	agent := newFakeVault(t, always(200, iamUserBody))
	direct := newFakeVault(t, always(500, `{"errors":[]}`))
	v, s, _ := setupWith(t, direct.URL, &config.Flags{config.IDRetries: "0"}, map[string]string{"VAULT_AGENT_ADDR": agent.URL})
	if s.Address != agent.URL {
		t.Fatalf("resolved address %q, want the agent's %q", s.Address, agent.URL)
	}
	if _, err := v.Fetch(context.Background(), process.RequestOf(s)); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(agent.requests()) != 1 || len(direct.requests()) != 0 {
		t.Errorf("agent got %d requests, VAULT_ADDR got %d; want 1 and 0", len(agent.requests()), len(direct.requests()))
	}
}

func TestNewVaultEnvironmentErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"missing VAULT_CACERT", map[string]string{"VAULT_CACERT": "/nonexistent/ca.pem"}},
		{"bad VAULT_CLIENT_TIMEOUT", map[string]string{"VAULT_CLIENT_TIMEOUT": "soon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testenv.ClearVaultAWS(t)
			t.Setenv("HOME", t.TempDir())
			t.Setenv("VAULT_ADDR", "http://127.0.0.1:8200")
			t.Setenv("VAULT_TOKEN", testToken)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			s, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDRole: "x", config.IDCacheDir: t.TempDir()}, Getenv: os.Getenv})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			v, err := New(context.Background(), s, Options{Now: fixedNow, Debugf: (&debugLog{}).Printf, Getenv: os.Getenv})
			var pe *process.Error
			if !errors.As(err, &pe) {
				t.Fatalf("NewVault = %v, %v; want a process *Error", v, err)
			}
			if pe.Code != process.ExitUsage || !strings.Contains(pe.Msg, "read Vault settings from the environment") || !strings.Contains(pe.Hint, "VAULT_") {
				t.Errorf("error %q (hint %q, exit %d), want a usage error about the VAULT_* variables", pe.Msg, pe.Hint, pe.Code)
			}
			noSecrets(t, errorTexts(err)...)
		})
	}
}

// TestCapToTokenExpiry: Vault revokes a lease when the token that created it expires,
// so revocable (iam_user) credentials never outlive the token, looked up once;
// STS credentials cannot be revoked and keep their expiry without a lookup.
func TestCapToTokenExpiry(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		tokenTTL    int
		wantExp     time.Time
		wantLookups int
	}{
		{"iam_user, token expires first", iamUserBody, 600, now.Add(10 * time.Minute), 1},
		{"iam_user, token outlives the lease", iamUserBody, 7200, now.Add(time.Hour), 1},
		{"iam_user, token never expires", iamUserBody, 0, now.Add(time.Hour), 1},
		{"assumed_role keeps its expiry", assumedRoleBody, 60, now.Add(15 * time.Minute), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVault(t, always(200, tt.body))
			fv.tokenTTL = tt.tokenTTL
			v, s, _ := setup(t, fv.URL, nil)
			c, err := v.Fetch(context.Background(), process.RequestOf(s))
			if err != nil {
				t.Fatal(err)
			}
			if !c.Expiration.Equal(tt.wantExp) || fv.lookups != tt.wantLookups {
				t.Errorf("Expiration %s after %d lookups, want %s after %d", c.Expiration.Format(time.RFC3339),
					fv.lookups, tt.wantExp.Format(time.RFC3339), tt.wantLookups)
			}
			wantAccessor := fakeAccessor
			if tt.wantLookups == 0 {
				wantAccessor = "" // STS credentials have nothing to renew
			}
			if c.TokenAccessor != wantAccessor {
				t.Errorf("TokenAccessor = %q, want %q", c.TokenAccessor, wantAccessor)
			}
			// Renewals are capped the same way, with no second lookup.
			exp, err := v.Renew(context.Background(), "aws/creds/x/iam1", time.Hour, fakeAccessor)
			if tt.wantLookups > 0 && err == nil && exp.After(tt.wantExp) && tt.tokenTTL > 0 && tt.tokenTTL < 3600 {
				t.Errorf("renewal to %s outlives the token", exp.Format(time.RFC3339))
			}
			if fv.lookups > 1 {
				t.Errorf("%d token lookups, want at most 1", fv.lookups)
			}
		})
	}
}

package main

// Tests of `login`: the command line (in process, no Vault), a sign-in in
// process against a fake Vault and a fake federation endpoint, and in
// consolelogin_integration_test.go the sign-in per credential type against
// the real Vault and moto.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/console"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// federationFake is a federation endpoint on 127.0.0.1: it checks that a
// request is getSigninToken with a Session of exactly the three fields,
// registers what it got as secrets, and answers with a new sign-in token,
// or with refuse.
type federationFake struct {
	*httptest.Server
	refuse int // status to answer with instead of a token; 0 for none

	mu       sync.Mutex
	queries  []url.Values
	sessions []session
	tokens   []string
}

// session is the Session parameter of getSigninToken.
type session struct {
	SessionID    string `json:"sessionId"`
	SessionKey   string `json:"sessionKey"`
	SessionToken string `json:"sessionToken"`
}

func newFederationFake(t *testing.T) *federationFake {
	t.Helper()
	f := &federationFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *federationFake) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dec := json.NewDecoder(strings.NewReader(q.Get("Session")))
	dec.DisallowUnknownFields()
	var s session
	if err := dec.Decode(&s); err != nil || r.Method != http.MethodGet || r.URL.Path != "/federation" ||
		q.Get("Action") != "getSigninToken" {
		http.Error(w, "not a getSigninToken request", http.StatusBadRequest)
		return
	}
	addSecret(s.SessionKey)
	addSecret(s.SessionToken)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	f.sessions = append(f.sessions, s)
	if f.refuse != 0 {
		w.WriteHeader(f.refuse)
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	token := "SIGNIN-" + hex.EncodeToString(b)
	addSecret(token)
	f.tokens = append(f.tokens, token)
	fmt.Fprintf(w, `{"SigninToken":%q}`, token)
}

func (f *federationFake) setRefuse(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = status
}

func (f *federationFake) endpoint() string { return f.URL + "/federation" }

// only returns the one request the fake got, and the token it answered.
func (f *federationFake) only(t *testing.T) (url.Values, session, string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) != 1 {
		t.Fatalf("the federation endpoint got %d requests, want 1", len(f.queries))
	}
	token := ""
	if len(f.tokens) == 1 {
		token = f.tokens[0]
	}
	return f.queries[0], f.sessions[0], token
}

func (f *federationFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queries)
}

// assertLoginURL checks the URL login printed: one line, the endpoint's
// Action=login with the project as Issuer, destination and the fake's
// token, each encoded; the URL becomes a secret.
func assertLoginURL(t *testing.T, stdout, endpoint, destination, token string) {
	t.Helper()
	raw, ok := strings.CutSuffix(stdout, "\n")
	if !ok || strings.Contains(raw, "\n") {
		t.Fatalf("stdout is not one line: %q", stdout)
	}
	addSecret(raw)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("stdout is not a URL: %v", err)
	}
	if base := u.Scheme + "://" + u.Host + u.Path; base != endpoint {
		t.Errorf("the login URL goes to %s, want %s", base, endpoint)
	}
	want := url.Values{"Action": {"login"}, "Issuer": {console.Issuer}, "Destination": {destination}, "SigninToken": {token}}
	if got := u.Query(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("login URL query %v, want %v", got, want)
	}
	if want.Encode() != u.RawQuery {
		t.Errorf("login URL query %q is not encoded as %q", u.RawQuery, want.Encode())
	}
}

// TestConsoleLoginUsage: login -h, and every flag it lists or shares with
// the request is one it takes, its text in the request flags' column.
func TestConsoleLoginUsage(t *testing.T) {
	loginUsage := cmdspec.Login.Usage()
	r := runInProcess(t, fakeEnv(t, nil), "login", "-h")
	if r.code != process.ExitOK || r.stdout != loginUsage || r.stderr != "" {
		t.Fatalf("login -h: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"Usage:", "Flags:", "Examples:"} {
		if !strings.Contains(loginUsage, want) {
			t.Errorf("login -h lacks %q", want)
		}
	}
	for id := range config.Table {
		if s := &config.Table[id]; s.Flag {
			if !strings.Contains(loginUsage, "\n  --"+strings.TrimSpace(s.Name+" "+s.Placeholder)+" ") {
				t.Errorf("login -h lacks the request flag --%s", s.Name)
			}
			assertAccepts(t, []string{"login"}, "--"+s.Name, s.Placeholder != "")
		}
	}
	line := regexp.MustCompile(`(?m)^  (?:-h, )?--([a-z-]+)( [A-Z|]+)?`)
	column := strings.Index(loginUsage, "\n  --profile NAME ")
	column = strings.Index(loginUsage[column:], config.IDProfile.Setting().Usage) - 1
	for _, m := range line.FindAllStringSubmatch(loginUsage, -1) {
		assertAccepts(t, []string{"login"}, "--"+m[1], m[2] != "")
	}
	for _, l := range strings.Split(loginUsage, "\n") {
		if strings.HasPrefix(l, "  -") && (len(l) <= column || l[column-1] != ' ' || l[column] == ' ') {
			t.Errorf("login -h: %q does not start its text at column %d", l, column)
		}
	}
	if r := runInProcess(t, fakeEnv(t, nil), "help", "login"); r.stdout != loginUsage {
		t.Errorf("help login printed %q", r.stdout)
	}
}

// TestConsoleLoginRefusals: what login refuses before any network call
// (Vault's address is a closed port: reaching for it would fail otherwise).
func TestConsoleLoginRefusals(t *testing.T) {
	closed := "http://" + closedPort(t)
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		code      int
		msg, hint string
	}{
		{"duration syntax", nil, []string{"--duration", "1x"}, process.ExitUsage, `--duration: invalid duration "1x"`, "90m"},
		{"duration of federation token", nil, []string{"--type", "federation_token", "--duration", "1h"}, process.ExitUsage,
			"--duration: federation_token credentials take none: their console session lasts as long as they do", "leave out --duration; "},
		{"duration too long", nil, []string{"--type", "assumed_role", "--duration", "13h"}, process.ExitUsage,
			"lasts 15m to 12h (AWS's SessionDuration), not 13h", "give a --duration from 15m to 12h"},
		{"region", nil, []string{"--region", "us-east-1.evil.example"}, process.ExitUsage, `--region: "us-east-1.evil.example" is not an AWS region name`, "us-gov-west-1"},
		{"region from AWS_REGION", map[string]string{"AWS_REGION": "Mars"}, nil, process.ExitUsage, `AWS_REGION: "Mars" is not`, "us-east-1"},
		{"destination", nil, []string{"--destination", "http://console.aws.amazon.com/"}, process.ExitUsage, "--destination:", "full https URL"},
		{"federation endpoint", nil, []string{"--federation-endpoint", "http://example.com/federation"}, process.ExitUsage,
			"--federation-endpoint:", "credentials are sent there"},
		{"sts endpoint", map[string]string{"AWS_ENDPOINT_URL_STS": "http://example.com"}, []string{"--type", "iam_user"}, process.ExitUsage,
			"AWS_ENDPOINT_URL_STS:", "unset AWS_ENDPOINT_URL_STS"},
		{"sts endpoint of static keys", map[string]string{"AWS_ENDPOINT_URL_STS": "http://example.com"}, []string{"--type", "static"}, process.ExitUsage,
			`AWS_ENDPOINT_URL_STS: "http://example.com" is not an https URL`, "unset AWS_ENDPOINT_URL_STS"},
		{"policy", nil, []string{"--policy", "[1]"}, process.ExitUsage, "--policy: the session policy is not a JSON object", "JSON"},
		{"policy arn", nil, []string{"--policy-arn", "ReadOnlyAccess"}, process.ExitUsage, `--policy-arn: "ReadOnlyAccess" is not an ARN`, "arn:aws:iam::aws:policy/"},
		{"policy of a role", nil, []string{"--type", "assumed_role", "--policy", "{}"}, process.ExitUsage,
			"--policy: a session policy applies only to iam_user and static", "the role's own policy"},
		{"session token", nil, []string{"--type", "session_token"}, process.ExitFailure,
			"login: AWS does not accept session_token credentials (sts:GetSessionToken) for console sign-in", "assumed_role or federation_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"VAULT_ADDR": closed, "VAULT_TOKEN": unitToken}
			for k, v := range tt.env {
				env[k] = v
			}
			r := runInProcess(t, fakeEnv(t, env), append([]string{"login", "--role", "dev", "--stdout"}, tt.args...)...)
			assertFailure(t, r, tt.code, tt.msg, tt.hint)
		})
	}
}

// TestConsoleLoginInProcess: a sign-in against a fake Vault that mints
// assumed-role credentials and the fake federation endpoint.
func TestConsoleLoginInProcess(t *testing.T) {
	unitEnv(t)
	const secret, token = "unit-assumed-secret-key", "unit-assumed-session-token"
	addSecret(secret)
	addSecret(token)
	t.Setenv("VAULT_ADDR", fakeVault(t, http.StatusOK, `{"lease_duration":900,"renewable":false,"data":{"access_key":"ASIAUNIT",`+
		`"secret_key":"`+secret+`","session_token":"`+token+`","arn":"arn:aws:sts::123456789012:assumed-role/R/s"}}`))
	t.Setenv("VAULT_TOKEN", unitToken)
	fed := newFederationFake(t)
	r := runInProcess(t, os.Getenv, "login", "--role", "dev", "--stdout", "--region", "cn-north-1",
		"--duration", "45m", "--federation-endpoint", fed.endpoint())
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	q, s, signin := fed.only(t)
	if s != (session{"ASIAUNIT", secret, token}) || q.Get("SessionDuration") != "2700" {
		t.Errorf("Session %+v, SessionDuration %q", s, q.Get("SessionDuration"))
	}
	assertLoginURL(t, r.stdout, fed.endpoint(), "https://cn-north-1.console.amazonaws.cn/console/home?region=cn-north-1", signin)
}

// TestConsoleLoginSTSVariables: the STS endpoint variables are read and
// checked only when STS is called (IAM user keys): a plain-http
// AWS_ENDPOINT_URL set for other tools does not stop an assumed role's
// sign-in, and stops IAM user keys before they leave for STS.
func TestConsoleLoginSTSVariables(t *testing.T) {
	const assumed = `{"lease_duration":900,"renewable":false,"data":{"access_key":"ASIAUNIT","secret_key":"unit-sts-secret-key",` +
		`"session_token":"unit-sts-session-token","arn":"arn:aws:sts::123456789012:assumed-role/R/s"}}`
	addSecret("unit-sts-secret-key")
	addSecret("unit-sts-session-token")
	for _, tt := range []struct {
		name, answer string
		args         []string
		code         int
		msg          string
	}{
		{"assumed role", assumed, []string{"--type", "assumed_role"}, process.ExitOK, ""},
		{"assumed role, type from the answer", assumed, nil, process.ExitOK, ""},
		{"IAM user keys, type from the answer", iamUserAnswer, nil, process.ExitUsage, `AWS_ENDPOINT_URL_STS: "http://sts.example" is not an https URL`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			unitEnv(t)
			t.Setenv("VAULT_ADDR", fakeVault(t, http.StatusOK, tt.answer))
			t.Setenv("VAULT_TOKEN", unitToken)
			t.Setenv("AWS_ENDPOINT_URL_STS", "http://sts.example")
			t.Setenv("AWS_ENDPOINT_URL", "http://aws.example")
			fed := newFederationFake(t)
			r := runInProcess(t, os.Getenv, append([]string{"login", "--role", "dev", "--stdout", "--federation-endpoint", fed.endpoint()}, tt.args...)...)
			if tt.code != process.ExitOK {
				assertFailure(t, r, tt.code, tt.msg, "unset AWS_ENDPOINT_URL_STS")
				if fed.count() != 0 {
					t.Errorf("the federation endpoint was asked %d times", fed.count())
				}
				return
			}
			if r.code != process.ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			_, _, signin := fed.only(t)
			assertLoginURL(t, r.stdout, fed.endpoint(), "https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1", signin)
		})
	}
}

package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Unit tests of the oidc method's browser login against a fake Vault and a
// fake browser; the real flow, with Vault as its own OIDC provider, is
// proven in oidc_integration_test.go at the root.

const oidcCode = "code-never-shown-0123456789"

// oidcVault answers auth_url with a URL carrying a state, and callback
// with a token when state, code and client nonce match; the token looks
// itself up as display (the alias alice@example.com of mount oidc unless
// set) of entity e-1, named entityName, which the token may read unless
// entityForbidden.
type oidcVault struct {
	*httptest.Server
	mu              sync.Mutex
	nonce           string // client_nonce of the last auth_url
	authURLs        int
	callbacks       []url.Values
	display         string
	entityName      string
	entityForbidden bool
	lookupFails     bool
	lookups         int
	revoked         []string // tokens revoked with revoke-self
}

const oidcToken = "hvs.oidc-token"

func newOIDCVault(t *testing.T) *oidcVault {
	t.Helper()
	ov := &oidcVault{}
	ov.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ov.mu.Lock()
		defer ov.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/oidc/oidc/auth_url":
			ov.authURLs++
			var in map[string]string
			_ = json.NewDecoder(r.Body).Decode(&in)
			ov.nonce = in["client_nonce"]
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"auth_url": "https://idp.example/authorize?client_id=c&state=st-1&redirect_uri=" +
				url.QueryEscape(in["redirect_uri"]) + "&role=" + in["role"]}})
		case "/v1/auth/oidc/oidc/callback":
			q := r.URL.Query()
			ov.callbacks = append(ov.callbacks, q)
			if q.Get("state") != "st-1" || q.Get("code") != oidcCode || q.Get("client_nonce") != ov.nonce || ov.nonce == "" {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"errors":["Expired or missing OAuth state."]}`)
				return
			}
			fmt.Fprint(w, `{"auth":{"client_token":"`+oidcToken+`","accessor":"a","lease_duration":3600,"renewable":true,"entity_id":"e-1",`+
				`"metadata":{"role":"dev","email":"alice@example.com"}}}`)
		case "/v1/auth/token/lookup-self", "/v1/identity/entity/id/e-1", "/v1/auth/token/revoke-self":
			ov.self(w, r)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(ov.Close)
	return ov
}

// self answers the requests of the new token about itself.
func (ov *oidcVault) self(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Vault-Token") != oidcToken {
		w.WriteHeader(403)
		fmt.Fprint(w, `{"errors":["permission denied"]}`)
		return
	}
	switch r.URL.Path {
	case "/v1/auth/token/lookup-self":
		ov.lookups++
		if ov.lookupFails {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"errors":["permission denied"]}`)
			return
		}
		display := ov.display
		if display == "" {
			display = "oidc-alice@example.com"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"display_name": display, "entity_id": "e-1",
			"meta": map[string]any{"role": "dev", "email": "alice@example.com"}}})
	case "/v1/identity/entity/id/e-1":
		if ov.entityForbidden {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"errors":["permission denied"]}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"id": "e-1", "name": ov.entityName}})
	case "/v1/auth/token/revoke-self":
		ov.revoked = append(ov.revoked, r.Header.Get("X-Vault-Token"))
		w.WriteHeader(204)
	}
}

// oidcFixture is a login for the fake Vault on a free loopback port;
// browse is the fake browser.
func oidcFixture(t *testing.T, ov *oidcVault, browse func(authURL string) (string, error)) (*login, *api.Client, *bytes.Buffer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c, err := api.NewClient(&api.Config{Address: ov.URL, HttpClient: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	o := &login{
		BrowserLogin: vault.BrowserLogin{Auth: config.Auth{Method: config.AuthOIDC, Mount: "oidc", Role: "dev", LoginTimeout: 10 * time.Second,
			RedirectURI: fmt.Sprintf("http://localhost:%d/oidc/callback", port), ListenAddress: fmt.Sprintf("localhost:%d", port)},
			Timeout: 30 * time.Second, Getenv: func(string) string { return "" },
			OpenTTY: func() (*os.File, error) { return nil, errors.New("no terminal") },
			Stderr:  &stderr, Debugf: func(string, ...any) {}, Now: time.Now},
		browse: func(_ context.Context, u string) (string, func(), error) {
			name, err := browse(u)
			return name, func() {}, err
		},
	}
	return o, c, &stderr
}

// redirect follows authURL the way the identity provider would: back to
// its redirect_uri with state and code.
func redirect(t *testing.T, authURL, state, code string) *http.Response {
	u, _ := url.Parse(authURL)
	back := u.Query().Get("redirect_uri") + "?" + url.Values{"state": {state}, "code": {code}}.Encode()
	resp, err := http.Get(back)
	if err != nil {
		t.Errorf("deliver the callback: %v", err)
		return nil
	}
	resp.Body.Close()
	return resp
}

func TestOIDCLoginThroughTheBrowser(t *testing.T) {
	ov := newOIDCVault(t)
	statuses := make(chan []int, 1)
	o, c, stderr := oidcFixture(t, ov, func(authURL string) (string, error) {
		go func() {
			var got []int
			// A stale tab of another login first: refused, never sent to Vault.
			if r := redirect(t, authURL, "st-other", oidcCode); r != nil {
				got = append(got, r.StatusCode)
			}
			if r := redirect(t, authURL, "st-1", oidcCode); r != nil {
				got = append(got, r.StatusCode)
			}
			statuses <- got
		}()
		return "fake-browser", nil
	})
	secret, err := o.Login(context.Background(), c)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if secret.Auth.ClientToken != oidcToken || secret.Auth.EntityID != "e-1" {
		t.Errorf("Login = %+v", secret.Auth)
	}
	if got := <-statuses; !reflect.DeepEqual(got, []int{400, 200}) {
		t.Errorf("the browser's pages: %v, want [400 200]", got)
	}
	if len(ov.callbacks) != 1 {
		t.Errorf("Vault got %d callbacks, want 1 (the wrong state must not reach it)", len(ov.callbacks))
	}
	if o.SentAt().IsZero() {
		t.Error("sentAt is not set")
	}
	out := stderr.String()
	if !strings.Contains(out, "log in to Vault (oidc at auth/oidc, role dev) in your browser within ") ||
		!strings.Contains(out, "if no browser opened, open https://idp.example/authorize?") || strings.Contains(out, oidcCode) {
		t.Errorf("stderr (no terminal):\n%s", out)
	}
}

func TestOIDCLoginTimeout(t *testing.T) {
	ov := newOIDCVault(t)
	o, c, _ := oidcFixture(t, ov, func(string) (string, error) { return "", errors.New("no browser") })
	o.Auth.LoginTimeout = 200 * time.Millisecond
	_, err := o.Login(context.Background(), c)
	var pe *process.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "no login from the browser within login_timeout (200ms)") ||
		!strings.Contains(pe.Hint, "raise login_timeout") {
		t.Fatalf("Login = %v, want the login_timeout error", err)
	}
	// The run's --timeout comes first: it is named instead.
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	o.Auth.LoginTimeout = time.Minute
	_, err = o.Login(ctx, c)
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "within --timeout") || !strings.Contains(pe.Hint, "raise it") {
		t.Fatalf("Login = %v, want the --timeout error", err)
	}
	if len(ov.callbacks) != 0 {
		t.Errorf("Vault got %d callbacks", len(ov.callbacks))
	}
}

func TestOIDCNoLoginURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":{"auth_url":""}}`) // Vault's answer for a redirect_uri the role does not allow
	}))
	defer srv.Close()
	o, c, _ := oidcFixture(t, &oidcVault{Server: srv}, nil)
	_, err := o.Login(context.Background(), c)
	var pe *process.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "Vault gave no login URL for redirect_uri http://localhost:") ||
		!strings.Contains(pe.Hint, "allowed_redirect_uris") {
		t.Fatalf("Login = %v", err)
	}
}

func TestOIDCCallbackHandler(t *testing.T) {
	got := make(chan oidcCallback, 1)
	h := &callbackHandler{path: "/oidc/callback", state: "st", got: got, done: make(chan struct{}),
		hosts: allowedHosts("http://localhost:8250/oidc/callback", []string{"127.0.0.1:8250", "[::1]:8250"})}
	serveHost := func(host, method, target string, header map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		r.Host = host
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	serve := func(method, target string, header map[string]string) *httptest.ResponseRecorder {
		return serveHost("localhost:8250", method, target, header)
	}
	w := serve("OPTIONS", "/oidc/callback", map[string]string{"Origin": "https://idp.example",
		"Access-Control-Request-Private-Network": "true", "Access-Control-Request-Method": "GET"})
	// The navigation is welcome; no origin may read an answer.
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Private-Network") != "true" ||
		w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	// A name that is not the redirect URI's or a listened address: a page
	// whose own name resolves to loopback (DNS rebinding).
	for _, host := range []string{"evil.example:8250", "localhost:8251", "127.0.0.2:8250", "localhost", ""} {
		if w := serveHost(host, "GET", "/oidc/callback?state=st&code=c", nil); w.Code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: %d, want 421", host, w.Code)
		}
	}
	for _, host := range []string{"LOCALHOST:8250", "127.0.0.1:8250", "[::1]:8250"} {
		if w := serveHost(host, "GET", "/oidc/callback?state=nope&code=c", nil); w.Code != 400 {
			t.Errorf("Host %q: %d, want 400 (the state differs)", host, w.Code)
		}
	}
	if w := serve("GET", "/elsewhere?state=st&code=c", nil); w.Code != 404 {
		t.Errorf("another path: %d", w.Code)
	}
	for _, q := range []string{"state=nope&code=c", "code=c", "state=st"} {
		if w := serve("GET", "/oidc/callback?"+q, nil); w.Code != 400 {
			t.Errorf("%s: %d, want 400", q, w.Code)
		}
	}
	if len(got) != 0 {
		t.Fatal("a refused callback was handed on")
	}
	if w := serve("DELETE", "/oidc/callback?state=st&code=c", nil); w.Code != 405 {
		t.Errorf("DELETE: %d", w.Code)
	}
	go func() { cb := <-got; cb.answer(nil) }()
	if w := serve("GET", "/oidc/callback?state=st&code=c", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "Logged in") {
		t.Errorf("the right state: %d %s", w.Code, w.Body.String())
	}
}

func TestParsePasted(t *testing.T) {
	for _, tt := range []struct {
		line string
		ok   bool
	}{
		{"http://localhost:8250/oidc/callback?state=st&code=abc", true},
		{"http://localhost:8250/oidc/callback?code=abc&state=st&scope=openid", true},
		{"http://localhost:8250/oidc/callback?state=st&error=access_denied", true},
		{"http://localhost:8250/oidc/callback?state=old&code=abc", false},
		{"http://localhost:8250/oidc/callback?state=st", false},
		{"abc", false},
		{"%zz", false},
	} {
		if _, ok := parsePasted(tt.line, "st"); ok != tt.ok {
			t.Errorf("parsePasted(%q) = %v, want %v", tt.line, ok, tt.ok)
		}
	}
}

// TestOIDCBindsBeforeAskingVault: a listen address another program holds
// ends the login before Vault is asked for anything.
func TestOIDCBindsBeforeAskingVault(t *testing.T) {
	ov := newOIDCVault(t)
	o, c, _ := oidcFixture(t, ov, func(string) (string, error) { t.Error("a browser was opened"); return "", nil })
	_, port, _ := net.SplitHostPort(o.Auth.ListenAddress)
	held, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, err = o.Login(context.Background(), c)
	var pe *process.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "listen on localhost:"+port+" for the browser") {
		t.Fatalf("Login = %v, want the listen error", err)
	}
	if ov.authURLs != 0 {
		t.Errorf("Vault was asked for %d auth URLs before the port was bound, want 0", ov.authURLs)
	}
}

// ipv6Loopback reports whether ::1 can be listened on here.
func ipv6Loopback() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// TestOIDCListenCoversTheRedirectHost: every address the redirect URI's
// host names is held, whatever listen_address says, as long as the port is
// the redirect URI's (another port is one forwarded from elsewhere); no
// other local program can then take the one a browser tries first.
func TestOIDCListenCoversTheRedirectHost(t *testing.T) {
	both := []string{"127.0.0.1", "::1"}
	for _, tt := range []struct {
		name, listen, redirect string
		want                   []string
	}{
		{"localhost on 127.0.0.1", "127.0.0.1:P", "http://localhost:P/cb", both},
		{"localhost on ::1", "[::1]:P", "http://localhost:P/cb", []string{"::1", "127.0.0.1"}},
		{"localhost on localhost", "localhost:P", "http://localhost:P/cb", both},
		{"127.0.0.1 on ::1", "[::1]:P", "http://127.0.0.1:P/cb", []string{"::1", "127.0.0.1"}},
		{"127.0.0.1 on 127.0.0.1", "127.0.0.1:P", "http://127.0.0.1:P/cb", []string{"127.0.0.1"}},
		{"forwarded port", "127.0.0.1:P", "http://localhost:9/cb", []string{"127.0.0.1"}},
		{"forwarded name", "127.0.0.1:P", "http://devbox.internal:P/cb", []string{"127.0.0.1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !ipv6Loopback() && (strings.Contains(tt.listen, "::1") || slices.Contains(tt.want, "::1")) {
				t.Skip("no IPv6 loopback here")
			}
			port := freePort(t)
			listen, redirect := strings.ReplaceAll(tt.listen, "P", port), strings.ReplaceAll(tt.redirect, "P", port)
			hosts, _, err := bindHosts(listen, redirect)
			if err != nil || !reflect.DeepEqual(hosts, tt.want) {
				t.Fatalf("bindHosts = %v, %v; want %v", hosts, err, tt.want)
			}
			srv, err := listenCallback(listen, redirect)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.close()
			for _, h := range tt.want {
				if l, err := net.Listen("tcp", net.JoinHostPort(h, port)); err == nil {
					l.Close()
					t.Errorf("%s is free for another program to take", net.JoinHostPort(h, port))
				}
			}
		})
	}
}

// freePort is a loopback port nobody listens on (on 127.0.0.1 nor ::1).
func freePort(t *testing.T) string {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(l.Addr().String())
		l.Close()
		if l6, err := net.Listen("tcp", "[::1]:"+port); err == nil || !ipv6Loopback() {
			if l6 != nil {
				l6.Close()
			}
			return port
		}
	}
	t.Fatal("no free port on both loopbacks")
	return ""
}

// TestOIDCSaysWhoLoggedIn: after the browser login the helper says who
// signed in (the alias name, the entity's name and id, the claims the role
// maps), and with expect_identity refuses anyone else: the token is revoked,
// the browser's page says the login failed, and Login fails, so that
// nothing is stored.
func TestOIDCSaysWhoLoggedIn(t *testing.T) {
	const line = userLine + "logged in to Vault as "
	for _, tt := range []struct {
		name, expect    string
		display         string
		entityForbidden bool
		lookupFails     bool
		said, refused   string // the line on stderr; the error's message
	}{
		{name: "no pin", said: line + "alice@example.com (entity alice, id e-1; email=alice@example.com)\n"},
		{name: "pinned alias", expect: "alice@example.com", said: line + "alice@example.com (entity alice, id e-1; email=alice@example.com)\n"},
		{name: "pinned entity name", expect: "alice", said: line + "alice@example.com (entity alice, id e-1; email=alice@example.com)\n"},
		{name: "pinned entity id", expect: "e-1", said: line + "alice@example.com (entity alice, id e-1; email=alice@example.com)\n"},
		{name: "another person", expect: "bob@example.com",
			refused: "the browser signed in as alice@example.com (entity alice, id e-1; email=alice@example.com), not bob@example.com"},
		{name: "almost the pin", expect: "Alice@example.com", refused: "not Alice@example.com"},
		{name: "entity not readable", entityForbidden: true, said: line + "alice@example.com (entity id e-1; email=alice@example.com)\n"},
		{name: "entity not readable, pinned alias", entityForbidden: true, expect: "alice@example.com",
			said: line + "alice@example.com (entity id e-1; email=alice@example.com)\n"},
		{name: "entity not readable, pinned entity name", entityForbidden: true, expect: "alice", refused: "not alice"},
		{name: "control characters", display: "oidc-al\x1b[2Jice", said: line + "al\\x1b[2Jice (entity alice, id e-1; email=alice@example.com)\n"},
		{name: "lookup refused", lookupFails: true, said: line + "an unknown alias (entity id e-1; email=alice@example.com)\n"},
		{name: "lookup refused, pinned", lookupFails: true, expect: "alice@example.com",
			refused: "who signed in at the browser could not be checked against expect_identity"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ov := newOIDCVault(t)
			ov.entityName, ov.display, ov.entityForbidden, ov.lookupFails = "alice", tt.display, tt.entityForbidden, tt.lookupFails
			page := make(chan int, 1)
			o, c, stderr := oidcFixture(t, ov, func(authURL string) (string, error) {
				go func() {
					if r := redirect(t, authURL, "st-1", oidcCode); r != nil {
						page <- r.StatusCode
					}
				}()
				return "fake-browser", nil
			})
			o.Auth.ExpectIdentity = tt.expect
			_, err := o.Login(context.Background(), c)
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if out := stderr.String(); !strings.HasSuffix(out, tt.said) {
					t.Errorf("stderr does not end with %q:\n%s", tt.said, out)
				}
				if len(ov.revoked) != 0 {
					t.Errorf("the token was revoked")
				}
				if got := testenv.WaitFor(t, page, "the browser's page"); got != 200 {
					t.Errorf("the browser's page: %d, want 200", got)
				}
				return
			}
			var pe *process.Error
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, tt.refused) || !strings.Contains(pe.Hint, "the token was revoked and not kept") ||
				!strings.Contains(pe.Hint, "never share it") {
				t.Fatalf("Login = %v, want a refusal saying %q", err, tt.refused)
			}
			if !reflect.DeepEqual(ov.revoked, []string{oidcToken}) {
				t.Errorf("revoked %d tokens with revoke-self, want the new one", len(ov.revoked))
			}
			if strings.Contains(stderr.String(), line) || strings.Contains(pe.Error(), oidcToken) {
				t.Errorf("a refused login was announced, or the error holds the token:\n%s\n%v", stderr.String(), pe)
			}
			if c.Token() != "" {
				t.Error("the client keeps the refused token")
			}
			if got := testenv.WaitFor(t, page, "the browser's page"); got != 403 {
				t.Errorf("the browser's page: %d, want 403", got)
			}
		})
	}
}

func TestAliasName(t *testing.T) {
	for _, tt := range []struct{ display, mount, want string }{
		{"oidc-alice@example.com", "oidc", "alice@example.com"},
		{"team-oidc-alice", "team/oidc", "alice"},
		{"oidc-a-b", "oidc", "a-b"},
		{"elsewhere-alice", "oidc", "elsewhere-alice"},
	} {
		if got := aliasName(tt.display, tt.mount); got != tt.want {
			t.Errorf("aliasName(%q, %q) = %q, want %q", tt.display, tt.mount, got, tt.want)
		}
	}
}

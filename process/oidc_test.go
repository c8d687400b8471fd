package process

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// Unit tests of the oidc method's browser login against a fake Vault and a
// fake browser; the real flow, with Vault as its own OIDC provider, is
// proven in oidc_integration_test.go at the root.

const oidcCode = "code-never-shown-0123456789"

// oidcVault answers auth_url with a URL carrying a state, and callback
// with a token when state, code and client nonce match.
type oidcVault struct {
	*httptest.Server
	mu        sync.Mutex
	nonce     string // client_nonce of the last auth_url
	callbacks []url.Values
}

func newOIDCVault(t *testing.T) *oidcVault {
	t.Helper()
	ov := &oidcVault{}
	ov.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ov.mu.Lock()
		defer ov.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/oidc/oidc/auth_url":
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
			fmt.Fprint(w, `{"auth":{"client_token":"hvs.oidc-token","accessor":"a","lease_duration":3600,"renewable":true,"entity_id":"e-1"}}`)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(ov.Close)
	return ov
}

// oidcFixture is an oidcLogin for the fake Vault on a free loopback port;
// browse is the fake browser.
func oidcFixture(t *testing.T, ov *oidcVault, browse func(authURL string) (string, error)) (*oidcLogin, *api.Client, *bytes.Buffer) {
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
	o := &oidcLogin{
		auth: config.Auth{Method: config.AuthOIDC, Mount: "oidc", Role: "dev", LoginTimeout: 10 * time.Second,
			RedirectURI: fmt.Sprintf("http://localhost:%d/oidc/callback", port), ListenAddress: fmt.Sprintf("localhost:%d", port)},
		timeout: 30 * time.Second, getenv: func(string) string { return "" },
		openTTY: func() (*os.File, error) { return nil, errors.New("no terminal") },
		stderr:  &stderr, debugf: func(string, ...any) {}, now: time.Now, browse: browse,
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
	if secret.Auth.ClientToken != "hvs.oidc-token" || secret.Auth.EntityID != "e-1" {
		t.Errorf("Login = %+v", secret.Auth)
	}
	if got := <-statuses; !reflect.DeepEqual(got, []int{400, 200}) {
		t.Errorf("the browser's pages: %v, want [400 200]", got)
	}
	if len(ov.callbacks) != 1 {
		t.Errorf("Vault got %d callbacks, want 1 (the wrong state must not reach it)", len(ov.callbacks))
	}
	if o.sentAt().IsZero() {
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
	o.auth.LoginTimeout = 200 * time.Millisecond
	_, err := o.Login(context.Background(), c)
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "no login from the browser within login_timeout (200ms)") ||
		!strings.Contains(pe.Hint, "raise login_timeout") {
		t.Fatalf("Login = %v, want the login_timeout error", err)
	}
	// The run's --timeout comes first: it is named instead.
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	o.auth.LoginTimeout = time.Minute
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
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "Vault gave no login URL for redirect_uri http://localhost:") ||
		!strings.Contains(pe.Hint, "allowed_redirect_uris") {
		t.Fatalf("Login = %v", err)
	}
}

func TestOIDCCallbackHandler(t *testing.T) {
	got := make(chan oidcCallback, 1)
	h := &callbackHandler{path: "/oidc/callback", state: "st", got: got, done: make(chan struct{})}
	serve := func(method, target string, header map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := serve("OPTIONS", "/oidc/callback", map[string]string{"Origin": "https://idp.example",
		"Access-Control-Request-Private-Network": "true", "Access-Control-Request-Method": "GET"})
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Private-Network") != "true" ||
		w.Header().Get("Access-Control-Allow-Origin") != "https://idp.example" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
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

package main

// Integration tests of the browser login (oidc auth method) against the real Vault:
// Vault is its own OIDC provider (internal/testbed/oidcbed.go), and a scripted browser
// (internal/testbed/oidcbrowser), set as $BROWSER, signs in there as a userpass user and
// comes back to the helper's loopback listener. It reports what it did to a sink in
// this test process, so that a test can wait for it without sleeping.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

var oidcBed struct {
	once    sync.Once
	err     error
	o       *testbed.OIDC
	browser string
}

// oidcSetup sets up Vault's OIDC provider and the oidc auth mount once per run, and
// builds the scripted browser.
func oidcSetup(t *testing.T, b *testbed.Bed) *testbed.OIDC {
	t.Helper()
	tokens(t, b) // creates the vcp-helper policy
	oidcBed.once.Do(func() {
		ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
		defer cancel()
		oidcBed.o, oidcBed.err = b.SetUpOIDC(ctx, []string{"vcp-helper"}, authTokenTTL)
		if oidcBed.err != nil {
			return
		}
		addSecret(oidcBed.o.UserToken)
		oidcBed.browser = filepath.Join(binDir, exe("oidcbrowser"))
		oidcBed.err = buildTo(oidcBed.browser, filepath.Join("internal", "testbed", "oidcbrowser"))
	})
	if oidcBed.err != nil {
		t.Fatalf("set up the oidc test bed: %v", oidcBed.err)
	}
	return oidcBed.o
}

// browserLog is what the scripted browser reported, line by line.
type browserLog struct {
	url     string
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced at each line
}

func newBrowserLog(t *testing.T) *browserLog {
	bl := &browserLog{changed: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		line := strings.TrimSpace(string(b))
		if code, ok := strings.CutPrefix(line, "code "); ok {
			addSecret(code) // before the helper can have it
		}
		bl.mu.Lock()
		bl.lines = append(bl.lines, line)
		close(bl.changed)
		bl.changed = make(chan struct{})
		bl.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	bl.url = srv.URL
	return bl
}

// count is the number of lines starting with prefix so far.
func (bl *browserLog) count(prefix string) int {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	n := 0
	for _, l := range bl.lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// wait returns once n lines start with prefix, and returns the last of them.
func (bl *browserLog) wait(t *testing.T, prefix string, n int) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		bl.mu.Lock()
		var found []string
		for _, l := range bl.lines {
			if strings.HasPrefix(l, prefix) {
				found = append(found, l)
			}
		}
		changed := bl.changed
		all := strings.Join(bl.lines, "\n")
		bl.mu.Unlock()
		if len(found) >= n {
			return found[n-1]
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the browser did not report %d %q lines; it reported:\n%s", n, prefix, all)
		}
	}
}

// oidcCase is a configuration of the oidc method on a port of its own, and the
// browser that serves it; tmp is the runs' TMPDIR, where the sign-in pages go.
type oidcCase struct {
	env      []string
	redirect string
	browser  *browserLog
	tmp      string
}

// loginPages are the sign-in pages' folders in dir.
func loginPages(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "vault-credential-process-login-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newOIDCCase writes a configuration with method oidc, role R, a redirect URI on a
// free port (allowed in Vault) and extra keys, and sets $BROWSER to the scripted
// browser in mode. The runs get a TMPDIR of their own, which must hold no sign-in
// page when the test ends, whatever the runs did.
func newOIDCCase(t *testing.T, b *testbed.Bed, mode, extra string) oidcCase {
	t.Helper()
	o := oidcSetup(t, b)
	port := closedPort(t)[len("127.0.0.1:"):]
	redirect := "http://localhost:" + port + "/oidc/callback"
	if err := o.Allow(runCtx, redirect); err != nil {
		t.Fatal(err)
	}
	bl := newBrowserLog(t)
	env := authEnv(t, b, fmt.Sprintf("[vault.auth]\nmethod = \"oidc\"\nrole = %q\nredirect_uri = %q\n%s",
		testbed.OIDCRole, redirect, extra), nil)
	tmp := t.TempDir()
	env = append(env, "BROWSER="+oidcBed.browser, "VCP_BROWSER_VAULT="+b.VaultAddr, "VCP_BROWSER_TOKEN="+o.UserToken,
		"VCP_BROWSER_LOG="+bl.url, "VCP_BROWSER_MODE="+mode, "TMPDIR="+tmp)
	t.Cleanup(func() {
		if left := loginPages(t, tmp); len(left) != 0 {
			t.Errorf("sign-in pages left behind: %v", left)
		}
	})
	return oidcCase{env: env, redirect: redirect, browser: bl, tmp: tmp}
}

const (
	oidcAuthURLPath  = "auth/" + testbed.OIDCMount + "/oidc/auth_url"
	oidcCallbackPath = "auth/" + testbed.OIDCMount + "/oidc/callback"
)

// TestOIDCLoginLifecycle: the browser login's token lives like every login's: first
// login, reuse without a login, a cache hit without Vault, parallel runs logging in
// once, renewal below half the TTL, a new login for an expired or revoked token.
func TestOIDCLoginLifecycle(t *testing.T) {
	b := requireBed(t)
	c := newOIDCCase(t, b, "", "")
	checkLoginLifecycle(t, loginCase{vault: b, env: c.env, loginPath: oidcAuthURLPath, identity: "role " + testbed.OIDCRole})

	logins := c.browser.count("open")
	if logins < 3 {
		t.Errorf("the browser was opened %d times, want one per login (3)", logins)
	}
	c.browser.wait(t, "callback ", logins)
	if got := c.browser.count("callback 200"); got != logins {
		t.Errorf("%d of %d callbacks answered 200", got, logins)
	}
	if got := c.browser.count("preflight 204 allow-private-network=true"); got != logins {
		t.Errorf("%d of %d private-network preflights were allowed", got, logins)
	}
}

// TestOIDCParallelColdRuns: eight runs at once with no login token open one browser
// and log in once; the others wait on the login lock and reuse the token.
func TestOIDCParallelColdRuns(t *testing.T) {
	b := requireBed(t)
	c := newOIDCCase(t, b, "", "")
	starts, callbacks := auditCount(t, b, "update", oidcAuthURLPath), auditCount(t, b, "read", oidcCallbackPath)
	const n = 8
	results := runMany(n, func(i int) result { return runBin(t, c.env, assumeArgs(20+i)...) })
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	if got := c.browser.count("open"); got != 1 {
		t.Errorf("%d browsers opened, want 1", got)
	}
	if got := auditCount(t, b, "update", oidcAuthURLPath) - starts; got != 1 {
		t.Errorf("%d logins started, want 1", got)
	}
	if got := auditCount(t, b, "read", oidcCallbackPath) - callbacks; got != 1 {
		t.Errorf("%d callbacks reached Vault, want 1", got)
	}
	loginToken(t, c.env)
}

// TestOIDCWrongStateRefused: a return to the listener with another login's state (an
// old tab, or a page slipping its own login in) is refused and never reaches Vault;
// the login goes on and ends with the right one.
func TestOIDCWrongStateRefused(t *testing.T) {
	b := requireBed(t)
	c := newOIDCCase(t, b, "wrong-state-first", "")
	callbacks := auditCount(t, b, "read", oidcCallbackPath)
	if r := runBin(t, c.env, assumeArgs(15)...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := c.browser.wait(t, "wrong-state ", 1); got != "wrong-state 400" {
		t.Errorf("the callback with another state got %q, want 400", got)
	}
	if got := c.browser.wait(t, "callback ", 1); got != "callback 200" {
		t.Errorf("the right callback got %q, want 200", got)
	}
	if got := auditCount(t, b, "read", oidcCallbackPath) - callbacks; got != 1 {
		t.Errorf("%d callbacks reached Vault, want 1 (the wrong state must not)", got)
	}
}

// TestOIDCNoCallback: nobody signs in; the run ends at login_timeout with one error
// line and a hint, after saying where to log in.
func TestOIDCNoCallback(t *testing.T) {
	b := requireBed(t)
	c := newOIDCCase(t, b, "none", "login_timeout = \"3s\"\n")
	callbacks := auditCount(t, b, "read", oidcCallbackPath)
	start := time.Now()
	// Not a document run: that wants the error line first.
	r := runProgram(t, c.env, runOpts{detached: true, bound: time.Minute}, assumeArgs(15)...)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the run took %s with login_timeout 3s", took)
	}
	// Without a terminal, the lines for the user go to stderr first.
	lines := strings.SplitAfter(r.stderr, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], name+": log in to Vault (oidc at auth/oidc, role R) in your browser within 3s\n") ||
		!strings.HasPrefix(lines[1], name+": if no browser opened, open "+b.VaultAddr+"/ui/vault/identity/oidc/provider/default/authorize?") {
		t.Fatalf("stderr does not start with where to log in:\n%s", r.stderr)
	}
	r.stderr = strings.Join(lines[2:], "")
	assertFailure(t, r, 1, "log in to Vault with oidc at auth/oidc, role R: no login from the browser within login_timeout (3s)",
		"raise login_timeout")
	if got := auditCount(t, b, "read", oidcCallbackPath) - callbacks; got != 0 {
		t.Errorf("%d callbacks reached Vault", got)
	}
	if c.browser.count("open") != 1 {
		t.Errorf("the browser was not opened once: %d", c.browser.count("open"))
	}
}

// TestOIDCDebugShowsNoSecret: --debug tells the steps, never the token or the code;
// the auth URL (its state) is shown once, where the user is told to open it.
func TestOIDCDebugShowsNoSecret(t *testing.T) {
	b := requireBed(t)
	c := newOIDCCase(t, b, "", "")
	r := runProgram(t, c.env, runOpts{detached: true, document: true}, assumeArgs(15, "--debug")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, token := loginToken(t, c.env)
	c.browser.wait(t, "code ", 1)
	assertNoSecret(t, "stderr with --debug", r.stderr)
	if strings.Contains(r.stderr, token) || strings.Contains(r.stderr, "code=") {
		t.Errorf("--debug shows the token or the code:\n%s", r.stderr)
	}
	for _, want := range []string{"POST " + oidcAuthURLPath + ": ok", "browser started with " + oidcBed.browser,
		"GET " + oidcCallbackPath + ": ok", "Vault entity ", "logged in, the token expires"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--debug does not say %q:\n%s", want, r.stderr)
		}
	}
	if n := strings.Count(r.stderr, "state="); n != 1 {
		t.Errorf("the auth URL's state is on stderr %d times, want once (the line saying what to open):\n%s", n, r.stderr)
	}
}

// userLines splits off the lines a run without a terminal writes for the user before
// anything else (where to log in), and returns them and the rest of stderr.
func userLines(t *testing.T, stderr string) (user []string, rest string) {
	t.Helper()
	lines := strings.SplitAfter(stderr, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], name+": log in to Vault (") || !strings.HasPrefix(lines[1], name+": if no browser opened, open ") {
		t.Fatalf("stderr does not start with where to log in:\n%s", stderr)
	}
	return lines[:2], strings.Join(lines[2:], "")
}

// TestOIDCSaysWhoLoggedIn: after every browser login the helper says who signed in:
// the alias name (the role's user_claim) and the entity; whoever it was.
func TestOIDCSaysWhoLoggedIn(t *testing.T) {
	b := requireBed(t)
	o := oidcSetup(t, b)
	for _, tt := range []struct{ user, token string }{{testbed.OIDCUser, o.UserToken}, {testbed.OIDCOtherUser, o.OtherUserToken}} {
		t.Run(tt.user, func(t *testing.T) {
			c := newOIDCCase(t, b, "", "")
			env := append(c.env, "VCP_BROWSER_TOKEN="+tt.token)
			r := runProgram(t, env, runOpts{detached: true, document: true}, assumeArgs(15)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			_, rest := userLines(t, r.stderr)
			want := regexp.MustCompile(`^` + name + `: logged in to Vault as ` + tt.user + ` \(entity entity_[0-9a-f]+, id [0-9a-f-]{36}\)\n$`)
			if !want.MatchString(rest) {
				t.Errorf("stderr after where to log in is not who logged in (%s):\n%s", want, rest)
			}
			loginToken(t, env)
		})
	}
}

// TestOIDCExpectIdentity: with expect_identity, another person who signs in with the
// URL (she saw it on a shared screen, or was sent it) is refused: her token is revoked
// and nothing is stored, and her browser's page says the login failed. The pinned
// person logs in.
func TestOIDCExpectIdentity(t *testing.T) {
	b := requireBed(t)
	o := oidcSetup(t, b)
	pin := fmt.Sprintf("expect_identity = %q\n", testbed.OIDCUser)
	t.Run("another person", func(t *testing.T) {
		c := newOIDCCase(t, b, "", pin)
		env := append(c.env, "VCP_BROWSER_TOKEN="+o.OtherUserToken)
		revokes, callbacks := auditCount(t, b, "update", "auth/token/revoke-self"), auditCount(t, b, "read", oidcCallbackPath)
		// Not a document run: that wants the error line first.
		r := runProgram(t, env, runOpts{detached: true}, assumeArgs(15)...)
		_, r.stderr = userLines(t, r.stderr)
		assertFailure(t, r, 1, "log in to Vault with oidc at auth/oidc, role R, expect_identity alice: the browser signed in as mallory (entity entity_",
			"the token was revoked and not kept")
		if !strings.Contains(r.stderr, ", not alice\n") {
			t.Errorf("the error does not say whom it wanted:\n%s", r.stderr)
		}
		if got := auditCount(t, b, "read", oidcCallbackPath) - callbacks; got != 1 {
			t.Fatalf("%d callbacks reached Vault, want 1", got)
		}
		if got := auditCount(t, b, "update", "auth/token/revoke-self") - revokes; got != 1 {
			t.Errorf("%d tokens revoked with revoke-self, want mallory's", got)
		}
		m, _ := filepath.Glob(filepath.Join(cacheDir(env), "*"))
		for _, p := range m {
			if strings.HasSuffix(p, ".token") || strings.HasSuffix(p, ".json") {
				t.Errorf("stored after a refused login: %s", p)
			}
		}
		if got := c.browser.wait(t, "callback ", 1); got != "callback 403" {
			t.Errorf("the browser's page: %q, want 403", got)
		}
	})
	t.Run("the pinned person", func(t *testing.T) {
		c := newOIDCCase(t, b, "", pin)
		r := runProgram(t, c.env, runOpts{detached: true, document: true}, assumeArgs(15)...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if _, rest := userLines(t, r.stderr); !strings.HasPrefix(rest, name+": logged in to Vault as alice (entity entity_") {
			t.Errorf("stderr does not say who logged in:\n%s", r.stderr)
		}
		loginToken(t, c.env)
		if got := c.browser.wait(t, "callback ", 1); got != "callback 200" {
			t.Errorf("the browser's page: %q, want 200", got)
		}
	})
}

// TestOIDCBrowserEnvironment: the browser the login starts gets none of the secrets
// in the helper's environment (Vault token, AWS keys).
func TestOIDCBrowserEnvironment(t *testing.T) {
	b := requireBed(t)
	c := newOIDCCase(t, b, "", "")
	env := append(c.env, "VAULT_TOKEN=hvs.not-for-the-browser", "AWS_SECRET_ACCESS_KEY=not-for-the-browser",
		"AWS_SESSION_TOKEN=not-for-the-browser", "AWS_SECURITY_TOKEN=not-for-the-browser",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=not-for-the-browser")
	r := runProgram(t, env, runOpts{detached: true, document: true}, assumeArgs(15)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := c.browser.wait(t, "environ ", 1); got != "environ clean" {
		t.Errorf("the browser's environment: %q, want no secret", got)
	}
}

package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Unit tests of logging in and of the login token's life, against a fake Vault with
// the LDAP auth method (which shares userpass's flow); the other methods are proven
// against the real Vault in auth_integration_test.go.

const ldapPassword = "ldap-Pa55word-never-shown"

// loginVault is a fake Vault: LDAP login for bob, token renew and lookup, and
// iam_user-like credentials at aws/creds/x that need a live token.
type loginVault struct {
	*httptest.Server
	mu        sync.Mutex
	ttl       int  // lease duration of login tokens
	renewable bool // of login tokens
	renewTTL  int  // what renew-self gives; 0: ttl
	credsTTL  int  // lease of the credentials
	sts       bool // the credentials have a session token
	denyCreds bool // aws/creds answers 403 to any token
	live      map[string]bool
	issued    []string
	counts    map[string]int
}

func newLoginVault(t *testing.T) *loginVault {
	t.Helper()
	lv := &loginVault{ttl: 3600, renewable: true, credsTTL: 3600, live: map[string]bool{}, counts: map[string]int{}}
	lv.Server = httptest.NewServer(http.HandlerFunc(lv.serve))
	t.Cleanup(lv.Close)
	return lv
}

func (lv *loginVault) serve(w http.ResponseWriter, r *http.Request) {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	token := r.Header.Get("X-Vault-Token")
	lv.counts[r.URL.Path]++
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	denied := map[string]any{"errors": []string{"permission denied"}}
	switch r.URL.Path {
	case "/v1/auth/ldap/login/bob":
		if in["password"] != ldapPassword {
			answer(400, map[string]any{"errors": []string{"ldap operation failed: invalid username or password"}})
			return
		}
		tok := fmt.Sprintf("hvs.login-%d-mustNotLeak", len(lv.issued)+1)
		lv.issued = append(lv.issued, tok)
		lv.live[tok] = true
		answer(200, map[string]any{"auth": map[string]any{"client_token": tok, "accessor": "accessor-of-" + tok, "lease_duration": lv.ttl, "renewable": lv.renewable}})
	case "/v1/auth/token/renew-self":
		if !lv.live[token] {
			answer(403, denied)
			return
		}
		ttl := lv.renewTTL
		if ttl == 0 {
			ttl = lv.ttl
		}
		answer(200, map[string]any{"auth": map[string]any{"client_token": token, "accessor": "accessor-of-" + token, "lease_duration": ttl, "renewable": true}})
	case "/v1/auth/token/lookup-self":
		if !lv.live[token] {
			answer(403, denied)
			return
		}
		answer(200, map[string]any{"data": map[string]any{"id": token, "accessor": "accessor-of-" + token}})
	case "/v1/aws/creds/x":
		if !lv.live[token] || lv.denyCreds {
			answer(403, denied)
			return
		}
		data := map[string]any{"access_key": "AKIALOGIN", "secret_key": "secret-key-of-" + token}
		if lv.sts {
			data["session_token"] = "session-token-value"
		}
		answer(200, map[string]any{"lease_id": "aws/creds/x/" + token, "renewable": !lv.sts, "lease_duration": lv.credsTTL, "data": data})
	case "/v1/sys/leases/renew":
		if !lv.live[token] {
			answer(403, denied)
			return
		}
		answer(200, map[string]any{"lease_id": in["lease_id"], "renewable": true, "lease_duration": lv.credsTTL})
	default:
		answer(404, map[string]any{"errors": []string{"no handler for route " + r.URL.Path}})
	}
}

func (lv *loginVault) count(path string) int {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	return lv.counts["/v1/"+path]
}

func (lv *loginVault) set(f func(lv *loginVault)) {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	f(lv)
}

// loginFixture runs Runners against a loginVault with LDAP auth, a shared cache
// folder and a clock the test moves.
type loginFixture struct {
	lv    *loginVault
	dir   string
	clock time.Time
	env   map[string]string
	log   strings.Builder
	// openTTY, when set, stands in for the terminal of password prompts.
	openTTY func() (*os.File, error)
	// unattended runs as a server's background refresh: nobody there.
	unattended bool
}

func newLoginFixture(t *testing.T) *loginFixture {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "VAULT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("HOME", t.TempDir())
	fx := &loginFixture{lv: newLoginVault(t), dir: t.TempDir(), clock: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	pw := filepath.Join(fx.dir, "password")
	if err := os.WriteFile(pw, []byte(ldapPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fx.env = map[string]string{
		"VAULT_ADDR":                                   fx.lv.URL,
		"VAULT_CREDENTIAL_PROCESS_AUTH_METHOD":         "ldap",
		"VAULT_CREDENTIAL_PROCESS_AUTH_USERNAME":       "bob",
		"VAULT_CREDENTIAL_PROCESS_AUTH_PASSWORD_FILE":  pw,
		"VAULT_CREDENTIAL_PROCESS_RETRIES":             "0",
		"VAULT_CREDENTIAL_PROCESS_CACHE_DIR":           filepath.Join(fx.dir, "cache"),
		"VAULT_CREDENTIAL_PROCESS_AUTH_SECRET_ID_FILE": "", // not set: ldap
	}
	return fx
}

func (fx *loginFixture) now() time.Time { return fx.clock }

// run gets credentials with the given extra flags (ttl values make distinct entries).
func (fx *loginFixture) run(t *testing.T, flags *config.Flags) (*process.Credentials, process.CredentialSource, error) {
	t.Helper()
	fl := &config.Flags{config.IDRole: "x"}
	if flags != nil {
		for id, v := range flags {
			if v != "" {
				fl[id] = v
			}
		}
	}
	s, err := config.Resolve(config.Inputs{Flags: fl, Getenv: func(k string) string { return fx.env[k] }})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	debugf := func(format string, args ...any) { fmt.Fprintf(&fx.log, format+"\n", args...) }
	r := &process.Runner{Settings: s, Now: fx.now, Debugf: debugf, Warnf: debugf, Getenv: os.Getenv,
		NewSource: func(ctx context.Context) (process.Source, error) {
			v, err := New(ctx, s, Options{Now: fx.now, Debugf: debugf, Getenv: os.Getenv})
			if err == nil && fx.openTTY != nil {
				v.OpenTTY = fx.openTTY
			}
			if err == nil && fx.unattended {
				v.OpenTTY = nil
			}
			return v, err
		}}
	return r.Credentials(context.Background())
}

func (fx *loginFixture) mustRun(t *testing.T, flags *config.Flags) *process.Credentials {
	t.Helper()
	c, _, err := fx.run(t, flags)
	if err != nil {
		t.Fatalf("Credentials: %v\n%s", err, fx.log.String())
	}
	return c
}

// tokenFile is the one login token file.
func (fx *loginFixture) tokenFile(t *testing.T) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(fx.dir, "cache", "login-*.token"))
	if len(m) != 1 {
		t.Fatalf("login token files: %v", m)
	}
	return m[0]
}

func (fx *loginFixture) noSecretsLogged(t *testing.T) {
	t.Helper()
	fx.lv.mu.Lock()
	issued := append([]string{ldapPassword}, fx.lv.issued...)
	fx.lv.mu.Unlock()
	for _, s := range issued {
		if strings.Contains(fx.log.String(), s) {
			t.Errorf("--debug output holds a secret (%s...):\n%s", s[:8], fx.log.String())
		}
	}
}

func TestLoginLDAPReusesToken(t *testing.T) {
	fx := newLoginFixture(t)
	c := fx.mustRun(t, &config.Flags{config.IDTTL: "15m"})
	if fx.lv.count("auth/ldap/login/bob") != 1 || c.SecretAccessKey != "secret-key-of-hvs.login-1-mustNotLeak" {
		t.Fatalf("first run: %d logins, credentials of %q", fx.lv.count("auth/ldap/login/bob"), c.SecretAccessKey)
	}
	fx.mustRun(t, &config.Flags{config.IDTTL: "16m"})
	if got := fx.lv.count("auth/ldap/login/bob"); got != 1 {
		t.Errorf("second run: %d logins, want 1 (token reused)", got)
	}
	if got := fx.lv.count("aws/creds/x"); got != 2 {
		t.Errorf("%d credential requests, want 2", got)
	}
	if !strings.Contains(fx.log.String(), "auth ldap at auth/ldap, username bob: login token reused") {
		t.Errorf("--debug does not say the token was reused:\n%s", fx.log.String())
	}
	path := fx.tokenFile(t)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), ldapPassword) {
		t.Errorf("the token file holds the password")
	}
	fx.noSecretsLogged(t)
}

// TestLoginTokenRule walks the reuse rule: more than half the TTL and twice the
// timeout left is reused; less is renewed when renewable, and replaced by a login when
// not, when the renewal is stopped by the max TTL, or when the token expired.
func TestLoginTokenRule(t *testing.T) {
	tests := []struct {
		name      string
		ttl       int // seconds
		renewable bool
		renewTTL  int
		after     time.Duration // clock moved after the first login
		logins    int           // logins by the second run
		renewals  int
	}{
		{"just over half left", 3600, true, 0, 29 * time.Minute, 0, 0},
		{"just under half left, renewable", 3600, true, 0, 31 * time.Minute, 0, 1},
		{"under half left, not renewable", 3600, false, 0, 31 * time.Minute, 1, 0},
		{"renewal stopped by the max TTL", 3600, true, 600, 31 * time.Minute, 1, 1},
		{"expired", 3600, true, 0, 61 * time.Minute, 1, 0},
		{"long TTL, under twice the timeout left", 86400, true, 0, 86400*time.Second - 50*time.Second, 0, 1},
		{"short TTL is never reused", 50, false, 0, time.Second, 1, 0},
		{"no TTL never expires", 0, false, 0, 1000 * time.Hour, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newLoginFixture(t)
			fx.lv.set(func(lv *loginVault) {
				lv.ttl, lv.renewable, lv.renewTTL = tt.ttl, tt.renewable, tt.renewTTL
				lv.credsTTL = 7 * 24 * 3600 // the credentials stay fresh; only the token ages
			})
			fx.mustRun(t, &config.Flags{config.IDTTL: "15m"})
			fx.clock = fx.clock.Add(tt.after)
			fx.mustRun(t, &config.Flags{config.IDTTL: "16m"})
			if got := fx.lv.count("auth/ldap/login/bob") - 1; got != tt.logins {
				t.Errorf("%d logins by the second run, want %d\n%s", got, tt.logins, fx.log.String())
			}
			if got := fx.lv.count("auth/token/renew-self"); got != tt.renewals {
				t.Errorf("%d renewals, want %d\n%s", got, tt.renewals, fx.log.String())
			}
			// Whatever happened, a third run now reuses what the second left.
			fx.mustRun(t, &config.Flags{config.IDTTL: "17m"})
			if got := fx.lv.count("auth/ldap/login/bob") - 1; got != tt.logins && tt.ttl >= 4*30 {
				t.Errorf("the third run logged in again: %d logins", got)
			}
			fx.noSecretsLogged(t)
		})
	}
}

func TestLoginWrongPassword(t *testing.T) {
	fx := newLoginFixture(t)
	if err := os.WriteFile(fx.env["VAULT_CREDENTIAL_PROCESS_AUTH_PASSWORD_FILE"], []byte("wrong-password-123"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := fx.run(t, nil)
	var pe *process.Error
	if !errors.As(err, &pe) || pe.Code != process.ExitFailure {
		t.Fatalf("err = %v, want a run-time *Error", err)
	}
	if !strings.Contains(pe.Msg, "log in to Vault with ldap at auth/ldap, username bob: Vault answered 400: ldap operation failed: invalid username or password") ||
		!strings.Contains(pe.Hint, "password_file "+fx.env["VAULT_CREDENTIAL_PROCESS_AUTH_PASSWORD_FILE"]) {
		t.Errorf("error %q, hint %q", pe.Msg, pe.Hint)
	}
	for _, text := range []string{pe.Msg, pe.Hint, fx.log.String()} {
		if strings.Contains(text, "wrong-password-123") {
			t.Errorf("the password leaked: %q", text)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(fx.dir, "cache", "login-*.token")); len(m) != 0 {
		t.Errorf("a failed login left a token file: %v", m)
	}
}

func TestLoginRevokedTokenLogsInOnce(t *testing.T) {
	fx := newLoginFixture(t)
	fx.mustRun(t, &config.Flags{config.IDTTL: "15m"})
	fx.lv.set(func(lv *loginVault) { lv.live = map[string]bool{} }) // Vault forgot every token
	c := fx.mustRun(t, &config.Flags{config.IDTTL: "16m"})
	if got := fx.lv.count("auth/ldap/login/bob"); got != 2 {
		t.Errorf("%d logins, want 2", got)
	}
	if c.SecretAccessKey != "secret-key-of-hvs.login-2-mustNotLeak" {
		t.Errorf("credentials of %q, want those of the new token", c.SecretAccessKey)
	}
	if got := fx.lv.count("aws/creds/x"); got != 3 {
		t.Errorf("%d credential requests, want 3 (the refused one, then the retry)", got)
	}
}

func TestLoginPolicy403DoesNotLogInAgain(t *testing.T) {
	fx := newLoginFixture(t)
	fx.mustRun(t, &config.Flags{config.IDTTL: "15m"})
	fx.lv.set(func(lv *loginVault) { lv.denyCreds = true })
	_, _, err := fx.run(t, &config.Flags{config.IDTTL: "16m"})
	var pe *process.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Hint, "the policies of the token from ldap at auth/ldap, username bob do not allow aws/creds/x") {
		t.Fatalf("err = %v (%+v)", err, pe)
	}
	if got := fx.lv.count("auth/ldap/login/bob"); got != 1 {
		t.Errorf("%d logins, want 1: the token is fine, its policy is not", got)
	}
	if got := fx.lv.count("auth/token/lookup-self"); got != 1 {
		t.Errorf("%d token lookups, want 1: the token is known from the login", got)
	}
}

// TestCapToLogin: Vault revokes iam_user credentials with the token that created
// them, so their expiry is the token's when that comes first; STS credentials keep
// theirs.
func TestCapToLogin(t *testing.T) {
	for _, sts := range []bool{false, true} {
		t.Run(fmt.Sprintf("sts=%v", sts), func(t *testing.T) {
			fx := newLoginFixture(t)
			fx.lv.set(func(lv *loginVault) { lv.ttl, lv.credsTTL, lv.sts = 1800, 3600, sts })
			c := fx.mustRun(t, nil)
			want, lease := fx.clock.Add(30*time.Minute), 30*time.Minute
			if sts {
				want, lease = fx.clock.Add(time.Hour), time.Hour
			}
			if !c.Expiration.Equal(want) || c.LeaseDuration != lease {
				t.Errorf("Expiration %s, lease %s; want %s, %s", c.Expiration, c.LeaseDuration, want, lease)
			}
		})
	}
}

// TestLeaseOfAnEarlierLogin: an iam_user lease issued under a token that has since been
// replaced dies with that token, so it is not renewed: new credentials are minted.
func TestLeaseOfAnEarlierLogin(t *testing.T) {
	fx := newLoginFixture(t)
	fx.lv.set(func(lv *loginVault) { lv.renewable = false })
	first := fx.mustRun(t, nil)
	// 40 minutes on, the entry (capped at the token's hour) is due for refresh,
	// and the non-renewable token is below half its TTL: a new login.
	fx.clock = fx.clock.Add(50 * time.Minute)
	second := fx.mustRun(t, nil)
	if got := fx.lv.count("auth/ldap/login/bob"); got != 2 {
		t.Fatalf("%d logins, want 2\n%s", got, fx.log.String())
	}
	if got := fx.lv.count("sys/leases/renew"); got != 0 {
		t.Errorf("the lease of the first token was renewed %d times", got)
	}
	if second.LeaseID == first.LeaseID {
		t.Errorf("the credentials were not minted anew")
	}
	if !strings.Contains(fx.log.String(), "minted under another Vault token") {
		t.Errorf("--debug does not say why:\n%s", fx.log.String())
	}

	t.Run("same token: the lease is renewed as before", func(t *testing.T) {
		fx := newLoginFixture(t)
		fx.lv.set(func(lv *loginVault) { lv.ttl = 86400 })
		first := fx.mustRun(t, nil)
		fx.clock = fx.clock.Add(50 * time.Minute)
		second := fx.mustRun(t, nil)
		if got := fx.lv.count("sys/leases/renew"); got != 1 {
			t.Errorf("%d lease renewals, want 1\n%s", got, fx.log.String())
		}
		if fx.lv.count("aws/creds/x") != 1 || second.LeaseID != first.LeaseID {
			t.Errorf("new credentials were minted")
		}
	})
}

func TestLoginCacheDisabled(t *testing.T) {
	fx := newLoginFixture(t)
	fx.env["VAULT_CREDENTIAL_PROCESS_NO_CACHE"] = "1"
	fx.mustRun(t, nil)
	fx.mustRun(t, nil)
	if got := fx.lv.count("auth/ldap/login/bob"); got != 2 {
		t.Errorf("%d logins with the cache off, want 2", got)
	}
	if _, err := os.Stat(filepath.Join(fx.dir, "cache")); !os.IsNotExist(err) {
		t.Errorf("the cache folder exists: %v", err)
	}
}

func TestLoginNoPasswordNoTerminal(t *testing.T) {
	fx := newLoginFixture(t)
	fx.openTTY = func() (*os.File, error) { return nil, errors.New("open /dev/tty: no such device") }
	delete(fx.env, "VAULT_CREDENTIAL_PROCESS_AUTH_PASSWORD_FILE")
	_, _, err := fx.run(t, nil)
	var pe *process.Error
	if !errors.As(err, &pe) || pe.Code != process.ExitUsage || !strings.Contains(pe.Msg, "there is no terminal to ask on") ||
		!strings.Contains(pe.Hint, "password_env") {
		t.Fatalf("err = %v (%+v)", err, pe)
	}
	if got := fx.lv.count("auth/ldap/login/bob"); got != 0 {
		t.Errorf("%d logins without a password", got)
	}
}

// TestRunnerKeyHasLoginIdentity: two identities never share credentials; token auth
// keeps the key it always had.
func TestRunnerKeyHasLoginIdentity(t *testing.T) {
	base := config.Settings{Address: "https://vault:8200", Mount: "aws", Role: "dev"}
	key := func(a config.Auth) string {
		t.Helper()
		s := base
		s.Auth = a
		k, err := (&process.Runner{Settings: &s, Getenv: os.Getenv}).Key()
		if err != nil {
			t.Fatalf("Key: %v", err)
		}
		return k
	}
	dir := t.TempDir()
	certA, certB := filepath.Join(dir, "a.pem"), filepath.Join(dir, "b.pem")
	writeFile(t, certA, pemCert("certificate A"))
	writeFile(t, certB, pemCert("certificate B"))
	token := cache.Key("vault-credential-process/1", "https://vault:8200", "", "aws", "dev", "", "0", "", "", "")
	if got := key(config.Auth{}); got != token {
		t.Errorf("token auth key changed: %s, want %s", got, token)
	}
	keys := map[string]string{}
	for name, a := range map[string]config.Auth{
		"token":        {},
		"approle a":    {Method: config.AuthAppRole, Mount: "approle", RoleID: "a"},
		"approle b":    {Method: config.AuthAppRole, Mount: "approle", RoleID: "b"},
		"approle a/x":  {Method: config.AuthAppRole, Mount: "x", RoleID: "a"},
		"userpass a":   {Method: config.AuthUserpass, Mount: "userpass", Username: "a"},
		"ldap a":       {Method: config.AuthLDAP, Mount: "userpass", Username: "a"},
		"cert web":     {Method: config.AuthCert, Mount: "cert", Name: "web", ClientCert: certA},
		"cert web, c2": {Method: config.AuthCert, Mount: "cert", Name: "web", ClientCert: certB},
	} {
		k := key(a)
		if other, ok := keys[k]; ok {
			t.Errorf("%s and %s share a cache key", name, other)
		}
		keys[k] = name
	}
	// The secret's source is not the identity: moving the secret id keeps the entry.
	if key(config.Auth{Method: config.AuthAppRole, Mount: "approle", RoleID: "a", SecretIDFile: "/1"}) !=
		key(config.Auth{Method: config.AuthAppRole, Mount: "approle", RoleID: "a", SecretIDEnv: "S"}) {
		t.Errorf("the secret id's source changed the key")
	}
}

// TestLoginUnusableCacheFolder (issue 10, bug 4): a login method with a cache
// folder that cannot be created (a read-only root file system in a pod) logs in,
// keeps nothing and hands out the credentials, as token auth does; a folder that
// is unsafe is still refused.
func TestLoginUnusableCacheFolder(t *testing.T) {
	fx := newLoginFixture(t)
	fx.env["VAULT_CREDENTIAL_PROCESS_CACHE_DIR"] = "/dev/null/c"
	c, src, err := fx.run(t, &config.Flags{config.IDTTL: "15m"})
	if err != nil {
		t.Fatalf("run with an unusable cache folder: %v\n%s", err, fx.log.String())
	}
	if src != process.SourceVault || c.SecretAccessKey != "secret-key-of-hvs.login-1-mustNotLeak" {
		t.Errorf("credentials %q from %s, want those of the first login from vault", c.SecretAccessKey, src)
	}
	if !strings.Contains(fx.log.String(), "could not cache the credentials") {
		t.Errorf("no warning that nothing was cached:\n%s", fx.log.String())
	}

	t.Run("unsafe folder is refused", func(t *testing.T) {
		fx := newLoginFixture(t)
		dir := filepath.Join(fx.dir, "open")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		fx.env["VAULT_CREDENTIAL_PROCESS_CACHE_DIR"] = dir
		if _, _, err := fx.run(t, nil); !errors.Is(err, cache.ErrUnsafe) {
			t.Errorf("err = %v, want one wrapping cache.ErrUnsafe", err)
		}
		if got := fx.lv.count("auth/ldap/login/bob"); got != 0 {
			t.Errorf("%d logins with an unsafe cache folder, want 0", got)
		}
	})
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// pemCert is a PEM block of type CERTIFICATE around der: only its bytes are
// hashed, so it need not be a real certificate.
func pemCert(der string) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte(der)}))
}

// fakeJWT is a compact JWS with the given claims and a signature nobody
// checks: the key only decodes the claims.
func fakeJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + "." +
		base64.RawURLEncoding.EncodeToString([]byte("not a real signature"))
}

// TestKeyIdentityOfTheSecret (issue 10, bug 2): jwt, kubernetes and cert logins
// are keyed by who the secret proves, not by where it is. Two CI jobs with the
// same jwt_env and different subjects get different entries and login tokens;
// a rotated JWT of the same subject keeps both.
func TestKeyIdentityOfTheSecret(t *testing.T) {
	testenv.ClearVaultAWS(t)
	dir := t.TempDir()
	s := config.Settings{Address: "https://vault:8200", Mount: "aws", Role: "dev", CacheDir: dir}
	keys := func(a config.Auth) (string, string) { t.Helper(); return keysOf(t, s, a) }
	jobA := fakeJWT(map[string]any{"iss": "https://ci.example", "sub": "repo:a:ref:main", "aud": "vault", "iat": 1, "jti": "1"})
	jobARotated := fakeJWT(map[string]any{"iss": "https://ci.example", "sub": "repo:a:ref:main", "aud": []string{"vault"}, "iat": 2, "jti": "2"})
	jobB := fakeJWT(map[string]any{"iss": "https://ci.example", "sub": "repo:b:ref:main", "aud": "vault", "iat": 1, "jti": "3"})
	otherAud := fakeJWT(map[string]any{"iss": "https://ci.example", "sub": "repo:a:ref:main", "aud": "other", "iat": 1})
	// Same iss, sub and aud, another workflow: a role may bind that claim.
	otherWorkflow := fakeJWT(map[string]any{"iss": "https://ci.example", "sub": "repo:a:ref:main", "aud": "vault", "iat": 1,
		"jti": "4", "job_workflow_ref": "a/.github/workflows/deploy.yml@refs/heads/main"})
	jwtEnv := config.Auth{Method: config.AuthJWT, Mount: "jwt", Role: "ci", JWTEnv: "CI_JOB_JWT"}
	jwtFile := filepath.Join(dir, "token")
	k8s := config.Auth{Method: config.AuthKubernetes, Mount: "kubernetes", Role: "app", JWTFile: jwtFile}

	type ids struct{ key, login string }
	with := func(a config.Auth, secret string) ids {
		t.Helper()
		t.Setenv("CI_JOB_JWT", secret)
		writeFile(t, jwtFile, secret+"\n")
		k, l := keys(a)
		return ids{k, l}
	}
	for _, a := range []config.Auth{jwtEnv, k8s} {
		t.Run(a.Method, func(t *testing.T) {
			a1, a2, b, aud := with(a, jobA), with(a, jobARotated), with(a, jobB), with(a, otherAud)
			if a1 != a2 {
				t.Errorf("a rotated JWT of the same subject changed the key or login file: %v, %v", a1, a2)
			}
			if a1.key == b.key || a1.login == b.login {
				t.Errorf("jobs A and B share a cache entry or login token: %v, %v", a1, b)
			}
			if a1.key == aud.key || a1.login == aud.login {
				t.Errorf("another audience shares a cache entry or login token")
			}
			if wf := with(a, otherWorkflow); a1.key == wf.key || a1.login == wf.login {
				t.Errorf("another workflow of the same subject shares a cache entry or login token")
			}
			opaque1, opaque2 := with(a, "opaque-token-1"), with(a, "opaque-token-2")
			if opaque1 == opaque2 {
				t.Errorf("two tokens that are not JWTs share a cache entry")
			}
		})
	}

	t.Run("cert", func(t *testing.T) { keyOfCertificates(t, s, dir) })
	t.Run("errors", func(t *testing.T) { keyErrors(t, s, jwtFile) })
}

// keysOf is the cache key and the login token file's name of s with the login a.
func keysOf(t *testing.T, s config.Settings, a config.Auth) (key, loginFile string) {
	t.Helper()
	s.Auth = a
	k, err := (&process.Runner{Settings: &s, Getenv: os.Getenv}).Key()
	if err != nil {
		t.Fatalf("Key: %v", err)
	}
	name, err := (&login{s: &s, auth: a, getenv: os.Getenv}).fileName()
	if err != nil {
		t.Fatalf("fileName: %v", err)
	}
	return k, name
}

// keyOfCertificates: two certificates at one path are two identities.
func keyOfCertificates(t *testing.T, s config.Settings, dir string) {
	cert := filepath.Join(dir, "cert.pem")
	a := config.Auth{Method: config.AuthCert, Mount: "cert", ClientCert: cert}
	writeFile(t, cert, pemCert("certificate A"))
	k1, l1 := keysOf(t, s, a)
	writeFile(t, cert, pemCert("certificate B"))
	k2, l2 := keysOf(t, s, a)
	if k1 == k2 || l1 == l2 {
		t.Errorf("two certificates at one path share a cache entry or login token")
	}
}

// keyErrors: a secret that cannot be read or is not what the method takes is a
// usage error with a hint. notPEM is a file that holds no certificate.
func keyErrors(t *testing.T, s config.Settings, notPEM string) {
	for name, a := range map[string]config.Auth{
		"missing jwt_file": {Method: config.AuthJWT, Mount: "jwt", Role: "ci", JWTFile: filepath.Join(filepath.Dir(notPEM), "nope")},
		"empty jwt_env":    {Method: config.AuthJWT, Mount: "jwt", Role: "ci", JWTEnv: "UNSET_VARIABLE_FOR_TEST"},
		"not a PEM cert":   {Method: config.AuthCert, Mount: "cert", ClientCert: notPEM},
	} {
		st := s
		st.Auth = a
		_, err := (&process.Runner{Settings: &st, Getenv: os.Getenv}).Key()
		var pe *process.Error
		if !errors.As(err, &pe) || pe.Code != process.ExitUsage || pe.Hint == "" {
			t.Errorf("%s: Key error %v, want a usage error with a hint", name, err)
		}
	}
}

// TestUnattendedLoginDoesNotPrompt: a server's background refresh (nobody
// at the terminal) never asks for a password or starts a browser login; it
// fails at once, without logging in.
func TestUnattendedLoginDoesNotPrompt(t *testing.T) {
	fx := newLoginFixture(t)
	fx.unattended = true
	delete(fx.env, "VAULT_CREDENTIAL_PROCESS_AUTH_PASSWORD_FILE")
	_, _, err := fx.run(t, nil)
	var pe *process.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "there is no terminal to ask on") {
		t.Fatalf("err = %v, want the no-terminal refusal", err)
	}
	if got := fx.lv.count("auth/ldap/login/bob"); got != 0 {
		t.Errorf("%d logins without a password", got)
	}

	t.Run("oidc", func(t *testing.T) {
		fx := newLoginFixture(t)
		fx.unattended = true
		fx.env = map[string]string{"VAULT_ADDR": fx.lv.URL, "VAULT_CREDENTIAL_PROCESS_AUTH_METHOD": "oidc",
			"VAULT_CREDENTIAL_PROCESS_AUTH_ROLE": "dev", "VAULT_CREDENTIAL_PROCESS_RETRIES": "0",
			"VAULT_CREDENTIAL_PROCESS_CACHE_DIR": filepath.Join(fx.dir, "cache")}
		_, _, err := fx.run(t, nil)
		var pe *process.Error
		if !errors.As(err, &pe) || !errors.Is(err, errUnattended) || !strings.Contains(pe.Hint, "doctor") {
			t.Fatalf("err = %v, want the unattended refusal with a hint", err)
		}
		if n := len(fx.lv.counts); n != 0 {
			t.Errorf("Vault was asked %d times: %v", n, fx.lv.counts)
		}
	})
}

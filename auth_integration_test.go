package main

// Integration tests of Vault authentication beyond a token: each auth method logs in to
// a real Vault (cert to a second Vault listening with TLS), its login token is kept in
// the cache folder, reused, renewed and replaced, parallel runs log in once, and a real
// Vault Proxy with auto-auth serves a helper that has no token at all.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// What authSetup creates in the bed's Vault. Every method's tokens get the helper's
// policy (see tokens) and a 1h TTL.
const (
	authAppRole   = "vcp"   // auth/approle/role/vcp
	authUser      = "alice" // auth/userpass/users/alice
	authJWTRole   = "ci"    // auth/jwt/role/ci
	authK8sRole   = "app"   // auth/kubernetes/role/app
	authK8sNS     = "team"  // the service account's namespace
	authK8sSA     = "app"   // the service account
	authK8sUID    = "5f0c8d2e-0000-4000-8000-00000000a11c"
	authJWTIssuer = "vcp-test"
	authJWTAud    = "vcp"
	authTokenTTL  = time.Hour
)

var authBed struct {
	once     sync.Once
	err      error
	roleID   string
	password string
	jwtKey   *rsa.PrivateKey
	review   *tokenReview
}

// authSetup enables and configures approle, userpass, jwt and kubernetes auth in the
// bed's Vault, once per run.
func authSetup(t *testing.T, b *testbed.Bed) {
	t.Helper()
	tokens(t, b) // creates the vcp-helper policy
	authBed.once.Do(func() {
		ctx, cancel := context.WithTimeout(runCtx, time.Minute)
		defer cancel()
		authBed.err = func() error {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return err
			}
			authBed.jwtKey = key
			pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
			if err != nil {
				return err
			}
			authBed.password = "pw-" + randomHex(t, 16)
			addSecret(authBed.password)
			authBed.review = startTokenReview()
			token := map[string]any{"token_policies": []string{"vcp-helper"}, "token_ttl": authTokenTTL.String(), "token_max_ttl": "4h"}
			with := func(m map[string]any) map[string]any {
				for k, v := range token {
					m[k] = v
				}
				return m
			}
			steps := []struct {
				path string
				body any
			}{
				{"sys/auth/approle", map[string]any{"type": "approle"}},
				{"sys/auth/userpass", map[string]any{"type": "userpass"}},
				{"sys/auth/jwt", map[string]any{"type": "jwt"}},
				{"sys/auth/kubernetes", map[string]any{"type": "kubernetes"}},
				{"auth/approle/role/" + authAppRole, with(map[string]any{})},
				{"auth/userpass/users/" + authUser, with(map[string]any{"password": authBed.password})},
				{"auth/jwt/config", map[string]any{"bound_issuer": authJWTIssuer,
					"jwt_validation_pubkeys": []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))}}},
				{"auth/jwt/role/" + authJWTRole, with(map[string]any{"role_type": "jwt", "user_claim": "sub",
					"bound_audiences": []string{authJWTAud}})},
				// Vault calls the TokenReview endpoint on 127.0.0.1 for every kubernetes login.
				{"auth/kubernetes/config", map[string]any{"kubernetes_host": authBed.review.srv.URL,
					"disable_local_ca_jwt": true, "token_reviewer_jwt": "reviewer-" + randomHex(t, 8)}},
				{"auth/kubernetes/role/" + authK8sRole, with(map[string]any{
					"bound_service_account_names": []string{authK8sSA}, "bound_service_account_namespaces": []string{authK8sNS}})},
			}
			for _, s := range steps {
				if err := b.VaultRequest(ctx, "POST", s.path, s.body, nil); err != nil {
					return err
				}
			}
			var out struct {
				Data struct {
					RoleID string `json:"role_id"`
				} `json:"data"`
			}
			if err := b.VaultRequest(ctx, "GET", "auth/approle/role/"+authAppRole+"/role-id", nil, &out); err != nil {
				return err
			}
			authBed.roleID = out.Data.RoleID
			return nil
		}()
	})
	if authBed.err != nil {
		t.Fatalf("set up auth methods: %v", authBed.err)
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

// newSecretID makes a secret id for the approle role; wrapped, it is a response-wrapping
// token around it.
func newSecretID(t *testing.T, b *testbed.Bed, wrapped bool) string {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: b.VaultAddr, HttpClient: &http.Client{Transport: &http.Transport{Proxy: nil}}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(b.RootToken)
	if wrapped {
		c.SetWrappingLookupFunc(func(string, string) string { return "5m" })
	}
	s, err := c.Logical().WriteWithContext(runCtx, "auth/approle/role/"+authAppRole+"/secret-id", nil)
	if err != nil {
		t.Fatalf("create a secret id: %v", err)
	}
	if wrapped {
		addSecret(s.WrapInfo.Token)
		return s.WrapInfo.Token
	}
	id, _ := s.Data["secret_id"].(string)
	addSecret(id)
	return id
}

// signJWT signs claims with RS256.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	jwt := signed + "." + base64.RawURLEncoding.EncodeToString(sig)
	addSecret(jwt)
	return jwt
}

// ciJWT is a JWT that the jwt auth role authJWTRole accepts, for subject sub, issued
// at iat and valid for two hours.
func ciJWT(t *testing.T, sub string, iat time.Time) string {
	t.Helper()
	return signJWT(t, authBed.jwtKey, map[string]any{"iss": authJWTIssuer, "sub": sub, "aud": authJWTAud,
		"iat": iat.Unix(), "nbf": iat.Add(-time.Minute).Unix(), "exp": iat.Add(2 * time.Hour).Unix()})
}

// tokenReview is a Kubernetes TokenReview endpoint: it authenticates the service
// account tokens it was told about.
type tokenReview struct {
	srv   *httptest.Server
	mu    sync.Mutex
	valid map[string]bool
	calls int
}

func startTokenReview() *tokenReview {
	tr := &tokenReview{valid: map[string]bool{}}
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Spec struct {
				Token     string   `json:"token"`
				Audiences []string `json:"audiences"`
			} `json:"spec"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" ||
			json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		tr.mu.Lock()
		tr.calls++
		ok := tr.valid[req.Spec.Token]
		tr.mu.Unlock()
		status := map[string]any{"authenticated": ok}
		if ok {
			status["user"] = map[string]any{"username": "system:serviceaccount:" + authK8sNS + ":" + authK8sSA, "uid": authK8sUID}
			status["audiences"] = req.Spec.Audiences
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status})
	}))
	return tr
}

func (tr *tokenReview) accept(jwt string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.valid[jwt] = true
}

func (tr *tokenReview) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.calls
}

// authEnv is productEnv without a Vault token, with configuration file toml (written
// to the temporary HOME) and secret files written there too, name -> content.
func authEnv(t *testing.T, b *testbed.Bed, toml string, files map[string]string) []string {
	t.Helper()
	env := cleanEnv(productEnv(t, b), "VAULT_TOKEN=")
	home := envValue(env, "HOME")
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(home, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(home, "config.toml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(toml, "$HOME", home)), 0o600); err != nil {
		t.Fatal(err)
	}
	return append(env, "VAULT_CREDENTIAL_PROCESS_CONFIG="+path)
}

// appRoleEnv is authEnv for AppRole: the role's id in the configuration file, a new
// secret id in the file it names.
func appRoleEnv(t *testing.T, b *testbed.Bed) []string {
	t.Helper()
	return authEnv(t, b, fmt.Sprintf(`
[vault.auth]
method = "approle"
role_id = %q
secret_id_file = "$HOME/secret-id"
`, authBed.roleID), map[string]string{"secret-id": newSecretID(t, b, false) + "\n"})
}

// assumeArgs asks for assumed_role credentials with a ttl of minutes: each ttl is its
// own cache entry.
func assumeArgs(minutes int, more ...string) []string {
	return append([]string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--ttl", fmt.Sprintf("%dm", minutes)}, more...)
}

// loginFile is the path of the one login token file of env's cache folder.
func loginFile(t *testing.T, env []string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(cacheDir(env), "login-*.token"))
	if err != nil || len(m) != 1 {
		t.Fatalf("want one login token file in %s, found %v (%v)", cacheDir(env), m, err)
	}
	return m[0]
}

// loginToken reads the token file, checks its mode and registers the token as a secret.
func loginToken(t *testing.T, env []string) (path, token string) {
	t.Helper()
	path = loginFile(t, env)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(data, &e); err != nil || e.Token == "" {
		t.Fatalf("login token file %s: %v: %s", path, err, data)
	}
	addSecret(e.Token)
	return path, e.Token
}

// dropCredentials removes the cached credentials (not the login token), so that the
// next run needs Vault.
func dropCredentials(t *testing.T, env []string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(cacheDir(env), "*.json"))
	for _, p := range m {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}

// setLoginExpiry rewrites the login token file's expiration.
func setLoginExpiry(t *testing.T, path string, exp time.Time) {
	t.Helper()
	editEntry(t, path, func(e map[string]any) { e["expiration"] = exp.UTC().Format(time.RFC3339Nano) })
}

// loginCase is one auth method under test.
type loginCase struct {
	vault     *testbed.Bed // the Vault it logs in to
	env       []string
	loginPath string // the audit path of its login
	identity  string // what --debug must show of the identity
}

// checkLoginLifecycle runs the binary through the life of a login token: a first run
// logs in, a second reuses the token, parallel runs log in once, a token below half
// its TTL is renewed, an expired one is replaced by exactly one login, and so is a
// token Vault revoked while its file still looked fresh. Credentials come out each
// time, and stderr never holds the token.
func checkLoginLifecycle(t *testing.T, lc loginCase) {
	t.Run("first run logs in", lc.firstRun)
	t.Run("second run reuses the login", lc.secondRun)
	t.Run("a cache hit does not touch Vault", lc.cacheHit)
	t.Run("parallel runs log in once", lc.parallelRuns)
	t.Run("below half its TTL the token is renewed", lc.renewedBelowHalf)
	t.Run("an expired token leads to one new login", lc.expiredToken)
	t.Run("a revoked token leads to one new login", lc.revokedToken)
}

// logins counts the logins of lc's method in its Vault's audit log.
func (lc loginCase) logins(t *testing.T) int { return auditCount(t, lc.vault, "update", lc.loginPath) }

// renewals counts the renewals of login tokens in lc's Vault's audit log.
func (lc loginCase) renewals(t *testing.T) int {
	return auditCount(t, lc.vault, "update", "auth/token/renew-self")
}

// run runs the binary with --debug for assumed_role credentials of the given minutes;
// it must succeed and say wantDebug.
func (lc loginCase) run(t *testing.T, minutes int, wantDebug string) result {
	t.Helper()
	r := runBin(t, lc.env, assumeArgs(minutes, "--debug")...)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, wantDebug) {
		t.Errorf("--debug does not say %q:\n%s", wantDebug, r.stderr)
	}
	return r
}

// runCounted is run for 15 minutes' credentials, and asserts that it logged in
// wantLogins times and, unless wantRenewals < 0, renewed the login token
// wantRenewals times.
func (lc loginCase) runCounted(t *testing.T, wantDebug string, wantLogins, wantRenewals int) result {
	t.Helper()
	logins, renewals := lc.logins(t), lc.renewals(t)
	r := lc.run(t, 15, wantDebug)
	if got := lc.logins(t) - logins; got != wantLogins {
		t.Errorf("%d logins, want %d", got, wantLogins)
	}
	if got := lc.renewals(t) - renewals; wantRenewals >= 0 && got != wantRenewals {
		t.Errorf("%d renewals, want %d", got, wantRenewals)
	}
	return r
}

func (lc loginCase) firstRun(t *testing.T) {
	r := lc.runCounted(t, "logged in, the token expires", 1, -1)
	if !strings.Contains(r.stderr, lc.identity) {
		t.Errorf("--debug does not name the identity %q:\n%s", lc.identity, r.stderr)
	}
	loginToken(t, lc.env)
	assertNoSecret(t, "stderr", r.stderr)
}

func (lc loginCase) secondRun(t *testing.T) {
	dropCredentials(t, lc.env)
	lc.runCounted(t, "login token reused", 0, 0)
}

func (lc loginCase) cacheHit(t *testing.T) {
	total := auditTotal(t, lc.vault)
	if r := runBin(t, lc.env, assumeArgs(15)...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := auditTotal(t, lc.vault) - total; got != 0 {
		t.Errorf("a cache hit made %d Vault requests", got)
	}
}

func (lc loginCase) parallelRuns(t *testing.T) {
	dropCredentials(t, lc.env)
	if err := os.Remove(loginFile(t, lc.env)); err != nil {
		t.Fatal(err)
	}
	const n = 6
	before, creds := lc.logins(t), auditCount(t, lc.vault, "update", testbed.Mount+"/creds/"+testbed.RoleAssume)
	results := runMany(n, func(i int) result {
		return runBin(t, lc.env, assumeArgs(20+i)...) // n different entries
	})
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	if got := lc.logins(t) - before; got != 1 {
		t.Errorf("%d parallel runs logged in %d times, want 1", n, got)
	}
	if got := auditCount(t, lc.vault, "update", testbed.Mount+"/creds/"+testbed.RoleAssume) - creds; got != n {
		t.Errorf("%d credential requests, want %d", got, n)
	}
	loginToken(t, lc.env)
}

func (lc loginCase) renewedBelowHalf(t *testing.T) {
	dropCredentials(t, lc.env)
	path, _ := loginToken(t, lc.env)
	setLoginExpiry(t, path, time.Now().Add(authTokenTTL/4))
	lc.runCounted(t, "login token renewed", 0, 1)
}

func (lc loginCase) expiredToken(t *testing.T) {
	dropCredentials(t, lc.env)
	path, token := loginToken(t, lc.env)
	revoke(t, lc.vault, token) // as Vault would at expiry
	setLoginExpiry(t, path, time.Now().Add(-time.Minute))
	lc.runCounted(t, "logged in, the token expires", 1, 0) // no renewal of an expired token
	if _, now := loginToken(t, lc.env); now == token {
		t.Errorf("the token file still holds the expired token")
	}
}

func (lc loginCase) revokedToken(t *testing.T) {
	dropCredentials(t, lc.env)
	_, token := loginToken(t, lc.env)
	revoke(t, lc.vault, token)
	lc.runCounted(t, "the stored login token was refused; logging in again", 1, -1)
}

func revoke(t *testing.T, v *testbed.Bed, token string) {
	t.Helper()
	if err := v.VaultRequest(runCtx, "POST", "auth/token/revoke", map[string]any{"token": token}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestAuthAppRole(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	env := appRoleEnv(t, b)
	checkLoginLifecycle(t, loginCase{vault: b, env: env, loginPath: "auth/approle/login", identity: "role_id " + authBed.roleID})

	t.Run("iam_user credentials end with the login token", func(t *testing.T) {
		r := runBin(t, env, "--role", testbed.RoleIAM, "--type", "iam_user", "--debug")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		// The token was issued before the credentials, both for an hour: Vault
		// revokes the IAM user with the token, so the document says so.
		if !strings.Contains(r.stderr, "lease ends with the Vault token") {
			t.Errorf("--debug does not say the lease was capped:\n%s", r.stderr)
		}
	})

	t.Run("cache clear --all removes the login token", func(t *testing.T) {
		loginFile(t, env) // there is one
		r := runCmd(t, env, "cache", "clear", "--all")
		if r.code != 0 || !strings.Contains(r.stdout, " and 1 login token from ") {
			t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		// Lock files stay: removing one another process holds would break the lock.
		assertNoLoginTokens(t, env)
	})
}

func TestAuthAppRoleWrappedSecretID(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	env := authEnv(t, b, fmt.Sprintf(`
[profiles.w]
role = %q
type = "assumed_role"
[profiles.w.auth]
method = "approle"
role_id = %q
secret_id_env = "VCP_SECRET_ID"
secret_id_wrapped = true
`, testbed.RoleAssume, authBed.roleID), nil)
	env = append(env, "VCP_SECRET_ID="+newSecretID(t, b, true))
	unwraps := auditCount(t, b, "update", "sys/wrapping/unwrap")
	if r := runBin(t, env, "--profile", "w"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := auditCount(t, b, "update", "sys/wrapping/unwrap") - unwraps; got != 1 {
		t.Errorf("%d unwraps, want 1", got)
	}
	loginToken(t, env)
	// The login token is reused: the spent wrapping token is not needed again.
	dropCredentials(t, env)
	if r := runBin(t, env, "--profile", "w", "--ttl", "20m"); r.code != 0 {
		t.Fatalf("second run: exit %d: %s", r.code, r.stderr)
	}
	if got := auditCount(t, b, "update", "sys/wrapping/unwrap") - unwraps; got != 1 {
		t.Errorf("%d unwraps after the second run, want 1", got)
	}
	// Without the token, the spent wrapping token says so.
	if err := os.RemoveAll(cacheDir(env)); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, env, "--profile", "w")
	assertFailure(t, r, 1, "unwrap the response-wrapped secret id from the variable VCP_SECRET_ID (secret_id_env)",
		"a wrapped secret id can be unwrapped only once")
}

func TestAuthUserpass(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	env := authEnv(t, b, `
[vault.auth]
method = "userpass"
username = "alice"
password_env = "VCP_PASSWORD"
`, nil)
	env = append(env, "VCP_PASSWORD="+authBed.password)
	checkLoginLifecycle(t, loginCase{vault: b, env: env, loginPath: "auth/userpass/login/" + authUser, identity: "username " + authUser})
}

func TestAuthJWT(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	jwt := ciJWT(t, "ci-runner", time.Now())
	env := authEnv(t, b, `
[vault.auth]
method = "jwt"
role = "ci"
jwt_file = "$HOME/ci.jwt"
`, map[string]string{"ci.jwt": jwt + "\n"})
	checkLoginLifecycle(t, loginCase{vault: b, env: env, loginPath: "auth/jwt/login", identity: "role " + authJWTRole})
}

func TestAuthKubernetes(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	key, err := rsa.GenerateKey(rand.Reader, 2048) // Vault checks it with the TokenReview API, not a key
	if err != nil {
		t.Fatal(err)
	}
	jwt := signJWT(t, key, map[string]any{"iss": "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:" + authK8sNS + ":" + authK8sSA,
		"kubernetes.io/serviceaccount/namespace": authK8sNS,
		"kubernetes.io/serviceaccount/service-account.name": authK8sSA,
		"kubernetes.io/serviceaccount/service-account.uid":  authK8sUID})
	authBed.review.accept(jwt)
	env := authEnv(t, b, `
[vault.auth]
method = "kubernetes"
role = "app"
jwt_file = "$HOME/sa-token"
`, map[string]string{"sa-token": jwt})
	reviews := authBed.review.count()
	checkLoginLifecycle(t, loginCase{vault: b, env: env, loginPath: "auth/kubernetes/login", identity: "role " + authK8sRole})
	if authBed.review.count() == reviews {
		t.Errorf("Vault never called the TokenReview endpoint")
	}
}

// TestAuthCert logs in with a client certificate to a second Vault that listens with
// TLS, the certificate named in the configuration file, then in VAULT_CLIENT_CERT.
func TestAuthCert(t *testing.T) {
	b := requireBed(t)
	tokens(t, b)
	ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
	defer cancel()
	tv, err := b.StartTLSVault(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("start the TLS Vault: %v", err)
	}
	t.Cleanup(func() { _ = tv.Stop() })

	dir := t.TempDir()
	caPEM, certFile, keyFile := clientCertificate(t, dir)
	for _, s := range []struct {
		path string
		body any
	}{
		{"sys/policies/acl/vcp-helper", map[string]any{"policy": helperPolicy}},
		{"sys/auth/cert", map[string]any{"type": "cert"}},
		{"auth/cert/certs/web", map[string]any{"certificate": caPEM, "token_policies": []string{"vcp-helper"},
			"token_ttl": authTokenTTL.String(), "token_max_ttl": "4h"}},
	} {
		if err := tv.VaultRequest(ctx, "POST", s.path, s.body, nil); err != nil {
			t.Fatal(err)
		}
	}
	tlsEnv := func(env []string) []string {
		return append(setEnv(env, "VAULT_ADDR", tv.VaultAddr), "VAULT_CACERT="+tv.CACert)
	}
	t.Run("client_cert", func(t *testing.T) {
		env := tlsEnv(authEnv(t, b, fmt.Sprintf(`
[vault.auth]
method = "cert"
name = "web"
client_cert = %q
client_key = %q
`, certFile, keyFile), nil))
		checkLoginLifecycle(t, loginCase{vault: tv.Bed, env: env, loginPath: "auth/cert/login", identity: "name web"})
	})
	t.Run("VAULT_CLIENT_CERT", func(t *testing.T) {
		env := tlsEnv(authEnv(t, b, "[vault.auth]\nmethod = \"cert\"\n", nil))
		env = append(env, "VAULT_CLIENT_CERT="+certFile, "VAULT_CLIENT_KEY="+keyFile)
		before := auditCount(t, tv.Bed, "update", "auth/cert/login")
		if r := runBin(t, env, assumeArgs(15)...); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if got := auditCount(t, tv.Bed, "update", "auth/cert/login") - before; got != 1 {
			t.Errorf("%d logins, want 1", got)
		}
		loginToken(t, env)
	})
	t.Run("no certificate", func(t *testing.T) {
		env := tlsEnv(authEnv(t, b, "[vault.auth]\nmethod = \"cert\"\n", nil))
		r := runBin(t, env, assumeArgs(15)...)
		assertFailure(t, r, 2, "needs a client certificate", "VAULT_CLIENT_CERT and VAULT_CLIENT_KEY")
	})
}

// clientCertificate makes a CA and a client certificate it signed, in dir; it returns
// the CA's PEM and the certificate and key files.
func clientCertificate(t *testing.T, dir string) (caPEM, certFile, keyFile string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, key := newKey(), newKey()
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vcp test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "vcp-client"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})), certFile, keyFile
}

// startAppRoleProxy starts a real `vault proxy` in front of the bed's Vault
// with approle auto-auth (the bed's role id and a new secret id, in files
// under dir); it is stopped at the end of the test.
func startAppRoleProxy(t *testing.T, b *testbed.Bed, dir string) *testbed.Proxy {
	t.Helper()
	roleIDFile, secretIDFile := filepath.Join(dir, "role-id"), filepath.Join(dir, "secret-id")
	writeFile(t, roleIDFile, authBed.roleID, 0o600)
	writeFile(t, secretIDFile, newSecretID(t, b, false), 0o600)
	ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
	defer cancel()
	p, err := b.StartProxy(ctx, filepath.Join(dir, "proxy"), fmt.Sprintf(`  method "approle" {
    mount_path = "auth/approle"
    config = {
      role_id_file_path                   = %q
      secret_id_file_path                 = %q
      remove_secret_id_file_after_reading = false
    }
  }`, roleIDFile, secretIDFile))
	if err != nil {
		t.Fatalf("start vault proxy: %v", err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p
}

// TestVaultProxyAutoAuth puts a real `vault proxy` with approle auto-auth in front of
// the bed's Vault: the helper, with VAULT_AGENT_ADDR and no token anywhere, gets
// credentials through it, and caches them.
func TestVaultProxyAutoAuth(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	dir := t.TempDir()
	p := startAppRoleProxy(t, b, dir)
	env := append(cleanEnv(productEnv(t, b), "VAULT_TOKEN=", "VAULT_ADDR="), "VAULT_AGENT_ADDR="+p.Addr)
	creds := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleAssume)
	r := runBin(t, env, assumeArgs(15, "--debug")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s\nproxy log:\n%s", r.code, r.stderr, p.Log())
	}
	if !strings.Contains(r.stderr, "no Vault token: requests go through the Vault Agent or Proxy at "+p.Addr) {
		t.Errorf("--debug does not say the proxy supplies the token:\n%s", r.stderr)
	}
	if got := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleAssume) - creds; got != 1 {
		t.Errorf("%d credential requests reached Vault through the proxy, want 1", got)
	}
	// The helper's cache still answers: Vault Proxy does not cache STS credentials.
	total := auditTotal(t, b)
	if r := runBin(t, env, assumeArgs(15)...); r.code != 0 {
		t.Fatalf("second run: exit %d: %s", r.code, r.stderr)
	}
	if got := auditTotal(t, b) - total; got != 0 {
		t.Errorf("the second run made %d Vault requests, want a cache hit", got)
	}
	if m, _ := filepath.Glob(filepath.Join(cacheDir(env), "login-*")); len(m) != 0 {
		t.Errorf("token auth through the proxy wrote login files: %v", m)
	}
}

// TestAuthErrors: a wrong secret id or password is exit 1 with one error line and a
// hint, no secret on stderr; configuration mistakes are exit 2 before any Vault request.
func TestAuthErrors(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	wrongSecret := "00000000-1111-2222-3333-444444444444"
	addSecret(wrongSecret)
	addSecret("not-alices-password")
	approle := fmt.Sprintf("[vault.auth]\nmethod = \"approle\"\nrole_id = %q\n", authBed.roleID)
	tests := []struct {
		name  string
		toml  string
		files map[string]string
		env   []string
		code  int
		msg   string
		hint  string
	}{
		{"wrong secret id", approle + `secret_id_file = "$HOME/sid"`, map[string]string{"sid": wrongSecret}, nil,
			1, "log in to Vault with approle at auth/approle, role_id " + authBed.roleID + ": Vault answered 400", "secret_id_file"},
		{"wrong password", "[vault.auth]\nmethod = \"userpass\"\nusername = \"alice\"\npassword_env = \"PW\"\n", nil,
			[]string{"PW=not-alices-password"}, 1, "Vault answered 400: invalid username or password", "the password from the variable PW (password_env)"},
		{"unknown user mount", "[vault.auth]\nmethod = \"userpass\"\nmount = \"nowhere\"\nusername = \"alice\"\npassword_env = \"PW\"\n", nil,
			[]string{"PW=not-alices-password"}, 1, "auth/nowhere", "vault auth list"},
		{"missing secret_id_file", approle + `secret_id_file = "$HOME/nothere"`, nil, nil,
			2, "read secret_id_file", "must exist"},
		{"empty secret_id_env", approle + `secret_id_env = "EMPTY_SECRET"`, nil, nil,
			2, "the variable EMPTY_SECRET (secret_id_env) is empty or not set", "set it in the environment"},
		{"unknown method", "[vault.auth]\nmethod = \"kerberos\"\n", nil, nil, 2, `unknown auth method "kerberos"`, "approle"},
		{"approle without role_id", "[vault.auth]\nmethod = \"approle\"\nsecret_id_env = \"X\"\n", nil, nil,
			2, "the approle auth method needs role_id", "[vault.auth]"},
		{"key of another method", approle + "secret_id_env = \"X\"\nusername = \"bob\"\n", nil, nil,
			2, "vault.auth.username: username is not used by the approle auth method", "userpass or ldap"},
		{"secret inline", approle + "secret_id = \"" + wrongSecret + "\"\n", nil, nil,
			2, "vault.auth.secret_id: a secret never goes in the configuration file", "secret_id_file or secret_id_env"},
		{"two secret sources", approle + "secret_id_env = \"X\"\nsecret_id_file = \"/x\"\n", nil, nil,
			2, "set only one of secret_id_file and secret_id_env", "remove one"},
		{"no secret source", approle, nil, nil, 2, "needs secret_id_file or secret_id_env", "never go in the configuration file"},
		{"env value in secret_id_env", approle + "secret_id_env = \"" + wrongSecret + "\"\n", nil, nil,
			2, "must name an environment variable", "the secret itself goes in that variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runFailing(t, b, append(authEnv(t, b, tt.toml, tt.files), tt.env...), assumeArgs(15), tt.code, tt.msg, tt.hint)
		})
	}

	t.Run("no password and no terminal", func(t *testing.T) {
		env := authEnv(t, b, "[vault.auth]\nmethod = \"userpass\"\nusername = \"alice\"\n", nil)
		r := runProgram(t, env, runOpts{detached: true, document: true}, assumeArgs(15)...)
		assertFailure(t, r, 2, "no password for userpass at auth/userpass, username alice: password_env and password_file are not set, and there is no terminal to ask on", "password_env")
	})
}

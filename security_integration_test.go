package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// TestLeaseRenewedOnlyByItsMinter (issue 10, bug 3), against the real Vault:
// iam_user credentials minted with token T1 are not renewed by a run with T2
// (a new `vault login`). Vault revokes the lease, and deletes the IAM user,
// when T1 goes; renewed under T2 the cache would have served the deleted keys
// as fresh, until T2's expiry. The run with T2 mints its own credentials, and
// the entry records which token minted them: the accessor, never the token.
func TestLeaseRenewedOnlyByItsMinter(t *testing.T) {
	b := requireBed(t)
	t1, acc1 := createToken(t, b, "90s")
	t2, acc2 := createToken(t, b, "2h")
	env := productEnv(t, b)
	args := []string{"--role", testbed.RoleIAM, "--type", "iam_user", "--debug"}

	start := time.Now()
	r := runBin(t, setEnv(env, "VAULT_TOKEN", t1), args...)
	if r.code != 0 {
		t.Fatalf("run with T1: exit %d: %s", r.code, r.stderr)
	}
	first := parseDocument(t, r.stdout)
	if exp := first.expires(t); exp.After(start.Add(91 * time.Second)) {
		t.Errorf("credentials of T1 expire %s, after T1 (90 s)", exp.Format(time.RFC3339))
	}
	path := onlyEntry(t, cacheDir(env))
	entry := editEntry(t, path, age(40*time.Second)) // past the refresh window, T1 still valid
	if entry["token_accessor"] != acc1 {
		t.Errorf("entry token_accessor = %v, want T1's accessor %s", entry["token_accessor"], acc1)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), t1) {
		t.Error("the cache entry holds the Vault token")
	}

	renewsBefore := auditCount(t, b, "update", "sys/leases/renew")
	r = runBin(t, setEnv(env, "VAULT_TOKEN", t2), args...)
	if r.code != 0 {
		t.Fatalf("run with T2: exit %d: %s", r.code, r.stderr)
	}
	second := parseDocument(t, r.stdout)
	if second.AccessKeyID == first.AccessKeyID {
		t.Errorf("the run with T2 handed out T1's keys %s (renewed under the wrong token)", first.AccessKeyID)
	}
	if !strings.Contains(r.stderr, "minted under another Vault token") {
		t.Errorf("--debug does not say why it minted:\n%s", r.stderr)
	}
	if n := auditCount(t, b, "update", "sys/leases/renew"); n != renewsBefore {
		t.Errorf("Vault got %d lease renewals from the run with T2, want 0", n-renewsBefore)
	}
	var saved map[string]any
	if data, err = os.ReadFile(path); err == nil {
		err = json.Unmarshal(data, &saved)
	}
	if err != nil || saved["token_accessor"] != acc2 || saved["access_key_id"] != second.AccessKeyID {
		t.Errorf("entry after T2: accessor %v, key %v (%v); want T2's %s and %s", saved["token_accessor"], saved["access_key_id"], err, acc2, second.AccessKeyID)
	}

	// Under the token that minted it, an aged lease is renewed as before.
	editEntry(t, path, age(10*time.Minute))
	r = runBin(t, setEnv(env, "VAULT_TOKEN", t2), args...)
	if r.code != 0 || parseDocument(t, r.stdout).AccessKeyID != second.AccessKeyID || !strings.Contains(r.stderr, "lease renewed") {
		t.Errorf("run with T2 on its own aged lease: exit %d, want the same keys renewed:\n%s", r.code, r.stderr)
	}
}

// TestJWTLoginKeyedBySubject (issue 10, bug 2), against the real Vault's jwt
// method: two CI jobs on one runner user, same role and jwt_env, different
// JWTs. Job B used to get job A's cached AWS credentials and reuse its Vault
// login token. Now B logs in with its own JWT and gets its own credentials,
// while a rotated JWT of A's subject still reuses A's login and entry.
func TestJWTLoginKeyedBySubject(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	now := time.Now()
	jobA, jobARotated, jobB := ciJWT(t, "job-a", now), ciJWT(t, "job-a", now.Add(time.Second)), ciJWT(t, "job-b", now)
	env := authEnv(t, b, `
[vault.auth]
method = "jwt"
role = "ci"
jwt_env = "CI_JOB_JWT"
`, nil)
	logins := func() int { return auditCount(t, b, "update", "auth/jwt/login") }
	args := assumeArgs(20)
	before := logins()

	a := runBin(t, setEnv(env, "CI_JOB_JWT", jobA), args...)
	if a.code != 0 {
		t.Fatalf("job A: exit %d: %s", a.code, a.stderr)
	}
	bRun := runBin(t, setEnv(env, "CI_JOB_JWT", jobB), args...)
	if bRun.code != 0 {
		t.Fatalf("job B: exit %d: %s", bRun.code, bRun.stderr)
	}
	if got := logins() - before; got != 2 {
		t.Errorf("%d logins for jobs A and B, want 2 (B must not reuse A's login token)", got)
	}
	docA, docB := parseDocument(t, a.stdout), parseDocument(t, bRun.stdout)
	if docA.AccessKeyID == docB.AccessKeyID {
		t.Errorf("job B got job A's credentials %s", docA.AccessKeyID)
	}
	if m, _ := filepath.Glob(filepath.Join(cacheDir(env), "login-*.token")); len(m) != 2 {
		t.Errorf("login token files %v, want one per job", m)
	}

	rotated := runBin(t, setEnv(env, "CI_JOB_JWT", jobARotated), args...)
	if rotated.code != 0 {
		t.Fatalf("job A with a rotated JWT: exit %d: %s", rotated.code, rotated.stderr)
	}
	if got := logins() - before; got != 2 {
		t.Errorf("a rotated JWT of the same subject logged in again (%d logins, want 2)", got)
	}
	if parseDocument(t, rotated.stdout).AccessKeyID != docA.AccessKeyID {
		t.Error("a rotated JWT of the same subject did not get the cached credentials")
	}
}

// TestLoginWithoutCacheFolder (issue 10, bug 4), against the real Vault: AppRole
// auth with a cache folder that cannot be created (a read-only root file system in a
// pod) used to fail the run in the login-token store. It logs in, keeps nothing,
// prints the credentials and warns once, as token auth does.
func TestLoginWithoutCacheFolder(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	env := appRoleEnv(t, b)
	env = setEnv(env, "VAULT_CREDENTIAL_PROCESS_CACHE_DIR", "/dev/null/c")
	logins := func() int { return auditCount(t, b, "update", "auth/approle/login") }
	before := logins()
	r := runBin(t, env, assumeArgs(20)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	parseDocument(t, r.stdout)
	assertWarning(t, r.stderr, "could not cache the credentials")
	if got := logins() - before; got != 1 {
		t.Errorf("%d logins, want 1", got)
	}
}

package main

import (
	"path/filepath"
	"testing"
	"time"
)

// TestJWTLoginKeyedBySubject (issue 10, bug 2), against the real Vault's jwt
// method: two CI jobs on one runner user, same role and jwt_env, different
// JWTs. Job B used to get job A's cached AWS credentials and reuse its Vault
// login token. Now B logs in with its own JWT and gets its own credentials,
// while a rotated JWT of A's subject still reuses A's login and entry.
func TestJWTLoginKeyedBySubject(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	now := time.Now()
	jwtFor := func(sub string, iat time.Time) string {
		return signJWT(t, authBed.jwtKey, map[string]any{"iss": authJWTIssuer, "sub": sub, "aud": authJWTAud,
			"iat": iat.Unix(), "nbf": iat.Add(-time.Minute).Unix(), "exp": iat.Add(2 * time.Hour).Unix()})
	}
	jobA, jobARotated, jobB := jwtFor("job-a", now), jwtFor("job-a", now.Add(time.Second)), jwtFor("job-b", now)
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

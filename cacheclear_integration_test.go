package main

// Integration tests of `cache clear --all --revoke` and the login tokens it
// finds in the cache folder, against the real Vault of the test bed.

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// TestClearRevokesStoredLoginTokens (issue 18): `cache clear --all --revoke`
// removed the stored login tokens from the cache folder but left them valid
// in Vault until their TTL: a copy of the file still worked. Now each is
// revoked with itself (auth/token/revoke-self), only at the Vault the run
// resolved, and the output names the login, never the token. One that Vault
// no longer knows is just removed; one of another Vault is kept and named,
// and the hint's command revokes it there.
func TestClearRevokesStoredLoginTokens(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	c := clearCase{b: b, wantLine: "revoked login token of approle at auth/approle, role_id " + authBed.roleID}
	t.Run("revoked in Vault", c.revokedInVault)
	t.Run("already invalid is just removed", c.alreadyInvalid)
	t.Run("revoked with its leases, the entries still there", c.revokedWithLeases)
	t.Run("another Vault's is kept, and the hint revokes it", c.anotherVaults)
}

// clearCase is the bed of TestClearRevokesStoredLoginTokens and the line that says a
// login token was revoked.
type clearCase struct {
	b        *testbed.Bed
	wantLine string
}

// login mints iam_user credentials (a lease) with an approle login and returns the
// env and the stored login token.
func (c clearCase) login(t *testing.T) (env []string, token string) {
	t.Helper()
	env = appRoleEnv(t, c.b)
	if r := runBin(t, env, "--role", testbed.RoleIAM, "--type", "iam_user"); r.code != 0 {
		t.Fatalf("mint: exit %d: %s", r.code, r.stderr)
	}
	_, token = loginToken(t, env)
	if !tokenValid(t, c.b, token) {
		t.Fatal("the stored login token is not valid in Vault before the clear")
	}
	return env, token
}

func (c clearCase) revokedInVault(t *testing.T) {
	env, token := c.login(t)
	revokes := auditCount(t, c.b, "update", "auth/token/revoke-self")
	r := runCmd(t, env, "cache", "clear", "--all", "--revoke")
	if tokenValid(t, c.b, token) {
		t.Error("the login token is still valid in Vault after cache clear --all --revoke")
	}
	if r.code != 0 || !strings.Contains(r.stdout, c.wantLine) || !strings.Contains(r.stdout, " and 1 login token from ") {
		t.Errorf("exit %d, want 0 and %q:\n%s%s", r.code, c.wantLine, r.stdout, r.stderr)
	}
	assertNoSecret(t, "stdout", r.stdout)
	if got := auditCount(t, c.b, "update", "auth/token/revoke-self") - revokes; got != 1 {
		t.Errorf("%d revoke-self requests, want 1", got)
	}
	assertNoLoginTokens(t, env)
}

func (c clearCase) alreadyInvalid(t *testing.T) {
	env, token := c.login(t)
	revoke(t, c.b, token) // as Vault does at expiry
	// Its lease went with it; only the login token is left to clear.
	dropCredentials(t, env)
	r := runCmd(t, env, "cache", "clear", "--all", "--revoke")
	want := "login token of approle at auth/approle, role_id " + authBed.roleID + " was no longer valid in Vault: removed"
	if r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, c.wantLine) {
		t.Fatalf("exit %d, want 0 and %q:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	assertNoLoginTokens(t, env)
}

func (c clearCase) revokedWithLeases(t *testing.T) {
	// The lease revocation met the dead login token and failed with
	// 403, keeping the entry, though Vault had revoked the lease with
	// the token. A new login now revokes what is left, as Fetch does.
	env, token := c.login(t)
	revoke(t, c.b, token)
	r := runCmd(t, env, "cache", "clear", "--all", "--revoke")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if entries, _ := filepath.Glob(filepath.Join(cacheDir(env), "*.json")); len(entries) != 0 {
		t.Errorf("entries left after the clear: %v", entries)
	}
	assertNoLoginTokens(t, env)
}

func (c clearCase) anotherVaults(t *testing.T) {
	env, token := c.login(t)
	// The same Vault by another name is another Vault to the rule:
	// nothing may be sent there.
	other := strings.Replace(c.b.VaultAddr, "127.0.0.1", "localhost", 1)
	if other == c.b.VaultAddr {
		t.Fatalf("the bed's Vault address %s is not on 127.0.0.1", c.b.VaultAddr)
	}
	total := auditTotal(t, c.b)
	r := runCmd(t, append(setEnv(env, "VAULT_ADDR", other), "VAULT_NAMESPACE=elsewhere"), "cache", "clear", "--all", "--revoke")
	assertFailure(t, r, 1, "kept 1 entry with leases and 1 login token of another Vault than "+other+" (namespace elsewhere)",
		"VAULT_ADDR="+c.b.VaultAddr+" VAULT_NAMESPACE= ")
	if got := auditTotal(t, c.b) - total; got != 0 {
		t.Errorf("the clear at another Vault made %d requests to the bed's Vault", got)
	}
	if !tokenValid(t, c.b, token) {
		t.Error("the login token of another Vault was revoked")
	}
	loginFile(t, env) // kept

	// The hint's command, run as it says, revokes both.
	hinted := append(setEnv(env, "VAULT_ADDR", other), "VAULT_NAMESPACE=elsewhere")
	for name, value := range hintAssignments(t, r.stderr) {
		hinted = setEnv(hinted, name, value)
	}
	r = runCmd(t, hinted, "cache", "clear", "--all", "--revoke")
	if r.code != 0 || !strings.Contains(r.stdout, "revoked lease ") || !strings.Contains(r.stdout, c.wantLine) {
		t.Fatalf("the hint's command: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if tokenValid(t, c.b, token) {
		t.Error("the login token is still valid in Vault after the hint's command")
	}
	assertNoLoginTokens(t, env)
}

// TestClearRevokesALoginTokenThroughAProxy: through a real Vault Proxy
// (VAULT_AGENT_ADDR, use_auto_auth_token = true) the stored login token is
// looked up first, found to be the one Vault sees, and revoked; the proxy's
// own auto-auth token stays valid.
func TestClearRevokesALoginTokenThroughAProxy(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	dir := t.TempDir()
	p := startAppRoleProxy(t, b, dir)
	env := append(cleanEnv(appRoleEnv(t, b), "VAULT_ADDR="), "VAULT_AGENT_ADDR="+p.Addr)
	if r := runBin(t, env, assumeArgs(15)...); r.code != 0 {
		t.Fatalf("mint through the proxy: exit %d: %s\nproxy log:\n%s", r.code, r.stderr, p.Log())
	}
	_, token := loginToken(t, env)
	lookups := auditCount(t, b, "read", "auth/token/lookup-self")
	r := runCmd(t, env, "cache", "clear", "--all", "--revoke")
	want := "revoked login token of approle at auth/approle, role_id " + authBed.roleID
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("exit %d, want 0 and %q:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if got := auditCount(t, b, "read", "auth/token/lookup-self") - lookups; got != 1 {
		t.Errorf("%d lookups of the token through the proxy, want 1", got)
	}
	if tokenValid(t, b, token) {
		t.Error("the login token is still valid in Vault")
	}
	assertNoLoginTokens(t, env)
	// The proxy's own token was not revoked: token auth through it still works.
	proxied := append(cleanEnv(productEnv(t, b), "VAULT_TOKEN=", "VAULT_ADDR="), "VAULT_AGENT_ADDR="+p.Addr)
	if r := runBin(t, proxied, assumeArgs(16)...); r.code != 0 {
		t.Errorf("the proxy's auto-auth token no longer works: exit %d: %s", r.code, r.stderr)
	}
}

// tokenValid asks the bed's Vault, with the root token, whether token is a
// live token; any failure but Vault's answer that it is not fails the test.
func tokenValid(t *testing.T, b *testbed.Bed, token string) bool {
	t.Helper()
	err := b.VaultRequest(runCtx, "POST", "auth/token/lookup", map[string]any{"token": token}, nil)
	var ve *testbed.VaultError
	switch {
	case err == nil:
		return true
	case errors.As(err, &ve) && ve.StatusCode < 500:
		return false
	}
	t.Fatalf("look the token up: %v", err)
	return false
}

// assertNoLoginTokens fails when a login token file is left in env's cache
// folder.
func assertNoLoginTokens(t *testing.T, env []string) {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(cacheDir(env), "login-*.token"))
	if err != nil || len(m) != 0 {
		t.Errorf("login token files left: %v (%v)", m, err)
	}
}

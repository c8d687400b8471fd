package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/cache"
)

// TestClearRevokeOnlyAtTheResolvedVault (issue 10, bug 1): `cache clear --all
// --revoke` sent the current token (or an AppRole secret id) to every Vault
// address stored in the cache. Now nothing goes anywhere but the address the
// run resolved: other Vaults' entries are kept, named, with how to revoke them.
func TestClearRevokeOnlyAtTheResolvedVault(t *testing.T) {
	for _, method := range []string{"token", "approle"} {
		t.Run(method, func(t *testing.T) {
			unitEnv(t)
			prod, dev := newRecordingVault(t, "prod"), newRecordingVault(t, "dev")
			dir := t.TempDir()
			cacheDir := filepath.Join(dir, "cache")
			t.Setenv("VAULT_CREDENTIAL_PROCESS_CACHE_DIR", cacheDir)
			const prodToken, devToken, secretID = "PROD-TOKEN-must-stay-at-prod", "dev-token", "PROD-SECRET-ID-must-stay-at-prod"
			addSecret(prodToken)
			addSecret(secretID)

			mintAtBoth(t, method, dir, dev, devToken, prod, prodToken, secretID)

			r := runInProcess(t, os.Getenv, "cache", "clear", "--all", "--revoke")
			for _, s := range []string{prodToken, secretID, "hvs.login-at-prod"} {
				if dev.saw(s) {
					t.Errorf("the dev Vault received %q from a revocation at prod", s)
				}
			}
			if got := dev.revokedLeases(); len(got) != 0 {
				t.Errorf("dev Vault revoked %v, want nothing", got)
			}
			if got := prod.revokedLeases(); len(got) != 1 || got[0] != "aws/creds/prod/lease-1" {
				t.Errorf("prod Vault revoked %v, want [aws/creds/prod/lease-1]", got)
			}
			// Not everything asked for was done: exit 1, empty stdout, one
			// error line naming the kept entry's Vault and a hint with the
			// address to revoke it at.
			assertFailure(t, r, 1, "kept 1 entry with leases of another Vault than "+prod.URL, "VAULT_ADDR="+dev.URL)
			if !strings.Contains(r.stderr, "revoked 1 lease and removed 1 entry") {
				t.Errorf("the error does not say what was done:\n%s", r.stderr)
			}
			if entries, _ := filepath.Glob(filepath.Join(cacheDir, "*.json")); len(entries) != 1 {
				t.Errorf("%d entries left, want the dev one: %v", len(entries), entries)
			}

			clearAtDev(t, dev, devToken, prod)
		})
	}
}

// mintAtBoth mints one entry at each Vault into the same cache folder: at dev with
// devToken, at prod with prodToken or, for method approle, with secretID (in a
// file in dir), whose stored login token it then removes, so that a revocation
// logs in again and sends the secret id somewhere.
func mintAtBoth(t *testing.T, method, dir string, dev *recordingVault, devToken string, prod *recordingVault, prodToken, secretID string) {
	t.Helper()
	t.Setenv("VAULT_ADDR", dev.URL)
	t.Setenv("VAULT_TOKEN", devToken)
	if r := runInProcess(t, os.Getenv, "--role", "dev"); r.code != 0 {
		t.Fatalf("mint at dev: %+v", r)
	}
	t.Setenv("VAULT_ADDR", prod.URL)
	t.Setenv("VAULT_TOKEN", prodToken)
	if method == "approle" {
		t.Setenv("VAULT_TOKEN", "")
		os.Unsetenv("VAULT_TOKEN")
		sid := filepath.Join(dir, "secret-id")
		if err := os.WriteFile(sid, []byte(secretID), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("VAULT_CREDENTIAL_PROCESS_AUTH_METHOD", "approle")
		t.Setenv("VAULT_CREDENTIAL_PROCESS_AUTH_ROLE_ID", "prod-role-id")
		t.Setenv("VAULT_CREDENTIAL_PROCESS_AUTH_SECRET_ID_FILE", sid)
	}
	if r := runInProcess(t, os.Getenv, "--role", "prod"); r.code != 0 {
		t.Fatalf("mint at prod: %+v", r)
	}
	if method == "approle" {
		tokens, _ := filepath.Glob(filepath.Join(os.Getenv("VAULT_CREDENTIAL_PROCESS_CACHE_DIR"), "login-*.token"))
		for _, f := range tokens {
			os.Remove(f)
		}
	}
}

// clearAtDev runs the hint's clear: at dev, with dev's token, the rest is revoked,
// and prod never sees dev's token.
func clearAtDev(t *testing.T, dev *recordingVault, devToken string, prod *recordingVault) {
	t.Helper()
	for _, k := range []string{"VAULT_CREDENTIAL_PROCESS_AUTH_METHOD", "VAULT_CREDENTIAL_PROCESS_AUTH_ROLE_ID", "VAULT_CREDENTIAL_PROCESS_AUTH_SECRET_ID_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("VAULT_ADDR", dev.URL)
	t.Setenv("VAULT_TOKEN", devToken)
	r := runInProcess(t, os.Getenv, "cache", "clear", "--all", "--revoke")
	if r.code != 0 || !strings.Contains(r.stdout, "revoked lease aws/creds/dev/lease-1") || !strings.Contains(r.stdout, "removed 1 cache entry") {
		t.Errorf("clear at dev: %+v", r)
	}
	if got := dev.revokedLeases(); len(got) != 1 {
		t.Errorf("dev Vault revoked %v, want its lease", got)
	}
	if prod.saw(devToken) {
		t.Error("the prod Vault received the dev token")
	}
}

// TestClearWithoutRevokeRemovesEveryVaultsEntries: without --revoke nothing
// is sent anywhere, and every entry goes, whichever Vault minted it.
func TestClearWithoutRevokeRemovesEveryVaultsEntries(t *testing.T) {
	unitEnv(t)
	a, b := newRecordingVault(t, "a"), newRecordingVault(t, "b")
	t.Setenv("VAULT_CREDENTIAL_PROCESS_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	t.Setenv("VAULT_TOKEN", unitToken)
	for _, v := range []*recordingVault{a, b} {
		t.Setenv("VAULT_ADDR", v.URL)
		if r := runInProcess(t, os.Getenv, "--role", "dev"); r.code != 0 {
			t.Fatalf("mint: %+v", r)
		}
	}
	before := len(a.requests) + len(b.requests)
	r := runInProcess(t, os.Getenv, "cache", "clear", "--all")
	if r.code != 0 || !strings.Contains(r.stdout, "removed 2 cache entries and 0 login tokens") {
		t.Errorf("clear --all: %+v", r)
	}
	if after := len(a.requests) + len(b.requests); after != before {
		t.Errorf("clear without --revoke made %d Vault requests", after-before)
	}
}

// TestClearHoldsTheEntryLock: clear takes the entry's lock, so a run renewing
// the entry at that moment cannot write the revoked keys back; while another
// process holds the lock, clear waits until --timeout, then fails and keeps
// the entry, its lease unrevoked.
func TestClearHoldsTheEntryLock(t *testing.T) {
	v, store, keys := mintedEntries(t, "dev")
	unlock, err := store.Lock(context.Background(), keys[0])
	if err != nil {
		t.Fatal(err)
	}
	r := runInProcess(t, os.Getenv, "cache", "clear", "--all", "--revoke", "--timeout", "1s")
	unlock()
	assertFailure(t, r, 1, "wait for the lock of cache entry", "raise --timeout")
	if got := v.revokedLeases(); len(got) != 0 {
		t.Errorf("revoked %v while another process held the entry's lock", got)
	}
	if e, err := store.Load(keys[0]); err != nil || e == nil {
		t.Errorf("the entry is gone: %v", err)
	}
	r = runInProcess(t, os.Getenv, "cache", "clear", "--all", "--revoke")
	if r.code != 0 || len(v.revokedLeases()) != 1 {
		t.Errorf("clear once the lock is free: %+v, revoked %v", r, v.revokedLeases())
	}
}

// TestClearAllGoesOnPastAHeldLock: one entry whose lock another process
// holds until --timeout is kept; the others are still removed.
func TestClearAllGoesOnPastAHeldLock(t *testing.T) {
	_, store, keys := mintedEntries(t, "one", "two", "three")
	unlock, err := store.Lock(context.Background(), keys[0])
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	r := runInProcess(t, os.Getenv, "cache", "clear", "--all", "--timeout", "1s")
	assertFailure(t, r, 1, "1 entry failed; removed 2 entries", "raise --timeout")
	if left, _ := store.Keys(); len(left) != 1 || left[0] != keys[0] {
		t.Errorf("entries left %v, want only the locked one %s", left, keys[0][:12])
	}
}

// TestClearKeptHintTargetsTheOtherVault (issue 18): the hint for entries of
// another Vault said `VAULT_ADDR=<theirs> ... cache clear --all --revoke`,
// keeping VAULT_AGENT_ADDR (which wins over VAULT_ADDR) and VAULT_NAMESPACE:
// that command went to this run's Vault again and kept the entry again. The
// command of the hint, run as it is with the other Vault's token, revokes it.
func TestClearKeptHintTargetsTheOtherVault(t *testing.T) {
	tests := []struct {
		name     string
		viaAgent bool   // this run reaches its Vault through VAULT_AGENT_ADDR
		hereNS   string // this run's VAULT_NAMESPACE
		otherNS  string // the kept entry's namespace
	}{
		{"agent address", true, "", ""},
		{"namespace to clear", false, "team", ""},
		{"namespace to set", false, "", "ops"},
		{"agent and another namespace", true, "team", "ops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unitEnv(t)
			other, here := newRecordingVault(t, "other"), newRecordingVault(t, "here")
			t.Setenv("VAULT_CREDENTIAL_PROCESS_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
			const otherToken, hereToken = "OTHER-TOKEN-stays-at-other", "HERE-TOKEN-stays-here"
			addSecret(otherToken)
			addSecret(hereToken)

			t.Setenv("VAULT_ADDR", other.URL)
			t.Setenv("VAULT_NAMESPACE", tt.otherNS)
			t.Setenv("VAULT_TOKEN", otherToken)
			if r := runInProcess(t, os.Getenv, "--role", "other"); r.code != 0 {
				t.Fatalf("mint at other: %+v", r)
			}
			t.Setenv("VAULT_ADDR", here.URL)
			if tt.viaAgent {
				t.Setenv("VAULT_AGENT_ADDR", here.URL)
				t.Setenv("VAULT_ADDR", other.URL) // VAULT_AGENT_ADDR wins
			}
			t.Setenv("VAULT_NAMESPACE", tt.hereNS)
			t.Setenv("VAULT_TOKEN", hereToken)
			if r := runInProcess(t, os.Getenv, "--role", "here"); r.code != 0 {
				t.Fatalf("mint here: %+v", r)
			}

			r := runInProcess(t, os.Getenv, "cache", "clear", "--all", "--revoke")
			assertFailure(t, r, 1, "kept 1 entry with leases of another Vault than", "cache clear --all --revoke")
			if got := here.revokedLeases(); len(got) != 1 {
				t.Fatalf("this run's Vault revoked %v, want its own lease", got)
			}

			// Run the hint's command as it says, with the other Vault's token.
			for name, value := range hintAssignments(t, r.stderr) {
				t.Setenv(name, value)
			}
			t.Setenv("VAULT_TOKEN", otherToken)
			r = runInProcess(t, os.Getenv, "cache", "clear", "--all", "--revoke")
			if r.code != 0 || !strings.Contains(r.stdout, "revoked lease aws/creds/other/lease-1") {
				t.Errorf("the hint's command did not revoke the other Vault's entry: %+v", r)
			}
			if got := other.revokedLeases(); len(got) != 1 {
				t.Errorf("the other Vault revoked %v, want its lease", got)
			}
			if here.saw(otherToken) {
				t.Error("this run's Vault received the other Vault's token")
			}
		})
	}
}

// hintAssignments reads the NAME=value words before the program's name in
// the hint line of stderr.
func hintAssignments(t *testing.T, stderr string) map[string]string {
	t.Helper()
	_, hint, ok := strings.Cut(stderr, "hint: ")
	if !ok {
		t.Fatalf("no hint:\n%s", stderr)
	}
	_, cmd, ok := strings.Cut(hint, ": VAULT_")
	if !ok {
		t.Fatalf("the hint gives no command with variables:\n%s", hint)
	}
	cmd, _, ok = strings.Cut("VAULT_"+cmd, " vault-credential-process ")
	if !ok {
		t.Fatalf("the hint gives no command:\n%s", hint)
	}
	out := map[string]string{}
	for _, w := range strings.Fields(cmd) {
		name, value, ok := strings.Cut(w, "=")
		if !ok {
			t.Fatalf("%q in the hint's command is not NAME=value:\n%s", w, hint)
		}
		out[name] = value
	}
	if len(out) == 0 {
		t.Fatalf("the hint's command sets no variable:\n%s", hint)
	}
	return out
}

// TestClearRevokeRefusesATokenAnAgentReplaces (issue 18): through a Vault
// Agent or Proxy with use_auto_auth_token = "force", revoke-self would go out
// with the agent's own token and revoke it. The stored login token is looked
// up first; when the agent answers for another token (here the fake's
// lookup-self names another accessor than the login gave) nothing is revoked
// and the token file is kept.
func TestClearRevokeRefusesATokenAnAgentReplaces(t *testing.T) {
	unitEnv(t)
	agent := newRecordingVault(t, "agent")
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	t.Setenv("VAULT_CREDENTIAL_PROCESS_CACHE_DIR", cacheDir)
	t.Setenv("VAULT_AGENT_ADDR", agent.URL)
	sid := filepath.Join(dir, "secret-id")
	if err := os.WriteFile(sid, []byte("agent-secret-id"), 0o600); err != nil {
		t.Fatal(err)
	}
	addSecret("agent-secret-id")
	t.Setenv("VAULT_CREDENTIAL_PROCESS_AUTH_METHOD", "approle")
	t.Setenv("VAULT_CREDENTIAL_PROCESS_AUTH_ROLE_ID", "agent-role-id")
	t.Setenv("VAULT_CREDENTIAL_PROCESS_AUTH_SECRET_ID_FILE", sid)
	if r := runInProcess(t, os.Getenv, "--role", "dev"); r.code != 0 {
		t.Fatalf("mint: %+v", r)
	}
	r := runInProcess(t, os.Getenv, "cache", "clear", "--all", "--revoke")
	assertFailure(t, r, 1, "answered for another token", "drop it without revoking")
	if !strings.Contains(r.stderr, "1 login token failed") {
		t.Errorf("the error does not count the kept login token:\n%s", r.stderr)
	}
	if agent.saw("revoke-self") {
		t.Error("revoke-self was sent through an agent that replaces the token")
	}
	if tokens, _ := filepath.Glob(filepath.Join(cacheDir, "login-*.token")); len(tokens) != 1 {
		t.Errorf("login token files left: %v, want the one not revoked", tokens)
	}
}

// mintedEntries mints one entry per role in process at a new recording
// Vault, into a cache folder of the test's that the environment names, and
// returns the Vault, the cache and the entries' keys.
func mintedEntries(t *testing.T, roles ...string) (*recordingVault, *cache.Store, []string) {
	t.Helper()
	unitEnv(t)
	v := newRecordingVault(t, "a")
	dir := filepath.Join(t.TempDir(), "cache")
	t.Setenv("VAULT_CREDENTIAL_PROCESS_CACHE_DIR", dir)
	t.Setenv("VAULT_ADDR", v.URL)
	t.Setenv("VAULT_TOKEN", unitToken)
	for _, role := range roles {
		if r := runInProcess(t, os.Getenv, "--role", role); r.code != 0 {
			t.Fatalf("mint %s: %+v", role, r)
		}
	}
	store, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := store.Keys()
	if err != nil || len(keys) != len(roles) {
		t.Fatalf("Keys = %v, %v; want %d", keys, err, len(roles))
	}
	return v, store, keys
}

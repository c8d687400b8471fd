package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// revokeToken revokes a token (and with it every lease it created: Vault
// deletes the IAM users of its iam_user credentials) with the bed's root.
func revokeToken(t *testing.T, b *testbed.Bed, accessor string) {
	t.Helper()
	if err := b.VaultRequest(runCtx, "PUT", "auth/token/revoke-accessor", map[string]any{"accessor": accessor}, nil); err != nil {
		t.Fatalf("revoke the token: %v", err)
	}
}

// TestRevokedTokenDropsCacheEntry (issue 18, bug 3): after `vault token
// revoke` of the token that minted cached iam_user credentials, the next run
// that asks Vault learns the keys are gone, removes the entry and says so,
// rather than leaving the dead keys for every later run.
func TestRevokedTokenDropsCacheEntry(t *testing.T) {
	b := requireBed(t)
	tok, acc := createToken(t, b, "2h")
	env := setEnv(productEnv(t, b), "VAULT_TOKEN", tok)
	args := []string{"--role", testbed.RoleIAM, "--type", "iam_user"}
	r := runProgram(t, env, runOpts{document: true}, args...)
	if r.code != 0 {
		t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
	}
	path := onlyEntry(t, cacheDir(env))
	entry := editEntry(t, path, func(map[string]any) {})
	if d, _ := entry["minter_digest"].(string); d == "" || strings.Contains(d, tok) {
		t.Errorf("entry minter_digest = %q, want a digest of the minting token", d)
	}
	revokeToken(t, b, acc)
	editEntry(t, path, age(10*time.Minute)) // due: the run asks Vault

	r = runProgram(t, env, runOpts{document: true}, args...)
	assertFailure(t, r, process.ExitFailure, "Vault revoked the cached credentials with the token that minted them",
		"the cache entry was removed")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the entry of revoked keys is still there (%v)", err)
	}
}

// TestServeDropsRevokedKeys (issue 18, bug 3): serve looks the lease of the
// credentials it holds up in Vault between refreshes, so after the minting
// token is revoked it answers 503 within a lease-check interval (30 s)
// instead of handing out the dead keys until they are due.
func TestServeDropsRevokedKeys(t *testing.T) {
	b := requireBed(t)
	tok, acc := createToken(t, b, "2h")
	env := setEnv(productEnv(t, b), "VAULT_TOKEN", tok)
	s := startServe(t, env, []string{envFullURI, envTokenFile}, "--role", testbed.RoleIAM, "--type", "iam_user")
	auth := map[string]string{"Authorization": s.token}
	first := httpDo(t, "GET", s.vars[envFullURI], auth)
	var doc struct {
		AccessKeyID string `json:"AccessKeyId"`
	}
	if first.status != 200 || json.Unmarshal([]byte(first.body), &doc) != nil || doc.AccessKeyID == "" {
		t.Fatalf("before the revocation: %d %s", first.status, first.body)
	}
	revokeToken(t, b, acc)
	revokedAt := time.Now()
	deadline := revokedAt.Add(90 * time.Second) // a bound, not a measurement: two intervals and the timeout
	for {
		got := httpDo(t, "GET", s.vars[envFullURI], auth)
		if got.status == 503 {
			break
		}
		if got.status != 200 || !strings.Contains(got.body, doc.AccessKeyID) {
			t.Fatalf("after the revocation: %d %s, want the old keys or 503", got.status, got.body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve still hands out the revoked keys %s after %s", doc.AccessKeyID, time.Since(revokedAt).Round(time.Second))
		}
		time.Sleep(time.Second) // polling a server, not synchronising with it
	}
	stderr := s.stop(t)
	if !strings.Contains(stderr, "dropped") || !strings.Contains(stderr, "revoked") {
		t.Errorf("serve's log does not say it dropped the revoked credentials:\n%s", stderr)
	}
}

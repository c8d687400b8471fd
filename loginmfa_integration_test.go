package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// loginMFABed is a userpass mount of its own (so no other test meets the
// enforcement) whose logins Vault's Login MFA holds back for a TOTP code,
// and the TOTP secret Vault generated for its user.
var loginMFABed struct {
	once   sync.Once
	err    error
	secret []byte
}

const (
	mfaMount    = "userpass-mfa"
	mfaUser     = "bob"
	mfaPassword = "bob-password-for-the-login-mfa-test"
)

func loginMFASetup(t *testing.T, b *testbed.Bed) []byte {
	t.Helper()
	tokens(t, b) // the helper's policy
	addSecret(mfaPassword)
	loginMFABed.once.Do(func() { loginMFABed.secret, loginMFABed.err = setUpLoginMFA(b) })
	if loginMFABed.err != nil {
		t.Fatalf("set up Login MFA: %v", loginMFABed.err)
	}
	return loginMFABed.secret
}

// setUpLoginMFA is test-bed.md's recipe: a TOTP method, an entity with an
// alias on the mount, the entity's secret, and the enforcement.
func setUpLoginMFA(b *testbed.Bed) ([]byte, error) {
	ctx := runCtx
	if err := b.VaultRequest(ctx, "POST", "sys/auth/"+mfaMount, map[string]any{"type": "userpass"}, nil); err != nil {
		return nil, err
	}
	if err := b.VaultRequest(ctx, "POST", "auth/"+mfaMount+"/users/"+mfaUser,
		map[string]any{"password": mfaPassword, "token_policies": []string{"vcp-helper"}}, nil); err != nil {
		return nil, err
	}
	var mounts struct {
		Data map[string]struct {
			Accessor string `json:"accessor"`
		} `json:"data"`
	}
	if err := b.VaultRequest(ctx, "GET", "sys/auth", nil, &mounts); err != nil {
		return nil, err
	}
	acc := mounts.Data[mfaMount+"/"].Accessor
	var method, entity struct {
		Data struct {
			MethodID string `json:"method_id"`
			ID       string `json:"id"`
			URL      string `json:"url"`
		} `json:"data"`
	}
	if err := b.VaultRequest(ctx, "POST", "identity/mfa/method/totp", map[string]any{"issuer": "Vault", "period": 30,
		"key_size": 20, "algorithm": "SHA1", "digits": 6}, &method); err != nil {
		return nil, err
	}
	if err := b.VaultRequest(ctx, "POST", "identity/entity", map[string]any{"name": "bob-mfa"}, &entity); err != nil {
		return nil, err
	}
	if err := b.VaultRequest(ctx, "POST", "identity/entity-alias", map[string]any{"name": mfaUser,
		"canonical_id": entity.Data.ID, "mount_accessor": acc}, nil); err != nil {
		return nil, err
	}
	var gen struct {
		Data struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	if err := b.VaultRequest(ctx, "POST", "identity/mfa/method/totp/admin-generate", map[string]any{
		"method_id": method.Data.MethodID, "entity_id": entity.Data.ID}, &gen); err != nil {
		return nil, err
	}
	if err := b.VaultRequest(ctx, "POST", "identity/mfa/login-enforcement/vcp-totp", map[string]any{
		"mfa_method_ids": []string{method.Data.MethodID}, "auth_method_accessors": []string{acc}}, nil); err != nil {
		return nil, err
	}
	u, err := url.Parse(gen.Data.URL)
	if err != nil {
		return nil, err
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(u.Query().Get("secret")))
	if err != nil || len(secret) == 0 {
		return nil, fmt.Errorf("no TOTP secret in the admin-generate URL: %v", err)
	}
	addSecret(u.Query().Get("secret"))
	return secret, nil
}

// totp is RFC 6238's code of secret at t: SHA-1, 30-second steps, 6 digits.
func totp(secret []byte, t time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1_000_000)
}

// TestLoginMFA (issue 23): a userpass login held back by Vault's Login MFA
// (TOTP) completes with the code from mfa_command; eight parallel runs
// make one login and run the command once; a wrong code is refused with a
// hint and stores no token.
func TestLoginMFA(t *testing.T) {
	b := requireBed(t)
	secret := loginMFASetup(t, b)
	toml := fmt.Sprintf("[vault.auth]\nmethod = \"userpass\"\nmount = %q\nusername = %q\npassword_env = \"PW\"\nmfa_command = \"$HOME/code.sh\"\n",
		mfaMount, mfaUser)
	args := []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}

	t.Run("wrong code refused, nothing kept", func(t *testing.T) {
		env := append(authEnv(t, b, toml, nil), "PW="+mfaPassword)
		home := envValue(env, "HOME")
		wrong := fmt.Sprintf("%06d", (mustAtoi(t, totp(secret, time.Now()))+500_000)%1_000_000)
		writeFile(t, filepath.Join(home, "code.sh"), "#!/bin/sh\necho "+wrong+"\n", 0o700)
		r := runProgram(t, env, runOpts{document: true}, args...)
		assertFailure(t, r, process.ExitFailure, "log in to Vault with userpass at auth/"+mfaMount+", username "+mfaUser+": Login MFA",
			"a code is taken only once")
		assertNoLoginTokens(t, env)
	})

	t.Run("eight parallel runs, one login, one code", func(t *testing.T) {
		env := append(authEnv(t, b, toml, nil), "PW="+mfaPassword)
		home := envValue(env, "HOME")
		count := filepath.Join(home, "count")
		writeFile(t, filepath.Join(home, "code.sh"), fmt.Sprintf("#!/bin/sh\necho x >> %q\necho %s\n", count, totp(secret, time.Now())), 0o700)
		validates := auditCount(t, b, "update", "sys/mfa/validate")
		results := runMany(8, func(int) result { return runProgram(t, env, runOpts{document: true}, args...) })
		for i, r := range results {
			if r.code != 0 {
				t.Errorf("run %d: exit %d: %s", i, r.code, r.stderr)
			}
		}
		if got := auditCount(t, b, "update", "sys/mfa/validate") - validates; got != 1 {
			t.Errorf("%d MFA validations, want 1", got)
		}
		if data, _ := os.ReadFile(count); strings.Count(string(data), "x") != 1 {
			t.Errorf("mfa_command ran %d times, want once", strings.Count(string(data), "x"))
		}
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}

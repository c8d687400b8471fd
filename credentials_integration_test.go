package main

// Integration tests of the product: the real binary, run by the real aws CLI and AWS SDK
// for Go through credential_process, against the bed's Vault and moto.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// within fails unless got is want give or take slack.
func within(t *testing.T, what string, got, want time.Time, slack time.Duration) {
	t.Helper()
	if d := got.Sub(want); d > slack || d < -slack {
		t.Errorf("%s = %s, want %s ± %s", what, got.Format(time.RFC3339), want.Format(time.RFC3339), slack)
	}
}

// TestEveryCredentialType runs the binary from a real AWS profile for each credential
// type: the aws CLI and the AWS SDK for Go must see the identity Vault minted, and the
// document must carry the expiry Vault gave.
func TestEveryCredentialType(t *testing.T) {
	b := requireBed(t)
	awsgo := awsgoChecker(t)
	bin := binaryUnderTest(t)
	const session = "vcp-it-session"
	motoDefault := regexp.QuoteMeta("arn:aws:sts::"+b.AccountID+":user/moto") + "$"
	tests := []struct {
		name     string
		args     []string
		arn      string        // regexp the caller identity must match
		lifetime time.Duration // expected Expiration - now; 0: Vault's static expiration
		account  bool          // the document carries AccountId
		token    bool          // the document carries SessionToken
	}{
		{"iam_user", []string{"--role", testbed.RoleIAM, "--type", "iam_user"},
			`^` + regexp.QuoteMeta("arn:aws:iam::"+b.AccountID+":user/vault-"), time.Hour, false, false},
		{"any dynamic type", []string{"--role", testbed.RoleIAM},
			`^` + regexp.QuoteMeta("arn:aws:iam::"+b.AccountID+":user/vault-"), time.Hour, false, false},
		{"assumed_role", []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--ttl", "20m",
			"--role-session-name", session, "--role-arn", b.TargetRoleARN},
			`^` + regexp.QuoteMeta("arn:aws:sts::"+b.AccountID+":assumed-role/"+testbed.TargetRole+"/"+session) + `$`,
			20 * time.Minute, true, true},
		{"federation_token", []string{"--role", testbed.RoleFed, "--type", "federation_token", "--ttl", "30m"},
			motoDefault, 30 * time.Minute, false, true},
		{"session_token", []string{"--role", testbed.RoleSession, "--type", "session_token", "--ttl", "1h"},
			motoDefault, time.Hour, false, true},
		{"session_token with MFA", []string{"--role", testbed.RoleSessionMFA, "--type", "session_token", "--mfa-code", "123456"},
			motoDefault, 0, false, true},
		{"static", []string{"--role", testbed.StaticRole, "--type", "static"},
			`^` + regexp.QuoteMeta("arn:aws:iam::"+b.AccountID+":user/"+testbed.StaticUser) + `$`, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := productEnv(t, b)

			// By hand first: the document itself.
			start := time.Now()
			r := runBin(t, append(env, "VAULT_CREDENTIAL_PROCESS_NO_CACHE=1"), tt.args...)
			end := time.Now()
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			doc := parseDocument(t, r.stdout)
			if (doc.SessionToken != "") != tt.token {
				t.Errorf("SessionToken present = %v, want %v", doc.SessionToken != "", tt.token)
			}
			if (doc.AccountID == b.AccountID) != tt.account || (doc.AccountID != "" && doc.AccountID != b.AccountID) {
				t.Errorf("AccountId = %q, want %v", doc.AccountID, tt.account)
			}
			switch {
			case tt.name == "static":
				var vs struct {
					Data struct {
						AccessKey  string `json:"access_key"`
						Expiration string `json:"expiration"`
					} `json:"data"`
				}
				if err := b.VaultRequest(context.Background(), "GET", testbed.Mount+"/static-creds/"+testbed.StaticRole, nil, &vs); err != nil {
					t.Fatal(err)
				}
				want, err := time.Parse(time.RFC3339, vs.Data.Expiration)
				if err != nil {
					t.Fatalf("Vault's static expiration %q: %v", vs.Data.Expiration, err)
				}
				within(t, "Expiration", doc.expires(t), want, time.Second)
				if doc.AccessKeyID != vs.Data.AccessKey {
					t.Errorf("AccessKeyId = %q, want Vault's %q", doc.AccessKeyID, vs.Data.AccessKey)
				}
			case tt.lifetime > 0:
				sentPlus(t, "Expiration", doc.expires(t), start, end, tt.lifetime)
			}

			// Then as the AWS clients run it, with the cache on.
			dir := t.TempDir()
			config := filepath.Join(dir, "config")
			line := bin + " " + strings.Join(tt.args, " ")
			if err := b.WriteAWSConfig(config, map[string]string{"p": line}); err != nil {
				t.Fatal(err)
			}
			awsEnv := clientEnv(env, config)
			re := regexp.MustCompile(tt.arn)
			cli := runClient(t, awsEnv, "aws", "--profile", "p", "sts", "get-caller-identity", "--output", "json")
			sdk := runClient(t, awsEnv, awsgo, "-profile", "p")
			for _, c := range []struct {
				client string
				id     callerIdentity
			}{{"aws CLI", cli}, {"AWS SDK for Go", sdk}} {
				if !re.MatchString(c.id.Arn) {
					t.Errorf("%s: Arn = %q, want to match %s", c.client, c.id.Arn, tt.arn)
				}
			}
			// The cache hands both clients the same credentials.
			if cli.Arn != sdk.Arn || cli.UserID != sdk.UserID {
				t.Errorf("clients disagree: aws CLI %+v, AWS SDK for Go %+v", cli, sdk)
			}
			hit := runBin(t, env, tt.args...)
			if hit.code != 0 {
				t.Fatalf("cache hit: exit %d: %s", hit.code, hit.stderr)
			}
			if got := parseDocument(t, hit.stdout).AccessKeyID; got != sdk.AccessKeyID {
				t.Errorf("the SDK signed with %q, the cached document has %q", sdk.AccessKeyID, got)
			}
		})
	}
}

// TestErrors runs the failures a user meets: each gets its exit status, one error line,
// a hint, an empty stdout and no secret on stderr. Usage errors make no Vault request.
func TestErrors(t *testing.T) {
	b := requireBed(t)
	_, deny := tokens(t, b)
	closed := closedPort(t)
	tests := []struct {
		name string
		env  func([]string) []string
		args []string
		code int
		msg  string // part of the error line
		hint string // part of the hint line
	}{
		{"unknown role", nil, []string{"--role", "nope"}, 1, `Role "nope" not found`, "check --mount and --role"},
		{"unknown mount", nil, []string{"--role", "iam", "--mount", "nothere"}, 1, "Vault answered 403", "are --mount and --role right?"},
		{"policy denies", func(e []string) []string { return setEnv(e, "VAULT_TOKEN", deny) },
			[]string{"--role", testbed.RoleIAM}, 1, "Vault answered 403", "policy"},
		{"bad token", func(e []string) []string { return setEnv(e, "VAULT_TOKEN", "hvs.not-a-real-token-0123456789") },
			[]string{"--role", testbed.RoleIAM}, 1, "Vault answered 403", "vault login"},
		{"connection refused", func(e []string) []string { return setEnv(e, "VAULT_ADDR", "http://"+closed) },
			[]string{"--role", testbed.RoleIAM, "--retries", "0"}, 1, "refused", "VAULT_ADDR"},
		{"no token", func(e []string) []string { return cleanEnv(e, "VAULT_TOKEN=") },
			[]string{"--role", testbed.RoleIAM}, 1, "no Vault token found", "vault login"},
		{"static role unknown", nil, []string{"--role", "nope", "--type", "static"}, 1, "static-creds/nope", "static-roles"},
		{"type mismatch", nil, []string{"--role", testbed.RoleSession, "--type", "iam_user"}, 1, "--type says iam_user", "credential_type"},
		{"bad ttl", nil, []string{"--role", testbed.RoleAssume, "--ttl", "2x"}, 2, `--ttl: invalid duration "2x"`, "syntax"},
		{"ttl for iam_user", nil, []string{"--role", testbed.RoleIAM, "--type", "iam_user", "--ttl", "1h"}, 2, "cannot be requested", "remove the ttl"},
		{"bad arn", nil, []string{"--role", testbed.RoleAssume, "--role-arn", "arn:aws:iam::123:role/x"}, 2, "invalid role ARN", "12345678901"},
		{"arn without assumed_role", nil, []string{"--role", testbed.RoleFed, "--type", "federation_token", "--role-arn", b.TargetRoleARN}, 2, "only to assumed_role", "--type assumed_role"},
		{"mfa code not six digits", nil, []string{"--role", testbed.RoleSessionMFA, "--mfa-code", "12345"}, 2, "six digits", "MFA"},
		{"bad session name", nil, []string{"--role", testbed.RoleAssume, "--role-session-name", "a"}, 2, "session name", "2 to 64"},
		{"no role", nil, nil, 2, "no role given", "--role"},
		{"unknown flag", nil, []string{"--rol", "x"}, 2, "unknown flag --rol", "did you mean --role?"},
		{"missing config file", nil, []string{"--role", "x", "--config", "/nonexistent/config.toml"}, 2, "cannot read configuration file", "--config"},
		{"unknown profile", nil, []string{"--profile", "nope"}, 2, `no profile "nope"`, "[profiles.nope]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := productEnv(t, b)
			if tt.env != nil {
				env = tt.env(env)
			}
			runFailing(t, b, env, tt.args, tt.code, tt.msg, tt.hint)
		})
	}
}

// TestTokenSources proves the token order: VAULT_TOKEN, the token helper configured in
// ~/.vault, ~/.vault-token; --debug names the source and never the token.
func TestTokenSources(t *testing.T) {
	b := requireBed(t)
	allow, deny := tokens(t, b)
	t.Run("file", func(t *testing.T) {
		env := cleanEnv(productEnv(t, b), "VAULT_TOKEN=")
		home := envValue(env, "HOME")
		if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte(allow+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runBin(t, env, "--role", testbed.RoleAssume, "--no-cache", "--debug")
		if r.code != 0 || !strings.Contains(r.stderr, "token from "+filepath.Join(home, ".vault-token")) {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("helper", func(t *testing.T) {
		env := cleanEnv(productEnv(t, b), "VAULT_TOKEN=")
		home := envValue(env, "HOME")
		// A denied token in ~/.vault-token shows the helper wins over the file.
		if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte(deny), 0o600); err != nil {
			t.Fatal(err)
		}
		helper := filepath.Join(home, "token-helper")
		script := "#!/bin/sh\n[ \"$1\" = get ] && printf %s '" + allow + "'\n"
		if err := os.WriteFile(helper, []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, ".vault"), []byte(`token_helper = "`+helper+`"`+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runBin(t, env, "--role", testbed.RoleAssume, "--no-cache", "--debug")
		if r.code != 0 || !strings.Contains(r.stderr, "token from "+helper) {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("environment first", func(t *testing.T) {
		env := productEnv(t, b)
		if err := os.WriteFile(filepath.Join(envValue(env, "HOME"), ".vault-token"), []byte(deny), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runBin(t, env, "--role", testbed.RoleAssume, "--no-cache", "--debug")
		if r.code != 0 || !strings.Contains(r.stderr, "token from VAULT_TOKEN") {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		for _, want := range []string{"POST aws/creds/" + testbed.RoleAssume + ": ok in", "credentials from vault"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("--debug output lacks %q:\n%s", want, r.stderr)
			}
		}
	})
}

// TestConfigFileProfiles resolves a request from the TOML file, with flags over it.
func TestConfigFileProfiles(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	toml := fmt.Sprintf(`
[aws]
mount = %q
max_ttl = "2h"

[profiles.deploy]
role = %q
type = "assumed_role"
ttl = "25m"
role_session_name = "from-profile"
`, testbed.Mount, testbed.RoleAssume)
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "VAULT_CREDENTIAL_PROCESS_CONFIG="+path, "VAULT_CREDENTIAL_PROCESS_NO_CACHE=1")

	start := time.Now()
	r := runBin(t, env, "--profile", "deploy")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sentPlus(t, "Expiration", parseDocument(t, r.stdout).expires(t), start, time.Now(), 25*time.Minute)

	// A flag beats the profile.
	start = time.Now()
	r = runBin(t, env, "--profile", "deploy", "--ttl", "40m")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sentPlus(t, "Expiration", parseDocument(t, r.stdout).expires(t), start, time.Now(), 40*time.Minute)

	// The limit is named, never clamped.
	r = runBin(t, env, "--profile", "deploy", "--ttl", "3h")
	assertFailure(t, r, 2, "above the max_ttl of 2h set by "+path+": aws.max_ttl", "ask for a shorter ttl, or raise max_ttl")

	// A typo in the file is named with the file and key.
	if err := os.WriteFile(path, []byte("[profiles.deploy]\nrole = \"x\"\nrolearn = \"y\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, env, "--profile", "deploy")
	assertFailure(t, r, 2, path+": unknown key profiles.deploy.rolearn", "configuration reference")
}

// TestIAMUserEndsWithToken: Vault revokes a lease, and so deletes an iam_user's IAM
// user, when the token that created it expires. With a token that expires before the
// lease, the document must say the token's expiry, or the cache would hand out keys
// that no longer exist.
func TestIAMUserEndsWithToken(t *testing.T) {
	b := requireBed(t)
	token, _ := createToken(t, b, "10m")
	env := setEnv(productEnv(t, b), "VAULT_TOKEN", token)
	start := time.Now()
	r := runBin(t, env, "--role", testbed.RoleIAM, "--type", "iam_user", "--debug")
	end := time.Now()
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sentPlus(t, "Expiration", parseDocument(t, r.stdout).expires(t), start, end, 10*time.Minute)
	if !strings.Contains(r.stderr, "lease ends with the Vault token") {
		t.Errorf("--debug does not say the lease was capped:\n%s", r.stderr)
	}
}

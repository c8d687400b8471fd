package main

// Integration tests of the aws auth method (issue 23): the real Vault's aws auth
// method, its STS and IAM endpoints pointed at moto, logs the helper in with keys
// from the environment, a named profile's static keys or another program's
// credential_process; two principals make two logins; and the recursion cases, a
// profile whose credential_process is this helper and a helper started by a helper,
// are refused before any request reaches Vault.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const (
	awsAuthMount    = "aws"              // auth/aws
	awsAuthRole     = "signer"           // auth/aws/role/signer
	awsAuthServerID = "vault.test.local" // iam_server_id_header_value of the mount
)

// awsSigner is an IAM user in moto whose keys sign logins.
type awsSigner struct {
	name, keyID, secret, arn string
}

var awsAuthBed struct {
	once    sync.Once
	err     error
	signers [2]awsSigner
}

// awsAuthSetup is test-bed.md's recipe: two IAM users in moto, the aws auth method
// with its client config pointed at moto and a server id header required, and a role
// bound to both users.
func awsAuthSetup(t *testing.T, b *testbed.Bed) [2]awsSigner {
	t.Helper()
	tokens(t, b) // the helper's policy
	awsAuthBed.once.Do(func() {
		awsAuthBed.err = func() error {
			ctx := runCtx
			var arns []string
			for i, name := range []string{"vcp-signer-a", "vcp-signer-b"} {
				id, secret, err := b.CreateIAMUser(ctx, name)
				if err != nil {
					return err
				}
				arn := "arn:aws:iam::" + b.AccountID + ":user/" + name
				awsAuthBed.signers[i] = awsSigner{name: name, keyID: id, secret: secret, arn: arn}
				arns = append(arns, arn)
			}
			steps := []struct {
				path string
				body map[string]any
			}{
				{"sys/auth/" + awsAuthMount, map[string]any{"type": "aws"}},
				{"auth/" + awsAuthMount + "/config/client", map[string]any{"sts_endpoint": b.MotoURL, "sts_region": "us-east-1",
					"iam_endpoint": b.MotoURL, "access_key": "x", "secret_key": "x", "iam_server_id_header_value": awsAuthServerID}},
				{"auth/" + awsAuthMount + "/role/" + awsAuthRole, map[string]any{"auth_type": "iam", "bound_iam_principal_arn": arns,
					"resolve_aws_unique_ids": false, "token_policies": []string{"vcp-helper"}, "token_ttl": authTokenTTL.String(), "token_max_ttl": "4h"}},
			}
			for _, s := range steps {
				if err := b.VaultRequest(ctx, "POST", s.path, s.body, nil); err != nil {
					return err
				}
			}
			return nil
		}()
	})
	if awsAuthBed.err != nil {
		t.Fatalf("set up the aws auth method: %v", awsAuthBed.err)
	}
	for _, s := range awsAuthBed.signers {
		addSecret(s.secret)
	}
	return awsAuthBed.signers
}

// awsAuthEnv is authEnv for the aws method with credentials source, the STS
// endpoint moto and the mount's server id, and no AWS_* variable but extra.
func awsAuthEnv(t *testing.T, b *testbed.Bed, source string, extra ...string) []string {
	t.Helper()
	env := authEnv(t, b, fmt.Sprintf(`
[vault.auth]
method = "aws"
role = %q
credentials = %q
sts_endpoint = %q
iam_server_id_header_value = %q
`, awsAuthRole, source, b.MotoURL, awsAuthServerID), nil)
	return append(cleanEnv(env, "AWS_"), extra...)
}

func (s awsSigner) env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.keyID, "AWS_SECRET_ACCESS_KEY=" + s.secret}
}

// TestAuthAWSEnvironment: keys in the environment sign the login, through the whole
// life of the login token as for every method.
func TestAuthAWSEnvironment(t *testing.T) {
	b := requireBed(t)
	signers := awsAuthSetup(t, b)
	env := awsAuthEnv(t, b, "env", signers[0].env()...)
	t.Run("the signer is named", func(t *testing.T) {
		r := runBin(t, env, assumeArgs(16, "--debug")...)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "signing with the keys of "+signers[0].arn+` (credentials = "env")`) {
			t.Errorf("--debug does not name the signing principal:\n%s", r.stderr)
		}
		dropCredentials(t, env)
		if err := os.Remove(loginFile(t, env)); err != nil {
			t.Fatal(err)
		}
	})
	checkLoginLifecycle(t, loginCase{vault: b, env: env, loginPath: "auth/" + awsAuthMount + "/login", identity: "role signer, credentials env"})
}

// TestAuthAWSProfile: a named profile's static keys sign the login, and so do the
// keys another program prints as the profile's credential_process, run with the
// marker in its environment.
func TestAuthAWSProfile(t *testing.T) {
	b := requireBed(t)
	signers := awsAuthSetup(t, b)
	logins := func() int { return auditCount(t, b, "update", "auth/"+awsAuthMount+"/login") }

	for _, tt := range []struct {
		name    string
		profile func(home string) string // the profile's settings
		signer  awsSigner
		marker  bool // the profile's program records VAULT_CREDENTIAL_PROCESS_DEPTH
	}{
		{"static keys", func(string) string {
			return "aws_access_key_id = " + signers[1].keyID + "\naws_secret_access_key = " + signers[1].secret + "\n"
		}, signers[1], false},
		{"credential_process of another program", func(home string) string {
			script := filepath.Join(home, "signer-keys.sh")
			writeFile(t, script, fmt.Sprintf("#!/bin/sh\necho \"$%s\" > %q\necho '{\"Version\":1,\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\"}'\n",
				"VAULT_CREDENTIAL_PROCESS_DEPTH", filepath.Join(home, "marker"), signers[0].keyID, signers[0].secret), 0o700)
			return "credential_process = " + script + "\n"
		}, signers[0], true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := awsAuthEnv(t, b, "profile:ci-signer")
			home := envValue(env, "HOME")
			config := filepath.Join(home, "aws-config")
			writeFile(t, config, "[profile ci-signer]\n"+tt.profile(home), 0o600)
			env = append(env, "AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)

			before := logins()
			r := runBin(t, env, assumeArgs(15, "--debug")...)
			if r.code != 0 {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			if got := logins() - before; got != 1 {
				t.Errorf("%d logins, want 1", got)
			}
			if !strings.Contains(r.stderr, "signing with the keys of "+tt.signer.arn) {
				t.Errorf("--debug does not name %s:\n%s", tt.signer.arn, r.stderr)
			}
			if arn := keyIdentity(t, b, parseDocument(t, r.stdout).AccessKeyID); !strings.Contains(arn, ":assumed-role/") {
				t.Errorf("the document's keys belong to %s, want the assumed role Vault minted", arn)
			}
			if tt.marker {
				if data, err := os.ReadFile(filepath.Join(home, "marker")); err != nil || strings.TrimSpace(string(data)) != "1" {
					t.Errorf("the credential_process ran with VAULT_CREDENTIAL_PROCESS_DEPTH=%q (%v), want 1", data, err)
				}
			}
			loginToken(t, env)
		})
	}
}

func keyIdentity(t *testing.T, b *testbed.Bed, keyID string) string {
	t.Helper()
	arn, err := b.KeyIdentity(runCtx, keyID)
	if err != nil {
		t.Fatal(err)
	}
	return arn
}

// TestAuthAWSIdentityKeys: two principals in one cache folder make two logins and
// two credential entries; each comes back to its own login token.
func TestAuthAWSIdentityKeys(t *testing.T) {
	b := requireBed(t)
	signers := awsAuthSetup(t, b)
	base := awsAuthEnv(t, b, "env")
	logins := func() int { return auditCount(t, b, "update", "auth/"+awsAuthMount+"/login") }
	run := func(s awsSigner) result {
		t.Helper()
		r := runBin(t, append(base, s.env()...), assumeArgs(15, "--debug")...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d:\n%s", s.name, r.code, r.stderr)
		}
		return r
	}

	before := logins()
	run(signers[0])
	run(signers[1])
	if got := logins() - before; got != 2 {
		t.Errorf("two principals made %d logins, want 2", got)
	}
	tokens, _ := filepath.Glob(filepath.Join(cacheDir(base), "login-*.token"))
	entries, _ := filepath.Glob(filepath.Join(cacheDir(base), "*.json"))
	if len(tokens) != 2 || len(entries) != 2 {
		t.Errorf("%d login tokens and %d credential entries, want 2 and 2", len(tokens), len(entries))
	}
	dropCredentials(t, base)
	before = logins()
	for _, s := range signers {
		if r := run(s); !strings.Contains(r.stderr, "login token reused") {
			t.Errorf("%s did not reuse its login token:\n%s", s.name, r.stderr)
		}
	}
	if got := logins() - before; got != 0 {
		t.Errorf("%d logins on the second round, want 0", got)
	}
}

// TestAuthAWSRecursion: the signing keys never come from the helper itself. A
// profile whose credential_process is this binary (by its name, or through a link
// of another name), a helper started with the marker, and a wrapper script that runs
// the helper (caught by the marker the outer run sets) are each refused, with exit
// status 2 and a hint, before any request reaches Vault.
func TestAuthAWSRecursion(t *testing.T) {
	b := requireBed(t)
	signers := awsAuthSetup(t, b)
	bin := binaryUnderTest(t)

	for _, tt := range []struct {
		name    string
		command func(home string) string // the profile's credential_process; "": no profile
		extra   []string
		code    int
		msg     string
		hint    string
		inner   bool // the inner helper's own error and hint come first
	}{
		{"credential_process is this binary", func(string) string { return bin + " --role " + testbed.RoleAssume },
			nil, process.ExitUsage, "the profile's credential_process runs vault-credential-process", "another program", false},
		{"credential_process is a link to it", func(home string) string {
			link := filepath.Join(home, "creds")
			if err := os.Symlink(bin, link); err != nil {
				t.Fatal(err)
			}
			return link + " --role " + testbed.RoleAssume
		}, nil, process.ExitUsage, "the profile's credential_process runs vault-credential-process", "another program", false},
		{"a wrapper script runs it", func(home string) string {
			script := filepath.Join(home, "wrapper.sh")
			writeFile(t, script, fmt.Sprintf("#!/bin/sh\nexec %q --role %s --type assumed_role\n", bin, testbed.RoleAssume), 0o700)
			return script
		}, nil, process.ExitFailure, "credential_process failed: exit status 2", "credential_process by hand", true},
		{"started by the helper", nil, append(signers[0].env(), "VAULT_CREDENTIAL_PROCESS_DEPTH=1"), process.ExitUsage,
			"this run was started by vault-credential-process itself (VAULT_CREDENTIAL_PROCESS_DEPTH is set)", "must come from elsewhere", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			source := "env"
			if tt.command != nil {
				source = "profile:loop"
			}
			env := awsAuthEnv(t, b, source, tt.extra...)
			if tt.command != nil {
				home := envValue(env, "HOME")
				config := filepath.Join(home, "aws-config")
				writeFile(t, config, "[profile loop]\ncredential_process = "+tt.command(home)+"\n", 0o600)
				env = append(env, "AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
			}
			total := auditTotal(t, b)
			r := runBin(t, env, assumeArgs(15)...)
			if tt.inner {
				// The wrapper's helper refused (its two lines, passed through),
				// then the outer run says its credential_process failed.
				const refused = errorPrefix + "refused to log in with the aws auth method: this run was started by vault-credential-process itself"
				inner, outer, ok := strings.Cut(r.stderr, "\n"+hintPrefix)
				if !ok || !strings.HasPrefix(inner, refused) {
					t.Fatalf("stderr does not start with the inner run's refusal:\n%s", r.stderr)
				}
				_, outer, _ = strings.Cut(outer, "\n")
				r.stderr = outer
			}
			assertFailure(t, r, tt.code, tt.msg, tt.hint)
			if got := auditTotal(t, b) - total; got != 0 {
				t.Errorf("the refused run made %d Vault requests, want 0", got)
			}
			assertNoLoginTokens(t, env)
		})
	}
}

// TestAuthAWSRefusedByVault: Vault's refusal of a login is the error line, with a hint
// on what to check on both sides.
func TestAuthAWSRefusedByVault(t *testing.T) {
	b := requireBed(t)
	signers := awsAuthSetup(t, b)
	env := setEnv(awsAuthEnv(t, b, "env", signers[0].env()...), "VAULT_CREDENTIAL_PROCESS_AUTH_IAM_SERVER_ID_HEADER_VALUE", "other.vault")
	r := runBin(t, env, assumeArgs(15)...)
	assertFailure(t, r, process.ExitFailure, "log in to Vault with aws at auth/aws, role signer, credentials env: Vault answered 400: error validating X-Vault-AWS-IAM-Server-ID header",
		"bound_iam_principal_arn must match who signed")
}

package main

// The first-run mistakes of issue 21, against the bed's real Vault (and moto, as a
// server that is not Vault): each gets one error line that names the thing and one hint
// with the next step, asserted exactly.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// TestFirstRunMistakes: the exact error and hint of each mistake, and its exit status.
func TestFirstRunMistakes(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b) // userpass alice, for the password_env row
	home := func(env []string) string { return envValue(env, "HOME") }
	https := strings.Replace(b.VaultAddr, "http://", "https://", 1)
	usage := "Run " + name + " -h for usage"
	for _, tt := range []struct {
		name      string
		env       func(env []string) []string
		args      []string
		code      int
		msg, hint func(env []string) string
	}{
		{
			name: "VAULT_ADDR ending in /v1",
			env:  func(env []string) []string { return setEnv(env, "VAULT_ADDR", b.VaultAddr+"/v1") },
			args: []string{"--role", testbed.RoleIAM}, code: 2,
			msg: func([]string) string { return `VAULT_ADDR: Vault address "` + b.VaultAddr + `/v1" ends in /v1` },
			hint: func([]string) string {
				return "remove /v1: the helper adds it to every request itself, so use " + b.VaultAddr
			},
		},
		{
			name: "an address that is not Vault",
			env:  func(env []string) []string { return setEnv(env, "VAULT_ADDR", b.MotoURL) },
			args: []string{"--role", testbed.RoleIAM, "--retries", "0"}, code: 1,
			msg: func([]string) string {
				return "get credentials from aws/creds/iam: the answer from " + b.MotoURL + " is not valid JSON " +
					"(invalid character '<' looking for beginning of value): this is not a Vault server, or something in between rewrote its answer"
			},
			hint: func([]string) string {
				return "set VAULT_ADDR (or vault.address in the configuration) to your Vault's address, the one `vault status` reaches; " +
					"`vault-credential-process doctor` checks it"
			},
		},
		{
			name: "https to a Vault speaking http",
			env:  func(env []string) []string { return setEnv(env, "VAULT_ADDR", https) },
			args: []string{"--role", testbed.RoleIAM, "--retries", "0"}, code: 1,
			msg: func([]string) string {
				return "get credentials from aws/creds/iam: Vault at " + https + " answered in plain http, not https"
			},
			hint: func([]string) string {
				return "use " + b.VaultAddr + " (http://) in VAULT_ADDR, or set up TLS on Vault"
			},
		},
		{
			name: "a profile with no configuration file",
			args: []string{"--profile", "prod"}, code: 2,
			msg: func(env []string) string {
				return `no profile "prod": there is no configuration file at ` + home(env) + "/.config/vault-credential-process/config.toml"
			},
			hint: func(env []string) string {
				return "create " + home(env) + `/.config/vault-credential-process/config.toml with a [profiles.prod] table holding role = "NAME", ` +
					"or name another file with --config or VAULT_CREDENTIAL_PROCESS_CONFIG"
			},
		},
		{
			name: "password_env naming an unset variable",
			env: func(env []string) []string {
				return authEnvAt(t, env, "[vault.auth]\nmethod = \"userpass\"\nusername = \"alice\"\npassword_env = \"VCP_UNSET_PASSWORD\"\n")
			},
			args: assumeArgs(15), code: 2,
			msg: func([]string) string { return "the variable VCP_UNSET_PASSWORD (password_env) is empty or not set" },
			hint: func([]string) string {
				return "set it in the environment the AWS client runs the helper in, or use the _file key instead"
			},
		},
		{
			name: "mistyped command", args: []string{"sevre", "--role", testbed.RoleIAM}, code: 2,
			msg:  func([]string) string { return `unknown command "sevre"` },
			hint: func([]string) string { return "did you mean `" + name + " serve`? " + usage },
		},
		{
			name: "mistyped --flag", args: []string{"--rol", testbed.RoleIAM}, code: 2,
			msg:  func([]string) string { return "unknown flag --rol" },
			hint: func([]string) string { return "did you mean --role? " + usage },
		},
		{
			name: "mistyped -flag", args: []string{"-rol", testbed.RoleIAM}, code: 2,
			msg:  func([]string) string { return "unknown flag -rol" },
			hint: func([]string) string { return "did you mean -role? " + usage },
		},
		{
			name: "help of an unknown command", args: []string{"help", "nosuch"}, code: 2,
			msg: func([]string) string { return `help: unknown command "nosuch"` },
			hint: func([]string) string {
				return "the commands are aws-config, cache, completion, doctor, env, exec, help, login, pod-agent, serve, version; run " + name + " -h for usage"
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := productEnv(t, b)
			if tt.env != nil {
				env = tt.env(env)
			}
			r := runFailing(t, b, env, tt.args, tt.code, errorPrefix+tt.msg(env), tt.hint(env))
			if want := errorPrefix + tt.msg(env) + "\n" + hintPrefix + tt.hint(env) + "\n"; r.stderr != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
			}
		})
	}
}

// authEnvAt is env (a productEnv) with the configuration file toml and no VAULT_TOKEN.
func authEnvAt(t *testing.T, env []string, toml string) []string {
	t.Helper()
	path := filepath.Join(envValue(env, "HOME"), "config.toml")
	writeFile(t, path, toml, 0o600)
	return append(cleanEnv(env, "VAULT_TOKEN="), "VAULT_CREDENTIAL_PROCESS_CONFIG="+path)
}

// TestAuditLogFolder: an audit log whose folder does not exist gets the folder (0700)
// and its line, with no warning; a folder that cannot be made is one warning that says
// so once and how to make it, and the credentials still go out.
func TestAuditLogFolder(t *testing.T) {
	b := requireBed(t)
	args := []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}

	dir := filepath.Join(t.TempDir(), "logs", "vcp")
	log := filepath.Join(dir, "audit.jsonl")
	env := append(productEnv(t, b), "VAULT_CREDENTIAL_PROCESS_AUDIT_LOG="+log)
	r := runBin(t, env, args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	assertWarning(t, r.stderr, "")
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, log: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want mode %04o", path, err, want)
		}
	}
	if data, _ := os.ReadFile(log); strings.Count(string(data), "\n") != 1 {
		t.Errorf("audit log holds %q, want one line", data)
	}

	// A dangling symlink where the folder goes: no folder can be made there.
	blocked := filepath.Join(t.TempDir(), "logs")
	if err := os.Symlink(filepath.Join(t.TempDir(), "gone"), blocked); err != nil {
		t.Fatal(err)
	}
	log = filepath.Join(blocked, "audit.jsonl")
	r = runBin(t, setEnv(env, "VAULT_CREDENTIAL_PROCESS_AUDIT_LOG", log), args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := warningPrefix + "audit log " + log + ": cannot create its folder: file exists; create it (mkdir -p -m 700 " + blocked + ") or set another path\n"
	if r.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
}

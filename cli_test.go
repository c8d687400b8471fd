package main

// Unit tests of run, the command line, in this process: help, version, usage and
// configuration errors with a fake environment and buffers, no Vault; and doctor's lines.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// cliEnv is a fake environment whose Vault fails the test if a request reaches it:
// nothing in these tests may get that far. vars come on top. This process's
// environment is cleaned too (unitEnv): the Vault client and the token lookup still
// read it rather than the getenv run is given.
func cliEnv(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	unitEnv(t)
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request reached Vault: %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"errors":["not here"]}`, http.StatusInternalServerError)
	}))
	t.Cleanup(vault.Close)
	env := map[string]string{"VAULT_ADDR": vault.URL, "VAULT_TOKEN": unitToken}
	for k, v := range vars {
		env[k] = v
	}
	return fakeEnv(t, env)
}

// TestHelp: -h, --help and help print the usage of the command asked about on stdout,
// that text exactly, with nothing on stderr, and exit 0, also after other flags. Every
// command line of the table is asked; a subcommand prints its command's page.
func TestHelp(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, cmdspec.Default.Usage()},
		{[]string{"--help"}, cmdspec.Default.Usage()},
		{[]string{"help"}, cmdspec.Default.Usage()},
		{[]string{"help", "env"}, cmdspec.Env.Usage()},
		{[]string{"help", "cache"}, cmdspec.Cache.Usage()},
		{[]string{"version", "-h"}, cmdspec.Version.Usage()},
		{[]string{"--role", "dev", "-h"}, cmdspec.Default.Usage()},
		{[]string{"env", "--role", "dev", "--help"}, cmdspec.Env.Usage()},
		{[]string{"cache"}, cmdspec.Cache.Usage()},
		{[]string{"cache", "help"}, cmdspec.Cache.Usage()},
		{[]string{"cache", "list", "-h"}, cmdspec.Cache.Usage()},
		{[]string{"cache", "clear", "--help"}, cmdspec.Cache.Usage()},
		{[]string{"completion", "profiles", "-h"}, cmdspec.Completion.Usage()},
	}
	for _, id := range cmdspec.Commands() {
		for _, h := range []string{"-h", "--help"} {
			cases = append(cases, struct {
				args []string
				want string
			}{append(strings.Fields(id.Path()), h), id.Page().Usage()})
		}
	}
	for _, tt := range cases {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runInProcess(t, cliEnv(t, nil), tt.args...)
			if r.code != process.ExitOK || r.stderr != "" || r.stdout != tt.want {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant 0, nothing and:\n%s", r.code, r.stderr, r.stdout, tt.want)
			}
		})
	}
}

// TestVersion: --version and version print one line naming the program, exit 0.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		t.Run(args[0], func(t *testing.T) {
			r := runInProcess(t, cliEnv(t, nil), args...)
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, name+" ") || strings.Count(r.stdout, "\n") != 1 ||
				!strings.HasSuffix(r.stdout, "\n") {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0, one line naming %s, nothing", r.code, r.stdout, r.stderr, name)
			}
		})
	}
}

// TestCommandLineErrors: a usage or configuration mistake is exit 2, an empty stdout,
// one error line and a hint, before any Vault request.
func TestCommandLineErrors(t *testing.T) {
	const seeHelp = "-h"
	for _, tt := range []struct {
		name      string
		args      []string
		env       map[string]string
		msg, hint string
	}{
		// Usage: the command line itself.
		{"unknown flag", []string{"--bogus"}, nil, "unknown flag --bogus", seeHelp},
		{"unknown flag of env", []string{"env", "--bogus"}, nil, "unknown flag --bogus", seeHelp},
		{"unknown flag of cache list", []string{"cache", "list", "--bogus"}, nil, "unknown flag --bogus", seeHelp},
		{"flag without its value", []string{"--ttl"}, nil, "--ttl needs a value", "--ttl VALUE or --ttl=VALUE"},
		{"unexpected argument", []string{"--role", "dev", "extra"}, nil, `unexpected argument "extra"`, seeHelp},
		{"unexpected argument of env", []string{"env", "--role", "dev", "extra"}, nil, `unexpected argument "extra"`, seeHelp},
		{"unexpected argument of doctor", []string{"doctor", "extra"}, nil, `unexpected argument "extra"`, seeHelp},
		{"version extra", []string{"version", "extra"}, nil, "version takes no arguments", seeHelp},
		{"unexpected argument of cache list", []string{"cache", "list", "extra"}, nil, `cache list: unexpected argument "extra"`, seeHelp},
		{"unexpected argument of cache clear", []string{"cache", "clear", "--all", "extra"}, nil, `cache clear: unexpected argument "extra"`, seeHelp},
		{"unexpected argument of aws-config", []string{"aws-config", "--profile", "p", "extra"}, nil, `aws-config: unexpected argument "extra"`, seeHelp},
		{"cache unknown command", []string{"cache", "bogus"}, nil, `cache: unknown command "bogus"`, seeHelp},
		{"exec without command", []string{"exec", "--role", "dev"}, nil, "exec: no command given", "-- COMMAND"},
		{"exec with -- alone", []string{"exec", "--role", "dev", "--"}, nil, "exec: no command given", "-- COMMAND"},
		{"env unknown format", []string{"env", "--format", "bogus", "--role", "dev"}, nil, `--format: unknown shell format "bogus"`, "sh, fish or powershell"},
		{"cache clear without a request", []string{"cache", "clear"}, nil, "cache clear: say which entries", "--all"},
		{"aws-config without --profile", []string{"aws-config"}, nil, "aws-config: no --profile given", "--profile"},
		{"--force without --write", []string{"aws-config", "--profile", "dev", "--force"}, nil, "--force goes with --write", seeHelp},
		// Configuration: what the flags, the environment or the file say.
		{"no role", nil, nil, "no role given", "--role"},
		{"bad --ttl", []string{"--role", "dev", "--ttl", "2x"}, nil, `--ttl: invalid duration "2x"`, "duration syntax"},
		{"bad ttl from the environment", []string{"--role", "dev"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_TTL": "2x"},
			`VAULT_CREDENTIAL_PROCESS_TTL: invalid duration "2x"`, "duration syntax"},
		{"unknown --type", []string{"--role", "dev", "--type", "bogus"}, nil, `--type: unknown credential type "bogus"`, "iam_user"},
		{"--retries out of range", []string{"--role", "dev", "--retries", "11"}, nil, `--retries: invalid retry count "11"`, "0 to 10"},
		{"bad VAULT_ADDR", []string{"--role", "dev"}, map[string]string{"VAULT_ADDR": "not a url"},
			`VAULT_ADDR: invalid Vault address "not a url"`, "https://vault.example.com:8200"},
		{"VAULT_ADDR without a scheme", []string{"--role", "dev"}, map[string]string{"VAULT_ADDR": "127.0.0.1:8200"},
			`VAULT_ADDR: invalid Vault address "127.0.0.1:8200"`, "https://vault.example.com:8200"},
		{"missing --config", []string{"--role", "dev", "--config", "/nonexistent/config.toml"}, nil,
			"/nonexistent/config.toml: cannot read configuration file", "--config"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, cliEnv(t, tt.env), tt.args...)
			assertFailure(t, r, process.ExitUsage, tt.msg, tt.hint)
		})
	}
}

// TestDoctorCommand: doctor's lines through run. With Vault unreachable the
// token is "not checked", not invalid; a hostile configuration path is
// shown escaped on its one line.
func TestDoctorCommand(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{
			name: "vault unreachable",
			want: []string{"✗ vault server: connection to Vault at http://127.0.0.1:",
				"\n- vault token: from VAULT_TOKEN, not checked: Vault was not reached\n"},
			notWant: []string{"invalid or expired", "vault login"},
		},
		{
			name: "hostile configuration path",
			args: []string{"--config", "/nonexistent/\x1b[31m\u202e\nx.toml"},
			want: []string{"✗ configuration: /nonexistent/\\x1b[31m\\u202e x.toml: cannot read configuration file"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			unitEnv(t)
			t.Setenv("VAULT_ADDR", "http://"+closedPort(t))
			t.Setenv("VAULT_TOKEN", unitToken)
			t.Setenv("AWS_CONFIG_FILE", os.DevNull)
			r := runInProcess(t, os.Getenv, append([]string{"doctor", "--retries", "0"}, tt.args...)...)
			if r.code != 1 || r.stderr != "" {
				t.Errorf("exit %d, stderr %q; want 1 and nothing", r.code, r.stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, bad := range tt.notWant {
				if strings.Contains(r.stdout, bad) {
					t.Errorf("doctor output says %q:\n%s", bad, r.stdout)
				}
			}
			assertPrintable(t, r.stdout, "✓ ", "✗ ", "- ", "  hint: ")
		})
	}
}

package main

// The wording review of issue 21, through the real binary: failures whose cause Go
// words for developers ("EOF", Go type names, the flag package's "-role") get one line
// in the user's words and a hint with the next step. Vault's answers come from the
// bed's real Vault behind the fault proxy.

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// TestErrorWording: the exact error and hint of each row.
func TestErrorWording(t *testing.T) {
	b := requireBed(t)
	p := startFaultProxy(t, b.VaultAddr)
	const what = "get credentials from aws/creds/" + testbed.RoleAssume + ": "
	const cutHint = "something between you and Vault (a proxy, a load balancer) may have changed or cut the answer: check VAULT_ADDR, or run with --debug"
	closeConn := func(w http.ResponseWriter, r *http.Request, attempt int) bool {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return true
	}
	request := []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--retries", "0"}
	for _, tt := range []struct {
		name      string
		fault     fault // nil: Vault answers
		env       func(t *testing.T, env []string) []string
		args      []string
		code      int
		msg, hint string // in msg, {config} stands for the configuration file's path
	}{
		{name: "connection closed without an answer", fault: closeConn, args: request, code: 1,
			msg: what + "Vault at " + p.addr() + " closed the connection without answering",
			hint: "check that VAULT_ADDR is your Vault (https or http as it listens) and that nothing between drops the request; " +
				"try again, or raise --retries"},
		{name: "answer cut short", fault: answer(0, 200, nil, `{"request_id":"1","data":{"access_key":"AKIA`), args: request, code: 1,
			msg: what + "the answer from Vault at " + p.addr() + " was cut short", hint: cutHint},
		{name: "a field of the wrong type", fault: answer(0, 200, nil, `{"request_id":"1","lease_duration":"3600","data":{}}`), args: request, code: 1,
			msg:  what + "the answer from Vault at " + p.addr() + " is not what Vault sends: lease_duration is a string, not a number",
			hint: cutHint},
		{name: "an empty answer", fault: answer(0, 204, nil, ""), args: request, code: 1,
			msg:  what + "the answer from " + p.addr() + " was empty",
			hint: "check that VAULT_ADDR is your Vault and that nothing between drops its answers; `vault-credential-process doctor` checks it"},
		{name: "a flag without its value", args: []string{"--role"}, code: 2,
			msg: "--role needs a value", hint: "put it after the flag (--role VALUE or --role=VALUE); run " + name + " -h for usage"},
		{name: "a bool flag with a value", args: append([]string{"--no-cache=maybe"}, request...), code: 2,
			msg:  `--no-cache takes no value, or true or false, not "maybe"`,
			hint: "write --no-cache alone to turn it on (--no-cache=false to turn it off); run " + name + " -h for usage"},
		{name: "a number where the file wants a string", code: 2, args: []string{"--profile", "dev"},
			env: func(t *testing.T, env []string) []string {
				path := filepath.Join(t.TempDir(), "config.toml")
				writeFile(t, path, "[profiles.dev]\nrole = 5\n", 0o600)
				return append(env, "VAULT_CREDENTIAL_PROCESS_CONFIG="+path)
			},
			msg:  "{config}: invalid TOML: line 2: profiles.dev.role must be a string (in double quotes), not a whole number",
			hint: "check that line: strings need double quotes, tables [brackets], one key = value per line"},
		{name: "VAULT_CACERT naming no file", args: request, code: 2,
			env: func(t *testing.T, env []string) []string { return append(env, "VAULT_CACERT=/nonexistent/ca.pem") },
			msg: "read Vault settings from the environment: cannot load the CA certificate that VAULT_CACERT names: " +
				"open /nonexistent/ca.pem: no such file or directory",
			hint: "set VAULT_CACERT to a readable PEM file of the CA that signed Vault's certificate, or unset it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p.set(tt.fault, nil)
			env := setEnv(productEnv(t, b), "VAULT_ADDR", p.addr())
			if tt.env != nil {
				env = tt.env(t, env)
			}
			msg := tt.msg
			if conf := envValue(env, "VAULT_CREDENTIAL_PROCESS_CONFIG"); conf != "" {
				msg = conf + msg[len("{config}"):]
			}
			r := runBin(t, env, tt.args...)
			assertFailure(t, r, tt.code, errorPrefix+msg, tt.hint)
			if want := errorPrefix + msg + "\n" + hintPrefix + tt.hint + "\n"; r.stderr != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
			}
		})
	}
}

//go:build unix

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/browser"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestConsoleLoginBrowserEnvironment: the browser `login` starts gets none
// of the secrets the helper knows of (VAULT_TOKEN, the AWS secrets) nor the
// variable the settings name for the AppRole secret id; the rest of the
// environment it gets, and no sign-in page is left behind.
func TestConsoleLoginBrowserEnvironment(t *testing.T) {
	unitEnv(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// Every secret the browser package hides but the MFA code, which the run
	// would refuse for an assumed role (internal/browser tests it).
	var hidden []string
	for _, name := range append(append([]string(nil), browser.Secrets...), "MY_SECRET_ID") {
		if name != "VAULT_CREDENTIAL_PROCESS_MFA_CODE" {
			hidden = append(hidden, name)
			t.Setenv(name, "secret-of-"+name)
			addSecret("secret-of-" + name)
		}
	}
	t.Setenv("VCP_KEPT", "kept")
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/approle/login":
			fmt.Fprint(w, `{"auth":{"client_token":"hvs.unit-login-token","accessor":"acc","lease_duration":3600,"renewable":true}}`)
		case "/v1/aws/creds/dev":
			fmt.Fprint(w, `{"lease_duration":900,"renewable":false,"data":{"access_key":"ASIAUNIT","secret_key":"unit-env-secret-key",`+
				`"session_token":"unit-env-session-token","arn":"arn:aws:sts::123456789012:assumed-role/R/s"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(vault.Close)
	addSecret("hvs.unit-login-token")
	addSecret("unit-env-secret-key")
	addSecret("unit-env-session-token")
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.toml")
	writeFile(t, conf, "[vault.auth]\nmethod = \"approle\"\nrole_id = \"r\"\nsecret_id_env = \"MY_SECRET_ID\"\n", 0o600)
	// The browser writes down its environment and fails, so that login
	// returns at once instead of after the page's handoff.
	environ := filepath.Join(dir, "environ")
	script := filepath.Join(dir, "browser")
	writeFile(t, script, "#!/bin/sh\nenv > "+environ+"\nexit 3\n", 0o700)
	t.Setenv("BROWSER", script)
	t.Setenv("VAULT_ADDR", vault.URL)
	t.Setenv("VAULT_CREDENTIAL_PROCESS_CONFIG", conf)
	fed := newFederationFake(t)

	r := runInProcess(t, os.Getenv, "login", "--role", "dev", "--type", "assumed_role", "--federation-endpoint", fed.endpoint())
	assertFailure(t, r, process.ExitFailure, "login: open the browser: the browser command "+script+" failed: exit status 3", "set BROWSER")
	data, err := os.ReadFile(environ)
	if err != nil {
		t.Fatalf("the browser did not run: %v", err)
	}
	env := "\n" + string(data)
	for _, name := range hidden {
		if strings.Contains(env, "\n"+name+"=") {
			t.Errorf("the browser got %s in its environment", name)
		}
	}
	if !strings.Contains(env, "\nVCP_KEPT=kept\n") {
		t.Errorf("the browser's environment lacks VCP_KEPT:\n%s", data)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "vault-credential-process-login-*")); len(left) != 0 {
		t.Errorf("sign-in pages left behind: %v", left)
	}
}

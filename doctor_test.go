package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// doctorChecks runs doctor's checks against the Vault at addr with a token
// set and returns them by name.
func doctorChecks(t *testing.T, addr string) map[string]Check {
	t.Helper()
	unitEnv(t)
	t.Setenv("VAULT_ADDR", addr)
	t.Setenv("VAULT_TOKEN", unitToken)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	s, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDCacheDir: t.TempDir(), config.IDRetries: "0"},
		Getenv: os.Getenv, RequestOptional: true})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	d := &doctorRun{Settings: s, Getenv: os.Getenv, Now: time.Now, Program: name}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	checks := map[string]Check{}
	for _, c := range d.Run(ctx) {
		checks[c.Name] = c
	}
	return checks
}

// TestDoctorToken: the token check blames the token only when Vault said
// so; when Vault was not reached or could not answer it says the token was
// not checked and points at the address and the network, not `vault login`.
func TestDoctorToken(t *testing.T) {
	vault := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/sys/health" {
				w.Write([]byte(`{"initialized":true,"sealed":false,"version":"1.21.0"}`))
				return
			}
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, tt := range []struct {
		name       string
		addr       func() string
		detail     []string
		hint       []string
		notInHints []string
		skipped    bool // not checked, rather than failed
	}{
		{
			// The vault server line says why; the token line only that
			// it was not checked.
			name:       "vault unreachable",
			addr:       func() string { return "http://" + closedPort(t) },
			skipped:    true,
			detail:     []string{"from VAULT_TOKEN, not checked: Vault was not reached"},
			notInHints: []string{"invalid or expired", "vault login", "refused"},
		},
		{
			name:       "vault failing",
			addr:       func() string { return vault(http.StatusInternalServerError, `{"errors":["internal error"]}`) },
			detail:     []string{"from VAULT_TOKEN, not checked: Vault answered 500: internal error"},
			hint:       []string{"Vault could not answer, so the token was not checked"},
			notInHints: []string{"invalid or expired", "vault login"},
		},
		{
			name:   "token refused",
			addr:   func() string { return vault(http.StatusForbidden, `{"errors":["permission denied"]}`) },
			detail: []string{"look up the token from VAULT_TOKEN: Vault answered 403: permission denied"},
			hint:   []string{"the token is invalid or expired: run `vault login`"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := doctorChecks(t, tt.addr())["vault token"]
			if !ok {
				t.Fatal("no vault token check")
			}
			if c.OK || c.Skipped != tt.skipped {
				t.Fatalf("token check %+v, want failed or (with skipped) not checked", c)
			}
			for _, want := range tt.detail {
				if !strings.Contains(c.Detail, want) {
					t.Errorf("detail %q lacks %q", c.Detail, want)
				}
			}
			for _, want := range tt.hint {
				if !strings.Contains(c.Hint, want) {
					t.Errorf("hint %q lacks %q", c.Hint, want)
				}
			}
			for _, bad := range tt.notInHints {
				if strings.Contains(c.Detail+c.Hint, bad) {
					t.Errorf("check says %q: %+v", bad, c)
				}
			}
			assertNoSecret(t, "doctor", c.Detail+c.Hint)
		})
	}
}

// TestDoctorNotVaultHealth: a server that answers sys/health with JSON that
// is not Vault's health document is named as not Vault, and nothing more is
// asked of it.
func TestDoctorNotVaultHealth(t *testing.T) {
	addr := fakeVault(t, http.StatusOK, `{"status":"ok"}`)
	checks := doctorChecks(t, addr)
	want := Check{Name: "vault server",
		Detail: addr + " answered sys/health with status 200, not as Vault answers: this is not a Vault server",
		Hint:   "set VAULT_ADDR (or vault.address in the configuration) to your Vault's address, the one `vault status` reaches"}
	if got := checks["vault server"]; got != want {
		t.Errorf("vault server check %+v, want %+v", got, want)
	}
	if got := checks["vault token"]; !got.Skipped || got.Detail != "from VAULT_TOKEN, not checked: Vault was not reached" {
		t.Errorf("vault token check %+v, want not checked", got)
	}
}

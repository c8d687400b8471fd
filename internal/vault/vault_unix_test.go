//go:build unix

package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestNewVaultTokenHelper finds the token as the vault CLI would when
// VAULT_TOKEN is not set: from the token_helper named in VAULT_CONFIG_PATH.
// (The built-in ~/.vault-token helper is left to the integration tests:
// go-homedir caches HOME for the life of the process.)
func TestNewVaultTokenHelper(t *testing.T) {
	fv := newFakeVault(t, always(200, iamUserBody))
	const fromHelper = "hvs.FROMHELPERmustNeverLeak"
	tests := []struct {
		name      string
		env       map[string]string
		script    string // the helper's body; "" for no helper configured
		wantToken string
		wantErr   string
		wantHint  string
	}{
		{name: "VAULT_TOKEN wins over the helper", env: map[string]string{"VAULT_TOKEN": testToken},
			script: "echo " + fromHelper, wantToken: testToken},
		{name: "helper", script: "echo " + fromHelper, wantToken: fromHelper},
		{name: "helper prints spaces around the token", script: "printf '  %s\\n\\n' " + fromHelper, wantToken: fromHelper},
		{name: "helper prints nothing", script: "true", wantErr: "no Vault token found", wantHint: "vault login"},
		{name: "helper fails", script: "echo broken >&2; exit 3", wantErr: "get a Vault token from the token helper", wantHint: "VAULT_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testenv.ClearVaultAWS(t)
			dir := t.TempDir()
			t.Setenv("HOME", dir)
			t.Setenv("VAULT_ADDR", fv.URL)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			helper := filepath.Join(dir, "helper.sh")
			if err := os.WriteFile(helper, []byte("#!/bin/sh\n"+tt.script+"\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(dir, "vault.hcl")
			if err := os.WriteFile(conf, []byte(`token_helper = "`+helper+`"`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("VAULT_CONFIG_PATH", conf)

			s, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDRole: "x", config.IDCacheDir: t.TempDir()}, Getenv: os.Getenv})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			log := &debugLog{}
			v, err := New(context.Background(), s, Options{Now: fixedNow, Debugf: log.Printf, Getenv: os.Getenv})
			if tt.wantErr != "" {
				var pe *process.Error
				if !errors.As(err, &pe) {
					t.Fatalf("NewVault error %v (%T), want a process *Error", err, err)
				}
				if pe.Code != process.ExitFailure || !strings.Contains(pe.Msg, tt.wantErr) || !strings.Contains(pe.Hint, tt.wantHint) {
					t.Errorf("error %q (hint %q, exit %d), want exit 1, %q and a hint with %q", pe.Msg, pe.Hint, pe.Code, tt.wantErr, tt.wantHint)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewVault: %v", err)
			}
			before := len(fv.requests())
			if _, err := v.Fetch(context.Background(), process.RequestOf(s)); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			// The credentials request, and for revocable credentials a lookup of the
			// token's expiry, all with the token the helper found.
			reqs := fv.requests()[before:]
			if len(reqs) == 0 {
				t.Fatal("no request reached Vault")
			}
			for _, r := range reqs {
				if r.Token != tt.wantToken {
					t.Errorf("Vault did not get the expected token")
				}
			}
			for _, line := range log.Lines() {
				if strings.Contains(line, fromHelper) || strings.Contains(line, testToken) {
					t.Errorf("a token leaked into the debug log: %q", line)
				}
			}
		})
	}
}

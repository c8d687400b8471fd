//go:build unix

package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestTokenHelperTimeout: NewVault without VAULT_TOKEN asks the Vault CLI's token
// helper; a helper that hangs, or a FIFO where ~/.vault-token or the CLI
// configuration should be, ends the run at --timeout or at once, with an error
// naming the culprit, instead of hanging it.
func TestTokenHelperTimeout(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, home string) (want string)
		wantCode int
		wantHint string
	}{
		{"helper hangs", func(t *testing.T, home string) string {
			helper := filepath.Join(home, "helper.sh")
			if err := os.WriteFile(helper, []byte("#!/bin/sh\n"+testenv.Pipeline+"\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(home, "vault.hcl")
			if err := os.WriteFile(conf, []byte(`token_helper = "`+helper+`"`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("VAULT_CONFIG_PATH", conf)
			return "token helper " + helper + " did not answer within --timeout (2s)"
		}, process.ExitFailure, "VAULT_TOKEN"},
		{"~/.vault-token is a FIFO", func(t *testing.T, home string) string {
			path := filepath.Join(home, ".vault-token")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			return "read the Vault token file: " + path + " is a FIFO, not a regular file"
		}, process.ExitFailure, "vault login"},
		{"VAULT_CONFIG_PATH is a FIFO", func(t *testing.T, home string) string {
			path := filepath.Join(home, "vault.hcl")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("VAULT_CONFIG_PATH", path)
			return "read the Vault CLI configuration: " + path + " is a FIFO, not a regular file"
		}, process.ExitUsage, "VAULT_CONFIG_PATH"},
		{"~/.vault is a FIFO", func(t *testing.T, home string) string {
			path := filepath.Join(home, ".vault")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			return "read the Vault CLI configuration: " + path + " is a FIFO, not a regular file"
		}, process.ExitUsage, "~/.vault"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testenv.ClearVaultAWS(t)
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("VAULT_ADDR", "http://127.0.0.1:1") // never asked: the token comes first
			want := tt.setup(t, home)
			s, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDRole: "x", config.IDCacheDir: t.TempDir(), config.IDTimeout: "2s"}, Getenv: os.Getenv})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			// The run's context, bounded by --timeout as cli.go bounds it.
			ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
			defer cancel()
			err = testenv.Within(t, "NewVault", func() error {
				_, err := New(ctx, s, Options{Now: fixedNow, Debugf: (&debugLog{}).Printf, Getenv: os.Getenv})
				return err
			})
			var e *process.Error
			if !errors.As(err, &e) || e.Msg != want || e.Code != tt.wantCode || !strings.Contains(e.Hint, tt.wantHint) {
				t.Errorf("NewVault: %#v (%v)\nwant exit %d, %q, a hint with %q", err, err, tt.wantCode, want, tt.wantHint)
			}
		})
	}
}

package vault

import (
	"context"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// Options.Unattended is the one switch that says nobody is at the terminal:
// such a client has no terminal to open, so a login can neither prompt nor
// start a browser.
func TestUnattended(t *testing.T) {
	testenv.ClearVaultAWS(t)
	t.Setenv("VAULT_TOKEN", "hvs.unattended-unit-test")
	s := &config.Settings{Address: "http://127.0.0.1:1", Timeout: time.Second, Auth: config.Auth{Method: config.AuthToken}}
	for _, unattended := range []bool{false, true} {
		v, err := New(context.Background(), s, Options{Unattended: unattended})
		if err != nil {
			t.Fatal(err)
		}
		if got := v.OpenTTY == nil; got != unattended {
			t.Errorf("Unattended %v: no terminal = %v", unattended, got)
		}
	}
}

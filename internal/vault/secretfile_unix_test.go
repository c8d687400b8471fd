//go:build unix

package vault

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestSecretFileFIFO: a FIFO in the place of a secret file (password_file
// here; secret_id_file and the service account token are read the same way)
// is refused at once, not blocked on past --timeout.
func TestSecretFileFIFO(t *testing.T) {
	fx := newLoginFixture(t)
	fifo := filepath.Join(fx.dir, "password.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fx.env["VAULT_CREDENTIAL_PROCESS_AUTH_PASSWORD_FILE"] = fifo
	done := make(chan error, 1)
	go func() { _, _, err := fx.run(t, nil); done <- err }()
	err := testenv.WaitFor(t, done, "the run with a FIFO as password_file")
	var pe *process.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "not a regular file") || pe.Code != process.ExitUsage {
		t.Fatalf("err = %v, want a usage error saying the file is not a regular one", err)
	}
	if got := fx.lv.count("auth/ldap/login/bob"); got != 0 {
		t.Errorf("%d logins", got)
	}
}

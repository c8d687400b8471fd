//go:build unix

package process

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// TestMFACommandTimeout: an mfa_command whose testenv.Pipeline never ends is killed with
// it at --timeout; the error names mfa_command but not its text (it may hold a
// TOTP seed).
func TestMFACommandTimeout(t *testing.T) {
	g := testenv.WatchGroup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r := &Runner{Settings: &config.Settings{Role: "r", MFARequired: true, MFACommand: testenv.Pipeline, Timeout: 2 * time.Second},
		Stderr: g.W, Debugf: func(string, ...any) {}}
	type answer struct {
		code string
		err  error
	}
	a := testenv.Within(t, "mfaCode", func() answer { c, err := r.mfaCode(ctx); return answer{c, err} })
	var e *Error
	if !errors.As(a.err, &e) || e.Msg != "mfa_command did not answer within --timeout (2s)" || e.Hint == "" {
		t.Errorf("mfaCode = %q, %v; want the mfa_command timeout error with a hint", a.code, a.err)
	}
	if a.err != nil && strings.Contains(a.err.Error()+e.Hint, "sleep") {
		t.Errorf("the error shows the command's text: %v", a.err)
	}
	if err := g.Gone(); err != nil {
		t.Errorf("mfa_command's testenv.Pipeline outlived it: %v", err)
	}
}

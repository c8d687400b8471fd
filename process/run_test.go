package process

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// TestRun: one run is bounded by --timeout, plus login_timeout only when
// somebody may be at the terminal, and a run that hands out credentials,
// and only such a run, is recorded in the audit log under its command.
func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		unattended bool
		fetchErr   error
		want       time.Duration // the deadline, from the start of the run
		wantAudit  bool
	}{
		{"at the terminal", false, nil, 30*time.Second + 2*time.Minute, true},
		{"unattended", true, nil, 30 * time.Second, true},
		{"failed", false, errForbidden, 30*time.Second + 2*time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{fakeSpec: fakeSpec{fetchCreds: freshCreds(), fetchErr: tt.fetchErr}}
			fx := newRunner(t, &config.Flags{config.IDNoCache: "true"}, src)
			s := fx.r.Settings
			s.Timeout = 30 * time.Second
			s.Auth.Method, s.Auth.LoginTimeout = config.AuthOIDC, 2*time.Minute
			s.AuditLog = filepath.Join(t.TempDir(), "audit.log")
			fx.r.Unattended = tt.unattended

			start := time.Now()
			creds, _, err := fx.r.Run(context.Background(), "env")
			end := time.Now()
			if (err != nil) != (tt.fetchErr != nil) || (err == nil && creds.AccessKeyID != freshKey) {
				t.Fatalf("Run = %v, %v", creds, err)
			}
			// The deadline is set from the clock during the run: want
			// after a moment between its start and its end.
			if src.deadline.Before(start.Add(tt.want)) || src.deadline.After(end.Add(tt.want)) {
				t.Errorf("deadline %s after the start, want %s", src.deadline.Sub(start), tt.want)
			}
			data, err := os.ReadFile(s.AuditLog)
			if !tt.wantAudit {
				if err == nil {
					t.Errorf("audit log written for a failed run: %q", data)
				}
				return
			}
			var rec struct{ Command string }
			if err != nil || strings.Count(string(data), "\n") != 1 || json.Unmarshal(data, &rec) != nil || rec.Command != "env" {
				t.Errorf("audit log %q (%v), want one record of command env", data, err)
			}
		})
	}
}

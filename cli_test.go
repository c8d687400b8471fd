package main

import (
	"os"
	"strings"
	"testing"
)

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
			want: []string{"✗ vault server: http://127.0.0.1:",
				"✗ vault token: from VAULT_TOKEN, not checked, Vault was not reached: connection to Vault at http://127.0.0.1:",
				"\n  hint: the token could not be checked because Vault was not reached: "},
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
			assertPrintable(t, r.stdout, "✓ ", "✗ ", "  hint: ")
		})
	}
}

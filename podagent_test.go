package main

import (
	"path/filepath"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestPodAgentUsageErrors: what pod-agent refuses before it starts, with
// exit 2: no configuration, and a listen address that names no address
// (no Host header could name it, so every pod would be refused).
func TestPodAgentUsageErrors(t *testing.T) {
	config := filepath.Join(t.TempDir(), "agent.toml")
	writeFile(t, config, "[default]\nauth_role = \"p\"\naws_role = \"p\"\n", 0o600)
	for _, tt := range []struct {
		name      string
		args      []string
		msg, hint string
	}{
		{"no config", []string{"pod-agent"}, "pod-agent: --config is required", "for usage"},
		{"bad config", []string{"pod-agent", "--config", filepath.Join(t.TempDir(), "none.toml")}, "read configuration", "for usage"},
		{"listen on 0.0.0.0", []string{"pod-agent", "--config", config, "--listen", "0.0.0.0:80"},
			"pod-agent: --listen 0.0.0.0:80 listens on every address", "169.254.170.23:80, or [fd00:ec2::23]:80"},
		{"listen on [::]", []string{"pod-agent", "--config", config, "--listen", "169.254.170.23:80", "--listen", "[::]:80"},
			"pod-agent: --listen [::]:80 listens on every address", "name the address pods reach"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, fakeEnv(t, nil), tt.args...)
			assertFailure(t, r, process.ExitUsage, tt.msg, tt.hint)
		})
	}
}

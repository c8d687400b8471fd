package main

import "testing"

// TestServeUsageErrors: serve and exec --server refuse what their flags cannot mean
// before any network call (exit 2, one error line and a hint).
func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		msg, hint string
	}{
		{"unknown format", []string{"serve", "--role", "dev", "--format", "csh"}, `unknown shell format "csh"`, "use sh, fish or powershell"},
		{"profiles twice", []string{"serve", "--profile", "a", "b"}, "either with --profile or as arguments", "for usage"},
		{"imds without server", []string{"exec", "--imds", "--role", "dev", "--", "true"}, "--imds needs --server", "for usage"},
		{"unknown flag", []string{"serve", "--listen-on", "x"}, "flag provided but not defined", "for usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, fakeEnv(t, nil), tt.args...)
			assertFailure(t, r, exitUsage, tt.msg, tt.hint)
		})
	}
}

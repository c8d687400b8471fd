package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

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

// TestTokenFileGuards: --token-file never replaces a file of the user's,
// and at shutdown removes only a file that still holds this server's token.
func TestTokenFileGuards(t *testing.T) {
	dir := t.TempDir()
	precious := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(precious, []byte("my notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkTokenFile(precious); err == nil {
		t.Error("a file of the user's may be replaced")
	}
	const mine, theirs = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	old := filepath.Join(dir, "serve.token")
	if err := os.WriteFile(old, []byte(theirs), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkTokenFile(old); err != nil {
		t.Errorf("an earlier server's token file: %v", err)
	}
	if err := checkTokenFile(filepath.Join(dir, "new.token")); err != nil {
		t.Errorf("a missing file: %v", err)
	}
	removeTokenFile(old, mine) // another server's now: kept
	if _, err := os.Stat(old); err != nil {
		t.Errorf("another server's token file was removed: %v", err)
	}
	removeTokenFile(old, theirs)
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the server's own token file is still there: %v", err)
	}
}

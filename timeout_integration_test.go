//go:build unix

package main

// Integration tests of --timeout as a bound on the whole run: the real binary, with
// --timeout 2s, against the bed's Vault, where something the run starts or opens
// would never answer. Each run must end, and say what did not answer.

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// hang is a child that never answers and whose own child keeps its output open:
// killing the shell alone would not end it.
const hang = "sleep 30 | cat"

// TestTimeoutBoundsTheRun: a token helper or mfa_command that hangs with a child
// holding its output, a FIFO as the audit log or as the entry's lock file. With
// --timeout 2s each run ends (the test allows ten times that) and names the culprit.
func TestTimeoutBoundsTheRun(t *testing.T) {
	b := requireBed(t)
	// Each run in a process group of its own, which a run still going after 20 s
	// fails the test and is killed whole.
	bounded := runOpts{bound: 20 * time.Second, group: true, document: true}

	t.Run("token helper hangs", func(t *testing.T) {
		env := cleanEnv(productEnv(t, b), "VAULT_TOKEN=")
		home := envValue(env, "HOME")
		helper := filepath.Join(home, "token-helper")
		writeFile(t, helper, "#!/bin/sh\n"+hang+"\n", 0o700)
		writeFile(t, filepath.Join(home, ".vault"), `token_helper = "`+helper+`"`+"\n", 0o600)
		r := runProgram(t, env, bounded, "--role", testbed.RoleAssume, "--timeout", "2s")
		assertFailure(t, r, 1, "token helper "+helper+" did not answer within --timeout (2s)", "VAULT_TOKEN")
	})

	t.Run("mfa_command hangs", func(t *testing.T) {
		config := filepath.Join(t.TempDir(), "config.toml")
		writeFile(t, config, `[profiles.hang]
role = "`+testbed.RoleSessionMFA+`"
type = "session_token"
mfa_command = "`+hang+`"
`, 0o600)
		env := append(productEnv(t, b), "VAULT_CREDENTIAL_PROCESS_CONFIG="+config)
		r := runProgram(t, env, bounded, "--profile", "hang", "--timeout", "2s")
		assertFailure(t, r, 1, "mfa_command did not answer within --timeout (2s)", "mfa_command")
		if strings.Contains(r.stderr, "sleep") {
			t.Errorf("stderr shows the mfa_command's text (it may hold a TOTP seed):\n%s", r.stderr)
		}
	})

	// A failed audit write is a warning: the credentials are good and go out.
	t.Run("audit log is a FIFO", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "audit.jsonl")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		env := append(productEnv(t, b), "VAULT_CREDENTIAL_PROCESS_AUDIT_LOG="+fifo)
		r := runProgram(t, env, bounded, "--role", testbed.RoleAssume, "--type", "assumed_role", "--timeout", "2s")
		if r.code != 0 {
			t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
		}
		assertWarning(t, r.stderr, "audit log "+fifo+": cannot open it: it is a FIFO, not a regular file")
	})

	// The entry's name comes from a first run; then its lock file becomes a FIFO.
	t.Run("lock file is a FIFO", func(t *testing.T) {
		env := productEnv(t, b)
		dir := filepath.Join(t.TempDir(), "cache")
		args := []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--cache-dir", dir, "--timeout", "2s"}
		if r := runProgram(t, env, bounded, args...); r.code != 0 {
			t.Fatalf("first run: exit %d; stderr:\n%s", r.code, r.stderr)
		}
		entries, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(entries) != 1 {
			t.Fatalf("cache entries after the first run: %v, %v; want one", entries, err)
		}
		lock := strings.TrimSuffix(entries[0], ".json") + ".lock"
		for _, p := range []string{entries[0], lock} {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := syscall.Mkfifo(lock, 0o600); err != nil {
			t.Fatal(err)
		}
		r := runProgram(t, env, bounded, args...)
		assertFailure(t, r, 1, `cache lock file "`+lock+`" is a FIFO, not a regular file`, "cache")
	})
}

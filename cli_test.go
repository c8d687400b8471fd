package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode"
)

// unitEnv clears every VAULT_* and AWS_* variable for the test and points
// HOME and the XDG folders at empty temporary ones, so that a run in this
// process sees only what the test sets.
func unitEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	addSecret(unitToken)
	addSecret("s3cr3t-unit-test-key")
}

// runInProcess calls run with the process environment (which unitEnv has
// cleaned) and returns what it wrote.
func runInProcess(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, os.Getenv)
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	assertNoSecret(t, "stderr", r.stderr)
	return r
}

// assertPrintable fails if text holds a control or format character other
// than the newline that ends each line (reporting each one once), or a line
// that does not start with one of prefixes, which means a line was split.
// Without prefixes, the lines of stderr are expected.
func assertPrintable(t *testing.T, text string, prefixes ...string) {
	t.Helper()
	if len(prefixes) == 0 {
		prefixes = []string{name + ": ", "hint: "}
	}
	seen := map[rune]bool{}
	for _, r := range text {
		if r != '\n' && !seen[r] && (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp)) {
			seen[r] = true
			t.Errorf("output holds %U raw:\n%q", r, text)
		}
	}
next:
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				continue next
			}
		}
		t.Errorf("line %q starts with none of %q (was a line split?)", l, prefixes)
	}
}

// unitToken is the Vault token of the in-process runs.
const unitToken = "hvs.unit-test-token-not-a-secret"

// iamUserAnswer is what Vault answers for an iam_user role.
const iamUserAnswer = `{"lease_id":"aws/creds/dev/abc","lease_duration":3600,"renewable":true,` +
	`"data":{"access_key":"AKIAEXAMPLE","secret_key":"s3cr3t-unit-test-key","session_token":null}}`

// fakeVault is a Vault on loopback that answers every request with status
// and body; it returns its address.
func fakeVault(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestReportHostileInput: a value the user gave, echoed in the error and the
// hint, cannot colour the terminal or split a line.
func TestReportHostileInput(t *testing.T) {
	unitEnv(t)
	emptyConfig := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(emptyConfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		args      []string
		code      int
		msg, hint string // as printed
	}{
		{"profile in error and hint", []string{"--config", emptyConfig, "--profile", "x\x1b[31m\ny"}, 2,
			`no profile "x\x1b[31m\ny"`, `[profiles.x\x1b[31m y]`},
		{"bidi override in the profile", []string{"--config", emptyConfig, "--profile", "dev\u202eved"}, 2,
			`no profile "dev\u202eved"`, `[profiles.dev\u202eved]`},
		{"configuration path in the error", []string{"--config", "/nonexistent/\x1b]0;title\x07\r\nx.toml"}, 2,
			`/nonexistent/\x1b]0;title\x07 x.toml: cannot read configuration file`, "--config"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, tt.args...)
			assertFailure(t, r, tt.code, tt.msg, tt.hint)
			assertPrintable(t, r.stderr)
		})
	}
}

// TestReportHostileVaultError: an error text from Vault with an escape
// sequence and a newline reaches stderr as one escaped error line and the
// hint, with VAULT_ADDR pointing at a fake Vault on loopback.
func TestReportHostileVaultError(t *testing.T) {
	unitEnv(t)
	t.Setenv("VAULT_ADDR", fakeVault(t, http.StatusBadRequest, `{"errors":["\u001b[31mrole \"dev\" not found\nline\u202e"]}`))
	t.Setenv("VAULT_TOKEN", unitToken)
	r := runInProcess(t, "--role", "dev", "--no-cache")
	assertFailure(t, r, 1, `Vault answered 400: \x1b[31mrole "dev" not found line\u202e`, "--role")
	assertPrintable(t, r.stderr)
}

// TestDebugHostileInput: --debug lines echo the configuration file's path,
// which may hold any byte but NUL and '/'.
func TestDebugHostileInput(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows file names cannot hold control characters")
	}
	unitEnv(t)
	config := filepath.Join(t.TempDir(), "conf\x1b[2J\nig.toml")
	if err := os.WriteFile(config, []byte("[profiles.dev]\nrole = \"dev\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_ADDR", "http://"+closedPort(t))
	t.Setenv("VAULT_TOKEN", unitToken)
	r := runInProcess(t, "--config", config, "--profile", "dev", "--no-cache", "--retries", "0", "--debug")
	if r.code != 1 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, name+`: debug: configuration file `+filepath.Dir(config)+`/conf\x1b[2J ig.toml`+"\n") {
		t.Errorf("no escaped debug line for the configuration file:\n%s", r.stderr)
	}
	assertPrintable(t, r.stderr)
}

// TestWarnHostileInput: a warning echoes the audit log's path.
func TestWarnHostileInput(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows file names cannot hold control characters")
	}
	unitEnv(t)
	t.Setenv("VAULT_ADDR", fakeVault(t, http.StatusOK, iamUserAnswer))
	t.Setenv("VAULT_TOKEN", unitToken)
	dir := t.TempDir()
	audit := filepath.Join(dir, "missing\x1b[8m\u202e\nfolder", "audit.log")
	r := runInProcess(t, "--role", "dev", "--no-cache", "--audit-log", audit)
	if r.code != 0 || !strings.Contains(r.stdout, `"AccessKeyId":"AKIAEXAMPLE"`) {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	assertWarning(t, r.stderr, "audit log "+dir+`/missing\x1b[8m\u202e folder/audit.log: open audit log:`)
	assertPrintable(t, r.stderr)
}

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
			r := runInProcess(t, append([]string{"doctor", "--retries", "0"}, tt.args...)...)
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

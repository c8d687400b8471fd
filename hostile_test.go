package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHugeAnswerIsRefused (issue 10, bug 6): a fake Vault answering a 1 GB
// secret_key made the helper print 1 GB and grow to 6 GB. The answer is read
// up to 4 MiB only: the run fails with one line, stdout stays empty, and the
// server gets to send little more than the limit before the helper hangs up.
func TestHugeAnswerIsRefused(t *testing.T) {
	unitEnv(t)
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		head := `{"lease_id":"aws/creds/dev/x","lease_duration":3600,"data":{"access_key":"AKIAEXAMPLE","secret_key":"`
		n, _ := w.Write([]byte(head))
		sent.Add(int64(n))
		chunk := []byte(strings.Repeat("A", 64<<10))
		for i := 0; i < (1<<30)/len(chunk); i++ { // 1 GiB, as long as the client reads
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		w.Write([]byte(`"}}`))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("VAULT_ADDR", srv.URL)
	t.Setenv("VAULT_TOKEN", unitToken)
	r := runInProcess(t, os.Getenv, "--role", "dev", "--no-cache", "--retries", "0")
	assertFailure(t, r, 1, "the answer is larger than 4 MiB", "check that VAULT_ADDR is your Vault")
	srv.CloseClientConnections()
	if got := sent.Load(); got > 64<<20 {
		t.Errorf("the server sent %d MiB before the helper gave up, want about 4", got>>20)
	}
}

// TestAddressPasswordNeverShown: VAULT_ADDR=http://user:PASSWORD@host put the
// password on stderr, in the audit log and in `cache list --json`. Addresses
// are shown with the password masked everywhere; the cache entry holds none.
func TestAddressPasswordNeverShown(t *testing.T) {
	unitEnv(t)
	const password = "PASSWORD-in-the-address-42"
	addSecret(password)
	v := newRecordingVault(t, "a")
	dir := t.TempDir()
	cacheDir, audit := filepath.Join(dir, "cache"), filepath.Join(dir, "audit.log")
	t.Setenv("VAULT_ADDR", strings.Replace(v.URL, "http://", "http://user:"+password+"@", 1))
	t.Setenv("VAULT_TOKEN", unitToken)
	t.Setenv("VAULT_CREDENTIAL_PROCESS_CACHE_DIR", cacheDir)

	r := runInProcess(t, os.Getenv, "--role", "dev", "--debug", "--audit-log", audit)
	if r.code != 0 {
		t.Fatalf("run: %+v", r)
	}
	list := runInProcess(t, os.Getenv, "cache", "list", "--json")
	doctor := runInProcess(t, os.Getenv, "doctor", "--role", "dev")
	files, _ := filepath.Glob(filepath.Join(cacheDir, "*"))
	files = append(files, audit)
	texts := map[string]string{"stderr": r.stderr, "cache list --json": list.stdout, "doctor": doctor.stdout + doctor.stderr}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = string(data)
	}
	for what, text := range texts {
		if strings.Contains(text, password) {
			t.Errorf("%s shows the address's password:\n%s", what, text)
		}
	}
	if !strings.Contains(list.stdout, "user:xxxxx@") {
		t.Errorf("cache list --json does not show the masked address:\n%s", list.stdout)
	}

	// An error naming the address masks it too.
	t.Setenv("VAULT_ADDR", "http://user:"+password+"@127.0.0.1:1")
	r = runInProcess(t, os.Getenv, "--role", "other", "--no-cache", "--retries", "0")
	assertFailure(t, r, 1, "connection to Vault at http://user:xxxxx@127.0.0.1:1 refused", "is Vault running there?")
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
			r := runInProcess(t, os.Getenv, tt.args...)
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
	r := runInProcess(t, os.Getenv, "--role", "dev", "--no-cache")
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
	r := runInProcess(t, os.Getenv, "--config", config, "--profile", "dev", "--no-cache", "--retries", "0", "--debug")
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
	// A file where the folder should be: the log can be neither opened nor
	// its folder created.
	notDir := filepath.Join(dir, "missing\x1b[8m\u202e\nfolder")
	writeFile(t, notDir, "", 0o600)
	audit := filepath.Join(notDir, "audit.log")
	r := runInProcess(t, os.Getenv, "--role", "dev", "--no-cache", "--audit-log", audit)
	if r.code != 0 || !strings.Contains(r.stdout, `"AccessKeyId":"AKIAEXAMPLE"`) {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	assertWarning(t, r.stderr, "audit log "+dir+`/missing\x1b[8m\u202e folder/audit.log: cannot open it: not a directory`)
	assertPrintable(t, r.stderr)
}

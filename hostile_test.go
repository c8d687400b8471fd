package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	r := runInProcess(t, "--role", "dev", "--no-cache", "--retries", "0")
	checkFailure(t, r, 1, "the answer is larger than 4 MiB", "check that VAULT_ADDR is your Vault")
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

	r := runInProcess(t, "--role", "dev", "--debug", "--audit-log", audit)
	if r.code != 0 {
		t.Fatalf("run: %+v", r)
	}
	list := runInProcess(t, "cache", "list", "--json")
	doctor := runInProcess(t, "doctor", "--role", "dev")
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
	r = runInProcess(t, "--role", "other", "--no-cache", "--retries", "0")
	checkFailure(t, r, 1, "http://user:xxxxx@127.0.0.1:1", "")
}

package main

import (
	"net/http"
	"net/http/httptest"
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

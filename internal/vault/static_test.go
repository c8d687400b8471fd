package vault

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Vault rotates static keys from a periodic job; until it runs it answers
// with the current keys and a rotation time already past. Those keys still
// work in AWS, so they are served for a minute (then asked for again)
// rather than refused, which left `serve` with nothing at each rotation
// (found by make soak). Long past is still refused.
func TestStaticRotationOverdue(t *testing.T) {
	tests := []struct {
		name    string
		overdue time.Duration
		wantExp time.Time
		wantErr bool
	}{
		{"due now", 0, now.Add(overdueValidity), false},
		{"overdue 50s", 50 * time.Second, now.Add(overdueValidity), false},
		{"overdue at the bound", maxRotationOverdue, now.Add(overdueValidity), false},
		{"overdue past the bound", maxRotationOverdue + time.Second, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"data":{"access_key":"` + testAccessKey + `","secret_key":"` + testSecretKey +
				`","expiration":"` + now.Add(-tt.overdue).Format(time.RFC3339) + `"}}`
			fv := newFakeVault(t, always(http.StatusOK, body))
			v, s, _ := setup(t, fv.URL, &config.Flags{config.IDType: "static"})
			c, err := v.Fetch(context.Background(), process.RequestOf(s))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Fetch: %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !c.Expiration.Equal(tt.wantExp) {
				t.Errorf("Expiration %s, want %s", c.Expiration, tt.wantExp)
			}
		})
	}
}

// A Vault client lets go of its kept-alive connection when closed: a
// server that refreshes often would otherwise hold one per refresh for 90 s
// (found by make soak: serve's open files grew with its refreshes).
func TestVaultCloseEndsKeptConnections(t *testing.T) {
	closed := make(chan struct{}, 4)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusOK, iamUserBody)
	}))
	ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	ts.Start()
	defer ts.Close()
	v, s, _ := setup(t, ts.URL, nil)
	if _, err := v.Fetch(context.Background(), process.RequestOf(s)); err != nil {
		t.Fatal(err)
	}
	v.Close()
	testenv.WaitFor(t, closed, "the kept-alive connection to close")
}

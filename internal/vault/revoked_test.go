package vault

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Vault.Revoked: a lease Vault does not know is revoked; a 403 means revoked
// only for the minting token when Vault refuses that token itself.
func TestVaultRevoked(t *testing.T) {
	const token = "hvs.minting-token-for-the-unit-test"
	tests := []struct {
		name       string
		lookup     int // status of sys/leases/lookup
		lookupBody string
		self       int // status of auth/token/lookup-self
		digest     string
		want       bool
		wantErr    bool
	}{
		{"lease exists", 200, `{"data":{"id":"aws/creds/dev/x"}}`, 200, minterDigest(token), false, false},
		{"lease unknown", 400, `{"errors":["invalid lease"]}`, 200, minterDigest(token), true, false},
		{"minting token refused", 403, `{"errors":["permission denied"]}`, 403, minterDigest(token), true, false},
		{"another token refused", 403, `{"errors":["permission denied"]}`, 403, minterDigest("hvs.another"), false, false},
		{"no lookup capability", 403, `{"errors":["permission denied"]}`, 200, minterDigest(token), false, false},
		{"Vault failing", 500, `{"errors":["internal error"]}`, 200, minterDigest(token), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-Vault-Token") != token {
					t.Errorf("request with another token")
				}
				switch r.URL.Path {
				case "/v1/sys/leases/lookup":
					w.WriteHeader(tt.lookup)
					_, _ = w.Write([]byte(tt.lookupBody))
				case "/v1/auth/token/lookup-self":
					w.WriteHeader(tt.self)
					_, _ = w.Write([]byte(`{"data":{}}`))
				default:
					http.NotFound(w, r)
				}
			}))
			defer ts.Close()
			testenv.ClearVaultAWS(t)
			t.Setenv("VAULT_TOKEN", token)
			s := &config.Settings{Address: ts.URL, Timeout: 5 * time.Second, Auth: config.Auth{Method: config.AuthToken}}
			v, err := New(context.Background(), s, Options{Now: time.Now, Debugf: func(string, ...any) {}, Getenv: os.Getenv})
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Revoked(context.Background(), &process.Credentials{LeaseID: "aws/creds/dev/x", MinterDigest: tt.digest})
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Revoked = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if got, err := (&Vault{}).Revoked(context.Background(), &process.Credentials{}); got || err != nil {
		t.Errorf("Revoked without a lease = %v, %v; want false, nil", got, err)
	}
}

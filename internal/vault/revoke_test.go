package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestRevokeStoredLogin: the stored token is revoked with itself; Vault's
// "invalid token" is ErrLoginTokenInvalid, any other 403 (a policy without
// revoke-self) an error that keeps the token; through an agent the token is
// looked up first and nothing is revoked unless the lookup shows its
// accessor.
func TestRevokeStoredLogin(t *testing.T) {
	const stored, storedAccessor = "hvs.stored-login-token", "acc-stored"
	tests := []struct {
		name     string
		viaAgent bool
		accessor string // the stored entry's
		lookup   string // the accessor lookup-self answers with
		revoke   int    // revoke-self's status
		body     string // revoke-self's errors
		want     []string
		invalid  bool   // want ErrLoginTokenInvalid
		errMsg   string // want an *process.Error with this in Msg or Hint
	}{
		{name: "revoked", accessor: storedAccessor, revoke: 204, want: []string{"PUT /v1/auth/token/revoke-self"}},
		{name: "already invalid", accessor: storedAccessor, revoke: 403, body: "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n",
			want: []string{"PUT /v1/auth/token/revoke-self"}, invalid: true},
		{name: "policy without revoke-self", accessor: storedAccessor, revoke: 403, body: "permission denied",
			want: []string{"PUT /v1/auth/token/revoke-self"}, errMsg: "do not allow auth/token/revoke-self"},
		{name: "agent passes the token", viaAgent: true, accessor: storedAccessor, lookup: storedAccessor, revoke: 204,
			want: []string{"GET /v1/auth/token/lookup-self", "PUT /v1/auth/token/revoke-self"}},
		{name: "agent replaces the token", viaAgent: true, accessor: storedAccessor, lookup: "acc-agent", revoke: 204,
			want: []string{"GET /v1/auth/token/lookup-self"}, errMsg: "answered for another token"},
		{name: "agent, no accessor stored", viaAgent: true, lookup: "acc-agent", revoke: 204,
			want: []string{"GET /v1/auth/token/lookup-self"}, errMsg: "without its accessor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testenv.ClearVaultAWS(t)
			t.Setenv("VAULT_TOKEN", "hvs.the-runs-own-token")
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.Method+" "+r.URL.Path)
				mu.Unlock()
				if tok := r.Header.Get("X-Vault-Token"); tok != stored {
					t.Errorf("%s %s with token %q, want the stored one", r.Method, r.URL.Path, tok)
				}
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/v1/auth/token/lookup-self":
					fmt.Fprintf(w, `{"data":{"accessor":%q,"ttl":3600}}`, tt.lookup)
				case "/v1/auth/token/revoke-self":
					w.WriteHeader(tt.revoke)
					if tt.body != "" {
						fmt.Fprintf(w, `{"errors":[%q]}`, tt.body)
					}
				default:
					w.WriteHeader(http.StatusNotFound)
				}
			}))
			defer srv.Close()
			s := &config.Settings{Address: srv.URL, Timeout: 5 * time.Second, ViaAgent: tt.viaAgent}
			sl := &StoredLogin{Address: srv.URL, e: &loginEntry{Token: stored, Accessor: tt.accessor,
				Method: "approle", Mount: "approle", Identity: []string{"role_id", "r1"}}}
			err := RevokeStoredLogin(context.Background(), s, sl, Options{Now: time.Now, Getenv: os.Getenv})

			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("requests %v, want %v", got, tt.want)
			}
			if errors.Is(err, ErrLoginTokenInvalid) != tt.invalid {
				t.Errorf("err = %v, ErrLoginTokenInvalid wanted: %v", err, tt.invalid)
			}
			var pe *process.Error
			switch {
			case tt.errMsg == "" && !tt.invalid && err != nil:
				t.Errorf("err = %v, want nil", err)
			case tt.errMsg != "" && (!errors.As(err, &pe) || !strings.Contains(pe.Msg+" "+pe.Hint, tt.errMsg)):
				t.Errorf("err = %v, want an *Error saying %q", err, tt.errMsg)
			}
			if err != nil && strings.Contains(err.Error()+fmt.Sprint(pe), stored) {
				t.Errorf("the error holds the token: %v", err)
			}
			if want := "approle at auth/approle, role_id r1"; sl.String() != want {
				t.Errorf("String() = %q, want %q", sl.String(), want)
			}
		})
	}
}

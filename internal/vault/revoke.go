package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Revoking a stored login token, for `cache clear --all --revoke`: the
// token is sent only with auth/token/revoke-self, which the default policy
// allows, and only to the Vault the caller has checked it belongs to.

// StoredLogin is a login token file as `cache clear` sees it: where the
// token belongs and what login made it. The token itself stays inside.
type StoredLogin struct {
	// Address (without a password) and Namespace of the Vault that issued
	// the token.
	Address, Namespace string
	e                  *loginEntry
}

// LoadStoredLogin reads the login token file name. It returns nil, nil
// when there is no usable token in it (missing, or unreadable as a login
// does: such a file is never used, so there is nothing to revoke), and an
// error wrapping cache.ErrUnsafe for a file the cache refuses.
func LoadStoredLogin(store *cache.Store, name string) (*StoredLogin, error) {
	e, err := new(login).load(store, name)
	if err != nil || e == nil {
		return nil, err
	}
	return &StoredLogin{Address: e.Address, Namespace: e.Namespace, e: e}, nil
}

// String names the login as errors do ("approle at auth/approle, role_id
// ..."); it holds nothing secret.
func (sl *StoredLogin) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at auth/%s", sl.e.Method, sl.e.Mount)
	for i := 0; i+1 < len(sl.e.Identity); i += 2 {
		if sl.e.Identity[i+1] != "" {
			fmt.Fprintf(&b, ", %s %s", sl.e.Identity[i], sl.e.Identity[i+1])
		}
	}
	return b.String()
}

// ErrLoginTokenInvalid marks a stored login token that Vault no longer
// knows (revoked or expired): there is nothing left to revoke.
var ErrLoginTokenInvalid = errors.New("the login token is no longer valid in Vault")

// RevokeStoredLogin revokes sl's token with itself (auth/token/revoke-self)
// at the Vault address and namespace of s, which the caller has checked to
// be the token's. Vault then revokes the leases created with the token too.
// A token Vault answers "invalid token" for gives an error wrapping
// ErrLoginTokenInvalid.
//
// Through a Vault Agent or Proxy the token is first looked up: one set to
// use_auto_auth_token = "force" puts its own token in place of ours, and
// revoke-self would revoke the agent's token. Revocation goes ahead only
// when the lookup shows the stored token's accessor.
func RevokeStoredLogin(ctx context.Context, s *config.Settings, sl *StoredLogin, o Options) error {
	v, err := newVaultNoToken(s, o)
	if err != nil {
		return err
	}
	v.client.SetToken(sl.e.Token)
	what := "revoke the stored login token of " + sl.String()
	if s.ViaAgent {
		if err := v.checkNotReplaced(ctx, sl, what); err != nil {
			return err
		}
	}
	sent := v.now()
	err = v.client.Auth().Token().RevokeSelfWithContext(ctx, "")
	v.debugf("PUT auth/token/revoke-self: %s in %s", Outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		return loginTokenError(err, what, "auth/token/revoke-self", v.addr, ctx.Err() != nil)
	}
	return nil
}

// checkNotReplaced looks the token up through the agent and refuses when
// the answer is for another token, or cannot be compared.
func (v *Vault) checkNotReplaced(ctx context.Context, sl *StoredLogin, what string) error {
	sent := v.now()
	secret, err := v.client.Auth().Token().LookupSelfWithContext(ctx)
	v.debugf("GET auth/token/lookup-self: %s in %s", Outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		return loginTokenError(err, what, "auth/token/lookup-self", v.addr, ctx.Err() != nil)
	}
	var got string
	if secret != nil {
		got, _ = secret.TokenAccessor()
	}
	why := fmt.Sprintf("the Vault Agent or Proxy at %s (VAULT_AGENT_ADDR) answered for another token", v.addr)
	switch {
	case sl.e.Accessor == "":
		why = "an older version stored it without its accessor, so it cannot be told from a token the Vault Agent or Proxy at " +
			v.addr + " (VAULT_AGENT_ADDR) may put in its place"
	case got == sl.e.Accessor:
		return nil
	}
	return &process.Error{Code: process.ExitFailure, Msg: what + ": not revoked: " + why,
		Hint: `an agent with use_auto_auth_token = "force" sends its own token instead, which revoke-self would revoke; ` +
			"the stored token expires by itself: drop it without revoking (cache clear --all)"}
}

// loginTokenError is vaultError for a request made with the stored token,
// with "invalid token" told apart: a 403 for a token Vault does not know
// is ErrLoginTokenInvalid; a 403 without it is a policy without
// revoke-self, and the token is still live.
func loginTokenError(err error, what, path, addr string, timeout bool) error {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == 403 && strings.Contains(strings.ToLower(ResponseMessage(re)), "invalid token") {
		return fmt.Errorf("%s: %w", what, ErrLoginTokenInvalid)
	}
	e := vaultError(err, what, path, addr, timeout)
	if errors.As(err, &re) && re.StatusCode == 403 {
		e.Hint = "the token's policies do not allow " + path + " (the default policy does); the token file is kept: drop it without revoking (cache clear --all)"
	}
	return e
}

package testbed

// Vault as its own OIDC provider, for the browser-login (oidc auth method) tests: a
// userpass user signs in to Vault's identity provider (identity/oidc/provider/default),
// and an oidc auth mount of the same Vault trusts that provider. A scripted browser
// (oidcbrowser/) stands in for the person: it authorizes through the API with the
// user's token and delivers the code to the redirect URI. The provider's ID tokens
// carry the user's userpass name in a "username" claim (scope oidcScope), which the
// role takes as the alias name, as a company's role takes an e-mail address; a
// second user, OIDCOtherUser, is the other person who could sign in with a URL she
// saw.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Names of what SetUpOIDC creates.
const (
	OIDCMount     = "oidc"       // the oidc auth method
	OIDCRole      = "R"          // its role
	oidcUserMount = "oidc-users" // userpass mount of the person who signs in
	OIDCUser      = "alice"
	OIDCOtherUser = "mallory"
	oidcClient    = "vcp"     // identity/oidc/client/vcp
	oidcProvider  = "default" // Vault's built-in provider
	oidcScope     = "user"    // identity/oidc/scope/user: the "username" claim
)

// OIDC is Vault's own OIDC provider and an oidc auth mount trusting it.
type OIDC struct {
	b *Bed
	// UserToken is the Vault token of OIDCUser, with which the scripted browser
	// authorizes at the provider; OtherUserToken that of OIDCOtherUser.
	UserToken      string
	OtherUserToken string
	clientID       string
	secret         string
	policies       []string
	tokenTTL       time.Duration

	mu        sync.Mutex
	redirects []string
}

// SetUpOIDC configures the provider side (a userpass user, an OIDC client of the
// default provider) and the oidc auth mount at OIDCMount with role OIDCRole, whose
// tokens get policies and ttl (max four times ttl). Call Allow with each redirect URI
// a test uses.
func (b *Bed) SetUpOIDC(ctx context.Context, policies []string, ttl time.Duration) (*OIDC, error) {
	o := &OIDC{b: b, policies: policies, tokenTTL: ttl}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(pw)
	steps := []struct {
		path string
		body any
	}{
		{"sys/auth/" + oidcUserMount, map[string]any{"type": "userpass"}},
		{"auth/" + oidcUserMount + "/users/" + OIDCUser, map[string]any{"password": password}},
		{"auth/" + oidcUserMount + "/users/" + OIDCOtherUser, map[string]any{"password": password}},
		{"identity/oidc/client/" + oidcClient, map[string]any{"redirect_uris": []string{"http://localhost:1/unused"},
			"assignments": []string{"allow_all"}, "key": "default"}},
		{"sys/auth/" + OIDCMount, map[string]any{"type": "oidc"}},
	}
	for _, s := range steps {
		if err := b.VaultRequest(ctx, "POST", s.path, s.body, nil); err != nil {
			return nil, fmt.Errorf("set up oidc: %w", err)
		}
	}
	if err := o.scope(ctx); err != nil {
		return nil, fmt.Errorf("set up oidc: %w", err)
	}
	var client struct {
		Data struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		} `json:"data"`
	}
	if err := b.VaultRequest(ctx, "GET", "identity/oidc/client/"+oidcClient, nil, &client); err != nil {
		return nil, fmt.Errorf("set up oidc: %w", err)
	}
	o.clientID, o.secret = client.Data.ClientID, client.Data.ClientSecret
	if err := b.VaultRequest(ctx, "POST", "auth/"+OIDCMount+"/config", map[string]any{
		"oidc_discovery_url": b.VaultAddr + "/v1/identity/oidc/provider/" + oidcProvider,
		"oidc_client_id":     o.clientID, "oidc_client_secret": o.secret}, nil); err != nil {
		return nil, fmt.Errorf("set up oidc: %w", err)
	}
	// Each person signs in once: the login creates the entity the provider needs.
	for _, u := range []struct {
		name  string
		token *string
	}{{OIDCUser, &o.UserToken}, {OIDCOtherUser, &o.OtherUserToken}} {
		var login struct {
			Auth struct {
				ClientToken string `json:"client_token"`
			} `json:"auth"`
		}
		if err := b.VaultRequest(ctx, "POST", "auth/"+oidcUserMount+"/login/"+u.name, map[string]any{"password": password}, &login); err != nil {
			return nil, fmt.Errorf("set up oidc: %w", err)
		}
		*u.token = login.Auth.ClientToken
	}
	return o, o.Allow(ctx)
}

// scope makes the provider's ID tokens carry the userpass name of who signed in, as
// the "username" claim of scope oidcScope.
func (o *OIDC) scope(ctx context.Context) error {
	var mounts struct {
		Data map[string]struct {
			Accessor string `json:"accessor"`
		} `json:"data"`
	}
	if err := o.b.VaultRequest(ctx, "GET", "sys/auth", nil, &mounts); err != nil {
		return err
	}
	accessor := mounts.Data[oidcUserMount+"/"].Accessor
	if accessor == "" {
		return fmt.Errorf("no accessor for auth/%s", oidcUserMount)
	}
	if err := o.b.VaultRequest(ctx, "POST", "identity/oidc/scope/"+oidcScope, map[string]any{
		"template": `{"username": {{identity.entity.aliases.` + accessor + `.name}}}`}, nil); err != nil {
		return err
	}
	return o.b.VaultRequest(ctx, "POST", "identity/oidc/provider/"+oidcProvider, map[string]any{
		"scopes_supported": []string{oidcScope}, "allowed_client_ids": []string{"*"}}, nil)
}

// Allow adds redirect URIs to the client's redirect_uris and the role's
// allowed_redirect_uris (each test listens on a port of its own).
func (o *OIDC) Allow(ctx context.Context, uris ...string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, u := range uris {
		if !slices.Contains(o.redirects, u) {
			o.redirects = append(o.redirects, u)
		}
	}
	all := append([]string{"http://localhost:1/unused"}, o.redirects...)
	if err := o.b.VaultRequest(ctx, "POST", "identity/oidc/client/"+oidcClient, map[string]any{"redirect_uris": all,
		"assignments": []string{"allow_all"}, "key": "default"}, nil); err != nil {
		return fmt.Errorf("allow redirect URIs: %w", err)
	}
	if err := o.b.VaultRequest(ctx, "POST", "auth/"+OIDCMount+"/role/"+OIDCRole, map[string]any{
		"role_type": "oidc", "user_claim": "username", "oidc_scopes": []string{"openid", oidcScope}, "allowed_redirect_uris": all,
		"token_policies": o.policies, "token_ttl": int(o.tokenTTL.Seconds()), "token_max_ttl": int(4 * o.tokenTTL.Seconds())}, nil); err != nil {
		return fmt.Errorf("allow redirect URIs: %w", err)
	}
	return nil
}

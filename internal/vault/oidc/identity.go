package oidc

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Who a browser login signed in: said after every one, and checked against
// expect_identity.
//
// Whoever sees the identity provider's URL (it is shown where no browser
// opens, and anyone can be sent it) can sign in with it as herself and
// deliver her code to the waiting listener; the state and the client nonce
// are all in order then, and the helper would keep a Vault token of her
// identity. The line saying who logged in makes that visible; with
// expect_identity the helper refuses it, revokes the token and keeps
// nothing.
//
// What Vault reliably tells the new token about itself
// (auth/token/lookup-self, which the default policy allows): the display
// name, which is the mount (its slashes as dashes) and the alias name (the
// value of the role's user_claim, such as an e-mail address) joined by
// "-"; the entity id; the metadata (the role's claim_mappings). The entity's
// name comes from identity/entity/id/<id>, which the default policy lets a
// token read for its own entity; a token without the default policy may
// not, and then the name is left out.

// oidcIdentity is who a browser login signed in.
type oidcIdentity struct {
	alias      string            // the alias name; "" when unknown
	entityName string            // "" when the token may not read its entity
	entityID   string            // "" for a token without an entity
	meta       map[string]string // the token's metadata, less "role"
}

// confirm says on w who logged in, or refuses the login when that is not
// expect_identity: the token is then revoked, and the error keeps the
// Vault client from storing it.
func (o *login) confirm(ctx context.Context, c *api.Client, secret *api.Secret, w io.Writer) error {
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return nil // login() says what is missing
	}
	id, err := o.identify(ctx, c, secret)
	if want := o.Auth.ExpectIdentity; want != "" && (err != nil || !id.matches(want)) {
		return o.refuse(ctx, c, secret, id, err)
	}
	if err != nil {
		o.Debugf("auth %s: who logged in could not be read in full: %s", o.Auth.Describe(), vault.RootCause(err))
	}
	fmt.Fprintf(w, "%slogged in to Vault as %s\n", userLine, id.describe())
	return nil
}

// identify asks Vault, with the new token, who it belongs to. What the
// login answer holds is returned even when the lookup fails.
func (o *login) identify(ctx context.Context, c *api.Client, secret *api.Secret) (oidcIdentity, error) {
	id := oidcIdentity{entityID: secret.Auth.EntityID, meta: metadata(secret.Auth.Metadata)}
	c.SetToken(secret.Auth.ClientToken)
	// The caller of Login sets the token on success; on a refusal the
	// client must not keep it.
	defer c.ClearToken()
	sent := o.Now()
	self, err := c.Auth().Token().LookupSelfWithContext(ctx)
	o.Debugf("GET auth/token/lookup-self: %s in %s", vault.Outcome(err), o.Now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		return id, err
	}
	if self == nil || self.Data == nil {
		return id, fmt.Errorf("auth/token/lookup-self: empty answer")
	}
	display, _ := self.Data["display_name"].(string)
	id.alias = aliasName(display, o.Auth.Mount)
	if e, _ := self.Data["entity_id"].(string); e != "" {
		id.entityID = e
	}
	if m, ok := self.Data["meta"].(map[string]any); ok {
		meta := map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				meta[k] = s
			}
		}
		id.meta = metadata(meta)
	}
	if id.entityID != "" {
		id.entityName = o.entityName(ctx, c, id.entityID)
	}
	return id, nil
}

// entityName reads the name of the token's entity, "" when it may not.
func (o *login) entityName(ctx context.Context, c *api.Client, entityID string) string {
	path := "identity/entity/id/" + url.PathEscape(entityID)
	sent := o.Now()
	e, err := c.Logical().ReadWithContext(ctx, path)
	o.Debugf("GET identity/entity/id/...: %s in %s", vault.Outcome(err), o.Now().Sub(sent).Round(time.Millisecond))
	if err != nil || e == nil {
		return ""
	}
	name, _ := e.Data["name"].(string)
	return name
}

// aliasName is the alias name in a token's display name: Vault prefixes
// the name the auth method gave with the mount path, slashes as dashes, and
// a dash ("oidc-alice@example.com" for mount oidc).
func aliasName(display, mount string) string {
	if rest, ok := strings.CutPrefix(display, strings.ReplaceAll(strings.Trim(mount, "/"), "/", "-")+"-"); ok {
		return rest
	}
	return display
}

// metadata is m without the role, which the settings name already.
func metadata(m map[string]string) map[string]string {
	out := maps.Clone(m)
	delete(out, "role")
	return out
}

// matches reports whether want names this identity: its alias name, its
// entity's name or its entity's id, exactly.
func (id oidcIdentity) matches(want string) bool {
	for _, have := range []string{id.alias, id.entityName, id.entityID} {
		if have != "" && have == want {
			return true
		}
	}
	return false
}

// describe is the identity in one line: the alias name, then the entity's
// name and id and the metadata in parentheses.
func (id oidcIdentity) describe() string {
	p := process.Printable
	who := "an unknown alias"
	if id.alias != "" {
		who = p(id.alias)
	}
	var details []string
	switch {
	case id.entityName != "" && id.entityID != "":
		details = append(details, "entity "+p(id.entityName)+", id "+p(id.entityID))
	case id.entityID != "":
		details = append(details, "entity id "+p(id.entityID))
	}
	for _, k := range slices.Sorted(maps.Keys(id.meta)) {
		details = append(details, p(k)+"="+p(id.meta[k]))
	}
	if len(details) == 0 {
		return who
	}
	return who + " (" + strings.Join(details, "; ") + ")"
}

// refuse revokes the token of a login that is not expect_identity, and
// returns the error that says so.
func (o *login) refuse(ctx context.Context, c *api.Client, secret *api.Secret, id oidcIdentity, lookupErr error) error {
	a := o.Auth
	c.SetToken(secret.Auth.ClientToken)
	sent := o.Now()
	err := c.Auth().Token().RevokeSelfWithContext(ctx, "")
	o.Debugf("PUT auth/token/revoke-self: %s in %s", vault.Outcome(err), o.Now().Sub(sent).Round(time.Millisecond))
	c.ClearToken()
	kept := "the token was revoked and not kept"
	if err != nil {
		kept = fmt.Sprintf("the token was not kept, but revoking it failed (%s): it lasts until it expires, unless you revoke it: "+
			"vault token revoke -accessor %s", vault.RootCause(err), secret.Auth.Accessor)
	}
	msg := fmt.Sprintf("log in to Vault with %s: the browser signed in as %s, not %s", a.Describe(), id.describe(), process.Printable(a.ExpectIdentity))
	if lookupErr != nil {
		msg = fmt.Sprintf("log in to Vault with %s: who signed in at the browser could not be checked against expect_identity: %s",
			a.Describe(), vault.RootCause(lookupErr))
	}
	return &process.Error{Code: process.ExitFailure, Msg: msg,
		Hint: kept + "; sign in as " + process.Printable(a.ExpectIdentity) + " (sign out of the identity provider first, or use a private window); " +
			"if you did not sign in as that yourself, someone else used this login's URL: never share it"}
}

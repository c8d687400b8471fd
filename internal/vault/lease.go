package vault

import (
	"context"
	"time"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// A lease of iam_user credentials belongs to the Vault token that minted
// it: Vault revokes the lease, and deletes the IAM user, when that token
// expires or is revoked, whatever the lease's own TTL. So the helper
// records the minting token's accessor (never the token) with the
// credentials, renews a lease only under that same token, caps the
// credentials' expiry at that token's, and mints anew under any other.

// Renew extends a lease minted under the token whose accessor is minter,
// logging in first if needed. Under any other token it returns an error
// wrapping ErrNotMinter without asking Vault. The new expiration is capped
// at the token's (see capToToken).
func (v *Vault) Renew(ctx context.Context, leaseID string, increment time.Duration, minter string) (time.Time, error) {
	if err := v.Login(ctx); err != nil {
		return time.Time{}, err
	}
	end, accessor := v.tokenInfo(ctx)
	if minter == "" || accessor == "" || accessor != minter {
		return time.Time{}, process.ErrNotMinter
	}
	exp, err := v.renew(ctx, leaseID, increment)
	if err != nil {
		return exp, err
	}
	if !end.IsZero() && exp.After(end) {
		v.debugf("the renewed lease ends with the Vault token, at %s", end.UTC().Format(time.RFC3339))
		exp = end
	}
	return exp.Round(0), nil
}

// capToToken records the minting token's accessor with revocable
// credentials (iam_user: a lease and no session token) and shortens them to
// that token's expiry. STS credentials cannot be revoked and keep their
// expiry. The lease duration is capped too, so the lease looks whole when it
// is renewed with the token it belongs to.
func (v *Vault) capToToken(ctx context.Context, c *process.Credentials) {
	if !c.Revocable() {
		return
	}
	end, accessor := v.tokenInfo(ctx)
	c.TokenAccessor, c.MinterDigest = accessor, minterDigest(v.client.Token())
	if end.IsZero() || !c.Expiration.After(end) {
		return
	}
	v.debugf("the credentials' lease ends with the Vault token, at %s", end.UTC().Format(time.RFC3339))
	c.Expiration = end.UTC()
	if d := c.Expiration.Sub(c.IssuedAt); d > 0 && d < c.LeaseDuration {
		c.LeaseDuration = d.Truncate(time.Second)
	}
}

// tokenInfo is when the token this run uses expires (zero for a token that
// does not: root, periodic without a TTL) and its accessor ("" when it
// cannot be looked up). A login token's are known from the login; any other
// token (VAULT_TOKEN, ~/.vault-token, a token helper, the auto-auth token a
// Vault Agent or Proxy adds) is looked up once (auth/token/lookup-self,
// which the default policy allows), only when revocable credentials are
// minted or renewed: never on a cache hit.
func (v *Vault) tokenInfo(ctx context.Context) (expires time.Time, accessor string) {
	if l := v.login; l != nil && l.accessor != "" {
		return l.expires, l.accessor
	}
	if !v.tokenLooked {
		v.tokenLooked = true
		v.lookupSelf(ctx)
	}
	if v.login != nil {
		// A login token stored by an older version, without its accessor:
		// its expiry is still the login's.
		return v.login.expires, v.tokenAccessor
	}
	return v.tokenExp, v.tokenAccessor
}

func (v *Vault) lookupSelf(ctx context.Context) {
	sent := v.now()
	secret, err := v.client.Auth().Token().LookupSelfWithContext(ctx)
	v.debugf("GET auth/token/lookup-self: %s in %s", Outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	if err != nil || secret == nil {
		return
	}
	if ttl, err := secret.TokenTTL(); err == nil && ttl > 0 {
		v.tokenExp = sent.Add(ttl).Round(0)
	}
	if a, err := secret.TokenAccessor(); err == nil && len(a) <= maxLeaseID {
		v.tokenAccessor = a
	}
}

package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// Whether Vault still holds a lease: see process/revoked.go for what the
// Runner and the credentials server do with the answer.

// minterDigest is a one-way digest of a Vault token, recorded with the
// revocable credentials it mints so that a later run holding the same token
// knows it is their minter, even when Vault no longer tells it the token's
// accessor. Tokens carry well over 128 random bits: the digest reveals
// nothing of them.
func minterDigest(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("vault-credential-process minter\x00" + token))
	return hex.EncodeToString(sum[:16])
}

// Revoked reports whether Vault no longer holds the lease of c: Vault says
// the lease does not exist (sys/leases/lookup, which Vault's default policy
// allows), or the token of this run is the one that minted c and Vault
// refuses it as invalid (revoked, or expired). An error means it could not
// tell. STS and static credentials cannot be revoked (Credentials.Revocable).
func (v *Vault) Revoked(ctx context.Context, c *process.Credentials) (bool, error) {
	if !c.Revocable() {
		return false, nil
	}
	if err := v.Login(ctx); err != nil {
		return false, err
	}
	sent := v.now()
	_, err := v.client.Sys().LookupWithContext(ctx, c.LeaseID)
	v.debugf("PUT sys/leases/lookup: %s in %s", Outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	var re *api.ResponseError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &re) && re.StatusCode == 400 && strings.Contains(ResponseMessage(re), "invalid lease"):
		return true, nil
	case errors.As(err, &re) && re.StatusCode == 403:
		// A policy without sys/leases/lookup, or a dead token: only the
		// latter, and only for the minting token, says the lease is gone.
		return c.MinterDigest != "" && c.MinterDigest == minterDigest(v.client.Token()) && v.tokenRefused(ctx), nil
	}
	return false, vaultError(err, "look up the lease", "sys/leases/lookup", v.addr, ctx.Err() != nil)
}

// tokenRefused reports whether Vault refuses the token of this run as
// invalid: auth/token/lookup-self, which every valid token with Vault's
// default policy may call, answers 403.
func (v *Vault) tokenRefused(ctx context.Context) bool {
	_, err := v.client.Auth().Token().LookupSelfWithContext(ctx)
	v.debugf("GET auth/token/lookup-self: %s", Outcome(err))
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == 403
}

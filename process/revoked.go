package process

import (
	"context"
	"errors"
	"fmt"

	"github.com/vault-credential-process/vault-credential-process/cache"
)

// Revoked credentials. Vault revokes the leases a token created when that
// token is revoked or expires, and for iam_user credentials that deletes the
// IAM user: the keys are dead at once, whatever their expiry says. A run
// that learns so removes the cache entry (the next run mints instead of
// handing the dead keys out), and the credentials server drops its copy in
// memory. A cache hit never asks Vault (that is what makes it cheap), so it
// learns nothing: see docs/security.md, the cache, for what that leaves.

// ErrRevoked marks credentials whose lease Vault no longer holds.
var ErrRevoked = errors.New("the credentials' lease is gone from Vault: they were revoked")

// dropIfRevoked is the Runner's answer to a refresh that Vault refused
// (err, a 403) while the cache held entry under key: when Vault no longer
// holds the entry's lease, the entry is removed and the error says so;
// otherwise err is returned as it is.
func (r *Runner) dropIfRevoked(ctx context.Context, store *cache.Store, key string, entry *cache.Entry, err error) error {
	if entry == nil || !fromEntry(entry).Revocable() || !Forbidden(err) {
		return err
	}
	src, serr := r.vault(ctx)
	if serr != nil {
		return err
	}
	if revoked, rerr := src.Revoked(ctx, fromEntry(entry)); rerr != nil || !revoked {
		return err
	}
	if _, rmErr := store.Remove(key); rmErr != nil {
		r.Warnf("could not remove the revoked cache entry: %v", rmErr)
	}
	return revokedError(err)
}

// revokedError says that the credentials of a cache entry (or in a
// server's memory) were revoked along with their token.
func revokedError(err error) error {
	msg := "Vault revoked the cached credentials with the token that minted them"
	var pe *Error
	if errors.As(err, &pe) {
		msg = pe.Msg + "; " + msg
	}
	return &Error{Code: ExitFailure, Msg: msg, Err: errors.Join(ErrRevoked, err),
		Hint: "the Vault token is no longer valid and its iam_user keys are gone; the cache entry was removed: log in to Vault again (`vault login`) and rerun"}
}

// Check asks Vault whether the lease of c, credentials this Runner's
// settings got, still exists: the credentials server's look-up between
// refreshes. When Vault no longer holds it, the cache entry holding the
// same keys is removed too, and the error wraps ErrRevoked.
func (r *Runner) Check(ctx context.Context, c *Credentials) error {
	src, err := r.vault(ctx)
	if err != nil {
		return err
	}
	revoked, err := src.Revoked(ctx, c)
	if err != nil || !revoked {
		return err
	}
	if !r.Settings.CacheDisabled {
		if store, oerr := cache.Open(r.Settings.CacheDir); oerr == nil {
			key, kerr := r.Key()
			if e, lerr := store.Load(key); kerr == nil && lerr == nil && e != nil && e.AccessKeyID == c.AccessKeyID {
				_, _ = store.Remove(key)
			}
		}
	}
	return &Error{Code: ExitFailure, Msg: fmt.Sprintf("credentials %s: %v", c.AccessKeyID, ErrRevoked), Err: ErrRevoked}
}

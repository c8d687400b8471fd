package podagent

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Credentials in memory are refreshed once half their lifetime has gone
// (the rule of the helper's cache), so that a client, which asks again
// some minutes before expiry, always gets credentials with most of their
// life ahead; while a refresh fails, those still valid for minServe are
// served.
const minServe = time.Minute

// credentials returns the identity's credentials, minting them when none
// are fresh: one mint at a time, which the requests waiting share.
func (id *identity) credentials(ctx context.Context, a *Agent) (*Credentials, error) {
	select {
	case id.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-id.sem }()
	now := a.now()
	if c := id.creds; c != nil && now.Before(refreshAt(c)) {
		return c, nil
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	c, err := id.mint(mctx, a, now)
	if err != nil {
		a.logf("identity %s: refresh failed: %v", id.key, err)
		if old := id.creds; old != nil && now.Before(old.Expiry.Add(-minServe)) {
			return old, nil
		}
		return nil, err
	}
	id.creds = c
	a.logf("identity %s: credentials minted, valid until %s", id.key, c.Expiry.UTC().Format(time.RFC3339))
	return c, nil
}

func refreshAt(c *Credentials) time.Time { return c.Issued.Add(c.Expiry.Sub(c.Issued) / 2) }

// mint gets new credentials with the identity's login, logging in again
// first with its newest JWT when the login is at its end.
func (id *identity) mint(ctx context.Context, a *Agent, now time.Time) (*Credentials, error) {
	if id.login == nil || !now.Before(id.login.Expiry.Add(-loginMargin)) {
		if !now.Before(id.jwtExpiry) && !id.jwtExpiry.IsZero() {
			return nil, fmt.Errorf("log in again: %w (the newest this identity sent)", ErrExpired)
		}
		login, err := a.vault.Login(ctx, a.cfg.AuthMount, id.rule.AuthRole, id.jwt)
		if err != nil {
			return nil, err
		}
		// The old login is left to expire, not revoked: the credentials
		// it minted may still be in use (see offer).
		id.login = login
	}
	c, err := a.vault.Mint(ctx, id.login.Token, a.cfg.AWSMount, id.rule)
	if err != nil {
		var re *RefusedError
		if errors.As(err, &re) && re.Status == 403 {
			// Perhaps revoked from outside: the next try logs in again.
			id.login = nil
		}
		return nil, err
	}
	return c, nil
}

// Sweep drops the identities idle for longer than idle_timeout, and the
// JWTs past their exp; the server calls it every minute.
func (a *Agent) Sweep() {
	a.mu.Lock()
	dropped := a.sweepLocked(a.now())
	a.mu.Unlock()
	for _, id := range dropped {
		id.drop(a)
	}
}

// sweepLocked removes what Sweep drops, and returns the identities
// dropped, for the caller to drop once a.mu is released.
func (a *Agent) sweepLocked(now time.Time) (dropped []*identity) {
	for key, id := range a.ids {
		if now.Sub(id.lastUsed) < a.cfg.IdleTimeout.Duration {
			continue
		}
		delete(a.ids, key)
		for _, h := range id.hashes {
			delete(a.tokens, h)
		}
		a.logf("identity dropped after %s idle: %s (%d in memory)", a.cfg.IdleTimeout.Duration, key, len(a.ids))
		dropped = append(dropped, id)
	}
	for h, e := range a.tokens {
		select {
		case <-e.done:
			if !e.expiry.IsZero() && !now.Before(e.expiry) {
				delete(a.tokens, h)
			}
		default:
		}
	}
	return dropped
}

// drop forgets a dropped identity's login and credentials, once no mint
// uses them, and revokes the login when nothing it minted is still valid
// (revoking it would revoke their lease too; else it is left to expire).
// A request that found the identity just before it was dropped still
// works: it logs in again with the JWT.
func (id *identity) drop(a *Agent) {
	id.sem <- struct{}{}
	defer func() { <-id.sem }()
	if id.login != nil && (id.creds == nil || !a.now().Before(id.creds.Expiry)) {
		a.revoke(id.login.Token)
	}
	id.login, id.creds = nil, nil
}

// Identities is the number of identities in memory.
func (a *Agent) Identities() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

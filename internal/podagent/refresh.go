package podagent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
)

// When credentials in memory are served, refreshed and given up is the
// cache's rule (cache.Policy), as for serve and credential_process: they
// are fresh for half their lifetime, then refreshed in the background
// while requests are still served them; while a refresh fails they are
// served until they have minServe (or a quarter of their lifetime, if
// shorter) left. Only then does a request wait for a mint.
var policy = cache.Policy{RefreshWindow: time.Duration(1<<63 - 1), MinRemaining: minServe}

// Bounds of the refresh.
const (
	minServe = time.Minute
	// refreshTick is how often Serve looks for credentials due.
	refreshTick = time.Second
	// maxRefreshes bounds the background refreshes running at once: the
	// identities of a node, minted together at its start, fall due together.
	maxRefreshes = 4
	// firstBackoff and maxBackoff space the tries after a failed refresh
	// (as serve's), in the background and for requests alike.
	firstBackoff = 2 * time.Second
	maxBackoff   = 30 * time.Second
)

// entry is c as the cache's policy sees it; nil for none.
func entry(c *Credentials) *cache.Entry {
	if c == nil {
		return nil
	}
	return &cache.Entry{IssuedAt: c.Issued, Expiration: c.Expiry}
}

// credentials returns the identity's credentials: those in memory while
// they may be served (starting a background refresh once they are due),
// else new ones, waiting for the mint.
func (id *identity) credentials(ctx context.Context, a *Agent) (*Credentials, error) {
	now := a.now()
	c := id.creds.Load()
	if policy.Fresh(entry(c), now) {
		return c, nil
	}
	if policy.Usable(entry(c), now) {
		a.refreshSoon(id)
		return c, nil
	}
	return id.mintNow(ctx, a, now)
}

// mintNow mints while nothing in memory may be served. Requests waiting at
// once share one mint, and its failure; after a failure, no request asks
// Vault again before the backoff has passed.
func (id *identity) mintNow(ctx context.Context, a *Agent, asked time.Time) (*Credentials, error) {
	select {
	case id.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-id.sem }()
	now := a.now()
	if c := id.creds.Load(); policy.Usable(entry(c), now) {
		return c, nil // minted while this request waited
	}
	if id.lastErr != nil && (!id.lastErrAt.Before(asked) || now.Before(a.retryAt(id))) {
		return nil, id.lastErr
	}
	return id.refresh(ctx, a)
}

// refresh mints (under sem) and keeps what it got, or the failure and when
// to try again.
func (id *identity) refresh(ctx context.Context, a *Agent) (*Credentials, error) {
	// The mint serves every request of the identity: it is not cut short by
	// the one that started it leaving.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), vaultTimeout)
	defer cancel()
	c, err := id.mint(mctx, a, a.now())
	now := a.now()
	if err != nil {
		id.failures++
		id.lastErr, id.lastErrAt = err, now
		a.mu.Lock()
		id.retryAt = now.Add(min(firstBackoff<<(min(id.failures, 8)-1), maxBackoff))
		a.mu.Unlock()
		if old := id.creds.Load(); policy.Usable(entry(old), now) {
			a.logf("identity %s: refresh failed, serving the credentials in memory until they have %s left: %v",
				id.key, policy.Floor(entry(old)).Round(time.Second), err)
		} else {
			a.logf("identity %s: refresh failed, nothing valid to serve: %v", id.key, err)
		}
		return nil, err
	}
	id.failures, id.lastErr = 0, nil
	id.creds.Store(c)
	a.logf("identity %s: credentials minted, valid until %s", id.key, c.Expiry.UTC().Format(time.RFC3339))
	return c, nil
}

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

// retryAt is when the identity's next refresh may be tried.
func (a *Agent) retryAt(id *identity) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return id.retryAt
}

// refreshDue starts a background refresh for every identity in use (asked
// for within idle_timeout) whose credentials are due, unless one is under
// way or the backoff after a failure has not passed. Serve calls it every
// refreshTick; idle identities are left to sweep.
func (a *Agent) refreshDue() {
	now := a.now()
	var due []*identity
	a.mu.Lock()
	for _, id := range a.ids {
		if now.Sub(id.lastUsed) >= a.cfg.IdleTimeout.Duration || now.Before(id.retryAt) {
			continue
		}
		if c := id.creds.Load(); c != nil && !policy.Fresh(entry(c), now) {
			due = append(due, id)
		}
	}
	a.mu.Unlock()
	for _, id := range due {
		a.refreshSoon(id)
	}
}

// refreshSoon refreshes the identity in the background, unless a refresh
// of it is queued or running already; at most maxRefreshes run at once.
func (a *Agent) refreshSoon(id *identity) {
	if !id.refreshing.CompareAndSwap(false, true) {
		return
	}
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		defer id.refreshing.Store(false)
		a.refreshSlots <- struct{}{}
		defer func() { <-a.refreshSlots }()
		id.sem <- struct{}{}
		defer func() { <-id.sem }()
		now := a.now()
		// Meanwhile a request may have minted, or the identity been dropped.
		if c := id.creds.Load(); c == nil || policy.Fresh(entry(c), now) || now.Before(a.retryAt(id)) || !a.holds(id) {
			return
		}
		_, _ = id.refresh(context.Background(), a)
	}()
}

// holds reports whether id is still one of the agent's identities.
func (a *Agent) holds(id *identity) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ids[id.key] == id
}

// sweep drops the identities idle for longer than idle_timeout, and the
// JWTs past their exp; the server calls it every minute.
func (a *Agent) sweep() {
	a.mu.Lock()
	dropped := a.sweepLocked(a.now())
	a.mu.Unlock()
	for _, id := range dropped {
		id.drop(a)
	}
}

// sweepLocked removes what sweep drops, and returns the identities
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
	if c := id.creds.Load(); id.login != nil && (c == nil || !a.now().Before(c.Expiry)) {
		a.revoke(id.login.Token)
	}
	id.login = nil
	id.creds.Store(nil)
}

// identities is the number of identities in memory.
func (a *Agent) identities() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

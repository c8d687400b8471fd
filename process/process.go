// Package process turns a resolved request into AWS credentials: from the
// disk cache while they are fresh, else from a Source (the Vault client of
// internal/vault, which the command layer plugs in), renewing an iam_user
// lease rather than minting a new IAM user where it can. It holds the
// request and credentials types, the identity that keys the cache, MFA,
// the audit log, the errors every front end reports, and the
// credential_process document. It knows no HTTP client.
package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
)

// CredentialSource is where a run's credentials came from, as --debug,
// the audit log, doctor and the cache entries say.
type CredentialSource string

// The credential sources.
const (
	SourceCache   CredentialSource = "cache"
	SourceVault   CredentialSource = "vault"
	SourceRenewal CredentialSource = "renewal"
	SourceOutage  CredentialSource = "outage" // a still-valid cache entry served while Vault is unavailable
)

// Source is what the Runner needs from Vault; internal/vault's *Vault
// implements it.
type Source interface {
	Fetch(ctx context.Context, r Request) (*Credentials, error)
	// Renew extends a lease minted under the token with accessor minter;
	// under another token it fails with ErrNotMinter.
	Renew(ctx context.Context, leaseID string, increment time.Duration, minter string) (time.Time, error)
	// Revoked reports whether Vault no longer holds the lease of c.
	Revoked(ctx context.Context, c *Credentials) (bool, error)
}

// ErrNotMinter marks a renewal refused because the token of this run did
// not mint the lease (or cannot be identified).
var ErrNotMinter = errors.New("the lease was minted under another Vault token")

// Runner gets credentials for one set of settings.
type Runner struct {
	Settings *config.Settings
	Now      func() time.Time
	Debugf   func(format string, args ...any)
	Warnf    func(format string, args ...any)
	// Unattended: nobody is at the terminal (a server's background
	// refresh), so the run never prompts and its deadline is --timeout
	// alone (see Run).
	Unattended bool
	// OpenTTY opens the terminal for an MFA prompt; nil means there is none.
	OpenTTY func() (io.ReadWriteCloser, error)
	// Stderr receives what an mfa_command writes to its stderr.
	Stderr io.Writer
	// Getenv reads the variable that holds a jwt or kubernetes login's
	// JWT (jwt_env), for the cache key; nil is an empty environment.
	Getenv func(string) string
	// NewSource connects to Vault. It is called only when the cache cannot
	// answer, so a cache hit never builds a Vault client.
	NewSource func(ctx context.Context) (Source, error)
	// Usable asks AWS whether new keys are accepted yet, waiting while they
	// are not, and returns their account (see waitUsable); nil never waits.
	Usable func(ctx context.Context, c *Credentials) (account string, err error)

	source Source
}

// Credentials returns credentials for the settings and where they came
// from (one of the Source constants).
func (r *Runner) Credentials(ctx context.Context) (*Credentials, CredentialSource, error) {
	s := r.Settings
	if s.CacheDisabled {
		r.Debugf("cache disabled")
		c, err := r.fetch(ctx, RequestOf(s))
		return c, SourceVault, err
	}

	store, err := cache.Open(s.CacheDir)
	if errors.Is(err, cache.ErrUnsafe) {
		return nil, "", cacheError(err)
	}
	if err != nil {
		// The folder cannot be created (a read-only file system, say):
		// nothing can be cached, but the credentials can still be had.
		c, ferr := r.fetch(ctx, RequestOf(s))
		if ferr != nil {
			return nil, "", ferr
		}
		r.Warnf("could not cache the credentials: %v", err)
		return c, SourceVault, nil
	}
	key, err := r.Key()
	if err != nil {
		return nil, "", err
	}
	entry, err := store.Load(key)
	if err != nil {
		return nil, "", cacheError(err)
	}
	now := r.Now()
	if r.policy().Fresh(entry, now) {
		if s.Debug { // the hit path: no formatting for nobody
			r.Debugf("cache hit %s: expires %s", key[:12], UntilText(entry.Expiration, now))
		}
		return fromEntry(entry), SourceCache, nil
	}
	r.Debugf("cache miss %s", key[:12])
	return r.miss(ctx, store, key, entry)
}

// miss refreshes the entry under key, which the cache could not serve
// fresh. Only one process refreshes an entry; the others wait for its lock
// and then find the entry fresh.
func (r *Runner) miss(ctx context.Context, store *cache.Store, key string, entry *cache.Entry) (*Credentials, CredentialSource, error) {
	unlock, lockErr := store.Lock(ctx, key)
	switch {
	case errors.Is(lockErr, context.DeadlineExceeded):
		if r.usable(entry) {
			r.Debugf("%v; serving the cached entry, valid until %s", lockErr, entry.Expiration.Format(time.RFC3339))
			return fromEntry(entry), SourceOutage, nil
		}
		return nil, "", &Error{Code: ExitFailure, Msg: fmt.Sprintf("wait for the cache lock in %s: another vault-credential-process held it until --timeout", store.Dir()),
			Hint: "a process may be stuck asking Vault: check it, or raise --timeout", Err: lockErr}
	case errors.Is(lockErr, cache.ErrUnsafe):
		// Something else sits where the lock file goes (a FIFO, a symlink,
		// another user's file): the folder was tampered with, so neither
		// the lock nor the entry beside it is to be trusted.
		return nil, "", cacheError(lockErr)
	case lockErr != nil:
		// The lock file cannot be created (a read-only folder, say): no
		// process can cache here, so there is nothing to wait for. Go on
		// uncached, as when Save fails.
		r.Debugf("%v; going on without the cache lock", lockErr)
		unlock = func() {}
	default:
		// A run killed mid-write left its temporary file, with secrets in
		// it; holding the lock, this run may remove it.
		if n, _ := store.RemoveTemps(key); n > 0 {
			r.Debugf("removed %d unfinished writes of this entry", n)
		}
	}
	defer unlock()
	if again, lerr := store.Load(key); lerr == nil && again != nil {
		entry = again
		if r.policy().Fresh(entry, r.Now()) {
			r.Debugf("cache hit %s after waiting for the lock", key[:12])
			return fromEntry(entry), SourceCache, nil
		}
	}

	c, src, err := r.refresh(ctx, RequestOf(r.Settings), entry)
	if err != nil {
		if Unavailable(err) && r.usable(entry) {
			r.Debugf("Vault unavailable (%v); serving the cached entry, valid until %s", err, entry.Expiration.Format(time.RFC3339))
			return fromEntry(entry), SourceOutage, nil
		}
		return nil, "", r.dropIfRevoked(ctx, store, key, entry, err)
	}
	if lockErr != nil {
		r.Warnf("could not cache the credentials: %v", lockErr)
	} else if err := store.Save(key, r.toEntry(c, src)); err != nil {
		// The credentials are good; failing the run would only make the
		// next one mint again. Say so, and hand them out.
		r.Warnf("could not cache the credentials: %v", err)
	}
	return c, src, nil
}

// usable reports whether a cached entry may stand in when Vault cannot be
// asked (the cache's policy: min_remaining, or a quarter of the lifetime,
// is left).
func (r *Runner) usable(e *cache.Entry) bool {
	return r.policy().Usable(e, r.Now())
}

func (r *Runner) policy() cache.Policy { return PolicyOf(r.Settings) }

// PolicyOf is the cache policy the settings' refresh_window and
// min_remaining make: the one rule of freshness and outage grace, for the
// Runner and the credentials server alike.
func PolicyOf(s *config.Settings) cache.Policy {
	return cache.Policy{RefreshWindow: s.RefreshWindow, MinRemaining: s.MinRemaining}
}

// refresh renews a renewable lease (iam_user) when that keeps the same keys
// fresh, and mints new credentials otherwise.
func (r *Runner) refresh(ctx context.Context, req Request, e *cache.Entry) (*Credentials, CredentialSource, error) {
	renewable := e != nil && e.Renewable && e.LeaseID != "" && e.Expiration.After(r.Now()) && e.LeaseDuration > 0
	if renewable && e.TokenAccessor == "" {
		// Written by a version that did not record the minting token, or
		// by a token that may not look itself up.
		r.Debugf("the cached lease does not say which Vault token minted it (an entry of an older version, or a token whose policy lacks auth/token/lookup-self); minting new credentials")
		renewable = false
	}
	if renewable {
		src, err := r.vault(ctx)
		if err != nil {
			return nil, "", err
		}
		renewedAt := r.Now().Round(0)
		exp, err := src.Renew(ctx, e.LeaseID, time.Duration(e.LeaseDuration)*time.Second, e.TokenAccessor)
		if errors.Is(err, ErrNotMinter) {
			r.Debugf("the cached lease was minted under another Vault token, which takes it along when it goes; minting new credentials")
		} else if err == nil {
			c := fromEntry(e)
			c.IssuedAt, c.Expiration = renewedAt, exp.Round(0)
			// Judge the new expiry against a whole lease: counted from the
			// renewal, any expiry ahead looks fresh, and a lease capped by
			// its max TTL would be renewed into ever shorter credentials.
			lease := &cache.Entry{IssuedAt: exp.Add(-c.LeaseDuration), Expiration: exp}
			if r.policy().Fresh(lease, r.Now()) {
				r.Debugf("lease renewed until %s", exp.Format(time.RFC3339))
				return c, SourceRenewal, nil
			}
			r.Debugf("lease renewed only until %s (its max TTL); minting new credentials", exp.Format(time.RFC3339))
		} else if Unavailable(err) {
			return nil, "", err
		} else {
			r.Debugf("lease renewal refused (%v); minting new credentials", err)
		}
	}
	c, err := r.fetch(ctx, req)
	return c, SourceVault, err
}

func (r *Runner) fetch(ctx context.Context, req Request) (*Credentials, error) {
	src, err := r.vault(ctx)
	if err != nil {
		return nil, err
	}
	if r.Settings.MFARequired && req.MFACode == "" {
		if req.MFACode, err = r.mfaCode(ctx); err != nil {
			return nil, err
		}
	}
	c, err := src.Fetch(ctx, req)
	if err != nil {
		return nil, err
	}
	r.waitUsable(ctx, c)
	return c, nil
}

// waitUsable, with wait_usable set, holds new iam_user keys back until AWS
// accepts them: IAM is eventually consistent, and a key Vault hands out the
// moment IAM created it is refused (InvalidClientTokenId) for a few
// seconds, which fails the first AWS call of Terraform and the SDKs. It
// fills in the account from the answer. Renewals and cache hits never come
// here. A wait that ends without an answer (the bound, an STS that cannot
// be reached) is a warning: the keys are handed out as they are.
func (r *Runner) waitUsable(ctx context.Context, c *Credentials) {
	if !r.Settings.WaitUsable || r.Usable == nil || !c.Revocable() {
		return
	}
	r.Debugf("waiting until AWS STS accepts the new key %s", c.AccessKeyID)
	account, err := r.Usable(ctx, c)
	if err != nil {
		r.Warnf("wait_usable: AWS did not accept the new key %s before the wait ended: %v", c.AccessKeyID, err)
		return
	}
	if c.AccountID == "" {
		c.AccountID = account
	}
}

// Close lets go of what the run's Vault client keeps open (connections
// kept alive for reuse), for callers that run many Runners in one process.
func (r *Runner) Close() {
	if c, ok := r.source.(interface{ Close() }); ok {
		c.Close()
	}
}

func (r *Runner) vault(ctx context.Context) (Source, error) {
	if r.source == nil {
		src, err := r.NewSource(ctx)
		if err != nil {
			return nil, err
		}
		r.source = src
	}
	return r.source, nil
}

// Key is the cache key of the settings' request: everything that changes
// what Vault would return, and the login identity of an auth method (role_id,
// username, what a JWT or client certificate proves), so that two
// identities never share credentials. Plain token auth adds no identity: two
// tokens asking for the same role share an entry (see docs/security.md, the security
// model). The error is that of reading a JWT or certificate (identity.go).
func (r *Runner) Key() (string, error) {
	s := r.Settings
	getenv := r.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	id, err := authIdentity(&s.Auth, getenv)
	if err != nil {
		return "", err
	}
	return cache.Key("vault-credential-process/1", NormalizeAddress(s.Address), s.Namespace,
		s.Mount, s.Role, s.Type, strconv.FormatInt(int64(s.TTL/time.Second), 10),
		s.RoleARN, s.RoleSessionName, id), nil
}

// NormalizeAddress makes equivalent spellings of a Vault address equal:
// scheme and host in lower case, no trailing slash.
func NormalizeAddress(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return addr
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String()
}

func (r *Runner) toEntry(c *Credentials, src CredentialSource) *cache.Entry {
	return &cache.Entry{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		AccountID: c.AccountID, Expiration: c.Expiration.UTC(), IssuedAt: c.IssuedAt.UTC(),
		LeaseID: c.LeaseID, LeaseDuration: int64(c.LeaseDuration / time.Second), Renewable: c.Renewable,
		TokenAccessor: c.TokenAccessor, MinterDigest: c.MinterDigest, Source: string(src), Request: storedRequestOf(r.Settings).encode(),
	}
}

func fromEntry(e *cache.Entry) *Credentials {
	return &Credentials{
		AccessKeyID: e.AccessKeyID, SecretAccessKey: e.SecretAccessKey, SessionToken: e.SessionToken,
		AccountID: e.AccountID, Expiration: e.Expiration, IssuedAt: e.IssuedAt, LeaseID: e.LeaseID,
		LeaseDuration: time.Duration(e.LeaseDuration) * time.Second, Renewable: e.Renewable,
		TokenAccessor: e.TokenAccessor, MinterDigest: e.MinterDigest,
	}
}

// CacheError explains an error of the cache folder, with a hint.
func CacheError(err error) *Error { return cacheError(err) }

func cacheError(err error) *Error {
	e := &Error{Code: ExitFailure, Msg: config.OneLine(err.Error()), Err: err}
	if errors.Is(err, cache.ErrUnsafe) {
		e.Hint = "the cache must be a folder of your own with mode 0700 holding files of mode 0600: fix or remove it, or pass --cache-dir"
	} else {
		e.Hint = "pass --cache-dir to use another folder, or --no-cache"
	}
	return e
}

// UntilText is t for --debug: in UTC, and how far ahead of now.
func UntilText(t, now time.Time) string {
	return fmt.Sprintf("%s (in %s)", t.UTC().Format(time.RFC3339), t.Sub(now).Round(time.Second))
}

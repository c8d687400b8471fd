package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// The refresher of one profile: it keeps the profile's credentials in
// memory, renews or replaces them ahead of expiry, and drops them as soon as
// Vault says they were revoked. When credentials are fresh, due, or may stand
// in during an outage is the cache's policy (cache.Policy), not this file's.

// Fetch gets credentials for one profile: one run of the core
// (process.Runner.Run: cache, renewal, Vault, outage grace), bounded by
// its own timeout, and where they came from (a process.Source*
// constant). interactive is false for background refreshes, which must
// never prompt at the terminal.
type Fetch func(ctx context.Context, interactive bool) (*process.Credentials, process.CredentialSource, error)

// Check asks Vault, bounded by its own timeout, whether the lease of
// credentials still exists. It returns an error wrapping
// process.ErrRevoked when Vault no longer holds it (revoked with its token,
// or alone), any other error when it could not tell.
type Check func(ctx context.Context, c *process.Credentials) error

// Profile is one set of credentials the server hands out, at its own path.
type Profile struct {
	Name  string // the path is /creds/Name
	Fetch Fetch
	// Check, if set, is asked every leaseCheckInterval whether the lease of
	// the credentials in memory still exists, so that keys Vault revoked stop
	// being served within that time rather than at the next refresh.
	Check Check
	// Policy says when the credentials are refreshed and how long they may
	// stand in while a refresh fails: the same rule as the cache's.
	Policy cache.Policy
}

// Bounds of the background refresh.
const (
	// maxSleep bounds each wait of a refresher, so that it looks at the wall
	// clock again: timers run on the monotonic clock, which stops while a
	// laptop sleeps, and credentials expire by the wall clock.
	maxSleep = time.Minute
	// firstBackoff and maxBackoff space the retries after a failed refresh.
	firstBackoff = 2 * time.Second
	maxBackoff   = 30 * time.Second
	// leaseCheckInterval is how often the lease of credentials in memory is
	// looked up in Vault (sys/leases/lookup), when the profile has a Check.
	leaseCheckInterval = 30 * time.Second
)

// held is what a profile serves from memory.
type held struct {
	creds  *process.Credentials
	source process.CredentialSource // how the refresh that got them obtained them
	// checked is when Vault last said the lease exists (or when the
	// credentials arrived).
	checked time.Time
}

// entry is h as the cache's policy sees it.
func (h *held) entry() *cache.Entry {
	return &cache.Entry{IssuedAt: h.creds.IssuedAt, Expiration: h.creds.Expiration}
}

// profile is a Profile's credentials in memory and the state of its
// refresher. Requests only read cur; the refresher goroutine alone writes
// it and owns the fields below kick.
type profile struct {
	Profile
	now  func() time.Time
	logf func(format string, args ...any)
	// errorf says a refresh failed, where even a quiet log says it.
	errorf func(format string, args ...any)
	cur    atomic.Pointer[held]
	kick   chan struct{} // buffered: wakes the refresher to look again
	// kept, if set, is called after credentials are kept in memory.
	kept func()
	// sessionlessWarned: the warning that a client which needs a session
	// token got none was written (see Server.warnSessionless).
	sessionlessWarned atomic.Bool

	mu          sync.Mutex
	failures    int
	lastAttempt time.Time
	// lastErr is the last refresh's error (nil after a success): what a
	// 503 says.
	lastErr error
}

// newProfile makes a profile whose clock is now without Go's monotonic
// reading: every time it compares comes from the wall clock (see cache.Now).
func newProfile(p Profile, now func() time.Time, logf, errorf func(string, ...any)) *profile {
	wall := func() time.Time { return now().Round(0) }
	return &profile{Profile: p, now: wall, logf: logf, errorf: errorf, kick: make(chan struct{}, 1)}
}

func (p *profile) fresh(h *held, now time.Time) bool {
	return h != nil && p.Policy.Fresh(h.entry(), now)
}

// servable reports whether h may be handed out at now: fresh, or while a
// refresh fails, as the cache's policy allows. Expired credentials never are.
//
// The documents give the expiry in whole seconds, so that is the expiry
// judged here: no answer names a time already past. Freshness, though, is
// the cache's exact rule: judged on a rounded time, the server would want a
// refresh that the cache, asked by that refresh, does not yet see due, and
// ask again and again until it did.
func (p *profile) servable(h *held, now time.Time) bool {
	return h != nil && (p.fresh(h, now) || p.Policy.Usable(h.entry(), now)) && h.creds.Expiration.Truncate(time.Second).After(now)
}

// get returns what to serve now, if anything. It never waits: when the
// credentials are due or gone it only wakes the refresher.
func (p *profile) get() (*held, bool) {
	now := p.now()
	h := p.cur.Load()
	if !p.fresh(h, now) {
		p.poke()
	}
	if p.servable(h, now) {
		return h, true
	}
	return nil, false
}

func (p *profile) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// dueIn is how long until the refresher has work: a refresh at the start
// of the refresh window, after a failure when the backoff has passed, or a
// look at the lease.
func (p *profile) dueIn(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.cur.Load()
	if p.fresh(h, now) {
		due := p.Policy.RefreshAt(h.entry()).Sub(now)
		if p.checks(h) {
			due = min(due, h.checked.Add(leaseCheckInterval).Sub(now))
		}
		return due
	}
	if p.failures == 0 {
		return 0
	}
	backoff := min(firstBackoff<<(min(p.failures, 8)-1), maxBackoff)
	return p.lastAttempt.Add(backoff).Sub(now)
}

// checks reports whether h's lease is looked up in Vault: revocable
// (iam_user) credentials of a profile with a Check.
func (p *profile) checks(h *held) bool {
	return p.Check != nil && h != nil && h.creds.Revocable()
}

// run refreshes the credentials ahead of expiry, and looks up their lease,
// until ctx ends. Each wait is bounded by maxSleep; each refresh and look-up
// by the Fetch's and Check's own timeout.
func (p *profile) run(ctx context.Context) {
	for ctx.Err() == nil {
		now := p.now()
		if wait := p.dueIn(now); wait > 0 {
			t := time.NewTimer(min(wait, maxSleep))
			select {
			case <-ctx.Done():
			case <-p.kick:
			case <-t.C:
			}
			t.Stop()
			continue // look at the clock again
		}
		if h := p.cur.Load(); p.fresh(h, now) && p.checks(h) && !now.Before(h.checked.Add(leaseCheckInterval)) {
			p.check(ctx, h)
			continue
		}
		_ = p.refresh(ctx, false)
	}
}

// check looks up the lease of h. Revoked credentials are dropped at once,
// so requests get 503 (or, once the refresh that follows succeeds, new
// credentials) instead of dead keys. When Vault cannot tell, h is served
// as before and looked at again after the next interval.
func (p *profile) check(ctx context.Context, h *held) {
	err := p.Check(ctx, h.creds)
	now := p.now()
	switch {
	case errors.Is(err, process.ErrRevoked):
		p.drop(h, err)
		return
	case err != nil && ctx.Err() == nil:
		p.logf("%s: could not look up the lease of %s: %v", p.Name, h.creds.AccessKeyID, err)
	}
	next := *h
	next.checked = now
	p.cur.CompareAndSwap(h, &next)
}

// drop forgets h, which Vault revoked, and has the refresher get new
// credentials now.
func (p *profile) drop(h *held, err error) {
	if p.cur.CompareAndSwap(h, nil) {
		p.errorf("%s: credentials %s dropped: %v", p.Name, h.creds.AccessKeyID, err)
	}
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
}

// refresh runs one Fetch and keeps what it got. Credentials served from a
// stale cache entry while Vault is down (outage) count as a failure, so
// that the refresher keeps trying, and replace what memory holds only if
// they last longer. A refresh that learns the credentials in memory were
// revoked drops them.
func (p *profile) refresh(ctx context.Context, interactive bool) error {
	p.mu.Lock()
	p.lastAttempt = p.now()
	p.mu.Unlock()
	c, src, err := p.Fetch(ctx, interactive)
	if err == nil && c == nil {
		err = errors.New("no credentials")
	}
	if err != nil {
		if errors.Is(err, process.ErrRevoked) {
			if h := p.cur.Load(); h != nil {
				p.drop(h, err)
			}
		}
		p.mu.Lock()
		p.failures++
		p.lastErr = err
		p.mu.Unlock()
		if ctx.Err() == nil && !interactive {
			// (The foreground fetch's error is its caller's to report.)
			p.logRefreshError(err)
		}
		return err
	}
	p.keep(c, src)
	return nil
}

// keep stores what a successful Fetch got, its times stripped of Go's
// monotonic reading (a renewal's could carry one: see cache.Now).
func (p *profile) keep(c *process.Credentials, src process.CredentialSource) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if src == process.SourceOutage {
		p.failures++
	} else {
		p.failures, p.lastErr = 0, nil
	}
	cc := *c
	cc.IssuedAt, cc.Expiration = c.IssuedAt.Round(0), c.Expiration.Round(0)
	if old := p.cur.Load(); src != process.SourceOutage || old == nil || cc.Expiration.After(old.creds.Expiration) {
		p.cur.Store(&held{creds: &cc, source: src, checked: p.now()})
	}
	if p.kept != nil {
		p.kept()
	}
	p.logf("%s: credentials %s from %s, expire %s", p.Name, cc.AccessKeyID, src, cc.Expiration.UTC().Format(time.RFC3339))
}

func (p *profile) logRefreshError(err error) {
	now := p.now()
	if h := p.cur.Load(); p.servable(h, now) {
		p.errorf("%s: refresh failed, serving the credentials in memory until they have %s left: %v",
			p.Name, p.Policy.Floor(h.entry()).Round(time.Second), err)
		return
	}
	p.errorf("%s: refresh failed, nothing valid to serve: %v", p.Name, err)
}

// failure is the last refresh's error, nil after a success.
func (p *profile) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

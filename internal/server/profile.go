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

// Fetch gets credentials for one profile: one run of the core
// (process.Runner.Credentials: cache, renewal, Vault, outage grace), bounded
// by its own timeout, and where they came from (a process.Source*
// constant). interactive is false for background refreshes, which must
// never prompt at the terminal.
type Fetch func(ctx context.Context, interactive bool) (*process.Credentials, string, error)

// Profile is one set of credentials the server hands out, at its own path.
type Profile struct {
	Name  string // the path is /creds/Name
	Fetch Fetch
	// RefreshWindow and MinRemaining mean what they mean for the cache: the
	// credentials are refreshed once less than the window (or half their
	// lifetime) remains; while that fails they are served as long as
	// MinRemaining (or a quarter of their lifetime) remains.
	RefreshWindow time.Duration
	MinRemaining  time.Duration
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
)

// held is what a profile serves from memory.
type held struct {
	creds  *process.Credentials
	source string // how the refresh that got them obtained them
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

	mu          sync.Mutex
	failures    int
	lastAttempt time.Time
}

func newProfile(p Profile, now func() time.Time, logf, errorf func(string, ...any)) *profile {
	return &profile{Profile: p, now: now, logf: logf, errorf: errorf, kick: make(chan struct{}, 1)}
}

// window is the refresh window of c, as the cache computes it.
func (p *profile) window(c *process.Credentials) time.Duration {
	w := p.RefreshWindow
	if half := c.Expiration.Sub(c.IssuedAt) / 2; half < w {
		w = half
	}
	return max(w, 0)
}

func (p *profile) fresh(h *held, now time.Time) bool {
	return h != nil && cache.Fresh(&cache.Entry{IssuedAt: h.creds.IssuedAt, Expiration: h.creds.Expiration}, now, p.RefreshWindow)
}

// servable reports whether h may be handed out at now: fresh, or while a
// refresh fails, with at least MinRemaining (or a quarter of the lifetime,
// if shorter) left. Expired credentials never are.
func (p *profile) servable(h *held, now time.Time) bool {
	if h == nil {
		return false
	}
	left := h.creds.Expiration.Sub(now)
	if left <= 0 {
		return false
	}
	floor := min(p.MinRemaining, h.creds.Expiration.Sub(h.creds.IssuedAt)/4)
	return p.fresh(h, now) || left >= floor
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

// dueIn is how long until the next refresh: at the start of the refresh
// window, or after a failure when the backoff has passed.
func (p *profile) dueIn(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h := p.cur.Load(); p.fresh(h, now) {
		return h.creds.Expiration.Add(-p.window(h.creds)).Sub(now)
	}
	if p.failures == 0 {
		return 0
	}
	backoff := min(firstBackoff<<(min(p.failures, 8)-1), maxBackoff)
	return p.lastAttempt.Add(backoff).Sub(now)
}

// run refreshes the credentials ahead of expiry until ctx ends. Each wait
// is bounded by maxSleep; each refresh by the Fetch's own timeout.
func (p *profile) run(ctx context.Context) {
	for ctx.Err() == nil {
		if wait := p.dueIn(p.now()); wait > 0 {
			t := time.NewTimer(min(wait, maxSleep))
			select {
			case <-ctx.Done():
			case <-p.kick:
			case <-t.C:
			}
			t.Stop()
			continue // look at the clock again
		}
		_ = p.refresh(ctx, false)
	}
}

// refresh runs one Fetch and keeps what it got. Credentials served from a
// stale cache entry while Vault is down (outage) count as a failure, so
// that the refresher keeps trying, and replace what memory holds only if
// they last longer.
func (p *profile) refresh(ctx context.Context, interactive bool) error {
	p.mu.Lock()
	p.lastAttempt = p.now()
	p.mu.Unlock()
	c, src, err := p.Fetch(ctx, interactive)
	if err == nil && c == nil {
		err = errors.New("no credentials")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failures++
		if ctx.Err() == nil && !interactive {
			// (The foreground fetch's error is its caller's to report.)
			p.logRefreshError(err)
		}
		return err
	}
	if src == process.SourceOutage {
		p.failures++
	} else {
		p.failures = 0
	}
	if old := p.cur.Load(); src != process.SourceOutage || old == nil || c.Expiration.After(old.creds.Expiration) {
		p.cur.Store(&held{creds: c, source: src})
	}
	p.logf("%s: credentials %s from %s, expire %s", p.Name, c.AccessKeyID, src, c.Expiration.UTC().Format(time.RFC3339))
	return nil
}

func (p *profile) logRefreshError(err error) {
	now := p.now()
	if h := p.cur.Load(); p.servable(h, now) {
		p.errorf("%s: refresh failed, serving the credentials in memory until they have %s left: %v",
			p.Name, servableFloor(p, h), err)
		return
	}
	p.errorf("%s: refresh failed, nothing valid to serve: %v", p.Name, err)
}

// servableFloor is the least time left with which h is still served.
func servableFloor(p *profile, h *held) time.Duration {
	return min(p.MinRemaining, h.creds.Expiration.Sub(h.creds.IssuedAt)/4)
}

package cache

import "time"

// Policy is the one rule of when credentials are handed out without asking
// upstream, when they are refreshed, and how long they may stand in while
// upstream cannot be asked. credential_process runs and the credentials
// server both ask it; neither restates it.
type Policy struct {
	// RefreshWindow: credentials are refreshed once less than this (or half
	// their lifetime, if shorter) remains.
	RefreshWindow time.Duration
	// MinRemaining: while a refresh cannot reach upstream, credentials are
	// still handed out with at least this (or a quarter of their lifetime,
	// if shorter) left.
	MinRemaining time.Duration
}

// Now is the wall clock without Go's monotonic reading. Every time that is
// stored, or compared with a time from disk or another process, comes from
// it: the monotonic clock stops while a laptop sleeps, and a comparison of
// two times that both carry it ignores the wall clock, so credentials that
// expired during the sleep would look valid on waking.
func Now() time.Time { return time.Now().Round(0) }

// window is the refresh window of e: the smaller of RefreshWindow and half
// its lifetime, so short-lived credentials are still served for the first
// half of their life.
func (p Policy) window(e *Entry) time.Duration {
	return max(min(p.RefreshWindow, e.Lifetime()/2), 0)
}

// Fresh reports whether e can be handed out without asking upstream: more
// than the refresh window remains.
func (p Policy) Fresh(e *Entry, now time.Time) bool {
	return e != nil && e.Expiration.Round(0).Sub(now.Round(0)) > p.window(e)
}

// RefreshAt is when e stops being fresh.
func (p Policy) RefreshAt(e *Entry) time.Time {
	return e.Expiration.Round(0).Add(-p.window(e))
}

// Floor is the least time left with which e may stand in while upstream
// cannot be asked: MinRemaining, or a quarter of its lifetime if shorter.
func (p Policy) Floor(e *Entry) time.Duration {
	return max(min(p.MinRemaining, e.Lifetime()/4), 0)
}

// Usable reports whether e may be handed out at now although it is not
// fresh, because upstream cannot be asked: it has at least Floor left.
// Expired credentials never are.
func (p Policy) Usable(e *Entry, now time.Time) bool {
	if e == nil {
		return false
	}
	left := e.Expiration.Round(0).Sub(now.Round(0))
	return left > 0 && left >= p.Floor(e)
}

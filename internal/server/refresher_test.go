package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

func (c *countingSource) Revoked(context.Context, *process.Credentials) (bool, error) {
	return false, nil
}

var policy = cache.Policy{RefreshWindow: 15 * time.Minute, MinRemaining: 5 * time.Minute}

// A laptop slept for two hours with the server's hour-long credentials in
// memory. On waking the wall clock has moved on and Go's monotonic clock
// has not: times the server compares must be judged by the wall clock, so
// it serves nothing rather than the keys that expired during the sleep.
// Credentials from a renewal carried a monotonic reading (the Vault client,
// now internal/vault/vault.go, counted them from the request's send time)
// and were served.
func TestNothingExpiredAfterSuspend(t *testing.T) {
	issued := time.Now() // with a monotonic reading, as a renewal's
	var mu sync.Mutex
	clock := issued
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	fetch := func(context.Context, bool) (*process.Credentials, process.CredentialSource, error) {
		return &process.Credentials{AccessKeyID: "AKIASUSPEND", SecretAccessKey: secretKey,
			IssuedAt: issued, Expiration: issued.Add(time.Hour), LeaseID: "aws/creds/dev/x"}, process.SourceRenewal, nil
	}
	s, err := New(Options{Profiles: []Profile{{Name: "dev", Fetch: fetch, Policy: policy}}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := s.profiles[0]
	if _, ok := p.get(); !ok {
		t.Fatal("nothing served right after the fetch")
	}
	mu.Lock()
	clock = testenv.Suspended(issued, 2*time.Hour)
	mu.Unlock()
	if h, ok := p.get(); ok {
		t.Errorf("served %s, which expired an hour ago, after waking", h.creds.AccessKeyID)
	}
	if d := p.dueIn(now()); d > 0 {
		t.Errorf("refresh due in %s after waking, want now", d)
	}
}

// The lease look-up between refreshes: credentials whose lease Vault no
// longer holds are dropped at once (the request gets 503, not dead keys),
// and the refresher is due right away; while Vault cannot tell, they are
// served and looked at again after the interval.
func TestLeaseCheckDropsRevoked(t *testing.T) {
	fetch := newFetch(time.Hour)
	f := newFixture(t, false, fetch)
	p := f.srv.profiles[0]
	h := p.cur.Load()
	h.creds.LeaseID = "aws/creds/dev/1"
	var answer error
	p.Check = func(context.Context, *process.Credentials) error { return answer }

	if d := p.dueIn(t0); d != leaseCheckInterval {
		t.Errorf("a leased credential is next looked at in %s, want %s", d, leaseCheckInterval)
	}
	answer = errors.New("Vault answered 503")
	p.check(context.Background(), h)
	if status, doc, _ := f.get(t, "GET", "/creds/dev", f.auth()); status != 200 || doc["AccessKeyId"] != keyID(1) {
		t.Errorf("Vault could not tell: %d %v, want the credentials in memory", status, doc)
	}
	answer = fmt.Errorf("credentials AKIA...: %w", process.ErrRevoked)
	p.check(context.Background(), p.cur.Load())
	if status, doc, _ := f.get(t, "GET", "/creds/dev", f.auth()); status != 503 {
		t.Errorf("revoked: %d %v, want 503", status, doc)
	}
	if d := p.dueIn(t0); d > 0 {
		t.Errorf("after a revocation the refresh is due in %s, want now", d)
	}
	if !errors.Is(p.failure(), process.ErrRevoked) {
		t.Errorf("the profile's last error is %v, want ErrRevoked", p.failure())
	}
}

// A refresh that fails because the credentials in memory were revoked
// (their token is gone) drops them, however much time they have left;
// any other failure keeps serving them in the outage grace.
func TestRefreshRevokedDrops(t *testing.T) {
	for _, revoked := range []bool{false, true} {
		f := newFixture(t, false, newFetch(time.Hour))
		f.clock.set(t0.Add(50 * time.Minute)) // due, 10 minutes left
		err := errors.New("Vault answered 403: permission denied")
		if revoked {
			err = errors.Join(process.ErrRevoked, err)
		}
		f.fetch.fail(err)
		_ = f.srv.profiles[0].refresh(context.Background(), false)
		status, _, _ := f.get(t, "GET", "/creds/dev", f.auth())
		if want := map[bool]int{false: 200, true: 503}[revoked]; status != want {
			t.Errorf("revoked %v: status %d, want %d", revoked, status, want)
		}
	}
}

// The documents give the expiry in whole seconds; what the server judges
// valid must agree, so no 200 names an expiry already past (make soak saw
// one 153 ms in the past).
func TestServedExpiryNotPast(t *testing.T) {
	exp := t0.Add(time.Hour + 700*time.Millisecond)
	fetch := func(context.Context, bool) (*process.Credentials, process.CredentialSource, error) {
		return &process.Credentials{AccessKeyID: "AKIAFRACTION", SecretAccessKey: secretKey, SessionToken: sessionToken,
			IssuedAt: t0, Expiration: exp}, process.SourceVault, nil
	}
	var mu sync.Mutex
	clock := t0
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	s, err := New(Options{Profiles: []Profile{{Name: "dev", Fetch: fetch, Policy: cache.Policy{}}}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	clock = exp.Add(-300 * time.Millisecond) // before the exact expiry, after the one the document says
	mu.Unlock()
	if h, ok := s.profiles[0].get(); ok {
		t.Errorf("served credentials whose document says they expired at %s", containerCreds(h.creds).Expiration)
	}
}

// STS credentials have a lease in Vault, but AWS cannot revoke them: the
// server does not look their lease up, nor drop them when the token that
// minted them goes (make soak saw assumed_role credentials dropped).
func TestSTSNotLookedUp(t *testing.T) {
	fetch := newFetch(time.Hour)
	fetch.session = true
	f := newFixture(t, false, fetch)
	p := f.srv.profiles[0]
	p.cur.Load().creds.LeaseID = "aws/creds/assume/1"
	p.Check = func(context.Context, *process.Credentials) error { return process.ErrRevoked }
	if d := p.dueIn(t0); d != 45*time.Minute {
		t.Errorf("STS credentials next looked at in %s, want only their refresh in 45m", d)
	}
}

// After a refresh that the cache answered (the credentials are still fresh
// by its rule), the refresher is not due again at once: the server judges
// freshness by the same exact times as the cache. Judged on the expiry
// rounded to the second, it wanted a refresh the cache did not yet see due,
// and asked again in a tight loop (TestServeExecRefresh saw 5,818 runs in
// 41 s).
func TestNoRefreshLoopAtTheWindow(t *testing.T) {
	exp := t0.Add(40*time.Second + 700*time.Millisecond)
	creds := &process.Credentials{AccessKeyID: "AKIAWINDOW", SecretAccessKey: secretKey, IssuedAt: t0, Expiration: exp, LeaseID: "aws/creds/x/1"}
	pol := cache.Policy{RefreshWindow: 15 * time.Minute, MinRemaining: 5 * time.Minute}
	var mu sync.Mutex
	clock := t0
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	fetches := 0
	fetch := func(context.Context, bool) (*process.Credentials, process.CredentialSource, error) {
		fetches++
		c := *creds
		if pol.Fresh(&cache.Entry{IssuedAt: c.IssuedAt, Expiration: c.Expiration}, now()) {
			return &c, process.SourceCache, nil // what the Runner does: a cache hit
		}
		c.AccessKeyID = "AKIANEW"
		return &c, process.SourceVault, nil
	}
	s, err := New(Options{Profiles: []Profile{{Name: "dev", Fetch: fetch, Policy: pol}}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := s.profiles[0]
	mu.Lock()
	clock = t0.Add(20200 * time.Millisecond) // fresh to the cache (20.5 s left > 20.35 s window)
	mu.Unlock()
	if d := p.dueIn(now()); d <= 0 {
		t.Fatalf("due in %s while the cache still calls the credentials fresh", d)
	}
}

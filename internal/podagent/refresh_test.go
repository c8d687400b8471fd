package podagent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The background refresh: credentials due are refreshed while requests
// are served the ones in memory, one refresh per identity, a few at once,
// none for idle identities, and spaced after a failure.

// TestRequestDoesNotWaitForRefresh: a request that finds its credentials
// due is answered at once with those in memory while the mint it started
// is still held at Vault; the next request after the mint gets the new
// ones, and further requests meanwhile start no second mint.
func TestRequestDoesNotWaitForRefresh(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig)
	j := jwtFor("team-a", "app", c.now().Add(3*time.Hour), 1)
	v.valid[j] = "entity-a"
	first, err := a.Credentials(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	v.mintGate, v.mintingChanged = make(chan struct{}), make(chan int, 10)
	c.add(31 * time.Minute)
	for i := range 5 {
		got, err := a.Credentials(context.Background(), j) // would hang on mintGate if it waited
		if err != nil || got.AccessKeyID != first.AccessKeyID {
			t.Fatalf("request %d while the refresh is held: %v, %v; want the first credentials at once", i, got, err)
		}
	}
	<-v.mintingChanged // the background mint has reached Vault
	a.refreshDue()     // and the tick finds it under way: no second one
	v.mintGate <- struct{}{}
	a.background.Wait()
	got, err := a.Credentials(context.Background(), j)
	if err != nil || got.AccessKeyID == first.AccessKeyID {
		t.Errorf("after the refresh: %v, %v; want new credentials", got, err)
	}
	if _, mints := v.counts(); mints != 2 {
		t.Errorf("%d mints, want 2 (one refresh)", mints)
	}
}

// TestRefreshDueSkipsIdle: the tick refreshes an identity in use whose
// credentials are due, not one idle (asked for last longer than
// idle_timeout ago), nor one whose credentials are fresh.
func TestRefreshDueSkipsIdle(t *testing.T) {
	a, v, c := newTestAgent(t, testConfig) // idle_timeout 10m
	inUse, idle := jwtFor("ns", "in-use", c.now().Add(3*time.Hour), 1), jwtFor("ns", "idle", c.now().Add(3*time.Hour), 2)
	v.valid[inUse], v.valid[idle] = "entity-1", "entity-2"
	for _, j := range []string{inUse, idle} {
		if _, err := a.Credentials(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	c.add(25 * time.Minute)
	if _, err := a.Credentials(context.Background(), inUse); err != nil { // fresh: served, nothing started
		t.Fatal(err)
	}
	c.add(6 * time.Minute) // both due; the second idle for 31 minutes
	a.refreshDue()
	a.background.Wait()
	if _, mints := v.counts(); mints != 3 {
		t.Errorf("%d mints, want 3: one refresh, of the identity in use only", mints)
	}
	a.refreshDue() // the one in use is fresh again
	a.background.Wait()
	if _, mints := v.counts(); mints != 3 {
		t.Errorf("a tick with nothing due: %d mints, want 3", mints)
	}
}

// TestRefreshDueBounded: identities falling due together (minted together
// at the agent's start) are all refreshed, at most maxRefreshes at once.
func TestRefreshDueBounded(t *testing.T) {
	a, v, c := newTestAgent(t, strings.Replace(testConfig, `idle_timeout = "10m"`, `idle_timeout = "2h"`, 1))
	const n = 9
	for i := range n {
		j := jwtFor("ns", fmt.Sprint("sa", i), c.now().Add(3*time.Hour), i)
		v.valid[j] = fmt.Sprint("entity-", i)
		if _, err := a.Credentials(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	v.mintGate, v.mintingChanged = make(chan struct{}), make(chan int, n)
	c.add(31 * time.Minute)
	a.refreshDue()
	for range maxRefreshes {
		<-v.mintingChanged // maxRefreshes mints are held at Vault at once
	}
	for range n {
		v.mintGate <- struct{}{}
	}
	a.background.Wait()
	if _, mints := v.counts(); mints != 2*n {
		t.Errorf("%d mints, want %d: one refresh of each identity", mints, 2*n)
	}
	if v.peak != maxRefreshes {
		t.Errorf("%d mints at once, want %d", v.peak, maxRefreshes)
	}
}

// TestRefreshBackoff: after a failed refresh, neither the tick nor a
// request asks Vault again before the backoff has passed; credentials
// still usable are served meanwhile, and once they are not, the request
// gets the failure.
func TestRefreshBackoff(t *testing.T) {
	a, v, c := newTestAgent(t, strings.Replace(testConfig, `idle_timeout = "10m"`, `idle_timeout = "2h"`, 1))
	j := jwtFor("team-a", "app", c.now().Add(3*time.Hour), 1)
	v.valid[j] = "entity-a"
	first, err := a.Credentials(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("connection refused")
	v.mintErr = down
	mints := func() int { _, m := v.counts(); return m }
	c.add(31 * time.Minute)
	a.refreshDue()
	a.background.Wait()
	if mints() != 2 {
		t.Fatalf("%d mints, want 2 (the failed refresh)", mints())
	}
	for range 3 {
		a.refreshDue()
		a.background.Wait()
		if got, err := a.Credentials(context.Background(), j); err != nil || got.AccessKeyID != first.AccessKeyID {
			t.Errorf("while the refresh fails: %v, %v; want the first credentials", got, err)
		}
	}
	a.background.Wait()
	if mints() != 2 {
		t.Errorf("%d mints within the backoff, want 2", mints())
	}
	c.add(firstBackoff)
	a.refreshDue()
	a.background.Wait()
	if mints() != 3 {
		t.Errorf("%d mints after the backoff, want 3", mints())
	}
	// Past the floor (a minute left of 60): nothing to serve; the request
	// tries once, then gets the failure without asking until the backoff.
	c.add(28 * time.Minute)
	if _, err := a.Credentials(context.Background(), j); !errors.Is(err, down) {
		t.Errorf("nothing usable: err = %v, want %v", err, down)
	}
	before := mints()
	if _, err := a.Credentials(context.Background(), j); !errors.Is(err, down) {
		t.Errorf("again at once: err = %v, want %v", err, down)
	}
	if mints() != before {
		t.Errorf("a request within the backoff asked Vault (%d mints)", mints()-before)
	}
	v.mintErr = nil
	c.add(maxBackoff)
	if got, err := a.Credentials(context.Background(), j); err != nil || got.AccessKeyID == first.AccessKeyID {
		t.Errorf("Vault back, backoff passed: %v, %v; want new credentials", got, err)
	}
}

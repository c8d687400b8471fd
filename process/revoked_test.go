package process

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func (f *fakeSource) Revoked(context.Context, *Credentials) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revoked, f.revokedErr
}

// A refresh that Vault refuses (403) because the token that minted the
// cached lease is gone removes the entry, so no later run hands out the dead
// keys, and says why; a 403 for a lease Vault still holds (a policy that
// does not allow the path) keeps it.
func TestRunnerDropsRevokedEntry(t *testing.T) {
	tests := []struct {
		name        string
		revoked     bool
		wantRevoked bool
		wantKept    bool
	}{
		{"lease gone", true, true, false},
		{"lease still held", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{fakeSpec: fakeSpec{fetchErr: errForbidden, renewErr: errForbidden, revoked: tt.revoked}}
			fx := newRunner(t, nil, src)
			fx.seed(t, renewable(entry(-50*time.Minute, 10*time.Minute))) // due
			_, _, err := fx.r.Credentials(context.Background())
			if err == nil {
				t.Fatal("Credentials succeeded, want the 403")
			}
			if got := errors.Is(err, ErrRevoked); got != tt.wantRevoked {
				t.Errorf("errors.Is(err, ErrRevoked) = %v, want %v (%v)", got, tt.wantRevoked, err)
			}
			if kept := fx.saved(t) != nil; kept != tt.wantKept {
				t.Errorf("entry kept = %v, want %v", kept, tt.wantKept)
			}
			var pe *Error
			if tt.wantRevoked && (!errors.As(err, &pe) || !strings.Contains(pe.Hint, "cache entry was removed")) {
				t.Errorf("error %v lacks the hint that says what happened", err)
			}
		})
	}
}

// Runner.Check, the server's look-up between refreshes, removes the cache
// entry holding the revoked keys, but not one that holds other keys (a
// newer mint by another process).
func TestRunnerCheck(t *testing.T) {
	for _, sameKeys := range []bool{true, false} {
		src := &fakeSource{fakeSpec: fakeSpec{revoked: true}}
		fx := newRunner(t, nil, src)
		fx.seed(t, renewable(entry(-10*time.Minute, 50*time.Minute)))
		c := fromEntry(fx.saved(t))
		if !sameKeys {
			c.AccessKeyID = "AKIAOTHEREXAMPLE"
		}
		if err := fx.r.Check(context.Background(), c); !errors.Is(err, ErrRevoked) {
			t.Errorf("Check = %v, want ErrRevoked", err)
		}
		if kept := fx.saved(t) != nil; kept == sameKeys {
			t.Errorf("same keys %v: entry kept = %v", sameKeys, kept)
		}
	}
}

// A renewal's times carry no monotonic reading: the server compares them
// with the wall clock after a laptop slept (see cache.Now).
func TestRunnerRenewalTimesAreWallClock(t *testing.T) {
	src := &fakeSource{fakeSpec: fakeSpec{renewExp: time.Now().Add(time.Hour)}}
	fx := newRunner(t, nil, src)
	fx.r.Now = time.Now // with a monotonic reading, as the clock of a careless caller
	start := time.Now().Round(0)
	e := renewable(entry(0, 0))
	e.IssuedAt, e.Expiration = start.Add(-55*time.Minute), start.Add(5*time.Minute)
	fx.seed(t, e)
	c, got, err := fx.r.Credentials(context.Background())
	if err != nil || got != SourceRenewal {
		t.Fatalf("Credentials: %q, %v; want a renewal", got, err)
	}
	for what, tm := range map[string]time.Time{"IssuedAt": c.IssuedAt, "Expiration": c.Expiration} {
		if tm != tm.Round(0) {
			t.Errorf("%s %v carries a monotonic reading", what, tm)
		}
	}
}

// STS credentials are not revocable: a 403 on their refresh keeps the entry
// (AWS still honours them until they expire) and asks Vault nothing more.
func TestRunnerKeepsSTSEntryOn403(t *testing.T) {
	src := &fakeSource{fakeSpec: fakeSpec{fetchErr: errForbidden, revoked: true}}
	fx := newRunner(t, nil, src)
	e := entry(-50*time.Minute, 10*time.Minute)
	e.LeaseID, e.SessionToken = "aws/creds/assume/1", "sts-session-token"
	fx.seed(t, e)
	if _, _, err := fx.r.Credentials(context.Background()); err == nil || errors.Is(err, ErrRevoked) {
		t.Errorf("Credentials: %v, want the 403 and not ErrRevoked", err)
	}
	if fx.saved(t) == nil {
		t.Error("the STS entry was removed")
	}
}

package podagent

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// What tokens Vault refuses may cost: each is one Vault login, so a pod
// retrying with a token for the wrong audience, or anyone sending forged
// tokens, would otherwise make Vault work as fast as they send.
const (
	// refusedTTL is how long a token Vault refused is refused again without
	// asking Vault: long enough that a client retrying at once costs no
	// login, short enough that a fix on Vault's side (a role's binding, an
	// issuer's new key) is seen within it.
	refusedTTL = 30 * time.Second
	// maxRefused bounds the tokens remembered as refused (a digest and a
	// time each); past it the oldest is forgotten.
	maxRefused = 4096
	// failedLoginRate and failedLoginBurst bound the logins Vault refuses:
	// failedLoginBurst at once, then failedLoginRate a second on average.
	// Past that a new token gets 429 without a login, until the budget has
	// grown back; tokens already verified are served as before.
	failedLoginRate  = 5
	failedLoginBurst = 20
)

// errLoginsThrottled is a new token not tried at Vault, because too many
// tokens were refused lately.
var errLoginsThrottled = errors.New("too many service account tokens were refused by Vault lately: new tokens are not tried for a moment")

// throttledError is errLoginsThrottled with when to try again.
type throttledError struct{ retryAfter time.Duration }

func (e *throttledError) Error() string {
	return fmt.Sprintf("%v (retry in %s)", errLoginsThrottled, e.retryAfter)
}

func (e *throttledError) Unwrap() error { return errLoginsThrottled }

// refusedTokens remembers, by digest, the tokens Vault refused, each for
// refusedTTL, and keeps the budget of refused logins.
type refusedTokens struct {
	mu    sync.Mutex
	until map[[sha256.Size]byte]refusal
	order [][sha256.Size]byte // oldest first: every entry lives refusedTTL
	// budget is how many refused logins may come now; it grows by
	// failedLoginRate a second up to failedLoginBurst, and may go below
	// zero when logins under way at once are refused together, which
	// the time it takes to grow back pays for.
	budget float64
	at     time.Time // when budget was last brought up to date
}

// refusal is a remembered refusal: Vault's error, and until when.
type refusal struct {
	err   error
	until time.Time
}

func newRefusedTokens() *refusedTokens {
	return &refusedTokens{until: map[[sha256.Size]byte]refusal{}, budget: failedLoginBurst}
}

// check says whether the token h may be tried at Vault now: nil if so,
// else the remembered refusal or a *throttledError.
func (r *refusedTokens) check(h [sha256.Size]byte, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(now)
	// A token refused again while remembered (two logins of it at once)
	// keeps its first place in order, so one past its time may still be
	// in the map: it is no longer a refusal.
	if f, ok := r.until[h]; ok && now.Before(f.until) {
		return fmt.Errorf("%w (remembered: this token is not tried again at Vault before %s)", f.err, f.until.UTC().Format(time.RFC3339))
	}
	r.grow(now)
	if r.budget < 1 {
		wait := time.Duration(math.Ceil((1-r.budget)/failedLoginRate)) * time.Second
		return &throttledError{retryAfter: wait}
	}
	return nil
}

// refused records that Vault refused the token h with err: remembered,
// and paid for from the budget of refused logins.
func (r *refusedTokens) refused(h [sha256.Size]byte, err error, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.grow(now)
	r.budget--
	r.rememberLocked(h, err, now)
}

// remember records that the token h was refused with err by the agent
// itself (max_identities), after a login Vault granted: remembered like a
// refusal of Vault's, so that a retry costs no login, but not paid for
// from the budget, which bounds the logins Vault refuses.
func (r *refusedTokens) remember(h [sha256.Size]byte, err error, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rememberLocked(h, err, now)
}

func (r *refusedTokens) rememberLocked(h [sha256.Size]byte, err error, now time.Time) {
	if _, ok := r.until[h]; !ok {
		r.order = append(r.order, h)
	}
	r.until[h] = refusal{err: err, until: now.Add(refusedTTL)}
	for len(r.order) > maxRefused {
		delete(r.until, r.order[0])
		r.order = r.order[1:]
	}
}

// expire forgets the refusals that have run out.
func (r *refusedTokens) expire(now time.Time) {
	for len(r.order) > 0 {
		f, ok := r.until[r.order[0]]
		if ok && now.Before(f.until) {
			return
		}
		delete(r.until, r.order[0])
		r.order = r.order[1:]
	}
	r.order = nil // let go of the array a burst grew
}

// grow brings the budget up to date; a clock set back adds nothing.
func (r *refusedTokens) grow(now time.Time) {
	if d := now.Sub(r.at); d > 0 {
		r.budget = min(r.budget+d.Seconds()*failedLoginRate, failedLoginBurst)
	}
	r.at = now
}

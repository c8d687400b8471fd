package podagent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/server"
)

// Bounds of what the agent keeps.
const (
	// tokensPerIdentity bounds the tokens remembered as verified for one
	// identity (its pods' replicas, and the kubelet's rotations): the
	// oldest is forgotten first, and costs one login when it comes back.
	tokensPerIdentity = 16
	// loginMargin: a login token this close to its end is not used for a
	// mint; the agent logs in again with the identity's newest JWT.
	loginMargin = 2 * time.Minute
	// vaultTimeout bounds one login or mint.
	vaultTimeout = 30 * time.Second
)

// Errors a request can end with, beyond Vault's.
var (
	ErrNoToken           = errors.New("no authorization token: send the pod's projected service account token")
	ErrExpired           = errors.New("the service account token has expired")
	ErrTooLarge          = errors.New("the authorization token is too large to be a service account token")
	ErrNoRule            = errors.New("no rule of the agent's configuration matches this pod's namespace and service account")
	ErrTooManyIdentities = errors.New("the agent holds as many identities as max_identities allows")
)

// Agent keeps, per identity, a Vault login and the AWS credentials minted
// with it. Make one with New.
type Agent struct {
	cfg   *Config
	vault Vault
	now   func() time.Time
	logf  func(format string, args ...any)
	// refusals bounds the log lines a client without a valid token can
	// cause: a few a second, the rest counted into a summary each minute.
	refusals server.RefusalLog
	// refused bounds the Vault logins tokens Vault refuses can cause.
	refused *refusedTokens
	// conns bounds the open connections of every listener together, as
	// serve's are.
	conns *server.ConnLimit
	// refreshSlots bounds the background refreshes running at once;
	// background counts those started (tests wait for them).
	refreshSlots chan struct{}
	background   sync.WaitGroup
	health       *health

	mu     sync.Mutex
	tokens map[[sha256.Size]byte]*tokenEntry // tokens Vault accepted, or being tried
	ids    map[string]*identity
}

// tokenEntry is one JWT: while done is open its login is under way (every
// request with the same JWT waits for it); then id is whom Vault said it
// is, or err why it refused.
type tokenEntry struct {
	done   chan struct{}
	id     *identity
	err    error
	expiry time.Time // the JWT's exp, which Vault checked
}

// identity is one Vault identity: its newest verified JWT, its login and
// its credentials. sem (one slot) makes one login or mint at a time.
type identity struct {
	key  string
	rule *Rule
	sem  chan struct{}

	// creds are written under sem, and read without waiting for it: a
	// request is not held up by a refresh under way.
	creds atomic.Pointer[Credentials]
	// refreshing is set while a background refresh is queued or running.
	refreshing atomic.Bool

	// Guarded by sem.
	jwt       string
	jwtExpiry time.Time
	login     *Login
	failures  int       // refreshes failed in a row
	lastErr   error     // of the last refresh, nil after a success
	lastErrAt time.Time // when it failed

	// Guarded by Agent.mu.
	lastUsed time.Time
	retryAt  time.Time // after a failed refresh, none before this
	hashes   [][sha256.Size]byte
}

// New makes an agent; logf receives lines for the log, never a secret.
func New(cfg *Config, v Vault, now func() time.Time, logf func(string, ...any)) *Agent {
	if now == nil {
		now = time.Now
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	a := &Agent{cfg: cfg, vault: v, now: now, logf: logf, refused: newRefusedTokens(),
		conns: server.NewConnLimit(server.MaxConns), refreshSlots: make(chan struct{}, maxRefreshes),
		tokens: map[[sha256.Size]byte]*tokenEntry{}, ids: map[string]*identity{}}
	a.health = &health{a: a}
	return a
}

// Credentials returns the AWS credentials of the identity whose JWT this
// is: from memory when that JWT was verified before and the credentials
// are fresh, else after one login (per JWT) and one mint (per identity),
// which concurrent requests share.
func (a *Agent) Credentials(ctx context.Context, jwt string) (*Credentials, error) {
	switch {
	case jwt == "":
		return nil, ErrNoToken
	case len(jwt) > maxTokenBytes:
		return nil, ErrTooLarge
	}
	c, err := parseClaims(jwt)
	if err != nil {
		return nil, err
	}
	// Refused here without asking Vault; an exp in the future proves
	// nothing until Vault has verified the signature.
	if exp := c.expiry(); !exp.IsZero() && !a.now().Before(exp) {
		return nil, ErrExpired
	}
	id, err := a.identify(ctx, jwt, c)
	if err != nil {
		return nil, err
	}
	return id.credentials(ctx, a)
}

// identify returns the identity Vault verified this JWT to be, logging in
// with it when it is new; one login per JWT however many ask at once.
func (a *Agent) identify(ctx context.Context, jwt string, c *claims) (*identity, error) {
	h := sha256.Sum256([]byte(jwt))
	for {
		a.mu.Lock()
		e, ok := a.tokens[h]
		if !ok {
			e = &tokenEntry{done: make(chan struct{}), expiry: c.expiry()}
			a.tokens[h] = e
			a.mu.Unlock()
			a.verify(ctx, h, e, jwt, c)
		} else {
			a.mu.Unlock()
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			return nil, e.err
		}
		a.mu.Lock()
		live := a.ids[e.id.key] == e.id
		if live {
			e.id.lastUsed = a.now()
		}
		a.mu.Unlock()
		if live {
			return e.id, nil
		}
		// The identity was dropped as idle after the JWT was verified:
		// verify again, as a new identity.
		a.forget(h, e)
	}
}

// verify logs in with jwt and settles e: the identity it proved, or the
// error. A failed entry is forgotten at once, so that a retry asks Vault
// again (a Vault outage is not remembered as a refusal).
func (a *Agent) verify(ctx context.Context, h [sha256.Size]byte, e *tokenEntry, jwt string, c *claims) {
	defer close(e.done)
	ns, sa := c.pod()
	rule := a.cfg.Match(ns, sa)
	if rule == nil {
		e.err = fmt.Errorf("%w (namespace %q, service account %q)", ErrNoRule, ns, sa)
		a.forget(h, e)
		return
	}
	// A token Vault refused lately, or any new token while too many were
	// refused, is answered without a login.
	if e.err = a.refused.check(h, a.now()); e.err != nil {
		a.forget(h, e)
		return
	}
	// The login is the request's, but it serves every request with this
	// JWT: it is not cut short by the first caller leaving.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), vaultTimeout)
	defer cancel()
	login, err := a.vault.Login(lctx, a.cfg.AuthMount, rule.AuthRole, jwt)
	if err != nil {
		if re := (*RefusedError)(nil); errors.As(err, &re) && re.Login {
			a.refused.refused(h, err, a.now())
		}
		e.err = err
		a.forget(h, e)
		return
	}
	// From here the claims are Vault-verified: the signature checked out.
	key := identityKey(a.cfg, rule, login, c)
	e.id, e.err = a.attach(h, key, rule, login, jwt, c.expiry())
	if errors.Is(e.err, ErrTooManyIdentities) {
		// Each retry would cost a login and its revocation.
		a.refused.remember(h, e.err, a.now())
	}
	if e.err != nil {
		a.forget(h, e)
	}
}

// identityKey names an identity: the auth role and AWS role chosen, and
// who Vault says logged in (its entity), or where it keeps no entity the
// verified iss, sub and aud.
func identityKey(cfg *Config, r *Rule, l *Login, c *claims) string {
	who := "entity=" + l.EntityID
	if l.EntityID == "" {
		who = fmt.Sprintf("iss=%q sub=%q aud=%q", c.Issuer, c.Subject, []string(c.Audience))
	}
	return fmt.Sprintf("%s/%s %s/%s %s", cfg.AuthMount, r.AuthRole, cfg.AWSMount, r.AWSRole, who)
}

// attach makes h a token of the identity key, creating it (bounded by
// max_identities) or joining it; the login not kept is revoked.
func (a *Agent) attach(h [sha256.Size]byte, key string, rule *Rule, login *Login, jwt string, exp time.Time) (*identity, error) {
	a.mu.Lock()
	id, ok := a.ids[key]
	if !ok && len(a.ids) >= a.cfg.MaxIdentities {
		for _, d := range a.sweepLocked(a.now()) {
			go d.drop(a)
		}
	}
	if !ok && len(a.ids) >= a.cfg.MaxIdentities {
		a.mu.Unlock()
		a.revoke(login.Token)
		return nil, fmt.Errorf("%w (%d): this identity is refused until others go idle (idle_timeout %s)",
			ErrTooManyIdentities, a.cfg.MaxIdentities, a.cfg.IdleTimeout.Duration)
	}
	if !ok {
		id = &identity{key: key, rule: rule, sem: make(chan struct{}, 1), jwt: jwt, jwtExpiry: exp, login: login}
		a.ids[key] = id
		a.logf("identity added: %s (%d in memory)", key, len(a.ids))
		login = nil
	}
	id.lastUsed = a.now()
	id.hashes = append(id.hashes, h)
	if len(id.hashes) > tokensPerIdentity {
		delete(a.tokens, id.hashes[0])
		id.hashes = id.hashes[1:]
	}
	a.mu.Unlock()
	if login != nil {
		id.offer(a, jwt, exp, login)
	}
	return id, nil
}

// offer gives a known identity a newer JWT and the login made to verify
// it. The identity keeps its login while that has time left, and the
// newcomer, used for nothing, is revoked; a login that is at its end is
// replaced, but not revoked: its credentials may still be in use, and
// revoking it would revoke their lease (iam_user keys).
func (id *identity) offer(a *Agent, jwt string, exp time.Time, login *Login) {
	id.sem <- struct{}{}
	if exp.After(id.jwtExpiry) {
		id.jwt, id.jwtExpiry = jwt, exp
	}
	replace := id.login == nil || !a.now().Before(id.login.Expiry.Add(-loginMargin))
	if replace {
		id.login = login
	}
	// What failed before (an expired JWT, a login Vault revoked) may work
	// now: the next request or refresh tries at once.
	id.failures, id.lastErr = 0, nil
	a.mu.Lock()
	id.retryAt = time.Time{}
	a.mu.Unlock()
	<-id.sem
	if !replace {
		a.revoke(login.Token)
	}
}

// forget removes e from the tokens, if it is still h's entry.
func (a *Agent) forget(h [sha256.Size]byte, e *tokenEntry) {
	a.mu.Lock()
	if a.tokens[h] == e {
		delete(a.tokens, h)
	}
	a.mu.Unlock()
}

// revoke revokes a login token, best effort: it would expire anyway.
func (a *Agent) revoke(token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.vault.Revoke(ctx, token); err != nil {
		a.logf("revoke a login no longer needed: %v", err)
	}
}

package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Logging in with an auth method (approle, kubernetes, jwt, userpass, ldap,
// cert, oidc) instead of using a token the user already has.
//
// The login token is kept in the cache folder, beside the credentials, so
// that a login happens about once per token lifetime rather than once per
// run. Rule, with TTL the token's lease duration at login:
//
//   - a stored token is used as it is while more than half its TTL, and
//     more than twice --timeout, remain;
//   - below that it is renewed (auth/token/renew-self) when renewable, and
//     kept if the renewal brings it back above that mark;
//   - otherwise (not renewable, renewal refused, or stopped short by the
//     token's max TTL) the helper logs in again.
//
// Half the TTL, rather than a thin safety margin: Vault revokes the leases a
// token created when the token goes, so an iam_user credential lives no
// longer than the login token that minted it. Renewing at half-life keeps
// the token ahead of the credentials it mints; the credentials' expiry is
// capped at the token's in any case (see capToToken in lease.go).
//
// All of it happens only when the credentials cache misses: a cache hit
// never builds a client, takes a lock or sends a secret. (It does read the
// JWT or certificate of jwt, kubernetes and cert logins, for the cache key:
// see process/identity.go.) The methods themselves are in loginmethods.go.

// loginVersion is the format of login token files.
const loginVersion = 1

// loginEntry is a stored login token. Everything but Token is there for the
// reuse rule and for people reading the folder.
type loginEntry struct {
	Version int    `json:"version"`
	Token   string `json:"token"`
	// Accessor names the token in the credentials entries it mints.
	Accessor string `json:"accessor,omitempty"`
	// LoginAt is when the login that created the token was sent: leases
	// issued before it belong to an earlier token.
	LoginAt    time.Time `json:"login_at"`
	TTL        int64     `json:"ttl_seconds"`         // lease duration at login; 0: never expires
	Expiration time.Time `json:"expiration,omitzero"` // zero when TTL is 0
	Renewable  bool      `json:"renewable"`
	RenewedAt  time.Time `json:"renewed_at,omitzero"`
	Method     string    `json:"method"`
	Mount      string    `json:"mount"`
	Identity   []string  `json:"identity,omitempty"`
	// EntityID is the Vault entity the login proved: for oidc, who signed
	// in at the browser, known only after the login (so not in the key).
	EntityID  string `json:"entity_id,omitempty"`
	Address   string `json:"vault_address"`
	Namespace string `json:"vault_namespace,omitempty"`
}

func (e *loginEntry) ttl() time.Duration { return time.Duration(e.TTL) * time.Second }

// login logs in to Vault, or reuses a stored login token, once per run.
type login struct {
	s      *config.Settings
	auth   config.Auth
	client *api.Client
	now    func() time.Time
	debugf func(string, ...any)
	// openTTY opens the terminal for a password prompt or to show the
	// browser login's URL.
	openTTY func() (*os.File, error)
	// unattended says nobody is at the terminal or the browser (a
	// server's background refresh): a browser login is refused.
	unattended func() bool
	getenv     func(string) string // reads the *_env keys' variables
	stderr     io.Writer           // the browser login's messages without a terminal
	oidc       OIDC

	done bool
	err  error
	// reused: the token in use came from the store, so a 403 may mean it
	// was revoked since.
	reused   bool
	token    string
	accessor string    // "" for a token stored by an older version
	expires  time.Time // zero: the token never expires
}

func (l *login) ensure(ctx context.Context) error {
	if !l.done {
		l.done, l.err = true, l.obtain(ctx, "")
	}
	return l.err
}

// obtain sets the client's token: a stored one that is comfortable, else a
// renewed one, else a new login. A stored token equal to bad is not used.
// Processes share the token file under its lock, so parallel runs log in
// once.
func (l *login) obtain(ctx context.Context, bad string) error {
	desc := l.auth.Describe()
	if l.s.CacheDisabled {
		l.debugf("auth %s: logging in (cache disabled: the login token is not kept)", desc)
		return l.loginUnkept(ctx)
	}
	store, err := cache.Open(l.s.CacheDir)
	if errors.Is(err, cache.ErrUnsafe) {
		return process.CacheError(err)
	}
	if err != nil {
		// The folder cannot be created (a read-only root file system in a
		// pod, say): as with the credentials, log in all the same and keep
		// nothing. The run warns once that it could not cache.
		l.debugf("auth %s: logging in without keeping the login token: %v", desc, err)
		return l.loginUnkept(ctx)
	}
	name, err := l.fileName()
	if err != nil {
		return err
	}
	usable := func(e *loginEntry) bool { return e != nil && e.Token != bad && l.comfortable(e, l.now()) }

	e, err := l.load(store, name)
	if err != nil {
		return err
	}
	if usable(e) {
		l.use(e, true, "login token reused")
		return nil
	}
	// Only one process renews or logs in; the others wait here and then
	// find the token comfortable.
	unlock, err := l.lock(ctx, store, name)
	if err != nil {
		return err
	}
	defer unlock()
	if e, err = l.load(store, name); err != nil {
		return err
	}
	if usable(e) {
		l.use(e, true, "login token reused (another process had just logged in)")
		return nil
	}
	if e != nil && e.Token != bad && e.Renewable && (e.Expiration.IsZero() || e.Expiration.After(l.now())) {
		if done, err := l.renewStored(ctx, store, name, e); done || err != nil {
			return err
		}
	}
	if e, err = l.login(ctx); err != nil {
		return err
	}
	l.save(store, name, e)
	l.use(e, false, "logged in")
	return nil
}

// loginUnkept logs in without keeping the token: --no-cache, or a cache
// folder that cannot be had.
func (l *login) loginUnkept(ctx context.Context) error {
	e, err := l.login(ctx)
	if err != nil {
		return err
	}
	l.use(e, false, "logged in")
	return nil
}

// lock takes the lock of the token file name, within ctx. Without a lock
// file (a read-only folder) the run logs in all the same, as the
// credentials are fetched all the same, and the token is not kept.
func (l *login) lock(ctx context.Context, store *cache.Store, name string) (unlock func(), err error) {
	unlock, err = store.Lock(ctx, LoginLockKey(name))
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return nil, &process.Error{Code: process.ExitFailure, Err: err,
			Msg:  fmt.Sprintf("wait for the login lock in %s: another vault-credential-process held it until --timeout", store.Dir()),
			Hint: "a process may be stuck logging in to Vault (or waiting at a password prompt or for a browser login): check it, or raise --timeout"}
	case errors.Is(err, cache.ErrUnsafe):
		return nil, process.CacheError(err)
	case err != nil:
		l.debugf("%v; logging in without the login lock", err)
		return func() {}, nil
	}
	return unlock, nil
}

// renewStored renews the stored token e and uses it if that brings it back
// to comfortable; done is false when the caller should log in instead.
func (l *login) renewStored(ctx context.Context, store *cache.Store, name string, e *loginEntry) (done bool, err error) {
	desc := l.auth.Describe()
	renewed, err := l.renew(ctx, e)
	switch {
	case err != nil && Unavailable(err):
		return true, vaultError(err, "renew the login token ("+desc+")", "auth/token/renew-self", l.s.DisplayAddress(), ctx.Err() != nil)
	case err != nil:
		l.debugf("auth %s: login token renewal refused (%s); logging in again", desc, Outcome(err))
	case l.comfortable(renewed, l.now()):
		l.save(store, name, renewed)
		l.use(renewed, true, "login token renewed")
		return true, nil
	default:
		l.debugf("auth %s: login token renewed only until %s (its max TTL); logging in again", desc, renewed.Expiration.UTC().Format(time.RFC3339))
	}
	return false, nil
}

// comfortable is the reuse rule: more than half the TTL and more than twice
// the timeout left. A token that never expires always is.
func (l *login) comfortable(e *loginEntry, now time.Time) bool {
	if e.Expiration.IsZero() {
		return true
	}
	left := e.Expiration.Sub(now)
	return left > 2*l.s.Timeout && left > e.ttl()/2
}

func (l *login) use(e *loginEntry, reused bool, how string) {
	l.client.SetToken(e.Token)
	l.token, l.accessor, l.expires, l.reused = e.Token, e.Accessor, e.Expiration, reused
	life := "the token does not expire"
	if !e.Expiration.IsZero() {
		life = "the token expires " + process.UntilText(e.Expiration, l.now())
	}
	l.debugf("auth %s: %s, %s", l.auth.Describe(), how, life)
}

// fileName names the token file after everything that makes a different
// login: Vault address and namespace, method, mount and identity, including
// who a JWT or certificate proves.
func (l *login) fileName() (string, error) {
	proof, err := process.ProofIdentity(&l.auth, l.getenv)
	if err != nil {
		return "", err
	}
	parts := append([]string{"vault-credential-process/login/1", process.NormalizeAddress(l.s.Address),
		l.s.Namespace, l.auth.Method, l.auth.Mount}, l.auth.Identity()...)
	return LoginTokenPrefix + cache.Key(append(parts, proof...)...) + ".token", nil
}

// LoginLockKey is the cache lock that guards the login token file name:
// whoever replaces or removes the file holds it.
func LoginLockKey(name string) string { return strings.TrimSuffix(name, ".token") }

// LoginTokenPrefix starts the name of every login token file in the cache
// folder (`cache clear --all` removes them).
const LoginTokenPrefix = "login-"

// load reads the stored token; anything unreadable is no token.
func (l *login) load(store *cache.Store, name string) (*loginEntry, error) {
	data, err := store.LoadBlob(name)
	if err != nil {
		return nil, process.CacheError(err)
	}
	if data == nil {
		return nil, nil
	}
	var e loginEntry
	if json.Unmarshal(data, &e) != nil || e.Version != loginVersion || e.Token == "" || e.LoginAt.IsZero() ||
		(e.TTL > 0) == e.Expiration.IsZero() {
		return nil, nil
	}
	return &e, nil
}

// save stores the token. A failure costs the next run a login, nothing
// more, so it is only reported with --debug.
func (l *login) save(store *cache.Store, name string, e *loginEntry) {
	e.Version = loginVersion
	data, err := json.Marshal(e)
	if err == nil {
		err = store.SaveBlob(name, data)
	}
	if err != nil {
		l.debugf("could not keep the login token: %v", err)
	}
}

// renew renews the stored token with itself and returns the entry with its
// new expiry; the reference TTL stays the login's.
func (l *login) renew(ctx context.Context, e *loginEntry) (*loginEntry, error) {
	l.client.SetToken(e.Token)
	sent := l.now()
	secret, err := l.client.Auth().Token().RenewSelfWithContext(ctx, 0)
	l.debugf("PUT auth/token/renew-self: %s in %s", Outcome(err), l.now().Sub(sent).Round(time.Millisecond))
	l.client.ClearToken()
	if err != nil {
		return nil, err
	}
	if secret == nil || secret.Auth == nil {
		return nil, errors.New("the answer has no auth section")
	}
	r := *e
	r.Renewable, r.RenewedAt = secret.Auth.Renewable, sent.UTC()
	r.Expiration = time.Time{}
	if secret.Auth.LeaseDuration > 0 {
		r.Expiration = sent.Add(time.Duration(secret.Auth.LeaseDuration) * time.Second).UTC()
	} else if e.TTL > 0 {
		return nil, errors.New("the answer has no lease duration")
	}
	return &r, nil
}

// Vault's Login MFA: with an enforcement on the auth mount, a login answers
// with an mfa_requirement (a request id and, per constraint, the methods
// that satisfy it) instead of a token, and sys/mfa/validate with a payload
// per method completes it. A passcode method (TOTP) takes the code from the
// auth table's mfa_command, else from the terminal; a push method (Duo,
// Okta, PingID) takes none, and Vault answers once the person approved it,
// within the run's deadline. The login lock is held throughout, so parallel
// runs ask once.

// mfaRequirement is the Login MFA requirement of a login's answer, if any.
func mfaRequirement(s *api.Secret) *api.MFARequirement {
	if s == nil || s.Auth == nil || s.Auth.ClientToken != "" {
		return nil
	}
	return s.Auth.MFARequirement
}

// loginMFA completes a login Vault's Login MFA holds back.
func (l *login) loginMFA(ctx context.Context, req *api.MFARequirement) (*api.Secret, error) {
	what := "log in to Vault with " + l.auth.Describe() + ": Login MFA"
	if req.MFARequestID == "" || len(req.MFAConstraints) == 0 {
		return nil, &process.Error{Code: process.ExitFailure, Msg: what + ": Vault's answer names no MFA request or method"}
	}
	payload := map[string]any{}
	for name, c := range req.MFAConstraints {
		if c == nil || len(c.Any) == 0 || c.Any[0] == nil || c.Any[0].ID == "" {
			return nil, &process.Error{Code: process.ExitFailure, Msg: fmt.Sprintf("%s: constraint %s names no method", what, process.Printable(name))}
		}
		m := c.Any[0] // any one of them satisfies the constraint
		if !m.UsesPasscode {
			l.tellPush(m)
			payload[m.ID] = []string{}
			continue
		}
		code, err := l.mfaPasscode(ctx, m)
		if err != nil {
			return nil, err
		}
		payload[m.ID] = []string{code}
	}
	sent := l.now()
	secret, err := l.client.Sys().MFAValidateWithContext(ctx, req.MFARequestID, payload)
	l.debugf("PUT sys/mfa/validate: %s in %s", Outcome(err), l.now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		e := vaultError(err, what, "sys/mfa/validate", l.s.DisplayAddress(), ctx.Err() != nil)
		if process.Forbidden(e) {
			e.Hint = "enter the current code of the MFA device Vault enrolled you with; a code is taken only once, so wait for the next one after a failed try"
		}
		return nil, e
	}
	return secret, nil
}

// mfaPasscode gets the passcode of method m: from mfa_command, else typed
// at the terminal; a background refresh has neither and fails.
func (l *login) mfaPasscode(ctx context.Context, m *api.MFAMethodID) (string, error) {
	if l.auth.MFACommand != "" {
		l.debugf("auth %s: Login MFA passcode (%s) from mfa_command", l.auth.Describe(), m.Type)
		return process.RunMFACommand(ctx, l.auth.MFACommand, l.s.Timeout, l.stderr)
	}
	term, err := l.openTTY()
	if err != nil {
		return "", &process.Error{Code: process.ExitFailure, Err: err,
			Msg:  fmt.Sprintf("log in to Vault with %s: Login MFA asks for a %s passcode and there is no terminal to ask on", l.auth.Describe(), process.Printable(m.Type)),
			Hint: "set mfa_command in the auth table to a command that prints the current code, or run the helper from a terminal"}
	}
	defer term.Close()
	return process.PromptMFA(ctx, term, "the Vault login with "+process.Printable(l.auth.Describe())+", "+process.Printable(mfaLabel(m)))
}

// tellPush says on the terminal, where there is one, which approval the
// login waits for.
func (l *login) tellPush(m *api.MFAMethodID) {
	l.debugf("auth %s: Login MFA waits for approval of a %s push", l.auth.Describe(), m.Type)
	if term, err := l.openTTY(); err == nil {
		fmt.Fprintf(term, "vault-credential-process: approve the Vault login (%s) on your device\n", process.Printable(mfaLabel(m)))
		term.Close()
	}
}

// mfaLabel names an MFA method for a prompt: its name, else its type.
func mfaLabel(m *api.MFAMethodID) string {
	if m.Name != "" {
		return m.Name + " (" + m.Type + ")"
	}
	return m.Type
}

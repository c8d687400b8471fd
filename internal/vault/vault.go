// Package vault is the Vault client: it builds the client from the
// settings (token sources, retries, a transport pinned to the Vault
// address), logs in with the configured auth method (one function per
// method; the oidc browser login plugs in from internal/vault/oidc), asks
// the AWS secrets engine for credentials and checks and bounds its answer,
// renews and looks up leases, explains failures with a hint, and answers
// doctor's, `cache clear --revoke`'s and `aws-config --all`'s questions. It
// implements process.Source; only the command layer knows both and wires
// them.
package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/tty"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Vault asks one Vault server for credentials.
type Vault struct {
	client *api.Client
	// httpClient is the client's HTTP client, whose kept-alive connections
	// Close ends.
	httpClient *http.Client
	addr       string
	// TokenSource says where the token came from: "VAULT_TOKEN" or the
	// token helper's path (~/.vault-token for the built-in one).
	TokenSource string
	// OpenTTY opens the terminal for a userpass or ldap password prompt
	// and the browser login's messages; New sets tty.Open. nil means
	// nobody is there (a server's background refresh): no prompt, no
	// browser login.
	OpenTTY func() (*os.File, error)
	// login is set when the settings name an auth method (see login.go).
	login *login
	// tokenExp and tokenAccessor describe a token not from a login,
	// looked up once (tokenInfo).
	tokenExp      time.Time
	tokenAccessor string
	tokenLooked   bool
	now           func() time.Time
	debugf        func(format string, args ...any)
	o             Options
}

// New builds a client from vault/api's defaults (so every VAULT_*
// variable it honours applies), overridden by the resolved settings, and
// finds a token: VAULT_TOKEN, then the configured token helper, then
// ~/.vault-token.
// ctx bounds the token helper, if one runs.
func New(ctx context.Context, s *config.Settings, o Options) (*Vault, error) {
	v, err := newVaultNoToken(s, o)
	if err != nil {
		return nil, err
	}
	if err := v.setupAuth(ctx, s); err != nil {
		return nil, err
	}
	return v, nil
}

// envError words vault/api's failure to read the VAULT_* variables: the
// variable at fault named in the hint where the message shows it, and its
// "Error loading CA File" in the words of the other errors. getenv reads
// VAULT_CLIENT_CERT and VAULT_CLIENT_KEY.
func envError(err error, getenv func(string) string) *process.Error {
	msg := config.OneLine(err.Error())
	for _, r := range []struct{ api, ours, variable string }{
		{"Error loading CA File: ", "cannot load the CA certificate that VAULT_CACERT names: ", "VAULT_CACERT"},
		{"Error loading CA Path: ", "cannot load the CA certificates of the folder VAULT_CAPATH names: ", "VAULT_CAPATH"},
	} {
		if rest, ok := strings.CutPrefix(msg, r.api); ok {
			return &process.Error{Code: process.ExitUsage, Msg: "read Vault settings from the environment: " + r.ours + rest,
				Hint: "set " + r.variable + " to a readable PEM file of the CA that signed Vault's certificate, or unset it", Err: err}
		}
	}
	hint := "check the VAULT_* variables (VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_CLIENT_TIMEOUT, ...)"
	if v := vaultVariable.FindString(msg); v != "" {
		hint = "fix or unset " + v
	}
	// A client certificate or key that cannot be read shows only its path.
	for _, v := range []string{"VAULT_CLIENT_CERT", "VAULT_CLIENT_KEY"} {
		if path := getenv(v); path != "" && strings.Contains(msg, path) {
			hint = "set " + v + " to a readable PEM file (VAULT_CLIENT_CERT the certificate, VAULT_CLIENT_KEY its key), or unset both"
		}
	}
	return &process.Error{Code: process.ExitUsage, Msg: "read Vault settings from the environment: " + msg, Hint: hint, Err: err}
}

// vaultVariable finds the variable a vault/api message names.
var vaultVariable = regexp.MustCompile(`VAULT_[A-Z_]+`)

// newVaultNoToken builds the client without looking for a token.
func newVaultNoToken(s *config.Settings, o Options) (*Vault, error) {
	o = o.withDefaults()
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, envError(cfg.Error, o.Getenv)
	}
	cfg.Address = s.Address
	cfg.AgentAddress = ""
	cfg.MaxRetries = s.Retries
	cfg.Timeout = s.Timeout
	cfg.MinRetryWait, cfg.MaxRetryWait = minRetryWait, maxRetryWait
	cfg.Backoff = jitterBackoff
	cfg.CheckRetry = retryPolicy
	cfg.Logger = retryLogger{o.Debugf}
	if err := configureClientCert(cfg, s, o.Getenv); err != nil {
		return nil, err
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, &process.Error{Code: process.ExitUsage, Msg: fmt.Sprintf("set up the Vault client for %s: %s", s.DisplayAddress(), config.OneLine(err.Error())),
			Hint: "check VAULT_ADDR and the TLS variables", Err: err}
	}
	// The client resolved the address (a unix socket becomes http://localhost);
	// pin every request to it.
	u, err := url.Parse(client.Address())
	if err != nil {
		return nil, &process.Error{Code: process.ExitUsage, Msg: fmt.Sprintf("set up the Vault client for %s: %s", s.DisplayAddress(), config.OneLine(err.Error())),
			Hint: "check VAULT_ADDR", Err: err}
	}
	cfg.HttpClient.Transport = &pinnedTransport{next: cfg.HttpClient.Transport, scheme: u.Scheme, host: u.Host}
	if s.Namespace != "" {
		client.SetNamespace(s.Namespace)
	}
	v := &Vault{client: client, httpClient: cfg.HttpClient, addr: s.DisplayAddress(), OpenTTY: tty.Open, now: o.Now, debugf: o.Debugf, o: o}
	if o.Unattended {
		v.OpenTTY = nil
	}
	return v, nil
}

// Close ends the connections to Vault that are kept alive for reuse. A
// long-running server makes a client per refresh: without this each would
// hold a connection, and a file descriptor, for 90 seconds.
func (v *Vault) Close() {
	v.httpClient.CloseIdleConnections()
}

// fetch asks Vault for new credentials. The expiration of dynamic
// credentials counts from the moment the request was sent, so a slow answer
// can only make it earlier than Vault's own.
func (v *Vault) fetch(ctx context.Context, r process.Request) (*process.Credentials, error) {
	path := r.Path()
	sent := v.now()
	var (
		secret *api.Secret
		err    error
	)
	if r.Type == config.TypeStatic {
		secret, err = v.client.Logical().ReadWithContext(ctx, path)
	} else {
		secret, err = v.client.Logical().WriteWithContext(ctx, path, params(r))
	}
	v.debugf("%s %s: %s in %s", method(r), path, Outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	what := "get credentials from " + path
	if err != nil {
		return nil, vaultError(err, what, path, v.addr, ctx.Err() != nil)
	}
	if secret == nil && r.Type == config.TypeStatic {
		return nil, &process.Error{Code: process.ExitFailure, Msg: what + ": Vault returned nothing (no such static role?)",
			Hint: "check --mount and --role: `vault list <mount>/static-roles` shows the static roles"}
	}
	if secret == nil {
		// Vault answers every credential request with a body: an empty
		// answer is another server's, or was lost on the way.
		return nil, &process.Error{Code: process.ExitFailure, Msg: what + ": the answer from " + v.addr + " was empty",
			Hint: "check that VAULT_ADDR is your Vault and that nothing between drops its answers; `vault-credential-process doctor` checks it"}
	}
	c, err := parseSecret(secret, r, sent)
	if errors.Is(err, errTypeMismatch) {
		return nil, &process.Error{Code: process.ExitFailure, Msg: what + ": " + err.Error(), Err: err,
			Hint: fmt.Sprintf("make --type (or the profile's type) match the role's credential_type: `vault read %s/roles/%s`", r.Mount, r.Role)}
	}
	if err != nil {
		return nil, &process.Error{Code: process.ExitFailure, Msg: what + ": " + err.Error(),
			Hint: "the role or Vault's AWS engine returned something this tool does not understand; run with --debug and report it", Err: err}
	}
	return c, nil
}

// renew extends an iam_user lease by increment and returns the new
// expiration, counted from the moment the request was sent.
func (v *Vault) renew(ctx context.Context, leaseID string, increment time.Duration) (time.Time, error) {
	sent := v.now()
	secret, err := v.client.Sys().RenewWithContext(ctx, leaseID, int(increment/time.Second))
	v.debugf("PUT sys/leases/renew: %s in %s", Outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		return time.Time{}, vaultError(err, "renew the lease", "sys/leases/renew", v.addr, ctx.Err() != nil)
	}
	if secret == nil || secret.LeaseDuration <= 0 {
		return time.Time{}, &process.Error{Code: process.ExitFailure, Msg: "renew the lease: Vault returned no lease duration"}
	}
	if err := checkLeaseDuration(secret.LeaseDuration); err != nil {
		return time.Time{}, &process.Error{Code: process.ExitFailure, Msg: "renew the lease: " + err.Error(), Err: err}
	}
	// Stored and compared with other processes' clocks: no monotonic reading.
	return sent.Add(time.Duration(secret.LeaseDuration) * time.Second).Round(0), nil
}

// Revoke revokes a lease (sys/leases/revoke).
func (v *Vault) Revoke(ctx context.Context, leaseID string) error {
	if err := v.Login(ctx); err != nil {
		return err
	}
	revoke := func() error {
		sent := v.now()
		err := v.client.Sys().RevokeWithContext(ctx, leaseID)
		v.debugf("PUT sys/leases/revoke: %s in %s", Outcome(err), v.now().Sub(sent).Round(time.Millisecond))
		return err
	}
	err := revoke()
	if err != nil && v.retryLogin(ctx, err) {
		// The stored login token was revoked (taking its leases along):
		// a new login may revoke what is left, as Fetch does.
		err = revoke()
	}
	if err != nil {
		e := vaultError(err, "revoke lease "+leaseID, "sys/leases/revoke", v.addr, ctx.Err() != nil)
		if e.Hint == "" || strings.Contains(e.Hint, "token is invalid") {
			e.Hint = "the token's policy needs update on sys/leases/revoke; the entry is kept"
		}
		return e
	}
	return nil
}

func method(r process.Request) string {
	if r.Type == config.TypeStatic {
		return "GET"
	}
	return "POST"
}

// Outcome is a request's result for --debug: "ok", "status 403", "failed".
func Outcome(err error) string {
	var re *api.ResponseError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &re):
		return "status " + strconv.Itoa(re.StatusCode)
	}
	return "failed"
}

// errUnattended marks a prompt or browser login refused because nobody is
// at the terminal: a server's background refresh.
var errUnattended = errors.New("nobody at the terminal: a background refresh does not prompt")

// errNoToken marks "no Vault token found" of token auth.
var errNoToken = errors.New("no Vault token")

// setupAuth prepares the client's token: for token auth the user's token
// (VAULT_TOKEN, token helper, ~/.vault-token), or none at all behind a
// Vault Agent or Proxy (VAULT_AGENT_ADDR), which adds its auto-auth token;
// for the other methods a login, done when the first request needs it.
func (v *Vault) setupAuth(ctx context.Context, s *config.Settings) error {
	if s.Auth.IsToken() {
		err := v.findToken(ctx)
		if err != nil && s.ViaAgent && errors.Is(err, errNoToken) {
			v.TokenSource = "Vault Agent or Proxy at " + s.DisplayAddress()
			v.debugf("no Vault token: requests go through the Vault Agent or Proxy at %s (VAULT_AGENT_ADDR), which adds its auto-auth token", s.DisplayAddress())
			return nil
		}
		return err
	}
	// VAULT_TOKEN, if set, is not for this login method's requests.
	if v.client.Token() != "" {
		v.debugf("VAULT_TOKEN is set but not used: the auth method is %s", s.Auth.Method)
	}
	v.client.ClearToken()
	v.login = &login{s: s, auth: s.Auth, client: v.client, now: v.now, debugf: v.debugf,
		getenv: v.o.Getenv, stderr: v.o.Stderr, oidc: v.o.OIDC,
		openTTY: func() (*os.File, error) {
			if v.OpenTTY == nil {
				return nil, errUnattended
			}
			return v.OpenTTY()
		},
		unattended: func() bool { return v.OpenTTY == nil }}
	v.TokenSource = s.Auth.Describe() + " login"
	return nil
}

// Login logs in (or picks up the stored login token) when the settings name
// an auth method; with token auth it does nothing. Fetch, Renew and Revoke
// call it themselves; other users of the client (doctor) call it first.
func (v *Vault) Login(ctx context.Context) error {
	if v.login == nil {
		return nil
	}
	return v.login.ensure(ctx)
}

// Fetch asks Vault for new credentials, logging in first if needed. A 403
// with a stored login token that Vault no longer knows (revoked, or expired
// early) leads to one new login and one more try.
func (v *Vault) Fetch(ctx context.Context, r process.Request) (*process.Credentials, error) {
	if err := v.Login(ctx); err != nil {
		return nil, err
	}
	c, err := v.fetch(ctx, r)
	if err != nil && v.retryLogin(ctx, err) {
		c, err = v.fetch(ctx, r)
	}
	var pe *process.Error
	var re *api.ResponseError
	if v.login != nil && errors.As(err, &pe) && errors.As(err, &re) && re.StatusCode == 403 {
		pe.Hint = fmt.Sprintf("the policies of the token from %s do not allow %s (are --mount and --role right?): check the auth role's token_policies",
			v.login.auth.Describe(), r.Path())
	}
	if err != nil {
		return nil, err
	}
	v.capToToken(ctx, c)
	return c, nil
}

// retryLogin decides, after err from a request with a stored login token,
// whether the token was the problem; if so it logs in again and the
// caller retries once.
func (v *Vault) retryLogin(ctx context.Context, err error) bool {
	l := v.login
	var re *api.ResponseError
	if l == nil || !l.reused || !errors.As(err, &re) || re.StatusCode != 403 {
		return false
	}
	// A 403 is also a policy that does not allow the path: ask Vault
	// whether the token itself is still good.
	_, lerr := v.client.Auth().Token().LookupSelfWithContext(ctx)
	v.debugf("GET auth/token/lookup-self: %s", Outcome(lerr))
	if lerr == nil {
		return false
	}
	v.debugf("the stored login token was refused; logging in again")
	bad := l.token
	l.done, l.err = true, l.obtain(ctx, bad)
	return l.err == nil
}

package process

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// Retry waits between attempts; each wait is drawn from the upper half of
// an exponentially growing interval.
var (
	minRetryWait = 250 * time.Millisecond
	maxRetryWait = 4 * time.Second
)

// Request is what to ask Vault's AWS secrets engine for.
type Request struct {
	Mount           string
	Role            string
	Type            string // "" for any dynamic type
	TTL             time.Duration
	RoleARN         string
	RoleSessionName string
	MFACode         string
}

func requestOf(s *config.Settings) Request {
	return Request{Mount: s.Mount, Role: s.Role, Type: s.Type, TTL: s.TTL,
		RoleARN: s.RoleARN, RoleSessionName: s.RoleSessionName, MFACode: s.MFACode}
}

// Path is the Vault API path the request goes to.
func (r Request) Path() string {
	if r.Type == config.TypeStatic {
		return r.Mount + "/static-creds/" + r.Role
	}
	return r.Mount + "/creds/" + r.Role
}

// Credentials are AWS credentials as Vault issued them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	AccountID       string
	Expiration      time.Time
	IssuedAt        time.Time
	LeaseID         string
	LeaseDuration   time.Duration
	Renewable       bool
	// TokenAccessor names the Vault token that minted a revocable lease.
	TokenAccessor string
}

// Vault asks one Vault server for credentials.
type Vault struct {
	client *api.Client
	addr   string
	// TokenSource says where the token came from: "VAULT_TOKEN" or the
	// token helper's path (~/.vault-token for the built-in one).
	TokenSource string
	// login is set when the settings name an auth method (see auth.go).
	login *login
	// tokenExp and tokenAccessor describe a token not from a login,
	// looked up once (tokenInfo).
	tokenExp      time.Time
	tokenAccessor string
	tokenLooked   bool
	now           func() time.Time
	debugf        func(format string, args ...any)
}

// NewVault builds a client from vault/api's defaults (so every VAULT_*
// variable it honours applies), overridden by the resolved settings, and
// finds a token: VAULT_TOKEN, then the configured token helper, then
// ~/.vault-token.
// ctx bounds the token helper, if one runs.
func NewVault(ctx context.Context, s *config.Settings, now func() time.Time, debugf func(string, ...any)) (*Vault, error) {
	v, err := newVaultNoToken(s, now, debugf)
	if err != nil {
		return nil, err
	}
	if err := v.setupAuth(ctx, s); err != nil {
		return nil, err
	}
	return v, nil
}

// newVaultNoToken builds the client without looking for a token.
func newVaultNoToken(s *config.Settings, now func() time.Time, debugf func(string, ...any)) (*Vault, error) {
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, &Error{Code: ExitUsage, Msg: "read Vault settings from the environment: " + oneLine(cfg.Error.Error()),
			Hint: "check the VAULT_* variables (VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_MAX_RETRIES, ...)", Err: cfg.Error}
	}
	cfg.Address = s.Address
	cfg.AgentAddress = ""
	cfg.MaxRetries = s.Retries
	cfg.Timeout = s.Timeout
	cfg.MinRetryWait, cfg.MaxRetryWait = minRetryWait, maxRetryWait
	cfg.Backoff = jitterBackoff
	cfg.CheckRetry = retryPolicy
	cfg.Logger = retryLogger{debugf}
	if err := configureClientCert(cfg, s); err != nil {
		return nil, err
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, &Error{Code: ExitUsage, Msg: fmt.Sprintf("set up the Vault client for %s: %s", s.DisplayAddress(), oneLine(err.Error())),
			Hint: "check VAULT_ADDR and the TLS variables", Err: err}
	}
	// The client resolved the address (a unix socket becomes http://localhost);
	// pin every request to it.
	u, err := url.Parse(client.Address())
	if err != nil {
		return nil, &Error{Code: ExitUsage, Msg: fmt.Sprintf("set up the Vault client for %s: %s", s.DisplayAddress(), oneLine(err.Error())),
			Hint: "check VAULT_ADDR", Err: err}
	}
	cfg.HttpClient.Transport = &pinnedTransport{next: cfg.HttpClient.Transport, scheme: u.Scheme, host: u.Host}
	if s.Namespace != "" {
		client.SetNamespace(s.Namespace)
	}
	return &Vault{client: client, addr: s.DisplayAddress(), now: now, debugf: debugf}, nil
}

// fetch asks Vault for new credentials. The expiration of dynamic
// credentials counts from the moment the request was sent, so a slow answer
// can only make it earlier than Vault's own.
func (v *Vault) fetch(ctx context.Context, r Request) (*Credentials, error) {
	path := r.Path()
	sent := v.now()
	var (
		secret *api.Secret
		err    error
	)
	if r.Type == config.TypeStatic {
		secret, err = v.client.Logical().ReadWithContext(ctx, path)
	} else {
		secret, err = v.client.Logical().WriteWithContext(ctx, path, r.params())
	}
	v.debugf("%s %s: %s in %s", method(r), path, outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	what := "get credentials from " + path
	if err != nil {
		return nil, vaultError(err, what, path, v.addr, ctx.Err() != nil)
	}
	if secret == nil {
		return nil, &Error{Code: ExitFailure, Msg: what + ": Vault returned nothing (no such static role?)",
			Hint: "check --mount and --role: `vault list <mount>/static-roles` shows the static roles"}
	}
	c, err := parseSecret(secret, r, sent)
	if errors.Is(err, errTypeMismatch) {
		return nil, &Error{Code: ExitFailure, Msg: what + ": " + err.Error(), Err: err,
			Hint: fmt.Sprintf("make --type (or the profile's type) match the role's credential_type: `vault read %s/roles/%s`", r.Mount, r.Role)}
	}
	if err != nil {
		return nil, &Error{Code: ExitFailure, Msg: what + ": " + err.Error(),
			Hint: "the role or Vault's AWS engine returned something this tool does not understand; run with --debug and report it", Err: err}
	}
	return c, nil
}

// renew extends an iam_user lease by increment and returns the new
// expiration, counted from the moment the request was sent.
func (v *Vault) renew(ctx context.Context, leaseID string, increment time.Duration) (time.Time, error) {
	sent := v.now()
	secret, err := v.client.Sys().RenewWithContext(ctx, leaseID, int(increment/time.Second))
	v.debugf("PUT sys/leases/renew: %s in %s", outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		return time.Time{}, vaultError(err, "renew the lease", "sys/leases/renew", v.addr, ctx.Err() != nil)
	}
	if secret == nil || secret.LeaseDuration <= 0 {
		return time.Time{}, &Error{Code: ExitFailure, Msg: "renew the lease: Vault returned no lease duration"}
	}
	if err := checkLeaseDuration(secret.LeaseDuration); err != nil {
		return time.Time{}, &Error{Code: ExitFailure, Msg: "renew the lease: " + err.Error(), Err: err}
	}
	return sent.Add(time.Duration(secret.LeaseDuration) * time.Second), nil
}

// Revoke revokes a lease (sys/leases/revoke).
func (v *Vault) Revoke(ctx context.Context, leaseID string) error {
	if err := v.Login(ctx); err != nil {
		return err
	}
	sent := v.now()
	err := v.client.Sys().RevokeWithContext(ctx, leaseID)
	v.debugf("PUT sys/leases/revoke: %s in %s", outcome(err), v.now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		e := vaultError(err, "revoke lease "+leaseID, "sys/leases/revoke", v.addr, ctx.Err() != nil)
		if e.Hint == "" || strings.Contains(e.Hint, "token is invalid") {
			e.Hint = "the token's policy needs update on sys/leases/revoke; the entry is kept"
		}
		return e
	}
	return nil
}

func (r Request) params() map[string]any {
	p := map[string]any{}
	if r.TTL > 0 {
		p["ttl"] = strconv.FormatInt(int64(r.TTL/time.Second), 10) + "s"
	}
	if r.RoleARN != "" {
		p["role_arn"] = r.RoleARN
	}
	if r.RoleSessionName != "" {
		p["role_session_name"] = r.RoleSessionName
	}
	if r.MFACode != "" {
		p["mfa_code"] = r.MFACode
	}
	return p
}

func method(r Request) string {
	if r.Type == config.TypeStatic {
		return "GET"
	}
	return "POST"
}

func outcome(err error) string {
	var re *api.ResponseError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &re):
		return "status " + strconv.Itoa(re.StatusCode)
	}
	return "failed"
}

// errTypeMismatch marks credentials of another type than --type named.
var errTypeMismatch = errors.New("credential type mismatch")

// parseSecret checks a Vault response and turns it into credentials. It
// never returns credentials whose expiry is unknown.
func parseSecret(s *api.Secret, r Request, sent time.Time) (*Credentials, error) {
	str := func(key string) (string, error) {
		v, ok := s.Data[key]
		if !ok || v == nil {
			return "", nil
		}
		str, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("field %s is not a string", key)
		}
		return str, nil
	}
	if err := checkLeaseDuration(s.LeaseDuration); err != nil {
		return nil, err
	}
	c := &Credentials{IssuedAt: sent, LeaseID: s.LeaseID, Renewable: s.Renewable,
		LeaseDuration: time.Duration(s.LeaseDuration) * time.Second}
	var err error
	if c.AccessKeyID, err = str("access_key"); err != nil {
		return nil, err
	}
	if c.SecretAccessKey, err = str("secret_key"); err != nil {
		return nil, err
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return nil, errors.New("the response has no access_key or secret_key")
	}
	if err := checkField("access_key", c.AccessKeyID, 1, maxAccessKeyID, isKeyIDChar); err != nil {
		return nil, err
	}
	if err := checkField("secret_key", c.SecretAccessKey, 1, maxSecretKey, isTokenChar); err != nil {
		return nil, err
	}
	if c.SessionToken, err = str("session_token"); err != nil {
		return nil, err
	}
	if c.SessionToken == "" {
		if c.SessionToken, err = str("security_token"); err != nil {
			return nil, err
		}
	}
	if c.SessionToken != "" {
		if err := checkField("session_token", c.SessionToken, 1, maxSessionToken, isTokenChar); err != nil {
			return nil, err
		}
	}
	if len(c.LeaseID) > maxLeaseID {
		return nil, fmt.Errorf("the lease id is longer than %d bytes", maxLeaseID)
	}
	arn, err := str("arn")
	if err != nil {
		return nil, err
	}
	c.AccountID = accountOf(arn)

	switch {
	case r.Type == config.TypeStatic:
		exp, err := str("expiration")
		if err != nil {
			return nil, err
		}
		if exp == "" {
			return nil, errors.New("the response has no expiration")
		}
		t, perr := time.Parse(time.RFC3339, exp)
		if perr != nil {
			return nil, fmt.Errorf("the expiration %q is not an RFC 3339 time", exp)
		}
		c.Expiration = t.UTC()
	case s.LeaseDuration > 0:
		c.Expiration = sent.Add(c.LeaseDuration).UTC()
	default:
		return nil, errors.New("the response has neither a lease duration nor an expiration")
	}
	if !c.Expiration.After(sent) {
		return nil, fmt.Errorf("the credentials expired at %s, before they were issued", c.Expiration.Format(time.RFC3339))
	}
	if c.Expiration.Sub(sent) > maxLifetime {
		return nil, fmt.Errorf("the credentials would expire at %s, more than %d years from now", c.Expiration.Format(time.RFC3339), maxLifetime/(365*24*time.Hour))
	}

	// The role decides the type; when the user named one, hold Vault to it.
	switch r.Type {
	case config.TypeIAMUser:
		if c.SessionToken != "" {
			return nil, fmt.Errorf("%w: the role issued temporary (STS) credentials, but --type says iam_user", errTypeMismatch)
		}
	case config.TypeAssumedRole, config.TypeFederationToken, config.TypeSessionToken:
		if c.SessionToken == "" {
			return nil, fmt.Errorf("%w: the role issued credentials without a session token, but --type says %s", errTypeMismatch, r.Type)
		}
	}
	return c, nil
}

// accountOf returns the 12-digit account of an ARN, or "".
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || len(parts[4]) != 12 {
		return ""
	}
	for _, ch := range parts[4] {
		if ch < '0' || ch > '9' {
			return ""
		}
	}
	return parts[4]
}

// jitterBackoff is exponential backoff with jitter: the wait before attempt
// n is drawn from [d/2, d] with d = min·2ⁿ capped at max. A Retry-After
// header on 429 or 503 is obeyed as retryablehttp does.
func jitterBackoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	d := retryablehttp.DefaultBackoff(min, max, attempt, resp)
	if resp != nil && resp.Header.Get("Retry-After") != "" {
		return d
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// retryLogger shows vault/api's retry decisions in --debug output. What it
// is given holds URLs and errors, never tokens or response bodies.
type retryLogger struct{ debugf func(string, ...any) }

func (l retryLogger) Error(msg string, kv ...any) { l.debugf("%s%s", msg, kvs(kv)) }
func (l retryLogger) Info(msg string, kv ...any)  { l.debugf("%s%s", msg, kvs(kv)) }
func (l retryLogger) Debug(msg string, kv ...any) {
	// "performing request" repeats what Fetch logs; keep the retries.
	if strings.HasPrefix(msg, "retrying") {
		l.debugf("%s%s", msg, kvs(kv))
	}
}
func (l retryLogger) Warn(msg string, kv ...any) { l.debugf("%s%s", msg, kvs(kv)) }

// kvs renders key/value pairs as " k=v k=v" (with the leading space), or "".
func kvs(kv []any) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	if b.Len() == 0 {
		return ""
	}
	return " " + oneLine(b.String())
}

// Bounds on what Vault may hand out. AWS documents access key ids of at most
// 128 word characters; secret keys are 40 characters today; STS does not
// fix the size of session tokens (a few KiB in practice), so they get room
// to grow. Anything past these is a broken or hostile server, refused before
// it reaches stdout, the environment or the cache.
const (
	maxAccessKeyID  = 128
	maxSecretKey    = 256
	maxSessionToken = 64 << 10
	maxLeaseID      = 1024
	// maxLifetime is the longest validity the helper believes: longer
	// means a clock, unit or overflow error, not a real lease.
	maxLifetime = 10 * 365 * 24 * time.Hour
)

// checkLeaseDuration refuses a lease duration (seconds) that is negative or
// so long that it overflows, or lies decades away.
func checkLeaseDuration(seconds int) error {
	if seconds < 0 || int64(seconds) > int64(maxLifetime/time.Second) {
		return fmt.Errorf("the lease duration %d s is outside 0 to %d years", seconds, maxLifetime/(365*24*time.Hour))
	}
	return nil
}

// checkField checks one credential field's length and characters. The
// value is never part of the error.
func checkField(name, v string, minLen, maxLen int, ok func(byte) bool) error {
	if len(v) < minLen || len(v) > maxLen {
		return fmt.Errorf("field %s has %d bytes, want %d to %d", name, len(v), minLen, maxLen)
	}
	for i := 0; i < len(v); i++ {
		if !ok(v[i]) {
			return fmt.Errorf("field %s holds a character not allowed there (at byte %d)", name, i)
		}
	}
	return nil
}

func isKeyIDChar(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isTokenChar allows printable ASCII without space: base64 and the like.
func isTokenChar(c byte) bool { return c > ' ' && c < 0x7f }

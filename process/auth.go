package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"
	"github.com/hashicorp/vault/api/auth/ldap"
	"github.com/hashicorp/vault/api/auth/userpass"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
)

// Logging in with an auth method (approle, kubernetes, jwt, userpass, ldap,
// cert) instead of using a token the user already has.
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
// capped at the token's in any case (see capToLogin).
//
// All of it happens only when the credentials cache misses: a cache hit
// never reads a secret file, builds a client or takes a lock.

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
	Address    string    `json:"vault_address"`
	Namespace  string    `json:"vault_namespace,omitempty"`
}

func (e *loginEntry) ttl() time.Duration { return time.Duration(e.TTL) * time.Second }

// login logs in to Vault, or reuses a stored login token, once per run.
type login struct {
	s      *config.Settings
	auth   config.Auth
	client *api.Client
	now    func() time.Time
	debugf func(string, ...any)

	done bool
	err  error
	// reused: the token in use came from the store, so a 403 may mean it
	// was revoked since.
	reused   bool
	token    string
	accessor string // "" for a token stored by an older version
	loginAt  time.Time
	expires  time.Time // zero: the token never expires
}

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
	v.login = &login{s: s, auth: s.Auth, client: v.client, now: v.now, debugf: v.debugf}
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
func (v *Vault) Fetch(ctx context.Context, r Request) (*Credentials, error) {
	if err := v.Login(ctx); err != nil {
		return nil, err
	}
	c, err := v.fetch(ctx, r)
	if err != nil && v.retryLogin(ctx, err) {
		c, err = v.fetch(ctx, r)
	}
	var pe *Error
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
	v.debugf("GET auth/token/lookup-self: %s", outcome(lerr))
	if lerr == nil {
		return false
	}
	v.debugf("the stored login token was refused; logging in again")
	bad := l.token
	l.done, l.err = true, l.obtain(ctx, bad)
	return l.err == nil
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
		e, err := l.login(ctx)
		if err != nil {
			return err
		}
		l.use(e, false, "logged in")
		return nil
	}
	store, err := cache.Open(l.s.CacheDir)
	if errors.Is(err, cache.ErrUnsafe) {
		return cacheError(err)
	}
	if err != nil {
		// The folder cannot be created (a read-only root file system in a
		// pod, say): as with the credentials, log in all the same and keep
		// nothing. The run warns once that it could not cache.
		l.debugf("auth %s: logging in without keeping the login token: %v", desc, err)
		e, err := l.login(ctx)
		if err != nil {
			return err
		}
		l.use(e, false, "logged in")
		return nil
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
	unlock, err := store.Lock(ctx, strings.TrimSuffix(name, ".token"))
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: ExitFailure, Err: err,
			Msg:  fmt.Sprintf("wait for the login lock in %s: another vault-credential-process held it until --timeout", store.Dir()),
			Hint: "a process may be stuck logging in to Vault (or waiting at a password prompt): check it, or raise --timeout"}
	}
	if errors.Is(err, cache.ErrUnsafe) {
		return cacheError(err)
	}
	if err != nil {
		// No lock file (a read-only folder): log in all the same, as the
		// credentials are fetched all the same; the token is not kept.
		l.debugf("%v; logging in without the login lock", err)
		unlock = func() {}
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
		renewed, err := l.renew(ctx, e)
		switch {
		case err != nil && Unavailable(err):
			return vaultError(err, "renew the login token ("+desc+")", "auth/token/renew-self", l.s.DisplayAddress(), ctx.Err() != nil)
		case err != nil:
			l.debugf("auth %s: login token renewal refused (%s); logging in again", desc, outcome(err))
		case l.comfortable(renewed, l.now()):
			l.save(store, name, renewed)
			l.use(renewed, true, "login token renewed")
			return nil
		default:
			l.debugf("auth %s: login token renewed only until %s (its max TTL); logging in again", desc, renewed.Expiration.UTC().Format(time.RFC3339))
		}
	}
	if e, err = l.login(ctx); err != nil {
		return err
	}
	l.save(store, name, e)
	l.use(e, false, "logged in")
	return nil
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
	l.token, l.accessor, l.loginAt, l.expires, l.reused = e.Token, e.Accessor, e.LoginAt, e.Expiration, reused
	life := "the token does not expire"
	if !e.Expiration.IsZero() {
		life = "the token expires " + untilText(e.Expiration, l.now())
	}
	l.debugf("auth %s: %s, %s", l.auth.Describe(), how, life)
}

// fileName names the token file after everything that makes a different
// login: Vault address and namespace, method, mount and identity, including
// who a JWT or certificate proves.
func (l *login) fileName() (string, error) {
	proof, err := proofIdentity(&l.auth)
	if err != nil {
		return "", err
	}
	parts := append([]string{"vault-credential-process/login/1", NormalizeAddress(l.s.Address),
		l.s.Namespace, l.auth.Method, l.auth.Mount}, l.auth.Identity()...)
	return LoginTokenPrefix + cache.Key(append(parts, proof...)...) + ".token", nil
}

// LoginTokenPrefix starts the name of every login token file in the cache
// folder (`cache clear --all` removes them).
const LoginTokenPrefix = "login-"

// load reads the stored token; anything unreadable is no token.
func (l *login) load(store *cache.Store, name string) (*loginEntry, error) {
	data, err := store.LoadBlob(name)
	if err != nil {
		return nil, cacheError(err)
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
	l.debugf("PUT auth/token/renew-self: %s in %s", outcome(err), l.now().Sub(sent).Round(time.Millisecond))
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

// login logs in with the configured method.
func (l *login) login(ctx context.Context) (*loginEntry, error) {
	method, err := l.method(ctx)
	if err != nil {
		return nil, err
	}
	l.client.ClearToken()
	path := "auth/" + l.auth.Mount + "/login"
	sent := l.now()
	secret, err := l.client.Auth().Login(ctx, method)
	l.debugf("POST %s: %s in %s", path, outcome(err), l.now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		return nil, l.loginError(ctx, err, path)
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return nil, &Error{Code: ExitFailure, Msg: "log in to Vault with " + l.auth.Describe() + ": Vault's answer has no token",
			Hint: "the auth method may need multi-factor authentication, which this helper does not do"}
	}
	e := &loginEntry{Token: secret.Auth.ClientToken, Accessor: secret.Auth.Accessor, LoginAt: sent.UTC(), TTL: int64(secret.Auth.LeaseDuration),
		Renewable: secret.Auth.Renewable, Method: l.auth.Method, Mount: l.auth.Mount, Identity: l.auth.Identity(),
		Address: l.s.DisplayAddress(), Namespace: l.s.Namespace}
	if e.TTL > 0 {
		e.Expiration = sent.Add(e.ttl()).UTC()
	}
	return e, nil
}

// method builds the login of the configured method. Secrets are read here,
// on a cache miss only: from the files and variables the settings name, or
// from the terminal.
func (l *login) method(ctx context.Context) (api.AuthMethod, error) {
	a := l.auth
	var (
		m   api.AuthMethod
		err error
	)
	switch a.Method {
	case config.AuthAppRole:
		sid := &approle.SecretID{FromFile: a.SecretIDFile, FromEnv: a.SecretIDEnv}
		if err := envSet("secret_id_env", a.SecretIDEnv); err != nil {
			return nil, err
		}
		opts := []approle.LoginOption{approle.WithMountPath(a.Mount)}
		if a.SecretIDWrapped {
			opts = append(opts, approle.WithWrappingToken())
		}
		m, err = approle.NewAppRoleAuth(a.RoleID, sid, opts...)
	case config.AuthKubernetes:
		m, err = kubernetes.NewKubernetesAuth(a.Role, kubernetes.WithMountPath(a.Mount),
			kubernetes.WithServiceAccountTokenPath(a.JWTFile))
		if errors.Is(err, fs.ErrNotExist) && a.JWTFile == config.DefaultKubernetesJWTFile {
			return nil, &Error{Code: ExitUsage, Err: err,
				Msg:  "read the service account token " + a.JWTFile + ": no such file (not in a Kubernetes pod?)",
				Hint: "run in a pod with a service account token, or set jwt_file in the auth table"}
		}
		err = fileError(err, "jwt_file", a.JWTFile)
	case config.AuthJWT:
		jwt, err := readSecret("jwt_file", a.JWTFile, "jwt_env", a.JWTEnv)
		if err != nil {
			return nil, err
		}
		m = &plainLogin{path: "auth/" + a.Mount + "/login", data: map[string]any{"role": a.Role, "jwt": jwt}}
	case config.AuthUserpass, config.AuthLDAP:
		var from struct{ file, env, value string }
		switch {
		case a.PasswordFile != "":
			from.file = a.PasswordFile
		case a.PasswordEnv != "":
			if err := envSet("password_env", a.PasswordEnv); err != nil {
				return nil, err
			}
			from.env = a.PasswordEnv
		default:
			if from.value, err = promptPassword(ctx, a); err != nil {
				return nil, err
			}
		}
		if a.Method == config.AuthUserpass {
			m, err = userpass.NewUserpassAuth(a.Username,
				&userpass.Password{FromFile: from.file, FromEnv: from.env, FromString: from.value}, userpass.WithMountPath(a.Mount))
		} else {
			m, err = ldap.NewLDAPAuth(a.Username,
				&ldap.Password{FromFile: from.file, FromEnv: from.env, FromString: from.value}, ldap.WithMountPath(a.Mount))
		}
	case config.AuthCert:
		data := map[string]any{}
		if a.Name != "" {
			data["name"] = a.Name
		}
		m = &plainLogin{path: "auth/" + a.Mount + "/login", data: data}
	default:
		return nil, &Error{Code: ExitUsage, Msg: "unknown auth method " + a.Method}
	}
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, &Error{Code: ExitUsage, Msg: "set up the " + a.Method + " login: " + oneLine(err.Error()), Err: err,
			Hint: "check the auth table of the configuration"}
	}
	return m, nil
}

// plainLogin is a login without a vault/api/auth package (jwt, cert): one
// write to the method's login path.
type plainLogin struct {
	path string
	data map[string]any
}

func (p *plainLogin) Login(ctx context.Context, client *api.Client) (*api.Secret, error) {
	return client.Logical().WriteWithContext(ctx, p.path, p.data)
}

// readSecret reads a secret from the file, else the variable, the settings
// name; it is trimmed of surrounding white space.
func readSecret(fileKey, file, envKey, env string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fileError(err, fileKey, file)
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", &Error{Code: ExitUsage, Msg: fmt.Sprintf("%s %s is empty", fileKey, file),
			Hint: "put the secret in that file, or name another one"}
	}
	if err := envSet(envKey, env); err != nil {
		return "", err
	}
	return strings.TrimSpace(os.Getenv(env)), nil
}

// envSet checks that the variable a *_env key names holds something.
func envSet(key, name string) error {
	if name == "" || strings.TrimSpace(os.Getenv(name)) != "" {
		return nil
	}
	// The variable's name is not repeated: a secret pasted into the *_env
	// key by mistake would otherwise reach stderr.
	return &Error{Code: ExitUsage, Msg: fmt.Sprintf("the variable %s names is empty or not set", key),
		Hint: "set it in the environment the AWS client runs the helper in, or use the _file key instead"}
}

// fileError turns a failure to read a secret file into an error naming
// the key; other errors pass through.
func fileError(err error, key, path string) error {
	var pe *fs.PathError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	return &Error{Code: ExitUsage, Err: err, Msg: fmt.Sprintf("read %s %s: %s", key, path, pe.Err),
		Hint: "check " + key + " in the auth table: the file must exist and be readable by you"}
}

// loginError explains a failed login in one line, with a hint for the
// method. It never includes the secret: Vault's error messages do not
// repeat it, and the request body is not part of any error.
func (l *login) loginError(ctx context.Context, err error, path string) error {
	if pe := fileError(err, secretFileKey(l.auth), secretFile(l.auth)); pe != err {
		return pe
	}
	a := l.auth
	what := "log in to Vault with " + a.Describe()
	var re *api.ResponseError
	isRE := errors.As(err, &re)
	if a.SecretIDWrapped && strings.Contains(err.Error(), "unable to unwrap") {
		e := vaultError(err, "unwrap the response-wrapped secret id from "+secretSource(a), "sys/wrapping/unwrap", l.s.DisplayAddress(), ctx.Err() != nil)
		if isRE && re.StatusCode < 500 {
			e.Hint = "a wrapped secret id can be unwrapped only once, before its wrap TTL ends: put a new one in " + secretSource(a) +
				" (vault write -wrap-ttl=5m -f auth/" + a.Mount + "/role/ROLE/secret-id)"
		}
		return e
	}
	e := vaultError(err, what, path, l.s.DisplayAddress(), ctx.Err() != nil)
	if !isRE || re.StatusCode >= 500 || re.StatusCode == 429 {
		return e
	}
	msg := strings.ToLower(responseMessage(re))
	switch {
	case strings.Contains(msg, "no handler for route") || re.StatusCode == 404 || re.StatusCode == 405 ||
		(re.StatusCode == 403 && a.Method != config.AuthKubernetes):
		// Vault answers 403 for a login path where nothing is mounted.
		e.Hint = fmt.Sprintf("is a %s auth method enabled at auth/%s? `vault auth list` shows the mounts; set mount in the auth table", a.Method, a.Mount)
	case a.Method == config.AuthAppRole:
		e.Hint = "check role_id and the secret id in " + secretSource(a) + ": it may be wrong, expired, used up, or for another role"
	case a.Method == config.AuthKubernetes:
		e.Hint = fmt.Sprintf("check role %q: its bound service account names and namespaces must include the pod's (token from %s)", a.Role, a.JWTFile)
	case a.Method == config.AuthJWT:
		e.Hint = fmt.Sprintf("check role %q and the JWT in %s: it may be expired, or not match the role's bound audiences and claims", a.Role, secretSource(a))
	case a.Method == config.AuthUserpass || a.Method == config.AuthLDAP:
		e.Hint = "check username " + a.Username + " and the password from " + secretSource(a)
	case a.Method == config.AuthCert:
		e.Hint = "check that the client certificate " + a.ClientCert + " is signed by a CA that a certificate role at auth/" + a.Mount + "/certs trusts"
		if a.Name != "" {
			e.Hint = "check that the client certificate " + a.ClientCert + " is trusted by the certificate role auth/" + a.Mount + "/certs/" + a.Name
		}
	}
	return e
}

func secretFileKey(a config.Auth) string {
	switch {
	case a.SecretIDFile != "":
		return "secret_id_file"
	case a.PasswordFile != "":
		return "password_file"
	case a.JWTFile != "":
		return "jwt_file"
	}
	return ""
}

func secretFile(a config.Auth) string {
	return a.SecretIDFile + a.PasswordFile + a.JWTFile
}

// secretSource says where the secret came from, for hints.
func secretSource(a config.Auth) string {
	switch {
	case a.SecretIDFile != "":
		return "secret_id_file " + a.SecretIDFile
	case a.SecretIDEnv != "":
		return "the variable secret_id_env names"
	case a.PasswordFile != "":
		return "password_file " + a.PasswordFile
	case a.PasswordEnv != "":
		return "the variable password_env names"
	case a.JWTEnv != "":
		return "the variable jwt_env names"
	case a.JWTFile != "":
		return "jwt_file " + a.JWTFile
	case a.Method == config.AuthUserpass || a.Method == config.AuthLDAP:
		return "the terminal prompt"
	}
	return "the settings"
}

// configureClientCert presents the cert method's client certificate from
// client_cert and client_key; vault/api has already loaded
// VAULT_CLIENT_CERT and VAULT_CLIENT_KEY, which take precedence.
func configureClientCert(cfg *api.Config, s *config.Settings) error {
	a := s.Auth
	if a.Method != config.AuthCert || a.ClientCert == "" || os.Getenv("VAULT_CLIENT_CERT") != "" {
		return nil
	}
	if err := cfg.ConfigureTLS(&api.TLSConfig{ClientCert: a.ClientCert, ClientKey: a.ClientKey}); err != nil {
		return &Error{Code: ExitUsage, Err: err,
			Msg:  fmt.Sprintf("load the client certificate %s and key %s: %s", a.ClientCert, a.ClientKey, oneLine(err.Error())),
			Hint: "check client_cert and client_key in the auth table: PEM files of a certificate and its private key"}
	}
	return nil
}

// authIdentity is the login identity's part of the credentials cache key:
// "" for token auth, so that its keys stay what they were.
func authIdentity(a *config.Auth) (string, error) {
	if a.IsToken() {
		return "", nil
	}
	proof, err := proofIdentity(a)
	if err != nil {
		return "", err
	}
	parts := append([]string{"auth", a.Method, a.Mount}, a.Identity()...)
	return cache.Key(append(parts, proof...)...), nil
}

package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Vault auth methods the helper logs in with. AuthToken is no login at all:
// the token comes from VAULT_TOKEN, the token helper or ~/.vault-token.
const (
	AuthToken      = "token"
	AuthAppRole    = "approle"
	AuthKubernetes = "kubernetes"
	AuthJWT        = "jwt"
	AuthUserpass   = "userpass"
	AuthLDAP       = "ldap"
	AuthCert       = "cert"
	AuthOIDC       = "oidc"
	AuthAWS        = "aws"
)

// Defaults of the oidc method. The redirect URI is Vault's own convention
// (`vault login -method=oidc` listens there too), so roles set up for the
// Vault CLI work unchanged.
const (
	DefaultOIDCRedirectURI  = "http://localhost:8250/oidc/callback"
	DefaultOIDCLoginTimeout = 2 * time.Minute
)

// DefaultKubernetesJWTFile is where Kubernetes mounts a pod's service
// account token.
const DefaultKubernetesJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// AuthTable is a [vault.auth] or [profiles.NAME.auth] table. No key holds a
// secret: secrets are named by the file or environment variable they are
// in, so the configuration file can be shared and checked in.
type AuthTable struct {
	Method          string `toml:"method"`
	Mount           string `toml:"mount"`
	RoleID          string `toml:"role_id"`
	SecretIDFile    string `toml:"secret_id_file"`
	SecretIDEnv     string `toml:"secret_id_env"`
	SecretIDWrapped *bool  `toml:"secret_id_wrapped"`
	Role            string `toml:"role"`
	JWTFile         string `toml:"jwt_file"`
	JWTEnv          string `toml:"jwt_env"`
	Username        string `toml:"username"`
	PasswordFile    string `toml:"password_file"`
	PasswordEnv     string `toml:"password_env"`
	Name            string `toml:"name"`
	ClientCert      string `toml:"client_cert"`
	ClientKey       string `toml:"client_key"`
	RedirectURI     string `toml:"redirect_uri"`
	ListenAddress   string `toml:"listen_address"`
	SkipBrowser     *bool  `toml:"skip_browser"`
	LoginTimeout    string `toml:"login_timeout"`
	ExpectIdentity  string `toml:"expect_identity"`
	MFACommand      string `toml:"mfa_command"`
	Credentials     string `toml:"credentials"`
	IAMServerID     string `toml:"iam_server_id_header_value"`
	STSRegion       string `toml:"sts_region"`
	STSEndpoint     string `toml:"sts_endpoint"`
}

// Auth is how the helper authenticates to Vault, resolved and validated.
// The zero value is token auth.
type Auth struct {
	Method string // one of the Auth constants; "" counts as AuthToken
	Mount  string // path the method is enabled at, without "auth/"; "" for token

	RoleID          string // approle
	SecretIDFile    string // approle: file holding the secret id
	SecretIDEnv     string // approle: variable holding the secret id
	SecretIDWrapped bool   // approle: the secret id is a response-wrapping token
	Role            string // kubernetes, jwt
	JWTFile         string // kubernetes (default DefaultKubernetesJWTFile), jwt
	JWTEnv          string // jwt
	Username        string // userpass, ldap
	PasswordFile    string // userpass, ldap
	PasswordEnv     string // userpass, ldap; neither: a prompt on the terminal
	Name            string // cert: the certificate role, optional
	ClientCert      string // cert: VAULT_CLIENT_CERT, else client_cert
	ClientKey       string // cert: VAULT_CLIENT_KEY, else client_key
	// oidc: where the browser is sent back to (DefaultOIDCRedirectURI), the
	// loopback host:port listened on for it ("": the redirect URI's port on
	// loopback), whether to leave the browser closed and only show the URL,
	// and how long to wait for the person at the browser.
	RedirectURI   string
	ListenAddress string
	SkipBrowser   bool
	LoginTimeout  time.Duration
	// oidc: who must sign in at the browser (alias name, entity name or
	// entity id); "" for anyone the role lets in.
	ExpectIdentity string
	// MFACommand prints the passcode of Vault's Login MFA (TOTP) when a
	// login asks for one; without it the helper asks at the terminal.
	MFACommand string
	// aws: where the AWS credentials that sign the login come from, as
	// stated ("env", "profile:NAME", "container", "imds"; see
	// AWSCredentialSource); the X-Vault-AWS-IAM-Server-ID header's value;
	// the STS region and endpoint URL the request is signed for ("": see
	// internal/awslogin for the defaults).
	Credentials string
	IAMServerID string
	STSRegion   string
	STSEndpoint string
}

// Interactive reports whether logging in waits for a person (a browser).
func (a *Auth) Interactive() bool { return a.Method == AuthOIDC }

// IsToken reports whether a is plain token auth (no login).
func (a *Auth) IsToken() bool { return a.Method == "" || a.Method == AuthToken }

// Identity names who logs in, as name/value pairs: never a secret, only
// what the settings say, so it is known without reading a file or asking
// Vault. It is part of the cache keys, so two identities never share
// credentials or a login token. Token auth has none.
func (a *Auth) Identity() []string {
	switch a.Method {
	case AuthAppRole:
		return []string{"role_id", a.RoleID}
	case AuthKubernetes:
		return []string{"role", a.Role, "jwt_file", a.JWTFile}
	case AuthOIDC:
		// Whoever signs in at the browser: the role names what they may
		// become; the person is known only after the login (the entity
		// is recorded in the token file, not in the key). A pin keeps the
		// tokens of logins before it, which it did not check, out of use.
		if a.ExpectIdentity != "" {
			return []string{"role", a.Role, "expect_identity", a.ExpectIdentity}
		}
		return []string{"role", a.Role}
	case AuthJWT:
		if a.JWTEnv != "" {
			return []string{"role", a.Role, "jwt_env", a.JWTEnv}
		}
		return []string{"role", a.Role, "jwt_file", a.JWTFile}
	case AuthUserpass, AuthLDAP:
		return []string{"username", a.Username}
	case AuthCert:
		return []string{"name", a.Name, "client_cert", a.ClientCert}
	case AuthAWS:
		// Whose keys sign is added by the caller (an access key id, or the
		// endpoint that hands them out): the source names no principal.
		return []string{"role", a.Role, "credentials", a.Credentials}
	}
	return nil
}

// Describe is the method, mount and identity in one line, for --debug and
// error messages.
func (a *Auth) Describe() string {
	if a.IsToken() {
		return AuthToken
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s at auth/%s", a.Method, a.Mount)
	id := a.Identity()
	for i := 0; i+1 < len(id); i += 2 {
		if id[i+1] != "" {
			fmt.Fprintf(&b, ", %s %s", id[i], id[i+1])
		}
	}
	return b.String()
}

// authKey is one key of an auth table.
type authKey struct {
	name string // TOML key
	env  bool   // settable with VAULT_CREDENTIAL_PROCESS_AUTH_<NAME>
	get  func(*AuthTable) string
	set  func(*Auth, string)
}

var authKeys = []authKey{
	{"method", true, func(t *AuthTable) string { return t.Method }, func(a *Auth, v string) { a.Method = v }},
	{"mount", true, func(t *AuthTable) string { return t.Mount }, func(a *Auth, v string) { a.Mount = v }},
	{"role_id", true, func(t *AuthTable) string { return t.RoleID }, func(a *Auth, v string) { a.RoleID = v }},
	{"secret_id_file", true, func(t *AuthTable) string { return t.SecretIDFile }, func(a *Auth, v string) { a.SecretIDFile = v }},
	{"secret_id_env", true, func(t *AuthTable) string { return t.SecretIDEnv }, func(a *Auth, v string) { a.SecretIDEnv = v }},
	{"secret_id_wrapped", true, func(t *AuthTable) string {
		if t.SecretIDWrapped == nil {
			return ""
		}
		return strconv.FormatBool(*t.SecretIDWrapped)
	}, nil}, // parsed on its own: a boolean
	{"role", true, func(t *AuthTable) string { return t.Role }, func(a *Auth, v string) { a.Role = v }},
	{"jwt_file", true, func(t *AuthTable) string { return t.JWTFile }, func(a *Auth, v string) { a.JWTFile = v }},
	{"jwt_env", true, func(t *AuthTable) string { return t.JWTEnv }, func(a *Auth, v string) { a.JWTEnv = v }},
	{"username", true, func(t *AuthTable) string { return t.Username }, func(a *Auth, v string) { a.Username = v }},
	{"password_file", true, func(t *AuthTable) string { return t.PasswordFile }, func(a *Auth, v string) { a.PasswordFile = v }},
	{"password_env", true, func(t *AuthTable) string { return t.PasswordEnv }, func(a *Auth, v string) { a.PasswordEnv = v }},
	{"name", true, func(t *AuthTable) string { return t.Name }, func(a *Auth, v string) { a.Name = v }},
	// VAULT_CLIENT_CERT and VAULT_CLIENT_KEY stand in for these two.
	{"client_cert", false, func(t *AuthTable) string { return t.ClientCert }, func(a *Auth, v string) { a.ClientCert = v }},
	{"client_key", false, func(t *AuthTable) string { return t.ClientKey }, func(a *Auth, v string) { a.ClientKey = v }},
	{"redirect_uri", true, func(t *AuthTable) string { return t.RedirectURI }, func(a *Auth, v string) { a.RedirectURI = v }},
	{"listen_address", true, func(t *AuthTable) string { return t.ListenAddress }, func(a *Auth, v string) { a.ListenAddress = v }},
	{"skip_browser", true, func(t *AuthTable) string {
		if t.SkipBrowser == nil {
			return ""
		}
		return strconv.FormatBool(*t.SkipBrowser)
	}, nil}, // parsed on its own: a boolean
	{"login_timeout", true, func(t *AuthTable) string { return t.LoginTimeout }, nil}, // parsed on its own: a duration
	{"expect_identity", true, func(t *AuthTable) string { return t.ExpectIdentity }, func(a *Auth, v string) { a.ExpectIdentity = v }},
	{"mfa_command", true, func(t *AuthTable) string { return t.MFACommand }, func(a *Auth, v string) { a.MFACommand = v }},
	{"credentials", true, func(t *AuthTable) string { return t.Credentials }, func(a *Auth, v string) { a.Credentials = v }},
	{"iam_server_id_header_value", true, func(t *AuthTable) string { return t.IAMServerID }, func(a *Auth, v string) { a.IAMServerID = v }},
	{"sts_region", true, func(t *AuthTable) string { return t.STSRegion }, func(a *Auth, v string) { a.STSRegion = v }},
	{"sts_endpoint", true, func(t *AuthTable) string { return t.STSEndpoint }, func(a *Auth, v string) { a.STSEndpoint = v }},
}

// authMethod lists the keys a method uses (besides method and mount).
type authMethod struct {
	required []string
	optional []string
	// exactlyOne: one of these must be set, and only one.
	exactlyOne []string
	// atMostOne: none or one of these.
	atMostOne []string
}

// Every login method may meet Vault's Login MFA, so each takes mfa_command.
var authMethods = map[string]authMethod{
	AuthToken:      {},
	AuthAppRole:    {required: []string{"role_id"}, optional: []string{"secret_id_wrapped", "mfa_command"}, exactlyOne: []string{"secret_id_file", "secret_id_env"}},
	AuthKubernetes: {required: []string{"role"}, optional: []string{"jwt_file", "mfa_command"}},
	AuthJWT:        {required: []string{"role"}, optional: []string{"mfa_command"}, exactlyOne: []string{"jwt_file", "jwt_env"}},
	AuthUserpass:   {required: []string{"username"}, optional: []string{"mfa_command"}, atMostOne: []string{"password_file", "password_env"}},
	AuthLDAP:       {required: []string{"username"}, optional: []string{"mfa_command"}, atMostOne: []string{"password_file", "password_env"}},
	AuthCert:       {optional: []string{"name", "client_cert", "client_key", "mfa_command"}},
	AuthOIDC:       {required: []string{"role"}, optional: []string{"redirect_uri", "listen_address", "skip_browser", "login_timeout", "expect_identity", "mfa_command"}},
	// credentials is required: no default chain, so the keys that sign are
	// never, unnoticed, the helper's own (a profile that runs it).
	AuthAWS: {required: []string{"role", "credentials"}, optional: []string{"iam_server_id_header_value", "sts_region", "sts_endpoint", "mfa_command"}},
}

// authMethodNames in the order the README lists them.
var authMethodNames = []string{AuthToken, AuthAppRole, AuthKubernetes, AuthJWT, AuthUserpass, AuthLDAP, AuthCert, AuthOIDC, AuthAWS}

func (m authMethod) uses(key string) bool {
	return slices.Contains(m.required, key) || slices.Contains(m.optional, key) ||
		slices.Contains(m.exactlyOne, key) || slices.Contains(m.atMostOne, key)
}

// authLayer is one source of auth keys: the environment, the profile's auth
// table or [vault.auth].
type authLayer struct {
	values  map[string]value
	table   string // "[profiles.NAME.auth]", "[vault.auth]" or "the environment", for hints
	present bool
}

func (l authLayer) method() value { return l.values["method"] }

// resolveAuth merges the auth layers (environment over the profile's
// [profiles.NAME.auth] over [vault.auth]) and validates the result. A layer
// that names another method than the one chosen is left out whole: its
// keys belong to that method. It reads no file and makes no network call.
func (r *resolver) resolveAuth(prof AuthTable) (Auth, error) {
	layers := r.authLayers(prof)
	method := value{v: AuthToken}
	for _, l := range layers {
		if m := l.method(); m.v != "" {
			method = m
			break
		}
	}
	m, ok := authMethods[method.v]
	if !ok {
		return Auth{}, method.errorf("unknown auth method %q", method.v).
			withHint("use one of " + strings.Join(authMethodNames, ", "))
	}
	merged, where := mergeAuthLayers(layers, method.v)
	a, err := m.check(method, merged, where)
	if err != nil || a.IsToken() {
		return Auth{}, err
	}
	if err := r.checkAuthValues(&a, merged); err != nil {
		return Auth{}, err
	}
	// Files are named absolutely: the AWS clients run the helper from any
	// folder, and the identity in the cache key must not depend on it.
	for _, p := range []*string{&a.SecretIDFile, &a.JWTFile, &a.PasswordFile, &a.ClientCert, &a.ClientKey} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return Auth{}, &Error{Msg: fmt.Sprintf("invalid path %q: %v", *p, err)}
			}
			*p = abs
		}
	}
	return a, nil
}

// authLayers are the sources of auth keys, strongest first: the
// environment, the profile's auth table, [vault.auth].
func (r *resolver) authLayers(prof AuthTable) []authLayer {
	envLayer := authLayer{values: map[string]value{}, table: "the environment"}
	for _, k := range authKeys {
		if !k.env {
			continue
		}
		name := EnvPrefix + "AUTH_" + strings.ToUpper(k.name)
		if v := r.in.Getenv(name); v != "" {
			envLayer.values[k.name] = value{v, name}
			envLayer.present = true
		}
	}
	tableLayer := func(t *AuthTable, prefix, table string) authLayer {
		l := authLayer{values: map[string]value{}, table: table}
		for _, k := range authKeys {
			if v := k.get(t); v != "" {
				l.values[k.name] = value{v, r.fileSource(prefix + k.name)}
				l.present = true
			}
		}
		return l
	}
	layers := []authLayer{envLayer}
	if r.prof != nil {
		p := r.profileName()
		layers = append(layers, tableLayer(&prof, "profiles."+p+".auth.", "[profiles."+p+".auth]"))
	}
	return append(layers, tableLayer(&r.in.File.Vault.Auth, "vault.auth.", "[vault.auth]"))
}

// mergeAuthLayers merges the layers of method, strongest first, skipping
// layers of another method; where names the strongest one used, for hints.
func mergeAuthLayers(layers []authLayer, method string) (merged map[string]value, where string) {
	merged = map[string]value{}
	where = "[vault.auth] or the profile's auth table"
	found := false
	for _, l := range layers {
		if !l.present || (l.method().v != "" && l.method().v != method) {
			continue
		}
		if !found {
			where, found = l.table, true
		}
		for k, v := range l.values {
			if _, ok := merged[k]; !ok {
				merged[k] = v
			}
		}
	}
	return merged, where
}

// check sets the keys the method uses from merged into an Auth, refusing
// keys of other methods, missing required ones, and conflicting ones.
func (m authMethod) check(method value, merged map[string]value, where string) (Auth, error) {
	a := Auth{Method: method.v}
	for _, k := range authKeys {
		v, ok := merged[k.name]
		if !ok || k.name == "method" {
			continue
		}
		if (k.name == "mount" && method.v == AuthToken) || (k.name != "mount" && !m.uses(k.name)) {
			return Auth{}, v.errorf("%s is not used by the %s auth method", k.name, method.v).
				withHint(usedBy(k.name))
		}
		if k.set != nil {
			k.set(&a, strings.TrimSpace(v.v))
		}
	}
	for _, k := range m.required {
		if _, ok := merged[k]; !ok {
			return Auth{}, method.errorf("the %s auth method needs %s", method.v, k).
				withHint(fmt.Sprintf("add %s to %s (or set %sAUTH_%s)", k, where, EnvPrefix, strings.ToUpper(k)))
		}
	}
	if set := setKeys(merged, m.exactlyOne); len(m.exactlyOne) > 0 && len(set) != 1 {
		if len(set) == 0 {
			return Auth{}, method.errorf("the %s auth method needs %s", method.v, strings.Join(m.exactlyOne, " or ")).
				withHint(fmt.Sprintf("secrets never go in the configuration file: name the file or the environment variable that holds it in %s", where))
		}
		return Auth{}, merged[set[1]].errorf("set only one of %s", strings.Join(set, " and ")).
			withHint("remove one of them")
	}
	if set := setKeys(merged, m.atMostOne); len(set) > 1 {
		return Auth{}, merged[set[1]].errorf("set only one of %s", strings.Join(set, " and ")).
			withHint("remove one of them")
	}
	return a, nil
}

// authBool sets *dst from the boolean key of a login method's values, when
// it is set.
func authBool(merged map[string]value, key string, dst *bool) error {
	v, ok := merged[key]
	if !ok {
		return nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v.v))
	if err != nil {
		return v.errorf("invalid boolean %q", v.v).withHint("use true or false")
	}
	*dst = b
	return nil
}

// checkAuthValues validates and completes the values of a login method:
// the mount, booleans, variable names, the user name, the defaults of
// kubernetes and the certificate pair of cert.
func (r *resolver) checkAuthValues(a *Auth, merged map[string]value) error {
	mount := merged["mount"]
	a.Mount = strings.TrimPrefix(strings.Trim(mount.v, "/"), "auth/")
	if a.Mount == "" {
		a.Mount = a.Method
	} else if !validMount(a.Mount) {
		return mount.errorf("invalid auth mount path %q", mount.v).
			withHint("the path the method is enabled at (`vault auth list`), such as approle or team/approle")
	}
	if err := authBool(merged, "secret_id_wrapped", &a.SecretIDWrapped); err != nil {
		return err
	}
	for _, k := range []string{"secret_id_env", "jwt_env", "password_env"} {
		if v, ok := merged[k]; ok && !validEnvName(strings.TrimSpace(v.v)) {
			return v.errorf("%s must name an environment variable, not hold a value", k).
				withHint("use letters, digits and '_', such as VAULT_SECRET_ID; the secret itself goes in that variable")
		}
	}
	// The user name is part of the login path (auth/<mount>/login/<username>).
	if u := merged["username"]; a.Username != "" && (strings.ContainsAny(a.Username, "/?#%\\") || a.Username == "." || a.Username == "..") {
		return u.errorf("invalid username %q", u.v).withHint("a user name cannot contain '/', '?', '#', '%' or '\\'")
	}
	if a.Method == AuthKubernetes && a.JWTFile == "" {
		a.JWTFile = DefaultKubernetesJWTFile
	}
	switch a.Method {
	case AuthCert:
		return r.clientCert(a, merged)
	case AuthOIDC:
		return oidcValues(a, merged)
	case AuthAWS:
		return awsValues(a, merged)
	}
	return nil
}

// clientCert resolves the certificate pair of cert auth: VAULT_CLIENT_CERT
// and VAULT_CLIENT_KEY, else client_cert and client_key; one of each pair
// alone is an error.
func (r *resolver) clientCert(a *Auth, merged map[string]value) error {
	envCert, envKey := r.in.Getenv("VAULT_CLIENT_CERT"), r.in.Getenv("VAULT_CLIENT_KEY")
	if envCert != "" || envKey != "" {
		if envCert == "" || envKey == "" {
			return &Error{Source: "VAULT_CLIENT_CERT, VAULT_CLIENT_KEY", Msg: "set both or neither",
				Hint: "cert auth needs the client certificate and its key"}
		}
		a.ClientCert, a.ClientKey = envCert, envKey
		return nil
	}
	cert, key := merged["client_cert"], merged["client_key"]
	switch {
	case cert.v == "" && key.v == "":
		return &Error{Source: r.in.File.Path, Msg: "the cert auth method needs a client certificate",
			Hint: "set client_cert and client_key in the auth table, or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY"}
	case cert.v == "":
		return key.errorf("client_key without client_cert").withHint("set both, or neither and use VAULT_CLIENT_CERT and VAULT_CLIENT_KEY")
	case key.v == "":
		return cert.errorf("client_cert without client_key").withHint("set both, or neither and use VAULT_CLIENT_CERT and VAULT_CLIENT_KEY")
	}
	return nil
}

func setKeys(merged map[string]value, keys []string) []string {
	var set []string
	for _, k := range keys {
		if _, ok := merged[k]; ok {
			set = append(set, k)
		}
	}
	return set
}

// usedBy is the hint for a key the chosen method does not use.
func usedBy(key string) string {
	var methods []string
	for _, name := range authMethodNames {
		if m := authMethods[name]; m.uses(key) || (key == "mount" && name != AuthToken) {
			methods = append(methods, name)
		}
	}
	return fmt.Sprintf("remove it, or set method to %s", strings.Join(methods, " or "))
}

func validEnvName(s string) bool {
	return s != "" && allOf(s, "") && (s[0] < '0' || s[0] > '9')
}

// secretKeys are keys that would hold a secret itself. None exists; a file
// that has one gets told where the secret goes instead of "unknown key".
var secretKeys = map[string]string{
	"secret_id":      "secret_id_file or secret_id_env",
	"password":       "password_file or password_env (or leave both out to be asked on the terminal)",
	"jwt":            "jwt_file or jwt_env",
	"token":          "VAULT_TOKEN, `vault login` or a token helper",
	"client_token":   "VAULT_TOKEN, `vault login` or a token helper",
	"vault_token":    "VAULT_TOKEN, `vault login` or a token helper",
	"private_key":    "client_key (a file name)",
	"client_key_pem": "client_key (a file name)",
	// The aws method's signing keys.
	"aws_secret_access_key": awsSecretInstead,
	"secret_access_key":     awsSecretInstead,
	"aws_session_token":     awsSecretInstead,
}

const awsSecretInstead = `credentials = "env" (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or "profile:NAME" (the AWS credentials file) in the aws auth table`

// inlineSecret refuses, with its own message, a secret written into the
// file; other unknown keys are left to the caller.
func inlineSecret(path string, keys []toml.Key) *Error {
	for _, k := range keys {
		if len(k) == 0 {
			continue
		}
		if instead, ok := secretKeys[k[len(k)-1]]; ok {
			return &Error{Source: path + ": " + k.String(), Msg: "a secret never goes in the configuration file",
				Hint: "remove it from the file (and rotate it if the file was shared); use " + instead}
		}
	}
	return nil
}

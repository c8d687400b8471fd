package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"
	"github.com/hashicorp/vault/api/auth/ldap"
	"github.com/hashicorp/vault/api/auth/userpass"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/awslogin"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// login logs in with the configured method.
func (l *login) login(ctx context.Context) (*loginEntry, error) {
	method, err := l.method(ctx)
	if err != nil {
		return nil, err
	}
	l.client.ClearToken()
	verb, path := "POST", "auth/"+l.auth.Mount+"/login"
	if l.auth.Method == config.AuthOIDC {
		verb, path = "GET", "auth/"+l.auth.Mount+"/oidc/callback"
	}
	sent := l.now()
	secret, err := l.client.Auth().Login(ctx, method)
	// A browser login is sent when the person is done, not when it began.
	if t, ok := method.(interface{ SentAt() time.Time }); ok && !t.SentAt().IsZero() {
		sent = t.SentAt()
	}
	if mfa := mfaRequirement(secret); mfa != nil {
		l.debugf("%s %s: Login MFA required in %s", verb, path, l.now().Sub(sent).Round(time.Millisecond))
		secret, err = l.loginMFA(ctx, mfa)
	}
	l.debugf("%s %s: %s in %s", verb, path, Outcome(err), l.now().Sub(sent).Round(time.Millisecond))
	var pe *process.Error
	if errors.As(err, &pe) {
		return nil, pe // explained already
	}
	if err != nil {
		return nil, l.loginError(ctx, err, path)
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return nil, &process.Error{Code: process.ExitFailure, Msg: "log in to Vault with " + l.auth.Describe() + ": Vault's answer has no token",
			Hint: "run with --debug to see each step of the login, and check the auth method's configuration in Vault"}
	}
	e := &loginEntry{Token: secret.Auth.ClientToken, Accessor: secret.Auth.Accessor, LoginAt: sent.UTC(), TTL: int64(secret.Auth.LeaseDuration),
		Renewable: secret.Auth.Renewable, Method: l.auth.Method, Mount: l.auth.Mount, Identity: l.auth.Identity(),
		Address: l.s.DisplayAddress(), Namespace: l.s.Namespace, EntityID: secret.Auth.EntityID}
	if e.EntityID != "" {
		l.debugf("auth %s: Vault entity %s", l.auth.Describe(), e.EntityID)
	}
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
		m, err = l.approle()
	case config.AuthKubernetes:
		m, err = l.kubernetes()
	case config.AuthJWT:
		m, err = l.jwt()
	case config.AuthUserpass, config.AuthLDAP:
		m, err = l.password(ctx)
	case config.AuthCert:
		m = l.cert()
	case config.AuthAWS:
		m, err = l.aws(ctx)
	case config.AuthOIDC:
		m, err = l.browser()
	default:
		return nil, &process.Error{Code: process.ExitUsage, Msg: "unknown auth method " + a.Method}
	}
	if err != nil {
		var pe *process.Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, &process.Error{Code: process.ExitUsage, Msg: "set up the " + a.Method + " login: " + config.OneLine(err.Error()), Err: err,
			Hint: "check the auth table of the configuration"}
	}
	return m, nil
}

func (l *login) approle() (api.AuthMethod, error) {
	a := l.auth
	sid := &approle.SecretID{FromEnv: a.SecretIDEnv}
	if err := process.EnvSet(l.getenv, "secret_id_env", a.SecretIDEnv); err != nil {
		return nil, err
	}
	if a.SecretIDFile != "" {
		// Read here, not by the library: bounded, and a FIFO refused.
		var err error
		if sid.FromString, err = readSecretFile("secret_id_file", a.SecretIDFile); err != nil {
			return nil, err
		}
	}
	opts := []approle.LoginOption{approle.WithMountPath(a.Mount)}
	if a.SecretIDWrapped {
		opts = append(opts, approle.WithWrappingToken())
	}
	return approle.NewAppRoleAuth(a.RoleID, sid, opts...)
}

func (l *login) kubernetes() (api.AuthMethod, error) {
	a := l.auth
	token, err := readSecretFile("jwt_file", a.JWTFile)
	if errors.Is(err, fs.ErrNotExist) && a.JWTFile == config.DefaultKubernetesJWTFile {
		return nil, &process.Error{Code: process.ExitUsage, Err: err,
			Msg:  "read the service account token " + a.JWTFile + ": no such file (not in a Kubernetes pod?)",
			Hint: "run in a pod with a service account token, or set jwt_file in the auth table"}
	}
	if err != nil {
		return nil, err
	}
	return kubernetes.NewKubernetesAuth(a.Role, kubernetes.WithMountPath(a.Mount),
		kubernetes.WithServiceAccountToken(token))
}

func (l *login) jwt() (api.AuthMethod, error) {
	a := l.auth
	jwt, err := readSecret(l.getenv, "jwt_file", a.JWTFile, "jwt_env", a.JWTEnv)
	if err != nil {
		return nil, err
	}
	return &plainLogin{path: "auth/" + a.Mount + "/login", data: map[string]any{"role": a.Role, "jwt": jwt}}, nil
}

// password is the userpass or ldap login, with the password from
// password_file, password_env or the terminal.
func (l *login) password(ctx context.Context) (api.AuthMethod, error) {
	a := l.auth
	var from struct{ env, value string }
	var err error
	switch {
	case a.PasswordFile != "":
		if from.value, err = readSecretFile("password_file", a.PasswordFile); err != nil {
			return nil, err
		}
	case a.PasswordEnv != "":
		if err := process.EnvSet(l.getenv, "password_env", a.PasswordEnv); err != nil {
			return nil, err
		}
		from.env = a.PasswordEnv
	default:
		if from.value, err = promptPassword(ctx, a, l.openTTY); err != nil {
			return nil, err
		}
	}
	if a.Method == config.AuthUserpass {
		return userpass.NewUserpassAuth(a.Username,
			&userpass.Password{FromEnv: from.env, FromString: from.value}, userpass.WithMountPath(a.Mount))
	}
	return ldap.NewLDAPAuth(a.Username,
		&ldap.Password{FromEnv: from.env, FromString: from.value}, ldap.WithMountPath(a.Mount))
}

// aws is the aws method's login: a signed sts:GetCallerIdentity from the
// source the auth table states (internal/awslogin).
func (l *login) aws(ctx context.Context) (api.AuthMethod, error) {
	a := l.auth
	data, err := awslogin.Login(ctx, process.AWSSource(&a, l.s.Timeout, l.debugf, l.getenv, l.stderr),
		awslogin.Request{Role: a.Role, ServerID: a.IAMServerID, Region: a.STSRegion, Endpoint: a.STSEndpoint})
	if err != nil {
		return nil, process.AWSError(err)
	}
	return &plainLogin{path: "auth/" + a.Mount + "/login", data: data}, nil
}

func (l *login) cert() api.AuthMethod {
	data := map[string]any{}
	if l.auth.Name != "" {
		data["name"] = l.auth.Name
	}
	return &plainLogin{path: "auth/" + l.auth.Mount + "/login", data: data}
}

// browser is the oidc login that internal/vault/oidc plugs in (Options.OIDC);
// it needs a person at the browser.
func (l *login) browser() (api.AuthMethod, error) {
	a := l.auth
	if l.unattended != nil && l.unattended() {
		return nil, &process.Error{Code: process.ExitFailure, Err: errUnattended,
			Msg:  "log in to Vault with " + a.Describe() + ": the stored login token is used up, and a browser login needs a person",
			Hint: "log in again from a terminal (vault-credential-process doctor with the same profile); the server picks the new token up at its next refresh"}
	}
	if l.oidc.Login == nil {
		return nil, &process.Error{Code: process.ExitUsage, Msg: "log in to Vault with " + a.Describe() + ": this build has no browser login"}
	}
	return l.oidc.Login(BrowserLogin{Auth: a, Timeout: l.s.Timeout, Getenv: l.getenv, OpenTTY: l.openTTY,
		Stderr: l.stderr, Debugf: l.debugf, Now: l.now}), nil
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

// readSecret reads a secret from the file, else the variable (read with
// getenv), the settings name; it is trimmed of surrounding white space.
func readSecret(getenv func(string) string, fileKey, file, envKey, env string) (string, error) {
	if file != "" {
		return readSecretFile(fileKey, file)
	}
	if err := process.EnvSet(getenv, envKey, env); err != nil {
		return "", err
	}
	return strings.TrimSpace(getenv(env)), nil
}

// readSecretFile reads the secret in file (the settings' key names it in
// errors) as process.ReadProof reads a JWT: at most 64 KiB, a FIFO or other
// special file refused rather than blocked on, trimmed of white space.
func readSecretFile(key, file string) (string, error) {
	b, err := process.ReadProof(file)
	if err != nil {
		return "", &process.Error{Code: process.ExitUsage, Err: err, Msg: fmt.Sprintf("read %s %s: %s", key, file, config.PathReason(err)),
			Hint: "check " + key + " in the auth table: the file must exist, be a regular file and be readable by you"}
	}
	if s := strings.TrimSpace(string(b)); s != "" {
		return s, nil
	}
	return "", &process.Error{Code: process.ExitUsage, Msg: fmt.Sprintf("%s %s is empty", key, file),
		Hint: "put the secret in that file, or name another one"}
}

// configureClientCert presents the cert method's client certificate from
// client_cert and client_key; vault/api has already loaded
// VAULT_CLIENT_CERT and VAULT_CLIENT_KEY, which take precedence.
func configureClientCert(cfg *api.Config, s *config.Settings, getenv func(string) string) error {
	a := s.Auth
	if a.Method != config.AuthCert || a.ClientCert == "" || getenv("VAULT_CLIENT_CERT") != "" {
		return nil
	}
	if err := cfg.ConfigureTLS(&api.TLSConfig{ClientCert: a.ClientCert, ClientKey: a.ClientKey}); err != nil {
		return &process.Error{Code: process.ExitUsage, Err: err,
			Msg:  fmt.Sprintf("load the client certificate %s and key %s: %s", a.ClientCert, a.ClientKey, config.OneLine(err.Error())),
			Hint: "check client_cert and client_key in the auth table: PEM files of a certificate and its private key"}
	}
	return nil
}

package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const authPath = "/etc/vcp/config.toml"

// authResolve parses toml as the file at authPath and resolves it for role x, with
// env as the whole environment and extra flags.
func authResolve(t *testing.T, toml string, env map[string]string, flags *Flags) (*Settings, error) {
	t.Helper()
	f, err := Parse(authPath, []byte(toml))
	if err != nil {
		return nil, err
	}
	fl := &Flags{IDRole: "x", IDCacheDir: "/tmp/vcp-cache"}
	if flags != nil {
		for id, v := range flags {
			if v != "" {
				fl[id] = v
			}
		}
	}
	return Resolve(Inputs{Flags: fl, Getenv: func(k string) string { return env[k] }, File: f})
}

func TestResolveAuth(t *testing.T) {
	approle := `
[vault.auth]
method = "approle"
role_id = "rid-default"
secret_id_file = "/run/secrets/sid"

[profiles.p]
role = "x"
[profiles.p.auth]
role_id = "rid-profile"

[profiles.u]
role = "x"
[profiles.u.auth]
method = "userpass"
username = "alice"
password_env = "PW"
`
	tests := []struct {
		name  string
		toml  string
		env   map[string]string
		flags *Flags
		want  Auth
	}{
		{"no auth table is token auth", "", nil, nil, Auth{}},
		{"explicit token", "[vault.auth]\nmethod = \"token\"\n", nil, nil, Auth{}},
		{"defaults table", approle, nil, nil,
			Auth{Method: AuthAppRole, Mount: "approle", RoleID: "rid-default", SecretIDFile: "/run/secrets/sid"}},
		{"profile key over defaults table, same method", approle, nil, &Flags{IDProfile: "p"},
			Auth{Method: AuthAppRole, Mount: "approle", RoleID: "rid-profile", SecretIDFile: "/run/secrets/sid"}},
		{"profile of another method drops the defaults table", approle, nil, &Flags{IDProfile: "u"},
			Auth{Method: AuthUserpass, Mount: "userpass", Username: "alice", PasswordEnv: "PW"}},
		{"environment over profile", approle, map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_ROLE_ID": "rid-env"},
			&Flags{IDProfile: "p"},
			Auth{Method: AuthAppRole, Mount: "approle", RoleID: "rid-env", SecretIDFile: "/run/secrets/sid"}},
		{"environment names another method", approle, map[string]string{
			"VAULT_CREDENTIAL_PROCESS_AUTH_METHOD": "kubernetes", "VAULT_CREDENTIAL_PROCESS_AUTH_ROLE": "app"}, nil,
			Auth{Method: AuthKubernetes, Mount: "kubernetes", Role: "app", JWTFile: DefaultKubernetesJWTFile}},
		{"environment only", "", map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_METHOD": "jwt",
			"VAULT_CREDENTIAL_PROCESS_AUTH_ROLE": "ci", "VAULT_CREDENTIAL_PROCESS_AUTH_JWT_ENV": "CI_JWT",
			"VAULT_CREDENTIAL_PROCESS_AUTH_MOUNT": "gitlab"}, nil,
			Auth{Method: AuthJWT, Mount: "gitlab", Role: "ci", JWTEnv: "CI_JWT"}},
		{"mount with auth/ prefix and slashes", "[vault.auth]\nmethod = \"ldap\"\nmount = \"/auth/corp/ldap/\"\nusername = \"bob\"\n", nil, nil,
			Auth{Method: AuthLDAP, Mount: "corp/ldap", Username: "bob"}},
		{"wrapped secret id", "[vault.auth]\nmethod = \"approle\"\nrole_id = \"r\"\nsecret_id_env = \"SID\"\nsecret_id_wrapped = true\n", nil, nil,
			Auth{Method: AuthAppRole, Mount: "approle", RoleID: "r", SecretIDEnv: "SID", SecretIDWrapped: true}},
		{"cert from the file", "[vault.auth]\nmethod = \"cert\"\nname = \"web\"\nclient_cert = \"/c.pem\"\nclient_key = \"/k.pem\"\n", nil, nil,
			Auth{Method: AuthCert, Mount: "cert", Name: "web", ClientCert: "/c.pem", ClientKey: "/k.pem"}},
		{"cert: VAULT_CLIENT_CERT over the file", "[vault.auth]\nmethod = \"cert\"\nclient_cert = \"/c.pem\"\nclient_key = \"/k.pem\"\n",
			map[string]string{"VAULT_CLIENT_CERT": "/env/c.pem", "VAULT_CLIENT_KEY": "/env/k.pem"}, nil,
			Auth{Method: AuthCert, Mount: "cert", ClientCert: "/env/c.pem", ClientKey: "/env/k.pem"}},
		{"oidc defaults", "[vault.auth]\nmethod = \"oidc\"\nrole = \"dev\"\n", nil, nil,
			Auth{Method: AuthOIDC, Mount: "oidc", Role: "dev", RedirectURI: DefaultOIDCRedirectURI,
				ListenAddress: "localhost:8250", LoginTimeout: DefaultOIDCLoginTimeout}},
		{"oidc: every key", `
[profiles.p]
role = "x"
[profiles.p.auth]
method = "oidc"
mount = "corp-sso"
role = "dev"
redirect_uri = "http://127.0.0.1:18250/cb"
skip_browser = true
login_timeout = "5m"
`, nil, &Flags{IDProfile: "p"},
			Auth{Method: AuthOIDC, Mount: "corp-sso", Role: "dev", RedirectURI: "http://127.0.0.1:18250/cb",
				ListenAddress: "127.0.0.1:18250", SkipBrowser: true, LoginTimeout: 5 * time.Minute}},
		{"oidc: a forwarded host is listened for on loopback", "[vault.auth]\nmethod = \"oidc\"\nrole = \"dev\"\nredirect_uri = \"http://devbox.internal:9000/oidc/callback\"\n", nil, nil,
			Auth{Method: AuthOIDC, Mount: "oidc", Role: "dev", RedirectURI: "http://devbox.internal:9000/oidc/callback",
				ListenAddress: "localhost:9000", LoginTimeout: DefaultOIDCLoginTimeout}},
		{"oidc: listen_address and the environment", "[vault.auth]\nmethod = \"oidc\"\nrole = \"dev\"\n",
			map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_LISTEN_ADDRESS": "[::1]:8300",
				"VAULT_CREDENTIAL_PROCESS_AUTH_LOGIN_TIMEOUT": "90", "VAULT_CREDENTIAL_PROCESS_AUTH_SKIP_BROWSER": "1"}, nil,
			Auth{Method: AuthOIDC, Mount: "oidc", Role: "dev", RedirectURI: DefaultOIDCRedirectURI,
				ListenAddress: "[::1]:8300", SkipBrowser: true, LoginTimeout: 90 * time.Second}},
		{"aws: environment keys", "[vault.auth]\nmethod = \"aws\"\nrole = \"ec2\"\ncredentials = \"env\"\n", nil, nil,
			Auth{Method: AuthAWS, Mount: "aws", Role: "ec2", Credentials: "env"}},
		{"aws: a profile and every option", "[vault.auth]\nmethod = \"aws\"\nmount = \"aws-iam\"\nrole = \"ci\"\ncredentials = \"profile:ci-signer\"\n" +
			"iam_server_id_header_value = \"vault.example.com\"\nsts_region = \"eu-west-1\"\nsts_endpoint = \"https://sts.eu-west-1.amazonaws.com\"\n", nil, nil,
			Auth{Method: AuthAWS, Mount: "aws-iam", Role: "ci", Credentials: "profile:ci-signer", IAMServerID: "vault.example.com",
				STSRegion: "eu-west-1", STSEndpoint: "https://sts.eu-west-1.amazonaws.com"}},
		{"aws: from the environment", "", map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_METHOD": "aws",
			"VAULT_CREDENTIAL_PROCESS_AUTH_ROLE": "task", "VAULT_CREDENTIAL_PROCESS_AUTH_CREDENTIALS": "container"}, nil,
			Auth{Method: AuthAWS, Mount: "aws", Role: "task", Credentials: "container"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := authResolve(t, tt.toml, tt.env, tt.flags)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if !reflect.DeepEqual(s.Auth, tt.want) {
				t.Errorf("Auth =\n%+v\nwant\n%+v", s.Auth, tt.want)
			}
		})
	}
}

func TestResolveAuthErrors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		env  map[string]string
		src  string // Error.Source
		msg  string // in Error.Msg
		hint string // in Error.Hint
	}{
		{"unknown method", "[vault.auth]\nmethod = \"kerberos\"\n", nil,
			authPath + ": vault.auth.method", `unknown auth method "kerberos"`, "approle"},
		{"unknown method from the environment", "", map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_METHOD": "saml"},
			"VAULT_CREDENTIAL_PROCESS_AUTH_METHOD", `unknown auth method "saml"`, "oidc"},
		{"missing role_id", "[vault.auth]\nmethod = \"approle\"\nsecret_id_env = \"SID\"\n", nil,
			authPath + ": vault.auth.method", "the approle auth method needs role_id", "add role_id to [vault.auth]"},
		{"missing secret source", "[vault.auth]\nmethod = \"approle\"\nrole_id = \"r\"\n", nil,
			authPath + ": vault.auth.method", "needs secret_id_file or secret_id_env", "never go in the configuration file"},
		{"two secret sources", "[vault.auth]\nmethod = \"approle\"\nrole_id = \"r\"\nsecret_id_env = \"S\"\nsecret_id_file = \"/s\"\n", nil,
			authPath + ": vault.auth.secret_id_env", "set only one of secret_id_file and secret_id_env", "remove one"},
		{"jwt needs a source", "[vault.auth]\nmethod = \"jwt\"\nrole = \"ci\"\n", nil,
			authPath + ": vault.auth.method", "needs jwt_file or jwt_env", ""},
		{"two password sources", "[vault.auth]\nmethod = \"userpass\"\nusername = \"a\"\npassword_env = \"P\"\npassword_file = \"/p\"\n", nil,
			authPath + ": vault.auth.password_env", "set only one of password_file and password_env", ""},
		{"key of another method", "[vault.auth]\nmethod = \"userpass\"\nusername = \"a\"\nrole_id = \"r\"\n", nil,
			authPath + ": vault.auth.role_id", "role_id is not used by the userpass auth method", "approle"},
		{"key without a method", "[vault.auth]\nusername = \"a\"\n", nil,
			authPath + ": vault.auth.username", "username is not used by the token auth method", "userpass or ldap"},
		{"mount with token auth", "[vault.auth]\nmount = \"x\"\n", nil,
			authPath + ": vault.auth.mount", "mount is not used by the token auth method", "approle"},
		{"invalid mount", "[vault.auth]\nmethod = \"userpass\"\nusername = \"a\"\nmount = \"../x\"\n", nil,
			authPath + ": vault.auth.mount", "invalid auth mount path", ""},
		{"value in a *_env key", "[vault.auth]\nmethod = \"userpass\"\nusername = \"a\"\npassword_env = \"hunter2!\"\n", nil,
			authPath + ": vault.auth.password_env", "must name an environment variable", "the secret itself goes in that variable"},
		{"bad boolean from the environment", "[vault.auth]\nmethod = \"approle\"\nrole_id = \"r\"\nsecret_id_env = \"S\"\n",
			map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_SECRET_ID_WRAPPED": "maybe"},
			"VAULT_CREDENTIAL_PROCESS_AUTH_SECRET_ID_WRAPPED", `invalid boolean "maybe"`, "true or false"},
		{"username with a slash", "[vault.auth]\nmethod = \"ldap\"\nusername = \"../../sys/x\"\n", nil,
			authPath + ": vault.auth.username", "invalid username", "cannot contain '/'"},
		{"cert without a certificate", "[vault.auth]\nmethod = \"cert\"\n", nil,
			authPath, "needs a client certificate", "VAULT_CLIENT_CERT"},
		{"cert key alone", "[vault.auth]\nmethod = \"cert\"\nclient_key = \"/k.pem\"\n", nil,
			authPath + ": vault.auth.client_key", "client_key without client_cert", ""},
		{"VAULT_CLIENT_CERT alone", "[vault.auth]\nmethod = \"cert\"\n", map[string]string{"VAULT_CLIENT_CERT": "/c.pem"},
			"VAULT_CLIENT_CERT, VAULT_CLIENT_KEY", "set both or neither", ""},
		{"client_cert with approle", "[vault.auth]\nmethod = \"approle\"\nrole_id = \"r\"\nsecret_id_env = \"S\"\nclient_cert = \"/c\"\n", nil,
			authPath + ": vault.auth.client_cert", "client_cert is not used by the approle auth method", "cert"},
		{"oidc without a role", "[vault.auth]\nmethod = \"oidc\"\n", nil,
			authPath + ": vault.auth.method", "the oidc auth method needs role", "add role to [vault.auth]"},
		{"oidc: bad login_timeout", "[vault.auth]\nmethod = \"oidc\"\nrole = \"r\"\nlogin_timeout = \"soon\"\n", nil,
			authPath + ": vault.auth.login_timeout", `invalid duration "soon"`, "90m"},
		{"oidc: zero login_timeout", "[vault.auth]\nmethod = \"oidc\"\nrole = \"r\"\n",
			map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_LOGIN_TIMEOUT": "0s"},
			"VAULT_CREDENTIAL_PROCESS_AUTH_LOGIN_TIMEOUT", `invalid duration "0s"`, "above zero"},
		{"oidc: bad skip_browser", "[vault.auth]\nmethod = \"oidc\"\nrole = \"r\"\n",
			map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_SKIP_BROWSER": "perhaps"},
			"VAULT_CREDENTIAL_PROCESS_AUTH_SKIP_BROWSER", `invalid boolean "perhaps"`, "true or false"},
		{"oidc: https redirect_uri", "[vault.auth]\nmethod = \"oidc\"\nrole = \"r\"\nredirect_uri = \"https://localhost:8250/oidc/callback\"\n", nil,
			authPath + ": vault.auth.redirect_uri", "invalid redirect_uri", "allowed_redirect_uris"},
		{"oidc: redirect_uri with a query", "[vault.auth]\nmethod = \"oidc\"\nrole = \"r\"\nredirect_uri = \"http://localhost:8250/cb?x=1\"\n", nil,
			authPath + ": vault.auth.redirect_uri", "invalid redirect_uri", ""},
		{"oidc: listen on every interface", "[vault.auth]\nmethod = \"oidc\"\nrole = \"r\"\nlisten_address = \"0.0.0.0:8250\"\n", nil,
			authPath + ": vault.auth.listen_address", "is not a loopback address", "paste"},
		{"oidc: listen_address without a port", "[vault.auth]\nmethod = \"oidc\"\nrole = \"r\"\nlisten_address = \"127.0.0.1\"\n", nil,
			authPath + ": vault.auth.listen_address", "invalid listen_address", "127.0.0.1:8250"},
		{"aws: no credentials source", "[vault.auth]\nmethod = \"aws\"\nrole = \"r\"\n", nil,
			authPath + ": vault.auth.method", "the aws auth method needs credentials", "add credentials to [vault.auth]"},
		{"aws: unknown credentials source", "[vault.auth]\nmethod = \"aws\"\nrole = \"r\"\ncredentials = \"default\"\n", nil,
			authPath + ": vault.auth.credentials", `invalid credentials "default"`, `"profile:NAME"`},
		{"aws: profile without a name", "[vault.auth]\nmethod = \"aws\"\nrole = \"r\"\ncredentials = \"profile:\"\n", nil,
			authPath + ": vault.auth.credentials", `invalid credentials "profile:"`, ""},
		{"aws: profile name with a blank", "[vault.auth]\nmethod = \"aws\"\nrole = \"r\"\ncredentials = \"profile:a b\"\n", nil,
			authPath + ": vault.auth.credentials", `invalid credentials`, ""},
		{"aws: bad sts_region", "[vault.auth]\nmethod = \"aws\"\nrole = \"r\"\ncredentials = \"env\"\nsts_region = \"EU West\"\n", nil,
			authPath + ": vault.auth.sts_region", `invalid sts_region "EU West"`, "us-east-1"},
		{"aws: sts_endpoint not a URL", "[vault.auth]\nmethod = \"aws\"\nrole = \"r\"\ncredentials = \"env\"\nsts_endpoint = \"sts.amazonaws.com\"\n", nil,
			authPath + ": vault.auth.sts_endpoint", "invalid sts_endpoint", "config/client"},
		{"aws: sts_endpoint with a query", "[vault.auth]\nmethod = \"aws\"\nrole = \"r\"\ncredentials = \"env\"\nsts_endpoint = \"https://sts.amazonaws.com/?a=b\"\n", nil,
			authPath + ": vault.auth.sts_endpoint", "invalid sts_endpoint", ""},
		{"aws: sts_region with userpass", "[vault.auth]\nmethod = \"userpass\"\nusername = \"a\"\nsts_region = \"us-east-1\"\n", nil,
			authPath + ": vault.auth.sts_region", "sts_region is not used by the userpass auth method", "aws"},
		{"redirect_uri with userpass", "[vault.auth]\nmethod = \"userpass\"\nusername = \"a\"\nredirect_uri = \"http://localhost:1/x\"\n", nil,
			authPath + ": vault.auth.redirect_uri", "redirect_uri is not used by the userpass auth method", "oidc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authResolve(t, tt.toml, tt.env, nil)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Resolve = %v, want a *config.Error", err)
			}
			if ce.Source != tt.src || !strings.Contains(ce.Msg, tt.msg) || !strings.Contains(ce.Hint, tt.hint) {
				t.Errorf("error %q (source %q, hint %q);\nwant source %q, message with %q, hint with %q",
					ce.Msg, ce.Source, ce.Hint, tt.src, tt.msg, tt.hint)
			}
		})
	}
}

// TestParseRefusesInlineSecrets: no key holds a secret; one that would is named as
// such, with where the secret goes instead.
func TestParseRefusesInlineSecrets(t *testing.T) {
	for _, tt := range []struct{ toml, key, instead string }{
		{"[vault.auth]\nsecret_id = \"s3cr3t-value\"\n", "vault.auth.secret_id", "secret_id_file"},
		{"[profiles.p]\nrole = \"x\"\n[profiles.p.auth]\npassword = \"s3cr3t-value\"\n", "profiles.p.auth.password", "password_env"},
		{"[vault.auth]\njwt = \"s3cr3t-value\"\n", "vault.auth.jwt", "jwt_file"},
		{"[vault]\ntoken = \"s3cr3t-value\"\n", "vault.token", "VAULT_TOKEN"},
		{"[vault.auth]\naws_secret_access_key = \"s3cr3t-value\"\n", "vault.auth.aws_secret_access_key", `credentials = "env"`},
	} {
		t.Run(tt.key, func(t *testing.T) {
			_, err := Parse(authPath, []byte(tt.toml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse = %v, want a *config.Error", err)
			}
			if ce.Source != authPath+": "+tt.key || !strings.Contains(ce.Msg, "a secret never goes in the configuration file") ||
				!strings.Contains(ce.Hint, tt.instead) {
				t.Errorf("error %q (source %q, hint %q)", ce.Msg, ce.Source, ce.Hint)
			}
			if strings.Contains(ce.Error()+ce.Hint, "s3cr3t-value") {
				t.Errorf("the error repeats the secret: %q %q", ce.Error(), ce.Hint)
			}
		})
	}
	t.Run("other unknown keys stay unknown", func(t *testing.T) {
		_, err := Parse(authPath, []byte("[vault.auth]\nrole_idd = \"x\"\n"))
		if err == nil || !strings.Contains(err.Error(), "unknown key vault.auth.role_idd") {
			t.Errorf("Parse = %v", err)
		}
	})
}

func TestAuthIdentity(t *testing.T) {
	tests := []struct {
		a        Auth
		identity []string
		describe string
	}{
		{Auth{}, nil, "token"},
		{Auth{Method: AuthAppRole, Mount: "approle", RoleID: "rid", SecretIDFile: "/s"}, []string{"role_id", "rid"},
			"approle at auth/approle, role_id rid"},
		{Auth{Method: AuthKubernetes, Mount: "k8s", Role: "app", JWTFile: "/t"}, []string{"role", "app", "jwt_file", "/t"},
			"kubernetes at auth/k8s, role app, jwt_file /t"},
		{Auth{Method: AuthJWT, Mount: "jwt", Role: "ci", JWTEnv: "J"}, []string{"role", "ci", "jwt_env", "J"},
			"jwt at auth/jwt, role ci, jwt_env J"},
		{Auth{Method: AuthUserpass, Mount: "userpass", Username: "alice", PasswordEnv: "PW"}, []string{"username", "alice"},
			"userpass at auth/userpass, username alice"},
		{Auth{Method: AuthCert, Mount: "cert", ClientCert: "/c", ClientKey: "/k"}, []string{"name", "", "client_cert", "/c"},
			"cert at auth/cert, client_cert /c"},
		{Auth{Method: AuthOIDC, Mount: "sso", Role: "dev", RedirectURI: DefaultOIDCRedirectURI}, []string{"role", "dev"},
			"oidc at auth/sso, role dev"},
		{Auth{Method: AuthAWS, Mount: "aws", Role: "ec2", Credentials: "imds", STSRegion: "eu-west-1"}, []string{"role", "ec2", "credentials", "imds"},
			"aws at auth/aws, role ec2, credentials imds"},
	}
	for _, tt := range tests {
		t.Run(tt.describe, func(t *testing.T) {
			if got := tt.a.Identity(); !reflect.DeepEqual(got, tt.identity) {
				t.Errorf("Identity = %q, want %q", got, tt.identity)
			}
			if got := tt.a.Describe(); got != tt.describe {
				t.Errorf("Describe = %q, want %q", got, tt.describe)
			}
		})
	}
}

func TestResolveViaAgent(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"VAULT_AGENT_ADDR": "http://127.0.0.1:8100", "VAULT_ADDR": "https://vault:8200"}, true},
		{map[string]string{"VAULT_ADDR": "https://vault:8200"}, false},
		{nil, false},
	} {
		s, err := authResolve(t, "", tt.env, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.ViaAgent != tt.want {
			t.Errorf("env %v: ViaAgent = %v, want %v", tt.env, s.ViaAgent, tt.want)
		}
	}
}

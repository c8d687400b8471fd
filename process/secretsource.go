package process

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// Where the secret of a login comes from (a file, a variable, the
// terminal), as the cache key (identity.go) and the Vault client's logins
// read it and name it in errors, never showing it.

// EnvSet checks that the variable a *_env key names holds something in
// the environment getenv reads.
func EnvSet(getenv func(string) string, key, name string) error {
	if name == "" || strings.TrimSpace(getenv(name)) != "" {
		return nil
	}
	return &Error{Code: ExitUsage, Msg: fmt.Sprintf("%s is empty or not set", envVarText(key, name)),
		Hint: "set it in the environment the AWS client runs the helper in, or use the _file key instead"}
}

// envVarText names the variable a *_env key names, for messages: "the
// variable VAULT_PASSWORD (password_env)". Only a name in the usual upper
// case is shown: the configuration takes any letters and digits there, and
// a secret pasted into the key by mistake must not reach stderr.
func envVarText(key, name string) string {
	if name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
		return "the variable " + name + " (" + key + ")"
	}
	return "the variable " + key + " names"
}

// FileError turns a failure to read a secret file into an error naming
// the key; other errors pass through.
func FileError(err error, key, path string) error {
	var pe *fs.PathError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	return &Error{Code: ExitUsage, Err: err, Msg: fmt.Sprintf("read %s %s: %s", key, path, pe.Err),
		Hint: "check " + key + " in the auth table: the file must exist and be readable by you"}
}

// SecretSource says where the secret came from, for hints.
func SecretSource(a config.Auth) string {
	switch {
	case a.SecretIDFile != "":
		return "secret_id_file " + a.SecretIDFile
	case a.SecretIDEnv != "":
		return envVarText("secret_id_env", a.SecretIDEnv)
	case a.PasswordFile != "":
		return "password_file " + a.PasswordFile
	case a.PasswordEnv != "":
		return envVarText("password_env", a.PasswordEnv)
	case a.JWTEnv != "":
		return envVarText("jwt_env", a.JWTEnv)
	case a.JWTFile != "":
		return "jwt_file " + a.JWTFile
	case a.Method == config.AuthUserpass || a.Method == config.AuthLDAP:
		return "the terminal prompt"
	}
	return "the settings"
}

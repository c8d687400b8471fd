package vault

import (
	"io"
	"os"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Options are what a Vault client takes from the command layer besides the
// settings. Every field may be left zero.
type Options struct {
	Now    func() time.Time                 // nil: time.Now
	Debugf func(format string, args ...any) // nil: no --debug lines
	// Getenv reads the variables the settings name for a login's secret
	// (the *_env keys), VAULT_CLIENT_CERT and VAULT_CONFIG_PATH; nil is an
	// empty environment. (vault/api reads its own VAULT_* variables.)
	Getenv func(string) string
	// Stderr is where a browser login shows its URL when there is no
	// terminal; nil: nowhere.
	Stderr io.Writer
	// OIDC is the browser login of the oidc auth method; without it an
	// oidc login is refused.
	OIDC OIDC
	// Unattended: nobody is at the terminal (a server's background
	// refresh), so no password or MFA prompt and no browser login.
	Unattended bool
}

// OIDC is the browser login of the oidc auth method. It lives in a package
// of its own (internal/vault/oidc, the only one that starts a browser),
// which uses this one: the command layer plugs it in here.
type OIDC struct {
	// Login builds the api.AuthMethod of one browser login. The method
	// may have SentAt() time.Time: when the login went to Vault, which is
	// when the person was done rather than when the login began.
	Login func(BrowserLogin) api.AuthMethod
	// Hint sets the hint of e, a refused request of an oidc login.
	Hint func(e *process.Error, err error, a config.Auth)
}

// BrowserLogin is what a browser login is given.
type BrowserLogin struct {
	Auth    config.Auth
	Timeout time.Duration // --timeout, for messages
	Getenv  func(string) string
	// OpenTTY opens the terminal to show the URL and read a pasted
	// address; it fails when nobody is there.
	OpenTTY func() (*os.File, error)
	Stderr  io.Writer
	Debugf  func(string, ...any)
	Now     func() time.Time
}

// withDefaults fills the fields left zero.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Debugf == nil {
		o.Debugf = func(string, ...any) {}
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return o
}

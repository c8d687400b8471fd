package config

import (
	"net/url"
	"time"
)

// RedactAddress hides the password of a Vault address given with user
// information (https://user:PASSWORD@host): addresses are printed in
// errors, --debug lines, the audit log and `cache list`, and none of them
// may carry a secret. An address that does not parse is shown as a
// placeholder rather than echoed, since its text could be anything.
func RedactAddress(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return "(unparsable address)"
	}
	if u.User == nil {
		return addr
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// DisplayAddress is the Vault address as it may be printed.
func (s *Settings) DisplayAddress() string { return RedactAddress(s.Address) }

// RunTimeout bounds a whole run: --timeout, plus login_timeout when the
// login may wait for a person in a browser (oidc), so that the wait for
// the browser is not cut short by the budget meant for Vault.
func (s *Settings) RunTimeout() time.Duration {
	if s.Auth.Interactive() {
		return s.Timeout + s.Auth.LoginTimeout
	}
	return s.Timeout
}

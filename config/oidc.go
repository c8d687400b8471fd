package config

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// oidcValues validates and completes the keys of the oidc method: the
// redirect URI the browser is sent back to, the loopback address listened
// on for it, skip_browser, login_timeout and expect_identity.
func oidcValues(a *Auth, merged map[string]value) error {
	if v, ok := merged["expect_identity"]; ok && (a.ExpectIdentity == "" || strings.ContainsFunc(a.ExpectIdentity, unicode.IsControl)) {
		// A blank pin would pin nothing, silently.
		return v.errorf("invalid expect_identity %q", v.v).
			withHint("the alias name (the role's user_claim, such as alice@example.com), entity name or entity id of who must sign in")
	}
	if err := authBool(merged, "skip_browser", &a.SkipBrowser); err != nil {
		return err
	}
	a.LoginTimeout = DefaultOIDCLoginTimeout
	if v, ok := merged["login_timeout"]; ok {
		d, err := positiveDuration(v)
		if err != nil {
			return err
		}
		a.LoginTimeout = d
	}
	if a.RedirectURI == "" {
		a.RedirectURI = DefaultOIDCRedirectURI
	}
	u, err := url.Parse(a.RedirectURI)
	if err != nil || u.Scheme != "http" || u.Hostname() == "" || u.Path == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return merged["redirect_uri"].errorf("invalid redirect_uri %q", a.RedirectURI).
			withHint("an http URL with a path and no query, such as " + DefaultOIDCRedirectURI + "; the role's allowed_redirect_uris must list it")
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if a.ListenAddress == "" {
		// The browser comes back to the redirect URI's port. A host that
		// is not loopback (a name forwarded to this machine) is still
		// listened for on loopback only.
		host := "localhost"
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			host = u.Hostname()
		}
		a.ListenAddress = net.JoinHostPort(host, port)
		return nil
	}
	v := merged["listen_address"]
	host, p, err := net.SplitHostPort(a.ListenAddress)
	n, perr := strconv.Atoi(p)
	if err != nil || perr != nil || n < 0 || n > 65535 {
		return v.errorf("invalid listen_address %q", v.v).withHint("a loopback host and port, such as 127.0.0.1:8250")
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return v.errorf("listen_address %q is not a loopback address", v.v).
			withHint("the callback listener only listens on this machine: use localhost, 127.0.0.1 or [::1]; from another machine, paste the address the browser ends at at the terminal prompt")
	}
	return nil
}

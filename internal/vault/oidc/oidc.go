// Package oidc is the browser login of Vault's oidc auth method, the way
// `vault login -method=oidc` does it, with its loopback callback server: the
// only package that starts a browser. The Vault client (internal/vault)
// runs it through vault.OIDC, as the command layer plugs it in.
package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/browser"
	"github.com/vault-credential-process/vault-credential-process/internal/tty"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// The browser login of the oidc method, the way `vault login -method=oidc`
// does it, run by the login lifecycle of internal/vault/login.go like any
// other method (so the token is kept, reused and renewed, and parallel runs
// wait on the login lock while one of them has the browser open):
//
//  1. bind the loopback listener for the browser's return to the redirect
//     URI (server.go): a port that cannot be had ends the login before
//     Vault is asked for anything;
//  2. write auth/<mount>/oidc/auth_url with the role, the redirect URI and
//     a client nonce of our own; Vault answers the identity provider's URL,
//     whose state parameter names this login; open the browser at it (or
//     only show the URL: skip_browser, no display);
//  3. wait, at most login_timeout, for the first valid callback: the
//     browser's, or the address the browser ended at, pasted at the
//     terminal prompt (a remote machine, where the browser cannot reach
//     this listener);
//  4. read auth/<mount>/oidc/callback with state, code and client nonce:
//     Vault answers the login token;
//  5. say who logged in, and refuse anyone but expect_identity
//     (identity.go).
//
// The auth URL holds no secret of Vault's (state, Vault's nonce, the PKCE
// challenge), but whoever has it can complete this login as herself (step
// 5 is the answer to that): it goes to the terminal (or stderr without
// one) and to the browser in a private page, never to a launcher's argv
// or to --debug. The code that comes back is a secret until Vault takes
// it: it is sent to Vault only, and shown nowhere. The client nonce binds
// the code to this process: a code seen elsewhere cannot be exchanged
// without it.

// login is the oidc method's api.AuthMethod.
type login struct {
	vault.BrowserLogin // what the login is given
	// browse starts the browser at a URL without waiting for it; it
	// returns what it ran, for --debug, and a function that ends what it
	// left for the browser, which Login calls on its way out.
	browse func(ctx context.Context, url string) (string, func(), error)
	// signals end the wait for the browser as a timeout would, so that the
	// page and the listener go before the program does (nil: none).
	signals []os.Signal

	sent time.Time // when the callback went to Vault
}

// Login is the api.AuthMethod of one browser login (vault.OIDC.Login).
func Login(b vault.BrowserLogin) api.AuthMethod { return newLogin(b) }

func newLogin(b vault.BrowserLogin) *login {
	o := &login{BrowserLogin: b, signals: interruptSignals}
	// The auth URL carries the state, which is what the callback listener
	// trusts: it goes to the browser in a private page, not in the
	// launcher's argv, which other local users can read. The page stays
	// until the browser had time to read it or the login ends.
	o.browse = func(ctx context.Context, u string) (string, func(), error) {
		return browser.Opener{Getenv: o.Getenv, Debugf: o.Debugf, Title: "the Vault login", Hide: SecretVariables(o.Auth)}.StartPage(ctx, u)
	}
	return o
}

// interruptSignals end a run at the terminal (Ctrl-C, a closed terminal,
// kill): caught during the wait for the browser, they end it the way a
// timeout does, cleanups included.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// SecretVariables are the variables the settings name for a secret (the
// secret id, password or JWT of a login): a browser the helper starts gets
// none of them, nor browser.Secrets.
func SecretVariables(a config.Auth) []string {
	var names []string
	for _, n := range []string{a.SecretIDEnv, a.PasswordEnv, a.JWTEnv} {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}

// SentAt is when the callback went to Vault: the login's time.
func (o *login) SentAt() time.Time { return o.sent }

// Login runs the steps above.
func (o *login) Login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	// Bound first: a port that cannot be had ends the login before Vault
	// is asked for a URL that nobody could come back from.
	srv, err := listenCallback(o.Auth.ListenAddress, o.Auth.RedirectURI)
	if err != nil {
		return nil, o.listenError(err)
	}
	defer srv.close()
	nonce := randomToken()
	authURL, state, err := o.authURL(ctx, c, nonce)
	if err != nil {
		return nil, err
	}
	srv.serve(state)
	o.Debugf("auth %s: waiting for the browser on %s", o.Auth.Describe(), strings.Join(srv.addrs, " and "))

	wctx, cancel, byRun := o.waitContext(ctx)
	defer cancel()
	stopSignals := func() {}
	if len(o.signals) > 0 {
		wctx, stopSignals = signal.NotifyContext(wctx, o.signals...)
		defer stopSignals()
	}
	opened, removePage := o.openBrowser(wctx, authURL)
	// On every way out, before the program can end: the page holds the
	// URL with this login's state.
	defer removePage()
	term := o.tell(authURL, opened, wctx)
	if term != nil {
		defer term.Close()
		go o.readPasted(wctx, term, state, srv.got)
	}
	cb, err := o.await(wctx, srv.got, byRun)
	// The wait is over and the page gone: a signal may end the program
	// at once again.
	removePage()
	stopSignals()
	if term != nil {
		fmt.Fprintln(term)
	}
	if err != nil {
		return nil, err
	}
	secret, err := o.callback(ctx, c, cb, state, nonce)
	if err == nil {
		err = o.confirm(ctx, c, secret, o.userWriter(term))
	}
	cb.answer(err)
	return secret, err
}

// userWriter is where the lines for the user go: the terminal, else stderr.
func (o *login) userWriter(term *os.File) io.Writer {
	if term != nil {
		return term
	}
	return o.Stderr
}

// authURL asks Vault for the identity provider's URL, and returns it with
// its state parameter.
func (o *login) authURL(ctx context.Context, c *api.Client, nonce string) (authURL, state string, err error) {
	a := o.Auth
	path := "auth/" + a.Mount + "/oidc/auth_url"
	sent := o.Now()
	secret, err := c.Logical().WriteWithContext(ctx, path, map[string]any{
		"role": a.Role, "redirect_uri": a.RedirectURI, "client_nonce": nonce})
	o.Debugf("POST %s: %s in %s", path, vault.Outcome(err), o.Now().Sub(sent).Round(time.Millisecond))
	if err != nil {
		e := vault.Explain(err, "log in to Vault with "+a.Describe()+": ask for the browser's URL", path, config.RedactAddress(c.Address()), ctx.Err() != nil)
		Hint(e, err, a)
		return "", "", e
	}
	if secret != nil {
		authURL, _ = secret.Data["auth_url"].(string)
	}
	u, perr := url.Parse(authURL)
	if authURL == "" || perr != nil || (u.Scheme != "https" && u.Scheme != "http") {
		// Vault answers an empty URL for a redirect URI the role does not allow.
		return "", "", &process.Error{Code: process.ExitFailure,
			Msg: fmt.Sprintf("log in to Vault with %s: Vault gave no login URL for redirect_uri %s", a.Describe(), a.RedirectURI),
			Hint: fmt.Sprintf("the role's allowed_redirect_uris must list %s: vault write auth/%s/role/%s allowed_redirect_uris=%s (or set redirect_uri to one it lists)",
				a.RedirectURI, a.Mount, a.Role, a.RedirectURI)}
	}
	state = u.Query().Get("state")
	if state == "" {
		return "", "", &process.Error{Code: process.ExitFailure, Msg: "log in to Vault with " + a.Describe() + ": the login URL from Vault has no state parameter",
			Hint: "check that auth/" + a.Mount + " is an oidc (jwt plugin) auth method: `vault auth list`"}
	}
	return authURL, state, nil
}

// waitContext bounds the wait for the person at the browser: login_timeout,
// or what is left of the run's --timeout less a reserve for the requests
// that follow, whichever ends first (byRun: the run's).
func (o *login) waitContext(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	bound, byRun := o.Auth.LoginTimeout, false
	if dl, ok := ctx.Deadline(); ok {
		left := dl.Sub(o.Now())
		left -= min(5*time.Second, left/4)
		if left < bound {
			bound, byRun = max(left, 0), true
		}
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	return wctx, cancel, byRun
}

// openBrowser starts the browser at authURL, unless skip_browser; it
// reports whether a launcher started (not whether a browser showed), and
// returns what removes the page it was given (ctx ending removes it too).
func (o *login) openBrowser(ctx context.Context, authURL string) (bool, func()) {
	if o.Auth.SkipBrowser {
		o.Debugf("auth %s: skip_browser: not opening a browser", o.Auth.Describe())
		return false, func() {}
	}
	ran, remove, err := o.browse(ctx, authURL)
	if err != nil {
		o.Debugf("auth %s: no browser opened: %v", o.Auth.Describe(), err)
		return false, func() {}
	}
	o.Debugf("auth %s: browser started with %s", o.Auth.Describe(), ran)
	return true, remove
}

// tell says what is happening and the URL, on the terminal, else on
// stderr; with a terminal it asks for the pasted address too and returns
// the terminal, for readPasted.
func (o *login) tell(authURL string, opened bool, wctx context.Context) *os.File {
	wait := "within " + o.until(wctx).String()
	var w io.Writer = o.Stderr
	term, err := o.OpenTTY()
	if err == nil {
		w = term
	} else {
		term = nil
	}
	p := process.Printable
	fmt.Fprintf(w, "%slog in to Vault (%s) in your browser %s\n", userLine, p(o.Auth.Describe()), wait)
	if opened {
		fmt.Fprintf(w, "%sif no browser opened, open %s\n", userLine, p(authURL))
	} else {
		fmt.Fprintf(w, "%sopen %s\n", userLine, p(authURL))
	}
	if term != nil {
		fmt.Fprintf(w, "%sor, from another machine, paste the address the browser ends at (%s?...): ", userLine, p(o.Auth.RedirectURI))
	}
	return term
}

func (o *login) until(ctx context.Context) time.Duration {
	dl, _ := ctx.Deadline()
	return dl.Sub(o.Now()).Round(time.Second)
}

// userLine starts every line the helper writes for the user.
const userLine = "vault-credential-process: "

// readPasted reads addresses pasted at the terminal and hands the first
// one of this login to got; others are refused with a word. It ends with
// ctx or the terminal.
func (o *login) readPasted(ctx context.Context, term *os.File, state string, got chan<- oidcCallback) {
	for {
		line, err := tty.ReadLine(ctx, term)
		line = strings.TrimSpace(line)
		if line != "" {
			cb, ok := parsePasted(line, state)
			if ok {
				select {
				case got <- cb:
				case <-ctx.Done():
				}
				return
			}
			fmt.Fprintf(term, "%sthat is not the address of this login (paste the whole address, from http:// on, of the page the browser ended at): ", userLine)
		}
		if err != nil {
			return
		}
	}
}

// parsePasted takes the address the browser ended at; it must carry this
// login's state and a code, or the identity provider's error.
func parsePasted(line, state string) (oidcCallback, bool) {
	u, err := url.Parse(line)
	if err != nil {
		return oidcCallback{}, false
	}
	q := u.Query()
	cb := oidcCallback{state: q.Get("state"), code: q.Get("code"), idpError: q.Get("error"), idpDetail: q.Get("error_description")}
	if !sameState(cb.state, state) || (cb.code == "" && cb.idpError == "") {
		return oidcCallback{}, false
	}
	return cb, true
}

// await waits for the first valid callback.
func (o *login) await(wctx context.Context, got <-chan oidcCallback, byRun bool) (oidcCallback, error) {
	a := o.Auth
	select {
	case cb := <-got:
		if cb.idpError != "" {
			cb.answer(errors.New(cb.idpError))
			return cb, &process.Error{Code: process.ExitFailure,
				Msg:  fmt.Sprintf("log in to Vault with %s: the identity provider refused: %s", a.Describe(), config.OneLine(strings.TrimSpace(cb.idpError+": "+cb.idpDetail))),
				Hint: "sign in with an account the identity provider lets use Vault's client, or ask its administrators"}
		}
		return cb, nil
	case <-wctx.Done():
	}
	if errors.Is(wctx.Err(), context.Canceled) {
		// A signal, or the run ended.
		return oidcCallback{}, &process.Error{Code: process.ExitFailure, Err: wctx.Err(),
			Msg: fmt.Sprintf("log in to Vault with %s: interrupted while waiting for the browser", a.Describe())}
	}
	if byRun {
		return oidcCallback{}, &process.Error{Code: process.ExitFailure, Err: wctx.Err(),
			Msg:  fmt.Sprintf("log in to Vault with %s: no login from the browser within --timeout (%s)", a.Describe(), o.Timeout),
			Hint: "--timeout bounds the whole run, the browser login included: raise it (login_timeout is " + a.LoginTimeout.String() + ")"}
	}
	return oidcCallback{}, &process.Error{Code: process.ExitFailure, Err: wctx.Err(),
		Msg:  fmt.Sprintf("log in to Vault with %s: no login from the browser within login_timeout (%s)", a.Describe(), a.LoginTimeout),
		Hint: "finish the login in the browser sooner, or raise login_timeout; from another machine, paste the address the browser ends at at the terminal prompt"}
}

// callback exchanges the code for the login token.
func (o *login) callback(ctx context.Context, c *api.Client, cb oidcCallback, state, nonce string) (*api.Secret, error) {
	// Not retried: the code works once, and a retry would put its URL,
	// code included, in --debug.
	defer c.SetMaxRetries(c.MaxRetries())
	c.SetMaxRetries(0)
	o.sent = o.Now()
	return c.Logical().ReadWithDataWithContext(ctx, "auth/"+o.Auth.Mount+"/oidc/callback", map[string][]string{
		"state": {state}, "code": {cb.code}, "client_nonce": {nonce}})
}

func (o *login) listenError(err error) error {
	a := o.Auth
	return &process.Error{Code: process.ExitFailure, Err: err,
		Msg: fmt.Sprintf("log in to Vault with %s: listen on %s for the browser: %s", a.Describe(), a.ListenAddress, vault.RootCause(err)),
		Hint: "another login may be waiting there (`vault login -method=oidc`?): finish it, or set redirect_uri (and listen_address) to a free port " +
			"that the role's allowed_redirect_uris lists"}
}

// Hint adds the oidc method's hint to a refused Vault request
// (vault.OIDC.Hint).
func Hint(e *process.Error, err error, a config.Auth) {
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode >= 500 || re.StatusCode == 429 {
		return
	}
	msg := strings.ToLower(vault.ResponseMessage(re))
	switch {
	case strings.Contains(msg, "no handler for route") || re.StatusCode == 404 || re.StatusCode == 405 || re.StatusCode == 403:
		e.Hint = fmt.Sprintf("is an oidc auth method enabled at auth/%s? `vault auth list` shows the mounts; set mount in the auth table", a.Mount)
	case strings.Contains(msg, "role"):
		e.Hint = fmt.Sprintf("check role %q: `vault list auth/%s/role` shows the roles", a.Role, a.Mount)
	default:
		e.Hint = fmt.Sprintf("check role %q at auth/%s: its allowed_redirect_uris must list %s, and its bound claims must match the account you signed in with",
			a.Role, a.Mount, a.RedirectURI)
	}
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

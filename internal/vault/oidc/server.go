package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The loopback listener the browser comes back to at the end of an oidc
// login (see oidc.go).

// oidcCallback is one return of the browser: this login's state with the
// code, or the identity provider's error. reply, when set, takes the
// outcome, which the browser's page shows.
type oidcCallback struct {
	state, code         string
	idpError, idpDetail string
	reply               chan error
}

// answer tells the browser's page how the login ended.
func (cb oidcCallback) answer(err error) {
	if cb.reply != nil {
		cb.reply <- err
	}
}

// callbackServer listens on loopback for the redirect URI's path.
type callbackServer struct {
	addrs     []string
	listeners []net.Listener
	hosts     []string // the Host headers taken: see allowedHosts
	path      string
	got       chan oidcCallback
	srv       *http.Server
	done      chan struct{}
}

// listenCallback binds, on loopback, every address the browser may come
// back to: listenAddr (host:port; host "localhost" is both 127.0.0.1 and
// ::1, as browsers try either), and, when the redirect URI is on the same
// port of a loopback host, every address that host names. Another local
// user holding one of them (a browser trying [::1] first while only
// 127.0.0.1 is held, say) would get the browser's return. Nothing is
// served until serve: binding comes before Vault is asked for anything.
func listenCallback(listenAddr, redirectURI string) (*callbackServer, error) {
	hosts, port, err := bindHosts(listenAddr, redirectURI)
	if err != nil {
		return nil, err
	}
	s := &callbackServer{got: make(chan oidcCallback), done: make(chan struct{}), path: callbackPath(redirectURI)}
	for _, h := range hosts {
		l, err := net.Listen("tcp", net.JoinHostPort(h, port))
		switch {
		case err != nil && len(hosts) > 1 && ipv6Off(err):
			// ::1 (or 127.0.0.1) is missing where that family is off.
			continue
		case err != nil:
			// Any other failure, the port taken above all, ends the login:
			// listening on the other address alone would let the browser's
			// localhost reach whoever holds this one.
			s.closeListeners()
			return nil, err
		}
		s.listeners = append(s.listeners, l)
		s.addrs = append(s.addrs, l.Addr().String())
	}
	if len(s.listeners) == 0 {
		return nil, fmt.Errorf("listen on %s: no loopback address is available", listenAddr)
	}
	s.hosts = allowedHosts(redirectURI, s.addrs)
	return s, nil
}

// bindHosts are the hosts to listen on, and the port: see listenCallback.
// A redirect URI on another port, or on a name that is not loopback, is
// taken to be forwarded here (ssh -L, a proxy), and adds nothing.
func bindHosts(listenAddr, redirectURI string) ([]string, string, error) {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return nil, "", err
	}
	hosts := loopbackHosts(host)
	if u, err := url.Parse(redirectURI); err == nil && redirectPort(u) == port {
		for _, h := range loopbackHosts(u.Hostname()) {
			if !slices.Contains(hosts, h) && loopbackLiteral(h) {
				hosts = append(hosts, h)
			}
		}
	}
	return hosts, port, nil
}

// loopbackHosts are the addresses host names: both loopbacks for
// localhost, else host itself.
func loopbackHosts(host string) []string {
	if strings.EqualFold(host, "localhost") {
		return []string{"127.0.0.1", "::1"}
	}
	return []string{host}
}

func loopbackLiteral(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectPort is the port of the redirect URI, 80 when it names none.
func redirectPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "80"
}

// allowedHosts are the Host headers the listener answers: the redirect
// URI's host and port, as the browser sends them, and the addresses
// listened on (a client on this machine that names one). Any other name
// is a page that had a name of its own resolve to loopback (DNS
// rebinding), not the browser coming back.
func allowedHosts(redirectURI string, addrs []string) []string {
	hosts := slices.Clone(addrs)
	if u, err := url.Parse(redirectURI); err == nil {
		hosts = append(hosts, strings.ToLower(net.JoinHostPort(u.Hostname(), redirectPort(u))))
		if u.Port() == "" {
			hosts = append(hosts, strings.ToLower(u.Hostname()))
		}
	}
	return hosts
}

// serve answers callbacks carrying state, handing them to got. A callback
// with another state (an old tab, or a page trying to slip its own login
// in) is refused and never reaches Vault.
func (s *callbackServer) serve(state string) {
	s.srv = &http.Server{Handler: &callbackHandler{path: s.path, state: state, hosts: s.hosts, got: s.got, done: s.done},
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		// net/http's own complaints are not the user's business.
		ErrorLog: log.New(io.Discard, "", 0)}
	for _, l := range s.listeners {
		go func() { _ = s.srv.Serve(l) }()
	}
}

func (s *callbackServer) closeListeners() {
	for _, l := range s.listeners {
		l.Close()
	}
}

// ipv6Off reports a listen error that means the address family is not
// there, rather than that the address is taken.
func ipv6Off(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

// close stops the listener, giving the page that is being answered a
// moment to get its answer.
func (s *callbackServer) close() {
	close(s.done)
	if s.srv == nil {
		s.closeListeners()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		_ = s.srv.Close()
	}
}

// callbackPath is the path of the redirect URI (checked by config).
func callbackPath(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "/"
	}
	return u.Path
}

func sameState(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

type callbackHandler struct {
	path, state string
	hosts       []string // the Host headers answered, lower case
	got         chan<- oidcCallback
	done        <-chan struct{}
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	switch {
	case !slices.Contains(h.hosts, strings.ToLower(r.Host)):
		http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
		return
	case r.URL.Path != h.path:
		http.NotFound(w, r)
		return
	case r.Method == http.MethodOptions:
		// The private-network preflight: a page of the identity provider
		// (public) sends the browser to a loopback address (private);
		// Chrome asks first whether that is welcome. The navigation is; no
		// origin is allowed to read an answer (no Access-Control-Allow-
		// Origin), so a page that fetches the callback learns nothing.
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Private-Network", "true")
		w.WriteHeader(http.StatusNoContent)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The answer comes in the query (or a small form): no multipart, and
	// the body bounded, whoever sends it.
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	cb := oidcCallback{state: r.Form.Get("state"), code: r.Form.Get("code"),
		idpError: r.Form.Get("error"), idpDetail: r.Form.Get("error_description"), reply: make(chan error, 1)}
	if !sameState(cb.state, h.state) || (cb.code == "" && cb.idpError == "") {
		page(w, http.StatusBadRequest, "This address is not for the Vault login that is waiting (its state differs). Close this tab, and use the one the login opened.")
		return
	}
	select {
	case h.got <- cb:
	case <-h.done:
		page(w, http.StatusConflict, "This Vault login has already ended. Close this tab.")
		return
	case <-r.Context().Done():
		return
	}
	var err error
	select {
	case err = <-cb.reply:
	case <-r.Context().Done():
		return
	}
	if err != nil {
		// Not err's text: a refused request's error holds its URL, and
		// with it the code.
		page(w, http.StatusForbidden, "The Vault login failed; the terminal (or the AWS tool's output) says why.")
		return
	}
	page(w, http.StatusOK, "Logged in to Vault. You can close this tab.")
}

// page answers the browser with a short page.
func page(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html><meta charset=utf-8><title>vault-credential-process</title><p>" + html.EscapeString(text) + "</p>\n"))
}

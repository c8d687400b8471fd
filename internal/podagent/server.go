package podagent

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/server"
)

// CredsPath is where pods ask (AWS_CONTAINER_CREDENTIALS_FULL_URI is
// http://ADDRESS/v1/credentials, as EKS Pod Identity's).
const CredsPath = "/v1/credentials"

// healthPath answers without a token whether Vault can be reached: the
// DaemonSet's readiness probe.
const healthPath = "/healthz"

// Bounds of the HTTP side.
const (
	readHeaderTimeout = 5 * time.Second
	writeTimeout      = 45 * time.Second // a first request waits for a login and a mint
	idleTimeout       = time.Minute
	maxHeaderBytes    = 16 << 10
	healthTTL         = 5 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// Handler is the agent's HTTP side for a listener at addr (host:port): the
// Host header of every request must name that address, as serve's must.
// Every refusal closes its connection.
func (a *Agent) Handler(addr string) http.Handler {
	hosts := server.AllowedHosts(addr)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := a.now()
		switch {
		case !hosts[r.Host]:
			// A page that rebinds its own DNS name to this address reaches
			// the agent with its own name in Host.
			a.refuse(w, r, start, http.StatusForbidden, "wrong_host", "the Host header does not name this agent's address")
		case r.URL.Path == CredsPath:
			a.serveCreds(w, r, start)
		case r.URL.Path == healthPath:
			a.health.serve(w, r)
		default:
			a.refuse(w, r, start, http.StatusNotFound, "not_found", "nothing at this path; credentials are at "+CredsPath)
		}
	})
}

// newHTTPServer is an http.Server for a listener at addr with every wait
// bounded, and net/http's own log rate-limited like refusals.
func (a *Agent) newHTTPServer(addr string) *http.Server {
	return &http.Server{Handler: a.Handler(addr), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readHeaderTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
		ErrorLog: log.New(httpErrors{a}, "", 0)}
}

// httpErrors is net/http's own log (a failed accept, a TLS handshake from a
// confused client), rate-limited like refusals.
type httpErrors struct{ a *Agent }

func (h httpErrors) Write(b []byte) (int, error) {
	if h.a.refusals.Allow(h.a.now(), "http") {
		h.a.logf("http: %s", strings.TrimSpace(string(b)))
	}
	return len(b), nil
}

// Serve serves on the listeners until ctx ends, refreshing credentials
// that are due every refreshTick and sweeping idle identities every
// minute meanwhile. At most server.MaxConns connections are open at once
// over all listeners; past that each new one closes the oldest idle one.
// It returns nil after a clean shutdown, else the first listener's error
// (which stops the others too).
func (a *Agent) Serve(ctx context.Context, lns ...net.Listener) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		srv := a.newHTTPServer(ln.Addr().String())
		go func() {
			err := a.conns.Serve(srv, ln)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errs <- err
			stop()
		}()
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			_ = srv.Shutdown(sctx)
			cancel()
		}()
	}
	a.maintain(ctx)
	var first error
	for range lns {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// maintain refreshes what is due and, every minute, sweeps idle identities
// and writes what the log left out, until ctx ends.
func (a *Agent) maintain(ctx context.Context) {
	tick := time.NewTicker(refreshTick)
	defer tick.Stop()
	last, flooded := time.Now(), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.refreshDue()
		if time.Since(last) < time.Minute {
			continue
		}
		last = time.Now()
		a.sweep()
		if line := a.refusals.Summary(a.now(), "refused requests"); line != "" {
			a.logf("%s", line)
		}
		n := a.conns.TakeEvicted()
		if n > 0 {
			a.logf("%d connections closed unanswered in the last minute, to keep at most %d open", n, server.MaxConns)
		} else if flooded {
			// The first quiet minute after a flood gives the memory it took
			// back to the system, as serve does.
			debug.FreeOSMemory()
		}
		flooded = n > 0
	}
}

func (a *Agent) serveCreds(w http.ResponseWriter, r *http.Request, start time.Time) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		a.refuse(w, r, start, http.StatusMethodNotAllowed, "method", "only GET")
		return
	}
	jwt := strings.TrimSpace(r.Header.Get("Authorization"))
	jwt = strings.TrimPrefix(jwt, "Bearer ")
	c, err := a.Credentials(r.Context(), jwt)
	if err != nil {
		status, code := classify(err)
		if te := (*throttledError)(nil); errors.As(err, &te) {
			w.Header().Set("Retry-After", strconv.Itoa(int(te.retryAfter/time.Second)))
		}
		msg := err.Error()
		if code == "unavailable" {
			// The detail (Vault's address, a network error) is for the log.
			a.logf("%s GET %s: %v", r.RemoteAddr, CredsPath, err)
			msg = "Vault could not be reached or failed; see the agent's log"
		}
		a.refuse(w, r, start, status, code, msg)
		return
	}
	server.WriteJSON(w, http.StatusOK, server.ContainerDoc{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		Token: c.SessionToken, Expiration: c.Expiry.UTC().Format(time.RFC3339), AccountID: c.AccountID})
	a.logf("%s GET %s status=200 latency=%s", r.RemoteAddr, CredsPath, a.now().Sub(start).Round(time.Millisecond))
}

// classify maps an error to the status and code of the answer: whatever
// says the token is not good is 401; a refused permission 403; too many
// identities or an unreachable Vault 503.
func classify(err error) (int, string) {
	var re *RefusedError
	switch {
	case errors.Is(err, ErrNoToken), errors.Is(err, ErrExpired), errors.Is(err, ErrTooLarge), errors.Is(err, errMalformed):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, ErrNoRule):
		return http.StatusForbidden, "no_rule"
	case errors.Is(err, ErrTooManyIdentities):
		return http.StatusServiceUnavailable, "too_many_identities"
	case errors.Is(err, errLoginsThrottled):
		return http.StatusTooManyRequests, "throttled"
	case errors.As(err, &re) && re.Login:
		return http.StatusUnauthorized, "unauthorized"
	case errors.As(err, &re):
		return http.StatusForbidden, "forbidden"
	}
	return http.StatusServiceUnavailable, "unavailable"
}

// refuse answers with an error and closes the connection after it, as
// serve does (server.WriteRefusal), and logs it at the rate of refusals.
func (a *Agent) refuse(w http.ResponseWriter, r *http.Request, start time.Time, status int, code, msg string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	server.WriteRefusal(w, status, code, msg)
	if !a.refusals.Allow(a.now(), code) {
		return
	}
	a.logf("%s %s %q status=%d code=%s latency=%s: %s", r.RemoteAddr, r.Method, server.LogPath(r.URL.Path), status, code,
		a.now().Sub(start).Round(time.Millisecond), msg)
}

// health answers healthPath from Vault's sys/health, asked at most every
// healthTTL however often the probe comes.
type health struct {
	a     *Agent
	mu    sync.Mutex
	at    time.Time
	ready bool
}

func (h *health) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if now := h.a.now(); now.Sub(h.at) >= healthTTL {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		err := h.a.vault.Healthy(ctx)
		cancel()
		h.at, h.ready = now, err == nil
		if err != nil {
			h.a.logf("health: Vault: %v", err)
		}
	}
	ready := h.ready
	h.mu.Unlock()
	if !ready {
		server.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready"})
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

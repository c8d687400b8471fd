package podagent

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CredsPath is where pods ask (AWS_CONTAINER_CREDENTIALS_FULL_URI is
// http://ADDRESS/v1/credentials, as EKS Pod Identity's).
const CredsPath = "/v1/credentials"

// HealthPath answers without a token whether Vault can be reached: the
// DaemonSet's readiness probe.
const HealthPath = "/healthz"

// Bounds of the HTTP side.
const (
	readHeaderTimeout = 5 * time.Second
	writeTimeout      = 45 * time.Second // a first request waits for a login and a mint
	idleTimeout       = time.Minute
	maxHeaderBytes    = 16 << 10
	healthTTL         = 5 * time.Second
)

// Handler is the agent's HTTP side.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(CredsPath, a.serveCreds)
	h := &health{a: a}
	mux.HandleFunc(HealthPath, h.serve)
	return mux
}

// NewHTTPServer is an http.Server for the handler with every wait bounded.
func (a *Agent) NewHTTPServer() *http.Server {
	return &http.Server{Handler: a.Handler(), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readHeaderTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
}

// Serve serves on ln until ctx ends, sweeping idle identities meanwhile.
func (a *Agent) Serve(ctx context.Context, ln net.Listener) error {
	srv := a.NewHTTPServer()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				a.Sweep()
				if line := a.refusals.Summary(a.now(), "refused requests"); line != "" {
					a.logf("%s", line)
				}
			case <-ctx.Done():
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = srv.Shutdown(sctx)
				cancel()
				close(done)
				return
			}
		}
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return err
}

// containerDoc is the container credentials protocol's answer; Token is
// always there (botocore and the JS SDK require the field).
type containerDoc struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	AccountID       string `json:"AccountId,omitempty"`
}

// errorDoc is the body of every refusal, in the shape the SDKs parse.
type errorDoc struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (a *Agent) serveCreds(w http.ResponseWriter, r *http.Request) {
	start := a.now()
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
		msg := err.Error()
		if code == "unavailable" {
			// The detail (Vault's address, a network error) is for the log.
			a.logf("%s GET %s: %v", r.RemoteAddr, CredsPath, err)
			msg = "Vault could not be reached or failed; see the agent's log"
		}
		a.refuse(w, r, start, status, code, msg)
		return
	}
	writeJSON(w, http.StatusOK, containerDoc{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
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
	case errors.As(err, &re) && re.Login:
		return http.StatusUnauthorized, "unauthorized"
	case errors.As(err, &re):
		return http.StatusForbidden, "forbidden"
	}
	return http.StatusServiceUnavailable, "unavailable"
}

func (a *Agent) refuse(w http.ResponseWriter, r *http.Request, start time.Time, status int, code, msg string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Connection", "close")
	writeJSON(w, status, errorDoc{Code: code, Message: msg})
	if !a.refusals.Allow(a.now(), code) {
		return
	}
	a.logf("%s %s %s status=%d code=%s latency=%s: %s", r.RemoteAddr, r.Method, CredsPath, status, code,
		a.now().Sub(start).Round(time.Millisecond), msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// health answers HealthPath from Vault's sys/health, asked at most every
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
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

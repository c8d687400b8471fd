// Package server is the credentials server of `serve` and `exec --server`:
// an HTTP endpoint speaking the container credentials protocol the AWS SDKs
// know (AWS_CONTAINER_CREDENTIALS_FULL_URI with an authorization token), and
// optionally an IMDSv2 emulation, for one or more profiles. It keeps each
// profile's credentials in memory and refreshes them in the background
// through the same core as credential_process (process.Runner), so a
// request never waits on Vault once the server is warm.
//
// It owns the HTTP side only: what the credentials are and where they come
// from is the Fetch of each Profile.
package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// Options configure a Server.
type Options struct {
	Profiles []Profile
	// IMDS adds the IMDSv2 emulation under /latest/.
	IMDS bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per request and per refresh; never a secret.
	// Refused requests get a line each up to a few a second, then a
	// summary of their number every few seconds. Lines are written in the
	// background: a Log that blocks delays no request, and past a bound
	// lines are dropped and counted.
	Log io.Writer
	// Errors receives the lines of failed refreshes and of net/http's own
	// trouble; nil means Log. (exec --server keeps Log quiet, as stderr is
	// the command's, but a failed refresh is still said.)
	Errors io.Writer
}

// Server serves the profiles' credentials. Make one with New, get the
// credentials with Warm, then Serve.
type Server struct {
	profiles []*profile
	byName   map[string]*profile
	token    string
	digest   [sha256.Size]byte // of token: compared in constant time
	imds     *imds
	now      func() time.Time
	log      io.Writer
	errs     io.Writer
	logq     *asyncLog
	// refusals, httpErrors and probes rate-limit the lines of refused
	// requests, of net/http's own errors and of health checks.
	refusals, httpErrors, probes RefusalLog
	conns                        *connLimit
	// freeOSMemory gives the memory a flood of connections took back to
	// the system (debug.FreeOSMemory; tests count the calls).
	freeOSMemory func()
	// ready is closed once every profile has had credentials in memory.
	ready     chan struct{}
	readyOnce sync.Once
}

// Bounds of the HTTP side: every wait of a connection is limited.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = time.Minute
	maxHeaderBytes    = 16 << 10
	// ShutdownTimeout bounds the wait for requests in flight at shutdown.
	ShutdownTimeout = 5 * time.Second
)

// credsPath is the path prefix of the profiles' credentials.
const credsPath = "/creds/"

// healthPath answers, without the token, whether the server can serve
// every profile now: for supervisors and container health checks.
const healthPath = "/healthz"

// New makes a server for profiles with a new random authorization token.
func New(o Options) (*Server, error) {
	if len(o.Profiles) == 0 {
		return nil, errors.New("no profile to serve")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Errors == nil {
		o.Errors = o.Log
	}
	s := &Server{byName: map[string]*profile{}, now: o.Now, log: o.Log, errs: o.Errors,
		logq: newAsyncLog(maxQueuedLines), conns: newConnLimit(maxConns), freeOSMemory: debug.FreeOSMemory,
		ready: make(chan struct{})}
	for _, p := range o.Profiles {
		if p.Name == "" || strings.ContainsAny(p.Name, "/\x00") {
			return nil, fmt.Errorf("profile name %q cannot be a path segment", p.Name)
		}
		if _, dup := s.byName[p.Name]; dup {
			return nil, fmt.Errorf("profile %q given twice", p.Name)
		}
		pr := newProfile(p, o.Now, s.logf, s.errorf)
		pr.kept = s.checkReady
		s.profiles = append(s.profiles, pr)
		s.byName[p.Name] = pr
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("make the authorization token: %w", err)
	}
	s.token = base64.RawURLEncoding.EncodeToString(raw[:])
	s.digest = sha256.Sum256([]byte(s.token))
	if o.IMDS {
		im, err := newIMDS(o.Now)
		if err != nil {
			return nil, err
		}
		s.imds = im
	}
	return s, nil
}

// Token is the value clients send in the Authorization header. It is a
// secret: it goes in a 0600 file or a child's environment, never in a log.
func (s *Server) Token() string { return s.token }

// Names are the profiles' names, in the order given.
func (s *Server) Names() []string {
	names := make([]string, len(s.profiles))
	for i, p := range s.profiles {
		names[i] = p.Name
	}
	return names
}

// Ready is closed once every profile has had credentials in memory: from
// then on the server answers every path with credentials (until, while
// Vault cannot be reached, they expire). After a successful Warm it is
// closed already; after a Warm that failed because Vault could not be
// reached, it closes when the background refreshes get through.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// checkReady closes ready once every profile holds credentials.
func (s *Server) checkReady() {
	for _, p := range s.profiles {
		if p.cur.Load() == nil {
			return
		}
	}
	s.readyOnce.Do(func() { close(s.ready) })
}

// healthy reports whether every profile has credentials it may serve now.
func (s *Server) healthy() bool {
	for _, p := range s.profiles {
		if !p.servable(p.cur.Load(), p.now()) {
			return false
		}
	}
	return true
}

// URL is the address of a profile's credentials on a server listening at
// addr (host:port).
func URL(addr, name string) string {
	return "http://" + addr + credsPath + url.PathEscape(name)
}

// Warm gets every profile's credentials once, in the foreground, so that
// an MFA prompt or a login happens now and a configuration or permission
// error ends the start. It tries every profile, so that one start shows
// every failure, and returns them in a *WarmError. A server is warm once
// this returns nil.
func (s *Server) Warm(ctx context.Context) error {
	defer s.logq.flush(logFlushTimeout) // the refresh lines before what the caller says next
	var failed []Failure
	for _, p := range s.profiles {
		if ctx.Err() != nil && len(failed) > 0 {
			break // interrupted: the others would only say so again
		}
		if err := p.refresh(ctx, true); err != nil {
			failed = append(failed, Failure{Name: p.Name, Err: err})
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &WarmError{Failures: failed, named: len(s.profiles) > 1}
}

// WarmError is what Warm returns: the profiles whose credentials it could
// not get, and why.
type WarmError struct {
	Failures []Failure
	named    bool // several profiles: each failure says whose it is
}

// Failure is one profile's failed fetch.
type Failure struct {
	Name string
	Err  error
}

// Error is the failure's own error for a server of one profile, else each
// failure after its profile's name.
func (e *WarmError) Error() string {
	if !e.named && len(e.Failures) == 1 {
		return e.Failures[0].Err.Error()
	}
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = "profile " + f.Name + ": " + f.Err.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap is the failures' errors, for errors.Is and errors.As.
func (e *WarmError) Unwrap() []error {
	errs := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		errs[i] = f.Err
	}
	return errs
}

// Serve serves on ln and refreshes the credentials until ctx ends, then
// shuts down: new connections are refused, requests in flight get up to
// ShutdownTimeout to finish, the refreshers stop. It returns nil after a
// clean shutdown. At most maxConns connections are open at once (see
// connLimit).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler(ln.Addr().String()),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(writerFunc(s.httpError), "", 0),
		ConnContext:       withConn,
		ConnState:         s.conns.state,
	}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, p := range s.profiles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(rctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.summarize(rctx)
	}()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(limitedListener{Listener: ln, limit: s.conns}) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		err = hs.Shutdown(sctx)
		cancel()
		<-served
	}
	stop()
	wg.Wait()
	s.logq.flush(logFlushTimeout)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// summarize writes, every summaryInterval and once more at the end, what
// the log left out: the refusals and net/http errors past the rate limit,
// and the connections closed to make room.
func (s *Server) summarize(ctx context.Context) {
	t := time.NewTicker(summaryInterval)
	defer t.Stop()
	flooded := false
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			s.summary(time.Since(last))
			return
		case <-t.C:
		}
		flooded = s.endPeriod(flooded, time.Since(last))
		last = time.Now()
	}
}

// endPeriod writes the summary of a period that lasted d, and reports
// whether connections had to be closed to make room in it (a flood). In
// the first period without, after one with, it gives the memory the flood
// took back to the system: Go would keep it for a while, and a server that
// runs for days should not stay at its peak.
func (s *Server) endPeriod(flooded bool, d time.Duration) bool {
	evicted := s.summary(d)
	if evicted == 0 && flooded {
		s.freeOSMemory()
	}
	return evicted > 0
}

// summary writes the summary lines of a period that lasted d, and returns
// how many connections were closed to make room in it.
func (s *Server) summary(d time.Duration) int {
	now := s.now()
	if line := s.refusals.Summary(now, "refused requests"); line != "" {
		s.logf("%s", line)
	}
	if line := s.httpErrors.Summary(now, "net/http errors"); line != "" {
		s.errorf("%s", line)
	}
	if line := s.probes.Summary(now, "health checks"); line != "" {
		s.logf("%s", line)
	}
	n := s.conns.takeEvicted()
	if n > 0 {
		s.logf("%d connections closed unanswered in the last %s, to keep at most %d open", n, d, s.conns.max)
	}
	return n
}

// httpError is net/http's own log (a failed accept, a panic), rate-limited
// like refusals.
func (s *Server) httpError(b []byte) {
	if s.httpErrors.Allow(s.now(), "http") {
		s.errorf("http: %s", b)
	}
}

// handler answers requests to a server listening at addr (host:port): the
// Host header of every request must name that address.
func (s *Server) handler(addr string) http.Handler {
	hosts := allowedHosts(addr)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			s.conns.serving(c)
		}
		start := time.Now()
		o := s.handle(w, r, hosts)
		s.access(r, o, time.Since(start))
	})
}

// allowedHosts are the Host header values that name addr: host:port, and
// the host alone when the port is HTTP's default. For a loopback address
// localhost names it too: no web page can make localhost mean another
// machine (browsers resolve it to loopback themselves), so it opens no
// way to rebinding.
func allowedHosts(addr string) map[string]bool {
	hosts := map[string]bool{addr: true}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return hosts
	}
	names := []string{host}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		names = append(names, "localhost")
	}
	for _, n := range names {
		hosts[net.JoinHostPort(n, port)] = true
		if port == "80" {
			if strings.Contains(n, ":") {
				n = "[" + n + "]"
			}
			hosts[n] = true
		}
	}
	return hosts
}

// outcome is what the access log says of a request.
type outcome struct {
	status  int
	code    string // of a refusal: the ErrorDoc's code
	probe   bool   // a health check: logged at the rate of refusals
	profile string
	from    string // memory (and how the credentials in memory were obtained)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, hosts map[string]bool) outcome {
	// A page that rebinds its own DNS name to this address reaches the
	// server with its own name in Host: refuse before anything else.
	if !hosts[r.Host] {
		return refuse(w, http.StatusForbidden, "wrong_host", "the Host header does not name this server's address")
	}
	if r.URL.Path == healthPath {
		return s.health(w, r)
	}
	if s.imds != nil {
		if path := oneSlash(r.URL.Path); strings.HasPrefix(path, imdsPrefix) {
			return s.imds.handle(w, r, path, s)
		}
	}
	if !s.authorized(r.Header.Get("Authorization")) {
		return refuse(w, http.StatusUnauthorized, "unauthorized", "missing or wrong Authorization header")
	}
	name, ok := strings.CutPrefix(r.URL.Path, credsPath)
	p := s.byName[name]
	if !ok || p == nil {
		return refuse(w, http.StatusNotFound, "not_found", "no profile at this path")
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		o := refuse(w, http.StatusMethodNotAllowed, "method", "only GET")
		o.profile = name
		return o
	}
	return s.serveCreds(w, r, p, name, func(c *process.Credentials) any { return containerCreds(c) })
}

// serveCreds answers with the profile's credentials in memory, as doc
// renders them for the protocol, or 503 when none are valid.
func (s *Server) serveCreds(w http.ResponseWriter, r *http.Request, p *profile, name string, doc func(*process.Credentials) any) outcome {
	h, ok := p.get()
	if !ok {
		o := unavailable(w, p.failure())
		o.profile = name
		return o
	}
	WriteJSON(w, http.StatusOK, doc(h.creds))
	if h.creds.SessionToken == "" {
		s.warnSessionless(p, r.UserAgent())
	}
	return outcome{status: http.StatusOK, profile: name, from: "memory (" + string(h.source) + ")"}
}

// sessionRequired are the clients, by the start of their User-Agent, that
// refuse credentials without a session token from a credentials server
// (iam_user and static credentials have none), and what they say then.
var sessionRequired = []struct{ agent, client, says string }{
	// The JS SDK v2's RemoteCredentials require Token (credsFormatIsValid).
	{"aws-sdk-nodejs/2.", "the JS SDK v2", "Missing credentials"},
}

// warnSessionless says, once per profile, that a client known to refuse
// credentials without a session token was just served such credentials:
// it fails on its side, and this line says why. It goes where refresh
// failures go, so that exec --server says it too.
func (s *Server) warnSessionless(p *profile, agent string) {
	for _, c := range sessionRequired {
		if strings.HasPrefix(agent, c.agent) && p.sessionlessWarned.CompareAndSwap(false, true) {
			if len(agent) > 80 {
				agent = agent[:80] + "..."
			}
			s.errorf("%s: warning: served credentials without a session token (iam_user and static ones have none) to %q, %s, which refuses them (%q): "+
				"serve it a role of type assumed_role, federation_token or session_token, or give it the profile's credential_process",
				p.Name, agent, c.client, c.says)
			return
		}
	}
}

// healthDoc is the answer of healthPath: ready or not, and nothing else
// (no profile, no credential, no error), as anyone may ask it.
type healthDoc struct {
	Status string `json:"status"`
}

// health answers healthPath: 200 {"status":"ready"} when every profile has
// credentials it may serve now, else 503 {"status":"not_ready"}. It needs
// no token: a supervisor or a container's health check has none.
func (s *Server) health(w http.ResponseWriter, r *http.Request) outcome {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return refuse(w, http.StatusMethodNotAllowed, "method", "only GET or HEAD")
	}
	if !s.healthy() {
		w.Header().Set("Retry-After", "1")
		WriteJSON(w, http.StatusServiceUnavailable, healthDoc{Status: "not_ready"})
		return outcome{status: http.StatusServiceUnavailable, probe: true}
	}
	WriteJSON(w, http.StatusOK, healthDoc{Status: "ready"})
	return outcome{status: http.StatusOK, probe: true}
}

// authorized compares the header with the token in constant time: both
// are hashed first, so neither their contents nor their lengths show in
// the time taken.
func (s *Server) authorized(header string) bool {
	got := sha256.Sum256([]byte(header))
	return header != "" && subtle.ConstantTimeCompare(got[:], s.digest[:]) == 1
}

func containerCreds(c *process.Credentials) ContainerDoc {
	return ContainerDoc{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken,
		Expiration: c.Expiration.UTC().Format(time.RFC3339), AccountID: c.AccountID}
}

// refuse answers with an error and closes the connection after it
// (WriteRefusal).
func refuse(w http.ResponseWriter, status int, code, msg string) outcome {
	WriteRefusal(w, status, code, msg)
	return outcome{status: status, code: code}
}

// unavailable is the answer when nothing valid is in memory: never 200
// with empty or expired keys. It says what the last refresh's error was
// about (err, nil when none failed yet), never the error itself: that is
// for the server's log, not for whoever asks.
func unavailable(w http.ResponseWriter, err error) outcome {
	w.Header().Set("Retry-After", "1")
	why := "a refresh is under way"
	switch {
	case errors.Is(err, process.ErrRevoked):
		why = "Vault revoked them"
	case err != nil && process.Unavailable(err):
		why = "Vault could not be reached"
	case err != nil:
		why = "the last refresh failed"
	}
	return refuse(w, http.StatusServiceUnavailable, "unavailable", "no valid credentials in memory: "+why+", see the server's log")
}

// access writes the request's line to the log: who asked what, the
// outcome, where the answer came from, how long it took. Neither the
// Authorization header nor a credential is ever in it. Refusals past a
// few a second are only counted (see RefusalLog).
func (s *Server) access(r *http.Request, o outcome, d time.Duration) {
	if o.code != "" && !s.refusals.Allow(s.now(), o.code) {
		return
	}
	if o.probe && !s.probes.Allow(s.now(), "healthz") {
		return
	}
	profile, from := o.profile, o.from
	if profile == "" {
		profile = "-"
	}
	if from == "" {
		from = "-"
	}
	s.logf("%s %s %q profile=%s status=%d from=%s latency=%s", r.RemoteAddr, r.Method, LogPath(r.URL.Path), profile, o.status, from, d)
}

// logf writes one line to the log, control characters escaped.
func (s *Server) logf(format string, args ...any) { s.write(s.log, format, args...) }

// errorf is logf for what goes wrong, which Options.Errors receives.
func (s *Server) errorf(format string, args ...any) { s.write(s.errs, format, args...) }

// write queues one line for w, its durations rounded; a line for a log
// that goes nowhere is not even formatted.
func (s *Server) write(w io.Writer, format string, args ...any) {
	if w == io.Discard {
		return
	}
	line := process.Printable(fmt.Sprintf(format, roundDurations(args)...))
	s.logq.write(w, prefix+line+"\n")
}

// flushLog waits (briefly) until the lines logged so far are written.
func (s *Server) flushLog() { s.logq.flush(logFlushTimeout) }

// writerFunc is an io.Writer that hands each write to a function.
type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) { f(b); return len(b), nil }

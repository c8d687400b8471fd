package main

// The fault matrix (issue 7): what the binary does when Vault, the network or the cache
// fails, one table row per fault. Vault faults come from a fault-injecting HTTP proxy on
// 127.0.0.1 in front of the bed's real Vault, or from a second dev Vault sealed with the
// real CLI; cache faults are made on disk. Every row holds the same contract: the exit
// status the README documents; on failure an empty stdout and exactly two stderr lines,
// the error and a hint; on success one credential_process document and a silent stderr
// (or the one warning the row names); no secret on stderr; and the cache intact.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// fault answers a credential request (attempt counts them from 1) instead of Vault, or
// returns false to let it through to Vault.
type fault func(w http.ResponseWriter, r *http.Request, attempt int) bool

// faultProxy is an HTTP reverse proxy in front of a Vault whose answers to credential
// requests a test can replace or rewrite. It counts the credential requests it receives
// and records the secrets in Vault's answers (addSecret), so that every run's stderr is
// checked against them.
type faultProxy struct {
	l       net.Listener
	srv     *http.Server
	closing chan struct{}
	close   sync.Once

	mu       sync.Mutex
	fault    fault
	rewrite  func(data map[string]any) // edits the data of Vault's 200 answers
	attempts int                       // requests fault saw
	match    func(*http.Request) bool  // the requests fault sees; nil: the credential requests
}

func startFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{l: l, closing: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{Proxy: nil}
	rp.ErrorLog = log.New(io.Discard, "", 0)
	rp.ModifyResponse = p.modify
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		match := p.match
		p.mu.Unlock()
		if match == nil {
			match = isCredsRequest
		}
		if !match(r) {
			rp.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		p.attempts++
		n, f := p.attempts, p.fault
		p.mu.Unlock()
		if f != nil && f(w, r, n) {
			return
		}
		rp.ServeHTTP(w, r)
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(p.down)
	return p
}

func isCredsRequest(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/v1/"+testbed.Mount+"/creds/") ||
		strings.HasPrefix(r.URL.Path, "/v1/"+testbed.Mount+"/static-creds/")
}

func (p *faultProxy) addr() string { return "http://" + p.l.Addr().String() }

// down closes the proxy: its port refuses connections from then on, and requests it is
// holding end.
func (p *faultProxy) down() {
	p.close.Do(func() {
		close(p.closing)
		_ = p.srv.Close()
	})
}

func (p *faultProxy) set(f fault, rewrite func(map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.rewrite, p.attempts = f, rewrite, 0
}

// setMatch makes fault see the requests match accepts, instead of the credential
// requests.
func (p *faultProxy) setMatch(match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.match = match
}

func (p *faultProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts
}

// modify records the secrets of a Vault answer and applies the rewrite, if any.
func (p *faultProxy) modify(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var doc map[string]any
	if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &doc) == nil {
		if data, ok := doc["data"].(map[string]any); ok {
			for _, k := range []string{"secret_key", "session_token", "security_token"} {
				if s, ok := data[k].(string); ok {
					addSecret(s)
				}
			}
			p.mu.Lock()
			rewrite := p.rewrite
			p.mu.Unlock()
			if rewrite != nil && isCredsRequest(resp.Request) {
				rewrite(data)
				if body, err = json.Marshal(doc); err != nil {
					return err
				}
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// answer is a fault that answers the first times credential requests (all when times is
// 0) with status, header and body, and lets the later ones through.
func answer(times, status int, header map[string]string, body string) fault {
	return func(w http.ResponseWriter, r *http.Request, attempt int) bool {
		if times > 0 && attempt > times {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
		return true
	}
}

// hang is a fault that never answers: the request ends when the client gives up (or
// the proxy closes).
func (p *faultProxy) hang() fault {
	return func(w http.ResponseWriter, r *http.Request, attempt int) bool {
		select {
		case <-r.Context().Done():
		case <-p.closing:
		}
		return true
	}
}

// faultRun is one row's world: the binary's environment, its request, the proxy in
// front of Vault and the cache folder.
type faultRun struct {
	env   []string
	args  []string
	proxy *faultProxy
	dir   string // the cache folder
}

// prime runs the request through the proxy while it passes everything through, so that
// the cache holds an entry, then edits the entry with edit unless it is nil.
func (fx *faultRun) prime(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	if r := runBin(t, fx.env, fx.args...); r.code != 0 {
		t.Fatalf("priming run: exit %d: %s", r.code, r.stderr)
	}
	entry := onlyEntry(t, fx.dir)
	if edit != nil {
		editEntry(t, entry, edit)
	}
	return entry
}

// What a row leaves in the cache for its request.
const (
	entryAbsent  = "absent"  // no entry
	entryOld     = "old"     // the entry as it was before the run, byte for byte
	entryPrinted = "printed" // a valid entry holding the credentials the run printed
)

type faultRow struct {
	name    string
	args    []string                                // after the base request (assumed_role)
	env     func([]string) []string                 // the environment of the faulty run
	prime   func(t *testing.T, fx *faultRun)        // the state before the faulty run
	fault   func(fx *faultRun) fault                // the proxy's behaviour during the run
	rewrite func(data map[string]any)               // edits Vault's answer during the run
	run     func(t *testing.T, fx *faultRun) result // default: runBin

	code      int    // exit status; -1: killed by a signal
	msg, hint string // failure: part of the error line, part of the hint line
	warn      string // success: part of the one warning line; "" for a silent stderr
	attempts  int    // credential requests the proxy received; -1: not checked
	atLeast   bool   // attempts is a minimum
	vault     int    // credential requests Vault's audit log shows; -1: not checked
	entry     string // entryAbsent, entryOld or entryPrinted
	tmpOK     bool   // a .tmp-* file may be left (a killed writer)
	after     func(t *testing.T, fx *faultRun, r result)
}

// TestFaultMatrix runs every fault of issue 7 against the real binary.
func TestFaultMatrix(t *testing.T) {
	b := requireBed(t)
	badToken := "hvs.not-a-real-token-0123456789"
	addSecret(badToken)
	vaultErrors := func(msg string) string { return `{"errors":["` + msg + `"]}` }
	const htmlPage = "<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n" +
		"<body>\n<center><h1>503 Service Temporarily Unavailable</h1></center>\n</body>\n</html>\n"

	rows := []faultRow{
		{
			name: "vault down",
			args: []string{"--retries", "1"},
			prime: func(t *testing.T, fx *faultRun) {
				fx.prime(t, age(-time.Minute)) // expired: never served
				fx.proxy.down()
			},
			code: 1, msg: "refused", hint: "is Vault running there?",
			attempts: 0, vault: 0, entry: entryOld,
		},
		{
			name:  "vault slower than --timeout",
			args:  []string{"--timeout", "2s"},
			prime: func(t *testing.T, fx *faultRun) { fx.prime(t, age(3*time.Minute)) }, // below min_remaining
			fault: func(fx *faultRun) fault { return fx.proxy.hang() },
			code:  1, msg: "did not answer in time", hint: "raise --timeout",
			attempts: 1, vault: 0, entry: entryOld,
		},
		{
			name:  "vault slower than --timeout, cached entry still valid",
			args:  []string{"--timeout", "2s"},
			prime: func(t *testing.T, fx *faultRun) { fx.prime(t, age(10*time.Minute)) },
			fault: func(fx *faultRun) fault { return fx.proxy.hang() },
			code:  0, attempts: 1, vault: 0, entry: entryOld,
			after: func(t *testing.T, fx *faultRun, r result) {
				var e map[string]any
				data, _ := os.ReadFile(onlyEntry(t, fx.dir))
				if err := json.Unmarshal(data, &e); err != nil || parseDocument(t, r.stdout).AccessKeyID != e["access_key_id"] {
					t.Errorf("the run did not print the cached credentials")
				}
			},
		},
		{
			name:  "500 once, then Vault's answer",
			fault: func(*faultRun) fault { return answer(1, 500, nil, vaultErrors("internal error")) },
			code:  0, attempts: 2, vault: 1, entry: entryPrinted,
		},
		{
			name:  "503 until --timeout",
			args:  []string{"--timeout", "3s", "--retries", "10"},
			fault: func(*faultRun) fault { return answer(0, 503, nil, vaultErrors("overloaded")) },
			code:  1, msg: "did not answer in time", hint: "raise --timeout",
			attempts: 2, atLeast: true, vault: 0, entry: entryAbsent,
		},
		{
			name:  "503 with an HTML page until --retries run out",
			args:  []string{"--retries", "2"},
			fault: func(*faultRun) fault { return answer(0, 503, map[string]string{"Content-Type": "text/html"}, htmlPage) },
			code:  1, msg: "Vault answered 503: server error", hint: "overloaded",
			attempts: 3, vault: 0, entry: entryAbsent,
		},
		{
			name: "429 with Retry-After once, then Vault's answer",
			fault: func(*faultRun) fault {
				return answer(1, 429, map[string]string{"Retry-After": "1"}, vaultErrors("rate limit quota exceeded"))
			},
			code: 0, attempts: 2, vault: 1, entry: entryPrinted,
		},
		{
			name:  "429 without Retry-After until --retries run out",
			args:  []string{"--retries", "1"},
			fault: func(*faultRun) fault { return answer(0, 429, nil, vaultErrors("rate limit quota exceeded")) },
			code:  1, msg: "Vault answered 429: rate limit quota exceeded", hint: "overloaded",
			attempts: 2, vault: 0, entry: entryAbsent,
		},
		{
			// Vault asks for an hour: the helper must not retry before that, and says
			// what Vault answered rather than blaming the network.
			name: "429 with a Retry-After beyond --timeout",
			args: []string{"--timeout", "3s"},
			fault: func(*faultRun) fault {
				return answer(0, 429, map[string]string{"Retry-After": "3600"}, vaultErrors("rate limit quota exceeded"))
			},
			code: 1, msg: "Vault answered 429", hint: "overloaded",
			attempts: 1, vault: 0, entry: entryAbsent,
		},
		{
			// A still-valid entry does not paper over a refusal.
			name:  "403 from Vault (bad token), cached entry still valid",
			env:   func(e []string) []string { return setEnv(e, "VAULT_TOKEN", badToken) },
			prime: func(t *testing.T, fx *faultRun) { fx.prime(t, age(10*time.Minute)) },
			code:  1, msg: "Vault answered 403: permission denied", hint: "vault login",
			attempts: 1, vault: 1, entry: entryOld,
		},
		{
			name: "400 from Vault (unknown role)",
			args: []string{"--role", "nope", "--type", ""}, // see faultArgs
			code: 1, msg: `Vault answered 400: Role "nope" not found`, hint: "check --mount and --role",
			attempts: 1, vault: 1, entry: entryAbsent,
		},
		{
			name:  "sealed Vault",
			args:  []string{"--retries", "1"},
			prime: primeSealed,
			code:  1, msg: "Vault answered 503: Vault is sealed", hint: "Vault is sealed",
			attempts: 2, vault: -1, entry: entryAbsent,
		},
		{
			name: "malformed JSON with status 200",
			fault: func(*faultRun) fault {
				return answer(0, 200, nil, `{"request_id":"1","lease_id":"aws/creds/assume/x","data":{"access_key":"AKIA`)
			},
			code: 1, msg: "was cut short", hint: "cut the answer",
			attempts: 1, vault: 0, entry: entryAbsent,
		},
		{
			name:    "Vault's answer without access_key",
			rewrite: func(data map[string]any) { delete(data, "access_key") },
			code:    1, msg: "the response has no access_key or secret_key", hint: "does not understand",
			attempts: 1, vault: 1, entry: entryAbsent,
		},
		{
			name: "cache folder unwritable, no entry yet",
			prime: func(t *testing.T, fx *faultRun) {
				if err := os.MkdirAll(fx.dir, 0o700); err != nil {
					t.Fatal(err)
				}
				testenv.Unwritable(t, fx.dir)
			},
			code: 0, warn: "could not cache the credentials",
			attempts: 1, vault: 1, entry: entryAbsent,
		},
		{
			name: "cache folder unwritable, stale entry",
			prime: func(t *testing.T, fx *faultRun) {
				fx.prime(t, age(10*time.Minute))
				testenv.Unwritable(t, fx.dir)
			},
			code: 0, warn: "could not cache the credentials",
			attempts: 1, vault: 1, entry: entryOld,
		},
		{
			name: "corrupt entry",
			prime: func(t *testing.T, fx *faultRun) {
				entry := fx.prime(t, nil)
				if err := os.WriteFile(entry, []byte(`{"version":1,"access_key_id":"AKIA`), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			code: 0, attempts: 1, vault: 1, entry: entryPrinted,
		},
		{
			name: "symlinked entry",
			prime: func(t *testing.T, fx *faultRun) {
				entry := fx.prime(t, nil)
				target := filepath.Join(t.TempDir(), "elsewhere.json")
				if err := os.Rename(entry, target); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, entry); err != nil {
					t.Fatal(err)
				}
			},
			code: 1, msg: "is a symlink", hint: "fix or remove it",
			attempts: 0, vault: 0, entry: entryOld,
		},
		{
			name:  "SIGKILL in the middle of a write",
			prime: func(t *testing.T, fx *faultRun) { fx.prime(t, age(10*time.Minute)) },
			run: func(t *testing.T, fx *faultRun) result {
				return startPaused(t, fx.env, fx.args).kill(t)
			},
			code: -1, attempts: 1, vault: 1, entry: entryOld, tmpOK: true,
			after: func(t *testing.T, fx *faultRun, _ result) {
				// The next run refreshes the entry, and its write removes a
				// temporary file older than ten minutes.
				tmps, _ := filepath.Glob(filepath.Join(fx.dir, ".tmp-*"))
				if len(tmps) != 1 {
					t.Fatalf("want the killed writer's temporary file, found %v", tmps)
				}
				old := time.Now().Add(-11 * time.Minute)
				if err := os.Chtimes(tmps[0], old, old); err != nil {
					t.Fatal(err)
				}
				before := snapshotCache(t, fx.dir)
				r := runBin(t, fx.env, fx.args...)
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("run after the kill: exit %d, stderr:\n%s", r.code, r.stderr)
				}
				assertCache(t, fx.dir, before, r, entryPrinted, false)
			},
		},
		{
			name: "stale lock left by a killed process",
			prime: func(t *testing.T, fx *faultRun) {
				// The paused writer holds the entry's lock: a run now waits for it
				// until --timeout and fails, as there is no entry to serve.
				paused := startPaused(t, fx.env, fx.args)
				r := runBin(t, fx.env, append(fx.args, "--timeout", "2s")...)
				assertFailure(t, r, 1, "wait for the cache lock", "a process may be stuck")
				paused.kill(t)
				if locks, _ := filepath.Glob(filepath.Join(fx.dir, "*.lock")); len(locks) != 1 {
					t.Fatalf("want the lock file the killed process held, found %v", locks)
				}
			},
			// Were the lock still held, this run would fail as the one above did.
			args: []string{"--timeout", "10s"},
			code: 0, attempts: 1, vault: 1, entry: entryPrinted, tmpOK: true,
		},
		{
			name: "retries out of range (usage error)",
			args: []string{"--retries", "11"},
			code: 2, msg: "invalid retry count", hint: "from 0 to 10",
			attempts: 0, vault: 0, entry: entryAbsent,
		},
	}

	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			env := productEnv(t, b)
			fx := &faultRun{env: env, dir: cacheDir(env),
				args: faultArgs(tt.args), proxy: startFaultProxy(t, b.VaultAddr)}
			fx.env = setEnv(fx.env, "VAULT_ADDR", fx.proxy.addr())
			if tt.prime != nil {
				tt.prime(t, fx)
			}
			if tt.env != nil {
				fx.env = tt.env(fx.env)
			}
			var f fault
			if tt.fault != nil {
				f = tt.fault(fx)
			}
			fx.proxy.set(f, tt.rewrite)
			before := snapshotCache(t, fx.dir)
			path := testbed.Mount + "/creds/" + argValue(fx.args, "--role")
			requests := auditCount(t, b, "update", path)

			var r result
			if tt.run != nil {
				r = tt.run(t, fx)
			} else {
				r = runBin(t, fx.env, fx.args...)
			}
			t.Logf("exit %d, stderr:\n%s", r.code, r.stderr)

			switch {
			case tt.code == 0:
				if r.code != 0 {
					t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
				}
				assertWarning(t, r.stderr, tt.warn)
			case tt.code > 0:
				assertFailure(t, r, tt.code, tt.msg, tt.hint)
			case r.code != tt.code:
				t.Errorf("exit %d, want %d (killed)", r.code, tt.code)
			}
			if got := fx.proxy.count(); got != tt.attempts && !(tt.atLeast && got > tt.attempts) && tt.attempts >= 0 {
				t.Errorf("the proxy got %d credential requests, want %d", got, tt.attempts)
			}
			if tt.vault >= 0 {
				if got := auditCount(t, b, "update", path) - requests; got != tt.vault {
					t.Errorf("Vault got %d credential requests, want %d", got, tt.vault)
				}
			}
			assertCache(t, fx.dir, before, r, tt.entry, tt.tmpOK)
			if tt.after != nil {
				tt.after(t, fx, r)
			}
		})
	}
}

// faultArgs is the base request with the row's arguments after it; an empty value
// removes a flag of the base request.
func faultArgs(extra []string) []string {
	base := []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}
	var out []string
	for i := 0; i+1 < len(base); i += 2 {
		if v, ok := lookupArg(extra, base[i]); ok {
			if v != "" {
				out = append(out, base[i], v)
			}
			continue
		}
		out = append(out, base[i], base[i+1])
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if _, ok := lookupArg(base, extra[i]); !ok {
			out = append(out, extra[i], extra[i+1])
		}
	}
	return out
}

func lookupArg(args []string, name string) (string, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == name {
			return args[i+1], true
		}
	}
	return "", false
}

func argValue(args []string, name string) string {
	v, _ := lookupArg(args, name)
	return v
}

// primeSealed starts a second dev Vault, seals it with `vault operator seal` and points
// the run (through a new proxy) at it. The shared bed stays unsealed.
func primeSealed(t *testing.T, fx *faultRun) {
	t.Helper()
	tools, err := testbed.Locate()
	if err != nil {
		t.Fatalf("locate the tools: %v", err)
	}
	ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
	defer cancel()
	v, err := testbed.StartVault(ctx, tools, t.TempDir())
	if err != nil {
		t.Fatalf("start a second Vault: %v", err)
	}
	t.Cleanup(func() { _ = v.Stop() })
	addSecret(v.RootToken)
	seal := exec.CommandContext(ctx, tools.Vault, "operator", "seal")
	seal.Env = v.Env()
	if out, err := seal.CombinedOutput(); err != nil {
		t.Fatalf("vault operator seal: %v\n%s", err, out)
	}
	var status struct {
		Sealed bool `json:"sealed"`
	}
	if err := v.Request(ctx, "GET", "sys/seal-status", nil, &status); err != nil || !status.Sealed {
		t.Fatalf("the second Vault is not sealed (%+v, %v)", status, err)
	}
	fx.proxy = startFaultProxy(t, v.Addr)
	fx.env = setEnv(setEnv(fx.env, "VAULT_ADDR", fx.proxy.addr()), "VAULT_TOKEN", v.RootToken)
}

// cacheFile is a file of the cache folder as snapshotCache sees it.
type cacheFile struct {
	link string // the target, for a symlink
	data []byte // the content (of the target, for a symlink)
	mode os.FileMode
}

// snapshotCache reads the entries and temporary files of the cache folder dir.
func snapshotCache(t *testing.T, dir string) map[string]cacheFile {
	t.Helper()
	out := map[string]cacheFile{}
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		name := de.Name()
		if strings.HasSuffix(name, ".lock") {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		var f cacheFile
		f.mode = fi.Mode()
		if fi.Mode()&os.ModeSymlink != 0 {
			if f.link, err = os.Readlink(path); err != nil {
				t.Fatal(err)
			}
		}
		if f.data, err = os.ReadFile(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out[name] = f
	}
	return out
}

// assertCache checks that the cache is intact after run r: each entry absent, as it was
// before, or a valid entry of mode 0600 holding the credentials r printed, and the
// request's entry in the state want; no temporary file unless tmpOK.
func assertCache(t *testing.T, dir string, before map[string]cacheFile, r result, want string, tmpOK bool) {
	t.Helper()
	now := snapshotCache(t, dir)
	names := map[string]bool{}
	for n := range before {
		names[n] = true
	}
	for n := range now {
		names[n] = true
	}
	var printed *document
	if r.code == 0 {
		d := parseDocument(t, r.stdout)
		printed = &d
	}
	var states []string
	for n := range names {
		if strings.HasPrefix(n, ".tmp-") {
			if _, ok := now[n]; ok && !tmpOK {
				t.Errorf("temporary file %s left in the cache", n)
			}
			continue
		}
		if !strings.HasSuffix(n, ".json") {
			t.Errorf("unexpected file %s in the cache", n)
			continue
		}
		old, had := before[n]
		cur, has := now[n]
		switch {
		case !has:
			states = append(states, entryAbsent)
		case had && cur.link == old.link && bytes.Equal(cur.data, old.data) && cur.mode == old.mode:
			states = append(states, entryOld)
		case cur.link == "" && cur.mode.Perm() == 0o600 && printed != nil && holds(cur.data, *printed):
			states = append(states, entryPrinted)
		default:
			t.Errorf("cache entry %s is neither the old one nor the credentials printed (mode %v)", n, cur.mode)
			states = append(states, "broken")
		}
	}
	if len(states) == 0 {
		states = []string{entryAbsent}
	}
	if len(states) != 1 || states[0] != want {
		t.Errorf("cache entries %v, want one %s", states, want)
	}
}

// holds reports whether data is a valid cache entry with the secrets of d.
func holds(data []byte, d document) bool {
	var e struct {
		Version         int    `json:"version"`
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		SessionToken    string `json:"session_token"`
		Expiration      string `json:"expiration"`
	}
	if json.Unmarshal(data, &e) != nil {
		return false
	}
	exp, err := time.Parse(time.RFC3339, e.Expiration)
	return e.Version == 1 && e.AccessKeyID == d.AccessKeyID && e.SecretAccessKey == d.SecretAccessKey &&
		e.SessionToken == d.SessionToken && err == nil && exp.UTC().Format(time.RFC3339) == d.Expiration
}

package main

// The harness of the root package's tests: how a test runs the product (the binary under
// test, or run in this process), the environments it runs in, and how it judges what
// came out: the one failure assert, the warning assert, the credential_process document,
// the secrets no output may show and the cache entries a run leaves. Unit tests (-short)
// and integration tests share it; the test bed itself (TestMain, builds, what the bed's
// Vault is asked) is in integration_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// result is what a run printed, and its exit status.
type result struct {
	code           int
	stdout, stderr string
}

// runOpts says how runProgram runs a binary; the zero value runs the binary under
// test for at most two minutes.
type runOpts struct {
	bin      string        // the program; "" for the binary under test
	bound    time.Duration // a run still going then fails the test; 0 for two minutes
	group    bool          // in a process group of its own, killed whole at the bound
	detached bool          // in a session of its own: no controlling terminal
	// document: a credential-printing run, whose success is one credential
	// document (its secrets join those checked later) and whose failure is an
	// empty stdout and the error line.
	document bool
}

// runProgram runs a program with env and args and checks what every run must
// satisfy: never a secret on stderr, and what opts.document adds.
func runProgram(t *testing.T, env []string, o runOpts, args ...string) result {
	t.Helper()
	if o.bin == "" {
		o.bin = binaryUnderTest(t)
	}
	if o.bound == 0 {
		o.bound = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(runCtx, o.bound)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.bin, args...)
	cmd.Env = env
	setProcAttr(cmd, o)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil && runCtx.Err() == nil {
		t.Fatalf("run %v still going after %s; stderr:\n%s", args, o.bound, stderr.String())
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	switch {
	case o.document && r.code == 0:
		doc := parseDocument(t, r.stdout)
		addSecret(doc.SecretAccessKey)
		addSecret(doc.SessionToken)
	case o.document:
		if r.stdout != "" {
			t.Errorf("run %v failed (exit %d) but printed to stdout: %q", args, r.code, r.stdout)
		}
		if !strings.HasPrefix(r.stderr, errorPrefix) {
			t.Errorf("run %v: stderr does not start with the error line:\n%s", args, r.stderr)
		}
	}
	assertNoSecret(t, fmt.Sprintf("stderr of %v", args), r.stderr)
	return r
}

// runBin runs the binary under test as the AWS clients do: a credential document
// on success, an empty stdout and the error line on failure.
func runBin(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runProgram(t, env, runOpts{document: true}, args...)
}

// runCmd runs a subcommand of the binary under test, whose stdout is its own.
func runCmd(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runProgram(t, env, runOpts{}, args...)
}

// startReading starts cmd and returns its stdout, to read while it runs.
func startReading(t *testing.T, cmd *exec.Cmd) io.Reader {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return stdout
}

// runMany makes n runs at once, run(i) each, and returns their results in order.
func runMany(n int, run func(i int) result) []result {
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = run(i)
		}()
	}
	wg.Wait()
	return results
}

// paused is the hooked binary stopped in the middle of writing an entry, holding the
// entry's lock.
type paused struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr *bufio.Reader
	line   string
	done   bool
}

// startPaused starts the testhooks build of the binary with env and args and returns
// once it has written half of the temporary file of the entry.
func startPaused(t *testing.T, env, args []string) *paused {
	t.Helper()
	hooked := hookedBinary(t)
	ctx, cancel := context.WithTimeout(runCtx, time.Minute)
	p := &paused{cmd: exec.CommandContext(ctx, hooked, args...)}
	p.cmd.Env = append(slices.Clone(env), "VAULT_CREDENTIAL_PROCESS_TEST_PAUSE_WRITE=1")
	p.cmd.SysProcAttr = testbed.ChildAttr() // the paused process dies with the test binary
	p.cmd.Stdout = &p.stdout
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.done {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		cancel()
	})
	p.stderr = bufio.NewReader(pipe)
	p.line, err = p.stderr.ReadString('\n')
	if err != nil || !strings.Contains(p.line, "paused writing") {
		t.Fatalf("the hooked binary did not pause: %q, %v", p.line, err)
	}
	return p
}

// kill sends SIGKILL and returns what the process printed; a killed process printed no
// document and no secret.
func (p *paused) kill(t *testing.T) result {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(p.stderr)
	err := p.cmd.Wait()
	p.done = true
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the hooked binary was not killed: %v", err)
	}
	r := result{code: ee.ExitCode(), stdout: p.stdout.String(), stderr: p.line + string(rest)}
	if r.stdout != "" {
		t.Errorf("the killed process printed %q", r.stdout)
	}
	if r.stderr != p.line {
		t.Errorf("the killed process wrote more than the hook's line on stderr: %q", r.stderr)
	}
	assertNoSecret(t, "stderr of the killed process", r.stderr)
	return r
}

// runInProcess calls run in this process with args and getenv, and returns what it
// wrote; like runProgram it checks that stderr holds no secret. Parts of the product
// still read this process's environment themselves (the token helper, HOME for
// ~/.vault-token), so a test that gets as far as Vault cleans it with unitEnv and
// passes os.Getenv; one that stops before, at the command line or the configuration,
// passes fakeEnv.
func runInProcess(t *testing.T, getenv func(string) string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, getenv)
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	assertNoSecret(t, fmt.Sprintf("stderr of %v", args), r.stderr)
	return r
}

// Environments.

// productEnv is a clean environment for the binary: no inherited VAULT_*/AWS_*, HOME and
// the XDG folders in a fresh temporary folder, Vault's address and the helper's token.
func productEnv(t *testing.T, b *testbed.Bed) []string {
	t.Helper()
	allow, _ := tokens(t, b)
	return append(homeEnv(t), "VAULT_ADDR="+b.VaultAddr, "VAULT_TOKEN="+allow)
}

// homeEnv is this process's environment without VAULT_*, AWS_* or XDG_* variables, with
// HOME and the XDG folders in a fresh temporary folder.
func homeEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	return append(cleanEnv(os.Environ(), "VAULT_", "AWS_", "XDG_", "HOME="), "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
}

// clientEnv is env for an AWS client reading the AWS config file config: no
// inherited AWS_* variable, no shared credentials file, no instance metadata, no proxy
// for loopback, and extra on top.
func clientEnv(env []string, config string, extra ...string) []string {
	out := append(cleanEnv(env, "AWS_", "NO_PROXY=", "no_proxy="), "AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull, "AWS_EC2_METADATA_DISABLED=true",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	return append(out, extra...)
}

// clientConfig writes an AWS config file whose profile clientProfile sends
// the clients to moto at endpoint (a URL), and returns its path.
func clientConfig(t *testing.T, endpoint string) string {
	t.Helper()
	config := filepath.Join(t.TempDir(), "aws-config")
	writeFile(t, config, fmt.Sprintf("[profile %s]\nregion = %s\nendpoint_url = %s\n", clientProfile, testbed.Region, endpoint), 0o600)
	return config
}

// cleanEnv returns a copy of env without the variables that start with one of
// prefixes ("VAULT_" for a family, "HOME=" for one variable).
func cleanEnv(env []string, prefixes ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// setEnv returns env with name=value in place of any earlier value.
func setEnv(env []string, name, value string) []string {
	return append(cleanEnv(env, name+"="), name+"="+value)
}

// envValue is the value of the variable name in env, "" when it is not set.
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// unitEnv clears every VAULT_* and AWS_* variable of this process for the test and
// points HOME and the XDG folders at empty temporary ones, so that a run in this
// process (runInProcess with os.Getenv) sees only what the test sets.
func unitEnv(t *testing.T) {
	t.Helper()
	testenv.ClearVaultAWS(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	addSecret(unitToken)
	addSecret(unitSecretKey)
}

// fakeEnv is a getenv for runInProcess that knows vars and nothing of this process:
// HOME and the XDG folders in a fresh temporary folder unless vars sets them.
func fakeEnv(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_CACHE_HOME": filepath.Join(home, ".cache")}
	for k, v := range vars {
		env[k] = v
	}
	return func(name string) string { return env[name] }
}

// unitToken is the Vault token of the runs against fake Vaults.
const unitToken = "hvs.unit-test-token-not-a-secret"

// unitSecretKey is the secret key fake Vaults answer with (iamUserAnswer).
const unitSecretKey = "s3cr3t-unit-test-key"

// Fake Vaults, for unit tests.

// iamUserAnswer is what Vault answers for an iam_user role.
const iamUserAnswer = `{"lease_id":"aws/creds/dev/abc","lease_duration":3600,"renewable":true,` +
	`"data":{"access_key":"AKIAEXAMPLE","secret_key":"` + unitSecretKey + `","session_token":null}}`

// fakeVault is a Vault on loopback that answers every request with status
// and body; it returns its address.
func fakeVault(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// recordingVault is a Vault on loopback that mints iam_user credentials,
// revokes leases and tokens, logs in with AppRole, and records every request it gets:
// headers and body, to prove which secrets reached it.
type recordingVault struct {
	*httptest.Server
	name string

	mu       sync.Mutex
	requests []string // method, path, every header and the body, one string each
	revoked  []string
	minted   int
}

func newRecordingVault(t *testing.T, name string) *recordingVault {
	t.Helper()
	v := &recordingVault{name: name}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %s", r.Method, r.URL.Path, body)
		for k, vs := range r.Header {
			fmt.Fprintf(&b, " %s=%s", k, strings.Join(vs, ","))
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		v.requests = append(v.requests, b.String())
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/aws/creds/"):
			v.minted++
			fmt.Fprintf(w, `{"lease_id":"aws/creds/%s/lease-%d","lease_duration":3600,"renewable":true,`+
				`"data":{"access_key":"AKIA%sKEY%d","secret_key":"s3cr3t-%s-%d","session_token":null}}`,
				name, v.minted, strings.ToUpper(name), v.minted, name, v.minted)
		case r.URL.Path == "/v1/sys/leases/revoke":
			var in struct {
				LeaseID string `json:"lease_id"`
			}
			_ = json.Unmarshal(body, &in)
			v.revoked = append(v.revoked, in.LeaseID)
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/v1/auth/token/lookup-self":
			fmt.Fprintf(w, `{"data":{"ttl":0,"accessor":"accessor-%s"}}`, name)
		case r.URL.Path == "/v1/auth/token/revoke-self":
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/v1/auth/approle/login":
			fmt.Fprintf(w, `{"auth":{"client_token":"hvs.login-at-%s","accessor":"acc-login-%s","lease_duration":3600,"renewable":true}}`, name, name)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":["no handler"]}`)
		}
	}))
	t.Cleanup(v.Close)
	return v
}

// saw reports whether any request to v held s.
func (v *recordingVault) saw(s string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range v.requests {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

func (v *recordingVault) revokedLeases() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.revoked...)
}

// closedPort is a loopback address where nothing listens: connecting is refused at once.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Secrets.

// secrets collects every secret value the tests have seen (secret keys, session tokens,
// Vault tokens, passwords), so that each run's stderr can be checked against all of them.
var secrets struct {
	sync.Mutex
	values map[string]bool
}

// addSecret registers v as a secret no output may show; values shorter than eight
// characters are too common to look for.
func addSecret(v string) {
	if len(v) < 8 {
		return
	}
	secrets.Lock()
	defer secrets.Unlock()
	if secrets.values == nil {
		secrets.values = map[string]bool{}
	}
	secrets.values[v] = true
}

// assertNoSecret fails when text holds any secret seen so far.
func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	secrets.Lock()
	defer secrets.Unlock()
	for v := range secrets.values {
		if strings.Contains(text, v) {
			t.Errorf("%s contains a secret (%d characters starting %q)", what, len(v), v[:4])
		}
	}
}

// What a run prints on stderr.

const (
	errorPrefix   = name + ": error: "
	warningPrefix = name + ": warning: "
	hintPrefix    = "hint: "
)

// leaks are signs of an error printed as Go or vault/api formats it for developers.
var leaks = []string{"Error making API request", "URL: ", "Code: ", "Errors:", "giving up after", "* "}

// assertFailure checks a failed run against the contract of every failure: exit status
// code; an empty stdout; on stderr exactly one error line "vault-credential-process:
// error: ..." mentioning msg, in words for users (none of leaks), then one "hint: ..."
// line mentioning hint, or no hint line when hint is ""; no raw control character; no
// secret.
// runFailing runs the binary with env and args and asserts its failure
// (assertFailure). A usage or configuration error (exit 2) must also have
// reached no Vault: the bed's audit log has no new entry.
func runFailing(t *testing.T, b *testbed.Bed, env, args []string, code int, msg, hint string) result {
	t.Helper()
	before := auditTotal(t, b)
	r := runBin(t, env, args...)
	assertFailure(t, r, code, msg, hint)
	if after := auditTotal(t, b); code == process.ExitUsage && after != before {
		t.Errorf("a usage or configuration error reached Vault: %d requests", after-before)
	}
	return r
}

func assertFailure(t *testing.T, r result, code int, msg, hint string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d; stderr:\n%s", r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout of a failed run is not empty: %q", r.stdout)
	}
	want := 1
	if hint != "" {
		want = 2
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != want || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("stderr is not %d line(s), the error line mentioning %q and the hint line mentioning %q:\n%s",
			want, msg, hint, r.stderr)
	}
	if !strings.HasPrefix(lines[0], errorPrefix) || !strings.Contains(lines[0], msg) {
		t.Errorf("error line %q, want one mentioning %q", lines[0], msg)
	}
	for _, l := range leaks {
		if strings.Contains(lines[0], l) {
			t.Errorf("error line %q has %q in it", lines[0], l)
		}
	}
	if hint != "" && (!strings.HasPrefix(lines[1], hintPrefix) || !strings.Contains(lines[1], hint)) {
		t.Errorf("hint line %q, want one mentioning %q", lines[1], hint)
	}
	assertPrintable(t, r.stderr)
	assertNoSecret(t, "stderr", r.stderr)
}

// assertWarning checks a successful run's stderr: empty, or the one warning line
// mentioning warn.
func assertWarning(t *testing.T, stderr, warn string) {
	t.Helper()
	if warn == "" {
		if stderr != "" {
			t.Errorf("stderr of a successful run is not empty:\n%s", stderr)
		}
		return
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") ||
		!strings.HasPrefix(stderr, warningPrefix) || !strings.Contains(stderr, warn) {
		t.Errorf("stderr is not one warning line mentioning %q:\n%s", warn, stderr)
	}
}

// assertPrintable fails if text holds a control or format character other than the
// newline that ends each line (reporting each one once), or a line that does not start
// with one of prefixes, which means a line was split. Without prefixes, the lines of
// stderr are expected.
func assertPrintable(t *testing.T, text string, prefixes ...string) {
	t.Helper()
	if len(prefixes) == 0 {
		prefixes = []string{name + ": ", hintPrefix}
	}
	seen := map[rune]bool{}
	for _, r := range text {
		if r != '\n' && !seen[r] && (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp)) {
			seen[r] = true
			t.Errorf("output holds %U raw:\n%q", r, text)
		}
	}
next:
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				continue next
			}
		}
		t.Errorf("line %q starts with none of %q (was a line split?)", l, prefixes)
	}
}

// The credential_process document.

// document is the credential_process document as the AWS clients read it.
type document struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
	AccountID       string `json:"AccountId"`
}

// parseDocument checks that out is exactly one credential_process document (one line
// of JSON, a newline, nothing else, no unknown fields) and returns it.
func parseDocument(t *testing.T, out string) document {
	t.Helper()
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout is not one line: %q", out)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var d document
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("stdout is not a credential_process document: %v: %q", err, out)
	}
	if d.Version != 1 || d.AccessKeyID == "" || d.SecretAccessKey == "" {
		t.Fatalf("incomplete document: %q", out)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(d.Expiration) {
		t.Fatalf("Expiration %q is not UTC RFC 3339 ending in Z", d.Expiration)
	}
	return d
}

func (d document) expires(t *testing.T) time.Time {
	t.Helper()
	e, err := time.Parse(time.RFC3339, d.Expiration)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// sentPlus fails unless exp is a request time within [start, end] plus lifetime: the
// helper counts the expiry from when it sent the request, and the document has whole
// seconds (rounded down).
func sentPlus(t *testing.T, what string, exp, start, end time.Time, lifetime time.Duration) {
	t.Helper()
	lo, hi := start.Add(lifetime).Truncate(time.Second).Add(-time.Second), end.Add(lifetime)
	if exp.Before(lo) || exp.After(hi) {
		t.Errorf("%s = %s, want a request time between %s and %s plus %s", what, exp.Format(time.RFC3339),
			start.Format(time.RFC3339), end.Format(time.RFC3339), lifetime)
	}
}

// Cache entries.

// cacheDir is where the binary keeps its entries for env (XDG_CACHE_HOME is set by
// productEnv).
func cacheDir(env []string) string {
	return filepath.Join(envValue(env, "XDG_CACHE_HOME"), "vault-credential-process")
}

// onlyEntry returns the path of the one entry in dir.
func onlyEntry(t *testing.T, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(m) != 1 {
		t.Fatalf("want one cache entry in %s, found %v (%v)", dir, m, err)
	}
	return m[0]
}

// editEntry rewrites the cache entry at path through fn, keeping its mode.
func editEntry(t *testing.T, path string, fn func(map[string]any)) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	fn(e)
	if data, err = json.Marshal(e); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data), 0o600)
	return e
}

// age makes an entry look issued an hour ago, with remaining time left: past the
// refresh window, still valid.
func age(remaining time.Duration) func(map[string]any) {
	return func(e map[string]any) {
		now := time.Now().UTC()
		e["issued_at"] = now.Add(-time.Hour).Format(time.RFC3339)
		e["expiration"] = now.Add(remaining).Format(time.RFC3339)
	}
}

// writeFile writes content to path with perm, failing the test on error.
func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

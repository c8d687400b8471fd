package main

// Integration tests through every major AWS client: the aws CLI, boto3, the AWS SDK for
// Go v2 and the AWS SDK for JavaScript v3, each running the real binary from a profile's
// credential_process. Each sees the identity Vault minted, and gets new credentials
// through the helper when the ones it holds near their expiry.
//
// The SDK clients are long-lived programs (tools/awsgo -serve, tools/awspy,
// tools/awsjs): one line on stdin makes them call GetCallerIdentity once, and they
// answer with one JSON line naming the identity and the access key they signed with.
// That is how the tests see an SDK refresh credentials inside one process.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// clientArgs is the request of every client test: assumed_role credentials for an hour.
// Without --role-session-name Vault names each session anew, and moto maps each key to
// its session, so new credentials show as a new identity.
var clientArgs = []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--ttl", "1h"}

// clientProfile is the AWS profile the client tests write.
const clientProfile = "vcp"

// clientSetup is one client test's world: a helper environment with its own cache, and
// an AWS config whose profile runs the binary with clientArgs.
type clientSetup struct {
	helperEnv []string // for runBin: productEnv plus the helper's audit log
	clientEnv []string // for the AWS clients: helperEnv plus the AWS config, debug off
	auditLog  string   // the helper's audit log: one line per run, what it handed out
	cacheDir  string
}

func newClientSetup(t *testing.T, b *testbed.Bed) clientSetup {
	t.Helper()
	bin := binaryUnderTest(t)
	dir := t.TempDir()
	s := clientSetup{auditLog: filepath.Join(dir, "helper-audit.jsonl")}
	s.helperEnv = append(productEnv(t, b), "VAULT_CREDENTIAL_PROCESS_AUDIT_LOG="+s.auditLog)
	s.cacheDir = cacheDir(s.helperEnv)
	config := filepath.Join(dir, "aws-config")
	if err := b.WriteAWSConfig(config, map[string]string{clientProfile: bin + " " + strings.Join(clientArgs, " ")}); err != nil {
		t.Fatal(err)
	}
	// The helper runs inside the clients, which may pass its stderr on (aws-sdk-go-v2
	// does): with debug off it must stay silent, and never show a secret. (cleanEnv
	// copies, so clientEnv never shares helperEnv's array.)
	s.clientEnv = clientEnv(s.helperEnv, config, "VAULT_CREDENTIAL_PROCESS_DEBUG=0")
	return s
}

// helperRun is one line of the helper's audit log.
type helperRun struct {
	Time        time.Time `json:"time"`
	Source      string    `json:"source"` // vault, renewal, cache, outage
	AccessKeyID string    `json:"access_key_id"`
	Expiration  time.Time `json:"expiration"`
}

// helperRuns reads the helper's audit log, and checks that no run handed out credentials
// that had expired or expired within a minute: never serve expired.
func (s clientSetup) helperRuns(t *testing.T) []helperRun {
	t.Helper()
	data, err := os.ReadFile(s.auditLog)
	if err != nil {
		t.Fatalf("helper audit log: %v", err)
	}
	var runs []helperRun
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r helperRun
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("helper audit log line %q: %v", line, err)
		}
		if !r.Expiration.After(r.Time.Add(time.Minute)) {
			t.Errorf("a helper run at %s handed out %s expiring %s", r.Time.Format(time.RFC3339), r.AccessKeyID, r.Expiration.Format(time.RFC3339))
		}
		runs = append(runs, r)
	}
	return runs
}

// cachedKey is the access key in the helper's cache entry; the entry's secrets join
// the ones no stderr may show, and its expiration must be at least least away.
func (s clientSetup) cachedKey(t *testing.T, least time.Duration) string {
	t.Helper()
	data, err := os.ReadFile(onlyEntry(t, s.cacheDir))
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		AccessKeyID     string    `json:"access_key_id"`
		SecretAccessKey string    `json:"secret_access_key"`
		SessionToken    string    `json:"session_token"`
		Expiration      time.Time `json:"expiration"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("cache entry: %v", err)
	}
	addSecret(e.SecretAccessKey)
	addSecret(e.SessionToken)
	if left := time.Until(e.Expiration); left < least {
		t.Errorf("cache entry %s expires in %s, want at least %s", e.AccessKeyID, left.Round(time.Second), least)
	}
	return e.AccessKeyID
}

// registerSecrets adds the secrets of every entry in the helper's cache to those no
// stderr may show: credentials a client made the helper mint are never printed to the
// test, so this is where they become known.
func (s clientSetup) registerSecrets() {
	paths, _ := filepath.Glob(filepath.Join(s.cacheDir, "*.json"))
	for _, p := range paths {
		var e struct {
			SecretAccessKey string `json:"secret_access_key"`
			SessionToken    string `json:"session_token"`
		}
		if data, err := os.ReadFile(p); err == nil && json.Unmarshal(data, &e) == nil {
			addSecret(e.SecretAccessKey)
			addSecret(e.SessionToken)
		}
	}
}

// seed fills the helper's cache with credentials A that expire soon (below every SDK's
// refresh threshold) but were issued just now, so the helper still serves them: its
// refresh window is min(15m, lifetime/2), here 2m15s, which leaves the test 2m15s.
func (s clientSetup) seed(t *testing.T) (accessKey string) {
	t.Helper()
	r := runBin(t, s.helperEnv, clientArgs...)
	if r.code != 0 {
		t.Fatalf("seed the cache: exit %d: %s", r.code, r.stderr)
	}
	editEntry(t, onlyEntry(t, s.cacheDir), func(e map[string]any) {
		now := time.Now().UTC()
		e["issued_at"] = now.Format(time.RFC3339)
		e["expiration"] = now.Add(seedRemaining).Format(time.RFC3339)
	})
	return parseDocument(t, r.stdout).AccessKeyID
}

// seedRemaining is what the seeded credentials have left: below the refresh threshold of
// each SDK (botocore 15m advisory, 10m mandatory; aws-sdk-go-v2 its ExpiryWindow; JS v3
// 5m), above the helper's window for credentials that young.
const seedRemaining = 4*time.Minute + 30*time.Second

// expire makes the helper's cache entry due for refresh (issued an hour ago, four
// minutes left), so that its next run mints new credentials from Vault.
func (s clientSetup) expire(t *testing.T) {
	t.Helper()
	editEntry(t, onlyEntry(t, s.cacheDir), age(4*time.Minute))
}

// vaultMints counts the credential requests Vault has logged for clientArgs' role.
func vaultMints(t *testing.T, b *testbed.Bed) int {
	t.Helper()
	return auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleAssume)
}

// assumedRoleARN matches the STS identity of a session of the IAM role
// roleARN (arn:aws:iam::ACCOUNT:role/NAME) in the bed's moto.
func assumedRoleARN(b *testbed.Bed, roleARN string) *regexp.Regexp {
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	return regexp.MustCompile(`^` + regexp.QuoteMeta("arn:aws:sts::"+b.AccountID+":assumed-role/"+name+"/") + `\S+$`)
}

func checkIdentity(t *testing.T, b *testbed.Bed, what string, id callerIdentity) {
	t.Helper()
	if !assumedRoleARN(b, b.TargetRoleARN).MatchString(id.Arn) {
		t.Errorf("%s: Arn = %q, want an assumed-role session of %s", what, id.Arn, testbed.TargetRole)
	}
	if id.Account != b.AccountID {
		t.Errorf("%s: Account = %q, want %q", what, id.Account, b.AccountID)
	}
}

// liveClient is a running long-lived client program.
type liveClient struct {
	name    string
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	stdin   io.WriteCloser
	lines   chan string   // stdout, line by line; closed at its end
	stderr  *bytes.Buffer // read only after Wait
	done    bool          // wait has run
	err     error         // from Wait
	checked bool          // stop has run
	silent  bool          // the client prints nothing on stderr itself: any is the helper's
}

// startClient starts name with args and env. The context only bounds a hung client;
// nothing waits on time.
func startClient(t *testing.T, name string, env []string, prog string, args ...string) *liveClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(runCtx, 5*time.Minute)
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = env
	c := &liveClient{name: name, cmd: cmd, cancel: cancel, lines: make(chan string), stderr: new(bytes.Buffer)}
	cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() { c.wait() })
	return c
}

// wait closes stdin, waits for the client to exit and returns its stderr.
func (c *liveClient) wait() string {
	if !c.done {
		c.done = true
		c.stdin.Close()
		for range c.lines {
		}
		c.err = c.cmd.Wait()
		c.cancel()
	}
	return c.stderr.String()
}

// call asks the client for one GetCallerIdentity and returns its answer.
func (c *liveClient) call(t *testing.T) callerIdentity {
	t.Helper()
	if _, err := io.WriteString(c.stdin, "call\n"); err != nil {
		t.Fatalf("%s: send a call: %v\nstderr:\n%s", c.name, err, c.wait())
	}
	line, ok := <-c.lines
	if !ok {
		stderr := c.wait()
		t.Fatalf("%s exited (%v) without answering\nstderr:\n%s", c.name, c.err, stderr)
	}
	var a struct {
		callerIdentity
		Error string `json:"Error"`
	}
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		t.Fatalf("%s: decode answer %q: %v", c.name, line, err)
	}
	if a.Error != "" {
		t.Fatalf("%s: GetCallerIdentity failed: %s", c.name, a.Error)
	}
	if a.AccessKeyID == "" {
		t.Fatalf("%s: the answer does not name the access key it signed with: %s", c.name, line)
	}
	return a.callerIdentity
}

// stop ends the client; it must exit 0 and its stderr, where the helper's stderr may
// go too, must hold no secret.
func (c *liveClient) stop(t *testing.T, s clientSetup) {
	t.Helper()
	if c.checked {
		return
	}
	c.checked = true
	stderr := c.wait()
	s.registerSecrets()
	if c.err != nil {
		t.Errorf("%s: %v\nstderr:\n%s", c.name, c.err, stderr)
	}
	assertNoSecret(t, "stderr of "+c.name, stderr)
	if c.silent && stderr != "" {
		t.Errorf("%s passes the helper's stderr on, and the helper was not silent:\n%s", c.name, stderr)
	}
	if t.Failed() && strings.TrimSpace(stderr) != "" {
		t.Logf("stderr of %s:\n%s", c.name, stderr)
	}
}

// refreshRule is how an SDK treats credentials from credential_process that are about to
// expire, as read in its source.
type refreshRule int

const (
	// beforeRequest: the request that finds them near expiry first runs
	// credential_process again, and is signed with what it returns.
	beforeRequest refreshRule = iota
	// inBackground: that request is signed with the old (still valid) credentials and
	// starts credential_process in the background, for later requests.
	inBackground
	// atExpiry: the SDK keeps them until they have expired.
	atExpiry
)

// sdkClient is one SDK's long-lived client, and its refresh rule.
type sdkClient struct {
	name  string
	rule  refreshRule
	start func(t *testing.T, b *testbed.Bed, env []string) *liveClient
}

// prepare builds or installs the client program before the clock of a refresh scenario
// starts: the first aws-sdk-go-v2 build or npm install may take longer than the seeded
// credentials stay fresh. The builds are memoized, so start finds them done.
func (c sdkClient) prepare(t *testing.T) {
	t.Helper()
	switch {
	case strings.HasPrefix(c.name, "boto3"):
		boto3Python(t)
	case strings.HasPrefix(c.name, "aws-sdk-go-v2"):
		awsgoChecker(t)
	case strings.HasPrefix(c.name, "JS"):
		awsjsInstall(t)
	}
}

func sdkClients() []sdkClient {
	awspy := func(t *testing.T, b *testbed.Bed, env []string) *liveClient {
		return startClient(t, "awspy", env, boto3Python(t), filepath.Join("tools", "awspy", "awspy.py"), "--profile", clientProfile)
	}
	awsgo := func(args ...string) func(t *testing.T, b *testbed.Bed, env []string) *liveClient {
		return func(t *testing.T, b *testbed.Bed, env []string) *liveClient {
			c := startClient(t, "awsgo", env, awsgoChecker(t), append([]string{"-profile", clientProfile, "-serve"}, args...)...)
			c.silent = true // processcreds sets the helper's Stderr to os.Stderr
			return c
		}
	}
	awsjs := func(provider string) func(t *testing.T, b *testbed.Bed, env []string) *liveClient {
		return func(t *testing.T, b *testbed.Bed, env []string) *liveClient {
			dir := awsjsInstall(t)
			return startClient(t, "awsjs", env, "node", filepath.Join(dir, "awsjs.mjs"),
				"--profile", clientProfile, "--provider", provider, "--endpoint", b.MotoURL)
		}
	}
	return []sdkClient{
		// botocore 1.43 (credentials.py): ProcessProvider returns RefreshableCredentials
		// when the document has an Expiration. Before each request it checks the time
		// left: below 15 minutes (_DEFAULT_ADVISORY_REFRESH_TIMEOUT) it runs
		// credential_process again and keeps the old credentials if that fails; below
		// 10 minutes (_DEFAULT_MANDATORY_REFRESH_TIMEOUT) a failure fails the request,
		// and credentials that come back already expired are an error.
		{"boto3", beforeRequest, awspy},
		// aws-sdk-go-v2 (config v1.33 resolve_credentials.go, aws v1.48
		// credential_cache.go): the processcreds provider is wrapped in an
		// aws.CredentialsCache with no ExpiryWindow unless the program sets one
		// (config.WithCredentialsCacheOptions). Without one, the credentials are used
		// until Expires and credential_process runs again only after that; with a window
		// W (and jitter fraction J) the cache treats them as expired up to W early (W
		// minus a random part of W*J). The SDK itself sets 5 minutes only for container
		// (HTTP endpoint) credentials.
		{"aws-sdk-go-v2 with ExpiryWindow 5m", beforeRequest, awsgo("-expiry-window", "5m")},
		{"aws-sdk-go-v2 default", atExpiry, awsgo()},
		// AWS SDK for JavaScript v3, credentials given to the client (fromIni, fromProcess):
		// @aws-sdk/core 3.981 normalizeCredentialProvider wraps them in @smithy/core 3.41
		// memoizeIdentityProvider with isIdentityExpired (EXPIRATION_MS = 300_000): a
		// request that finds them within 5 minutes of expiry awaits a new call of the
		// provider. credential-provider-process rejects a document that has expired.
		{"JS v3 fromIni", beforeRequest, awsjs("ini")},
		{"JS v3 fromProcess", beforeRequest, awsjs("process")},
		// The default chain (no credentials option; @aws-sdk/credential-provider-node
		// 3.972 memoizeChain with credentialsTreatedAsExpired, also 5 minutes): within 5
		// minutes of expiry a request gets the current credentials and starts the chain
		// in the background (a failure is ignored); once they have expired, requests wait
		// for the chain.
		{"JS v3 default chain", inBackground, awsjs("default")},
	}
}

// TestClientSDKsRefresh runs each SDK as a long-lived client through a profile. The first
// call must sign with the cached credentials A, which expire in a few minutes. Then the
// helper's entry is made due, and the next call must make the SDK run the helper (which
// mints B from Vault) and sign with B; an SDK that refreshes in the background signs
// that call with A and must have run the helper for B by the time it exits; one that
// keeps credentials until they expire must sign with A without running the helper.
func TestClientSDKsRefresh(t *testing.T) {
	b := requireBed(t)
	for _, sdk := range sdkClients() {
		t.Run(sdk.name, func(t *testing.T) {
			sdk.prepare(t)
			s := newClientSetup(t, b)
			a := s.seed(t)
			c := sdk.start(t, b, s.clientEnv)
			mints := vaultMints(t, b)

			first := c.call(t)
			checkIdentity(t, b, "first call", first)
			if first.AccessKeyID != a {
				t.Fatalf("first call signed with %q, want the cached %q", first.AccessKeyID, a)
			}
			if got := vaultMints(t, b) - mints; got != 0 {
				t.Fatalf("the first call made %d credential requests to Vault, want 0 (the cache serves A)", got)
			}
			runsBefore := len(s.helperRuns(t))

			s.expire(t)
			second := c.call(t)
			checkIdentity(t, b, "second call", second)
			if sdk.rule != beforeRequest && (second.AccessKeyID != a || second.Arn != first.Arn) {
				t.Errorf("second call signed with %q as %s, want A %q as %s", second.AccessKeyID, second.Arn, a, first.Arn)
			}
			if sdk.rule == atExpiry {
				if n := len(s.helperRuns(t)) - runsBefore; n != 0 {
					t.Errorf("the SDK ran the helper %d times for credentials that had not expired, want 0", n)
				}
				if got := vaultMints(t, b) - mints; got != 0 {
					t.Errorf("%d credential requests to Vault, want 0", got)
				}
				s.cachedKey(t, time.Minute)
				c.stop(t, s)
				return
			}
			if sdk.rule == inBackground {
				// The client exits only when the refresh it started is done.
				c.stop(t, s)
			}

			bKey := s.cachedKey(t, 30*time.Minute) // the entry now holds B, good for an hour
			if bKey == a {
				t.Fatalf("the helper's entry still holds A %q: the SDK did not run the helper", a)
			}
			if sdk.rule == beforeRequest {
				if second.AccessKeyID != bKey {
					t.Errorf("second call signed with %q, want the helper's new %q", second.AccessKeyID, bKey)
				}
				if second.Arn == first.Arn {
					t.Errorf("B has the same identity as A: %s", second.Arn)
				}
			}
			if got := vaultMints(t, b) - mints; got != 1 {
				t.Errorf("%d credential requests to Vault, want 1 (the helper minting B)", got)
			}
			s.checkMintedOnce(t, bKey, runsBefore)
			c.stop(t, s)
		})
	}
}

// checkMintedOnce: of the helper's runs after the first runsBefore, exactly one
// minted bKey at Vault, and what the helper prints now is bKey, valid for the hour.
func (s clientSetup) checkMintedOnce(t *testing.T, bKey string, runsBefore int) {
	t.Helper()
	runs := s.helperRuns(t)
	minted := 0
	for _, r := range runs[runsBefore:] {
		if r.Source == "vault" && r.AccessKeyID == bKey {
			minted++
		}
	}
	if minted != 1 {
		t.Errorf("the helper's audit log shows %d runs minting %s after the entry was due, want 1: %+v", minted, bKey, runs[runsBefore:])
	}
	t.Logf("helper runs by the SDK: %d for the first call, %d after the entry was due", runsBefore-1, len(runs)-runsBefore)

	r := runBin(t, s.helperEnv, clientArgs...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	doc := parseDocument(t, r.stdout)
	if doc.AccessKeyID != bKey || time.Until(doc.expires(t)) < 30*time.Minute {
		t.Errorf("the helper prints %s expiring %s, want %s for about an hour", doc.AccessKeyID, doc.Expiration, bKey)
	}
}

// TestClientAWSCLI runs the aws CLI through a profile. It runs credential_process for
// every command and keeps nothing itself (botocore's in-memory refresh lives as long
// as one command), so the helper's cache decides: the same credentials while fresh, new
// ones from Vault for the next command once the entry is due.
func TestClientAWSCLI(t *testing.T) {
	b := requireBed(t)
	s := newClientSetup(t, b)
	cli := func(what string) callerIdentity {
		t.Helper()
		ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "aws", "--profile", clientProfile, "sts", "get-caller-identity", "--output", "json")
		cmd.Env = s.clientEnv
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		s.registerSecrets()
		assertNoSecret(t, "stderr of the aws CLI", stderr.String())
		if err != nil {
			t.Fatalf("%s: aws sts get-caller-identity: %v\nstderr:\n%s", what, err, stderr.String())
		}
		var id callerIdentity
		if err := json.Unmarshal(stdout.Bytes(), &id); err != nil {
			t.Fatalf("%s: decode %q: %v", what, stdout.String(), err)
		}
		checkIdentity(t, b, what, id)
		return id
	}

	mints := vaultMints(t, b)
	first := cli("cold cache")
	if got := vaultMints(t, b) - mints; got != 1 {
		t.Errorf("cold cache: %d credential requests to Vault, want 1", got)
	}
	again := cli("warm cache")
	if again.Arn != first.Arn {
		t.Errorf("warm cache: identity %s, want the cached %s", again.Arn, first.Arn)
	}
	if got := vaultMints(t, b) - mints; got != 1 {
		t.Errorf("warm cache: %d credential requests to Vault in all, want 1", got)
	}
	a := s.cachedKey(t, 30*time.Minute)

	s.expire(t)
	renewed := cli("entry due")
	if renewed.Arn == first.Arn {
		t.Errorf("entry due: the CLI still is %s, want new credentials", renewed.Arn)
	}
	if got := vaultMints(t, b) - mints; got != 2 {
		t.Errorf("entry due: %d credential requests to Vault in all, want 2", got)
	}
	bKey := s.cachedKey(t, 30*time.Minute)
	if bKey == a {
		t.Errorf("the cache still holds %s", a)
	}
	runs := s.helperRuns(t)
	if n := len(runs); n != 3 || runs[0].Source != "vault" || runs[1].Source != "cache" ||
		runs[2].Source != "vault" || runs[2].AccessKeyID != bKey {
		t.Errorf("helper runs by the CLI: %+v, want vault, cache, vault (%s)", runs, bKey)
	}
}

// boto3Python is the python3 that has boto3 (checked once per run).
var boto3Check struct {
	once sync.Once
	err  error
}

func boto3Python(t *testing.T) string {
	t.Helper()
	boto3Check.once.Do(func() {
		cmd := exec.CommandContext(runCtx, "python3", "-c", "import boto3")
		cmd.Env = cleanEnv(os.Environ(), "AWS_", "VAULT_")
		if out, err := cmd.CombinedOutput(); err != nil {
			boto3Check.err = fmt.Errorf("python3 -c 'import boto3': %v\n%s", err, bytes.TrimSpace(out))
		}
	})
	if boto3Check.err != nil {
		unavailable(t, "boto3 is not available: %v", boto3Check.err)
	}
	return "python3"
}

// jsV3Client is the JS SDK v3 client (tools/awsjs).
var jsV3Client = &npmClient{name: "awsjs", what: "AWS SDK for JavaScript client",
	files: []string{"package.json", "package-lock.json", "awsjs.mjs"}}

// awsjsInstall returns the folder of the installed JS client, installing it on first
// use.
func awsjsInstall(t *testing.T) string { return jsV3Client.install(t) }

// npmClient is a JS client of tools/ installed for this run: its files copied to a
// temporary folder, its dependencies installed there with `npm ci` from the lock file.
type npmClient struct {
	name  string   // its folder in tools/
	what  string   // what it is, for the message when it cannot be had
	files []string // what to copy from tools/name

	once sync.Once
	dir  string
	err  error
}

// install returns the folder of the installed client, installing it on first use.
// Without node or npm, or when the registry cannot be reached, the tests that need it
// skip (fail with CI=true).
func (c *npmClient) install(t *testing.T) string {
	t.Helper()
	c.once.Do(func() { c.dir, c.err = c.npmCI(t) })
	if c.err != nil {
		unavailable(t, "%s: %v", c.what, c.err)
	}
	return c.dir
}

// npmCI copies the client's files into a temporary folder of the run and runs
// `npm ci` there.
func (c *npmClient) npmCI(t *testing.T) (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	dir := filepath.Join(filepath.Dir(binDir), c.name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for _, f := range c.files {
		data, err := os.ReadFile(filepath.Join("tools", c.name, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(runCtx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(os.Environ(), "AWS_", "VAULT_"), "npm_config_update_notifier=false")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %v\n%s", dir, err, bytes.TrimSpace(out))
	}
	t.Logf("npm ci of tools/%s took %s", c.name, time.Since(start).Round(100*time.Millisecond))
	return dir, nil
}

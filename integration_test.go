package main

// Integration tests: the behaviour a user relies on, proven against a real Vault server
// whose AWS engine talks to moto, with the real aws CLI and AWS SDK for Go as clients.
//
// TestMain starts one test bed (internal/testbed) for the package. Without Vault, moto
// or the aws CLI the integration tests skip, naming what is missing; with CI=true the run
// fails instead, with one line. -short never starts the bed.
//
// This file is the bed: TestMain, requireBed, the programs the tests build (the binary
// under test, its testhooks build, the Go AWS clients) and what the tests ask of the
// bed's Vault and moto (tokens, audit counts, IAM users), then the tests that prove the
// bed before the product relies on it. How a test runs the product and judges its
// output is in harness_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

var (
	bed       *testbed.Bed           // nil when the bed is not running; see bedReason
	bedReason string                 // why bed is nil, the skip message of requireBed
	binDir    string                 // where the tests build programs, removed after the run
	runCtx    = context.Background() // canceled on SIGINT/SIGTERM, ends builds
	ci        = os.Getenv("CI") == "true"
)

func TestMain(m *testing.M) {
	flag.Parse() // testing.Short needs the flags before m.Run parses them
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if testing.Short() {
		bedReason = "integration test: skipped in -short mode"
		return m.Run()
	}

	tools, err := testbed.Locate()
	if err != nil {
		if ci {
			fmt.Fprintf(os.Stderr, "integration: %v\n", err)
			return 1
		}
		bedReason = "integration test bed unavailable: " + err.Error()
		return m.Run()
	}

	dir, err := makeRunDir()
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: create temporary folder: %v\n", err)
		return 1
	}

	// The servers run in their own process groups, so a Ctrl-C (or kill -INT of this
	// binary) does not reach them: stop them here, also when the signal comes while
	// the bed is starting.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runCtx = ctx
	started, interrupted, unwatch := stopBedOnSignal(cancel, dir)
	defer unwatch()

	t0 := time.Now()
	b, err := testbed.Start(ctx, tools, filepath.Join(dir, "bed"))
	bed = b
	close(started)
	if err != nil {
		_ = os.RemoveAll(dir)
		if ci {
			fmt.Fprintf(os.Stderr, "integration: start test bed: %v\n", err)
			return 1
		}
		bedReason = "integration test bed did not start: " + err.Error()
		return m.Run()
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "integration: test bed up in %v: vault %s, moto %s, logs in %s\n",
			time.Since(t0).Round(10*time.Millisecond), bed.VaultAddr, bed.MotoURL, bed.Dir)
	}

	return stopBed(m.Run(), interrupted, dir)
}

// makeRunDir creates the run's temporary folder, and binDir in it.
func makeRunDir() (string, error) {
	dir, err := os.MkdirTemp("", "vcp-integration-")
	if err != nil {
		return "", err
	}
	binDir = filepath.Join(dir, "bin")
	return dir, os.Mkdir(binDir, 0o700)
}

// stopBedOnSignal stops the bed, removes dir and exits 130 on SIGINT or SIGTERM,
// once Start has returned (the caller closes started then): cancel ends what the
// tests are doing first, and interrupted is closed. unwatch stops the watch.
func stopBedOnSignal(cancel func(), dir string) (started, interrupted chan struct{}, unwatch func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	started, interrupted = make(chan struct{}), make(chan struct{})
	go func() {
		sig := <-sigs
		close(interrupted)
		cancel()
		<-started // Start has returned; if it failed it stopped what it had started
		if bed != nil {
			_ = bed.Stop()
		}
		_ = os.RemoveAll(dir)
		fmt.Fprintf(os.Stderr, "integration: %v: test bed stopped\n", sig)
		os.Exit(130)
	}()
	return started, interrupted, func() { signal.Stop(sigs) }
}

// stopBed stops the bed after the tests ended with code, and removes dir unless they
// failed: then the bed's logs stay for reading.
func stopBed(code int, interrupted <-chan struct{}, dir string) int {
	select {
	case <-interrupted:
		// Tests failed fast because the signal canceled runCtx; the handler stops the
		// bed, removes dir and exits 130.
		select {}
	default:
	}
	if err := bed.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: stop test bed: %v\n", err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "integration: test bed logs kept in %s\n", bed.Dir)
	} else {
		_ = os.RemoveAll(dir)
	}
	return code
}

// requireBed returns the running test bed, or skips the test saying why there is none.
func requireBed(t *testing.T) *testbed.Bed {
	t.Helper()
	if bed == nil {
		t.Skip(bedReason)
	}
	return bed
}

// unavailable skips the test, or fails it with CI=true: a missing tool or client is a
// broken CI machine, not a reason to pass.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if ci {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// exe is name with the platform's executable suffix.
func exe(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// goBuild runs `go build -o binDir/name` in a folder, once per name.
type goBuild struct {
	once sync.Once
	path string
	err  error
}

// build builds the package in srcDir with the go build flags, once.
func (g *goBuild) build(srcDir, name string, flags ...string) (string, error) {
	g.once.Do(func() {
		out := filepath.Join(binDir, exe(name))
		if g.err = buildTo(out, srcDir, flags...); g.err == nil {
			g.path = out
		}
	})
	return g.path, g.err
}

// buildTo runs `go build -o out` with flags in srcDir.
func buildTo(out, srcDir string, flags ...string) error {
	cmd := exec.CommandContext(runCtx, "go", append(append([]string{"build"}, flags...), "-o", out, ".")...)
	cmd.Dir = srcDir
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %v\n%s", srcDir, err, bytes.TrimSpace(output))
	}
	return nil
}

// toolClient returns the AWS client program tools/name, built by g on first use. Each
// is its own module, so building it may need the Go module proxy: offline and outside
// CI the tests that need it skip; with CI=true they fail.
func toolClient(t *testing.T, g *goBuild, name string) string {
	t.Helper()
	path, err := g.build(filepath.Join("tools", name), name)
	if err != nil {
		unavailable(t, "build the AWS client tools/%s: %v", name, err)
	}
	return path
}

var awsgoBuild, awsgo1Build goBuild

// awsgoChecker returns the AWS SDK for Go v2 client (tools/awsgo).
func awsgoChecker(t *testing.T) string {
	t.Helper()
	return toolClient(t, &awsgoBuild, "awsgo")
}

// awsgo1Checker returns the AWS SDK for Go v1 client (tools/awsgo1).
func awsgo1Checker(t *testing.T) string {
	t.Helper()
	return toolClient(t, &awsgo1Build, "awsgo1")
}

var productBuild, hookedBuild goBuild

// binaryUnderTest builds the repo root once per run into a temporary folder and returns
// its path. A failing build fails the test.
func binaryUnderTest(t *testing.T) string {
	t.Helper()
	path, err := productBuild.build(".", "vault-credential-process")
	if err != nil {
		t.Fatalf("build vault-credential-process: %v", err)
	}
	return path
}

// hookedBinary is the binary built with -tags testhooks, whose writes can be
// paused halfway (cache/hook_testhooks.go), built once per run.
func hookedBinary(t *testing.T) string {
	t.Helper()
	path, err := hookedBuild.build(".", "vault-credential-process-hooked", "-tags", "testhooks")
	if err != nil {
		t.Fatalf("build with -tags testhooks: %v", err)
	}
	return path
}

// What the tests ask of the bed's Vault and moto.

// helperPolicy is what the helper needs of Vault, and no more.
const helperPolicy = `
path "aws/creds/*"            { capabilities = ["create", "update", "read"] }
path "aws/static-creds/*"     { capabilities = ["read"] }
path "sys/leases/renew"       { capabilities = ["update"] }
path "sys/leases/revoke"      { capabilities = ["update"] }
`

// testTokens are the tokens of tokens, created once per run.
var testTokens struct {
	once        sync.Once
	allow, deny string
	err         error
}

// tokens returns a token with the helper's policy, vcp-helper, and one with no access
// to aws/, creating the policy and the tokens on first use.
func tokens(t *testing.T, b *testbed.Bed) (allow, deny string) {
	t.Helper()
	testTokens.once.Do(func() {
		ctx, cancel := context.WithTimeout(runCtx, 30*time.Second)
		defer cancel()
		if testTokens.err = b.VaultRequest(ctx, "PUT", "sys/policies/acl/vcp-helper", map[string]any{"policy": helperPolicy}, nil); testTokens.err != nil {
			return
		}
		if testTokens.allow, _, testTokens.err = newToken(ctx, b, "2h", "vcp-helper"); testTokens.err != nil {
			return
		}
		testTokens.deny, _, testTokens.err = newToken(ctx, b, "2h", "default")
	})
	if testTokens.err != nil {
		t.Fatalf("create test tokens: %v", testTokens.err)
	}
	return testTokens.allow, testTokens.deny
}

// createToken makes a token with the helper's policy and ttl at the bed's Vault and
// returns it and its accessor.
func createToken(t *testing.T, b *testbed.Bed, ttl string) (token, accessor string) {
	t.Helper()
	tokens(t, b) // the helper's policy
	token, accessor, err := newToken(runCtx, b, ttl, "vcp-helper")
	if err != nil {
		t.Fatal(err)
	}
	return token, accessor
}

// newToken asks Vault for a token with policies and ttl, and registers it as a secret.
func newToken(ctx context.Context, b *testbed.Bed, ttl string, policies ...string) (token, accessor string, err error) {
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
			Accessor    string `json:"accessor"`
		} `json:"auth"`
	}
	if err := b.VaultRequest(ctx, "POST", "auth/token/create", map[string]any{"policies": policies, "ttl": ttl}, &out); err != nil {
		return "", "", err
	}
	addSecret(out.Auth.ClientToken)
	return out.Auth.ClientToken, out.Auth.Accessor, nil
}

// auditCount counts the requests of method to path Vault logged; "" matches any.
func auditCount(t *testing.T, b *testbed.Bed, method, path string) int {
	t.Helper()
	n, err := b.AuditCount(method, path)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// auditTotal counts every request Vault logged.
func auditTotal(t *testing.T, b *testbed.Bed) int {
	t.Helper()
	return auditCount(t, b, "", "")
}

// iamUsers counts the IAM users in moto.
func iamUsers(t *testing.T, b *testbed.Bed) int {
	t.Helper()
	n, err := b.IAMUserCount()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// callerIdentity is what both AWS clients report: GetCallerIdentity's fields, and from
// the SDK checker the access key it signed with.
type callerIdentity struct {
	Arn         string `json:"Arn"`
	Account     string `json:"Account"`
	UserID      string `json:"UserId"`
	AccessKeyID string `json:"AccessKeyId"`
}

// runClient runs an AWS client with env and decodes the JSON it prints.
func runClient(t *testing.T, env []string, name string, args ...string) callerIdentity {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	var id callerIdentity
	if err := json.Unmarshal(stdout.Bytes(), &id); err != nil {
		t.Fatalf("%s %s: decode output: %v\nstdout:\n%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String())
	}
	return id
}

// vaultCreds is the part of Vault's answer to aws/creds/ROLE and aws/static-creds/NAME
// the tests use.
type vaultCreds struct {
	LeaseID       string `json:"lease_id"`
	LeaseDuration int    `json:"lease_duration"`
	Data          struct {
		AccessKey     string `json:"access_key"`
		SecretKey     string `json:"secret_key"`
		SessionToken  string `json:"session_token"`
		SecurityToken string `json:"security_token"`
		Arn           string `json:"arn"`
		Expiration    string `json:"expiration"` // static roles: the next rotation
	} `json:"data"`
}

// processDocument is the credential_process document for c.
func processDocument(t *testing.T, c vaultCreds) []byte {
	t.Helper()
	expiration := time.Now().Add(time.Duration(c.LeaseDuration) * time.Second).UTC().Format(time.RFC3339)
	if c.Data.Expiration != "" {
		expiration = c.Data.Expiration
	}
	doc := map[string]any{
		"Version":         1,
		"AccessKeyId":     c.Data.AccessKey,
		"SecretAccessKey": c.Data.SecretKey,
		"Expiration":      expiration,
	}
	if c.Data.SessionToken != "" {
		doc["SessionToken"] = c.Data.SessionToken
	}
	buf, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

// assertClientsSee hands creds to the aws CLI and the AWS SDK for Go through a fixture
// credential_process (cat of the document) and checks the identity STS reports: an ARN
// matching arnPattern, moto's account, and, for the SDK, the access key Vault returned.
// With keyIsUserID the caller's UserId must be that key too (moto's default identity).
func assertClientsSee(t *testing.T, b *testbed.Bed, creds vaultCreds, arnPattern string, keyIsUserID bool) {
	t.Helper()
	awsgo := awsgoChecker(t)
	dir := t.TempDir()
	doc := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(doc, processDocument(t, creds), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	const profile = "fixture"
	if err := b.WriteAWSConfig(config, map[string]string{profile: "cat " + doc}); err != nil {
		t.Fatal(err)
	}
	env := b.AWSEnv(config)

	cli := runClient(t, env, "aws", "--profile", profile, "sts", "get-caller-identity", "--output", "json")
	sdk := runClient(t, env, awsgo, "-profile", profile)
	arnRE := regexp.MustCompile(arnPattern)
	for _, c := range []struct {
		client string
		id     callerIdentity
	}{{"aws CLI", cli}, {"AWS SDK for Go", sdk}} {
		if !arnRE.MatchString(c.id.Arn) {
			t.Errorf("%s: Arn = %q, want to match %s", c.client, c.id.Arn, arnPattern)
		}
		if c.id.Account != b.AccountID {
			t.Errorf("%s: Account = %q, want %q", c.client, c.id.Account, b.AccountID)
		}
		if keyIsUserID && c.id.UserID != creds.Data.AccessKey {
			t.Errorf("%s: UserId = %q, want Vault's access key %q", c.client, c.id.UserID, creds.Data.AccessKey)
		}
	}
	if cli.Arn != sdk.Arn || cli.UserID != sdk.UserID {
		t.Errorf("clients disagree: aws CLI %+v, AWS SDK for Go %+v", cli, sdk)
	}
	if sdk.AccessKeyID != creds.Data.AccessKey {
		t.Errorf("AWS SDK for Go signed with %q, want Vault's access key %q", sdk.AccessKeyID, creds.Data.AccessKey)
	}
}

// TestBedServesEveryDynamicType proves the bed before the product relies on it: each
// dynamic role's credentials, handed to the real aws CLI and AWS SDK for Go by a fixture
// credential_process, make STS (moto) name the identity Vault minted.
func TestBedServesEveryDynamicType(t *testing.T) {
	b := requireBed(t)
	awsgoChecker(t) // build it (or skip) before counting anything
	const session = "vcp-bed-test"
	arn := func(s string) string { return "^" + regexp.QuoteMeta("arn:aws:"+s) }
	// moto's GetCallerIdentity maps keys it issued for an IAM user or an assumed role to
	// that identity. Federation and session tokens from moto carry its fixed example key
	// AKIAIOSFODNN7EXAMPLE, which it does not map: it answers with its default identity
	// arn:aws:sts::ACCOUNT:user/moto and the key as UserId. That still shows the clients
	// signed with the key Vault returned, not with anything from the environment.
	motoDefault := arn("sts::"+b.AccountID+":user/moto") + "$"
	tests := []struct {
		role     string
		body     map[string]any
		arn      string // regexp the caller's ARN must match
		newUsers int    // IAM users the request creates in moto
		keyIsID  bool   // the caller's UserId is the access key (moto's default identity)
	}{
		{
			// Vault names the user vault-<token display name>-<role>-<unix time>-<random>.
			role:     testbed.RoleIAM,
			body:     map[string]any{"ttl": "15m"},
			arn:      arn("iam::"+b.AccountID+":user/vault-token-"+testbed.RoleIAM+"-") + `\S+$`,
			newUsers: 1,
		},
		{
			role: testbed.RoleAssume,
			body: map[string]any{"ttl": "15m", "role_session_name": session},
			arn:  arn("sts::"+b.AccountID+":assumed-role/"+testbed.TargetRole+"/"+session) + "$",
		},
		{
			role:    testbed.RoleFed,
			body:    map[string]any{"ttl": "15m"},
			arn:     motoDefault,
			keyIsID: true,
		},
		{
			role:    testbed.RoleSession,
			body:    map[string]any{"ttl": "15m"},
			arn:     motoDefault,
			keyIsID: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			path := testbed.Mount + "/creds/" + tt.role
			auditBefore, usersBefore := auditCount(t, b, "update", path), iamUsers(t, b)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var creds vaultCreds
			if err := b.VaultRequest(ctx, "POST", path, tt.body, &creds); err != nil {
				t.Fatal(err)
			}
			if creds.Data.AccessKey == "" || creds.Data.SecretKey == "" {
				t.Fatalf("Vault answered %s without keys", path)
			}
			if tt.role == testbed.RoleAssume && !regexp.MustCompile(tt.arn).MatchString(creds.Data.Arn) {
				t.Errorf("Vault's arn = %q, want to match %s", creds.Data.Arn, tt.arn)
			}

			if got := auditCount(t, b, "update", path); got != auditBefore+1 {
				t.Errorf("audit log: %d update requests for %s, want %d", got, path, auditBefore+1)
			}
			if got := iamUsers(t, b); got != usersBefore+tt.newUsers {
				t.Errorf("moto has %d IAM users, want %d", got, usersBefore+tt.newUsers)
			}

			// moto is consistent: the aws CLI can use a fresh iam_user key at once (real
			// IAM may take seconds to accept it).
			assertClientsSee(t, b, creds, tt.arn, tt.keyIsID)
		})
	}
}

// TestBedServesStaticRole proves the static role: Vault rotated the key of the existing
// IAM user vcp-static in moto when the bed created the role, and that key is the user.
func TestBedServesStaticRole(t *testing.T) {
	b := requireBed(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var creds vaultCreds
	if err := b.VaultRequest(ctx, "GET", testbed.Mount+"/static-creds/"+testbed.StaticRole, nil, &creds); err != nil {
		t.Fatal(err)
	}
	if creds.LeaseDuration != 0 || creds.LeaseID != "" {
		t.Errorf("static creds have a lease (%q, %ds), want none", creds.LeaseID, creds.LeaseDuration)
	}
	if _, err := time.Parse(time.RFC3339, creds.Data.Expiration); err != nil {
		t.Errorf("static creds expiration %q: %v", creds.Data.Expiration, err)
	}
	assertClientsSee(t, b, creds, "^"+regexp.QuoteMeta("arn:aws:iam::"+b.AccountID+":user/"+testbed.StaticUser)+"$", false)
}

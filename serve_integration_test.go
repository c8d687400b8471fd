package main

// Integration tests of the credentials server (`serve`, `exec --server`, `--imds`)
// against the real test bed: the aws CLI, boto3, aws-sdk-go-v2 and the JS SDK v3 get
// the identity Vault minted through it, for every credential type; a long-running
// client outlives two expiries of short-lived credentials; the refusals hold over real
// HTTP.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// serving is a running `serve --print-env`.
type serving struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	vars   map[string]string // what --print-env set
	// printed is what --print-env printed, up to the last variable wanted.
	printed string
	token   string // from the token file
	stderr  testenv.Buffer
	waited  chan error
}

// exportLine is one `export NAME='value'` line of --print-env.
var exportLine = regexp.MustCompile(`^export ([A-Z_0-9]+)='([^']*)'$`)

// exportFromFile is one `export NAME="$(cat 'path')"` line of --print-env: vars
// holds it as "<path".
var exportFromFile = regexp.MustCompile(`^export ([A-Z_0-9]+)="\$\(cat '([^']*)'\)"$`)

// startServe starts `serve --print-env args...` with env and returns once it has
// printed its variables, which it does once it listens. The server is stopped with
// SIGTERM at the end of the test, and must then exit 0.
func startServe(t *testing.T, env []string, want []string, args ...string) *serving {
	t.Helper()
	return startServing(t, env, want, func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, binaryUnderTest(t), append([]string{"serve", "--print-env"}, args...)...)
	})
}

// startServing is startServe for the command that command makes, which runs
// serve --print-env in some way (through a shell, with a socket passed).
func startServing(t *testing.T, env []string, want []string, command func(context.Context) *exec.Cmd) *serving {
	t.Helper()
	ctx, cancel := context.WithTimeout(runCtx, 5*time.Minute)
	s := &serving{cancel: cancel, vars: map[string]string{}, waited: make(chan error, 1)}
	s.cmd = command(ctx)
	s.cmd.Env = env
	s.cmd.Stderr = &s.stderr
	stdout := startReading(t, s.cmd)
	go func() {
		s.waited <- s.cmd.Wait()
	}()
	t.Cleanup(func() { s.stop(t) })
	sc := bufio.NewScanner(stdout)
	var printed strings.Builder
	for !s.has(want) && sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if m := exportLine.FindStringSubmatch(sc.Text()); m != nil {
			s.vars[m[1]] = m[2]
		}
		if m := exportFromFile.FindStringSubmatch(sc.Text()); m != nil {
			s.vars[m[1]] = "<" + m[2]
		}
	}
	s.printed = printed.String()
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if !s.has(want) {
		err := <-s.waited
		t.Fatalf("serve %v exited (%v) before printing %v; stderr:\n%s", s.cmd.Args, err, want, s.stderr.String())
	}
	token, err := os.ReadFile(s.vars[envTokenFile])
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	s.token = string(token)
	addSecret(s.token)
	return s
}

func (s *serving) has(names []string) bool {
	for _, n := range names {
		if s.vars[n] == "" {
			return false
		}
	}
	return true
}

// stop ends the server with SIGTERM and checks that it shut down cleanly: exit 0,
// the token file gone, "shut down" last, no secret on stderr.
func (s *serving) stop(t *testing.T) string {
	t.Helper()
	return s.stopWith(t, syscall.SIGTERM)
}

// stopWith is stop with the signal sig.
func (s *serving) stopWith(t *testing.T, sig syscall.Signal) string {
	t.Helper()
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(sig)
		if err := <-s.waited; err != nil {
			t.Errorf("serve after %v: %v; stderr:\n%s", sig, err, s.stderr.String())
		}
		s.cancel()
		if _, err := os.Stat(s.vars[envTokenFile]); err == nil {
			t.Errorf("the token file %s outlived the server", s.vars[envTokenFile])
		}
		if !strings.HasSuffix(s.stderr.String(), "serve: shut down\n") {
			t.Errorf("stderr does not end with the shutdown line:\n%s", s.stderr.String())
		}
	}
	stderr := s.stderr.String()
	assertNoSecret(t, "stderr of serve", stderr)
	return stderr
}

// serveTypes are the credential types the server tests, as profiles of the helper's
// configuration file, and the identity STS reports for each.
func serveTypes(b *testbed.Bed) []struct{ profile, toml, arn string } {
	motoDefault := regexp.QuoteMeta("arn:aws:sts::"+b.AccountID+":user/moto") + "$"
	return []struct{ profile, toml, arn string }{
		{"iam", `role = "iam"` + "\n" + `type = "iam_user"`, `^` + regexp.QuoteMeta("arn:aws:iam::"+b.AccountID+":user/vault-")},
		{"assume", `role = "assume"` + "\n" + `type = "assumed_role"` + "\n" + `ttl = "1h"` + "\n" + `role_session_name = "vcp-serve"`,
			`^` + regexp.QuoteMeta("arn:aws:sts::"+b.AccountID+":assumed-role/"+testbed.TargetRole+"/vcp-serve") + `$`},
		{"fed", `role = "fed"` + "\n" + `type = "federation_token"` + "\n" + `ttl = "1h"`, motoDefault},
		{"session", `role = "session"` + "\n" + `type = "session_token"` + "\n" + `ttl = "1h"`, motoDefault},
		{"static", `role = "static"` + "\n" + `type = "static"`, `^` + regexp.QuoteMeta("arn:aws:iam::"+b.AccountID+":user/"+testbed.StaticUser) + `$`},
	}
}

// serveSetup is the world of a server test: the helper's environment (its own cache,
// audit log and a configuration file with one profile per credential type) and an AWS
// config whose profile vcp has a region and moto's endpoint, and no credentials.
type serveSetup struct {
	clientSetup
	awsConfig string
}

func newServeSetup(t *testing.T, b *testbed.Bed) serveSetup {
	t.Helper()
	dir := t.TempDir()
	s := serveSetup{awsConfig: clientConfig(t, b.MotoURL)}
	s.auditLog = filepath.Join(dir, "helper-audit.jsonl")
	var toml strings.Builder
	for _, ty := range serveTypes(b) {
		fmt.Fprintf(&toml, "[profiles.%s]\n%s\n\n", ty.profile, ty.toml)
	}
	cfg := filepath.Join(dir, "config.toml")
	writeFile(t, cfg, toml.String(), 0o600)
	s.helperEnv = append(productEnv(t, b), "VAULT_CREDENTIAL_PROCESS_AUDIT_LOG="+s.auditLog, "VAULT_CREDENTIAL_PROCESS_CONFIG="+cfg)
	s.cacheDir = cacheDir(s.helperEnv)
	s.clientEnv = clientEnv(s.helperEnv, s.awsConfig)
	return s
}

// servedKey is the access key the helper's audit log says the last run of command
// handed out for profile.
func (s serveSetup) servedKey(t *testing.T, command, profile string) string {
	t.Helper()
	data, err := os.ReadFile(s.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	key := ""
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct {
			Command     string `json:"command"`
			Profile     string `json:"profile"`
			AccessKeyID string `json:"access_key_id"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit log line %q: %v", line, err)
		}
		if r.Command == command && r.Profile == profile {
			key = r.AccessKeyID
		}
	}
	if key == "" {
		t.Fatalf("the audit log has no %s run for %s", command, profile)
	}
	return key
}

// serveClient is one AWS client, run once: a program and its arguments; lineDriven
// clients answer one call per line on stdin.
type serveClient struct {
	name       string
	lineDriven bool
	signs      bool // reports the access key it signed with
	argv       func(t *testing.T, b *testbed.Bed) []string
}

func serveClients() []serveClient {
	return []serveClient{
		{"aws CLI", false, false, func(*testing.T, *testbed.Bed) []string {
			return []string{"aws", "--profile", clientProfile, "sts", "get-caller-identity", "--output", "json"}
		}},
		{"boto3", true, true, func(t *testing.T, _ *testbed.Bed) []string {
			return []string{boto3Python(t), filepath.Join("tools", "awspy", "awspy.py"), "--profile", clientProfile}
		}},
		{"aws-sdk-go-v2", false, true, func(t *testing.T, _ *testbed.Bed) []string {
			return []string{awsgoChecker(t), "-profile", clientProfile}
		}},
		{"JS v3", true, true, func(t *testing.T, b *testbed.Bed) []string {
			return []string{"node", filepath.Join(awsjsInstall(t), "awsjs.mjs"), "--profile", clientProfile,
				"--provider", "default", "--endpoint", b.MotoURL}
		}},
	}
}

// call runs argv once with env and returns the identity it reports.
func (c serveClient) call(t *testing.T, s serveSetup, env, argv []string) callerIdentity {
	t.Helper()
	if !c.lineDriven {
		return runClient(t, env, argv[0], argv[1:]...)
	}
	lc := startClient(t, c.name, env, argv[0], argv[1:]...)
	id := lc.call(t)
	lc.stop(t, s.clientSetup)
	return id
}

// TestServeClients: every client, for every credential type, gets the identity Vault
// minted through `serve` (one server, one path per profile, the variables set as
// --print-env says) and through `exec --server`.
func TestServeClients(t *testing.T) {
	b := requireBed(t)
	s := newServeSetup(t, b)
	types := serveTypes(b)
	var profiles []string
	for _, ty := range types {
		profiles = append(profiles, ty.profile)
	}
	srv := startServe(t, s.helperEnv, []string{envFullURI, envTokenFile}, profiles...)
	base := strings.TrimSuffix(srv.vars[envFullURI], types[0].profile)
	for _, c := range serveClients() {
		for _, ty := range types {
			t.Run(c.name+"/serve/"+ty.profile, func(t *testing.T) {
				env := append(cleanEnv(s.clientEnv), envFullURI+"="+base+ty.profile, envTokenFile+"="+srv.vars[envTokenFile])
				id := c.call(t, s, env, c.argv(t, b))
				s.check(t, c, ty.arn, id, "serve", ty.profile)
			})
			t.Run(c.name+"/exec --server/"+ty.profile, func(t *testing.T) {
				argv := append([]string{binaryUnderTest(t), "exec", "--server", "--profile", ty.profile, "--"}, c.argv(t, b)...)
				id := c.call(t, s, s.clientEnv, argv)
				s.check(t, c, ty.arn, id, "exec", ty.profile)
			})
		}
	}
	if stderr := srv.stop(t); !strings.Contains(stderr, "profile=static status=200 from=memory") {
		t.Errorf("no access log line of a request for static:\n%s", stderr)
	}
}

func (s serveSetup) check(t *testing.T, c serveClient, arn string, id callerIdentity, command, profile string) {
	t.Helper()
	s.registerSecrets()
	if !regexp.MustCompile(arn).MatchString(id.Arn) {
		t.Errorf("Arn = %q, want to match %s", id.Arn, arn)
	}
	if want := s.servedKey(t, command, profile); c.signs && id.AccessKeyID != want {
		t.Errorf("signed with %q, want the served %q", id.AccessKeyID, want)
	}
}

// TestServeExecEnvironment: the command under exec --server has the two container
// variables and no key, whatever it inherited.
func TestServeExecEnvironment(t *testing.T) {
	b := requireBed(t)
	s := newServeSetup(t, b)
	env := append(s.helperEnv, "AWS_ACCESS_KEY_ID=AKIASTALESTALESTALE0", "AWS_SECRET_ACCESS_KEY=stale-secret-stale",
		"AWS_PROFILE=broken", envFullURI+"=http://127.0.0.1:1/elsewhere", envTokenFile+"=/elsewhere")
	r := runCmd(t, env, "exec", "--server", "--profile", "assume", "--", "env")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	got := map[string]string{}
	for _, kv := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "AWS_") {
			got[k] = v
			s.registerSecrets()
			assertNoSecret(t, "the command's AWS variables", kv)
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[envFullURI], "http://127.0.0.1:") || got[envToken] == "" {
		t.Errorf("AWS_* variables of the command: %v, want only %s (loopback) and %s", got, envFullURI, envToken)
	}
}

// TestServeRefusals: the server refuses, over real HTTP, what it must: no token, a
// wrong one, a Host that is not its address, IMDS without a session token or with
// X-Forwarded-For; and with Vault unreachable from the start it answers 503 with a
// JSON error, never 200.
func TestServeRefusals(t *testing.T) {
	b := requireBed(t)
	s := newServeSetup(t, b)
	srv := startServe(t, s.helperEnv, []string{envFullURI, envTokenFile, envIMDS}, "--imds", "--profile", "assume")
	uri, imds := srv.vars[envFullURI], srv.vars[envIMDS]
	imdsToken := httpDo(t, "PUT", imds+"latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"}).body
	creds := imds + "latest/meta-data/iam/security-credentials/assume"
	host := strings.TrimPrefix(strings.TrimSuffix(imds, "/"), "http://")
	_, port, _ := strings.Cut(host, ":")
	tests := []struct {
		name, method, url string
		headers           map[string]string
		status            int
	}{
		{"no token", "GET", uri, nil, 401},
		{"wrong token", "GET", uri, map[string]string{"Authorization": "not-the-token"}, 401},
		{"wrong Host", "GET", uri, map[string]string{"Authorization": srv.token, "Host": "rebound.example:" + port}, 403},
		{"IMDS without a session token", "GET", creds, nil, 401},
		{"IMDS token with X-Forwarded-For", "PUT", imds + "latest/api/token",
			map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "203.0.113.9"}, 403},
		{"IMDS with X-Forwarded-For", "GET", creds, map[string]string{"X-aws-ec2-metadata-token": imdsToken, "X-Forwarded-For": "203.0.113.9"}, 403},
		{"the right token", "GET", uri, map[string]string{"Authorization": srv.token}, 200},
		{"IMDS with a session token", "GET", creds, map[string]string{"X-aws-ec2-metadata-token": imdsToken}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpDo(t, tt.method, tt.url, tt.headers)
			s.registerSecrets()
			if r.status != tt.status {
				t.Errorf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status != 200 {
				assertNoSecret(t, "a refusal", r.body)
				if !strings.Contains(r.body, `"code"`) || strings.Contains(r.body, "AccessKeyId") {
					t.Errorf("refusal body %q is not a JSON error", r.body)
				}
			}
		})
	}

	t.Run("Vault unreachable", func(t *testing.T) {
		env := setEnv(s.helperEnv, "VAULT_ADDR", "http://"+closedPort(t))
		down := startServe(t, env, []string{envFullURI, envTokenFile}, "--profile", "fed", "--no-cache")
		r := httpDo(t, "GET", down.vars[envFullURI], map[string]string{"Authorization": down.token})
		var doc map[string]string
		if r.status != 503 || json.Unmarshal([]byte(r.body), &doc) != nil || doc["code"] != "unavailable" {
			t.Errorf("status %d %q, want 503 with a JSON error", r.status, r.body)
		}
		if stderr := down.stop(t); !strings.Contains(stderr, "answering 503 until Vault can be reached") ||
			!strings.Contains(stderr, "status=503") {
			t.Errorf("stderr does not say why it answers 503:\n%s", stderr)
		}
	})
}

type httpResult struct {
	status int
	body   string
}

// httpDo makes one request on loopback; a "Host" header sets the Host.
func httpDo(t *testing.T, method, url string, headers map[string]string) httpResult {
	t.Helper()
	req := testenv.Request(t, runCtx, method, url, headers)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpResult{resp.StatusCode, string(body)}
}

// TestServeIMDS: aws-sdk-go-v2 and boto3, knowing only instance metadata
// (AWS_EC2_METADATA_SERVICE_ENDPOINT), get the served identity through --imds.
func TestServeIMDS(t *testing.T) {
	b := requireBed(t)
	s := newServeSetup(t, b)
	srv := startServe(t, s.helperEnv, []string{envFullURI, envTokenFile, envIMDS}, "--imds", "--profile", "assume")
	env := append(cleanEnv(s.clientEnv, "AWS_EC2_METADATA_DISABLED="), envIMDS+"="+srv.vars[envIMDS])
	arn := serveTypes(b)[1].arn
	for _, c := range serveClients()[1:3] {
		t.Run(c.name, func(t *testing.T) {
			id := c.call(t, s, env, c.argv(t, b))
			s.check(t, c, arn, id, "serve", "assume")
		})
	}
	if stderr := srv.stop(t); !strings.Contains(stderr, `"/latest/meta-data/iam/security-credentials/assume" profile=assume status=200`) {
		t.Errorf("no IMDS request in the access log:\n%s", stderr)
	}
}

// shortMount is a second AWS engine mount whose iam_user leases last shortLease and
// cannot be renewed past it: each refresh mints new keys, and Vault revokes (deletes)
// the old IAM user when its lease ends. Vault refuses STS credentials shorter than 15
// minutes; an iam_user lease has no such floor.
const (
	shortMount = "aws-short"
	shortRole  = "short"
	shortLease = 40 * time.Second
)

var shortMountSetup struct {
	once sync.Once
	err  error
}

// mountShort configures shortMount at the bed's Vault, against the same moto, once.
func mountShort(t *testing.T, b *testbed.Bed) {
	t.Helper()
	shortMountSetup.once.Do(func() {
		ctx, cancel := context.WithTimeout(runCtx, time.Minute)
		defer cancel()
		var root struct {
			Data struct {
				AccessKey string `json:"access_key"`
			} `json:"data"`
		}
		if shortMountSetup.err = b.VaultRequest(ctx, "GET", testbed.Mount+"/config/root", nil, &root); shortMountSetup.err != nil {
			return
		}
		lease := fmt.Sprintf("%ds", int(shortLease/time.Second))
		steps := []struct {
			path string
			body map[string]any
		}{
			{"sys/mounts/" + shortMount, map[string]any{"type": "aws"}},
			// moto accepts any signature: the root access key is what it knows.
			{shortMount + "/config/root", map[string]any{"access_key": root.Data.AccessKey, "secret_key": "any-secret-moto-ignores",
				"region": testbed.Region, "iam_endpoint": b.MotoURL, "sts_endpoint": b.MotoURL}},
			{shortMount + "/config/lease", map[string]any{"lease": lease, "lease_max": lease}},
			{shortMount + "/roles/" + shortRole, map[string]any{"credential_type": "iam_user",
				"policy_document": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`}},
		}
		for _, s := range steps {
			if shortMountSetup.err = b.VaultRequest(ctx, "POST", s.path, s.body, nil); shortMountSetup.err != nil {
				return
			}
		}
	})
	if shortMountSetup.err != nil {
		t.Fatalf("configure %s: %v", shortMount, shortMountSetup.err)
	}
}

// servedRecord is one credential set the helper's audit log says a run handed out.
type servedRecord struct {
	AccessKeyID string    `json:"access_key_id"`
	LeaseID     string    `json:"lease_id"`
	Expiration  time.Time `json:"expiration"`
	Source      string    `json:"source"`
	Command     string    `json:"command"`
}

func (s serveSetup) served(t *testing.T, command string) []servedRecord {
	t.Helper()
	data, err := os.ReadFile(s.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	var out []servedRecord
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r servedRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit log line %q: %v", line, err)
		}
		if r.Command == command {
			out = append(out, r)
		}
	}
	return out
}

// TestServeExecRefresh: a long-running SDK client under exec --server (aws-sdk-go-v2,
// one STS client calling GetCallerIdentity in a loop) keeps working across two expiries
// of 40-second iam_user credentials, with no failed call: the server refreshed them
// ahead of expiry, each refresh is a credential request in Vault's audit log, each key
// the client signed with was still valid then, and Vault ended the first key's lease.
func TestServeExecRefresh(t *testing.T) {
	b := requireBed(t)
	mountShort(t, b)
	s := newServeSetup(t, b)
	addSecret(b.RootToken)
	env := setEnv(s.clientEnv, "VAULT_TOKEN", b.RootToken)
	mints := auditCount(t, b, "update", shortMount+"/creds/"+shortRole)
	c := startClient(t, "exec --server awsgo", env, binaryUnderTest(t), "exec", "--server", "--mount", shortMount,
		"--role", shortRole, "--type", "iam_user", "--", awsgoChecker(t), "-profile", clientProfile, "-serve")
	start := time.Now()
	type signed struct {
		at  time.Time
		key string
	}
	var calls []signed
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		id := c.call(t) // fails the test on any failed call
		calls = append(calls, signed{time.Now(), id.AccessKeyID})
		expired := 0
		for _, r := range s.served(t, "exec") {
			if r.Expiration.After(start) && r.Expiration.Before(time.Now()) {
				expired++
			}
		}
		if expired >= 2 {
			break
		}
		if time.Since(start) > 4*shortLease {
			t.Fatalf("after %s and %d calls, %d served credential sets have expired, want 2", time.Since(start).Round(time.Second), len(calls), expired)
		}
		<-tick.C
	}
	c.stop(t, s.clientSetup)

	records := s.served(t, "exec")
	expires := map[string]time.Time{}
	for _, r := range records {
		expires[r.AccessKeyID] = r.Expiration
	}
	keys := map[string]bool{}
	for _, call := range calls {
		keys[call.key] = true
		if exp, ok := expires[call.key]; !ok || !call.at.Before(exp) {
			t.Errorf("a call at %s signed with %s, served expiring %s", call.at.Format(time.RFC3339), call.key, exp.Format(time.RFC3339))
		}
	}
	if len(keys) < 3 {
		t.Errorf("the client signed with %d keys, want at least 3 (two refreshes)", len(keys))
	}
	if got := auditCount(t, b, "update", shortMount+"/creds/"+shortRole) - mints; got < 3 {
		t.Errorf("Vault's audit log shows %d credential requests for %s/creds/%s, want at least 3", got, shortMount, shortRole)
	}
	err := b.VaultRequest(runCtx, "PUT", "sys/leases/lookup", map[string]any{"lease_id": records[0].LeaseID}, nil)
	if err == nil || !strings.Contains(err.Error(), "invalid lease") {
		t.Errorf("the first lease %s is still known to Vault (%v), want it revoked at its expiry", records[0].LeaseID, err)
	}
	t.Logf("%d calls in %s, %d keys, %d credential sets served", len(calls), time.Since(start).Round(time.Second), len(keys), len(records))
}

// TestServeExecSignals: exec --server passes a SIGTERM sent to it (not by a terminal)
// on to the command and exits with the command's status; a command that exits by
// itself gives its status too.
func TestServeExecSignals(t *testing.T) {
	b := requireBed(t)
	s := newServeSetup(t, b)
	if r := runCmd(t, s.helperEnv, "exec", "--server", "--profile", "assume", "--", "sh", "-c", "exit 3"); r.code != 3 || r.stderr != "" {
		t.Errorf("exit %d, want the command's 3; stderr:\n%s", r.code, r.stderr)
	}
	ctx, cancel := context.WithTimeout(runCtx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryUnderTest(t), "exec", "--server", "--profile", "assume", "--",
		"sh", "-c", `trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 1; done`)
	cmd.Env = s.helperEnv
	var stderr testenv.Buffer
	cmd.Stderr = &stderr
	lines := bufio.NewScanner(startReading(t, cmd))
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("the command did not start: %q; stderr:\n%s", lines.Text(), stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !lines.Scan() || lines.Text() != "got TERM" {
		t.Errorf("the command did not get the SIGTERM: %q", lines.Text())
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 42 {
		t.Errorf("exit %d (%v), want the command's 42; stderr:\n%s", code, err, stderr.String())
	}
	assertNoSecret(t, "stderr of exec --server", stderr.String())
}

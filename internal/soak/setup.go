package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/runbin"
	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// What the soak's Vault serves: one role per credential type at the mount
// "aws", iam_user leases of leaseTTL renewable up to leaseMax (so the
// helper renews, then mints anew), STS credentials of Vault's least ttl,
// and a static role rotating every staticRotation (Vault's least is 1m; it
// rotates up to a minute late, from a periodic function).
const (
	mount          = "aws"
	leaseTTL       = 2 * time.Minute
	leaseMax       = 10 * time.Minute
	stsTTL         = "15m"
	staticRotation = "2m"
	staticUser     = "vcp-soak-static"
	policyName     = "vcp-soak"
)

// profile is one profile of the helper's configuration, served at
// /creds/NAME.
type profile struct {
	name, toml string
	// revocable: IAM deletes the key when Vault revokes it (iam_user) or
	// rotates it twice (static); moto then no longer knows it, which the
	// probe checks. STS credentials cannot be revoked.
	revocable bool
}

var profiles = []profile{
	{"iam", "role = \"iam\"\ntype = \"iam_user\"", true},
	{"assume", "role = \"assume\"\ntype = \"assumed_role\"\nttl = \"" + stsTTL + "\"\nrole_session_name = \"vcp-soak\"", false},
	{"fed", "role = \"fed\"\ntype = \"federation_token\"\nttl = \"" + stsTTL + "\"", false},
	{"session", "role = \"session\"\ntype = \"session_token\"\nttl = \"" + stsTTL + "\"", false},
	{"static", "role = \"static\"\ntype = \"static\"", true},
}

// helperPolicy is what serve needs of Vault: sys/leases/lookup for a server
// that checks its leases still exist.
const helperPolicy = `
path "aws/creds/*"        { capabilities = ["create", "update", "read"] }
path "aws/static-creds/*" { capabilities = ["read"] }
path "sys/leases/renew"   { capabilities = ["update"] }
path "sys/leases/revoke"  { capabilities = ["update"] }
path "sys/leases/lookup"  { capabilities = ["update"] }
`

// rolePolicy is the inline policy of the iam_user and federation roles.
const rolePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`

// soak is one run: the servers, the clients and what they recorded.
type soak struct {
	o     options
	dir   string
	bed   *testbed.Bed
	vault *testbed.ServerVault
	serve *runbin.Serve

	bin, awsgo, awspy string
	home              string // serve's HOME, where ~/.vault-token is
	helperEnv         []string
	clientConfig      string // the AWS config file of the clients: region and moto
	serveLog          string
	helperAudit       string

	tokenMu sync.Mutex
	token   string   // the Vault token serve finds in ~/.vault-token
	secrets []string // every Vault token the soak handed out

	rec     *recorder
	stats   *sampler
	stopBg  context.CancelFunc // stops the clients, probes and sampler
	bg      sync.WaitGroup
	clients []*client
}

// setUp builds the binaries, starts the bed, the soak's Vault and serve,
// and starts the clients, the probes and the sampler. On error the
// returned soak (if any) has something to tear down.
func setUp(ctx context.Context, o options, dir string) (*soak, error) {
	s := &soak{o: o, dir: dir, rec: newRecorder()}
	if err := s.build(); err != nil {
		return nil, err
	}
	tools, err := testbed.Locate()
	if err != nil {
		return nil, fmt.Errorf("the test bed: %w", err)
	}
	logf("starting moto and Vault")
	if s.bed, err = testbed.Start(ctx, tools, filepath.Join(dir, "bed")); err != nil {
		return nil, err
	}
	if s.vault, err = s.bed.StartServerVault(ctx, filepath.Join(dir, "vault")); err != nil {
		return s, err
	}
	if err := s.configureVault(ctx); err != nil {
		return s, err
	}
	if err := s.writeFiles(); err != nil {
		return s, err
	}
	logf("starting serve with %d profiles", len(profiles))
	if err := s.startServe(); err != nil {
		return s, err
	}
	s.startBackground(ctx)
	return s, nil
}

// build builds the product and the Go SDK client, and finds python3 with
// boto3 and the client script. It must run at the repository root.
func (s *soak) build() error {
	s.awspy = filepath.Join("tools", "awspy", "awspy.py")
	if _, err := os.Stat(s.awspy); err != nil {
		return fmt.Errorf("run the soak from the repository root (make soak): %w", err)
	}
	abs, err := filepath.Abs(s.awspy)
	if err != nil {
		return err
	}
	s.awspy = abs
	if out, err := exec.Command("python3", "-c", "import boto3").CombinedOutput(); err != nil {
		return fmt.Errorf("python3 with boto3 is needed for the boto3 clients: %v: %s", err, strings.TrimSpace(string(out)))
	}
	logf("building the binary and tools/awsgo")
	s.bin = filepath.Join(s.dir, "bin", "vault-credential-process")
	s.awsgo = filepath.Join(s.dir, "bin", "awsgo")
	if err := runbin.Build("", ".", s.bin); err != nil {
		return err
	}
	return runbin.Build(filepath.Join("tools", "awsgo"), ".", s.awsgo)
}

// configureVault points the soak Vault's AWS engine at moto, creates the
// roles, the helper's policy and its first token.
func (s *soak) configureVault(ctx context.Context) error {
	rootKey, rootSecret, err := s.bed.CreateIAMUser(ctx, "vcp-soak-vault")
	if err != nil {
		return err
	}
	if _, _, err := s.bed.CreateIAMUser(ctx, staticUser); err != nil {
		return err
	}
	steps := []struct {
		path string
		body map[string]any
	}{
		{"sys/mounts/" + mount, map[string]any{"type": "aws"}},
		{mount + "/config/root", map[string]any{"access_key": rootKey, "secret_key": rootSecret, "region": testbed.Region,
			"iam_endpoint": s.bed.MotoURL, "sts_endpoint": s.bed.MotoURL}},
		{mount + "/config/lease", map[string]any{"lease": seconds(leaseTTL), "lease_max": seconds(leaseMax)}},
		{mount + "/roles/iam", map[string]any{"credential_type": "iam_user", "policy_document": rolePolicy}},
		{mount + "/roles/assume", map[string]any{"credential_type": "assumed_role", "role_arns": []string{s.bed.TargetRoleARN}}},
		{mount + "/roles/fed", map[string]any{"credential_type": "federation_token", "policy_document": rolePolicy}},
		{mount + "/roles/session", map[string]any{"credential_type": "session_token"}},
		{mount + "/static-roles/static", map[string]any{"username": staticUser, "rotation_period": staticRotation}},
		{"sys/policies/acl/" + policyName, map[string]any{"policy": helperPolicy}},
	}
	for _, st := range steps {
		if err := s.vault.Request(ctx, "POST", st.path, st.body, nil); err != nil {
			return fmt.Errorf("configure the soak's vault: %w", err)
		}
	}
	token, err := s.newToken(ctx)
	if err != nil {
		return err
	}
	s.token = token
	return nil
}

// newToken creates a token with the helper's policy.
func (s *soak) newToken(ctx context.Context) (string, error) {
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := s.vault.Request(ctx, "POST", "auth/token/create", map[string]any{"policies": []string{policyName}, "ttl": "24h"}, &out); err != nil {
		return "", fmt.Errorf("create a token: %w", err)
	}
	if out.Auth.ClientToken == "" {
		return "", errors.New("create a token: no token in Vault's answer")
	}
	s.tokenMu.Lock()
	s.secrets = append(s.secrets, out.Auth.ClientToken)
	s.tokenMu.Unlock()
	return out.Auth.ClientToken, nil
}

// writeFiles writes serve's world (HOME with ~/.vault-token, the helper's
// configuration, its environment) and the clients' AWS config file.
func (s *soak) writeFiles() error {
	s.home = filepath.Join(s.dir, "home")
	run := filepath.Join(s.dir, "run")
	for _, d := range []string{s.home, run, filepath.Join(s.dir, "clients")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if err := s.writeToken(s.token); err != nil {
		return err
	}
	var toml strings.Builder
	for _, p := range profiles {
		fmt.Fprintf(&toml, "[profiles.%s]\n%s\n\n", p.name, p.toml)
	}
	config := filepath.Join(s.dir, "config.toml")
	if err := os.WriteFile(config, []byte(toml.String()), 0o600); err != nil {
		return err
	}
	s.serveLog = filepath.Join(s.dir, "serve.log")
	s.helperAudit = filepath.Join(s.dir, "helper-audit.jsonl")
	// The bed's clean environment (no AWS_* or VAULT_* of the developer's),
	// with a HOME, XDG folders and VAULT_ADDR of the soak's own. No
	// VAULT_TOKEN: serve reads ~/.vault-token on each refresh, so a new
	// token there is a new `vault login`.
	s.helperEnv = append(s.bed.AWSEnv(os.DevNull), "HOME="+s.home,
		"XDG_CONFIG_HOME="+filepath.Join(s.home, ".config"), "XDG_CACHE_HOME="+filepath.Join(s.home, ".cache"),
		"XDG_RUNTIME_DIR="+run, "VAULT_ADDR="+s.vault.Addr,
		"VAULT_CREDENTIAL_PROCESS_CONFIG="+config, "VAULT_CREDENTIAL_PROCESS_AUDIT_LOG="+s.helperAudit)
	s.clientConfig = filepath.Join(s.dir, "aws-config")
	aws := fmt.Sprintf("[profile vcp]\nregion = %s\nendpoint_url = %s\n", testbed.Region, s.bed.MotoURL)
	return os.WriteFile(s.clientConfig, []byte(aws), 0o600)
}

// writeToken replaces ~/.vault-token, as `vault login` does.
func (s *soak) writeToken(token string) error {
	return smallfile.WriteFile(filepath.Join(s.home, ".vault-token"), []byte(token), 0o600)
}

// startServe starts serve for every profile, its stderr to serve.log.
func (s *soak) startServe() error {
	f, err := os.OpenFile(s.serveLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close() // the child has its own descriptor
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.name
	}
	if s.serve, err = runbin.StartServe(s.bin, s.helperEnv, f, names...); err != nil {
		return fmt.Errorf("%w\n--- serve.log ---\n%s", err, tail(s.serveLog))
	}
	s.rec.start = time.Now()
	return nil
}

// tearDown stops the background goroutines, the clients, serve, and the
// servers; what it finds wrong (serve's exit status) goes to the recorder.
func (s *soak) tearDown() {
	if s.stopBg != nil {
		s.stopBg()
		s.bg.Wait()
	}
	for _, c := range s.clients {
		c.stop()
	}
	if s.serve != nil {
		s.rec.serveExit = s.serve.Stop()
		s.rec.serveExitKnown = true
	}
	if s.vault != nil {
		_ = s.vault.Stop()
	}
	if s.bed != nil {
		_ = s.bed.Stop()
	}
}

// seconds is d in Vault's duration syntax.
func seconds(d time.Duration) string { return fmt.Sprintf("%ds", int(d/time.Second)) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "soak: %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// tail is the last lines of a log, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

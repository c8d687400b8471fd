package main

// Integration tests of pod-agent, the Kubernetes node agent, against the real Vault and
// moto: Vault's jwt auth method (a mount of its own, k8s-pods) verifies service account
// tokens signed by a key the test controls, as it would a cluster's; two "pods" (here:
// two token files, the agent on loopback) get different AWS identities through the
// aws CLI and aws-sdk-go-v2 with only the two standard container variables; bad tokens
// get 401; concurrent requests make one login and one mint per identity.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// What podSetup creates in the bed's Vault.
const (
	podAuthMount = "k8s-pods" // the jwt auth method the agent logs in at
	podIssuer    = "https://kubernetes.default.svc.cluster.local"
	podAudience  = "vcp-pod-agent" // the audience of the pods' projected tokens
)

var podBed struct {
	once       sync.Once
	err        error
	key        *rsa.PrivateKey
	arnA, arnB string // the IAM roles of team-a/app and team-b/app
}

// podSetup makes, once per run: two IAM roles in moto; AWS roles pod-a, pod-b (one
// each) and pod-default (the bed's target role); a policy per AWS role; the jwt auth
// method k8s-pods trusting a new key, with a role per AWS role bound to the audience
// and, for pod-a and pod-b, to their service account.
func podSetup(t *testing.T, b *testbed.Bed) {
	t.Helper()
	podBed.once.Do(func() {
		ctx, cancel := context.WithTimeout(runCtx, time.Minute)
		defer cancel()
		podBed.err = func() (err error) {
			if podBed.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				return err
			}
			pub, err := x509.MarshalPKIXPublicKey(&podBed.key.PublicKey)
			if err != nil {
				return err
			}
			if podBed.arnA, err = b.CreateAssumableRole(ctx, "vcp-pod-a"); err != nil {
				return err
			}
			if podBed.arnB, err = b.CreateAssumableRole(ctx, "vcp-pod-b"); err != nil {
				return err
			}
			type step struct {
				path string
				body any
			}
			steps := []step{
				{"sys/auth/" + podAuthMount, map[string]any{"type": "jwt"}},
				{"auth/" + podAuthMount + "/config", map[string]any{"bound_issuer": podIssuer,
					"jwt_validation_pubkeys": []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))}}},
			}
			for role, arn := range map[string]string{"pod-a": podBed.arnA, "pod-b": podBed.arnB, "pod-default": b.TargetRoleARN} {
				jwtRole := map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": []string{podAudience},
					"token_policies": []string{role}, "token_ttl": "1h"}
				switch role {
				case "pod-a":
					jwtRole["bound_subject"] = "system:serviceaccount:team-a:app"
				case "pod-b":
					jwtRole["bound_subject"] = "system:serviceaccount:team-b:app"
				}
				steps = append(steps,
					step{"sys/policies/acl/" + role, map[string]any{"policy": fmt.Sprintf(
						`path "%s/creds/%s" { capabilities = ["create", "update", "read"] }`, testbed.Mount, role)}},
					step{testbed.Mount + "/roles/" + role, map[string]any{"credential_type": "assumed_role", "role_arns": []string{arn}}},
					step{"auth/" + podAuthMount + "/role/" + role, jwtRole})
			}
			for _, s := range steps {
				if err := b.VaultRequest(ctx, "POST", s.path, s.body, nil); err != nil {
					return fmt.Errorf("%s: %w", s.path, err)
				}
			}
			return nil
		}()
	})
	if podBed.err != nil {
		t.Fatalf("set up the pod agent's Vault: %v", podBed.err)
	}
}

// podAgentConfig maps team-a/app and team-b/app to their roles, every other pod to
// pod-default.
const podAgentConfig = `auth_mount = "` + podAuthMount + `"
aws_mount = "` + testbed.Mount + `"
max_identities = 50
[[rule]]
namespace = "team-a"
service_account = "app"
auth_role = "pod-a"
aws_role = "pod-a"
ttl = "1h"
[[rule]]
namespace = "team-b"
service_account = "app"
auth_role = "pod-b"
aws_role = "pod-b"
ttl = "1h"
[default]
auth_role = "pod-default"
aws_role = "pod-default"
ttl = "1h"
`

// podToken is a projected service account token as the kubelet writes it, for the
// namespace and service account, with audience aud, signed with key, for Vault's jwt
// and kubernetes auth methods alike: the service account's uid is the same in every
// token of that account (the kubernetes method names the entity by it), the pod's and
// the token's id are new each time.
func podToken(t *testing.T, key *rsa.PrivateKey, ns, sa, aud string, exp time.Time) string {
	t.Helper()
	sum := sha256.Sum256([]byte(ns + "/" + sa))
	uid := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	now := time.Now()
	return signJWT(t, key, map[string]any{"iss": podIssuer, "sub": "system:serviceaccount:" + ns + ":" + sa,
		"aud": []string{aud}, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": exp.Unix(),
		"jti": randomHex(t, 8),
		"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]any{"name": sa, "uid": uid},
			"pod": map[string]any{"name": sa + "-" + randomHex(t, 3), "uid": randomHex(t, 8)}}})
}

// podEnv is the environment of an AWS client in a pod: the AWS config file config,
// and only the two standard container variables, naming the agent's URL and a file
// holding the pod's token.
func podEnv(t *testing.T, config, agentURL, token string) []string {
	t.Helper()
	tokenFile := filepath.Join(privateDir(t), "token")
	writeFile(t, tokenFile, token, 0o600)
	return clientEnv(cleanEnv(os.Environ(), "VAULT_"), config, envFullURI+"="+agentURL, envTokenFile+"="+tokenFile)
}

// podAgent is a running pod-agent.
type podAgent struct {
	cmd    *exec.Cmd
	url    string // http://ADDR/v1/credentials
	stderr testenv.Buffer
	waited chan error
}

// startPodAgent starts pod-agent with the configuration text, listening on listen,
// and returns once it listens. It is stopped with SIGTERM when the test ends, and must
// exit 0 with no secret in its log.
func startPodAgent(t *testing.T, b *testbed.Bed, config, listen string) *podAgent {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.toml")
	writeFile(t, path, config, 0o600)
	ctx, cancel := context.WithTimeout(runCtx, 5*time.Minute)
	a := &podAgent{waited: make(chan error, 1)}
	a.cmd = exec.CommandContext(ctx, binaryUnderTest(t), "pod-agent", "--config", path, "--listen", listen)
	a.cmd.Env = append(cleanEnv(os.Environ(), "VAULT_", "AWS_"), "VAULT_ADDR="+b.VaultAddr)
	pipe, err := a.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.waited <- a.cmd.Wait() }()
	listening := regexp.MustCompile(`pod-agent: listening on (http://\S+)$`)
	sc := bufio.NewScanner(pipe)
	for a.url == "" && sc.Scan() {
		a.stderr.Write([]byte(sc.Text() + "\n"))
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			a.url = m[1]
		}
	}
	go func() {
		for sc.Scan() {
			a.stderr.Write([]byte(sc.Text() + "\n"))
		}
	}()
	t.Cleanup(func() {
		defer cancel()
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		if err := <-a.waited; err != nil {
			t.Errorf("pod-agent after SIGTERM: %v; stderr:\n%s", err, a.stderr.String())
		}
		assertNoSecret(t, "stderr of pod-agent", a.stderr.String())
	})
	if a.url == "" {
		t.Fatalf("pod-agent exited (%v) before listening; stderr:\n%s", <-a.waited, a.stderr.String())
	}
	return a
}

// get asks the agent with the authorization header auth ("" for none) and returns the
// status and the JSON document; a document's secrets are registered as such.
func (a *podAgent) get(t *testing.T, auth string) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequestWithContext(runCtx, "GET", a.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	var doc map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Errorf("decode the answer (%s): %v", resp.Status, err)
	}
	addSecret(doc["SecretAccessKey"])
	addSecret(doc["Token"])
	return resp.StatusCode, doc
}

// TestPodAgentTwoPods: two pods of different service accounts, each with only
// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, get
// the AWS identities their rules name, through the aws CLI and aws-sdk-go-v2; the SDK
// signs with the very key the agent serves that identity (one mint, shared).
func TestPodAgentTwoPods(t *testing.T) {
	b := requireBed(t)
	podSetup(t, b)
	agent := startPodAgent(t, b, podAgentConfig, "127.0.0.1:0")
	config := clientConfig(t, b.MotoURL)
	exp := time.Now().Add(time.Hour)
	pods := []struct{ ns, arn string }{{"team-a", podBed.arnA}, {"team-b", podBed.arnB}}
	for _, pod := range pods {
		t.Run(pod.ns, func(t *testing.T) {
			token := podToken(t, podBed.key, pod.ns, "app", podAudience, exp)
			env := podEnv(t, config, agent.url, token)
			want := assumedRoleARN(b, pod.arn)
			cli := runClient(t, env, "aws", "--profile", clientProfile, "sts", "get-caller-identity", "--output", "json")
			if !want.MatchString(cli.Arn) {
				t.Errorf("aws CLI: Arn = %q, want to match %s", cli.Arn, want)
			}
			sdk := runClient(t, env, awsgoChecker(t), "-profile", clientProfile)
			if !want.MatchString(sdk.Arn) {
				t.Errorf("aws-sdk-go-v2: Arn = %q, want to match %s", sdk.Arn, want)
			}
			status, doc := agent.get(t, token)
			if status != 200 || doc["AccessKeyId"] != sdk.AccessKeyID {
				t.Errorf("the agent serves %d %q, the SDK signed with %q: want the same key", status, doc["AccessKeyId"], sdk.AccessKeyID)
			}
		})
	}
}

// TestPodAgentRefusals: a request without a token, or with one expired, for another
// audience, signed by another key or not a JWT gets 401 with a JSON error, and no
// credentials are minted for it; a token Vault refused is refused again without a
// login.
func TestPodAgentRefusals(t *testing.T) {
	b := requireBed(t)
	podSetup(t, b)
	agent := startPodAgent(t, b, podAgentConfig, "127.0.0.1:0")
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hour := time.Now().Add(time.Hour)
	mints := func() int {
		return auditCount(t, b, "update", testbed.Mount+"/creds/pod-a") + auditCount(t, b, "update", testbed.Mount+"/creds/pod-default")
	}
	logins := func() int { return auditCount(t, b, "update", "auth/"+podAuthMount+"/login") }
	before, loginsBefore := mints(), logins()
	tests := []struct {
		name, auth string
	}{
		{"no token", ""},
		{"not a JWT", "not-a-jwt"},
		{"expired", podToken(t, podBed.key, "team-a", "app", podAudience, time.Now().Add(-time.Minute))},
		{"wrong audience", podToken(t, podBed.key, "team-a", "app", "sts.amazonaws.com", hour)},
		{"forged signature", podToken(t, other, "team-a", "app", podAudience, hour)},
		{"forged, default rule", podToken(t, other, "team-z", "app", podAudience, hour)},
	}
	// Each bad token three times: the ones Vault refused are answered from
	// memory after the first.
	for round := range 3 {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%d", tt.name, round+1), func(t *testing.T) {
				status, doc := agent.get(t, tt.auth)
				if status != http.StatusUnauthorized || doc["code"] != "unauthorized" || doc["message"] == "" || doc["AccessKeyId"] != "" {
					t.Errorf("answer %d %v, want 401 with code unauthorized and a message", status, doc)
				}
			})
		}
	}
	if got := mints() - before; got != 0 {
		t.Errorf("%d credentials minted for refused tokens, want 0", got)
	}
	if got := logins() - loginsBefore; got != 3 {
		t.Errorf("%d Vault logins for 3 rounds of 3 tokens Vault refuses (and 3 it is never asked about), want 3", got)
	}
}

// TestPodAgentOneLoginOneMintPerIdentity: 50 concurrent requests from 5 identities
// (5 service accounts under the default rule) make 5 logins and 5 mints at Vault, by
// its audit log; each identity gets one key, and no two identities the same.
func TestPodAgentOneLoginOneMintPerIdentity(t *testing.T) {
	b := requireBed(t)
	podSetup(t, b)
	agent := startPodAgent(t, b, podAgentConfig, "127.0.0.1:0")
	var tokens []string
	for i := range 5 {
		tokens = append(tokens, podToken(t, podBed.key, "load", fmt.Sprintf("sa-%d", i), podAudience, time.Now().Add(time.Hour)))
	}
	logins, mints := auditCount(t, b, "update", "auth/"+podAuthMount+"/login"), auditCount(t, b, "update", testbed.Mount+"/creds/pod-default")
	keys := make([]string, 50)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, doc := agent.get(t, tokens[i%5]); status != 200 {
				t.Errorf("request %d: %d %v", i, status, doc)
			} else {
				keys[i] = doc["AccessKeyId"]
			}
		}()
	}
	wg.Wait()
	if got := auditCount(t, b, "update", "auth/"+podAuthMount+"/login") - logins; got != 5 {
		t.Errorf("%d logins, want 5", got)
	}
	if got := auditCount(t, b, "update", testbed.Mount+"/creds/pod-default") - mints; got != 5 {
		t.Errorf("%d mints, want 5", got)
	}
	distinct := map[string]bool{}
	for i, k := range keys {
		if k != keys[i%5] {
			t.Errorf("request %d got %q, another of its identity %q", i, k, keys[i%5])
		}
		distinct[k] = true
	}
	if len(distinct) != 5 {
		t.Errorf("%d distinct keys for 5 identities, want 5", len(distinct))
	}
}

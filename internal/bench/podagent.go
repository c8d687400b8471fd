package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// The pod-agent rows of make bench: requests per second and latency of the
// container credentials protocol over loopback, with each request carrying
// one of N pods' service account tokens, after warm-up (every identity
// logged in at Vault's jwt auth method and its credentials minted), so
// that what is measured is the agent answering from memory.

// What the pod-agent benchmark sets up and asks.
const (
	podBenchMount    = "bench-pods" // the jwt auth method
	podBenchIssuer   = "https://kubernetes.default.svc.cluster.local"
	podBenchAudience = "vcp-pod-agent"
	// podBenchRequests are measured per row, podBenchWidth at a time (as
	// serve's rows, each over its own kept-alive connection).
	podBenchRequests = 10000
	podBenchWidth    = serveWidth
)

// podBenchIdentities are the rows: how many pods (service accounts) ask.
var podBenchIdentities = []int{5, 500}

// podRow is one row's result; latencies sorted.
type podRow struct {
	identities            int
	warmup                time.Duration // every identity's login and mint, podBenchWidth at a time
	warmLogins, warmMints int           // at Vault during warm-up
	errors, vaultRequests int           // during the measured requests
	elapsed               time.Duration
	lat                   []int64
}

// podAgentRequests sets up the jwt auth method in the bed's Vault, then for
// each row starts a pod-agent, warms it up and measures it.
func (vb *vaultBench) podAgentRequests() error {
	key, err := vb.podBenchSetup()
	if err != nil {
		return fmt.Errorf("pod-agent bench set-up: %w", err)
	}
	for _, n := range podBenchIdentities {
		row, err := vb.podBenchRow(key, n)
		if err != nil {
			return fmt.Errorf("pod-agent, %d identities: %w", n, err)
		}
		vb.pod = append(vb.pod, row)
	}
	return nil
}

// podBenchSetup enables the jwt auth method, trusting a new key, with one
// role for every pod of the bench's audience, whose policy allows the
// bench's assumed_role credentials.
func (vb *vaultBench) podBenchSetup() (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range []struct {
		path string
		body any
	}{
		{"sys/auth/" + podBenchMount, map[string]any{"type": "jwt"}},
		{"auth/" + podBenchMount + "/config", map[string]any{"bound_issuer": podBenchIssuer,
			"jwt_validation_pubkeys": []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))}}},
		{"sys/policies/acl/" + podBenchMount, map[string]any{"policy": fmt.Sprintf(
			`path "%s" { capabilities = ["create", "update", "read"] }`, vb.credsPath)}},
		{"auth/" + podBenchMount + "/role/pods", map[string]any{"role_type": "jwt", "user_claim": "sub",
			"bound_audiences": []string{podBenchAudience}, "token_policies": []string{podBenchMount}, "token_ttl": "1h"}},
	} {
		if err := vb.bed.VaultRequest(ctx, "POST", s.path, s.body, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
	}
	return key, nil
}

// podBenchRow starts a pod-agent, asks once with each of n pods' tokens
// (the warm-up: n logins and n mints), then measures podBenchRequests
// requests going round the tokens.
func (vb *vaultBench) podBenchRow(key *rsa.PrivateKey, n int) (podRow, error) {
	row := podRow{identities: n}
	tokens := make([]string, n)
	for i := range tokens {
		t, err := podBenchToken(key, fmt.Sprintf("bench-%d", n), fmt.Sprintf("sa-%d", i))
		if err != nil {
			return row, err
		}
		tokens[i] = t
	}
	agent, err := vb.startPodAgent(n)
	if err != nil {
		return row, err
	}
	defer agent.stop()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: podBenchWidth}}
	get := func(i int) error { return getCredentials(client, agent.url, tokens[i%n]) }

	logins, mints := vb.podLogins(), vb.requests()
	start := time.Now()
	if errs := parallel(n, podBenchWidth, get); len(errs) > 0 {
		return row, fmt.Errorf("warm-up: %d of %d failed: %v", len(errs), n, errs[0])
	}
	row.warmup = time.Since(start)
	row.warmLogins, row.warmMints = vb.podLogins()-logins, vb.requests()-mints
	if row.warmLogins != n || row.warmMints != n {
		return row, fmt.Errorf("warm-up made %d logins and %d mints, want %d of each", row.warmLogins, row.warmMints, n)
	}

	before := vb.podLogins() + vb.requests()
	start = time.Now()
	lat, errs := timed(podBenchRequests, podBenchWidth, get)
	row.elapsed = time.Since(start)
	row.lat, row.errors = lat, len(errs)
	row.vaultRequests = vb.podLogins() + vb.requests() - before
	return row, nil
}

// podLogins counts the logins at the bench's jwt auth method in Vault's
// audit log.
func (vb *vaultBench) podLogins() int {
	n, err := vb.bed.AuditCount("update", "auth/"+podBenchMount+"/login")
	if err != nil {
		panic(err)
	}
	return n
}

// podBenchToken is a projected service account token for ns/sa, valid for
// an hour, signed with key.
func podBenchToken(key *rsa.PrivateKey, ns, sa string) (string, error) {
	now := time.Now()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(map[string]any{
		"iss": podBenchIssuer, "sub": "system:serviceaccount:" + ns + ":" + sa, "aud": []string{podBenchAudience},
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]any{"name": sa}},
	})
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// runningAgent is a pod-agent the bench started.
type runningAgent struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

var listeningRE = regexp.MustCompile(`pod-agent: listening on (http://\S+)$`)

// startPodAgent starts pod-agent on a free loopback port, mapping every pod
// to the bench's roles, and returns once it listens. Its log (a line per
// request) is read and dropped, as a node's log collector would take it.
func (vb *vaultBench) startPodAgent(identities int) (*runningAgent, error) {
	config := filepath.Join(vb.dir, fmt.Sprintf("pod-agent-%d.toml", identities))
	text := fmt.Sprintf("auth_mount = %q\naws_mount = %q\nmax_identities = %d\n[default]\nauth_role = \"pods\"\naws_role = %q\nttl = \"1h\"\n",
		podBenchMount, testbed.Mount, max(identities, 1000), testbed.RoleAssume)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(vb.bin, "pod-agent", "--config", config, "--listen", "127.0.0.1:0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + vb.dir, "VAULT_ADDR=" + vb.bed.VaultAddr}
	cmd.SysProcAttr = testbed.ChildAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pod-agent: %w", err)
	}
	a := &runningAgent{cmd: cmd, done: make(chan struct{})}
	sc := bufio.NewScanner(stderr)
	var head []string
	for a.url == "" && sc.Scan() {
		head = append(head, sc.Text())
		if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
			a.url = m[1]
		}
	}
	go func() {
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
		close(a.done)
	}()
	if a.url == "" {
		<-a.done
		return nil, fmt.Errorf("pod-agent exited before listening: %s", strings.Join(head, "\n"))
	}
	return a, nil
}

// stop ends the agent with SIGTERM, as its DaemonSet's pod would be.
func (a *runningAgent) stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	<-a.done
}

func (vb *vaultBench) printPodAgent() {
	fmt.Printf("\n`pod-agent` (container credentials protocol over loopback, jwt auth, assumed_role credentials), "+
		"%d requests per row, %d at a time, round the identities' tokens, after warm-up:\n\n", podBenchRequests, podBenchWidth)
	fmt.Printf("| identities | warm-up: logins, mints, wall time | errors, Vault requests | requests/s | p50 | p99 |\n")
	fmt.Printf("| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range vb.pod {
		fmt.Printf("| %d | %d, %d, %s | %d, %d | %.0f | %s | %s |\n", r.identities, r.warmLogins, r.warmMints,
			r.warmup.Round(10*time.Millisecond), r.errors, r.vaultRequests,
			float64(len(r.lat))/r.elapsed.Seconds(), ms(p50(r.lat)), ms(p99(r.lat)))
	}
}

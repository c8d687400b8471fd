package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/signal"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/internal/podagent"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// pod-agent is a command of its own, not a flag of serve: its callers are
// many pods each proving who it is with its own JWT, where serve's are one
// user's processes sharing one random token; it takes a mapping file, not
// profiles and request flags; it keeps no cache folder and has no
// --detach, --print-env or --token-file. As a serve flag it would refuse
// nearly every other flag of serve.
const podAgentUsage = `Usage:
  vault-credential-process pod-agent --config PATH [--listen ADDR]...

A Kubernetes node agent, as EKS Pod Identity's: it serves the container
credentials protocol at /v1/credentials to pods that send their projected
service account token (a JWT) as the authorization token, that is with
AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE naming the token's file. Vault
verifies each token (its jwt auth method, whose role the configuration
chooses from the token's namespace and service account); the agent logs
in once per identity, mints that identity's AWS credentials once, keeps
them in memory and refreshes them ahead of expiry. A missing, expired,
forged or wrong-audience token gets 401. GET /healthz, without a token,
says whether Vault answers. Vault is reached as the vault CLI would
(VAULT_ADDR, VAULT_CACERT, VAULT_NAMESPACE, ...), with no token of the
agent's own. The log (stderr) has one line per request, never a secret.

Flags:
  --config PATH             the agent's TOML file: auth_mount, aws_mount, max_identities,
                            idle_timeout, [[rule]] and [default] (see the README, "Kubernetes")
  --listen ADDR             address to listen on, repeatable (default 169.254.170.23:80)

Examples:
  vault-credential-process pod-agent --config /etc/vcp/agent.toml
  vault-credential-process pod-agent --config agent.toml --listen 169.254.170.23:80 --listen [fd00:ec2::23]:80
`

// defaultPodAgentAddr is EKS Pod Identity's address.
const defaultPodAgentAddr = "169.254.170.23:80"

func (c *cli) podAgent(ctx context.Context, args []string) int {
	fs := flagSet("pod-agent", false)
	configPath := fs.String("config", "", "")
	var listen listFlag
	fs.Var(&listen, "listen", "")
	if _, code, done := c.parseCommand(fs, args, "pod-agent", podAgentUsage, false); done {
		return code
	}
	if *configPath == "" {
		return c.report(usageError("pod-agent: --config is required"))
	}
	cfg, err := podagent.LoadConfig(*configPath)
	if err != nil {
		return c.report(usageError("pod-agent: " + err.Error()))
	}
	if len(listen) == 0 {
		listen = listFlag{defaultPodAgentAddr}
	}
	v, err := podagent.NewAPIVault(cache.Now)
	if err != nil {
		return c.report(fmt.Errorf("pod-agent: %w", err))
	}
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		line := process.Printable(fmt.Sprintf(format, args...))
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(c.stderr, "%s pod-agent: %s\n", time.Now().UTC().Format(time.RFC3339), line)
	}
	agent := podagent.New(cfg, v, cache.Now, logf)
	var lns []net.Listener
	for _, addr := range listen {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return c.report(fmt.Errorf("pod-agent: listen on %s: %w", addr, err))
		}
		lns = append(lns, ln)
	}
	ctx, stop := signal.NotifyContext(ctx, stopSignals()...)
	defer stop()
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		logf("listening on http://%s%s", ln.Addr(), podagent.CredsPath)
		go func() { errs <- agent.Serve(ctx, ln) }()
	}
	var first error
	for range lns {
		if err := <-errs; err != nil && first == nil {
			first = err
			stop() // one listener failed: stop the others too
		}
	}
	if first != nil && !errors.Is(first, context.Canceled) {
		return c.report(fmt.Errorf("pod-agent: serve: %w", first))
	}
	return process.ExitOK
}

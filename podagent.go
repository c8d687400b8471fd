package main

import (
	"context"
	"fmt"
	"net"
	"os/signal"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/podagent"
	"github.com/vault-credential-process/vault-credential-process/internal/server"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// defaultPodAgentAddr is EKS Pod Identity's address.
const defaultPodAgentAddr = "169.254.170.23:80"

func (c *cli) podAgent(ctx context.Context, args []string) int {
	var configPath string
	var listen []string
	fs := newFlagSet(cmdspec.PodAgent)
	fs.stringVar(&configPath, &cmdspec.PodAgentConfig)
	fs.listVar(&listen, &cmdspec.PodAgentListen)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	if configPath == "" {
		return c.report(usageError("pod-agent: --config is required"))
	}
	cfg, err := podagent.LoadConfig(configPath)
	if err != nil {
		return c.report(usageError("pod-agent: " + err.Error()))
	}
	if len(listen) == 0 {
		listen = []string{defaultPodAgentAddr}
	}
	for _, addr := range listen {
		// As for serve: no Host header names 0.0.0.0, so every pod would be
		// refused while the node's network reached the agent.
		if err := server.CheckListenAddr(addr); err != nil {
			return c.report(&config.Error{Msg: "pod-agent: --listen " + err.Error(),
				Hint: "name the address pods reach: 169.254.170.23:80, or [fd00:ec2::23]:80"})
		}
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
		ln, err := server.Listen(addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return c.report(fmt.Errorf("pod-agent: %w", err))
		}
		lns = append(lns, ln)
	}
	ctx, stop := signal.NotifyContext(ctx, stopSignals()...)
	defer stop()
	for _, ln := range lns {
		logf("listening on http://%s%s", ln.Addr(), podagent.CredsPath)
	}
	if err := agent.Serve(ctx, lns...); err != nil {
		return c.report(fmt.Errorf("pod-agent: serve: %w", err))
	}
	return process.ExitOK
}

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
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/podagent"
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

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/server"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// serverVars are the variables exec --server sets or removes: an inherited
// one would point the command at another server or another token.
var serverVars = []string{envFullURI, envToken, envTokenFile, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"}

// execServer is exec --server: it fetches the credentials (an MFA prompt or
// a login happens now, before the command owns the terminal), serves them
// on 127.0.0.1 for as long as the command runs, and runs the command with
// the server's address and token instead of keys. It exits with the
// command's status.
func (c *cli) execServer(ctx context.Context, flags *config.Flags, path string, argv []string, imds bool) int {
	c.stderr = &lockedWriter{w: c.stderr}
	srv, _, err := c.newServer(ctx, flags, nil, imds, "exec")
	if err != nil {
		return c.report(err)
	}
	ln, err := server.Listen("127.0.0.1:0")
	if err != nil {
		return c.report(&process.Error{Code: process.ExitFailure, Msg: "exec: " + err.Error(), Err: err})
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()

	hostport := ln.Addr().String()
	remove := append(append(append([]string(nil), inheritedAWS...), serverVars...), execGuard)
	if imds {
		remove = append(remove, envIMDS)
	}
	env := removeVars(os.Environ(), remove...)
	env = append(env, envFullURI+"="+server.URL(hostport, srv.Names()[0]), envToken+"="+srv.Token(), execGuard+"=1")
	if imds {
		env = append(env, envIMDS+"=http://"+hostport+"/")
	}
	code, runErr := runChild(path, argv, env)
	stop()
	if err := serveShutdown(done); err != nil {
		c.warnf("exec: %v", err)
	}
	if runErr != nil {
		return c.report(&process.Error{Code: process.ExitFailure, Msg: fmt.Sprintf("exec: run %s: %v", argv[0], runErr)})
	}
	return code
}

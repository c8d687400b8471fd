package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/shellenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// exitNotFound is the shells' status for a command that cannot be run.
const exitNotFound = 127

// execGuard marks a process started by exec, so that exec refuses to nest.
const execGuard = "VAULT_CREDENTIAL_PROCESS_EXEC"

// inheritedAWS are the variables exec removes: a profile would make the
// SDKs ignore the credentials it sets, stale keys would mix with new ones.
var inheritedAWS = []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_CREDENTIAL_PROCESS"}

func (c *cli) exec(ctx context.Context, args []string) int {
	var withServer, imds bool
	fs := newFlagSet(cmdspec.Exec)
	fs.boolVar(&withServer, &cmdspec.ExecServer)
	fs.boolVar(&imds, &cmdspec.ExecIMDS)
	code, done := c.parseCommand(fs, args)
	if done {
		return code
	}
	if imds && !withServer {
		return c.report(usageError("exec: --imds needs --server"))
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return c.report(&config.Error{Msg: "exec: no command given", Hint: "vault-credential-process exec [flags] -- COMMAND [ARGS...]"})
	}
	if c.getenv(execGuard) != "" {
		return c.report(&config.Error{Msg: "exec: already running inside `vault-credential-process exec`",
			Hint: "the credentials are already in the environment; leave that shell first, or unset " + execGuard})
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return c.report(&process.Error{Code: exitNotFound, Msg: fmt.Sprintf("exec: command %q not found or not executable", argv[0]),
			Hint: "check the command name, PATH and the file's execute permission"})
	}
	if withServer {
		return c.execServer(ctx, &fs.settings, path, argv, imds)
	}
	creds, err := c.credentials(ctx, "exec", &fs.settings)
	if err != nil {
		return c.report(err)
	}
	env := removeVars(os.Environ(), append(inheritedAWS, execGuard)...)
	for _, v := range shellenv.Vars(creds) {
		env = append(env, v.Name+"="+v.Value)
	}
	env = append(env, execGuard+"=1")
	code, err = runCommand(path, argv, env)
	if err != nil {
		return c.report(&process.Error{Code: process.ExitFailure, Msg: fmt.Sprintf("exec: run %s: %v", argv[0], err)})
	}
	return code
}

// removeVars returns env without the named variables.
func removeVars(env []string, names ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

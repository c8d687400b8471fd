package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/shellenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const execUsage = `Usage:
  vault-credential-process exec [--server [--imds]] [flags] -- COMMAND [ARGS...]

Runs COMMAND with the credentials in AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION, and
without AWS_PROFILE, AWS_DEFAULT_PROFILE or any other AWS key variable it
inherited. On Unix the helper replaces itself with COMMAND, so signals and
the exit status are COMMAND's own; elsewhere it forwards interrupts and
exits with COMMAND's status. Nested use (exec inside exec) is refused.

With --server, COMMAND gets no keys: the helper serves the credentials on
127.0.0.1 (see serve -h), sets only AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN, and stays alive as COMMAND's parent,
refreshing the credentials in the background, so a COMMAND that outlives
them keeps working. The credentials are fetched (and an MFA prompt shown)
before COMMAND starts. Signals are passed on to COMMAND; the exit status is
COMMAND's (128 + the signal's number if a signal ended it).

Flags:
  --server                  serve the credentials to COMMAND instead of putting keys in its environment
  --imds                    with --server, also the IMDSv2 emulation, in AWS_EC2_METADATA_SERVICE_ENDPOINT
` + requestFlagsUsage + `
Examples:
  vault-credential-process exec --profile dev -- aws s3 ls
  vault-credential-process exec --role deploy --type assumed_role -- terraform apply
  vault-credential-process exec --server --profile deploy -- terraform apply
`

// exitNotFound is the shells' status for a command that cannot be run.
const exitNotFound = 127

// execGuard marks a process started by exec, so that exec refuses to nest.
const execGuard = "VAULT_CREDENTIAL_PROCESS_EXEC"

// inheritedAWS are the variables exec removes: a profile would make the
// SDKs ignore the credentials it sets, stale keys would mix with new ones.
var inheritedAWS = []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_CREDENTIAL_PROCESS"}

func (c *cli) exec(ctx context.Context, args []string) int {
	fs := flagSet("exec", true)
	withServer := fs.Bool("server", false, "")
	imds := fs.Bool("imds", false, "")
	flags, code, done := c.parseCommand(fs, args, "exec", execUsage, true)
	if done {
		return code
	}
	if *imds && !*withServer {
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
	if *withServer {
		return c.execServer(ctx, flags, path, argv, *imds)
	}
	creds, err := c.credentials(ctx, "exec", flags)
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

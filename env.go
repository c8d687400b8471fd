package main

import (
	"context"
	"fmt"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/shellenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const envUsage = `Usage:
  vault-credential-process env [--format sh|fish|powershell] [flags]

Prints commands that export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN (unset when there is none) and AWS_CREDENTIAL_EXPIRATION,
each value quoted for the shell. The request flags are those of
vault-credential-process -h; the cache works as usual.

Flags:
  --format FORMAT           sh (default; bash, zsh, dash), fish or powershell
` + requestFlagsUsage + `
Examples:
  eval "$(vault-credential-process env --profile dev)"
  vault-credential-process env --format fish --role dev | source
  vault-credential-process env --format powershell --role dev | Invoke-Expression
`

func (c *cli) env(ctx context.Context, args []string) int {
	fs := flagSet("env", true)
	format := fs.String("format", shellenv.FormatSh, "")
	flags, code, done := c.parseCommand(fs, args, "env", envUsage, false)
	if done {
		return code
	}
	if err := checkFormat(*format); err != nil {
		return c.report(err)
	}
	creds, err := c.credentials(ctx, "env", flags)
	if err != nil {
		return c.report(err)
	}
	out, err := shellenv.Export(creds, *format)
	if err != nil {
		return c.report(err)
	}
	fmt.Fprint(c.stdout, out)
	return process.ExitOK
}

// checkFormat refuses a --format that Export does not know.
func checkFormat(format string) error {
	switch format {
	case shellenv.FormatSh, shellenv.FormatFish, shellenv.FormatPowerShell:
		return nil
	}
	return &config.Error{Source: "--format", Msg: fmt.Sprintf("unknown shell format %q", format),
		Hint: "use sh, fish or powershell"}
}

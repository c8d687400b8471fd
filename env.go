package main

import (
	"context"
	"fmt"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/shellenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

func (c *cli) env(ctx context.Context, args []string) int {
	format := shellenv.FormatSh
	fs := newFlagSet(cmdspec.Env)
	fs.stringVar(&format, &cmdspec.EnvFormat)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	if err := checkFormat(format); err != nil {
		return c.report(err)
	}
	creds, err := c.credentials(ctx, "env", &fs.settings)
	if err != nil {
		return c.report(err)
	}
	out, err := shellenv.Export(creds, format)
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

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const doctorUsage = `Usage:
  vault-credential-process doctor [flags]

Checks the set-up, one line per check: the configuration file; the Vault
address, whether Vault answers, is sealed, and its version; the token, its
source and how long it stays valid; whether its policy allows the
credentials path (with --profile or --role); the local clock against
Vault's; the cache folder; and whether the AWS config file has a profile
that runs this helper. Each failed check comes with a hint. Exit status 1
when any check fails.

Flags: the request flags of vault-credential-process -h.

Examples:
  vault-credential-process doctor
  vault-credential-process doctor --profile prod
`

func (c *cli) doctor(ctx context.Context, args []string) int {
	fs := flagSet("doctor", true)
	flags, code, done := c.parseCommand(fs, args, "doctor", doctorUsage, false)
	if done {
		return code
	}
	d := &doctorRun{Getenv: c.getenv, Now: time.Now, Program: name}
	file, err := loadConfig(flags, c.getenv)
	if err == nil {
		d.ConfigPath = file.Path
		d.Settings, err = config.Resolve(config.Inputs{Flags: flags, Getenv: c.getenv, File: file, RequestOptional: true})
	}
	d.ResolveErr = err
	timeout := config.DefaultTimeout
	if d.Settings != nil {
		timeout = d.Settings.RunTimeout()
		d.HasRequest = d.Settings.Role != ""
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	failed := false
	// A check's text quotes Vault, the configuration and the environment:
	// printed through process.Printable, one line each, never raw.
	for _, ch := range d.Run(ctx) {
		mark := "✓"
		if !ch.OK {
			mark, failed = "✗", true
		}
		fmt.Fprintf(c.stdout, "%s %s: %s\n", mark, process.Printable(ch.Name), process.Printable(ch.Detail))
		if hint := process.Printable(ch.Hint); !ch.OK && hint != "" {
			fmt.Fprintf(c.stdout, "  hint: %s\n", hint)
		}
	}
	if failed {
		return exitFailure
	}
	return exitOK
}

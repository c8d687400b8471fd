package main

import (
	"context"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const doctorUsage = `Usage:
  vault-credential-process doctor [--fetch] [flags]

Answers "will my profile work?", one line per check, printed as each check
finishes: the configuration file; the Vault address, whether Vault answers,
is sealed, and its version; the local clock against Vault's; the token, its
source and how long it stays valid. With --profile or --role it resolves
the request as a run would and checks it with your token: that the mount
is an AWS secrets engine, that the role exists and issues the credential
type asked for, and that the token's policy allows the request. Then the
cache folder, and whether the AWS config file has a profile that runs this
helper. A check that waits more than two seconds says what it waits for;
each one gives up after --timeout.

Each failed check (✗) comes with a hint; a check doctor could not make is
marked - and says why. Exit status 1 when any check fails.

Flags:
  --fetch                   also get the credentials, through the cache, as
                            the AWS client would, and show their access key
                            id, type, expiry and source (never a secret)
` + requestFlagsUsage + `
Examples:
  vault-credential-process doctor
  vault-credential-process doctor --profile prod
  vault-credential-process doctor --role deploy --type assumed_role --fetch
`

// waitNotice is how long a check runs before doctor says what it waits for.
const waitNotice = 2 * time.Second

func (c *cli) doctor(ctx context.Context, args []string) int {
	fs := flagSet("doctor", true)
	fetch := fs.Bool("fetch", false, "")
	flags, code, done := c.parseCommand(fs, args, "doctor", doctorUsage, false)
	if done {
		return code
	}
	d := &doctorRun{Getenv: c.getenv, Now: time.Now, Stderr: c.stderr, Program: name, Out: c.stdout, WaitNotice: waitNotice}
	file, err := loadConfig(flags, c.getenv)
	if err == nil {
		d.ConfigPath = file.Path
		// As a run resolves it; only --fetch needs the request itself.
		d.Settings, err = config.Resolve(config.Inputs{Flags: flags, Getenv: c.getenv, File: file, RequestOptional: !*fetch})
	}
	d.ResolveErr = err
	if s := d.Settings; s != nil {
		d.HasRequest = s.Role != ""
		if *fetch {
			d.Fetch = func(ctx context.Context) (*process.Credentials, string, error) {
				return c.fetch(ctx, "doctor", s, true)
			}
		}
	}
	for _, ch := range d.Run(ctx) {
		if ch.Failed() {
			return process.ExitFailure
		}
	}
	return process.ExitOK
}

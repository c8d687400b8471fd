package main

import (
	"context"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// waitNotice is how long a check runs before doctor says what it waits for.
const waitNotice = 2 * time.Second

func (c *cli) doctor(ctx context.Context, args []string) int {
	var fetch bool
	fs := newFlagSet(cmdspec.Doctor)
	fs.boolVar(&fetch, &cmdspec.DoctorFetch)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	flags := &fs.settings
	d := &doctorRun{Getenv: c.getenv, Now: time.Now, Stderr: c.stderr, Program: name, Out: c.stdout, WaitNotice: waitNotice}
	file, err := loadConfig(flags, c.getenv)
	if err == nil {
		d.ConfigPath = file.Path
		// As a run resolves it; only --fetch needs the request itself.
		d.Settings, err = config.Resolve(config.Inputs{Flags: flags, Getenv: c.getenv, File: file, RequestOptional: !fetch})
	}
	d.ResolveErr = err
	if s := d.Settings; s != nil {
		d.HasRequest = s.Role != ""
		if fetch {
			d.Fetch = func(ctx context.Context) (*process.Credentials, process.CredentialSource, error) {
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

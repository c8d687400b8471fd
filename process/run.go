package process

import "context"

// Run is one run of the core for command ("" for the default command),
// the one call every front end makes: Credentials within the run's
// deadline, recorded in the audit log when one is configured. The deadline
// is --timeout, plus for a person at the terminal the time a login may
// wait for them (Settings.RunTimeout); an Unattended run waits for nobody.
// A Runner makes one Run: it closes its Vault client at the end.
func (r *Runner) Run(ctx context.Context, command string) (*Credentials, CredentialSource, error) {
	timeout := r.Settings.RunTimeout()
	if r.Unattended {
		timeout = r.Settings.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer r.Close()
	creds, source, err := r.Credentials(ctx)
	if err != nil {
		return nil, "", err
	}
	if path := r.Settings.AuditLog; path != "" {
		// The credentials are handed out even when the log cannot be
		// written: a full disk must not break every AWS command.
		if err := AppendAudit(path, r.NewAuditRecord(command, creds, source)); err != nil {
			r.Warnf("audit log %s: %v", path, err)
		}
	}
	return creds, source, nil
}

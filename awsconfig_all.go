package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/awsconfig"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// aws-config --all: a profile in the AWS config file for every role of
// every AWS secrets engine the Vault token can list, kept in step with
// Vault. Vault is asked first and completely: a listing that fails for any
// reason but a refusal ends the run before the file is read, so a sync that
// breaks half-way changes nothing (granted#568). The file is edited line by
// line (awsconfig.Sync), never re-serialised, so a user's own lines stay as
// they were (granted#502).

// allOptions are aws-config's flags for --all.
type allOptions struct {
	all, write, prune bool
	name, region      string
}

func (c *cli) awsConfigAll(ctx context.Context, flags *config.Flags, o allOptions) int {
	if o.name == "" {
		o.name = awsconfig.DefaultNameTemplate
	}
	if err := awsconfig.CheckNameTemplate(o.name); err != nil {
		return c.report(&config.Error{Source: "--name", Msg: err.Error(),
			Hint: "use {mount} and {role}, such as --name '{mount}-{role}' or --name 'vault-{role}'"})
	}
	if o.region != "" && strings.Trim(o.region, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return c.report(&config.Error{Source: "--region", Msg: fmt.Sprintf("invalid region %q", o.region),
			Hint: "name an AWS region, such as eu-west-1"})
	}
	s, err := c.settings(flags, true)
	if err != nil {
		return c.report(err)
	}
	listing, err := c.listAWS(ctx, s)
	// Whatever failed, the file is as it was: the hint says so first.
	var pe *process.Error
	if errors.As(err, &pe) {
		pe.Hint = "the AWS config file was not changed; " + cmp.Or(pe.Hint, "run aws-config --all again once Vault answers")
	}
	if err != nil {
		return c.report(err)
	}
	p, err := c.planAll(listing, s, flags, o)
	if err != nil {
		return c.report(err)
	}
	for _, w := range p.warnings {
		c.warnf("%s", w)
	}
	return c.syncAWSConfig(p.plan, o.write)
}

// listAWS asks Vault for the AWS mounts and roles within the run's deadline.
func (c *cli) listAWS(ctx context.Context, s *config.Settings) (*vault.AWSListing, error) {
	ctx, cancel := context.WithTimeout(ctx, s.RunTimeout())
	defer cancel()
	v, err := vault.New(ctx, s, vaultOptions(cache.Now, c.debugf, c.getenv, c.stderr))
	if err != nil {
		return nil, err
	}
	return v.ListAWS(ctx)
}

// allPlan is the plan for the AWS config file and what to tell the user
// about the listing.
type allPlan struct {
	plan     awsconfig.Plan
	warnings []string
}

// planAll turns the listing into profiles. Every profile must resolve as
// the helper will resolve its line, so a profile that would fail at every
// AWS command is not written; two roles that the template gives the same
// name are a usage error, before anything is written.
func (c *cli) planAll(l *vault.AWSListing, s *config.Settings, flags *config.Flags, o allOptions) (*allPlan, error) {
	self, configWords, err := c.helperWords(s)
	if err != nil {
		return nil, err
	}
	file, err := loadConfig(flags, c.getenv)
	if err != nil {
		return nil, err
	}
	scope := "vault=" + strings.TrimRight(s.DisplayAddress(), "/")
	if s.Namespace != "" {
		scope += " namespace=" + s.Namespace
	}
	p := &allPlan{plan: awsconfig.Plan{Scope: scope, Prune: o.prune}}
	if len(l.Mounts) == 0 {
		p.warnings = append(p.warnings, "the token sees no AWS secrets engine: Vault lists only the mounts its policy allows something under")
	}
	listed := map[string]bool{}
	owner := map[string]string{} // profile name -> mount/role, to catch two roles with one name
	quoting := map[string]bool{}
	for _, m := range l.Mounts {
		listed[m.Path] = m.Complete()
		p.warnings = append(p.warnings, deniedWarnings(m)...)
		for _, r := range m.Roles {
			for _, rp := range roleProfiles(m.Path, r, o.name) {
				if rp.skip != "" {
					p.warnings = append(p.warnings, rp.skip)
					continue
				}
				words := append(append([]string{self}, rp.flags...), configWords...)
				if err := resolves(rp.flags, configWords, file, c.getenv); err != nil {
					p.warnings = append(p.warnings, fmt.Sprintf("%s: no profile for %s: %v", m.Path, rp.role, err))
					continue
				}
				if prev, ok := owner[rp.name]; ok {
					return nil, &config.Error{Source: "--name", Msg: fmt.Sprintf("%s and %s would both be profile %s", prev, rp.role, rp.name),
						Hint: "choose a --name template that tells them apart, such as '{mount}-{role}'"}
				}
				owner[rp.name] = rp.role
				command, warning := awsconfig.CommandLine(runtime.GOOS, words...)
				if warning != nil && warning.BreaksFile {
					return nil, &config.Error{Msg: "aws-config: " + warning.String(),
						Hint: "move the binary and the configuration file to folders whose paths have no line break"}
				}
				if warning != nil && !quoting[warning.String()] {
					quoting[warning.String()] = true
					p.warnings = append(p.warnings, warning.String())
				}
				p.plan.Profiles = append(p.plan.Profiles, awsconfig.Profile{Name: rp.name, Command: command, Region: o.region, Mount: m.Path})
			}
		}
	}
	// A mount that is not listed at all is gone for this token: its
	// profiles could not get credentials any more.
	p.plan.Prunable = func(mount string) bool {
		complete, seen := listed[mount]
		return complete || !seen
	}
	return p, nil
}

// deniedWarnings says what the token may not list or read under a mount,
// one line for the lists and one per role.
func deniedWarnings(m vault.AWSMount) []string {
	var lists []string
	var out []string
	for _, d := range m.Denied {
		if d.Capability == "list" {
			lists = append(lists, d.Path)
		} else {
			out = append(out, fmt.Sprintf("%s: role %s not read: %s", m.Path, path.Base(d.Path), d))
		}
	}
	if len(lists) > 0 {
		out = append([]string{fmt.Sprintf("%s: roles not listed: the token's policy lacks \"list\" on %s",
			m.Path, strings.Join(lists, " and "))}, out...)
	}
	if len(out) > 0 {
		out[len(out)-1] += "; no profile of " + m.Path + " is removed"
	}
	return out
}

// roleProfile is one profile planned for a role, or why there is none.
type roleProfile struct {
	name  string
	role  string   // mount/role, for messages
	flags []string // the helper's flags that make the request
	skip  string   // the warning when the role gets no profile
}

// roleProfiles are the profiles of one role: one, or one per ARN of an
// assumed_role role with several role_arns (the helper must then be told
// which: Vault refuses to choose).
func roleProfiles(mount string, r vault.AWSRole, template string) []roleProfile {
	base := roleProfile{name: awsconfig.ProfileName(template, mount, r.Name), role: mount + "/" + r.Name,
		flags: []string{"--mount", mount, "--role", r.Name}}
	switch {
	case r.Static:
		base.role = mount + "/static-roles/" + r.Name
		base.flags = append(base.flags, "--type", config.TypeStatic)
	case slices.Equal(r.CredentialTypes, []string{config.TypeSessionToken}) && r.MFASerial != "":
		// The helper asks for an MFA code only when the profile in its
		// configuration file says mfa = true; a line cannot say it.
		base.skip = fmt.Sprintf("%s: no profile for role %s: it needs an MFA code (mfa_serial_number); "+
			"give it a profile with mfa = true in the helper's configuration file and run aws-config --profile", mount, r.Name)
	case len(r.CredentialTypes) == 1:
		base.flags = append(base.flags, "--type", r.CredentialTypes[0])
		// Roles from before Vault 0.11 may issue two types; without --type
		// Vault picks one by the path (creds: iam_user).
	}
	if base.skip != "" || len(r.RoleARNs) < 2 {
		return []roleProfile{base}
	}
	var out []roleProfile
	for i, suffix := range awsconfig.ARNSuffixes(r.RoleARNs) {
		rp := base
		rp.name = base.name + "-" + suffix
		rp.role = base.role + " (" + r.RoleARNs[i] + ")"
		rp.flags = append(slices.Clone(base.flags), "--role-arn", r.RoleARNs[i])
		out = append(out, rp)
	}
	return out
}

// resolves checks that a profile's line resolves as the helper will
// resolve it: the same flags, parsed by the default command's flag set,
// configuration file and environment.
func resolves(flagWords, configWords []string, file *config.File, getenv func(string) string) error {
	fs := newFlagSet(cmdspec.Default)
	fs.boolVar(new(bool), &cmdspec.VersionFlag)
	if _, err := fs.parse(append(slices.Clone(flagWords), configWords...)); err != nil {
		return err
	}
	_, err := config.Resolve(config.Inputs{Flags: &fs.settings, Getenv: getenv, File: file})
	return err
}

// syncAWSConfig applies the plan to the AWS config file (write) or prints
// the diff it would make, and says what it kept and why.
func (c *cli) syncAWSConfig(plan awsconfig.Plan, write bool) int {
	path, err := awsconfig.Path(c.getenv)
	if err != nil {
		return c.report(fmt.Errorf("aws-config: find the AWS config file: %w", err))
	}
	var r *awsconfig.Result
	file, changed, err := awsconfig.Rewrite(path, func(data []byte) ([]byte, bool, error) {
		var err error
		if r, err = awsconfig.Sync(data, plan); err != nil {
			return nil, false, err
		}
		return r.Data, write && r.Changed(), nil
	})
	if err != nil {
		return c.report(fmt.Errorf("aws-config: %w", err))
	}
	for _, ch := range r.Changes {
		// Unsure ones are the mounts' that deniedWarnings named.
		if ch.Kind == awsconfig.Kept || ch.Kind == awsconfig.Stale {
			c.warnf("profile %s left as it is: %s", ch.Profile, ch.Reason)
		}
	}
	switch {
	case !r.Changed():
		fmt.Fprintf(c.stdout, "no change to %s\n", file)
	case !write:
		fmt.Fprint(c.stdout, r.Diff(file, file))
	default:
		done := map[awsconfig.ChangeKind]string{awsconfig.Added: "added", awsconfig.Updated: "updated", awsconfig.Removed: "removed"}
		for _, ch := range r.Changes {
			if verb, ok := done[ch.Kind]; ok {
				fmt.Fprintf(c.stdout, "%s profile %s\n", verb, ch.Profile)
			}
		}
		if changed {
			fmt.Fprintf(c.stdout, "wrote %s\n", file)
		}
	}
	return process.ExitOK
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/natefinch/atomic"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
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
	format := fs.String("format", process.FormatSh, "")
	flags, help, err := parse(fs, args)
	if help {
		return c.helpText(envUsage)
	}
	if err != nil {
		return c.report(err)
	}
	if fs.NArg() > 0 {
		return c.report(usageError(fmt.Sprintf("env: unexpected argument %q", fs.Arg(0))))
	}
	switch *format {
	case process.FormatSh, process.FormatFish, process.FormatPowerShell:
	default:
		return c.report(&config.Error{Source: "--format", Msg: fmt.Sprintf("unknown shell format %q", *format),
			Hint: "use sh, fish or powershell"})
	}
	creds, err := c.credentials(ctx, "env", flags)
	if err != nil {
		return c.report(err)
	}
	out, err := creds.Export(*format)
	if err != nil {
		return c.report(err)
	}
	fmt.Fprint(c.stdout, out)
	return process.ExitOK
}

const execUsage = `Usage:
  vault-credential-process exec [flags] -- COMMAND [ARGS...]

Runs COMMAND with the credentials in AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION, and
without AWS_PROFILE, AWS_DEFAULT_PROFILE or any other AWS key variable it
inherited. On Unix the helper replaces itself with COMMAND, so signals and
the exit status are COMMAND's own; elsewhere it forwards interrupts and
exits with COMMAND's status. Nested use (exec inside exec) is refused.

Flags:
` + requestFlagsUsage + `
Examples:
  vault-credential-process exec --profile dev -- aws s3 ls
  vault-credential-process exec --role deploy --type assumed_role -- terraform apply
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
	flags, help, err := parse(fs, args)
	if help {
		return c.helpText(execUsage)
	}
	if err != nil {
		return c.report(err)
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
	creds, err := c.credentials(ctx, "exec", flags)
	if err != nil {
		return c.report(err)
	}
	env := removeVars(os.Environ(), append(inheritedAWS, execGuard)...)
	for _, v := range creds.EnvVars() {
		env = append(env, v.Name+"="+v.Value)
	}
	env = append(env, execGuard+"=1")
	code, err := runCommand(path, argv, env)
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

const cacheUsage = `Usage:
  vault-credential-process cache list [--json] [--cache-dir PATH] [--config PATH]
  vault-credential-process cache clear [--all | request flags] [--revoke]

list shows one row per cache entry: the profile or request, where the
credentials came from, when they expire and whether they are fresh. It never
shows a secret; --json prints the same as a JSON array.

clear removes the entry of the request the flags describe (such as
--profile dev), or every entry and stored Vault login token with --all. With --revoke it first revokes
their leases in Vault: for iam_user credentials Vault then deletes the IAM
user; STS credentials stay valid until they expire whatever Vault does.

Examples:
  vault-credential-process cache list
  vault-credential-process cache clear --profile dev --revoke
  vault-credential-process cache clear --all
`

func (c *cli) cache(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return c.helpText(cacheUsage)
	}
	switch args[0] {
	case "list":
		return c.cacheList(args[1:])
	case "clear":
		return c.cacheClear(ctx, args[1:])
	}
	return c.report(usageError(fmt.Sprintf("cache: unknown command %q (list or clear)", args[0])))
}

// listed is a cache entry as `cache list --json` shows it.
type listed struct {
	Key          string     `json:"key"`
	State        string     `json:"state"` // fresh, stale, expired, unreadable
	Profile      string     `json:"profile,omitempty"`
	VaultAddress string     `json:"vault_address,omitempty"`
	Mount        string     `json:"mount,omitempty"`
	Role         string     `json:"role,omitempty"`
	Type         string     `json:"type,omitempty"`
	Source       string     `json:"source,omitempty"`
	IssuedAt     *time.Time `json:"issued_at,omitempty"`
	Expiration   *time.Time `json:"expiration,omitempty"`
	ExpiresIn    int64      `json:"expires_in_seconds"`
}

func (c *cli) openCache(flags map[string]string) (*cache.Store, *config.Settings, error) {
	s, err := c.settings(flags, true)
	if err != nil {
		return nil, nil, err
	}
	st, err := cache.Open(s.CacheDir)
	if err != nil {
		return nil, nil, &process.Error{Code: process.ExitFailure, Msg: oneLine(err.Error()),
			Hint: "check the folder (it must be yours, mode 0700), or pass --cache-dir", Err: err}
	}
	return st, s, nil
}

func (c *cli) cacheList(args []string) int {
	fs := flagSet("cache list", false)
	for _, f := range []string{"cache-dir", "config", "refresh-window"} {
		fs.String(f, "", "")
	}
	asJSON := fs.Bool("json", false, "")
	flags, help, err := parse(fs, args)
	if help {
		return c.helpText(cacheUsage)
	}
	if err != nil {
		return c.report(err)
	}
	delete(flags, "json")
	st, s, err := c.openCache(flags)
	if err != nil {
		return c.report(err)
	}
	entries, err := st.List()
	if err != nil {
		return c.report(err)
	}
	now := time.Now()
	rows := make([]listed, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, describe(e, now, s.RefreshWindow))
	}
	if *asJSON {
		out, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintf(c.stdout, "%s\n", out)
		return process.ExitOK
	}
	if len(rows) == 0 {
		fmt.Fprintf(c.stdout, "no cache entries in %s\n", st.Dir())
		return process.ExitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE/REQUEST\tTYPE\tSOURCE\tEXPIRES\tIN\tSTATE")
	for _, r := range rows {
		if r.State == "unreadable" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t%s\n", r.Key[:12], r.State)
			continue
		}
		what := r.Profile
		if what == "" {
			what = r.Mount + "/" + r.Role
		}
		typ := r.Type
		if typ == "" {
			typ = "(role's)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", what, typ, r.Source, r.Expiration.Local().Format("2006-01-02 15:04:05"),
			(time.Duration(r.ExpiresIn) * time.Second).String(), r.State)
	}
	tw.Flush()
	return process.ExitOK
}

func describe(l cache.Listed, now time.Time, refresh time.Duration) listed {
	r := listed{Key: l.Key, State: "unreadable"}
	e := l.Entry
	if e == nil {
		return r
	}
	issued, exp := e.IssuedAt, e.Expiration
	r.IssuedAt, r.Expiration = &issued, &exp
	r.Profile, r.VaultAddress = e.Request["profile"], e.Request["vault_address"]
	r.Mount, r.Role, r.Type, r.Source = e.Request["mount"], e.Request["role"], e.Request["type"], e.Source
	r.ExpiresIn = int64(exp.Sub(now).Round(time.Second) / time.Second)
	switch {
	case !exp.After(now):
		r.State, r.ExpiresIn = "expired", 0
	case cache.Fresh(e, now, refresh):
		r.State = "fresh"
	default:
		r.State = "stale"
	}
	return r
}

func (c *cli) cacheClear(ctx context.Context, args []string) int {
	fs := flagSet("cache clear", true)
	all := fs.Bool("all", false, "")
	revoke := fs.Bool("revoke", false, "")
	flags, help, err := parse(fs, args)
	if help {
		return c.helpText(cacheUsage)
	}
	if err != nil {
		return c.report(err)
	}
	delete(flags, "all")
	delete(flags, "revoke")
	st, s, err := c.openCache(flags)
	if err != nil {
		return c.report(err)
	}
	var keys []string
	switch {
	case *all && (flags["role"] != "" || flags["profile"] != ""):
		// Flags only: a profile or role from the environment must not make
		// --all a usage error.
		return c.report(usageError("cache clear: --all and a request (--profile, --role) exclude each other"))
	case *all:
		entries, err := st.List()
		if err != nil {
			return c.report(err)
		}
		for _, e := range entries {
			keys = append(keys, e.Key)
		}
	case s.Role != "":
		keys = []string{c.runner(s).Key()}
	default:
		return c.report(&config.Error{Msg: "cache clear: say which entries",
			Hint: "pass --profile NAME (or --role and the other request flags) for one entry, or --all"})
	}

	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	removed, failed := 0, 0
	for _, key := range keys {
		e, err := st.Load(key)
		if err != nil {
			c.warnf("%v", err)
		}
		if *revoke && e != nil && e.LeaseID != "" {
			if err := c.revokeLease(ctx, s, e); err != nil {
				c.report(err)
				failed++
				continue // keep the entry: its lease is still live
			}
		}
		// Removed whatever it holds: a corrupt or refused entry too.
		gone, err := st.Remove(key)
		if err != nil {
			c.report(err)
			failed++
			continue
		}
		if !gone && !*all {
			fmt.Fprintf(c.stdout, "no cache entry for this request in %s\n", st.Dir())
		}
		if gone {
			removed++
		}
	}
	tokens := 0
	if *all {
		names, err := st.Blobs(process.LoginTokenPrefix)
		if err != nil {
			return c.report(err)
		}
		for _, n := range names {
			if err := st.RemoveBlob(n); err != nil {
				c.report(err)
				failed++
				continue
			}
			tokens++
		}
	}
	fmt.Fprintf(c.stdout, "removed %d cache entries", removed)
	if *all {
		fmt.Fprintf(c.stdout, " and %d login tokens", tokens)
	}
	fmt.Fprintf(c.stdout, " from %s\n", st.Dir())
	if failed > 0 {
		return process.ExitFailure
	}
	return process.ExitOK
}

// revokeLease revokes the lease of a cached entry, at the Vault that issued
// it, and says what that means for the credentials.
func (c *cli) revokeLease(ctx context.Context, s *config.Settings, e *cache.Entry) error {
	at := *s
	if a := e.Request["vault_address"]; a != "" {
		at.Address, at.Namespace = a, e.Request["vault_namespace"]
	}
	v, err := process.NewVault(&at, time.Now, c.debugf)
	if err != nil {
		return err
	}
	if err := v.Revoke(ctx, e.LeaseID); err != nil {
		return err
	}
	what := "STS credentials stay valid until they expire"
	if e.Renewable {
		what = "Vault deletes the IAM user"
	}
	fmt.Fprintf(c.stdout, "revoked lease %s (%s)\n", e.LeaseID, what)
	return nil
}

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
	flags, help, err := parse(fs, args)
	if help {
		return c.helpText(doctorUsage)
	}
	if err != nil {
		return c.report(err)
	}
	if fs.NArg() > 0 {
		return c.report(usageError(fmt.Sprintf("doctor: unexpected argument %q", fs.Arg(0))))
	}
	d := &process.Doctor{Getenv: c.getenv, Now: time.Now, Program: name}
	file, err := loadConfig(flags, c.getenv)
	if err == nil {
		d.ConfigPath = file.Path
		d.Settings, err = config.Resolve(config.Inputs{Flags: flags, Getenv: c.getenv, File: file, RequestOptional: true})
	}
	d.ResolveErr = err
	timeout := config.DefaultTimeout
	if d.Settings != nil {
		timeout = d.Settings.Timeout
		d.HasRequest = d.Settings.Role != ""
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	failed := false
	for _, ch := range d.Run(ctx) {
		mark := "✓"
		if !ch.OK {
			mark, failed = "✗", true
		}
		fmt.Fprintf(c.stdout, "%s %s: %s\n", mark, ch.Name, ch.Detail)
		if !ch.OK && ch.Hint != "" {
			fmt.Fprintf(c.stdout, "  hint: %s\n", ch.Hint)
		}
	}
	if failed {
		return process.ExitFailure
	}
	return process.ExitOK
}

const awsConfigUsage = `Usage:
  vault-credential-process aws-config --profile NAME [--aws-profile NAME] [--write [--force]]

Prints the AWS config section for a profile of the helper's configuration
file, with the absolute path of this binary in credential_process (quoted
if it has spaces). With --write it adds the section to the AWS config file
(AWS_CONFIG_FILE, else ~/.aws/config) atomically, leaving other profiles and
comments as they are. An existing profile of that name with another
credential_process is left alone unless --force, which replaces only its
credential_process line.

Flags:
  --profile NAME       the helper's profile ([profiles.NAME])
  --aws-profile NAME   the AWS profile to write (default: the same name)
  --config PATH        the helper's configuration file
  --write              write into the AWS config file instead of printing
  --force              with --write, replace another credential_process

Examples:
  vault-credential-process aws-config --profile dev
  vault-credential-process aws-config --profile dev --write
`

func (c *cli) awsConfig(args []string) int {
	fs := flagSet("aws-config", false)
	profile := fs.String("profile", "", "")
	awsProfile := fs.String("aws-profile", "", "")
	fs.String("config", "", "")
	write := fs.Bool("write", false, "")
	force := fs.Bool("force", false, "")
	flags, help, err := parse(fs, args)
	if help {
		return c.helpText(awsConfigUsage)
	}
	if err != nil {
		return c.report(err)
	}
	if *profile == "" {
		return c.report(&config.Error{Msg: "aws-config: no --profile given",
			Hint: "name a [profiles.NAME] table of the configuration file with --profile"})
	}
	if *force && !*write {
		return c.report(usageError("aws-config: --force goes with --write"))
	}
	if *awsProfile == "" {
		*awsProfile = *profile
	}
	if strings.ContainsAny(*awsProfile, "[] \t\r\n") {
		return c.report(&config.Error{Source: "--aws-profile", Msg: fmt.Sprintf("invalid AWS profile name %q", *awsProfile),
			Hint: "use a name without spaces or brackets"})
	}
	// The profile must resolve: a stanza for a broken profile would fail at
	// every AWS command.
	settings, err := c.settings(map[string]string{"profile": *profile, "config": flags["config"]}, false)
	if err != nil {
		return c.report(err)
	}
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return c.report(fmt.Errorf("aws-config: find this binary's path: %w", err))
	}
	words := []string{self, "--profile", *profile}
	// A configuration file other than the default one (named by --config or
	// VAULT_CREDENTIAL_PROCESS_CONFIG) goes into the command line: the AWS
	// client's environment may not have the variable.
	if p := settings.ConfigPath; p != "" {
		if def, err := config.DefaultPath(c.getenv); err != nil || def != p {
			if abs, err := filepath.Abs(p); err == nil {
				words = append(words, "--config", abs)
			}
		}
	}
	command := config.CommandLine(words...)
	if !*write {
		fmt.Fprint(c.stdout, config.Stanza(*awsProfile, command))
		return process.ExitOK
	}
	return c.writeAWSConfig(*awsProfile, command, *force)
}

func (c *cli) writeAWSConfig(awsProfile, command string, force bool) int {
	path, err := config.AWSConfigPath(c.getenv)
	if err != nil {
		return c.report(fmt.Errorf("aws-config: find the AWS config file: %w", err))
	}
	// Write through a symlink (dotfile managers link ~/.aws/config) rather
	// than replacing the link with a file.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return c.report(fmt.Errorf("aws-config: read %s: %w", path, err))
	}
	out, changed, err := config.UpsertProfile(data, awsProfile, command, force)
	if errors.Is(err, config.ErrProfileExists) {
		return c.report(config.AWSProfileError(path, awsProfile))
	}
	if err != nil {
		return c.report(err)
	}
	if !changed {
		fmt.Fprintf(c.stdout, "profile %s in %s already runs this helper\n", awsProfile, path)
		return process.ExitOK
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return c.report(fmt.Errorf("aws-config: %w", err))
	}
	if err := atomic.WriteFile(path, strings.NewReader(string(out))); err != nil {
		return c.report(fmt.Errorf("aws-config: write %s: %w", path, err))
	}
	fmt.Fprintf(c.stdout, "wrote profile %s to %s\n", awsProfile, path)
	return process.ExitOK
}

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/console"
	"github.com/vault-credential-process/vault-credential-process/internal/sts"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/internal/vault/oidc"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const name = cmdspec.Program

// run is the whole program; main only maps its result to an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) > 0 {
		if id, ok := cmdspec.Lookup(cmdspec.Default, args[0]); ok {
			return c.runCommand(ctx, id, args[1:])
		}
	}
	return c.credentialProcess(ctx, args)
}

// runCommand runs the command line id (declared in cmdspec.Table) with the
// arguments after its name. Each command parses its own flags.
func (c *cli) runCommand(ctx context.Context, id cmdspec.ID, args []string) int {
	return commands[id](c, ctx, args)
}

// commands are the methods that run the command lines of cmdspec.Table, by
// their ID (TestHelp runs each one with -h). They are set in init: the
// commands with subcommands run them through runCommand, and a package
// variable that its own initialiser reaches is an initialisation cycle.
var commands [cmdspec.NumIDs]func(*cli, context.Context, []string) int

func init() {
	commands = [cmdspec.NumIDs]func(*cli, context.Context, []string) int{
		cmdspec.Default:            (*cli).credentialProcess,
		cmdspec.Env:                (*cli).env,
		cmdspec.Exec:               (*cli).exec,
		cmdspec.Serve:              (*cli).serve,
		cmdspec.PodAgent:           (*cli).podAgent,
		cmdspec.Cache:              (*cli).cache,
		cmdspec.CacheList:          (*cli).cacheList,
		cmdspec.CacheClear:         (*cli).cacheClear,
		cmdspec.Doctor:             (*cli).doctor,
		cmdspec.AWSConfig:          (*cli).awsConfig,
		cmdspec.Login:              (*cli).login,
		cmdspec.Completion:         (*cli).completion,
		cmdspec.CompletionProfiles: (*cli).completionProfiles,
		cmdspec.Version:            (*cli).printVersion,
		cmdspec.Help:               (*cli).printUsage,
	}
}

// subcommand runs the subcommand of group that args[0] names, or prints
// group's usage when args are empty or ask for it; ok is false when
// args[0] is neither, for group to answer.
func (c *cli) subcommand(ctx context.Context, group cmdspec.ID, args []string) (code int, ok bool) {
	if len(args) == 0 || isHelp(args[0]) {
		return c.helpText(group), true
	}
	if id, found := cmdspec.Lookup(group, args[0]); found {
		return c.runCommand(ctx, id, args[1:]), true
	}
	return 0, false
}

func (c *cli) printVersion(_ context.Context, args []string) int {
	if len(args) == 1 && isHelp(args[0]) {
		return c.helpText(cmdspec.Version)
	}
	if len(args) > 0 {
		return c.report(usageError("version takes no arguments"))
	}
	fmt.Fprintln(c.stdout, versionString())
	return process.ExitOK
}

// isHelp reports an argument that asks a command with subcommands (or
// none) for its usage, as -h asks one with flags.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// printUsage is `help`: `help COMMAND` prints that command's usage, as
// `COMMAND -h` does; `help` alone the main usage; any other word is a usage
// error, so that a typo is not answered with the general help.
func (c *cli) printUsage(_ context.Context, args []string) int {
	if len(args) > 0 {
		if id, ok := cmdspec.Lookup(cmdspec.Default, args[0]); ok {
			return c.helpText(id)
		}
		if !isHelp(args[0]) {
			return c.report(unknownCommand("help: ", args[0]))
		}
	}
	return c.helpText(cmdspec.Default)
}

// cli carries what every command writes to and reads from.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	debug          bool
}

// debugf and warnf print one line each: what they format may hold text
// from Vault or the configuration, so it goes through process.Printable.
func (c *cli) debugf(format string, args ...any) {
	if c.debug {
		fmt.Fprintf(c.stderr, "%s: debug: %s\n", name, process.Printable(fmt.Sprintf(format, args...)))
	}
}

func (c *cli) warnf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "%s: warning: %s\n", name, process.Printable(fmt.Sprintf(format, args...)))
}

func usageError(msg string) *config.Error {
	return &config.Error{Msg: msg, Hint: "run " + name + " -h for usage"}
}

// settings loads the configuration file and resolves the settings.
func (c *cli) settings(flags *config.Flags, requestOptional bool) (*config.Settings, error) {
	file, err := loadConfig(flags, c.getenv)
	if err != nil {
		return nil, err
	}
	s, err := config.Resolve(config.Inputs{Flags: flags, Getenv: c.getenv, File: file, RequestOptional: requestOptional})
	if err != nil {
		return nil, err
	}
	c.debug = s.Debug
	if file.Path != "" {
		c.debugf("configuration file %s", file.Path)
	}
	return s, nil
}

// runner is the Runner every credential-printing command uses.
func (c *cli) runner(s *config.Settings) *process.Runner { return c.runnerFor(s, false) }

// runnerFor is runner, or with unattended set the Runner of a server's
// background work: nobody is at the terminal, so it never prompts and never
// starts a browser login.
func (c *cli) runnerFor(s *config.Settings, unattended bool) *process.Runner {
	return &process.Runner{
		Settings: s,
		Now:      cache.Now, // wall clock: times are stored and compared across processes
		Debugf:   c.debugf,
		Warnf:    c.warnf,
		OpenTTY:  process.OpenTerminal,
		Stderr:   c.stderr,
		Getenv:   c.getenv,
		NewSource: func(ctx context.Context) (process.Source, error) {
			o := vaultOptions(cache.Now, c.debugf, c.getenv, c.stderr)
			o.Unattended = unattended
			return vault.New(ctx, s, o)
		},
		Usable:     c.usable,
		Unattended: unattended,
	}
}

// usable asks STS whom new keys belong to (sts:GetCallerIdentity), waiting
// while STS does not know them yet, at most sts.Propagation and the run's
// deadline. The endpoint is the one the AWS clients would use:
// AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the regional endpoint of
// AWS_REGION (AWS_DEFAULT_REGION, us-east-1).
func (c *cli) usable(ctx context.Context, creds *process.Credentials) (string, error) {
	region := cmp.Or(c.getenv("AWS_REGION"), c.getenv("AWS_DEFAULT_REGION"), "us-east-1")
	endpoint := cmp.Or(c.getenv("AWS_ENDPOINT_URL_STS"), c.getenv("AWS_ENDPOINT_URL"), console.STSEndpoint(region))
	if err := console.CheckEndpoint(endpoint); err != nil {
		return "", fmt.Errorf("the STS endpoint: %w", err)
	}
	call := sts.Call{Endpoint: endpoint, Region: region, HTTP: console.HTTPClient(),
		Keys: sts.Keys{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}}
	return sts.CallerIdentity(ctx, call, sts.Propagation, sts.Backoff, c.debugf)
}

// vaultOptions are the Vault client's options: the run's clock, --debug,
// environment and stderr, and the oidc browser login plugged in (the
// Vault package cannot import it: it imports the Vault package).
func vaultOptions(now func() time.Time, debugf func(string, ...any), getenv func(string) string, stderr io.Writer) vault.Options {
	return vault.Options{Now: now, Debugf: debugf, Getenv: getenv, Stderr: stderr,
		OIDC: vault.OIDC{Login: oidc.Login, Hint: oidc.Hint}}
}

// credentials resolves flags and gets credentials, recording the run in
// the audit log when one is configured.
func (c *cli) credentials(ctx context.Context, command string, flags *config.Flags) (*process.Credentials, error) {
	s, err := c.settings(flags, false)
	if err != nil {
		return nil, err
	}
	return c.credentialsFor(ctx, command, s)
}

// credentialsFor gets credentials for resolved settings, as a person at
// the terminal asked for them.
func (c *cli) credentialsFor(ctx context.Context, command string, s *config.Settings) (*process.Credentials, error) {
	creds, source, err := c.fetch(ctx, command, s, true)
	if err != nil {
		return nil, err
	}
	if c.debug {
		c.debugf("credentials from %s, expiring %s", source, creds.Expiration.UTC().Format(time.RFC3339))
	}
	return creds, nil
}

// fetch is one run of the core for command (process.Runner.Run). Unless
// interactive (a server's background refresh) nobody is at the terminal:
// no MFA or password prompt, no browser login, and the deadline is
// --timeout alone.
func (c *cli) fetch(ctx context.Context, command string, s *config.Settings, interactive bool) (*process.Credentials, process.CredentialSource, error) {
	return c.runnerFor(s, !interactive).Run(ctx, command)
}

// credentialProcess is the default command: the credential_process document.
func (c *cli) credentialProcess(ctx context.Context, args []string) int {
	var showVersion bool
	fs := newFlagSet(cmdspec.Default)
	fs.boolVar(&showVersion, &cmdspec.VersionFlag)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	if showVersion {
		return c.printVersion(ctx, nil)
	}
	creds, err := c.credentials(ctx, "credential_process", &fs.settings)
	if err != nil {
		return c.report(err)
	}
	doc, err := creds.Marshal()
	if err != nil {
		return c.report(fmt.Errorf("encode the credential document: %w", err))
	}
	if _, err := c.stdout.Write(doc); err != nil {
		return c.report(fmt.Errorf("write the credential document: %w", err))
	}
	return process.ExitOK
}

// loadConfig reads the file named by --config or the environment, else the
// default file if it exists.
func loadConfig(flags *config.Flags, getenv func(string) string) (*config.File, error) {
	path, explicit := flags[config.IDConfig], true
	if path == "" {
		path = getenv(config.IDConfig.Setting().Env)
	}
	if path == "" {
		explicit = false
		p, err := config.DefaultPath(getenv)
		if err != nil {
			return &config.File{}, nil
		}
		path = p
	}
	return config.Load(path, explicit)
}

// report prints err as one error line and an optional hint line, and
// returns the exit status it calls for. Both may quote Vault's answer or a
// value the user gave, so control characters are shown escaped, not sent
// to the terminal.
func (c *cli) report(err error) int {
	code, hint := process.ExitFailure, ""
	var ce *config.Error
	var pe *process.Error
	switch {
	case errors.As(err, &ce):
		code, hint = process.ExitUsage, ce.Hint
	case errors.As(err, &pe):
		code, hint = pe.Code, pe.Hint
	}
	fmt.Fprintf(c.stderr, "%s: error: %s\n", name, process.Printable(err.Error()))
	if hint = process.Printable(hint); hint != "" {
		fmt.Fprintf(c.stderr, "hint: %s\n", hint)
	}
	return code
}

// versionString is the stamped version, else what the Go toolchain recorded
// (module version and VCS revision), so `go install` builds say something.
func versionString() string {
	v, rev := version, ""
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if v == "" {
			v = "unknown"
		}
		return name + " " + v
	}
	if v == "" {
		v = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			rev = s.Value[:12]
		}
	}
	if rev != "" {
		return fmt.Sprintf("%s %s (commit %s, %s)", name, v, rev, bi.GoVersion)
	}
	return fmt.Sprintf("%s %s (%s)", name, v, bi.GoVersion)
}

// helpText prints the usage of command line id when asked.
func (c *cli) helpText(id cmdspec.ID) int {
	io.WriteString(c.stdout, id.Usage())
	return process.ExitOK
}

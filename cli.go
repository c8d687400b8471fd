package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/console"
	"github.com/vault-credential-process/vault-credential-process/internal/sts"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/internal/vault/oidc"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const name = "vault-credential-process"

// requestFlagsUsage lists the flags that describe a credential request,
// those of config.Table with Flag set; every command that gets credentials
// takes them.
const requestFlagsUsage = config.FlagsUsage

const usage = `Usage:
  vault-credential-process [flags]
  vault-credential-process env [--format sh|fish|powershell] [flags]
  vault-credential-process exec [--server [--imds]] [flags] -- COMMAND [ARGS...]
  vault-credential-process serve [--listen ADDR] [--imds] [--print-env] [flags] [PROFILE...]
  vault-credential-process pod-agent --config PATH [--listen ADDR]...
  vault-credential-process cache list [--json] | cache clear [--all | flags] [--revoke]
  vault-credential-process doctor [--fetch] [flags]
  vault-credential-process aws-config --profile NAME [--aws-profile NAME] [--write [--force]]
  vault-credential-process aws-config --all [--name TEMPLATE] [--region REGION] [--write] [--prune]
  vault-credential-process login [--stdout] [--destination URL] [--region R] [flags]
  vault-credential-process completion bash|zsh|fish|powershell
  vault-credential-process version

Prints AWS credentials from HashiCorp Vault's AWS secrets engine as the
credential_process JSON document, for the AWS CLI and SDKs. Credentials are
cached on disk until near expiry, so most runs never reach Vault. Each
command has its own -h.

Flags:
` + requestFlagsUsage + `  --version                 print the version and exit
  -h, --help                show this help

Every flag above but --version can also be set with
VAULT_CREDENTIAL_PROCESS_<FLAG>, such as VAULT_CREDENTIAL_PROCESS_ROLE. Precedence: flag > environment > profile >
defaults tables > built-in. Vault itself is reached as the vault CLI would:
VAULT_ADDR, VAULT_TOKEN (or ~/.vault-token or a token helper),
VAULT_NAMESPACE, VAULT_CACERT, ... To log in with approle, kubernetes, jwt,
userpass, ldap or cert instead, see [vault.auth] in the README.

Exit status: 0 success, 1 failure at run time, 2 usage or configuration error.

Examples:
  # In ~/.aws/config:
  #   [profile dev]
  #   credential_process = /usr/local/bin/vault-credential-process --role dev
  vault-credential-process --role dev
  vault-credential-process --role deploy --type assumed_role --ttl 1h --role-session-name ci
  vault-credential-process --profile prod --debug
`

// run is the whole program; main only maps its result to an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) > 0 {
		for _, cmd := range commands {
			if cmd.name == args[0] {
				return cmd.run(c, ctx, args[1:])
			}
		}
	}
	return c.credentialProcess(ctx, args)
}

// command is a subcommand: the first argument that selects it, what its -h
// prints, and what runs it with the arguments after its name. Each command
// parses its own flags.
type command struct {
	name  string
	usage string
	run   func(c *cli, ctx context.Context, args []string) int
}

// commands are the subcommands. Any other first argument, a flag or none,
// runs the default command, which prints the credential_process document.
var commands = []command{
	{"env", envUsage, (*cli).env},
	{"exec", execUsage, (*cli).exec},
	{"serve", serveUsage, (*cli).serve},
	{"pod-agent", podAgentUsage, (*cli).podAgent},
	{"cache", cacheUsage, (*cli).cache},
	{"doctor", doctorUsage, (*cli).doctor},
	{"aws-config", awsConfigUsage, (*cli).awsConfig},
	{"login", loginUsage, (*cli).login},
	{"completion", completionUsage, (*cli).completion},
	{"version", versionUsage, (*cli).printVersion},
	{"help", usage, (*cli).printUsage},
}

const versionUsage = `Usage:
  vault-credential-process version

Prints the version, the commit it was built from and the Go version.
`

func (c *cli) printVersion(_ context.Context, args []string) int {
	if len(args) == 1 && isHelp(args[0]) {
		return c.helpText(versionUsage)
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
		if u, ok := commandUsage[args[0]]; ok {
			return c.helpText(u)
		}
		if !isHelp(args[0]) {
			return c.report(unknownCommand("help: ", args[0]))
		}
	}
	return c.helpText(usage)
}

// commandUsage is each command's usage by name, for `help COMMAND` (a map of
// its own: commands refers to printUsage, which cannot refer back to it).
var commandUsage = map[string]string{}

func init() {
	for _, cmd := range commands {
		commandUsage[cmd.name] = cmd.usage
	}
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

// flagSet makes a flag set for a command, with the request flags when
// request is set and the flags of the settings given; the usage text is
// printed on -h.
func flagSet(cmd string, request bool, settings ...config.ID) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for id := range config.Table {
		if s := &config.Table[id]; (request && s.Flag) || slices.Contains(settings, config.ID(id)) {
			if s.Kind == config.KindBool {
				fs.Bool(s.Name, false, s.Usage)
			} else {
				fs.String(s.Name, "", s.Usage)
			}
		}
	}
	return fs
}

// parse parses args and returns the flags given, by name. help reports -h.
func parse(fs *flag.FlagSet, args []string) (flags map[string]string, help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, true, nil
		}
		return nil, false, unknownFlag(fs, args, err)
	}
	flags = map[string]string{}
	fs.Visit(func(f *flag.Flag) { flags[f.Name] = f.Value.String() })
	return flags, false, nil
}

// parseCommand parses the arguments of command cmd ("" for the default
// command), whose usage -h prints. done is true when the command is over:
// its usage was printed, or a usage error reported, and code is the exit
// status. Arguments after the flags are refused unless positional.
func (c *cli) parseCommand(fs *flag.FlagSet, args []string, cmd, usageText string, positional bool) (flags map[string]string, code int, done bool) {
	flags, help, err := parse(fs, args)
	switch {
	case help:
		return nil, c.helpText(usageText), true
	case err != nil:
		return nil, c.report(err), true
	case !positional && fs.NArg() > 0 && cmd == "" && len(args) > 0 && args[0] == fs.Arg(0):
		// The default command takes no argument: a first word that is not a
		// flag was meant as a command.
		return nil, c.report(unknownCommand("", fs.Arg(0))), true
	case !positional && fs.NArg() > 0:
		prefix := ""
		if cmd != "" {
			prefix = cmd + ": "
		}
		return nil, c.report(usageError(fmt.Sprintf("%sunexpected argument %q", prefix, fs.Arg(0)))), true
	}
	return flags, process.ExitOK, false
}

func usageError(msg string) *config.Error {
	return &config.Error{Msg: msg, Hint: "run " + name + " -h for usage"}
}

// settings loads the configuration file and resolves the settings.
func (c *cli) settings(flags map[string]string, requestOptional bool) (*config.Settings, error) {
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
	r := &process.Runner{
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
		Usable: c.usable,
	}
	if unattended {
		r.OpenTTY = nil
	}
	return r
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
func (c *cli) credentials(ctx context.Context, command string, flags map[string]string) (*process.Credentials, error) {
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

// fetch is one run of the core for command: within the run's deadline,
// recorded in the audit log when one is configured. Unless interactive (a
// server's background refresh) nobody is at the terminal: no MFA or
// password prompt, no browser login, and the deadline is --timeout alone.
func (c *cli) fetch(ctx context.Context, command string, s *config.Settings, interactive bool) (*process.Credentials, string, error) {
	timeout := s.Timeout
	if interactive {
		timeout = s.RunTimeout()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := c.runnerFor(s, !interactive)
	defer r.Close()
	creds, source, err := r.Credentials(ctx)
	if err != nil {
		return nil, "", err
	}
	if s.AuditLog != "" {
		if err := process.AppendAudit(s.AuditLog, r.NewAuditRecord(command, creds, source)); err != nil {
			c.warnf("audit log %s: %v", s.AuditLog, err)
		}
	}
	return creds, source, nil
}

// credentialProcess is the default command: the credential_process document.
func (c *cli) credentialProcess(ctx context.Context, args []string) int {
	fs := flagSet(name, true)
	fs.Bool("version", false, "")
	flags, code, done := c.parseCommand(fs, args, "", usage, false)
	if done {
		return code
	}
	if flags["version"] == "true" {
		return c.printVersion(ctx, nil)
	}
	creds, err := c.credentials(ctx, "credential_process", flags)
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
func loadConfig(flags map[string]string, getenv func(string) string) (*config.File, error) {
	cfg := config.IDConfig.Setting()
	path, explicit := flags[cfg.Name], true
	if path == "" {
		path = getenv(cfg.Env)
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

// helpText prints a command's usage when asked.
func (c *cli) helpText(text string) int {
	fmt.Fprint(c.stdout, text)
	return process.ExitOK
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const name = "vault-credential-process"

// requestFlags are the flags that describe a credential request; every
// command that gets credentials takes them.
var (
	requestStringFlags = []string{"profile", "config", "mount", "role", "type", "ttl", "role-arn",
		"role-session-name", "mfa-code", "timeout", "retries", "cache-dir", "refresh-window", "audit-log"}
	requestBoolFlags = []string{"debug", "no-cache"}
)

const requestFlagsUsage = `  --profile NAME            profile from the configuration file ([profiles.NAME])
  --config PATH             configuration file (default $XDG_CONFIG_HOME/vault-credential-process/config.toml)
  --mount PATH              mount path of the AWS secrets engine (default aws)
  --role NAME               Vault role to get credentials for
  --type TYPE               iam_user, assumed_role, federation_token, session_token or static
                            (default: whatever the role issues, through <mount>/creds/<role>)
  --ttl DURATION            lifetime to ask for, such as 1h or 3600 (STS types only)
  --role-arn ARN            IAM role to assume, when the role allows several (assumed_role)
  --role-session-name NAME  session name of the assumed role (assumed_role)
  --mfa-code CODE           current six-digit MFA code (session_token roles with MFA)
  --timeout DURATION        limit for the whole run, retries included (default 30s)
  --retries N               retries after a connection error, 5xx or 429 (default 2)
  --no-cache                neither read nor write the disk cache
  --cache-dir PATH          cache folder (default $XDG_CACHE_HOME/vault-credential-process)
  --refresh-window DURATION refresh credentials this long before they expire (default 15m)
  --audit-log PATH          append one JSON line per run that hands out credentials
  --debug                   log each step to stderr (never a secret)
`

const usage = `Usage:
  vault-credential-process [flags]
  vault-credential-process env [--format sh|fish|powershell] [flags]
  vault-credential-process exec [flags] -- COMMAND [ARGS...]
  vault-credential-process cache list [--json] | cache clear [--all | flags] [--revoke]
  vault-credential-process doctor [flags]
  vault-credential-process aws-config --profile NAME [--aws-profile NAME] [--write [--force]]
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
		switch args[0] {
		case "env":
			return c.env(ctx, args[1:])
		case "exec":
			return c.exec(ctx, args[1:])
		case "cache":
			return c.cache(ctx, args[1:])
		case "doctor":
			return c.doctor(ctx, args[1:])
		case "aws-config":
			return c.awsConfig(args[1:])
		case "version":
			if len(args) > 1 {
				return c.report(usageError("version takes no arguments"))
			}
			fmt.Fprintln(stdout, versionString())
			return process.ExitOK
		case "help":
			fmt.Fprint(stdout, usage)
			return process.ExitOK
		}
	}
	return c.credentialProcess(ctx, args)
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

// flagSet makes a flag set for a command with the request flags when
// request is set; the usage text is printed on -h.
func flagSet(cmd string, request bool) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if request {
		for _, f := range requestStringFlags {
			fs.String(f, "", "")
		}
		for _, f := range requestBoolFlags {
			fs.Bool(f, false, "")
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
		return nil, false, usageError(err.Error())
	}
	flags = map[string]string{}
	fs.Visit(func(f *flag.Flag) { flags[f.Name] = f.Value.String() })
	return flags, false, nil
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
func (c *cli) runner(s *config.Settings) *process.Runner {
	return &process.Runner{
		Settings: s,
		Now:      time.Now,
		Debugf:   c.debugf,
		Warnf:    c.warnf,
		OpenTTY:  process.OpenTerminal,
		Stderr:   c.stderr,
		NewSource: func(ctx context.Context) (process.Source, error) {
			return process.NewVault(ctx, s, time.Now, c.debugf)
		},
	}
}

// credentials resolves flags and gets credentials, recording the run in
// the audit log when one is configured.
func (c *cli) credentials(ctx context.Context, command string, flags map[string]string) (*process.Credentials, error) {
	s, err := c.settings(flags, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	r := c.runner(s)
	creds, source, err := r.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	c.debugf("credentials from %s, expiring %s", source, creds.Expiration.UTC().Format(time.RFC3339))
	if s.AuditLog != "" {
		if err := process.AppendAudit(s.AuditLog, r.NewAuditRecord(command, creds, source)); err != nil {
			c.warnf("audit log %s: %v", s.AuditLog, err)
		}
	}
	return creds, nil
}

// credentialProcess is the default command: the credential_process document.
func (c *cli) credentialProcess(ctx context.Context, args []string) int {
	fs := flagSet(name, true)
	fs.Bool("version", false, "")
	flags, help, err := parse(fs, args)
	if help {
		fmt.Fprint(c.stdout, usage)
		return process.ExitOK
	}
	if err != nil {
		return c.report(err)
	}
	if flags["version"] == "true" {
		fmt.Fprintln(c.stdout, versionString())
		return process.ExitOK
	}
	if fs.NArg() > 0 {
		return c.report(usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0))))
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
	path, explicit := flags["config"], true
	if path == "" {
		path = getenv(config.EnvName("config"))
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

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

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

// Command vault-credential-process is an AWS credential_process helper: it
// gets AWS credentials from HashiCorp Vault's AWS secrets engine, caches
// them on disk until near expiry, and prints the credential_process JSON
// document the AWS CLI and SDKs read.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const name = "vault-credential-process"

// version is stamped by `make build` with -ldflags "-X main.version=...".
var version = ""

// main installs no signal handler: SIGINT or SIGTERM ends the process at
// once, the OS releases its cache lock, and the cache entry stays whole (it
// is replaced by rename). A handler would cost every cache hit a goroutine
// and a thread for nothing.
func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `Usage:
  vault-credential-process [flags]
  vault-credential-process version

Prints AWS credentials from HashiCorp Vault's AWS secrets engine as the
credential_process JSON document, for the AWS CLI and SDKs. Credentials are
cached on disk until near expiry, so most runs never reach Vault.

Flags:
  --profile NAME            profile from the configuration file ([profiles.NAME])
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
  --debug                   log each step to stderr (never a secret)
  --version                 print the version and exit
  -h, --help                show this help

Every flag can also be set with VAULT_CREDENTIAL_PROCESS_<FLAG>, such as
VAULT_CREDENTIAL_PROCESS_ROLE. Precedence: flag > environment > profile >
defaults tables > built-in. Vault itself is reached as the vault CLI would:
VAULT_ADDR, VAULT_TOKEN (or ~/.vault-token or a token helper),
VAULT_NAMESPACE, VAULT_CACERT, ...

Exit status: 0 success, 1 failure at run time, 2 usage or configuration error.

Examples:
  # In ~/.aws/config:
  #   [profile dev]
  #   credential_process = vault-credential-process --role dev
  vault-credential-process --role dev
  vault-credential-process --role deploy --type assumed_role --ttl 1h --role-session-name ci
  vault-credential-process --profile prod --debug
`

// run is the whole program; main only maps its result to an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, f := range []string{"profile", "config", "mount", "role", "type", "ttl", "role-arn",
		"role-session-name", "mfa-code", "timeout", "retries", "cache-dir", "refresh-window"} {
		fs.String(f, "", "")
	}
	for _, f := range []string{"debug", "version", "no-cache"} {
		fs.Bool(f, false, "")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return process.ExitOK
		}
		return report(stderr, &config.Error{Msg: err.Error(), Hint: "run " + name + " -h for usage"})
	}
	flags := map[string]string{}
	fs.Visit(func(f *flag.Flag) { flags[f.Name] = f.Value.String() })

	if flags["version"] == "true" || (fs.NArg() == 1 && fs.Arg(0) == "version") {
		fmt.Fprintln(stdout, versionString())
		return process.ExitOK
	}
	if fs.NArg() > 0 {
		return report(stderr, &config.Error{Msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0)),
			Hint: "run " + name + " -h for usage"})
	}

	debug := false // set once the settings are resolved
	debugf := func(format string, args ...any) {
		if debug {
			fmt.Fprintf(stderr, name+": debug: "+format+"\n", args...)
		}
	}

	file, err := loadConfig(flags, getenv)
	if err != nil {
		return report(stderr, err)
	}
	settings, err := config.Resolve(config.Inputs{Flags: flags, Getenv: getenv, File: file})
	if err != nil {
		return report(stderr, err)
	}
	debug = settings.Debug
	if file.Path != "" {
		debugf("configuration file %s", file.Path)
	}

	ctx, cancel := context.WithTimeout(ctx, settings.Timeout)
	defer cancel()
	r := &process.Runner{
		Settings: settings,
		Now:      time.Now,
		Debugf:   debugf,
		Warnf: func(format string, args ...any) {
			fmt.Fprintf(stderr, name+": warning: "+format+"\n", args...)
		},
		NewSource: func() (process.Source, error) {
			return process.NewVault(settings, time.Now, debugf)
		},
	}
	creds, source, err := r.Credentials(ctx)
	if err != nil {
		return report(stderr, err)
	}
	doc, err := creds.Marshal()
	if err != nil {
		return report(stderr, fmt.Errorf("encode the credential document: %w", err))
	}
	debugf("credentials from %s, expiring %s", source, creds.Expiration.UTC().Format(time.RFC3339))
	if _, err := stdout.Write(doc); err != nil {
		return report(stderr, fmt.Errorf("write the credential document: %w", err))
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
// returns the exit status it calls for.
func report(stderr io.Writer, err error) int {
	code, hint := process.ExitFailure, ""
	var ce *config.Error
	var pe *process.Error
	switch {
	case errors.As(err, &ce):
		code, hint = process.ExitUsage, ce.Hint
	case errors.As(err, &pe):
		code, hint = pe.Code, pe.Hint
	}
	fmt.Fprintf(stderr, "%s: error: %s\n", name, oneLine(err.Error()))
	if hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", hint)
	}
	return code
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// versionString is the stamped version, else what the Go toolchain recorded
// (module version and VCS revision), so `go install` builds say something.
func versionString() string {
	v, rev := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
		if rev != "" {
			return fmt.Sprintf("%s %s (%s, %s)", name, v, rev, bi.GoVersion)
		}
		return fmt.Sprintf("%s %s (%s)", name, v, bi.GoVersion)
	}
	if v == "" {
		v = "unknown"
	}
	return name + " " + v
}

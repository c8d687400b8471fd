package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/awsconfig"
)

const awsConfigUsage = `Usage:
  vault-credential-process aws-config --profile NAME [--aws-profile NAME] [--write [--force]]

Prints the AWS config section for a profile of the helper's configuration
file, with the absolute path of this binary in credential_process, written
so that every major AWS client on this system runs it: on Unix blanks and
other special characters are escaped with a backslash, on Windows a path
with blanks is double-quoted. A path that no form suits for every client
(on Windows, one with blanks) gets a warning; one with a line break is not
written.

With --write it adds the section to the AWS config file (AWS_CONFIG_FILE,
else ~/.aws/config) atomically, leaving other profiles and comments as they
are. An existing profile of that name with another credential_process is
left alone unless --force, which replaces only its credential_process line.

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

// The flags aws-config shares with the settings table.
var (
	profileFlag = config.IDProfile.Setting().Name
	configFlag  = config.IDConfig.Setting().Name
)

func (c *cli) awsConfig(args []string) int {
	// --profile and --config are the settings of the table; the rest are
	// this command's own.
	fs := flagSet("aws-config", false, config.IDProfile, config.IDConfig)
	awsProfile := fs.String("aws-profile", "", "")
	write := fs.Bool("write", false, "")
	force := fs.Bool("force", false, "")
	flags, code, done := c.parseCommand(fs, args, "aws-config", awsConfigUsage, false)
	if done {
		return code
	}
	profile := flags[profileFlag]
	if profile == "" {
		return c.report(&config.Error{Msg: "aws-config: no --profile given",
			Hint: "name a [profiles.NAME] table of the configuration file with --profile"})
	}
	if *force && !*write {
		return c.report(usageError("aws-config: --force goes with --write"))
	}
	if *awsProfile == "" {
		*awsProfile = profile
	}
	if strings.ContainsAny(*awsProfile, "[] \t\r\n") {
		return c.report(&config.Error{Source: "--aws-profile", Msg: fmt.Sprintf("invalid AWS profile name %q", *awsProfile),
			Hint: "use a name without spaces or brackets"})
	}
	// The profile must resolve: a stanza for a broken profile would fail at
	// every AWS command.
	settings, err := c.settings(map[string]string{profileFlag: profile, configFlag: flags[configFlag]}, false)
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
	words := []string{self, "--" + profileFlag, profile}
	// A configuration file other than the default one (named by --config or
	// VAULT_CREDENTIAL_PROCESS_CONFIG) goes into the command line: the AWS
	// client's environment may not have the variable.
	if p := settings.ConfigPath; p != "" {
		if def, err := config.DefaultPath(c.getenv); err != nil || def != p {
			if abs, err := filepath.Abs(p); err == nil {
				words = append(words, "--"+configFlag, abs)
			}
		}
	}
	command, warning := awsconfig.CommandLine(runtime.GOOS, words...)
	if warning != nil && warning.BreaksFile && *write {
		// Printing it harms nothing; writing it would spoil the whole file.
		return c.report(&config.Error{Msg: "aws-config: " + warning.String(),
			Hint: "move the binary and the configuration file to folders whose paths have no line break"})
	}
	if warning != nil {
		c.warnf("%s", warning)
	}
	if !*write {
		fmt.Fprint(c.stdout, awsconfig.Stanza(*awsProfile, command))
		return exitOK
	}
	return c.writeAWSConfig(*awsProfile, command, *force)
}

// writeAWSConfig writes the profile into the AWS config file. The refusal
// of an existing profile is worded here: its hint names this command's flags.
func (c *cli) writeAWSConfig(awsProfile, command string, force bool) int {
	path, err := awsconfig.Path(c.getenv)
	if err != nil {
		return c.report(fmt.Errorf("aws-config: find the AWS config file: %w", err))
	}
	file, changed, err := awsconfig.WriteProfile(path, awsProfile, command, force)
	switch {
	case errors.Is(err, awsconfig.ErrProfileExists):
		return c.report(&config.Error{Source: file,
			Msg:  fmt.Sprintf("profile %q exists with another credential_process (or none)", awsProfile),
			Hint: "pass --force to set its credential_process line (its other settings stay), or choose --aws-profile"})
	case err != nil:
		return c.report(fmt.Errorf("aws-config: %w", err))
	case !changed:
		fmt.Fprintf(c.stdout, "profile %s in %s already runs this helper\n", awsProfile, file)
	default:
		fmt.Fprintf(c.stdout, "wrote profile %s to %s\n", awsProfile, file)
	}
	return exitOK
}

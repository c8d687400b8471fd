package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/awsconfig"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const awsConfigUsage = `Usage:
  vault-credential-process aws-config --profile NAME [--aws-profile NAME] [--write [--force]]
  vault-credential-process aws-config --all [--name TEMPLATE] [--region REGION] [--write] [--prune]

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

With --all it lists the AWS secrets engines the Vault token can see and, in
each, the roles and static roles the token may list, and makes one profile
per role (per ARN for an assumed_role role with several role_arns, named
with the ARN's role name as a suffix), each under a comment line that marks
it as managed. It prints the change to the AWS config file as a unified
diff; --write makes it: new profiles are appended, managed ones updated in
place, every other line kept byte for byte. A managed profile whose role is
gone is removed only with --prune, and only when its mount was listed
completely. What the token may not list or read is reported on stderr with
the policy capability it lacks; the rest is still done. Any other failure
(Vault down, the deadline) changes nothing.

Flags:
  --profile NAME       the helper's profile ([profiles.NAME])
  --aws-profile NAME   the AWS profile to write (default: the same name)
  --config PATH        the helper's configuration file
  --write              write into the AWS config file instead of printing
  --force              with --write, replace another credential_process
  --all                a profile for every role the Vault token can list
  --name TEMPLATE      with --all, the profile names: {mount} and {role} are
                       replaced, / and other characters that are not letters,
                       digits, '_', '.' or '-' become '-' (default "{mount}-{role}")
  --region REGION      with --all, the region of every profile
  --prune              with --all, remove managed profiles whose role is gone
  --timeout DURATION   with --all, limit for the whole listing (default 30s)
  --debug              log each Vault request to stderr

Examples:
  vault-credential-process aws-config --profile dev
  vault-credential-process aws-config --profile dev --write
  vault-credential-process aws-config --all --region eu-west-1
  vault-credential-process aws-config --all --write --prune
`

// The flags aws-config shares with the settings table.
var (
	profileFlag = config.IDProfile.Setting().Name
	configFlag  = config.IDConfig.Setting().Name
)

func (c *cli) awsConfig(ctx context.Context, args []string) int {
	// --profile, --config, --timeout and --debug are the settings of the
	// table; the rest are this command's own.
	fs := flagSet("aws-config", false, config.IDProfile, config.IDConfig, config.IDTimeout, config.IDDebug)
	awsProfile := fs.String("aws-profile", "", "")
	write := fs.Bool("write", false, "")
	force := fs.Bool("force", false, "")
	var all allOptions
	fs.BoolVar(&all.all, "all", false, "")
	fs.StringVar(&all.name, "name", "", "")
	fs.StringVar(&all.region, "region", "", "")
	fs.BoolVar(&all.prune, "prune", false, "")
	flags, code, done := c.parseCommand(fs, args, "aws-config", awsConfigUsage, false)
	if done {
		return code
	}
	if all.all {
		if *awsProfile != "" || *force || flags[profileFlag] != "" {
			return c.report(usageError("aws-config: --all makes every profile: it takes no --profile, --aws-profile or --force"))
		}
		all.write = *write
		return c.awsConfigAll(ctx, flags, all)
	}
	if all.name != "" || all.region != "" || all.prune {
		return c.report(usageError("aws-config: --name, --region and --prune go with --all"))
	}
	profile := flags[profileFlag]
	if profile == "" {
		return c.report(&config.Error{Msg: "aws-config: no --profile given",
			Hint: "name a [profiles.NAME] table of the configuration file with --profile, or pass --all for every role the Vault token can list"})
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
	settings, err := c.settings(settingFlags(flags, config.IDProfile, config.IDConfig, config.IDTimeout, config.IDDebug), false)
	if err != nil {
		return c.report(err)
	}
	self, configWords, err := c.helperWords(settings)
	if err != nil {
		return c.report(err)
	}
	words := append([]string{self, "--" + profileFlag, profile}, configWords...)
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
		return process.ExitOK
	}
	return c.writeAWSConfig(*awsProfile, command, *force)
}

// settingFlags are the flags of the settings ids among flags, which also
// hold the command's own.
func settingFlags(flags map[string]string, ids ...config.ID) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		if v, ok := flags[id.Setting().Name]; ok {
			out[id.Setting().Name] = v
		}
	}
	return out
}

// helperWords are the words of a credential_process line that run this
// binary: its absolute path, and the configuration file when it is not the
// default one (named by --config or VAULT_CREDENTIAL_PROCESS_CONFIG), since
// the AWS client's environment may not have the variable.
func (c *cli) helperWords(s *config.Settings) (self string, configWords []string, err error) {
	self, err = os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return "", nil, fmt.Errorf("aws-config: find this binary's path: %w", err)
	}
	if p := s.ConfigPath; p != "" {
		if def, err := config.DefaultPath(c.getenv); err != nil || def != p {
			if abs, err := filepath.Abs(p); err == nil {
				configWords = []string{"--" + configFlag, abs}
			}
		}
	}
	return self, configWords, nil
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
	return process.ExitOK
}

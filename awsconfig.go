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
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/process"
)

func (c *cli) awsConfig(ctx context.Context, args []string) int {
	// --profile, --config, --timeout and --debug are settings of the
	// table; the rest are this command's own.
	var awsProfile string
	var write, force bool
	var all allOptions
	fs := newFlagSet(cmdspec.AWSConfig)
	fs.stringVar(&awsProfile, &cmdspec.AWSConfigAWSProfile)
	fs.boolVar(&write, &cmdspec.AWSConfigWrite)
	fs.boolVar(&force, &cmdspec.AWSConfigForce)
	fs.boolVar(&all.all, &cmdspec.AWSConfigAll)
	fs.stringVar(&all.name, &cmdspec.AWSConfigName)
	fs.stringVar(&all.region, &cmdspec.AWSConfigRegion)
	fs.boolVar(&all.prune, &cmdspec.AWSConfigPrune)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	flags := &fs.settings
	if all.all {
		if awsProfile != "" || force || flags[config.IDProfile] != "" {
			return c.report(usageError("aws-config: --all makes every profile: it takes no --profile, --aws-profile or --force"))
		}
		all.write = write
		return c.awsConfigAll(ctx, flags, all)
	}
	if all.name != "" || all.region != "" || all.prune {
		return c.report(usageError("aws-config: --name, --region and --prune go with --all"))
	}
	profile := flags[config.IDProfile]
	if profile == "" {
		return c.report(&config.Error{Msg: "aws-config: no --profile given",
			Hint: "name a [profiles.NAME] table of the configuration file with --profile, or pass --all for every role the Vault token can list"})
	}
	if force && !write {
		return c.report(usageError("aws-config: --force goes with --write"))
	}
	if awsProfile == "" {
		awsProfile = profile
	}
	if strings.ContainsAny(awsProfile, "[] \t\r\n") {
		return c.report(&config.Error{Source: "--aws-profile", Msg: fmt.Sprintf("invalid AWS profile name %q", awsProfile),
			Hint: "use a name without spaces or brackets"})
	}
	// The profile must resolve: a stanza for a broken profile would fail at
	// every AWS command.
	settings, err := c.settings(flags, false)
	if err != nil {
		return c.report(err)
	}
	self, configWords, err := c.helperWords(settings)
	if err != nil {
		return c.report(err)
	}
	words := append([]string{self, "--" + config.IDProfile.Setting().Name, profile}, configWords...)
	command, warning := awsconfig.CommandLine(runtime.GOOS, words...)
	if warning != nil && warning.BreaksFile && write {
		// Printing it harms nothing; writing it would spoil the whole file.
		return c.report(&config.Error{Msg: "aws-config: " + warning.String(),
			Hint: "move the binary and the configuration file to folders whose paths have no line break"})
	}
	if warning != nil {
		c.warnf("%s", warning)
	}
	if !write {
		fmt.Fprint(c.stdout, awsconfig.Stanza(awsProfile, command))
		return process.ExitOK
	}
	return c.writeAWSConfig(awsProfile, command, force)
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
				configWords = []string{"--" + config.IDConfig.Setting().Name, abs}
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

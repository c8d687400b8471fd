package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// The scripts are rendered from the command and settings tables by the
// tests (completion_model_test.go), which fail when completion_generated.go
// is out of date; this regenerates it. Rendering them here would link
// text/template, whose reflection keeps every method of every type in the
// binary: 2 MB more, and slower start-up on every cache hit.
//go:generate go test -short -run ^TestCompletionGenerated$ -update-completion .

const completionUsage = `Usage:
  vault-credential-process completion bash|zsh|fish|powershell
  vault-credential-process completion profiles [--config PATH]

Prints a script that completes the commands and flags of
vault-credential-process in that shell, and flag values: --type and
--format values, file names for paths, and for --profile the profiles of
the configuration file (the scripts ask "completion profiles", which prints
them one a line). The script is made from this version's own commands and
flags, so it matches the binary that printed it.

Install (the bash, zsh and PowerShell lines go in ~/.bashrc, ~/.zshrc after
compinit, and $PROFILE; they load this version's script at each start):
  bash        source <(vault-credential-process completion bash)
  zsh         source <(vault-credential-process completion zsh)
  fish        vault-credential-process completion fish > ~/.config/fish/completions/vault-credential-process.fish
  powershell  vault-credential-process completion powershell | Out-String | Invoke-Expression

Examples:
  vault-credential-process completion bash > /etc/bash_completion.d/vault-credential-process
  vault-credential-process completion profiles --config ./config.toml
`

func (c *cli) completion(_ context.Context, args []string) int {
	if len(args) == 0 || isHelp(args[0]) {
		return c.helpText(completionUsage)
	}
	if args[0] == "profiles" {
		return c.completionProfiles(args[1:])
	}
	script, ok := completionScripts[args[0]]
	switch {
	case !ok:
		return c.report(usageError(fmt.Sprintf("completion: unknown shell %q (bash, zsh, fish or powershell)", args[0])))
	case len(args) > 1:
		return c.report(usageError(fmt.Sprintf("completion %s: unexpected argument %q", args[0], args[1])))
	}
	io.WriteString(c.stdout, script)
	return process.ExitOK
}

// completionProfiles prints the profile names of the configuration file,
// sorted, one a line, for the scripts to offer after --profile. A name a
// shell could not take as one word (a blank or a control character in it)
// is left out.
func (c *cli) completionProfiles(args []string) int {
	fs := flagSet("completion profiles", false, config.IDConfig)
	flags, code, done := c.parseCommand(fs, args, "completion profiles", completionUsage, false)
	if done {
		return code
	}
	file, err := loadConfig(flags, c.getenv)
	if err != nil {
		return c.report(err)
	}
	var names []string
	for p := range file.Profiles {
		if p != "" && !strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		fmt.Fprintln(c.stdout, p)
	}
	return process.ExitOK
}

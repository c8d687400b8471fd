package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// The scripts (completion_generated.go) and the man page are rendered
// from the command table (internal/cmdspec) by its generator, whose test
// fails when either is out of date. Rendering them here would link
// text/template, whose reflection keeps every method of every type in the
// binary: 2 MB more, and slower start-up on every cache hit.
//go:generate go run ./internal/cmdspec/gen

func (c *cli) completion(ctx context.Context, args []string) int {
	if code, ok := c.subcommand(ctx, cmdspec.Completion, args); ok {
		return code
	}
	script, ok := shellScript(args[0])
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
func (c *cli) completionProfiles(_ context.Context, args []string) int {
	fs := newFlagSet(cmdspec.CompletionProfiles)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	file, err := loadConfig(&fs.settings, c.getenv)
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

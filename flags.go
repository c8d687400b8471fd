package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Each command's flags are declared once, in cmdspec.Table; here they are
// registered from it, parsed, and -h answered with the usage it renders.

// flagSet is the flag set of a command line, registered from its
// declaration in cmdspec.Table. The settings it takes are written into
// settings, by config.ID; the command binds its own flags to typed
// variables (boolVar, stringVar, listVar) before parse.
type flagSet struct {
	*flag.FlagSet
	id       cmdspec.ID
	settings config.Flags
}

// newFlagSet registers the settings the command line id takes.
func newFlagSet(id cmdspec.ID) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(cmp.Or(id.Path(), name), flag.ContinueOnError), id: id}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for f := range id.All() {
		if f.IsSetting {
			fs.Var(settingValue{p: &fs.settings[f.Setting], isBool: f.Kind == cmdspec.KindBool}, f.Name, f.Help)
		}
	}
	return fs
}

// boolVar, stringVar and listVar bind the command's own flag f to p, whose
// value is the flag's default.
func (fs *flagSet) boolVar(p *bool, f *cmdspec.Flag) {
	fs.own(f, cmdspec.KindBool)
	fs.BoolVar(p, f.Name, *p, f.Help)
}

func (fs *flagSet) stringVar(p *string, f *cmdspec.Flag) {
	fs.own(f, cmdspec.KindString)
	fs.StringVar(p, f.Name, *p, f.Help)
}

func (fs *flagSet) listVar(p *[]string, f *cmdspec.Flag) {
	fs.own(f, cmdspec.KindList)
	fs.Var((*listFlag)(p), f.Name, f.Help)
}

// own panics unless f is a flag of kind k that the command declares: a
// mistake in this program, which the first -h of the command shows.
func (fs *flagSet) own(f *cmdspec.Flag, k cmdspec.Kind) {
	if f.Kind != k || !slices.Contains(cmdspec.Table[fs.id].Flags, f) {
		panic(fmt.Sprintf("--%s is not a flag of kind %d of %q", f.Name, k, fs.id.Path()))
	}
}

// parse parses args. help reports -h. Every flag the command declares
// must be bound by now (a mistake in this program otherwise).
func (fs *flagSet) parse(args []string) (help bool, err error) {
	for _, f := range cmdspec.Table[fs.id].Flags {
		own := f.Kind == cmdspec.KindBool || f.Kind == cmdspec.KindString || f.Kind == cmdspec.KindList
		if own && fs.Lookup(f.Name) == nil {
			panic(fmt.Sprintf("--%s of %q is declared but not bound", f.Name, fs.id.Path()))
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, unknownFlag(fs.FlagSet, args, err)
	}
	return false, nil
}

// settingValue is the flag of a setting: its text goes to the setting's
// slot of config.Flags; a boolean's as strconv writes it, as Resolve
// reads it.
type settingValue struct {
	p      *string
	isBool bool
}

func (v settingValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v settingValue) Set(s string) error {
	if v.isBool {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		s = strconv.FormatBool(b)
	}
	*v.p = s
	return nil
}

func (v settingValue) IsBoolFlag() bool { return v.isBool }

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseCommand parses the arguments of the command line fs is for. done
// is true when the command is over: its usage was printed, or a usage
// error reported, and code is the exit status. Words after the flags are
// refused unless the command takes some.
func (c *cli) parseCommand(fs *flagSet, args []string) (code int, done bool) {
	help, err := fs.parse(args)
	id := fs.id
	switch {
	case help:
		return c.helpText(id), true
	case err != nil:
		return c.report(err), true
	case !id.TakesArgs() && fs.NArg() > 0 && id == cmdspec.Default && len(args) > 0 && args[0] == fs.Arg(0):
		// The default command takes no argument: a first word that is not a
		// flag was meant as a command.
		return c.report(unknownCommand("", fs.Arg(0))), true
	case !id.TakesArgs() && fs.NArg() > 0:
		prefix := ""
		if id != cmdspec.Default {
			prefix = id.Path() + ": "
		}
		return c.report(usageError(fmt.Sprintf("%sunexpected argument %q", prefix, fs.Arg(0)))), true
	}
	return process.ExitOK, false
}

// Package cmdspec is the command line as data: each command's name,
// synopsis, description, flags, arguments and examples, declared once in
// Table. The command layer registers each command's flags and prints its
// -h from it; the generator (internal/cmdspec/gen) makes the shell
// completion scripts and the man page from it; tests compare the
// documentation with it. The request flags are not repeated here: they are
// the rows of config.Table that have a flag.
//
// Table is static data (no code runs to build it), and -h is rendered only
// when asked, so a run that only prints credentials pays nothing for it.
package cmdspec

import (
	"iter"
	"slices"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// Program is the binary's name, as the usage texts write it.
const Program = "vault-credential-process"

// ID names a command line of Table: the default command, a command, or a
// subcommand (cache list).
type ID uint8

// The command lines, in the order the usage lists them; a subcommand
// follows its parent.
const (
	Default ID = iota // no command: the credential_process document
	Env
	Exec
	Serve
	PodAgent
	Cache
	CacheList
	CacheClear
	Doctor
	AWSConfig
	Login
	Completion
	CompletionProfiles
	Version
	Help
	// NumIDs is the number of command lines: an array indexed by ID has
	// this length.
	NumIDs
)

// Command is one command line: the words that select it, what -h says
// about it, and what it takes.
type Command struct {
	// Name is the word that selects the command after its parent's:
	// "env", "list" (of cache); "" for Default.
	Name string
	// Parent is the command whose word comes first (Cache for list);
	// Default for a command of its own.
	Parent ID
	// Synopsis are the usage lines after the program's name, each in full
	// ("cache list [--json]"). A line break in one starts a continuation
	// line, indented under the first flag.
	Synopsis []string
	// Text are the paragraphs of -h before the flags, each with its own
	// line breaks. A line that starts with two spaces is shown as it is
	// (the man page does not fill it).
	Text []string
	// Flags are the flags in the order -h lists them: the command's own,
	// settings of config.Table (KindSetting), the request flags (an entry
	// of KindRequest) and -h (KindHelp, listed on the main usage only).
	Flags []*Flag
	// Notes are paragraphs of -h after the flags.
	Notes []string
	// Args are the words the command takes after its flags.
	Args Args
	// Words are fixed words that may follow the command instead of a
	// subcommand, each taking no flags: completion's shells.
	Words []string
	// Examples are the lines of -h's Examples; "#" starts a comment.
	Examples []string
}

// Args is what a command takes after its flags.
type Args uint8

// The kinds of arguments.
const (
	NoArgs      Args = iota
	Profiles         // [PROFILE...]: profiles of the configuration file
	Run              // -- COMMAND [ARGS...]: a program to run, and its arguments
	CommandName      // [COMMAND]: a command of Table
)

// Kind is what a Flag entry is: a flag of the command's own, with its kind
// of value, or a reference to flags declared elsewhere.
type Kind uint8

// The kinds of flag entries.
const (
	KindBool   Kind = iota // --name, or --name=false
	KindString             // --name VALUE
	KindList               // --name VALUE, repeatable
	// KindSetting is the flag of config.Table's row Flag.Setting: its name,
	// placeholder, kind and default come from the row; Help, when set,
	// replaces the row's Usage.
	KindSetting
	// KindRequest stands for every request flag: the rows of config.Table
	// with Flag set, in Table's order.
	KindRequest
	// KindHelp is -h and --help, which every command takes: the flag package
	// answers them itself, so they are never registered.
	KindHelp
)

// Flag is one flag of a command.
type Flag struct {
	// Name is the flag's name without dashes ("token-file").
	Name string
	// Short is a one-letter name that -h lists too ("h").
	Short string
	Kind  Kind
	// Placeholder, Help and Default make the flag's line of -h:
	// "--Name Placeholder   Help (default Default)". A line break in Help
	// starts a continuation line.
	Placeholder, Help, Default string
	// What the value is, for completion: a file or folder, a profile of
	// the configuration file, the configuration file itself, or one of
	// Values.
	Path, Profile, ConfigFile bool
	Values                    []string
	// Setting is the row of config.Table the flag sets: declared for
	// KindSetting; in a resolved flag (Command.All), valid when IsSetting.
	Setting   config.ID
	IsSetting bool
}

// Lookup is the command that word selects under parent (Default for a
// command of its own).
func Lookup(parent ID, word string) (ID, bool) {
	for id := range NumIDs {
		if c := &Table[id]; id != Default && c.Parent == parent && c.Name == word {
			return id, true
		}
	}
	return 0, false
}

// Path is the command line's words after the program: "cache list"; ""
// for Default.
func (id ID) Path() string {
	c := &Table[id]
	if c.Parent == Default {
		return c.Name
	}
	return Table[c.Parent].Name + " " + c.Name
}

// Subs are the subcommands of id, in Table's order.
func (id ID) Subs() []ID {
	var subs []ID
	for sub := range NumIDs {
		if sub != Default && Table[sub].Parent == id {
			subs = append(subs, sub)
		}
	}
	return subs
}

// Page is the command whose -h id prints: a subcommand's is its parent's,
// which shows every subcommand; help's is the main usage.
func (id ID) Page() ID {
	switch {
	case id == Help:
		return Default
	case Table[id].Parent != Default:
		return Table[id].Parent
	}
	return id
}

// TakesArgs says whether the command takes words after its flags.
func (id ID) TakesArgs() bool { return Table[id].Args != NoArgs }

// All yields the flags of the command line as it parses them, resolved:
// settings and request flags with what config.Table says of them, -h
// left out. It allocates nothing, so that registering the default
// command's flags costs no more than the flags themselves.
func (id ID) All() iter.Seq[Flag] { return id.flags(false) }

// Listed yields the flags as the command's usage lists them: All, with -h
// where the command lists it.
func (id ID) Listed() iter.Seq[Flag] { return id.flags(true) }

func (id ID) flags(listed bool) iter.Seq[Flag] {
	return func(yield func(Flag) bool) {
		for _, f := range Table[id].Flags {
			if f.Kind == KindHelp && !listed {
				continue
			}
			for rf := range f.Resolved() {
				if !yield(rf) {
					return
				}
			}
		}
	}
}

// Resolved yields the flags the entry f stands for: f itself, the flag of
// its setting, or every request flag (the rows of config.Table with Flag,
// in Table's order).
func (f *Flag) Resolved() iter.Seq[Flag] {
	return func(yield func(Flag) bool) {
		switch f.Kind {
		case KindRequest:
			for sid := range config.ID(len(config.Table)) {
				if sid.Setting().Flag && !yield(setting(sid, "")) {
					return
				}
			}
		case KindSetting:
			yield(setting(f.Setting, f.Help))
		default:
			yield(*f)
		}
	}
}

// TakesRequest says whether the command takes the request flags.
func (id ID) TakesRequest() bool {
	return slices.ContainsFunc(Table[id].Flags, func(f *Flag) bool { return f.Kind == KindRequest })
}

// setting is the flag of config.Table's row id, with help in place of the
// row's Usage when not "".
func setting(id config.ID, help string) Flag {
	s := id.Setting()
	f := Flag{Name: s.Name, Kind: KindString, Placeholder: s.Placeholder, Help: s.Usage, Default: s.Default,
		Setting: id, IsSetting: true, Values: settingValues[id]}
	if s.Kind == config.KindBool {
		f.Kind = KindBool
	}
	if help != "" {
		f.Help = help
	}
	switch id {
	case config.IDConfig:
		f.Path, f.ConfigFile = true, true
	case config.IDCacheDir, config.IDAuditLog:
		f.Path = true
	case config.IDProfile:
		f.Profile = true
	}
	return f
}

// settingValues are the values of the settings that take one of a few.
var settingValues = [len(config.Table)][]string{
	config.IDType: {config.TypeIAMUser, config.TypeAssumedRole, config.TypeFederationToken,
		config.TypeSessionToken, config.TypeStatic},
}

// Commands are the command lines of Table but the default command, in
// Table's order.
func Commands() []ID {
	ids := make([]ID, 0, NumIDs-1)
	for id := Default + 1; id < NumIDs; id++ {
		ids = append(ids, id)
	}
	return ids
}

// Names are the names of the commands of their own (not subcommands), in
// Table's order: what may follow the program's name.
func Names() []string {
	var names []string
	for _, id := range Default.Subs() {
		names = append(names, Table[id].Name)
	}
	return names
}

// FlagNames are the names (without dashes) of every flag any command line
// takes, the request flags and -h's "help" included, once each, sorted:
// what the documentation must mention.
func FlagNames() []string {
	var names []string
	for id := range NumIDs {
		for f := range id.All() {
			names = append(names, f.Name)
		}
	}
	names = append(names, "help")
	slices.Sort(names)
	return slices.Compact(names)
}

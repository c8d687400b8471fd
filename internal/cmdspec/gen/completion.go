package main

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"slices"
	"strings"
	"text/template"

	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
)

// templates are the completion scripts, one per shell: which words are
// commands, flags and values is data from the model, and each script only
// knows how its shell completes.
//
//go:embed templates/*.tmpl
var templates embed.FS

// model is what every completion script is made from: the command table's
// names and subcommands, the flags of each command line, and what their
// values are.
type model struct {
	Program, Func string
	Commands      []string
	Subs          []subs
	Paths         []path
	Exec          []string // commands that run a COMMAND given after --
	Values        []values
	Files         []string // flags whose value is a path
	Profile       string   // the flag whose value is a profile of the file
	Config        string   // the flag that names the configuration file
}

// subs are the words that may follow a command: cache's list and clear,
// completion's shells and profiles, help's command names.
type subs struct {
	Cmd   string
	Words []string
}

// path is a command line: "" (the default command), "env", "cache list",
// with the flags it takes and those of them that take a value.
type path struct {
	Path          string
	Flags, Valued []string
}

// values are the fixed values of a flag.
type values struct {
	Flag  string
	Words []string
}

// newModel makes the model from cmdspec.Table. A flag name must complete
// the same values everywhere (the scripts complete a value by the flag's
// name alone), or it is an error.
func newModel() (*model, error) {
	m := &model{Program: cmdspec.Program, Func: strings.ReplaceAll(cmdspec.Program, "-", "_")}
	m.Paths = append(m.Paths, flagsOf(cmdspec.Default))
	for _, id := range cmdspec.Default.Subs() {
		c := &cmdspec.Table[id]
		m.Commands = append(m.Commands, c.Name)
		if c.Args == cmdspec.Run {
			m.Exec = append(m.Exec, c.Name)
		}
		words := slices.Clone(c.Words)
		if c.Args == cmdspec.CommandName { // help COMMAND prints that command's usage
			words = append(words, cmdspec.Names()...)
		}
		for _, sub := range id.Subs() {
			words = append(words, cmdspec.Table[sub].Name)
		}
		if len(words) == 0 {
			m.Paths = append(m.Paths, flagsOf(id))
			continue
		}
		m.Subs = append(m.Subs, subs{Cmd: c.Name, Words: words})
		for _, w := range words {
			p := path{Path: c.Name + " " + w}
			if sub, ok := cmdspec.Lookup(id, w); ok {
				p = flagsOf(sub)
			}
			m.Paths = append(m.Paths, p)
		}
	}
	if err := m.addValues(); err != nil {
		return nil, err
	}
	return m, nil
}

// flagsOf is the command line id with its flags, -h's --help last.
func flagsOf(id cmdspec.ID) path {
	p := path{Path: id.Path()}
	for f := range id.All() {
		p.Flags = append(p.Flags, "--"+f.Name)
		if f.Kind != cmdspec.KindBool {
			p.Valued = append(p.Valued, "--"+f.Name)
		}
	}
	p.Flags = append(p.Flags, "--help")
	return p
}

// addValues finds what the value of each flag is: a path, a profile, the
// configuration file, or one of a few words.
func (m *model) addValues() error {
	seen := map[string]cmdspec.Flag{}
	for id := range cmdspec.NumIDs {
		for f := range id.All() {
			flag := "--" + f.Name
			if other, ok := seen[f.Name]; ok {
				if other.Path != f.Path || other.Profile != f.Profile || !slices.Equal(other.Values, f.Values) {
					return fmt.Errorf("%s of %q completes other values than elsewhere", flag, id.Path())
				}
				continue
			}
			seen[f.Name] = f
			switch {
			case f.Profile:
				m.Profile = flag
			case f.Path:
				m.Files = append(m.Files, flag)
			case len(f.Values) > 0:
				m.Values = append(m.Values, values{Flag: flag, Words: f.Values})
			}
			if f.ConfigFile {
				m.Config = flag
			}
		}
	}
	if m.Profile == "" || m.Config == "" {
		return fmt.Errorf("no flag names a profile (%q) or the configuration file (%q)", m.Profile, m.Config)
	}
	return nil
}

// FishValue is what fish's complete needs after -l for flag of p: nothing
// for a boolean flag; -x (a value, no file names) with the values offered,
// or -r -F for a path.
func (m *model) FishValue(p path, flag string) string {
	switch {
	case !slices.Contains(p.Valued, flag):
		return ""
	case slices.Contains(m.Files, flag):
		return " -r -F"
	case flag == m.Profile:
		return " -x -a '(__" + m.Func + "_profiles)'"
	}
	for _, v := range m.Values {
		if v.Flag == flag {
			return " -x -a '" + strings.Join(v.Words, " ") + "'"
		}
	}
	return " -x"
}

var funcs = template.FuncMap{
	"join":  strings.Join,
	"words": func(s []string) string { return strings.Join(s, " ") },
	"long":  func(flag string) string { return strings.TrimPrefix(flag, "--") },
	"quoted": func(s []string) string {
		q := make([]string, len(s))
		for i, w := range s {
			q[i] = "'" + w + "'"
		}
		return strings.Join(q, ", ")
	},
}

// scripts renders every shell's script, by shell.
func scripts(m *model) (map[string]string, error) {
	out := map[string]string{}
	for _, shell := range cmdspec.Table[cmdspec.Completion].Words {
		text, err := templates.ReadFile("templates/" + shell + ".tmpl")
		if err != nil {
			return nil, fmt.Errorf("no template for the %s script: %w", shell, err)
		}
		t, err := template.New(shell).Funcs(funcs).Parse(string(text))
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, m); err != nil {
			return nil, fmt.Errorf("render the %s script: %w", shell, err)
		}
		out[shell] = b.String()
	}
	return out, nil
}

// completionSource is completion_generated.go: the scripts in a switch,
// which, unlike a map, costs the binary's start-up nothing.
func completionSource(scripts map[string]string) ([]byte, error) {
	var b strings.Builder
	b.WriteString("// Code generated by internal/cmdspec/gen (go generate); DO NOT EDIT.\n" +
		"// The completion scripts, rendered from the command table (internal/cmdspec).\n\npackage main\n\n" +
		"// shellScript is the script `completion SHELL` prints for shell.\n" +
		"func shellScript(shell string) (string, bool) {\n\tswitch shell {\n")
	for _, shell := range cmdspec.Table[cmdspec.Completion].Words {
		fmt.Fprintf(&b, "\tcase %q:\n\t\treturn %s, true\n", shell, "`"+strings.ReplaceAll(scripts[shell], "`", "` + \"`\" + `")+"`")
	}
	b.WriteString("\t}\n\treturn \"\", false\n}\n")
	return format.Source([]byte(b.String()))
}

package main

// The model the completion scripts are rendered from, and their rendering:
// test code, so that text/template is not linked into the binary (see
// completion.go). TestCompletionGenerated keeps completion_generated.go
// equal to what these render.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"go/format"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/shellenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// completionTemplates are the templates of the scripts by shell, made from
// a completionModel.
var completionTemplates = map[string]string{
	"bash":       bashCompletion,
	"zsh":        zshCompletion,
	"fish":       fishCompletion,
	"powershell": powershellCompletion,
}

// completionModel is what every script is made from: the command table's
// names and subcommands, the flags each command line accepts (found by
// asking the command itself, see probeFlags), and what their values are.
type completionModel struct {
	Program, Func string
	Commands      []string
	Subs          []completionSubs
	Paths         []completionPath
	Exec          []string // commands that run a COMMAND given after --
	Values        []completionValues
	Files         []string // flags whose value is a path
	Profile       string   // the flag whose value is a profile of the file
	Config        string   // the flag that names the configuration file
}

// completionSubs are the words that may follow a command: cache's list and
// clear, completion's shells, help's command names.
type completionSubs struct {
	Cmd   string
	Words []string
}

// completionPath is a command line that takes flags: "" (the default
// command), "env", "cache list", with the flags it accepts and those of
// them that take a value.
type completionPath struct {
	Path          string
	Flags, Valued []string
}

// completionValues are the fixed values of a flag.
type completionValues struct {
	Flag  string
	Words []string
}

// flagValues are the flags whose values are a fixed set: the credential
// types Resolve accepts, the formats env writes.
var flagValues = map[string][]string{
	config.IDType.Setting().Name: {config.TypeIAMUser, config.TypeAssumedRole, config.TypeFederationToken,
		config.TypeSessionToken, config.TypeStatic},
	"format": {shellenv.FormatSh, shellenv.FormatFish, shellenv.FormatPowerShell},
}

// fileSettings are the settings whose value is a file or folder.
var fileSettings = []config.ID{config.IDConfig, config.IDCacheDir, config.IDAuditLog}

func newCompletionModel() *completionModel {
	m := &completionModel{Program: name, Func: strings.ReplaceAll(name, "-", "_"),
		Profile: "--" + config.IDProfile.Setting().Name, Config: "--" + config.IDConfig.Setting().Name}
	candidates := flagCandidates()
	m.Paths = append(m.Paths, completionPath{Path: ""})
	for _, cmd := range commands {
		m.Commands = append(m.Commands, cmd.name)
		words := subwords(cmd)
		if cmd.name == "help" { // help COMMAND prints that command's usage
			words = nil
			for _, other := range commands {
				words = append(words, other.name)
			}
		}
		if len(words) == 0 {
			m.Paths = append(m.Paths, completionPath{Path: cmd.name})
		} else {
			m.Subs = append(m.Subs, completionSubs{Cmd: cmd.name, Words: words})
			for _, w := range words {
				m.Paths = append(m.Paths, completionPath{Path: cmd.name + " " + w})
			}
		}
		if runsCommand(cmd) {
			m.Exec = append(m.Exec, cmd.name)
		}
	}
	for i := range m.Paths {
		m.Paths[i].Flags, m.Paths[i].Valued = probeFlags(strings.Fields(m.Paths[i].Path), candidates)
	}
	for _, f := range candidates {
		if words, ok := flagValues[f]; ok {
			m.Values = append(m.Values, completionValues{Flag: "--" + f, Words: words})
		}
	}
	for _, id := range fileSettings {
		m.Files = append(m.Files, "--"+id.Setting().Name)
	}
	return m
}

// flagWord is a flag as usage texts write it.
// Compiled on first use, not at init: see completionScripts.
var flagWord = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`--([a-z][a-z0-9-]*)`) })

// flagCandidates are the names that may be flags of some command: every
// setting of config.Table, then every --name in a usage text of the
// command table, once each. --help is not one: every command takes it,
// and the flag package answers it for any command.
func flagCandidates() []string {
	var names []string
	for id := range config.Table {
		names = append(names, config.Table[id].Name)
	}
	for _, cmd := range commands {
		for _, m := range flagWord().FindAllStringSubmatch(cmd.usage, -1) {
			names = append(names, m[1])
		}
	}
	var out []string
	for _, n := range names {
		if n != "help" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// synopsis is the Usage section of cmd's usage text: its lines that
// start with the program and cmd's name, before the first blank line.
func synopsis(cmd command) []string {
	section, _, _ := strings.Cut(cmd.usage, "\n\n")
	var lines []string
	for _, l := range strings.Split(section, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, name+" "+cmd.name+" ") || l == name+" "+cmd.name {
			lines = append(lines, strings.TrimPrefix(l, name+" "+cmd.name))
		}
	}
	return lines
}

// subwordsRE is a word the synopsis puts right after a command's name:
// "cache list [...]" gives list; "completion bash|zsh" bash and zsh.
var subwordsRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^ ([a-z][a-z|-]*)`) })

// subwords are the words that may follow cmd, from its synopsis.
func subwords(cmd command) []string {
	var words []string
	for _, l := range synopsis(cmd) {
		if m := subwordsRE().FindStringSubmatch(l); m != nil {
			for _, w := range strings.Split(m[1], "|") {
				if !slices.Contains(words, w) {
					words = append(words, w)
				}
			}
		}
	}
	return words
}

// runsCommand says whether cmd runs a command given after -- (exec).
func runsCommand(cmd command) bool {
	return slices.ContainsFunc(synopsis(cmd), func(l string) bool { return strings.Contains(l, " -- COMMAND") })
}

// probeFlags returns the candidates that the command line path accepts as
// flags, --help included, and those of them that take a value. It asks the
// command itself, in this process, with no environment and its output
// discarded: a known flag given before -h leaves -h to print the usage
// (exit 0), an unknown one is a usage error, and so is the value "x" for a
// boolean flag. A command that accepts a flag it cannot know (help) takes
// no flags.
func probeFlags(path []string, candidates []string) (flags, valued []string) {
	if probe(path, "--completion-probe-not-a-flag=x") {
		return nil, nil
	}
	for _, n := range candidates {
		if probe(path, "--"+n+"=true") {
			flags = append(flags, "--"+n)
			if probe(path, "--"+n+"=x") {
				valued = append(valued, "--"+n)
			}
		}
	}
	return append(flags, "--help"), valued
}

// probe runs path, arg and -h and says whether it printed the usage. Its
// context is cancelled already: -h ends every command before it does any
// work, and should one not, it has no time for any.
func probe(path []string, arg string) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	if len(path) == 0 {
		return c.credentialProcess(ctx, []string{arg, "-h"}) == process.ExitOK
	}
	for _, cmd := range commands {
		if cmd.name == path[0] {
			return cmd.run(c, ctx, append(slices.Clone(path[1:]), arg, "-h")) == process.ExitOK
		}
	}
	return false
}

// FishValue is what fish's complete needs after -l for flag of p: nothing
// for a boolean flag; -x (a value, no file names) with the values offered,
// or -r -F for a path.
func (m *completionModel) FishValue(p completionPath, flag string) string {
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

func newScript(shell, text string) *template.Template {
	return template.Must(template.New(shell).Funcs(template.FuncMap{
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
	}).Parse(text))
}

var updateCompletion = flag.Bool("update-completion", false, "rewrite completion_generated.go from the command and settings tables")

// renderCompletion renders every shell's script from the current tables.
func renderCompletion(t *testing.T) map[string]string {
	t.Helper()
	m := newCompletionModel()
	out := map[string]string{}
	for shell, text := range completionTemplates {
		var b bytes.Buffer
		if err := newScript(shell, text).Execute(&b, m); err != nil {
			t.Fatalf("render the %s script: %v", shell, err)
		}
		out[shell] = b.String()
	}
	return out
}

// TestCompletionGenerated: the scripts the binary prints are what the
// command and settings tables render now, so they never drift. With
// -update-completion (go generate) it rewrites completion_generated.go.
func TestCompletionGenerated(t *testing.T) {
	rendered := renderCompletion(t)
	if *updateCompletion {
		shells := slices.Sorted(maps.Keys(rendered))
		var b strings.Builder
		b.WriteString("// Code generated by go generate; DO NOT EDIT.\n// The completion scripts, rendered from the command and settings tables\n// by completion_model_test.go.\n\npackage main\n\n")
		b.WriteString("// completionScripts are the scripts `completion SHELL` prints.\nvar completionScripts = map[string]string{\n")
		for _, shell := range shells {
			fmt.Fprintf(&b, "\t%q: %s,\n", shell, "`"+strings.ReplaceAll(rendered[shell], "`", "` + \"`\" + `")+"`")
		}
		b.WriteString("}\n")
		src, err := format.Source([]byte(b.String()))
		if err != nil {
			t.Fatalf("format completion_generated.go: %v", err)
		}
		if err := os.WriteFile("completion_generated.go", src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if len(rendered) != len(completionScripts) {
		t.Errorf("the binary has %d scripts, the templates %d: run go generate", len(completionScripts), len(rendered))
	}
	for shell, want := range rendered {
		if completionScripts[shell] != want {
			t.Errorf("the %s script is out of date with the command and settings tables: run `go generate .`", shell)
		}
	}
}

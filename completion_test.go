package main

// Tests of `completion`: the model the scripts are made of against the
// command and settings tables, every script against the model, and bash,
// zsh and fish completing real command lines with the scripts.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestCompletionModel: the default command has every request flag of
// config.Table, with a value unless boolean; the commands' own flags are
// found with theirs; help and the subcommands complete words.
func TestCompletionModel(t *testing.T) {
	m := newCompletionModel()
	paths := map[string]completionPath{}
	for _, p := range m.Paths {
		paths[p.Path] = p
	}
	for id := range config.Table {
		s := &config.Table[id]
		f := "--" + s.Name
		if in := slices.Contains(paths[""].Flags, f); in != s.Flag {
			t.Errorf("default command: %s offered %v, a flag in config.Table %v", f, in, s.Flag)
		}
		if s.Flag && slices.Contains(paths[""].Valued, f) == (s.Kind == config.KindBool) {
			t.Errorf("%s: takes a value %v, KindBool %v", f, !(s.Kind == config.KindBool), s.Kind == config.KindBool)
		}
	}
	for _, tt := range []struct {
		path                  string
		bools, valued, absent []string
	}{
		{"", []string{"--version", "--help", "--debug"}, []string{"--role", "--type"}, []string{"--format", "--json"}},
		{"env", nil, []string{"--format", "--profile"}, []string{"--version", "--json"}},
		{"cache list", []string{"--json"}, []string{"--cache-dir", "--config"}, []string{"--role", "--all"}},
		{"cache clear", []string{"--all", "--revoke"}, []string{"--role"}, []string{"--json"}},
		{"aws-config", []string{"--write", "--force"}, []string{"--aws-profile", "--profile"}, []string{"--role"}},
		{"completion profiles", nil, []string{"--config"}, []string{"--profile"}},
	} {
		p, ok := paths[tt.path]
		if !ok {
			t.Errorf("no command line %q in the model", tt.path)
			continue
		}
		for _, f := range append(slices.Clone(tt.bools), tt.valued...) {
			if !slices.Contains(p.Flags, f) || slices.Contains(p.Valued, f) != slices.Contains(tt.valued, f) {
				t.Errorf("%q: %s offered %v, with a value %v; want offered, value %v", tt.path, f,
					slices.Contains(p.Flags, f), slices.Contains(p.Valued, f), slices.Contains(tt.valued, f))
			}
		}
		for _, f := range tt.absent {
			if slices.Contains(p.Flags, f) {
				t.Errorf("%q offers %s, which it does not take", tt.path, f)
			}
		}
	}
	if got := paths["help env"].Flags; len(got) != 0 {
		t.Errorf("help env offers flags %q", got)
	}
	if !slices.Equal(m.Exec, []string{"exec"}) {
		t.Errorf("commands that run a command after --: %q, want exec", m.Exec)
	}
}

// TestCompletionScriptsCover: each shell's script has every command, every
// subcommand word and, on each command line's own entry, every flag the
// model found for it, so a script cannot fall behind the tables.
func TestCompletionScriptsCover(t *testing.T) {
	m := newCompletionModel()
	for shell := range completionScripts {
		t.Run(shell, func(t *testing.T) {
			script := completionScript(t, shell)
			for _, cmd := range commands {
				assertWord(t, shell, script, cmd.name)
			}
			for _, s := range m.Subs {
				for _, w := range s.Words {
					assertWord(t, shell, script, w)
				}
			}
			for _, v := range m.Values {
				for _, w := range v.Words {
					assertWord(t, shell, script, w)
				}
			}
			for _, p := range m.Paths {
				for _, f := range p.Flags {
					if !hasFlag(shell, script, p.Path, f) {
						t.Errorf("%s: %q lacks %s", shell, p.Path, f)
					}
				}
			}
		})
	}
}

func assertWord(t *testing.T, shell, script, word string) {
	t.Helper()
	if !regexp.MustCompile(`(^|[^a-z_-])` + regexp.QuoteMeta(word) + `($|[^a-z_-])`).MatchString(script) {
		t.Errorf("%s: the script lacks %q", shell, word)
	}
}

// hasFlag finds flag on the line where shell's script lists the flags of
// the command line path.
func hasFlag(shell, script, path, flag string) bool {
	for _, line := range strings.Split(script, "\n") {
		switch shell {
		case "bash", "zsh":
			if strings.Contains(line, `"`+path+`") flags=`) {
				flags, _, _ := strings.Cut(line, " valued=")
				return slices.Contains(strings.Fields(strings.Trim(flags[strings.Index(flags, "=")+1:], `"()`)), flag)
			}
		case "fish":
			if strings.Contains(line, `_is "`+path+`"' -l `+strings.TrimPrefix(flag, "--")) {
				return true
			}
		case "powershell":
			if strings.HasPrefix(strings.TrimSpace(line), "'"+path+"' = @(") {
				return strings.Contains(line, "'"+flag+"'") // the first such line is $flags'
			}
		}
	}
	return false
}

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	r := runInProcess(t, fakeEnv(t, nil), "completion", shell)
	if r.code != process.ExitOK || r.stderr != "" || r.stdout == "" {
		t.Fatalf("completion %s: exit %d, stderr %q", shell, r.code, r.stderr)
	}
	return r.stdout
}

// completionCases are command lines, the last word being completed, and
// what the shell must and must not offer. The program's name is a stub
// in the shell: it prints the profiles dev and prod, and from:PATH when
// given --config PATH.
var completionCases = []struct {
	words     []string
	want, not []string
}{
	{[]string{""}, []string{"env", "exec", "cache", "doctor", "aws-config", "completion", "version", "help"}, []string{"--role"}},
	{[]string{"--ro"}, []string{"--role", "--role-arn", "--role-session-name"}, []string{"--format", "env"}},
	{[]string{"env", "--fo"}, []string{"--format"}, []string{"--role"}},
	{[]string{"env", "--format", ""}, []string{"sh", "fish", "powershell"}, []string{"--role"}},
	{[]string{"--type", "a"}, []string{"assumed_role"}, []string{"iam_user", "--role"}},
	{[]string{"--type=s"}, []string{"session_token", "static"}, []string{"assumed_role"}},
	{[]string{"cache", ""}, []string{"list", "clear"}, []string{"--role"}},
	{[]string{"cache", "list", "--"}, []string{"--json", "--cache-dir", "--config"}, []string{"--role", "--all"}},
	{[]string{"cache", "clear", "--re"}, []string{"--revoke", "--refresh-window"}, []string{"--json"}},
	{[]string{"aws-config", "--w"}, []string{"--write"}, []string{"--role"}},
	{[]string{"--profile", ""}, []string{"dev", "prod"}, []string{"--role", "from:"}},
	{[]string{"--profile", "p"}, []string{"prod"}, []string{"dev"}},
	{[]string{"doctor", "--config", "/etc/vcp.toml", "--profile", ""}, []string{"prod", "from:/etc/vcp.toml"}, nil},
	{[]string{"completion", ""}, []string{"bash", "zsh", "fish", "powershell", "profiles"}, nil},
	{[]string{"help", "c"}, []string{"cache", "completion"}, []string{"env"}},
	{[]string{"env", "--role", ""}, nil, []string{"--role", "--format", "sh"}},
}

// TestCompletionBash: bash, given the script and a command line in
// COMP_WORDS, completes commands, flags and values.
func TestCompletionBash(t *testing.T) {
	testCompletion(t, "bash", func(t *testing.T, script string, words []string) []string {
		// bash splits --flag=value at "=" (COMP_WORDBREAKS)
		var split []string
		for _, w := range words {
			if f, v, ok := strings.Cut(w, "="); ok && strings.HasPrefix(w, "--") {
				split = append(split, f, "=", v)
			} else {
				split = append(split, w)
			}
		}
		return runShell(t, "bash", []string{"--norc", "--noprofile", "-c", `source "$1"; shift
vault-credential-process() { printf '%s\n' dev prod; [[ $3 == --config ]] && printf 'from:%s\n' "$4"; return 0; }
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_vault_credential_process
printf '%s\n' "${COMPREPLY[@]}"`, "bash", script, name}, split...)
	})
}

// TestCompletionZsh: zsh, with compadd and the completion system's other
// functions stubbed (they work only inside a completion widget).
func TestCompletionZsh(t *testing.T) {
	testCompletion(t, "zsh", func(t *testing.T, script string, words []string) []string {
		out := runShell(t, "zsh", []string{"-f", "-c", `
compadd() { while (( $# )) && [[ $1 != -- ]]; do shift; done; (( $# )) && shift; print -rl -- "$@"; }
_files() { print -r -- '<files>'; }
_command_names() { print -r -- '<commands>'; }
compset() { :; }
compdef() { :; }
source "$1"; shift
vault-credential-process() { printf '%s\n' dev prod; [[ $3 == --config ]] && printf 'from:%s\n' "$4"; return 0; }
words=("$@"); CURRENT=$#words
_vault_credential_process`, "zsh", script, name}, words...)
		// compadd keeps only what starts with the word completed; the stub
		// keeps all.
		_, cur, _ := strings.Cut("="+words[len(words)-1], "=")
		if i := strings.Index(cur, "="); i >= 0 {
			cur = cur[i+1:]
		}
		return slices.DeleteFunc(out, func(s string) bool { return !strings.HasPrefix(s, cur) })
	})
}

// TestCompletionFish: fish's own `complete -C` on the command line.
func TestCompletionFish(t *testing.T) {
	testCompletion(t, "fish", func(t *testing.T, script string, words []string) []string {
		out := runShell(t, "fish", []string{"--no-config", "-c", `source $argv[1]
function vault-credential-process; printf '%s\n' dev prod; test "$argv[3]" = --config; and echo "from:$argv[4]"; return 0; end
complete -C "$argv[2]"`, script, strings.Join(append([]string{name}, words...), " ")})
		for i, s := range out {
			s, _, _ = strings.Cut(s, "\t") // a description may follow
			if f, v, ok := strings.Cut(s, "="); ok && strings.HasPrefix(f, "--") {
				s = v // fish offers --type=static for --type=s
			}
			out[i] = s
		}
		return out
	})
}

// testCompletion runs every completionCases line through complete, which
// runs shell with the script, and checks what it offers.
func testCompletion(t *testing.T, shell string, complete func(*testing.T, string, []string) []string) {
	if _, err := exec.LookPath(shell); err != nil {
		unavailable(t, "%s not found: apt-get install %s", shell, shell)
	}
	path := filepath.Join(t.TempDir(), "completion."+shell)
	if err := os.WriteFile(path, []byte(completionScript(t, shell)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range completionCases {
		t.Run(strings.Join(tt.words, " "), func(t *testing.T) {
			got := complete(t, path, tt.words)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s offers %q, want %q among them", shell, got, w)
				}
			}
			for _, w := range tt.not {
				if slices.Contains(got, w) {
					t.Errorf("%s offers %q, not %q", shell, got, w)
				}
			}
		})
	}
}

// runShell runs shell with args, then words, and returns its output lines.
func runShell(t *testing.T, shell string, args []string, words ...string) []string {
	t.Helper()
	cmd := exec.Command(shell, append(args, words...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, out)
	}
	return strings.Fields(string(out))
}

// TestCompletionProfiles: `completion profiles` prints the profiles of the
// file --config names, sorted, leaving out a name no shell takes as one
// word; unknown shells and stray arguments are usage errors.
func TestCompletionProfiles(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	writeFile(t, cfg, "[profiles.prod]\nrole = \"p\"\n[profiles.dev]\nrole = \"d\"\n[profiles.\"two words\"]\nrole = \"x\"\n", 0o600)
	r := runInProcess(t, fakeEnv(t, nil), "completion", "profiles", "--config", cfg)
	if r.code != process.ExitOK || r.stdout != "dev\nprod\n" || r.stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want dev and prod", r.code, r.stdout, r.stderr)
	}
	r = runInProcess(t, fakeEnv(t, map[string]string{config.IDConfig.Setting().Env: cfg}), "completion", "profiles")
	if r.stdout != "dev\nprod\n" {
		t.Errorf("with %s: stdout %q", config.IDConfig.Setting().Env, r.stdout)
	}
	for _, args := range [][]string{{"completion", "tcsh"}, {"completion", "bash", "extra"}, {"completion", "profiles", "extra"}} {
		r := runInProcess(t, fakeEnv(t, nil), args...)
		assertFailure(t, r, process.ExitUsage, "completion", "for usage")
	}
}

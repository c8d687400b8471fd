package main

// Tests of `completion`: bash, zsh and fish completing real command lines
// with the scripts the binary prints. The model the scripts are made of,
// and every script against it, are tested with their generator
// (internal/cmdspec/gen).

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

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

// TestNoTemplateInBinary: the scripts and the man page are rendered by the
// generator, not the binary: text/template would keep every method of every
// type in it (2 MB) and slow the start-up of every cache hit.
func TestNoTemplateInBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "text/template" || dep == "html/template" || strings.HasSuffix(dep, "/internal/cmdspec/gen") {
			t.Errorf("the binary imports %s", dep)
		}
	}
}

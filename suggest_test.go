package main

import (
	"testing"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestDidYouMean: a mistyped command or flag is a usage error (exit 2) that
// shows the word as typed and suggests the nearest command or flag, in the
// form the user typed it (-flag or --flag); `help` with an unknown word is
// an error too, not the general help.
func TestDidYouMean(t *testing.T) {
	const usageHint = "Run " + name + " -h for usage"
	for _, tt := range []struct {
		name      string
		args      []string
		msg, hint string
	}{
		{"command swapped letters", []string{"sevre"}, `unknown command "sevre"`, "did you mean `" + name + " serve`? " + usageHint},
		{"command with flags after it", []string{"doctr", "--role", "dev"}, `unknown command "doctr"`, "did you mean `" + name + " doctor`?"},
		{"command nowhere near", []string{"frobnicate"}, `unknown command "frobnicate"`,
			"the commands are aws-config, cache, completion, doctor, env, exec, help, login, pod-agent, serve, version; run " + name + " -h for usage"},
		{"long flag", []string{"--rol", "dev"}, "unknown flag --rol", "did you mean --role? " + usageHint},
		{"short flag", []string{"-rol", "dev"}, "unknown flag -rol", "did you mean -role? " + usageHint},
		{"flag with its value", []string{"--tll=1h", "--role", "dev"}, "unknown flag --tll", "did you mean --ttl? " + usageHint},
		{"flag of a command", []string{"doctor", "--fecth"}, "unknown flag --fecth", "did you mean --fetch? " + usageHint},
		{"flag of a command, one dash", []string{"env", "-fromat", "sh"}, "unknown flag -fromat", "did you mean -format? " + usageHint},
		{"flag nowhere near", []string{"--bogus"}, "unknown flag --bogus", "run " + name + " -h for usage"},
		{"help of a typo", []string{"help", "doctr"}, `help: unknown command "doctr"`, "did you mean `" + name + " doctor`?"},
		{"help of nothing known", []string{"help", "nosuch"}, `help: unknown command "nosuch"`, "the commands are aws-config, cache,"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, fakeEnv(t, nil), tt.args...)
			assertFailure(t, r, process.ExitUsage, tt.msg, tt.hint)
		})
	}
}

func TestClosest(t *testing.T) {
	names := []string{"env", "exec", "serve", "role", "role-arn", "ttl"}
	for _, tt := range []struct{ typed, want string }{
		{"sevre", "serve"},
		{"exe", "exec"}, // one edit from exec, two from env
		{"rol", "role"},
		{"ls", ""}, // two edits from env, but that rewrites all of it
		{"role", "role"},
		{"xyzzy", ""},
	} {
		if got := closest(tt.typed, names); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}

// TestFlagValueErrors: a flag without its value, or a bool flag with one it cannot
// take, is named as it was typed (-flag or --flag) with what to write instead, not in
// the flag package's words ("flag needs an argument: -role", "parse error").
func TestFlagValueErrors(t *testing.T) {
	const usage = "; run " + name + " -h for usage"
	for _, tt := range []struct {
		name      string
		args      []string
		msg, hint string
	}{
		{"long flag without its value", []string{"--role"}, "--role needs a value",
			"put it after the flag (--role VALUE or --role=VALUE)" + usage},
		{"short flag without its value", []string{"env", "-format"}, "-format needs a value",
			"put it after the flag (-format VALUE or -format=VALUE)" + usage},
		{"bool with a value", []string{"--role", "dev", "--no-cache=maybe"}, `--no-cache takes no value, or true or false, not "maybe"`,
			"write --no-cache alone to turn it on (--no-cache=false to turn it off)" + usage},
		{"bool with a value, one dash", []string{"doctor", "-fetch=yes"}, `-fetch takes no value, or true or false, not "yes"`,
			"write -fetch alone to turn it on (-fetch=false to turn it off)" + usage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, fakeEnv(t, nil), tt.args...)
			assertFailure(t, r, process.ExitUsage, errorPrefix+tt.msg, tt.hint)
			if want := errorPrefix + tt.msg + "\n" + hintPrefix + tt.hint + "\n"; r.stderr != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
			}
		})
	}
}

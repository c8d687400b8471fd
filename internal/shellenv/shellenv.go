// Package shellenv renders environment variables as commands of a shell
// (sh, fish, PowerShell), each value quoted so that no character in it is
// interpreted: the AWS variables of a credentials set for `env`, and the
// container credentials variables of `serve --print-env`.
package shellenv

import (
	"fmt"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// Shell formats that Export and ExportVars know.
const (
	FormatSh         = "sh"
	FormatFish       = "fish"
	FormatPowerShell = "powershell"
)

// Var is one environment variable.
type Var struct{ Name, Value string }

// Vars are the AWS variables that carry c, in a fixed order. Without a
// session token AWS_SESSION_TOKEN is absent, and Export unsets it, so that a
// stale one from an earlier export cannot pair with the new keys.
func Vars(c *process.Credentials) []Var {
	vars := []Var{
		{"AWS_ACCESS_KEY_ID", c.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", c.SecretAccessKey},
	}
	if c.SessionToken != "" {
		vars = append(vars, Var{"AWS_SESSION_TOKEN", c.SessionToken})
	}
	return append(vars, Var{"AWS_CREDENTIAL_EXPIRATION", c.Expiration.UTC().Format(time.RFC3339)})
}

// Export renders c as commands that set the variables in the given shell.
func Export(c *process.Credentials, format string) (string, error) {
	sh, err := shellOf(format)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range Vars(c) {
		b.WriteString(sh.set(v.Name, v.Value))
		b.WriteByte('\n')
	}
	if c.SessionToken == "" {
		b.WriteString(sh.unset("AWS_SESSION_TOKEN"))
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// shell is how one shell sets and removes a variable, and sets one to
// the contents of a file when it runs the command.
type shell struct {
	set      func(name, value string) string
	unset    func(name string) string
	fromFile func(name, path string) string
}

// shellOf is the shell of a Format* constant ("" is sh).
func shellOf(format string) (shell, error) {
	switch format {
	case FormatSh, "":
		return shell{func(n, v string) string { return "export " + n + "=" + shQuote(v) },
			func(n string) string { return "unset " + n },
			func(n, p string) string { return "export " + n + "=\"$(cat " + shQuote(p) + ")\"" }}, nil
	case FormatFish:
		return shell{func(n, v string) string { return "set -gx " + n + " " + fishQuote(v) + ";" },
			func(n string) string { return "set -e " + n + ";" },
			func(n, p string) string { return "set -gx " + n + " (cat " + fishQuote(p) + ");" }}, nil
	case FormatPowerShell:
		return shell{func(n, v string) string { return "$Env:" + n + " = " + psQuote(v) },
			func(n string) string { return "Remove-Item Env:" + n + " -ErrorAction SilentlyContinue" },
			func(n, p string) string { return "$Env:" + n + " = Get-Content -Raw -LiteralPath " + psQuote(p) }}, nil
	}
	return shell{}, fmt.Errorf("unknown format %q", format)
}

// shQuote quotes for POSIX shells: inside single quotes nothing is special
// but the single quote itself, written as '\”.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes for fish, where a single-quoted string still treats \\
// and \' as escapes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// psQuote quotes for PowerShell, whose single-quoted strings double the
// quote (and treat the typographic single quotes as quotes too).
func psQuote(s string) string {
	return "'" + strings.NewReplacer("'", "''", "\u2018", "\u2018\u2018", "\u2019", "\u2019\u2019",
		"\u201a", "\u201a\u201a", "\u201b", "\u201b\u201b").Replace(s) + "'"
}

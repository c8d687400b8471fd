package process

import (
	"fmt"
	"strings"
	"time"
)

// Shell formats that Export knows.
const (
	FormatSh         = "sh"
	FormatFish       = "fish"
	FormatPowerShell = "powershell"
)

// EnvVar is one environment variable of a credentials set.
type EnvVar struct{ Name, Value string }

// EnvVars are the AWS variables that carry c, in a fixed order. Without a
// session token AWS_SESSION_TOKEN is absent, and Export unsets it, so that a
// stale one from an earlier export cannot pair with the new keys.
func (c *Credentials) EnvVars() []EnvVar {
	vars := []EnvVar{
		{"AWS_ACCESS_KEY_ID", c.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", c.SecretAccessKey},
	}
	if c.SessionToken != "" {
		vars = append(vars, EnvVar{"AWS_SESSION_TOKEN", c.SessionToken})
	}
	return append(vars, EnvVar{"AWS_CREDENTIAL_EXPIRATION", c.Expiration.UTC().Format(time.RFC3339)})
}

// Export renders c as commands that set the variables in the given shell,
// each value quoted so that no character in it is interpreted.
func (c *Credentials) Export(format string) (string, error) {
	var set func(name, value string) string
	var unset string
	switch format {
	case FormatSh, "":
		set = func(n, v string) string { return "export " + n + "=" + shQuote(v) }
		unset = "unset AWS_SESSION_TOKEN"
	case FormatFish:
		set = func(n, v string) string { return "set -gx " + n + " " + fishQuote(v) + ";" }
		unset = "set -e AWS_SESSION_TOKEN;"
	case FormatPowerShell:
		set = func(n, v string) string { return "$Env:" + n + " = " + psQuote(v) }
		unset = "Remove-Item Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue"
	default:
		return "", fmt.Errorf("unknown format %q", format)
	}
	var b strings.Builder
	for _, v := range c.EnvVars() {
		b.WriteString(set(v.Name, v.Value))
		b.WriteByte('\n')
	}
	if c.SessionToken == "" {
		b.WriteString(unset)
		b.WriteByte('\n')
	}
	return b.String(), nil
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

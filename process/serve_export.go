package process

import (
	"fmt"
	"strings"
)

// ExportVars renders commands that set each variable of set and remove
// each one named in unset, in the given shell (a Format* constant), each
// value quoted as Export quotes it. `serve --print-env` uses it for the
// container credentials variables.
func ExportVars(format string, set []EnvVar, unset []string) (string, error) {
	var setf func(n, v string) string
	var unsetf func(n string) string
	switch format {
	case FormatSh, "":
		setf = func(n, v string) string { return "export " + n + "=" + shQuote(v) }
		unsetf = func(n string) string { return "unset " + n }
	case FormatFish:
		setf = func(n, v string) string { return "set -gx " + n + " " + fishQuote(v) + ";" }
		unsetf = func(n string) string { return "set -e " + n + ";" }
	case FormatPowerShell:
		setf = func(n, v string) string { return "$Env:" + n + " = " + psQuote(v) }
		unsetf = func(n string) string { return "Remove-Item Env:" + n + " -ErrorAction SilentlyContinue" }
	default:
		return "", fmt.Errorf("unknown format %q", format)
	}
	var b strings.Builder
	for _, n := range unset {
		b.WriteString(unsetf(n))
		b.WriteByte('\n')
	}
	for _, v := range set {
		b.WriteString(setf(v.Name, v.Value))
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// ExportFileVars renders commands that set each variable of vars to the
// contents of the file its Value names, read when the shell runs them: the
// value itself is never printed, so that output redirected to a file holds
// no secret. (`serve --print-env` sets AWS_CONTAINER_AUTHORIZATION_TOKEN
// from the token file this way, for clients that know no other variable.)
func ExportFileVars(format string, vars []EnvVar) (string, error) {
	var setf func(n, path string) string
	switch format {
	case FormatSh, "":
		setf = func(n, p string) string { return "export " + n + "=\"$(cat " + shQuote(p) + ")\"" }
	case FormatFish:
		setf = func(n, p string) string { return "set -gx " + n + " (cat " + fishQuote(p) + ");" }
	case FormatPowerShell:
		setf = func(n, p string) string { return "$Env:" + n + " = Get-Content -Raw -LiteralPath " + psQuote(p) }
	default:
		return "", fmt.Errorf("unknown format %q", format)
	}
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(setf(v.Name, v.Value))
		b.WriteByte('\n')
	}
	return b.String(), nil
}

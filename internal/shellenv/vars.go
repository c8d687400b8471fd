package shellenv

import "strings"

// ExportVars renders commands that remove each variable named in unset and
// set each one of set, in the given shell (a Format* constant), each value
// quoted as Export quotes it. `serve --print-env` uses it for the container
// credentials variables.
func ExportVars(format string, set []Var, unset []string) (string, error) {
	sh, err := shellOf(format)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, n := range unset {
		b.WriteString(sh.unset(n))
		b.WriteByte('\n')
	}
	for _, v := range set {
		b.WriteString(sh.set(v.Name, v.Value))
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// ExportFileVars renders commands that set each variable of vars to the
// contents of the file its Value names, read when the shell runs them: the
// value itself is never printed, so that output redirected to a file holds
// no secret. (`serve --print-env` sets AWS_CONTAINER_AUTHORIZATION_TOKEN
// from the token file this way, for clients that know no other variable.)
func ExportFileVars(format string, vars []Var) (string, error) {
	sh, err := shellOf(format)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(sh.fromFile(v.Name, v.Value))
		b.WriteByte('\n')
	}
	return b.String(), nil
}

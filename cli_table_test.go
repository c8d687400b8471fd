package main

import (
	"bytes"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestRequestFlags: the request flags are the settings of config.Table
// that have a flag, registered with their kind; every command line takes
// every flag cmdspec declares for it, with a value exactly when it is not
// boolean; and every flag a usage page lists is one its command takes,
// its text in the column of the request flags.
func TestRequestFlags(t *testing.T) {
	registered := map[string]*flag.Flag{}
	newFlagSet(cmdspec.Default).VisitAll(func(f *flag.Flag) { registered[f.Name] = f })
	for id := range config.Table {
		s := &config.Table[id]
		f := registered[s.Name]
		if (f != nil) != s.Flag {
			t.Errorf("--%s registered %v, a flag in config.Table %v", s.Name, f != nil, s.Flag)
			continue
		}
		if f == nil {
			continue
		}
		bf, ok := f.Value.(interface{ IsBoolFlag() bool })
		if isBool := ok && bf.IsBoolFlag(); isBool != (s.Kind == config.KindBool) {
			t.Errorf("--%s: a boolean flag %v, KindBool %v", s.Name, isBool, s.Kind == config.KindBool)
		}
	}

	for _, cmd := range [][]string{nil, {"env"}, {"exec"}, {"doctor"}, {"cache", "clear"}} {
		for id := range config.Table {
			if s := &config.Table[id]; s.Flag {
				assertAccepts(t, cmd, "--"+s.Name, s.Placeholder != "")
			}
		}
	}
	for _, id := range append([]cmdspec.ID{cmdspec.Default}, cmdspec.Commands()...) {
		for f := range id.All() {
			assertAccepts(t, strings.Fields(id.Path()), "--"+f.Name, f.Kind != cmdspec.KindBool)
		}
	}

	// A line of a flag: "  --name PLACEHOLDER   text" or "  -h, --help   text".
	line := regexp.MustCompile(`(?m)^  (?:-h, )?--([a-z-]+)( [A-Z|]+)?`)
	column := -1
	for _, l := range strings.Split(cmdspec.Default.Usage(), "\n") {
		if strings.HasPrefix(l, "  --profile ") {
			column = strings.Index(l, config.IDProfile.Setting().Usage)
		}
	}
	for _, id := range append([]cmdspec.ID{cmdspec.Default}, cmdspec.Commands()...) {
		usage := id.Usage()
		for _, m := range line.FindAllStringSubmatch(usage, -1) {
			// A page with subcommands lists theirs, asked above; -h is
			// the flag package's.
			if id.Page() == id && len(id.Subs()) == 0 && m[1] != "help" {
				assertAccepts(t, strings.Fields(id.Path()), "--"+m[1], m[2] != "")
			}
		}
		for _, l := range strings.Split(usage, "\n") {
			if strings.HasPrefix(l, "  -") && (len(l) <= column || l[column-1] != ' ' || l[column] == ' ') {
				t.Errorf("%q -h: %q does not start its text at column %d, as the request flags do", id.Path(), l, column)
			}
		}
	}
}

// assertAccepts fails unless cmd takes flag: given before -h, an unknown
// flag is a usage error, a known one leaves -h to print the usage. A
// boolean flag must refuse a value, which one that takes a value takes.
func assertAccepts(t *testing.T, cmd []string, flag string, takesValue bool) {
	t.Helper()
	args := append(append([]string{}, cmd...), flag+"=x", "-h")
	r := runInProcess(t, fakeEnv(t, nil), args...)
	if takesValue && (r.code != process.ExitOK || r.stdout == "" || r.stderr != "") {
		t.Errorf("%q: exit %d, stderr %q; want the usage", args, r.code, r.stderr)
	}
	if !takesValue {
		if r.code != process.ExitUsage || !strings.Contains(r.stderr, flag+" takes no value") {
			t.Errorf("%q: exit %d, stderr %q; want a boolean flag's usage error", args, r.code, r.stderr)
		}
		args = append(append([]string{}, cmd...), flag, "-h")
		if r := runInProcess(t, fakeEnv(t, nil), args...); r.code != process.ExitOK || r.stdout == "" || r.stderr != "" {
			t.Errorf("%q: exit %d, stderr %q; want the usage", args, r.code, r.stderr)
		}
	}
}

// TestReportExitCodes: the exit status of each kind of error, the command
// line's contract; a *process.Error's own code passes through.
func TestReportExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"configuration error", &config.Error{Msg: "bad"}, process.ExitUsage},
		{"process usage error", &process.Error{Code: process.ExitUsage, Msg: "bad"}, process.ExitUsage},
		{"process failure", &process.Error{Code: process.ExitFailure, Msg: "bad"}, process.ExitFailure},
		{"exec's command not found", &process.Error{Code: exitNotFound, Msg: "bad"}, exitNotFound},
		{"any other error", errors.New("bad"), process.ExitFailure},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			c := &cli{stdout: &bytes.Buffer{}, stderr: &stderr}
			if got := c.report(tt.err); got != tt.want {
				t.Errorf("report = %d, want %d", got, tt.want)
			}
			if !strings.HasPrefix(stderr.String(), name+": error: bad\n") {
				t.Errorf("stderr %q", stderr.String())
			}
		})
	}
}

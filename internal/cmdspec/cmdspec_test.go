package cmdspec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// TestTableRows: every command line has a row that keeps the promises -h
// makes: a name unique under its parent, usage lines that start with its
// words, text for its page, and flags with what -h needs to show them.
func TestTableRows(t *testing.T) {
	for id := range NumIDs {
		c := &Table[id]
		t.Run(fmt.Sprintf("%d %s", id, id.Path()), func(t *testing.T) {
			if (id == Default) != (c.Name == "") || strings.ContainsAny(c.Name, " _") || c.Name != strings.ToLower(c.Name) {
				t.Errorf("name %q: lowercase words joined by '-', empty only for the default command", c.Name)
			}
			if c.Parent != Default && Table[c.Parent].Parent != Default {
				t.Errorf("parent %q is a subcommand itself", c.Parent.Path())
			}
			if got, ok := Lookup(c.Parent, c.Name); id != Default && (!ok || got != id) {
				t.Errorf("Lookup(%d, %q) = %d, %v", c.Parent, c.Name, got, ok)
			}
			if len(c.Synopsis) == 0 && len(id.Subs()) == 0 {
				t.Error("no usage line")
			}
			for _, s := range c.Synopsis {
				if !strings.HasPrefix(s+" ", strings.TrimPrefix(id.Path()+" ", " ")) {
					t.Errorf("usage line %q does not start with %q", s, id.Path())
				}
			}
			if id.Page() == id && len(c.Text) == 0 {
				t.Error("its page has no text")
			}
			checkFlags(t, id)
		})
	}
}

// checkFlags: the flags of id are unique, each with its help, a
// placeholder exactly when it takes a value, and every flag a usage line
// of id names is one of them.
func checkFlags(t *testing.T, id ID) {
	t.Helper()
	seen := map[string]bool{}
	for f := range id.Listed() {
		if seen[f.Name] {
			t.Errorf("--%s twice", f.Name)
		}
		seen[f.Name] = true
		if f.Help == "" {
			t.Errorf("--%s has no help", f.Name)
		}
		if (f.Kind == KindBool || f.Kind == KindHelp) != (f.Placeholder == "") {
			t.Errorf("--%s: kind %d, placeholder %q", f.Name, f.Kind, f.Placeholder)
		}
		if f.Placeholder != strings.ToUpper(f.Placeholder) {
			t.Errorf("--%s: placeholder %q is not in capitals", f.Name, f.Placeholder)
		}
		if f.Kind == KindSetting || f.Kind == KindRequest {
			t.Errorf("--%s: unresolved kind %d", f.Name, f.Kind)
		}
	}
	for _, s := range Table[id].Synopsis {
		for _, m := range regexp.MustCompile(`--([a-z][a-z-]*)`).FindAllStringSubmatch(s, -1) {
			if !seen[m[1]] {
				t.Errorf("usage line %q names --%s, which %q does not take", s, m[1], id.Path())
			}
		}
	}
}

// TestRequestFlags: the request flags are config.Table's flags, with its
// names, kinds, placeholders and defaults, in its order.
func TestRequestFlags(t *testing.T) {
	var got, want []string
	for f := range requestFlags.Resolved() {
		got = append(got, fmt.Sprintf("%s %d %s %s %s %v", f.Name, f.Kind, f.Placeholder, f.Default, f.Help, f.IsSetting))
	}
	for id := range config.ID(len(config.Table)) {
		if s := id.Setting(); s.Flag {
			kind := KindString
			if s.Kind == config.KindBool {
				kind = KindBool
			}
			want = append(want, fmt.Sprintf("%s %d %s %s %s true", s.Name, kind, s.Placeholder, s.Default, s.Usage))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("request flags:\n%q\nwant:\n%q", got, want)
	}
}

// TestUsage: each page starts with its usage lines and lists every flag
// of each command line on it, on a line of its own, text in one column.
func TestUsage(t *testing.T) {
	column := flagColumn() + 3
	for id := range NumIDs {
		u := id.Usage()
		if !strings.HasPrefix(u, "Usage:\n  "+Program) || !strings.HasSuffix(u, "\n") {
			t.Errorf("%q: usage %q", id.Path(), u)
		}
		for f := range id.Listed() {
			if !strings.Contains(u, "\n  "+f.Words()+" ") {
				t.Errorf("%q -h does not list %s", id.Path(), f.Words())
			}
		}
		for _, l := range strings.Split(u, "\n") {
			if strings.HasPrefix(l, "  -") && (len(l) <= column || l[column-1] != ' ' || l[column] == ' ') {
				t.Errorf("%q -h: %q does not start its text at column %d", id.Path(), l, column)
			}
		}
	}
	if !strings.Contains(Default.Usage(), "\n  -h, --help ") {
		t.Error("the main usage does not list -h, --help")
	}
	if Help.Usage() != Default.Usage() || CacheList.Usage() != Cache.Usage() {
		t.Error("help and a subcommand do not print their page's usage")
	}
}

// TestMainUsageNotes: the main usage names every auth method a login can
// use, and the exit statuses as ExitStatus says them.
func TestMainUsageNotes(t *testing.T) {
	notes := strings.Join(Table[Default].Notes, "\n")
	notes = strings.Join(strings.Fields(notes), " ")
	for _, m := range []string{config.AuthAppRole, config.AuthKubernetes, config.AuthJWT, config.AuthUserpass,
		config.AuthLDAP, config.AuthCert, config.AuthOIDC, config.AuthAWS} {
		if !strings.Contains(notes, " "+m+",") && !strings.Contains(notes, " "+m+" ") {
			t.Errorf("the main usage does not name the auth method %s", m)
		}
	}
	for _, s := range ExitStatus[:3] {
		meaning, _, _ := strings.Cut(s.Meaning, ":")
		meaning, _, _ = strings.Cut(meaning, ",")
		if want := fmt.Sprintf("%d %s", s.Code, meaning); !strings.Contains(notes, want) {
			t.Errorf("the main usage lacks %q", want)
		}
	}
}

// TestNames: the lists a documentation test reads.
func TestNames(t *testing.T) {
	want := []string{"env", "exec", "serve", "pod-agent", "cache", "doctor", "aws-config", "login", "completion", "version", "help"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names = %q, want %q", got, want)
	}
	flags := FlagNames()
	for _, f := range []string{"role", "ttl", "format", "token-file", "duration", "policy-arn", "json", "all", "version", "help", "listen"} {
		if !slices.Contains(flags, f) {
			t.Errorf("FlagNames lacks %s", f)
		}
	}
	if slices.Contains(flags, "max-ttl") || !slices.IsSorted(flags) || len(slices.Compact(slices.Clone(flags))) != len(flags) {
		t.Errorf("FlagNames = %q: sorted, once each, flags only", flags)
	}
}

// TestAllAllocatesNothing: registering the default command's flags, on
// every cache hit, costs no allocation for walking the table.
func TestAllAllocatesNothing(t *testing.T) {
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		for f := range Default.All() {
			n += len(f.Name)
		}
	})
	if allocs != 0 {
		t.Errorf("Default.All allocates %v times", allocs)
	}
}

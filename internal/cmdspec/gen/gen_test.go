package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
)

// root is the repository's root folder, where the generated files live.
const root = "../../.."

// TestGenerated: every generated file in the repository is what the
// command table makes now, so the scripts the binary prints and the man
// page never drift from -h. After a change to the table: go generate .
func TestGenerated(t *testing.T) {
	out, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range out {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%s: %v; run go generate .", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date with internal/cmdspec: run go generate .", name)
		}
	}
}

// TestWriteLeavesUpToDateFiles: gen writes a file only when it changed, so
// go generate leaves an up-to-date tree as it is, and writes what
// TestGenerated compares.
func TestWriteLeavesUpToDateFiles(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	out, _ := generate()
	stale := filepath.Join(dir, "completion_generated.go")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := map[string]os.FileInfo{}
	for name := range out {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = fi
	}
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range out {
		path := filepath.Join(dir, name)
		got, _ := os.ReadFile(path)
		fi, _ := os.Stat(path)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: not rewritten", name)
		}
		if rewritten := !fi.ModTime().Equal(before[name].ModTime()) || fi.Size() != before[name].Size(); rewritten != (path == stale) {
			t.Errorf("%s: rewritten %v, want %v", name, rewritten, path == stale)
		}
	}
}

// TestManPage: groff formats the man page without a warning, man reads
// it, and it names every command and every flag.
func TestManPage(t *testing.T) {
	page := filepath.Join(root, "vault-credential-process.1")
	for _, tool := range []string{"groff", "man"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found: apt-get install man-db", tool)
			}
			t.Skipf("%s not found: apt-get install man-db", tool)
		}
	}
	var stderr bytes.Buffer
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z", page)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff: %v\n%s", err, stderr.String())
	}
	stderr.Reset()
	cmd = exec.Command("man", "--warnings", "-l", page)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8")
	cmd.Stderr = &stderr
	text, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("man -l: %v\n%s", err, stderr.String())
	}
	for _, want := range append(cmdspec.Names(), "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO") {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("the man page lacks %q", want)
		}
	}
	for _, f := range cmdspec.FlagNames() {
		if !regexp.MustCompile(`--` + regexp.QuoteMeta(f) + `\b`).Match(text) {
			t.Errorf("the man page lacks --%s", f)
		}
	}
	for id := range config.ID(len(config.Table)) {
		if env := id.Setting().Env; env != "" && !bytes.Contains(text, []byte(env)) {
			t.Errorf("the man page lacks %s", env)
		}
	}
}

// TestEsc: text that roff would take for requests or escapes is printed
// as written.
func TestEsc(t *testing.T) {
	for in, want := range map[string]string{
		`.TH x`:          `\&.TH x`,
		`'quote`:         `\&'quote`,
		`a\b`:            `a\eb`,
		`--role-arn`:     `\-\-role\-arn`,
		"check (\u2717)": `check (\[u2717])`,
	} {
		if got := esc(in); got != want {
			t.Errorf("esc(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCompletionModel: the default command has every request flag of
// config.Table, with a value unless boolean; the commands' own flags are
// found with theirs; help and the subcommands complete words.
func TestCompletionModel(t *testing.T) {
	m, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]path{}
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
		{"serve", []string{"--detach", "--imds"}, []string{"--token-file", "--listen", "--role"}, []string{"--json"}},
		{"login", []string{"--stdout"}, []string{"--duration", "--policy-arn"}, []string{"--format"}},
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
	if m.Profile != "--profile" || m.Config != "--config" || !slices.Contains(m.Files, "--token-file") {
		t.Errorf("profile flag %q, configuration flag %q, paths %q", m.Profile, m.Config, m.Files)
	}
}

// TestCompletionScriptsCover: each shell's script has every command, every
// subcommand word and, on each command line's own entry, every flag of
// the model, so a script cannot fall behind the table.
func TestCompletionScriptsCover(t *testing.T) {
	m, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := scripts(m)
	if err != nil {
		t.Fatal(err)
	}
	for shell, script := range rendered {
		t.Run(shell, func(t *testing.T) {
			for _, cmd := range cmdspec.Names() {
				assertWord(t, shell, script, cmd)
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

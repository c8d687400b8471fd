package main

// The README and the pages in docs/ are what users read. These tests keep
// them whole: every relative link and #anchor resolves (by GitHub's rules
// for heading anchors), and every command, flag, setting, configuration key
// and variable the code declares is named in them, so that a new one
// without documentation fails the suite. They read files only: no network,
// and they run under -short.

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/podagent"
)

// mdPage is one Markdown file as the tests see it.
type mdPage struct {
	path    string          // slash path from the repository root: "docs/usage.md"
	anchors map[string]bool // the anchors of its headings, as GitHub makes them
	heads   []string        // the headings' text, in order
	links   []mdLink        // inline links and link reference definitions
	code    []string        // code spans and the lines of fenced code blocks
}

// mdLink is a link target and the line it is on.
type mdLink struct {
	line   int
	target string
}

var (
	fenceRE     = regexp.MustCompile("^\\s*(```|~~~)")
	headingRE   = regexp.MustCompile(`^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$`)
	codeSpanRE  = regexp.MustCompile("`+")
	inlineRE    = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	refDefRE    = regexp.MustCompile(`(?m)^[ \t]{0,3}\[[^\]]+\]:\s*(\S+)`)
	linkTextRE  = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	envPrefixRE = regexp.MustCompile(config.EnvPrefix + `[A-Z0-9_]+`)
)

// docPages are the pages the tests read: the README and every docs/*.md.
func docPages(t *testing.T) map[string]*mdPage {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]*mdPage{}
	for _, name := range append([]string{"README.md"}, names...) {
		text, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		p := parseMarkdown(filepath.ToSlash(name), string(text))
		pages[p.path] = p
	}
	return pages
}

// parseMarkdown finds a page's headings, links and code. Fenced blocks are
// code, not prose; code spans are cut from the prose before links are
// looked for (a link inside backticks is text), but a link's text may hold
// a code span and may run over a line break.
func parseMarkdown(name, text string) *mdPage {
	p := &mdPage{path: name, anchors: map[string]bool{}}
	seen := map[string]int{}
	lines := strings.Split(text, "\n")
	prose := make([]string, len(lines))
	fenced := false
	for i, line := range lines {
		if fenceRE.MatchString(line) {
			fenced = !fenced
			continue
		}
		if fenced {
			p.code = append(p.code, line)
			continue
		}
		prose[i] = line
		if m := headingRE.FindStringSubmatch(line); m != nil {
			p.heads = append(p.heads, m[2])
			p.anchors[uniqueSlug(githubSlug(m[2]), seen)] = true
		}
	}
	body := cutCodeSpans(strings.Join(prose, "\n"), &p.code)
	for _, re := range []*regexp.Regexp{inlineRE, refDefRE} {
		for _, m := range re.FindAllStringSubmatchIndex(body, -1) {
			line := strings.Count(body[:m[0]], "\n") + 1
			p.links = append(p.links, mdLink{line: line, target: body[m[2]:m[3]]})
		}
	}
	return p
}

// cutCodeSpans replaces each code span of text (a run of backticks up to
// the next run of the same length) with a blank of the same lines, and
// appends its content to code.
func cutCodeSpans(text string, code *[]string) string {
	var b strings.Builder
	for {
		open := codeSpanRE.FindStringIndex(text)
		if open == nil {
			return b.String() + text
		}
		ticks := text[open[0]:open[1]]
		end := strings.Index(text[open[1]:], ticks)
		if end < 0 { // an unclosed run of backticks is text
			b.WriteString(text[:open[1]])
			text = text[open[1]:]
			continue
		}
		content := text[open[1] : open[1]+end]
		*code = append(*code, strings.Join(strings.Fields(content), " "))
		b.WriteString(text[:open[0]])
		b.WriteString(strings.Repeat("\n", strings.Count(content, "\n")))
		text = text[open[1]+end+len(ticks):]
	}
}

// githubSlug is the anchor GitHub gives a heading: its text as rendered
// (link targets and backticks dropped), lower case, every character but
// letters, marks, digits, spaces, '-' and '_' removed, and each space a '-'.
func githubSlug(heading string) string {
	text := linkTextRE.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// uniqueSlug numbers a repeated anchor as GitHub does: the second "x" is
// "x-1", the third "x-2".
func uniqueSlug(slug string, seen map[string]int) string {
	n, ok := seen[slug]
	seen[slug] = n + 1
	if !ok {
		return slug
	}
	return fmt.Sprintf("%s-%d", slug, n)
}

func TestGithubSlug(t *testing.T) {
	tests := []struct{ heading, want string }{
		{"Quick start", "quick-start"},
		{"`~/.aws/config` examples", "awsconfig-examples"},
		{"`--detach`: in the background, as `ssh-agent` does", "--detach-in-the-background-as-ssh-agent-does"},
		{"Vault's AWS auth method", "vaults-aws-auth-method"},
		{"Browser login (`oidc`)", "browser-login-oidc"},
		{"MFA codes for `session_token` roles", "mfa-codes-for-session_token-roles"},
		{"Releases: `make dist`", "releases-make-dist"},
		{"See [the cache](security.md#the-cache) first", "see-the-cache-first"},
		{"Größe 2", "größe-2"},
	}
	for _, tt := range tests {
		if got := githubSlug(tt.heading); got != tt.want {
			t.Errorf("githubSlug(%q) = %q, want %q", tt.heading, got, tt.want)
		}
	}
	seen := map[string]int{}
	got := []string{uniqueSlug("x", seen), uniqueSlug("x", seen), uniqueSlug("x", seen), uniqueSlug("x-1", seen)}
	// GitHub numbers by the slug alone, so a heading "x-1" after two "x"
	// repeats an anchor; the docs have no such pair.
	if want := []string{"x", "x-1", "x-2", "x-1"}; !slices.Equal(got, want) {
		t.Errorf("repeated headings: %q, want %q", got, want)
	}
}

func TestParseMarkdown(t *testing.T) {
	text := "# Title\n\nSee [`doctor`](usage.md#doctor) and [the\ncache](#title), not `[x](no.md)`.\n\n" +
		"```sh\n[y](nor.md)\n```\n\n## Title\n\n[ref]: other.md#title-1\n"
	p := parseMarkdown("page.md", text)
	var got []string
	for _, l := range p.links {
		got = append(got, fmt.Sprintf("%d:%s", l.line, l.target))
	}
	if want := []string{"3:usage.md#doctor", "3:#title", "12:other.md#title-1"}; !slices.Equal(got, want) {
		t.Errorf("links %q, want %q", got, want)
	}
	if !p.anchors["title"] || !p.anchors["title-1"] || len(p.anchors) != 2 {
		t.Errorf("anchors %v, want title and title-1", p.anchors)
	}
	if !slices.Contains(p.code, "[x](no.md)") || !slices.Contains(p.code, "[y](nor.md)") {
		t.Errorf("code %q misses a code span or a fenced line", p.code)
	}
}

// TestDocsLinks checks that every relative link of the README and docs/
// names a file or folder that exists, and that every #anchor names a
// heading of the page it points to.
func TestDocsLinks(t *testing.T) {
	pages := docPages(t)
	for _, name := range sortedKeys(pages) {
		p := pages[name]
		for _, l := range p.links {
			if err := checkLink(pages, p, l.target); err != nil {
				t.Errorf("%s:%d: link %s: %v", p.path, l.line, l.target, err)
			}
		}
	}
}

// checkLink resolves one link target of page p.
func checkLink(pages map[string]*mdPage, p *mdPage, target string) error {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return nil // the web is not checked here: no network in tests
	}
	file, anchor, _ := strings.Cut(target, "#")
	dest := p.path
	if file != "" {
		dest = path.Clean(path.Join(path.Dir(p.path), file))
		if strings.HasPrefix(dest, "../") {
			return fmt.Errorf("points outside the repository")
		}
		if _, err := os.Stat(filepath.FromSlash(dest)); err != nil {
			return fmt.Errorf("no such file: %s", dest)
		}
	}
	if anchor == "" {
		return nil
	}
	to, ok := pages[dest]
	if !ok {
		return fmt.Errorf("an anchor into %s, which is not a page of the docs", dest)
	}
	if !to.anchors[anchor] {
		return fmt.Errorf("%s has no heading with anchor #%s", dest, anchor)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// mentions reports whether token appears in some code of the pages (a code
// span or a line of a fenced block) as a whole word: not inside a longer
// name, so "--role" is not found in "--role-arn", nor "ROLE" in "ROLE_ARN".
func mentions(token string, pages ...*mdPage) bool {
	isWord := func(r byte) bool {
		return r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	for _, p := range pages {
		for _, c := range p.code {
			for i := 0; ; {
				j := strings.Index(c[i:], token)
				if j < 0 {
					break
				}
				start, end := i+j, i+j+len(token)
				if (start == 0 || !isWord(c[start-1])) && (end == len(c) || !isWord(c[end])) {
					return true
				}
				i = start + 1
			}
		}
	}
	return false
}

// allPages is every page, for a name that may be documented anywhere.
func allPages(pages map[string]*mdPage) []*mdPage {
	var all []*mdPage
	for _, k := range sortedKeys(pages) {
		all = append(all, pages[k])
	}
	return all
}

// TestDocsCommands checks that every command of cmdspec.Table has a
// section of its own in docs/usage.md (a heading that names it in
// backticks), and that every subcommand is named there.
func TestDocsCommands(t *testing.T) {
	usage := docPages(t)["docs/usage.md"]
	for _, id := range cmdspec.Commands() {
		if cmdspec.Table[id].Parent != cmdspec.Default {
			if !mentions(id.Path(), usage) {
				t.Errorf("docs/usage.md does not name `%s`", id.Path())
			}
			continue
		}
		found := false
		for _, h := range usage.heads {
			if strings.Contains(h, "`"+id.Path()) {
				found = true
			}
		}
		if !found {
			t.Errorf("docs/usage.md has no heading naming `%s`", id.Path())
		}
	}
}

// TestDocsSettings checks every row of config.Table: its flag in
// docs/usage.md, its variables anywhere in the docs, and its keys of the
// configuration file in docs/configuration.md.
func TestDocsSettings(t *testing.T) {
	pages := docPages(t)
	usage, conf, all := pages["docs/usage.md"], pages["docs/configuration.md"], allPages(pages)
	for id := range config.Table {
		s := &config.Table[id]
		if s.Flag && !mentions("--"+s.Name, usage) {
			t.Errorf("docs/usage.md does not name the flag --%s", s.Name)
		}
		for _, v := range append([]string{s.Env}, s.VaultEnv...) {
			if v != "" && !mentions(v, all...) {
				t.Errorf("the docs do not name the variable %s (setting %s)", v, s.Name)
			}
		}
		for _, key := range []string{s.ProfileKey, s.TableKey} {
			if key != "" && !mentions(key, conf) {
				t.Errorf("docs/configuration.md does not name the key %s (setting %s)", key, s.Name)
			}
		}
	}
}

// tomlKeys lists the TOML keys of the struct type t and of the tables it
// holds (maps, slices and pointers of structs), each by its own name.
func tomlKeys(t reflect.Type) []string {
	var keys []string
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Map || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		keys = append(keys, name)
		keys = append(keys, tomlKeys(f.Type)...)
	}
	return keys
}

// TestDocsConfigurationKeys checks every key the configuration files can
// hold, from the types they are decoded into: the helper's file (its
// tables, profiles and auth tables, for every login method) in
// docs/configuration.md, pod-agent's in docs/server.md.
func TestDocsConfigurationKeys(t *testing.T) {
	pages := docPages(t)
	tests := []struct {
		page string
		typ  reflect.Type
	}{
		{"docs/configuration.md", reflect.TypeFor[config.File]()},
		{"docs/server.md", reflect.TypeFor[podagent.Config]()},
	}
	for _, tt := range tests {
		keys := tomlKeys(tt.typ)
		slices.Sort(keys)
		keys = slices.Compact(keys) // the auth table is in [vault] and in every profile
		if len(keys) < 5 {
			t.Fatalf("%v: only %d TOML keys found: the walk is broken", tt.typ, len(keys))
		}
		for _, key := range keys {
			if !mentions(key, pages[tt.page]) {
				t.Errorf("%s does not name the configuration key %s (%v)", tt.page, key, tt.typ)
			}
		}
	}
	conf := pages["docs/configuration.md"]
	methods := []string{config.AuthToken, config.AuthAppRole, config.AuthKubernetes, config.AuthJWT,
		config.AuthUserpass, config.AuthLDAP, config.AuthCert, config.AuthOIDC, config.AuthAWS}
	types := []string{config.TypeIAMUser, config.TypeAssumedRole, config.TypeFederationToken,
		config.TypeSessionToken, config.TypeStatic}
	for _, name := range append(methods, types...) {
		if !mentions(name, conf, pages["docs/usage.md"]) {
			t.Errorf("the docs do not name the value %q", name)
		}
	}
	if !strings.Contains(strings.Join(conf.code, "\n"), config.EnvPrefix+"AUTH_<KEY>") {
		t.Errorf("docs/configuration.md does not name the auth tables' variables, %sAUTH_<KEY>", config.EnvPrefix)
	}
}

// internalVariables are variables of our own that one copy of the helper
// hands to another (or a test build reads); no user sets them.
var internalVariables = []string{
	config.EnvPrefix + "CORE_LIMIT",        // exec --server's trampoline: the command's core limit
	config.EnvPrefix + "SERVE_DETACHED_FD", // serve --detach: the pipe to the first copy
	config.EnvPrefix + "TEST_PAUSE_WRITE",  // cache, built with -tags testhooks
}

// TestDocsVariables checks that every variable of our own that the code
// names (VAULT_CREDENTIAL_PROCESS_*, outside tests and test tools) is named
// in the docs; a prefix the code completes (..._AUTH_) must be shown as
// one.
func TestDocsVariables(t *testing.T) {
	all := allPages(docPages(t))
	var code []string
	for _, p := range all {
		code = append(code, p.code...)
	}
	text := strings.Join(code, "\n")
	for v, where := range sourceVariables(t) {
		switch {
		case slices.Contains(internalVariables, v):
		case v == config.EnvPrefix:
		case strings.HasSuffix(v, "_"):
			if !strings.Contains(text, v) {
				t.Errorf("the docs do not show the variables %s... (named in %s)", v, where)
			}
		case !mentions(v, all...):
			t.Errorf("the docs do not name the variable %s (named in %s)", v, where)
		}
	}
}

// sourceVariables are the VAULT_CREDENTIAL_PROCESS_* names in the Go files
// of the product, each with a file that names it.
func sourceVariables(t *testing.T) map[string]string {
	t.Helper()
	skip := []string{".git", "docs", "tools", "internal/testbed", "internal/testenv", "internal/bench",
		"internal/soak", "internal/runbin"}
	found := map[string]string{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && slices.Contains(skip, filepath.ToSlash(p)) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, v := range envPrefixRE.FindAllString(string(src), -1) {
			found[v] = filepath.ToSlash(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 10 {
		t.Fatalf("only %d variables found in the sources: the walk is broken", len(found))
	}
	return found
}

// flagPage is the page that documents the flag f of the command line id:
// the settings' flags (the request flags among them) are documented once,
// in docs/usage.md's table; serve's and pod-agent's own flags in
// docs/server.md, every other command's in docs/usage.md.
func flagPage(id cmdspec.ID, f cmdspec.Flag) string {
	if !f.IsSetting && (id == cmdspec.Serve || id == cmdspec.PodAgent) {
		return "docs/server.md"
	}
	return "docs/usage.md"
}

// TestDocsCommandFlags checks that every flag of every command line of
// cmdspec.Table is named in the page that documents it, and every flag
// name any command takes (-h's --help too) somewhere in the docs.
func TestDocsCommandFlags(t *testing.T) {
	pages := docPages(t)
	for id := range cmdspec.NumIDs {
		for f := range id.All() {
			page := flagPage(id, f)
			if !mentions("--"+f.Name, pages[page]) {
				t.Errorf("%s does not name --%s, a flag of `%s`", page, f.Name, strings.TrimSpace(cmdspec.Program+" "+id.Path()))
			}
		}
	}
	for _, name := range cmdspec.FlagNames() {
		if !mentions("--"+name, allPages(pages)...) {
			t.Errorf("the docs do not name --%s", name)
		}
	}
}

// takenFlags are the names of the flags the command line id takes, with
// --help; for a command with subcommands (cache), those of each.
func takenFlags(id cmdspec.ID) []string {
	names := []string{"help"}
	for _, i := range append([]cmdspec.ID{id}, id.Subs()...) {
		for f := range i.All() {
			names = append(names, f.Name)
		}
	}
	return names
}

// exampleCommand is the command line an example's words select, and the
// words after its name.
func exampleCommand(words []string) (cmdspec.ID, []string) {
	id := cmdspec.Default
	for len(words) > 0 {
		sub, ok := cmdspec.Lookup(id, words[0])
		if !ok {
			break
		}
		id, words = sub, words[1:]
	}
	return id, words
}

// exampleRE finds a command line of the helper in the docs' code: the
// words after the program's name, up to what ends a command in sh.
var exampleRE = regexp.MustCompile(`vault-credential-process((?: +[^ |;&)"'` + "`" + `]+)*)`)

// TestDocsExampleFlags checks the examples: every flag a command line in
// the docs' code passes is one that command line takes.
func TestDocsExampleFlags(t *testing.T) {
	for _, p := range allPages(docPages(t)) {
		for _, c := range p.code {
			for _, m := range exampleRE.FindAllStringSubmatch(c, -1) {
				id, words := exampleCommand(strings.Fields(m[1]))
				if i := slices.Index(words, "--"); i >= 0 { // exec: the command's own words follow
					words = words[:i]
				}
				for _, w := range words {
					flag, _, _ := strings.Cut(strings.Trim(w, "[]"), "=")
					name := strings.TrimPrefix(flag, "--")
					if name == flag || name == "" || strings.HasSuffix(name, ":") {
						continue // not a flag, or "--all:" in the marker comment aws-config writes
					}
					if !slices.Contains(takenFlags(id), name) {
						t.Errorf("%s: %q passes --%s, which `%s` does not take", p.path, c, name,
							strings.TrimSpace(cmdspec.Program+" "+id.Path()))
					}
				}
			}
		}
	}
}

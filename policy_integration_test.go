package main

// The README's "Vault policy" section, proven against the bed's real Vault: its HCL
// block, with the names replaced as it tells readers to, is the whole policy of a token
// (with Vault's default policy, which it says to keep), and every feature it names works
// with that token alone. Then that the policy is not vacuous: without it, or without
// its roles stanza, what the README says happens happens.

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// readmePolicy is the README's policy made for the bed, and the binary's environment
// with a token of it.
type readmePolicy struct {
	b       *testbed.Bed
	section string // the README's "## Vault policy" section
	hcl     string // its policy, names replaced
	env     []string
}

// readmeRoles maps each role name of the README's policy to the bed's roles of the
// type the README's comment gives it: dev and deploy are under "Credentials of dynamic
// roles" (deploy issues assumed_role in the README's doctor example), legacy under
// "static roles". The bed has four dynamic roles for the README's two names, so each
// line is repeated per bed role, as a reader with more roles writes it.
var readmeRoles = []readmeRole{
	{"dev", "creds", []string{testbed.RoleIAM, testbed.RoleFed}},
	{"deploy", "creds", []string{testbed.RoleAssume, testbed.RoleSession}},
	{"legacy", "static-creds", []string{testbed.StaticRole}},
}

// readmeRole is a role name of the README's policy and the bed's roles in its place.
type readmeRole struct {
	name, kind string // kind: the path segment before the role, creds or static-creds
	bed        []string
}

// readmeSection returns the README's section under heading, up to the next "## ".
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(data), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	return sec
}

// readmeHCL returns the ```hcl block of the README's section sec.
func readmeHCL(t *testing.T, sec string) string {
	t.Helper()
	_, block, ok := strings.Cut(sec, "\n```hcl\n")
	if ok {
		block, _, ok = strings.Cut(block, "\n```\n")
	}
	if !ok {
		t.Fatal("README.md's Vault policy section has no ```hcl block")
	}
	return block + "\n"
}

// policyPathRE is a policy line's path with the mount "aws" the README tells readers
// to replace: the mount and the rest of the path.
var policyPathRE = regexp.MustCompile(`path "aws/([^"]*)"`)

// withNames makes the README's policy hcl the bed's: the mount aws becomes mount, and
// each line of a README role becomes one line per name role(readme role) gives. It
// fails the test when a README role is missing or under a path of another type.
func withNames(t *testing.T, hcl, mount string, role func(name string) []string) string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.SplitAfter(hcl, "\n") {
		m := policyPathRE.FindStringSubmatch(line)
		if m == nil {
			out = append(out, line)
			continue
		}
		kind, name := splitRole(m[1])
		i := slices.IndexFunc(readmeRoles, func(r readmeRole) bool { return r.name == name })
		if i < 0 {
			out = append(out, strings.Replace(line, `"aws/`, `"`+mount+"/", 1))
			continue
		}
		if r := readmeRoles[i]; kind != r.kind {
			t.Fatalf("README's policy has role %s under %s/, its comment says %s/: %s", name, kind, r.kind, line)
		}
		seen[name] = true
		for _, bedRole := range role(name) {
			l := strings.Replace(line, `"aws/`+m[1]+`"`, `"`+mount+"/"+kind+"/"+bedRole+`"`, 1)
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	for _, r := range readmeRoles {
		if !seen[r.name] {
			t.Errorf("README's policy has no line for role %s, which its text says to replace", r.name)
		}
	}
	return strings.Join(out, "")
}

// splitRole splits "creds/dev" into its kind and role; a path of more segments, or of
// one, has no role.
func splitRole(p string) (kind, role string) {
	kind, role, ok := strings.Cut(p, "/")
	if !ok || strings.Contains(role, "/") {
		return p, ""
	}
	return kind, role
}

// bedNames gives each README role the bed's roles of its type.
func bedNames(name string) []string {
	for _, r := range readmeRoles {
		if r.name == name {
			return r.bed
		}
	}
	return nil
}

// withoutRoles is hcl without the lines of the roles stanza (aws/roles, aws/static-roles
// and below).
func withoutRoles(hcl string) string {
	var out []string
	for _, line := range strings.SplitAfter(hcl, "\n") {
		if !strings.Contains(line, `/roles"`) && !strings.Contains(line, `/roles/*"`) &&
			!strings.Contains(line, `/static-roles"`) && !strings.Contains(line, `/static-roles/*"`) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// policyEnv writes hcl as the Vault policy name and returns an environment of the
// binary whose only token has it, and Vault's default policy unless noDefault.
func policyEnv(t *testing.T, b *testbed.Bed, name, hcl string, noDefault bool) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(runCtx, 30*time.Second)
	defer cancel()
	if err := b.VaultRequest(ctx, "PUT", "sys/policies/acl/"+name, map[string]any{"policy": hcl}, nil); err != nil {
		t.Fatalf("write the policy %s:\n%s\n%v", name, hcl, err)
	}
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
			Policies    []string
		} `json:"auth"`
	}
	body := map[string]any{"policies": []string{name}, "ttl": "2h", "no_default_policy": noDefault}
	if err := b.VaultRequest(ctx, "POST", "auth/token/create", body, &out); err != nil {
		t.Fatal(err)
	}
	addSecret(out.Auth.ClientToken)
	if slices.Contains(out.Auth.Policies, "default") == noDefault {
		t.Fatalf("the token has the policies %v (no_default_policy %v)", out.Auth.Policies, noDefault)
	}
	return append(homeEnv(t), "VAULT_ADDR="+b.VaultAddr, "VAULT_TOKEN="+out.Auth.ClientToken)
}

// TestREADMEPolicy: with a token of only the README's policy and default, every
// credential type, the iam_user renewal, cache clear --revoke, doctor and aws-config
// --all work, and so they do with no default policy but the paths the README says it
// gives; the wildcards it offers work; without the policy the request is refused, and
// without its roles stanza doctor and aws-config --all say what they could not do.
func TestREADMEPolicy(t *testing.T) {
	b := requireBed(t)
	sec := readmeSection(t, "## Vault policy")
	p := &readmePolicy{b: b, section: sec, hcl: withNames(t, readmeHCL(t, sec), testbed.Mount, bedNames)}
	t.Logf("the README's policy with the bed's names:\n%s", p.hcl)
	p.env = policyEnv(t, b, "vcp-readme", p.hcl, false)
	t.Run("with default", p.features)

	// "A token made with no_default_policy needs these added": the stanzas of default
	// for the paths the README names, and without lookup-self iam_user is not renewed.
	added := p.defaultStanzas(t)
	t.Logf("added for no_default_policy:\n%s", strings.Join(added, ""))
	noDefault := *p
	noDefault.env = policyEnv(t, b, "vcp-readme-no-default", p.hcl+strings.Join(added, ""), true)
	t.Run("no_default_policy, with what the README says default allows", noDefault.features)
	noLookup := *p
	added = slices.DeleteFunc(added, func(s string) bool { return strings.Contains(s, `"auth/token/lookup-self"`) })
	noLookup.env = policyEnv(t, b, "vcp-readme-no-lookup", p.hcl+strings.Join(added, ""), true)
	t.Run("no_default_policy without auth/token/lookup-self: iam_user minted anew", noLookup.mintedAnew)

	t.Run("the roles as + and *", p.wildcards)
	t.Run("default alone is refused with the policy hint", p.defaultAlone)
	t.Run("without the roles stanza", p.withoutRoles)
}

// features runs each feature the README's policy is for with p's token.
func (p *readmePolicy) features(t *testing.T) {
	t.Run("credentials of every type", p.credentials)
	t.Run("iam_user renewed, then revoked by cache clear --revoke", p.renewAndRevoke)
	t.Run("doctor passes every check", p.doctor)
	t.Run("aws-config --all lists the roles", p.awsConfigAll)
}

// bedTypes are the bed's roles of each type the helper gets credentials of, but the
// MFA one (its session_token type is here without MFA).
var bedTypes = []struct{ role, typ string }{
	{testbed.RoleIAM, "iam_user"},
	{testbed.RoleAssume, "assumed_role"},
	{testbed.RoleFed, "federation_token"},
	{testbed.RoleSession, "session_token"},
	{testbed.StaticRole, "static"},
}

// credentials gets credentials of each type, each into a cache of its own so that
// every run asks Vault.
func (p *readmePolicy) credentials(t *testing.T) {
	for _, tt := range bedTypes {
		t.Run(tt.typ, func(t *testing.T) {
			env := setEnv(p.env, "XDG_CACHE_HOME", t.TempDir())
			r := runBin(t, env, "--role", tt.role, "--type", tt.typ)
			if r.code != 0 {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			assertWarning(t, r.stderr, "")
		})
	}
}

// iamArgs are the flags of an iam_user request to the bed.
var iamArgs = []string{"--role", testbed.RoleIAM, "--type", "iam_user"}

// agedIAM mints iam_user credentials into a cache of their own and ages the entry past
// its refresh window (still valid): the next run must renew or mint. It returns the
// environment, the first run and the entry's path.
func (p *readmePolicy) agedIAM(t *testing.T) (env []string, first result, entry string) {
	t.Helper()
	env = setEnv(p.env, "XDG_CACHE_HOME", t.TempDir())
	first = runBin(t, env, iamArgs...)
	if first.code != 0 {
		t.Fatalf("exit %d:\n%s", first.code, first.stderr)
	}
	entry = onlyEntry(t, cacheDir(env))
	editEntry(t, entry, age(10*time.Minute))
	return env, first, entry
}

// renewAndRevoke: the run after agedIAM renews the lease (same keys, no new IAM user);
// then cache clear --revoke revokes it and Vault deletes the IAM user.
func (p *readmePolicy) renewAndRevoke(t *testing.T) {
	b := p.b
	env, first, entry := p.agedIAM(t)
	creds, renews, users := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleIAM),
		auditCount(t, b, "update", "sys/leases/renew"), iamUsers(t, b)
	r := runBin(t, env, append(slices.Clone(iamArgs), "--debug")...)
	if r.code != 0 {
		t.Fatalf("renewal: exit %d:\n%s", r.code, r.stderr)
	}
	if parseDocument(t, r.stdout).AccessKeyID != parseDocument(t, first.stdout).AccessKeyID {
		t.Error("the run changed the keys: not a renewal")
	}
	if got := auditCount(t, b, "update", "sys/leases/renew") - renews; got != 1 {
		t.Errorf("%d lease renewals, want 1", got)
	}
	if got := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleIAM) - creds; got != 0 {
		t.Errorf("%d new credential requests, want 0", got)
	}
	if !strings.Contains(r.stderr, "credentials from renewal") {
		t.Errorf("--debug does not say the credentials come from a renewal:\n%s", r.stderr)
	}

	r = runCmd(t, env, slices.Concat([]string{"cache", "clear", "--revoke"}, iamArgs)...)
	want := "revoked lease " + testbed.Mount + "/creds/" + testbed.RoleIAM + "/"
	if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "(Vault deletes the IAM user)") {
		t.Fatalf("cache clear --revoke: exit %d, want 0 and %q:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if got := iamUsers(t, b) - users; got != -1 {
		t.Errorf("%d IAM users more after the revocation, want -1: Vault deleted none", got)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Errorf("the entry is still there after cache clear (%v)", err)
	}
}

// mintedAnew: the run after agedIAM, with a token that may not look itself up, mints
// new keys (another IAM user) instead of renewing the lease, as the README's
// paragraph on auth/token/lookup-self says.
func (p *readmePolicy) mintedAnew(t *testing.T) {
	b := p.b
	env, first, _ := p.agedIAM(t)
	creds, renews, users := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleIAM),
		auditCount(t, b, "update", "sys/leases/renew"), iamUsers(t, b)
	r := runBin(t, env, iamArgs...)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if parseDocument(t, r.stdout).AccessKeyID == parseDocument(t, first.stdout).AccessKeyID {
		t.Error("the run kept the keys")
	}
	if got := auditCount(t, b, "update", "sys/leases/renew") - renews; got != 0 {
		t.Errorf("%d lease renewals, want 0", got)
	}
	if got := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleIAM) - creds; got != 1 {
		t.Errorf("%d credential requests, want 1", got)
	}
	if got := iamUsers(t, b) - users; got != 1 {
		t.Errorf("%d new IAM users, want 1", got)
	}
}

// doctor: doctor --profile and --role pass every check, none marked "-"; a mistyped
// role gets the nearest one.
func (p *readmePolicy) doctor(t *testing.T) {
	dir := t.TempDir()
	awsConfig := filepath.Join(dir, "aws-config")
	writeFile(t, awsConfig, "[profile deploy]\ncredential_process = "+binaryUnderTest(t)+" --profile deploy\n", 0o600)
	env := append(setEnv(p.env, "XDG_CACHE_HOME", filepath.Join(dir, "cache")), "AWS_CONFIG_FILE="+awsConfig)
	config := filepath.Join(envValue(env, "XDG_CONFIG_HOME"), "vault-credential-process", "config.toml")
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, config, "[profiles.deploy]\nrole = \""+testbed.RoleAssume+"\"\ntype = \"assumed_role\"\n", 0o600)
	for _, tt := range []struct {
		args  []string
		lines []string
	}{
		{[]string{"--profile", "deploy", "--fetch"}, []string{
			"✓ vault role: role assume exists and issues assumed_role credentials",
			"✓ vault policy: the token may update aws/creds/assume (update)"}},
		{[]string{"--role", testbed.RoleIAM}, []string{
			"✓ vault role: role iam exists and issues iam_user credentials",
			"✓ vault policy: the token may update aws/creds/iam (update)"}},
		{[]string{"--role", testbed.StaticRole, "--type", "static"}, []string{
			"✓ vault role: static role static exists (aws/static-roles/static)",
			"✓ vault policy: the token may read aws/static-creds/static (read)"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCmd(t, env, append([]string{"doctor"}, tt.args...)...)
			assertDoctor(t, r, 0, tt.lines...)
			for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
				if !strings.HasPrefix(l, "✓ ") && !strings.HasPrefix(l, "… ") {
					t.Errorf("a check did not pass: %q in:\n%s", l, r.stdout)
				}
			}
		})
	}
	// The roles list names the nearest role, as the README's comment says.
	r := runCmd(t, env, "doctor", "--role", "iamm")
	assertDoctor(t, r, 1, "✗ vault role: no role iamm at aws/roles/iamm\n"+
		"  hint: check --role (or role in the profile): `vault list aws/roles` shows the roles; did you mean iam?")
}

// awsConfigAll writes a profile for every role the token lists, and the aws CLI gets
// the static role's identity through one of them.
func (p *readmePolicy) awsConfigAll(t *testing.T) {
	awsConfig := filepath.Join(t.TempDir(), "config")
	env := append(setEnv(p.env, "XDG_CACHE_HOME", t.TempDir()), "AWS_CONFIG_FILE="+awsConfig)
	r := runCmd(t, env, "aws-config", "--all", "--region", testbed.Region, "--write")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, " not listed") || strings.Contains(r.stderr, " not read") {
		t.Errorf("aws-config --all could not list or read every role:\n%s", r.stderr)
	}
	data, err := os.ReadFile(awsConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range bedTypes {
		if want := "[profile " + testbed.Mount + "-" + tt.role + "]"; !strings.Contains(string(data), want) {
			t.Errorf("no %s in the written file:\n%s", want, data)
		}
	}
	id := runClient(t, clientEnv(env, awsConfig), "aws", "--profile", testbed.Mount+"-"+testbed.StaticRole,
		"--endpoint-url", p.b.MotoURL, "sts", "get-caller-identity", "--output", "json")
	if want := "arn:aws:iam::" + p.b.AccountID + ":user/" + testbed.StaticUser; id.Arn != want {
		t.Errorf("the aws CLI got the identity %q through the written profile, want %q", id.Arn, want)
	}
}

// wildcards: the README's "(or use + and *)" for the role names.
func (p *readmePolicy) wildcards(t *testing.T) {
	hcl := readmeHCL(t, p.section)
	for i, w := range []string{"+", "*"} {
		t.Run(w, func(t *testing.T) {
			policy := withNames(t, hcl, testbed.Mount, func(string) []string { return []string{w} })
			env := policyEnv(t, p.b, "vcp-readme-wildcard-"+string(rune('a'+i)), policy, false)
			for _, tt := range []struct{ role, typ string }{{testbed.RoleAssume, "assumed_role"}, {testbed.StaticRole, "static"}} {
				if r := runBin(t, env, "--role", tt.role, "--type", tt.typ); r.code != 0 {
					t.Errorf("%s with the policy\n%s\nexit %d:\n%s", tt.role, policy, r.code, r.stderr)
				}
			}
		})
	}
}

// defaultAlone: a token with only Vault's default policy gets the 403 and the hint
// that names the path its policy lacks.
func (p *readmePolicy) defaultAlone(t *testing.T) {
	token, _, err := newToken(runCtx, p.b, "1h", "default")
	if err != nil {
		t.Fatal(err)
	}
	env := setEnv(p.env, "VAULT_TOKEN", token)
	for _, tt := range []struct{ role, typ, path string }{
		{testbed.RoleIAM, "iam_user", "aws/creds/iam"},
		{testbed.StaticRole, "static", "aws/static-creds/static"},
	} {
		r := runBin(t, env, "--role", tt.role, "--type", tt.typ)
		assertFailure(t, r, 1, "get credentials from "+tt.path+": Vault answered 403: permission denied",
			"its policy does not allow "+tt.path+" (are --mount and --role right?)")
	}
}

// withoutRoles: the README's comment on the roles stanza says doctor then marks the
// role check "-" and --fetch tries the request; aws-config --all warns that it could
// not list the roles (docs/usage.md).
func (p *readmePolicy) withoutRoles(t *testing.T) {
	hcl := withoutRoles(p.hcl)
	if hcl == p.hcl {
		t.Fatalf("the policy has no roles stanza to remove:\n%s", hcl)
	}
	dir := t.TempDir()
	awsConfig := filepath.Join(dir, "config")
	writeFile(t, awsConfig, "[profile iam]\ncredential_process = "+binaryUnderTest(t)+" --role iam\n", 0o600)
	env := append(setEnv(policyEnv(t, p.b, "vcp-readme-no-roles", hcl, false), "XDG_CACHE_HOME", filepath.Join(dir, "cache")),
		"AWS_CONFIG_FILE="+awsConfig)
	r := runCmd(t, env, "doctor", "--fetch", "--role", testbed.RoleIAM)
	// Without the role's definition doctor does not know the type: the credentials
	// line says what the keys are.
	assertDoctor(t, r, 0,
		"- vault role: not checked: the token may not read aws/roles/iam (--fetch tries the request itself)",
		"✓ vault policy: the token may update aws/creds/iam (update)")
	if !regexp.MustCompile(`(?m)^✓ credentials: access key id AKIA\w+, keys without a session token, new from Vault, `).MatchString(r.stdout) {
		t.Errorf("--fetch did not get the credentials:\n%s", r.stdout)
	}

	r = runCmd(t, env, "aws-config", "--all", "--region", testbed.Region)
	if r.code != 0 {
		t.Fatalf("aws-config --all: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertWarnings(t, r.stderr, `aws: roles not listed: the token's policy lacks "list" on aws/roles and aws/static-roles; no profile of aws is removed`)
}

// defaultPathRE is a Vault path in backquotes in the README's paragraph on the default
// policy.
var defaultPathRE = regexp.MustCompile("`((?:auth|sys|identity)/[^`\\s]+)`")

// defaultStanzas returns the stanzas of Vault's default policy for each path the
// README's paragraph says it allows ("a token made with no_default_policy needs these
// added"), failing the test for a path that default lacks; sys/leases/renew, which
// the README's policy has and its comment says default has too, must be there.
func (p *readmePolicy) defaultStanzas(t *testing.T) []string {
	t.Helper()
	_, para, ok := strings.Cut(p.section, "Vault's `default` policy already allows")
	para, _, ok2 := strings.Cut(para, "No policy is needed")
	if !ok || !ok2 {
		t.Fatal("README's Vault policy section has no paragraph on what the default policy allows")
	}
	var paths []string
	for _, m := range defaultPathRE.FindAllStringSubmatch(para, -1) {
		paths = append(paths, strings.Replace(m[1], "<id>", "{{identity.entity.id}}", 1))
	}
	if len(paths) < 5 {
		t.Fatalf("found only %v in the README's paragraph on the default policy", paths)
	}
	var policy struct {
		Data struct{ Policy string } `json:"data"`
	}
	if err := p.b.VaultRequest(runCtx, "GET", "sys/policies/acl/default", nil, &policy); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, path := range append(paths, "sys/leases/renew") {
		stanza := regexp.MustCompile(`path "` + regexp.QuoteMeta(path) + `" \{[^}]*\}`).FindString(policy.Data.Policy)
		if stanza == "" {
			t.Errorf("the README says Vault's default policy allows %s; it has no such path:\n%s", path, policy.Data.Policy)
		}
		out = append(out, stanza+"\n")
	}
	return out
}

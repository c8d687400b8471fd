package main

// Integration tests of `aws-config --all` (issue 22) against a real Vault of their own
// (testbed.AWSVault: two AWS mounts, one at a non-default path, roles of every type, a
// kv mount), reached through the fault proxy so that a listing can be cut half-way:
// the diff it prints, the file it writes (the user's lines byte for byte), a role added
// and one removed, the prune rules, a token that may list only one mount, every written
// profile run by the aws CLI against moto, and a cut listing that changes nothing.

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/awsconfig"
	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// allMount is the AWS mount at a non-default path; the other is at "aws".
const allMount = "team/aws"

// allPolicy lets a token list and read the roles of both AWS mounts and get credentials
// from them; onePolicy lists only allMount's, and gets credentials from both. The kv
// mount is visible to both, and must be ignored.
const (
	allCreds = `
path "aws/creds/*"          { capabilities = ["read", "update"] }
path "aws/static-creds/*"   { capabilities = ["read"] }
path "team/aws/creds/*"     { capabilities = ["read", "update"] }
path "kv-extra/*"           { capabilities = ["read"] }
`
	teamList = `
path "team/aws/roles"        { capabilities = ["list"] }
path "team/aws/roles/*"      { capabilities = ["read"] }
path "team/aws/static-roles" { capabilities = ["list"] }
`
	allPolicy = allCreds + teamList + `
path "aws/roles"        { capabilities = ["list"] }
path "aws/roles/*"      { capabilities = ["read"] }
path "aws/static-roles" { capabilities = ["list"] }
`
	onePolicy = allCreds + teamList
)

// allBed is an AWSVault set up for aws-config --all, behind a fault proxy.
type allBed struct {
	b          *testbed.Bed
	v          *testbed.AWSVault
	proxy      *faultProxy
	secondARN  string // the multi role's second ARN (the first is the bed's target role)
	staticUser string
	all, one   string // tokens with allPolicy and onePolicy
}

// startAllBed starts the Vault and creates the mounts, the roles and the tokens.
func startAllBed(t *testing.T, b *testbed.Bed) *allBed {
	t.Helper()
	ctx, cancel := context.WithTimeout(runCtx, 3*time.Minute)
	defer cancel()
	v, err := b.StartAWSVault(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("start the second Vault: %v", err)
	}
	t.Cleanup(func() { _ = v.Stop() })
	ab := &allBed{b: b, v: v, proxy: startFaultProxy(t, v.Addr)}
	for _, m := range []string{"aws", allMount} {
		if err := v.EnableAWS(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if ab.secondARN, err = v.NewAssumableRole(ctx, "vcp-all-second"); err != nil {
		t.Fatal(err)
	}
	if ab.staticUser, err = v.NewStaticUser(ctx, "vcp-all-static"); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`
	steps := []struct {
		path string
		body map[string]any
	}{
		{"sys/mounts/kv-extra", map[string]any{"type": "kv"}},
		{"kv-extra/x", map[string]any{"a": "b"}},
		{"aws/roles/iam", map[string]any{"credential_type": "iam_user", "policy_document": policy}},
		{"aws/roles/fed", map[string]any{"credential_type": "federation_token", "policy_document": policy}},
		{"aws/roles/session", map[string]any{"credential_type": "session_token"}},
		{"aws/roles/mfa", map[string]any{"credential_type": "session_token", "mfa_serial_number": "arn:aws:iam::" + b.AccountID + ":mfa/vcp"}},
		{"aws/roles/taken", map[string]any{"credential_type": "iam_user", "policy_document": policy}},
		{"aws/static-roles/rot", map[string]any{"username": ab.staticUser, "rotation_period": "2h"}},
		{allMount + "/roles/assume", map[string]any{"credential_type": "assumed_role", "role_arns": []string{b.TargetRoleARN}}},
		{allMount + "/roles/multi", map[string]any{"credential_type": "assumed_role", "role_arns": []string{b.TargetRoleARN, ab.secondARN}}},
		{allMount + "/roles/old", map[string]any{"credential_type": "iam_user", "policy_document": policy}},
	}
	for _, s := range steps {
		if err := v.Request(ctx, "POST", s.path, s.body, nil); err != nil {
			t.Fatal(err)
		}
	}
	if ab.all, err = v.Token(ctx, "vcp-all", allPolicy, "2h"); err != nil {
		t.Fatal(err)
	}
	if ab.one, err = v.Token(ctx, "vcp-one", onePolicy, "2h"); err != nil {
		t.Fatal(err)
	}
	addSecret(ab.all)
	addSecret(ab.one)
	return ab
}

// request sends one request to the second Vault with its root token.
func (ab *allBed) request(t *testing.T, method, path string, body map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(runCtx, 30*time.Second)
	defer cancel()
	if err := ab.v.Request(ctx, method, path, body, nil); err != nil {
		t.Fatal(err)
	}
}

// audit counts the requests of method to path in the second Vault's audit log.
func (ab *allBed) audit(t *testing.T, method, path string) int {
	t.Helper()
	n, err := ab.v.AuditCount(method, path)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// allUserFile is the user's own AWS config: comments, spacing botocore allows, a nested
// block, and a profile whose name --all would give a role.
const allUserFile = "# my own settings: keep this comment\n[default]\nregion=eu-central-1\noutput = json\n\n" +
	"[profile  mine]\ns3 =\n  max_concurrent_requests = 4\nregion = eu-west-1\n\n" +
	"[profile aws-taken]\n; the user's own profile of this name\ncredential_process = /bin/false\n"

// TestAWSConfigAll is the whole life of a synced AWS config file: each step changes
// what the one before wrote.
func TestAWSConfigAll(t *testing.T) {
	ar := newAllRun(t, requireBed(t))
	t.Run("dry run prints the diff and writes nothing", ar.dryRun)
	t.Run("write", ar.write)
	t.Run("the aws CLI reads every profile and gets its identity from moto", ar.awsCLI)
	t.Run("a role added and one removed: added, the gone one kept until --prune", ar.addedAndRemoved)
	t.Run("a token that may list one mount prunes only that one", ar.oneMount)
	t.Run("a listing cut half-way changes nothing", ar.cutListing)
}

// allRun is what the steps of TestAWSConfigAll share: the bed, the AWS config file
// they change in turn, and the profiles aws-config --all writes into it.
type allRun struct {
	b              *testbed.Bed
	ab             *allBed
	dir, awsConfig string
	allEnv, oneEnv []string          // with the tokens of allPolicy and onePolicy
	profiles       map[string]string // name -> the stanza aws-config --all writes
	first          []string          // the profiles of the first write
	second         string            // the name of the multi role's second role
	mfaSkipped     string            // the warnings of every run with the all token
	taken          string
}

func newAllRun(t *testing.T, b *testbed.Bed) *allRun {
	ab := startAllBed(t, b)
	bin, err := filepath.EvalSymlinks(binaryUnderTest(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	awsConfig := filepath.Join(dir, "config")
	writeFile(t, awsConfig, allUserFile, 0o600)
	env := append(homeEnv(t), "VAULT_ADDR="+ab.proxy.addr(), "AWS_CONFIG_FILE="+awsConfig)
	second := ab.secondARN[strings.LastIndex(ab.secondARN, "/")+1:]
	ar := &allRun{b: b, ab: ab, dir: dir, awsConfig: awsConfig, second: second,
		allEnv: setEnv(env, "VAULT_TOKEN", ab.all), oneEnv: setEnv(env, "VAULT_TOKEN", ab.one),
		mfaSkipped: "aws: no profile for role mfa: it needs an MFA code (mfa_serial_number)",
		taken:      "profile aws-taken left as it is: it exists and was not written by aws-config --all"}

	scope := "vault=" + ab.proxy.addr()
	stanza := func(mount, name string, words ...string) string {
		line, _ := awsconfig.CommandLine(runtime.GOOS, append([]string{bin}, words...)...)
		return "\n" + awsconfig.MarkerLine(scope, mount) + "\n[profile " + name + "]\ncredential_process = " + line +
			"\nregion = " + testbed.Region + "\n"
	}
	role := func(mount, role, typ string, more ...string) []string {
		return append([]string{"--mount", mount, "--role", role, "--type", typ}, more...)
	}
	ar.profiles = map[string]string{ // name -> stanza
		"aws-fed":                              stanza("aws", "aws-fed", role("aws", "fed", "federation_token")...),
		"aws-iam":                              stanza("aws", "aws-iam", role("aws", "iam", "iam_user")...),
		"aws-rot":                              stanza("aws", "aws-rot", role("aws", "rot", "static")...),
		"aws-session":                          stanza("aws", "aws-session", role("aws", "session", "session_token")...),
		"team-aws-assume":                      stanza(allMount, "team-aws-assume", role(allMount, "assume", "assumed_role")...),
		"team-aws-multi-" + testbed.TargetRole: stanza(allMount, "team-aws-multi-"+testbed.TargetRole, role(allMount, "multi", "assumed_role", "--role-arn", b.TargetRoleARN)...),
		"team-aws-multi-" + second:             stanza(allMount, "team-aws-multi-"+second, role(allMount, "multi", "assumed_role", "--role-arn", ab.secondARN)...),
		"team-aws-old":                         stanza(allMount, "team-aws-old", role(allMount, "old", "iam_user")...),
		"team-aws-new":                         stanza(allMount, "team-aws-new", role(allMount, "new", "federation_token")...),
	}
	ar.first = []string{"aws-fed", "aws-iam", "aws-rot", "aws-session", "team-aws-assume",
		"team-aws-multi-" + testbed.TargetRole, "team-aws-multi-" + second, "team-aws-old"}
	return ar
}

// file is the user's own file with the stanzas of names after it.
func (ar *allRun) file(names ...string) string {
	out := allUserFile
	for _, n := range names {
		out += ar.profiles[n]
	}
	return out
}

// withNew is the first profiles and team-aws-new, whose role a later step adds.
func (ar *allRun) withNew() []string { return append(slices.Clone(ar.first), "team-aws-new") }

func (ar *allRun) dryRun(t *testing.T) {
	r := runCmd(t, ar.allEnv, "aws-config", "--all", "--region", testbed.Region)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	t.Logf("dry run against the test's Vault:\n%s%s", r.stdout, r.stderr)
	assertWarnings(t, r.stderr, ar.mfaSkipped, ar.taken)
	header := "--- " + ar.awsConfig + "\n+++ " + ar.awsConfig + "\n@@ -11,3 +11,"
	if !strings.HasPrefix(r.stdout, header) {
		t.Errorf("stdout does not start with %q:\n%s", header, r.stdout)
	}
	if got, want := addedLines(r.stdout), strings.TrimPrefix(ar.file(ar.first...), allUserFile); got != want {
		t.Errorf("the diff adds\n%s\nwant\n%s", got, want)
	}
	assertFileIs(t, ar.awsConfig, allUserFile)
}

func (ar *allRun) write(t *testing.T) {
	r := runCmd(t, ar.allEnv, "aws-config", "--all", "--region", testbed.Region, "--write")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	assertWarnings(t, r.stderr, ar.mfaSkipped, ar.taken)
	want := ""
	for _, n := range ar.first {
		want += "added profile " + n + "\n"
	}
	if want += "wrote " + ar.awsConfig + "\n"; r.stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", r.stdout, want)
	}
	assertFileIs(t, ar.awsConfig, ar.file(ar.first...))
	again := runCmd(t, ar.allEnv, "aws-config", "--all", "--region", testbed.Region, "--write")
	if again.code != 0 || again.stdout != "no change to "+ar.awsConfig+"\n" {
		t.Errorf("a second run: exit %d, stdout %q", again.code, again.stdout)
	}
	assertFileIs(t, ar.awsConfig, ar.file(ar.first...))
}

func (ar *allRun) awsCLI(t *testing.T) {
	regions := map[string]string{"default": "eu-central-1", "mine": "eu-west-1", "aws-taken": ""}
	for _, n := range ar.first {
		regions[n] = testbed.Region
	}
	assertAWSProfiles(t, ar.allEnv, ar.awsConfig, regions)
	arn := func(s string) string { return "^" + regexp.QuoteMeta("arn:aws:"+s) }
	motoDefault := arn("sts::"+ar.b.AccountID+":user/moto") + "$" // federation and session tokens
	checks := []struct{ profile, op, path, arn string }{
		{"aws-iam", "update", "aws/creds/iam", arn("iam::" + ar.b.AccountID + ":user/vault-token-iam-")},
		{"aws-fed", "update", "aws/creds/fed", motoDefault},
		{"aws-session", "update", "aws/creds/session", motoDefault},
		{"aws-rot", "read", "aws/static-creds/rot", arn("iam::"+ar.b.AccountID+":user/"+ar.ab.staticUser) + "$"},
		{"team-aws-assume", "update", allMount + "/creds/assume", arn("sts::" + ar.b.AccountID + ":assumed-role/" + testbed.TargetRole + "/")},
		{"team-aws-multi-" + testbed.TargetRole, "update", allMount + "/creds/multi", arn("sts::" + ar.b.AccountID + ":assumed-role/" + testbed.TargetRole + "/")},
		{"team-aws-multi-" + ar.second, "update", allMount + "/creds/multi", arn("sts::" + ar.b.AccountID + ":assumed-role/" + ar.second + "/")},
		{"team-aws-old", "update", allMount + "/creds/old", arn("iam::" + ar.b.AccountID + ":user/vault-token-old-")},
	}
	clients := clientEnv(ar.allEnv, ar.awsConfig)
	for _, c := range checks {
		t.Run(c.profile, func(t *testing.T) {
			before := ar.ab.audit(t, c.op, c.path)
			id := runClient(t, clients, "aws", "--profile", c.profile, "--endpoint-url", ar.b.MotoURL,
				"sts", "get-caller-identity", "--output", "json")
			if !regexp.MustCompile(c.arn).MatchString(id.Arn) || id.Account != ar.b.AccountID {
				t.Errorf("identity %+v, want an Arn matching %s in account %s", id, c.arn, ar.b.AccountID)
			}
			if got := ar.ab.audit(t, c.op, c.path) - before; got != 1 {
				t.Errorf("%d %s requests to %s, want 1: the profile did not ask for its own role", got, c.op, c.path)
			}
		})
	}
}

func (ar *allRun) addedAndRemoved(t *testing.T) {
	ar.ab.request(t, "POST", allMount+"/roles/new", map[string]any{"credential_type": "federation_token",
		"policy_document": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`})
	ar.ab.request(t, "DELETE", allMount+"/roles/old", nil)
	r := runCmd(t, ar.allEnv, "aws-config", "--all", "--region", testbed.Region, "--write")
	if r.code != 0 || r.stdout != "added profile team-aws-new\nwrote "+ar.awsConfig+"\n" {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
	assertWarnings(t, r.stderr, ar.mfaSkipped, ar.taken, "profile team-aws-old left as it is: its role is gone; --prune removes it")
	assertFileIs(t, ar.awsConfig, ar.file(ar.withNew()...))

	r = runCmd(t, ar.allEnv, "aws-config", "--all", "--region", testbed.Region, "--write", "--prune")
	if r.code != 0 || r.stdout != "removed profile team-aws-old\nwrote "+ar.awsConfig+"\n" {
		t.Errorf("--prune: exit %d, stdout %q", r.code, r.stdout)
	}
	assertWarnings(t, r.stderr, ar.mfaSkipped, ar.taken)
	assertFileIs(t, ar.awsConfig, ar.file(without(ar.withNew(), "team-aws-old")...))
}

func (ar *allRun) oneMount(t *testing.T) {
	ar.ab.request(t, "DELETE", "aws/roles/session", nil)
	ar.ab.request(t, "DELETE", allMount+"/roles/new", nil)
	r := runCmd(t, ar.oneEnv, "aws-config", "--all", "--region", testbed.Region, "--write", "--prune")
	if r.code != 0 || r.stdout != "removed profile team-aws-new\nwrote "+ar.awsConfig+"\n" {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
	assertWarnings(t, r.stderr, `aws: roles not listed: the token's policy lacks "list" on aws/roles and aws/static-roles; no profile of aws is removed`)
	assertFileIs(t, ar.awsConfig, ar.file(without(ar.withNew(), "team-aws-old", "team-aws-new")...))
}

func (ar *allRun) cutListing(t *testing.T) {
	// With the whole listing, --prune would remove aws-session (deleted above).
	kept := ar.file(without(ar.withNew(), "team-aws-old", "team-aws-new")...)
	ar.ab.request(t, "POST", allMount+"/roles/late", map[string]any{"credential_type": "session_token"})
	cut := func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return true
	}
	rows := []struct {
		name      string
		match     func(*http.Request) bool
		fault     fault
		msg, hint string
	}{
		{"connection cut at the second mount's roles", underPath("/v1/" + allMount + "/roles/"), cut,
			"read the role assume of " + allMount, "the AWS config file was not changed"},
		{"a 500 for the second mount's list", underPath("/v1/" + allMount + "/roles"),
			answer(0, 500, nil, `{"errors":["internal error"]}`), "list the roles of " + allMount + ": Vault answered 500", "try again later"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			ar.ab.proxy.setMatch(row.match)
			ar.ab.proxy.set(row.fault, nil)
			defer func() { ar.ab.proxy.set(nil, nil); ar.ab.proxy.setMatch(nil) }()
			r := runCmd(t, setEnv(ar.allEnv, "VAULT_CREDENTIAL_PROCESS_RETRIES", "0"),
				"aws-config", "--all", "--region", testbed.Region, "--write", "--prune")
			if ar.ab.proxy.count() == 0 {
				t.Fatal("the fault was never reached")
			}
			t.Logf("stderr:\n%s", r.stderr)
			assertFailure(t, r, process.ExitFailure, row.msg, row.hint)
			assertFileIs(t, ar.awsConfig, kept)
			if got := testenv.DirNames(t, ar.dir); !slices.Equal(got, []string{"config"}) {
				t.Errorf("the folder holds %q, want only config", got)
			}
		})
	}
	// The same run without the fault does remove and add: the cut runs had something
	// to change.
	r := runCmd(t, ar.allEnv, "aws-config", "--all", "--region", testbed.Region, "--write", "--prune")
	if r.code != 0 || r.stdout != "added profile team-aws-late\nremoved profile aws-session\nwrote "+ar.awsConfig+"\n" {
		t.Errorf("without the fault: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
}

// underPath matches the requests whose URL path starts with prefix.
func underPath(prefix string) func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, prefix) }
}

// without is names less drop.
func without(names []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(drop, n) })
}

// addedLines are the lines a unified diff adds, as a file's text.
func addedLines(diff string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(diff, "\n") {
		if strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++ ") {
			b.WriteString(l[1:])
		}
	}
	return b.String()
}

// assertFileIs checks a file's bytes.
func assertFileIs(t *testing.T, path, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != want {
		t.Errorf("%s holds\n%s\nwant\n%s", path, data, want)
	}
}

// assertWarnings checks a successful run's stderr: exactly one warning line per want,
// in order, each mentioning it.
func assertWarnings(t *testing.T, stderr string, wants ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if stderr == "" {
		lines = nil
	}
	ok := len(lines) == len(wants)
	for i := 0; ok && i < len(wants); i++ {
		ok = strings.HasPrefix(lines[i], warningPrefix) && strings.Contains(lines[i], wants[i])
	}
	if !ok {
		t.Errorf("stderr:\n%s\nwant one warning line each mentioning, in order:\n%s", stderr, strings.Join(wants, "\n"))
	}
	assertPrintable(t, stderr)
}

// botocoreProfiles is a script that prints, as JSON, the region of each profile of the
// AWS config file botocore (the aws CLI's parser) reads, and the s3 block of "mine".
const botocoreProfiles = `import botocore.session, json
c = botocore.session.Session().full_config["profiles"]
print(json.dumps({"regions": {n: p.get("region", "") for n, p in c.items()}, "mine_s3": c.get("mine", {}).get("s3")}))`

// assertAWSProfiles checks that botocore reads the file, markers and all, as the
// profiles regions names (name -> region), and the user's nested s3 block as it was.
func assertAWSProfiles(t *testing.T, env []string, awsConfig string, regions map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(runCtx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", botocoreProfiles)
	cmd.Env = clientEnv(env, awsConfig)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("botocore: %v", err)
	}
	var got struct {
		Regions map[string]string `json:"regions"`
		MineS3  map[string]string `json:"mine_s3"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("botocore: %v: %s", err, out)
	}
	if !maps.Equal(got.Regions, regions) {
		t.Errorf("botocore reads the profiles and regions\n%v\nwant\n%v", got.Regions, regions)
	}
	if want := map[string]string{"max_concurrent_requests": "4"}; !maps.Equal(got.MineS3, want) {
		t.Errorf("botocore reads mine's s3 block as %v, want %v", got.MineS3, want)
	}
}

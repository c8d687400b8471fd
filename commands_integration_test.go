package main

// Integration tests of the everyday commands: env, exec, cache list/clear, doctor,
// aws-config, MFA and the audit trail, each end to end against the bed.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// TestEnvCommand sources the export lines in sh and runs the aws CLI with them.
func TestEnvCommand(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := b.WriteAWSConfig(config, map[string]string{"default": "false"}); err != nil {
		t.Fatal(err)
	}
	// The default profile's own credential_process fails, and the environment comes
	// first in the default chain: only the exported credentials can work.
	for _, tt := range []struct {
		name string
		args []string
		arn  string
	}{
		{"assumed_role", []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--role-session-name", "from-env"},
			":assumed-role/" + testbed.TargetRole + "/from-env"},
		{"iam_user", []string{"--role", testbed.RoleIAM, "--type", "iam_user"}, ":user/vault-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, env, append([]string{"env"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "export AWS_ACCESS_KEY_ID='") || !strings.Contains(r.stdout, "export AWS_CREDENTIAL_EXPIRATION='") {
				t.Errorf("env output lacks the exports:\n%s", r.stdout)
			}
			// A stale session token in the shell must not survive an iam_user export.
			script := "export AWS_SESSION_TOKEN=stale\n" + r.stdout +
				"exec aws sts get-caller-identity --output json\n"
			cmd := exec.Command("sh", "-c", script)
			cmd.Env = clientEnv(env, config)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("sh with the exports: %v\n%s", err, out)
			}
			var id callerIdentity
			if err := json.Unmarshal(out, &id); err != nil || !strings.Contains(id.Arn, tt.arn) {
				t.Errorf("caller identity %q (%v), want %s", out, err, tt.arn)
			}
		})
	}
	t.Run("fish and powershell quoting", func(t *testing.T) {
		for _, f := range []string{"fish", "powershell"} {
			r := runCmd(t, env, "env", "--format", f, "--role", testbed.RoleAssume)
			if r.code != 0 || !strings.Contains(r.stdout, "AWS_SESSION_TOKEN") {
				t.Errorf("%s: exit %d, stdout:\n%s\nstderr: %s", f, r.code, r.stdout, r.stderr)
			}
		}
		r := runCmd(t, env, "env", "--format", "csh", "--role", testbed.RoleAssume)
		assertFailure(t, r, 2, `--format: unknown shell format "csh"`, "use sh, fish or powershell")
	})
}

// TestExecCommand runs the aws CLI under exec, passes an exit status through and
// refuses to nest.
func TestExecCommand(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := b.WriteAWSConfig(config, map[string]string{"broken": "false"}); err != nil {
		t.Fatal(err)
	}
	// AWS_PROFILE names a profile whose own credential_process fails: exec must drop it.
	awsEnv := clientEnv(env, config, "AWS_PROFILE=broken", "AWS_ACCESS_KEY_ID=AKIASTALESTALESTALE0",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL="+b.MotoURL)
	r := runCmd(t, awsEnv, "exec", "--role", testbed.RoleAssume, "--role-session-name", "from-exec", "--",
		"aws", "sts", "get-caller-identity", "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, ":assumed-role/"+testbed.TargetRole+"/from-exec") {
		t.Errorf("caller identity under exec: %s", r.stdout)
	}

	if r := runCmd(t, env, "exec", "--role", testbed.RoleAssume, "--", "sh", "-c", "exit 3"); r.code != 3 {
		t.Errorf("exit status of the command: got %d, want 3 (stderr %s)", r.code, r.stderr)
	}
	t.Run("nested", func(t *testing.T) {
		r := runCmd(t, env, "exec", "--role", testbed.RoleAssume, "--", binaryUnderTest(t), "exec", "--role", testbed.RoleAssume, "--", "true")
		assertFailure(t, r, 2, "already running inside", "leave that shell first")
	})
	t.Run("missing command", func(t *testing.T) {
		r := runCmd(t, env, "exec", "--role", testbed.RoleAssume, "--", "no-such-command-vcp")
		assertFailure(t, r, 127, `exec: command "no-such-command-vcp" not found`, "check the command name")
	})
}

// TestCacheCommands lists entries without secrets and clears them, revoking an
// iam_user lease so that Vault deletes the IAM user in moto.
func TestCacheCommands(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(`[profiles.dev]
role = "`+testbed.RoleIAM+`"
type = "iam_user"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "VAULT_CREDENTIAL_PROCESS_CONFIG="+path)
	users := iamUsers(t, b)
	dev := runBin(t, env, "--profile", "dev")
	other := runBin(t, env, "--role", testbed.RoleAssume, "--type", "assumed_role")
	if dev.code != 0 || other.code != 0 {
		t.Fatalf("exit %d/%d: %s %s", dev.code, other.code, dev.stderr, other.stderr)
	}
	if iamUsers(t, b) != users+1 {
		t.Fatalf("moto has %d IAM users, want %d", iamUsers(t, b), users+1)
	}

	list := runCmd(t, env, "cache", "list")
	if list.code != 0 || !regexp.MustCompile(`(?m)^dev\s+iam_user\s+vault\s.*\sfresh$`).MatchString(list.stdout) ||
		!regexp.MustCompile(`(?m)^aws/`+testbed.RoleAssume+`\s+assumed_role\s`).MatchString(list.stdout) {
		t.Errorf("cache list: exit %d:\n%s%s", list.code, list.stdout, list.stderr)
	}
	assertNoSecret(t, "cache list", list.stdout)
	js := runCmd(t, env, "cache", "list", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(js.stdout), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("cache list --json: %v: %s", err, js.stdout)
	}
	assertNoSecret(t, "cache list --json", js.stdout)

	clear := runCmd(t, env, "cache", "clear", "--profile", "dev", "--revoke")
	if clear.code != 0 || !strings.Contains(clear.stdout, "Vault deletes the IAM user") || !strings.Contains(clear.stdout, "removed 1 ") {
		t.Fatalf("cache clear --revoke: exit %d:\n%s%s", clear.code, clear.stdout, clear.stderr)
	}
	if got := iamUsers(t, b); got != users {
		t.Errorf("after revoking, moto has %d IAM users, want %d", got, users)
	}
	assertFailure(t, runCmd(t, env, "cache", "clear"), 2, "cache clear: say which entries", "--all")
	// A profile in the environment does not make --all a usage error.
	all := runCmd(t, append(env, "VAULT_CREDENTIAL_PROCESS_PROFILE=dev"), "cache", "clear", "--all")
	if all.code != 0 || !strings.Contains(all.stdout, "removed 1 ") {
		t.Errorf("cache clear --all: exit %d:\n%s%s", all.code, all.stdout, all.stderr)
	}
	if r := runCmd(t, env, "cache", "list"); !strings.HasPrefix(r.stdout, "no cache entries") {
		t.Errorf("cache list after clear --all:\n%s", r.stdout)
	}
}

// TestDoctor passes on the bed and names the failing check when Vault is down, the
// token is bad or the policy denies.
func TestDoctor(t *testing.T) {
	b := requireBed(t)
	_, deny := tokens(t, b)
	env := productEnv(t, b)
	awsConfig := filepath.Join(t.TempDir(), "config")
	env = append(env, "AWS_CONFIG_FILE="+awsConfig, "VAULT_CREDENTIAL_PROCESS_CONFIG="+writeProfile(t, "dev", testbed.RoleAssume))
	if r := runCmd(t, env, "aws-config", "--profile", "dev", "--write"); r.code != 0 {
		t.Fatalf("aws-config --write: exit %d: %s", r.code, r.stderr)
	}
	ok := runCmd(t, env, "doctor", "--profile", "dev")
	if ok.code != 0 || strings.Contains(ok.stdout, "✗") {
		t.Fatalf("doctor on the bed: exit %d:\n%s%s", ok.code, ok.stdout, ok.stderr)
	}
	for _, want := range []string{"✓ vault server: " + b.VaultAddr + " is reachable and unsealed, Vault 1.", "✓ vault token: from VAULT_TOKEN, valid for",
		"✓ vault policy: the token may update aws/creds/" + testbed.RoleAssume, "✓ clock:", "✓ cache:", "✓ aws config:"} {
		if !strings.Contains(ok.stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, ok.stdout)
		}
	}
	for _, tt := range []struct {
		name  string
		env   []string
		check string
	}{
		{"vault down", setEnv(env, "VAULT_ADDR", "http://"+closedPort(t)), "✗ vault server:"},
		{"bad token", setEnv(env, "VAULT_TOKEN", "hvs.not-a-real-token-0123456789"), "✗ vault token:"},
		{"policy denies", setEnv(env, "VAULT_TOKEN", deny), "✗ vault policy:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.env, "doctor", "--profile", "dev")
			if r.code != 1 || !strings.Contains(r.stdout, tt.check) || !strings.Contains(r.stdout, "  hint: ") {
				t.Errorf("exit %d, want 1 with %q and a hint:\n%s%s", r.code, tt.check, r.stdout, r.stderr)
			}
		})
	}
}

// writeProfile writes a configuration file with one profile and returns its path.
func writeProfile(t *testing.T, name, role string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[profiles."+name+"]\nrole = \""+role+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAWSConfigCommand writes a profile into a file with other profiles and comments,
// which stay byte for byte, and the aws CLI then uses it.
func TestAWSConfigCommand(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	dir := t.TempDir()
	awsConfig := filepath.Join(dir, "config")
	before := "# my settings\n[default]\nregion = eu-west-1\n\n[profile other]\n# keep me\nregion = us-west-2\n"
	if err := os.WriteFile(awsConfig, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	helperConfig := writeProfile(t, "dev", testbed.RoleAssume)
	env = append(env, "AWS_CONFIG_FILE="+awsConfig, "VAULT_CREDENTIAL_PROCESS_CONFIG="+helperConfig)

	// The configuration file came from the environment, which the AWS client that runs
	// the profile may not have: the stanza names it.
	printed := runCmd(t, env, "aws-config", "--profile", "dev")
	bin := binaryUnderTest(t)
	command := bin + " --profile dev --config " + helperConfig
	want := "[profile dev]\ncredential_process = " + command + "\n"
	if printed.code != 0 || printed.stdout != want {
		t.Errorf("aws-config: exit %d, stdout %q, want %q", printed.code, printed.stdout, want)
	}
	if r := runCmd(t, env, "aws-config", "--profile", "dev", "--write"); r.code != 0 {
		t.Fatalf("--write: exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(awsConfig)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), before) || !strings.HasSuffix(string(data), want) {
		t.Errorf("the AWS config file after --write:\n%s", data)
	}
	if r := runCmd(t, env, "aws-config", "--profile", "dev", "--write"); r.code != 0 || !strings.Contains(r.stdout, "already runs") {
		t.Errorf("second --write: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	// A different stanza under the name is left alone without --force.
	r := runCmd(t, env, "aws-config", "--profile", "dev", "--aws-profile", "other", "--write")
	assertFailure(t, r, 2, `profile "other" exists with another credential_process`, "pass --force")
	if r := runCmd(t, env, "aws-config", "--profile", "dev", "--aws-profile", "other", "--write", "--force"); r.code != 0 {
		t.Errorf("--write --force: exit %d: %s", r.code, r.stderr)
	}
	data, _ = os.ReadFile(awsConfig)
	if !strings.Contains(string(data), "[profile other]\ncredential_process = "+command+"\n# keep me\nregion = us-west-2\n") {
		t.Errorf("--force did not set only the credential_process line:\n%s", data)
	}

	// The written profile works for the aws CLI (endpoint and region from the
	// environment), also without the variable that named the configuration file.
	awsEnv := clientEnv(cleanEnv(env, "VAULT_CREDENTIAL_PROCESS_CONFIG="), awsConfig,
		"AWS_ENDPOINT_URL="+b.MotoURL, "AWS_DEFAULT_REGION=us-east-1")
	id := runClient(t, awsEnv, "aws", "--profile", "dev", "sts", "get-caller-identity", "--output", "json")
	if !strings.Contains(id.Arn, ":assumed-role/"+testbed.TargetRole+"/") {
		t.Errorf("caller identity through the written profile: %s", id.Arn)
	}
}

// TestMFA gets the code from mfa_command, and from a prompt on a pseudo terminal.
func TestMFA(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	dir := t.TempDir()
	marker := filepath.Join(dir, "mfa-ran")
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(`[profiles.cmd]
role = "`+testbed.RoleSessionMFA+`"
type = "session_token"
mfa_command = "touch `+marker+`; echo 123456"

[profiles.prompt]
role = "`+testbed.RoleSessionMFA+`"
type = "session_token"
ttl = "45m"
mfa = true

[profiles.badcmd]
role = "`+testbed.RoleSessionMFA+`"
type = "session_token"
ttl = "50m"
mfa_command = "echo not-a-code"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "VAULT_CREDENTIAL_PROCESS_CONFIG="+path)

	r := runBin(t, env, "--profile", "cmd", "--debug")
	if r.code != 0 || !strings.Contains(r.stderr, "MFA code from mfa_command") {
		t.Fatalf("mfa_command: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("mfa_command did not run: %v", err)
	}
	os.Remove(marker)
	if r := runBin(t, env, "--profile", "cmd"); r.code != 0 {
		t.Fatalf("cache hit: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("a cache hit ran mfa_command")
	}
	assertFailure(t, runBin(t, env, "--profile", "badcmd"), 1, "mfa_command did not print a six-digit code", "run the profile's mfa_command by hand")

	// No terminal (a new session: no controlling tty, whoever runs the tests): a clear error.
	r = runProgram(t, env, runOpts{detached: true, document: true}, "--profile", "prompt")
	assertFailure(t, r, 1, "needs an MFA code", "pass --mfa-code")

	// A pseudo terminal from script(1): the prompt appears on it and the answer is read.
	if _, err := exec.LookPath("script"); err != nil {
		if ci {
			t.Fatal("script(1) is needed for the terminal test")
		}
		t.Skip("no script(1) for a pseudo terminal")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", binaryUnderTest(t)+" --profile prompt --debug", os.DevNull)
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := startReading(t, cmd)
	var out strings.Builder
	sc := bufio.NewReader(stdout)
	prompted := false
	for !prompted {
		chunk := make([]byte, 256)
		n, err := sc.Read(chunk)
		out.Write(chunk[:n])
		if strings.Contains(out.String(), "MFA code for Vault role "+testbed.RoleSessionMFA+": ") {
			prompted = true
			break
		}
		if err != nil {
			t.Fatalf("no prompt on the terminal: %v\n%s", err, out.String())
		}
	}
	if _, err := stdin.Write([]byte("654321\n")); err != nil {
		t.Fatal(err)
	}
	rest, _ := readAll(sc)
	out.WriteString(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("under a terminal: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"AccessKeyId"`) {
		t.Errorf("no credentials after the prompt:\n%s", out.String())
	}
	assertNoSecret(t, "terminal output before the document", strings.SplitN(out.String(), "{", 2)[0])
}

func readAll(r *bufio.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}

// TestAuditLog runs 16 processes at once with an audit log: one well-formed line each,
// with the source, and no secret.
func TestAuditLog(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	log := filepath.Join(t.TempDir(), "audit.jsonl")
	env = append(env, "VAULT_CREDENTIAL_PROCESS_AUDIT_LOG="+log)
	const n = 16
	results := runMany(n, func(int) result {
		return runBin(t, env, "--role", testbed.RoleAssume, "--type", "assumed_role", "--timeout", "2m")
	})
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(log)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %04o, want 0600", fi.Mode().Perm())
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d audit lines for %d runs:\n%s", len(lines), n, data)
	}
	sources := map[string]int{}
	for _, l := range lines {
		var rec struct {
			Time        time.Time `json:"time"`
			Source      string    `json:"source"`
			Role        string    `json:"role"`
			AccessKeyID string    `json:"access_key_id"`
			Expiration  time.Time `json:"expiration"`
			LeaseID     string    `json:"lease_id"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if rec.Role != testbed.RoleAssume || rec.AccessKeyID == "" || rec.Expiration.IsZero() || rec.Time.IsZero() {
			t.Errorf("incomplete audit line %q", l)
		}
		sources[rec.Source]++
	}
	if sources["vault"] != 1 || sources["cache"] != n-1 {
		t.Errorf("sources %v, want 1 vault and %d cache", sources, n-1)
	}
	assertNoSecret(t, "audit log", string(data))
}

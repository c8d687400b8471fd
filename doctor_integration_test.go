package main

// Integration tests of `doctor` against the bed's real Vault: each check of the request
// (mount, role and type, policy, --fetch) with the exact line and hint it prints, a
// failure shown once, and a line for a check that waits, from a Vault that accepts and
// never answers and from the fault proxy holding a credentials request.

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// doctorPolicy is the helper's policy plus reading and listing the roles, which
// doctor's role check needs (most users' tokens may not: see the "not checked" row).
const doctorPolicy = helperPolicy + `
path "aws/roles/*"            { capabilities = ["read"] }
path "aws/roles"              { capabilities = ["list"] }
path "aws/static-roles/*"     { capabilities = ["read"] }
path "aws/static-roles"       { capabilities = ["list"] }
`

// doctorEnv is productEnv with a token of doctorPolicy and an AWS config file with a
// profile that runs the helper, so that only the checks a test is about can fail.
func doctorEnv(t *testing.T, b *testbed.Bed) []string {
	t.Helper()
	tokens(t, b)
	ctx, cancel := context.WithTimeout(runCtx, 30*time.Second)
	defer cancel()
	if err := b.VaultRequest(ctx, "PUT", "sys/policies/acl/vcp-doctor", map[string]any{"policy": doctorPolicy}, nil); err != nil {
		t.Fatal(err)
	}
	token, _, err := newToken(ctx, b, "2h", "vcp-doctor")
	if err != nil {
		t.Fatal(err)
	}
	awsConfig := filepath.Join(t.TempDir(), "config")
	writeFile(t, awsConfig, "[profile dev]\ncredential_process = "+binaryUnderTest(t)+" --role "+testbed.RoleIAM+"\n", 0o600)
	return append(setEnv(productEnv(t, b), "VAULT_TOKEN", token), "AWS_CONFIG_FILE="+awsConfig)
}

// assertDoctor checks doctor's output: exit status code, nothing on stderr, every line
// one of doctor's kinds, and each of lines present as whole lines in that order (a
// check's line followed by its hint line is one entry with a "\n" inside).
func assertDoctor(t *testing.T, r result, code int, lines ...string) {
	t.Helper()
	if r.code != code || r.stderr != "" {
		t.Errorf("exit %d, stderr %q; want %d and nothing", r.code, r.stderr, code)
	}
	assertPrintable(t, r.stdout, "✓ ", "✗ ", "- ", "… ", "  hint: ")
	rest := "\n" + r.stdout
	for _, l := range lines {
		i := strings.Index(rest, "\n"+l+"\n")
		if i < 0 {
			t.Errorf("doctor output lacks the line(s)\n%s\n(in this order) in:\n%s", l, r.stdout)
			continue
		}
		rest = rest[i+len(l)+1:]
	}
	assertNoSecret(t, "doctor's output", r.stdout)
}

// TestDoctorChecksTheRequest: with the user's token, doctor finds a wrong mount, a wrong
// role and a wrong type, and what the role needs that the request lacks, each with the
// fix in its hint; and says "not checked" where the token may not look.
func TestDoctorChecksTheRequest(t *testing.T) {
	b := requireBed(t)
	env := doctorEnv(t, b)
	allow, deny := tokens(t, b)
	const (
		mountOK  = "✓ vault mount: aws/ is an AWS secrets engine"
		listRole = "  hint: check --role (or role in the profile): `vault list aws/roles` shows the roles"
		mountFix = "  hint: check --mount (or mount in the profile): `vault secrets list` shows the mounts; the AWS secrets engine's type is aws"
	)
	for _, tt := range []struct {
		name  string
		token string // "" for doctorEnv's
		args  []string
		code  int
		lines []string
	}{
		{"healthy", "", []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}, 0, []string{
			mountOK,
			"✓ vault role: role assume exists and issues assumed_role credentials",
			"✓ vault policy: the token may update aws/creds/assume (create, read, update)",
		}},
		{"healthy static", "", []string{"--role", testbed.StaticRole, "--type", "static"}, 0, []string{
			mountOK, "✓ vault role: static role static exists (aws/static-roles/static)",
			"✓ vault policy: the token may read aws/static-creds/static (read)",
		}},
		{"wrong role", "", []string{"--role", "nosuch"}, 1, []string{
			mountOK, "✗ vault role: no role nosuch at aws/roles/nosuch\n" + listRole,
			"✓ vault policy: the token may update aws/creds/nosuch (create, read, update)",
		}},
		{"mistyped role", "", []string{"--role", "iamm"}, 1, []string{
			"✗ vault role: no role iamm at aws/roles/iamm\n" + listRole + "; did you mean iam?",
		}},
		{"wrong mount", "", []string{"--role", testbed.RoleIAM, "--mount", "awz"}, 1, []string{
			"✗ vault mount: no secrets engine at awz/ that the token may use; it may use the AWS engine at aws/\n" +
				`  hint: use --mount aws (or mount = "aws" in the profile)`,
			"- vault role: not checked: the mount check failed",
			"- vault policy: not checked: the mount check failed",
		}},
		{"token allowed no AWS engine", deny, []string{"--role", testbed.RoleIAM}, 1, []string{
			"- vault mount: not checked: the token may use no AWS secrets engine, at aws/ or elsewhere",
			"- vault role: not checked: the token may not read aws/roles/iam (--fetch tries the request itself)",
			"✗ vault policy: the token may not update aws/creds/iam (capabilities: deny)\n" +
				`  hint: ask for a policy with: path "aws/creds/iam" { capabilities = ["update"] }, or check --mount: ` + "`vault secrets list` shows the mounts",
		}},
		{"mount of another engine", "root", []string{"--role", testbed.RoleIAM, "--mount", "secret"}, 1, []string{
			"✗ vault mount: secret/ is a kv secrets engine, not an AWS one\n" + mountFix,
		}},
		{"a path inside the mount", "", []string{"--role", testbed.RoleIAM, "--mount", "aws/creds"}, 1, []string{
			"✗ vault mount: aws/creds is inside the aws engine mounted at aws/, not a mount itself\n" +
				"  hint: use --mount aws (the path the engine is mounted at)",
		}},
		{"wrong type", "", []string{"--role", testbed.RoleIAM, "--type", "assumed_role"}, 1, []string{
			mountOK, "✗ vault role: role iam issues iam_user credentials, not assumed_role\n" +
				`  hint: use --type iam_user (or type = "iam_user" in the profile), or leave the type out: the role decides`,
		}},
		{"static role asked as dynamic", "", []string{"--role", testbed.StaticRole}, 1, []string{
			"✗ vault role: no role static at aws/roles/static\n" +
				`  hint: it is a static role: use --type static (or type = "static" in the profile)`,
		}},
		{"dynamic role asked as static", "", []string{"--role", testbed.RoleFed, "--type", "static"}, 1, []string{
			"✗ vault role: no static role fed at aws/static-roles/fed\n" +
				`  hint: it is a dynamic role: use --type federation_token (or type = "federation_token" in the profile)`,
		}},
		{"MFA role without a code", "", []string{"--role", testbed.RoleSessionMFA}, 1, []string{
			"✗ vault role: role session-mfa (session_token): the role needs an MFA code (device " + b.MFASerial + ")\n" +
				"  hint: set mfa = true in the profile (or mfa_command), or pass --mfa-code",
		}},
		{"token may not read the role", allow, []string{"--role", testbed.RoleIAM}, 0, []string{
			mountOK, "- vault role: not checked: the token may not read aws/roles/iam (--fetch tries the request itself)",
			"✓ vault policy: the token may update aws/creds/iam (create, read, update)",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := env
			switch tt.token {
			case "root":
				env = setEnv(env, "VAULT_TOKEN", b.RootToken)
			case "":
			default:
				env = setEnv(env, "VAULT_TOKEN", tt.token)
			}
			r := runCmd(t, env, append([]string{"doctor"}, tt.args...)...)
			assertDoctor(t, r, tt.code, tt.lines...)
			if tt.code == 0 && strings.Contains(r.stdout, "✗") {
				t.Errorf("a passing doctor printed a failure:\n%s", r.stdout)
			}
		})
	}
}

// TestDoctorRevokedToken: a revoked token is one failure, once: the checks that need the
// token say they were not checked, with no second hint about the token.
func TestDoctorRevokedToken(t *testing.T) {
	b := requireBed(t)
	env := doctorEnv(t, b)
	token, _ := createToken(t, b, "1h")
	if err := b.VaultRequest(runCtx, "POST", "auth/token/revoke", map[string]any{"token": token}, nil); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, setEnv(env, "VAULT_TOKEN", token), "doctor", "--role", testbed.RoleIAM)
	assertDoctor(t, r, 1,
		"✗ vault token: look up the token from VAULT_TOKEN: Vault answered 403: permission denied; invalid token\n"+
			"  hint: the token is invalid or expired: run `vault login`, or set VAULT_TOKEN; a valid token made without the default policy needs auth/token/lookup-self (see the README's Vault policy)",
		"- vault mount: not checked: the token check failed",
		"- vault role: not checked: the token check failed",
		"- vault policy: not checked: the token check failed")
	if n := strings.Count(r.stdout, "hint:"); n != 1 {
		t.Errorf("%d hints, want the token's alone:\n%s", n, r.stdout)
	}
}

// fetchLine matches doctor --fetch's line: the access key id, type, source and expiry.
var fetchLine = regexp.MustCompile(`(?m)^✓ credentials: access key id (AKIA\w+), iam_user, (new from Vault|from the cache), ` +
	`expire (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(in \w+\)$`)

// TestDoctorFetch: --fetch gets the credentials through the cache as a run does, and
// shows the access key id, type, source and expiry, never a secret; a second doctor is
// served from the cache, as the AWS client's next run would be.
func TestDoctorFetch(t *testing.T) {
	b := requireBed(t)
	env := doctorEnv(t, b)
	first := runCmd(t, env, "doctor", "--fetch", "--role", testbed.RoleIAM)
	assertDoctor(t, first, 0, "✓ vault role: role iam exists and issues iam_user credentials")
	m := fetchLine.FindStringSubmatch(first.stdout)
	if m == nil || m[2] != "new from Vault" {
		t.Fatalf("no credentials line new from Vault:\n%s", first.stdout)
	}
	var entry struct {
		Secret string `json:"secret_access_key"`
	}
	data, err := os.ReadFile(onlyEntry(t, cacheDir(env)))
	if err != nil || json.Unmarshal(data, &entry) != nil || entry.Secret == "" {
		t.Fatalf("the cache entry has no secret key: %v", err)
	}
	addSecret(entry.Secret)
	assertNoSecret(t, "doctor --fetch", first.stdout)
	doc := runBin(t, env, "--role", testbed.RoleIAM)
	if d := parseDocument(t, doc.stdout); d.AccessKeyID != m[1] || d.Expiration != m[3] {
		t.Errorf("the run got %s until %s, doctor showed %s until %s", d.AccessKeyID, d.Expiration, m[1], m[3])
	}
	again := runCmd(t, env, "doctor", "--fetch", "--role", testbed.RoleIAM)
	if m2 := fetchLine.FindStringSubmatch(again.stdout); m2 == nil || m2[1] != m[1] || m2[2] != "from the cache" {
		t.Errorf("second doctor --fetch, want %s from the cache:\n%s", m[1], again.stdout)
	}

	// A request Vault refuses fails the credentials line with the run's own error.
	r := runCmd(t, env, "doctor", "--fetch", "--role", testbed.RoleSession, "--type", "iam_user")
	assertDoctor(t, r, 1, "✗ credentials: get credentials from aws/creds/session: credential type mismatch: "+
		"the role issued temporary (STS) credentials, but --type says iam_user\n"+
		"  hint: make --type (or the profile's type) match the role's credential_type: `vault read aws/roles/session`")
}

// hungServer accepts connections and never answers, until release closes them.
type hungServer struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startHungServer(t *testing.T) *hungServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hungServer{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
		}
	}()
	t.Cleanup(h.release)
	return h
}

// release closes the listener and every connection it accepted.
func (h *hungServer) release() {
	h.l.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
}

// doctorUntilWaiting starts doctor with env and args, reads its output until the line
// saying what a check waits for, calls unblock (which ends the wait), and returns the
// whole output. The line arrives while the check still waits, so it cannot have been
// printed at the end: the output is written as it happens.
func doctorUntilWaiting(t *testing.T, env []string, unblock func(), args ...string) (waiting string, r result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryUnderTest(t), append([]string{"doctor"}, args...)...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	var all strings.Builder
	sc := bufio.NewScanner(startReading(t, cmd))
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "… ") && waiting == "" {
			waiting = sc.Text()
			unblock()
		}
	}
	err := cmd.Wait()
	r = result{stdout: all.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if waiting == "" {
		t.Fatalf("doctor never said what it waits for:\n%s", r.stdout)
	}
	return waiting, r
}

// TestDoctorSaysWhatItWaitsFor: a Vault that accepts and never answers does not leave
// doctor silent: within two seconds a line says what the check waits for and for how
// long at most (--timeout), before the check ends.
func TestDoctorSaysWhatItWaitsFor(t *testing.T) {
	b := requireBed(t)
	env := doctorEnv(t, b)

	t.Run("vault hung", func(t *testing.T) {
		h := startHungServer(t)
		addr := "http://" + h.l.Addr().String()
		waiting, r := doctorUntilWaiting(t, setEnv(env, "VAULT_ADDR", addr), h.release, "--role", testbed.RoleIAM, "--timeout", "90s")
		if want := "… vault server: waiting for Vault at " + addr + " to answer sys/health (at most 1m30s, --timeout)"; waiting != want {
			t.Errorf("waiting line %q, want %q", waiting, want)
		}
		assertDoctor(t, r, 1, "✓ configuration: no configuration file; flags, environment and defaults", waiting,
			"- vault token: from VAULT_TOKEN, not checked: Vault was not reached")
		if !strings.Contains(r.stdout, "\n✗ vault server: ") {
			t.Errorf("no failed vault server line:\n%s", r.stdout)
		}
	})

	t.Run("credentials request held by the fault proxy", func(t *testing.T) {
		p := startFaultProxy(t, b.VaultAddr)
		p.set(p.hang(), nil)
		env := setEnv(env, "VAULT_ADDR", p.addr())
		env = setEnv(env, "XDG_CACHE_HOME", t.TempDir())
		waiting, r := doctorUntilWaiting(t, env, p.down, "--fetch", "--role", testbed.RoleIAM, "--retries", "0", "--timeout", "90s")
		if want := "… credentials: waiting for credentials (the cache, then Vault at " + p.addr() + ") (at most 1m30s, --timeout)"; waiting != want {
			t.Errorf("waiting line %q, want %q", waiting, want)
		}
		assertDoctor(t, r, 1, "✓ vault role: role iam exists and issues iam_user credentials", waiting)
		if p.count() != 1 || !strings.Contains(r.stdout, "\n✗ credentials: get credentials from aws/creds/iam: ") {
			t.Errorf("%d credentials requests; want 1 and a failed credentials line:\n%s", p.count(), r.stdout)
		}
	})
}

// TestDoctorNotVault: doctor says when the address is not Vault (moto answers there) or
// speaks plain http to an https address, with the fix.
func TestDoctorNotVault(t *testing.T) {
	b := requireBed(t)
	env := doctorEnv(t, b)
	r := runCmd(t, setEnv(env, "VAULT_ADDR", b.MotoURL), "doctor", "--role", testbed.RoleIAM)
	assertDoctor(t, r, 1, "✗ vault server: "+b.MotoURL+" answered 404, not as Vault answers: this is not a Vault server\n"+
		"  hint: set VAULT_ADDR (or vault.address in the configuration) to your Vault's address, the one `vault status` reaches",
		"- vault token: from VAULT_TOKEN, not checked: Vault was not reached")

	https := strings.Replace(b.VaultAddr, "http://", "https://", 1)
	r = runCmd(t, setEnv(env, "VAULT_ADDR", https), "doctor", "--role", testbed.RoleIAM)
	assertDoctor(t, r, 1, "✗ vault server: Vault at "+https+" answered in plain http, not https\n"+
		"  hint: use "+b.VaultAddr+" (http://) in VAULT_ADDR, or set up TLS on Vault")
}

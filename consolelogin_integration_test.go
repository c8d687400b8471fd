package main

// Integration tests of `login`: the real binary gets its credentials from the bed's
// Vault (AWS engine on moto), trades IAM user keys with GetFederationToken at moto, and
// asks a fake federation endpoint on 127.0.0.1 (federationFake) for the sign-in token.

import (
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// What moto answers to every GetFederationToken (moto/sts/responses.py).
const (
	motoFedKeyID  = "AKIAIOSFODNN7EXAMPLE"
	motoFedSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
	motoFedToken  = "AQoDYXdzEPT//////////wEXAMPLE" // its start
)

// loginEnv is productEnv with STS at moto.
func loginEnv(t *testing.T, b *testbed.Bed) []string {
	t.Helper()
	return append(productEnv(t, b), "AWS_ENDPOINT_URL_STS="+b.MotoURL)
}

// assertDebugOnly fails unless every line of stderr is a debug line.
func assertDebugOnly(t *testing.T, stderr string) {
	t.Helper()
	if stderr == "" {
		t.Fatal("no debug lines on stderr")
	}
	assertPrintable(t, stderr, name+": debug: ")
}

// federationExpiry is the expiry of the federation token login's --debug reports.
func federationExpiry(t *testing.T, stderr string) time.Time {
	t.Helper()
	m := regexp.MustCompile(`federation token expires (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no federation token expiry in --debug:\n%s", stderr)
	}
	exp, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// TestConsoleLoginPerType: for each type the sign-in sends the federation endpoint the
// credentials the helper prints (assumed_role, federation_token) or the federation
// token moto gave for the IAM user's keys (iam_user, static), SessionDuration only for
// assumed_role, and prints the encoded login URL; --debug shows no secret and no token.
func TestConsoleLoginPerType(t *testing.T) {
	b := requireBed(t)
	gov := "https://us-gov-west-1.console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"
	home := "https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1"
	s3 := "https://console.aws.amazon.com/s3/home?region=eu-west-1&tab=a b"
	tests := []struct {
		name      string
		request   []string
		login     []string
		federated bool          // traded with GetFederationToken
		duration  string        // SessionDuration sent, "" for none
		lifetime  time.Duration // the federation token's, when federated
		dest      string
	}{
		{"assumed_role", []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}, nil, false, "", 0, home},
		{"assumed_role with a duration", []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--ttl", "20m"},
			[]string{"--duration", "2h", "--region", "us-gov-west-1"}, false, "7200", 0, gov},
		{"assumed_role, type from the answer", []string{"--role", testbed.RoleAssume, "--ttl", "25m"},
			[]string{"--duration", "30m", "--destination", s3}, false, "1800", 0, s3},
		{"federation_token", []string{"--role", testbed.RoleFed, "--type", "federation_token"}, nil, false, "", 0, home},
		{"iam_user", []string{"--role", testbed.RoleIAM, "--type", "iam_user"}, nil, true, "", time.Hour, home},
		{"iam_user with a duration and policy", []string{"--role", testbed.RoleIAM},
			[]string{"--duration", "3h", "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"}, true, "", 3 * time.Hour, home},
		{"static", []string{"--role", testbed.StaticRole, "--type", "static"}, nil, true, "", time.Hour, home},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := loginEnv(t, b)
			doc := parseDocument(t, runBin(t, env, tt.request...).stdout)
			fed := newFederationFake(t)
			args := append(append([]string{"login", "--stdout", "--debug", "--federation-endpoint", fed.endpoint()}, tt.request...), tt.login...)
			start := time.Now()
			r := runCmd(t, env, args...)
			end := time.Now()
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			q, s, token := fed.only(t)
			want := session{doc.AccessKeyID, doc.SecretAccessKey, doc.SessionToken}
			if tt.federated {
				want = session{motoFedKeyID, motoFedSecret, s.SessionToken}
				if !strings.HasPrefix(s.SessionToken, motoFedToken) {
					t.Errorf("sessionToken %.12q... is not moto's federation token", s.SessionToken)
				}
				sentPlus(t, "the federation token's expiry", federationExpiry(t, r.stderr), start, end, tt.lifetime)
			}
			if s != want {
				t.Errorf("Session {%s, %d-character key, %d-character token}, want the credentials of {%s, ...}",
					s.SessionID, len(s.SessionKey), len(s.SessionToken), want.SessionID)
			}
			if _, sent := q["SessionDuration"]; q.Get("SessionDuration") != tt.duration || sent != (tt.duration != "") {
				t.Errorf("SessionDuration %q (sent %v), want %q", q.Get("SessionDuration"), sent, tt.duration)
			}
			assertLoginURL(t, r.stdout, fed.endpoint(), tt.dest, token)
			assertDebugOnly(t, r.stderr)
			assertNoSecret(t, "stderr", r.stderr)
		})
	}
}

// TestConsoleLoginSessionToken: session_token credentials are refused with exit 1 and
// a hint, before Vault is asked when --type says so; without --type they look like a
// federation token, and AWS's refusal (the fake's 400) gets a hint naming session_token.
func TestConsoleLoginSessionToken(t *testing.T) {
	b := requireBed(t)
	env := loginEnv(t, b)
	fed := newFederationFake(t)
	path := testbed.Mount + "/creds/" + testbed.RoleSession
	before := auditCount(t, b, "update", path)
	r := runCmd(t, env, "login", "--stdout", "--federation-endpoint", fed.endpoint(), "--role", testbed.RoleSession, "--type", "session_token")
	assertFailure(t, r, 1, "AWS does not accept session_token credentials", "assumed_role or federation_token role")
	if got := auditCount(t, b, "update", path) - before; got != 0 || fed.count() != 0 {
		t.Errorf("--type session_token: %d Vault requests, %d federation requests, want none", got, fed.count())
	}

	fed.setRefuse(400)
	r = runCmd(t, env, "login", "--stdout", "--debug", "--federation-endpoint", fed.endpoint(), "--role", testbed.RoleSession)
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, want 1 and nothing", r.code, r.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	errLine, hint := lines[len(lines)-2], lines[len(lines)-1]
	if errLine != errorPrefix+"login: the federation endpoint answered 400 Bad Request" ||
		!strings.Contains(hint, "if the role is a session_token role") {
		t.Errorf("error and hint:\n%s\n%s", errLine, hint)
	}
	if _, s, _ := fed.only(t); !strings.HasPrefix(s.SessionID, "A") || s.SessionToken == "" {
		t.Errorf("Session %q with a %d-character token", s.SessionID, len(s.SessionToken))
	}
}

// TestConsoleLoginOpensTheBrowser: without --stdout, $BROWSER gets the path of a 0600
// page in a 0700 folder, never the URL; the page leads to the URL and is gone when
// login returns, and nothing is left in TMPDIR; the browser's environment holds no
// Vault token or AWS secret; the audit log records the run as "login"; stderr holds
// the debug lines and the one line that names the browser command, not the URL.
func TestConsoleLoginOpensTheBrowser(t *testing.T) {
	b := requireBed(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "browser")
	writeFile(t, script, `#!/bin/sh
printf '%s\n' "$@" > "`+dir+`/argv"
[ -r /proc/$$/cmdline ] && tr '\0' '\n' < /proc/$$/cmdline > "`+dir+`/cmdline"
cp "$1" "`+dir+`/page"
{ ls -ld "$1"; ls -ld "$(dirname "$1")"; } | cut -c1-10 > "`+dir+`/modes"
env > "`+dir+`/environ"
`, 0o700)
	fed := newFederationFake(t)
	audit := filepath.Join(dir, "audit.jsonl")
	tmp := t.TempDir()
	env := append(loginEnv(t, b), "BROWSER="+script, "TMPDIR="+tmp, "AWS_SECRET_ACCESS_KEY=not-for-the-browser")
	r := runCmd(t, env, "login", "--debug", "--audit-log", audit, "--federation-endpoint", fed.endpoint(),
		"--role", testbed.RoleAssume, "--type", "assumed_role")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// The script returns at once, as a launcher does: login says so, once.
	notice := name + ": opened the AWS console's sign-in page with " + script + "; "
	if n := strings.Count(r.stderr, notice); n != 1 {
		t.Errorf("stderr has %d notices %q, want 1:\n%s", n, notice, r.stderr)
	}
	assertPrintable(t, r.stderr, name+": debug: ", notice)
	_, _, token := fed.only(t)
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("the browser script did not record %s: %v", name, err)
		}
		return string(data)
	}
	recorded := []string{"argv"}
	if runtime.GOOS == "linux" {
		recorded = append(recorded, "cmdline") // as other users see it
	}
	for _, f := range recorded {
		if got := read(f); strings.Contains(got, token) || strings.Contains(got, "Action=login") {
			t.Errorf("the browser's %s holds the URL:\n%s", f, got)
		}
	}
	page := strings.TrimSpace(read("argv"))
	if filepath.Base(page) != "signin.html" {
		t.Errorf("the browser got %q, want the page", page)
	}
	if _, err := os.Stat(filepath.Dir(page)); !os.IsNotExist(err) {
		t.Errorf("the page's folder is still there after login: %v", err)
	}
	if modes := read("modes"); modes != "-rw-------\ndrwx------\n" {
		t.Errorf("modes of the page and its folder:\n%s", modes)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
	for _, name := range []string{"VAULT_TOKEN", "AWS_SECRET_ACCESS_KEY"} {
		if environ := "\n" + read("environ"); strings.Contains(environ, "\n"+name+"=") {
			t.Errorf("the browser's environment holds %s", name)
		}
	}
	m := regexp.MustCompile(`<a href="([^"]+)">`).FindStringSubmatch(read("page"))
	if m == nil {
		t.Fatalf("no link in the page:\n%s", read("page"))
	}
	link := html.UnescapeString(m[1])
	addSecret(link)
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("SigninToken") != token || !strings.HasPrefix(link, fed.endpoint()+"?") {
		t.Errorf("the page does not lead to the login URL with the fake's token (%v)", err)
	}
	if got := read("audit.jsonl"); strings.Count(got, "\n") != 1 || !strings.Contains(got, `"command":"login"`) {
		t.Errorf("audit log:\n%s", got)
	}
}

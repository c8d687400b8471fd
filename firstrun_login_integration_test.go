package main

// The first-run mistakes of issue 21 around `login` and `cache list`, against the bed's
// real Vault (and moto): the duration rule of each credential type, a browser command
// that returns at once, and cache rows of one role that differ only in the request.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// TestFirstRunLoginDuration: --duration is refused with the rule of the credential
// type at hand and the next step: exit 2 before Vault is asked when the type is known,
// exit 1 (and how to have it found sooner) when only the credentials showed it.
func TestFirstRunLoginDuration(t *testing.T) {
	b := requireBed(t)
	const sooner = "; set --type to have this found before Vault is asked"
	fedMsg := "federation_token credentials take none: their console session lasts as long as they do"
	fedHint := "leave out --duration; for a longer session ask Vault for longer credentials with --ttl (15m to 36h, within the role's max_sts_ttl)"
	keysMsg := func(typ, d string) string {
		return "a console session with " + typ + " keys lasts 15m to 36h (the lifetime of the federation token they are traded for), not " + d
	}
	const keysHint = "give a --duration from 15m to 36h, or leave it out for 1h"
	for _, tt := range []struct {
		name      string
		args      []string
		code      int
		askVault  bool
		msg, hint string
	}{
		{"federation_token", []string{"--role", testbed.RoleFed, "--type", "federation_token", "--duration", "2h"}, 2, false,
			"--duration: " + fedMsg, fedHint},
		{"federation_token, type from the answer", []string{"--role", testbed.RoleFed, "--duration", "2h"}, 1, true,
			"login: --duration: " + fedMsg, fedHint + sooner},
		{"assumed_role", []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--duration", "13h"}, 2, false,
			"--duration: a console session with assumed_role credentials lasts 15m to 12h (AWS's SessionDuration), not 13h",
			"give a --duration from 15m to 12h, or leave it out for AWS's default"},
		{"iam_user", []string{"--role", testbed.RoleIAM, "--type", "iam_user", "--duration", "37h"}, 2, false,
			"--duration: " + keysMsg("iam_user", "37h"), keysHint},
		{"static", []string{"--role", testbed.StaticRole, "--type", "static", "--duration", "10m"}, 2, false,
			"--duration: " + keysMsg("static", "10m"), keysHint},
		{"iam_user, type from the answer", []string{"--role", testbed.RoleIAM, "--duration", "37h"}, 1, true,
			"login: --duration: " + keysMsg("iam_user or static", "37h"), keysHint + sooner},
		{"session_token", []string{"--role", testbed.RoleSession, "--type", "session_token", "--duration", "2h"}, 1, false,
			"login: AWS does not accept session_token credentials (sts:GetSessionToken) for console sign-in",
			"sign in with an assumed_role or federation_token role, or iam_user or static keys the IAM user may call sts:GetFederationToken with"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fed := newFederationFake(t)
			env := loginEnv(t, b) // may create the bed's tokens: before the count
			before := auditTotal(t, b)
			r := runCmd(t, env, append([]string{"login", "--stdout", "--federation-endpoint", fed.endpoint()}, tt.args...)...)
			assertFailure(t, r, tt.code, errorPrefix+tt.msg, tt.hint)
			if want := errorPrefix + tt.msg + "\n" + hintPrefix + tt.hint + "\n"; r.stderr != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
			}
			if asked := auditTotal(t, b) != before; asked != tt.askVault {
				t.Errorf("Vault asked: %v, want %v", asked, tt.askVault)
			}
			if fed.count() != 0 {
				t.Errorf("the federation endpoint was asked %d times", fed.count())
			}
		})
	}
}

// TestFirstRunLoginBrowserReturns: a $BROWSER that returns at once and opens nothing
// gets a line at once naming it and how to get the URL instead, never the URL; login
// still ends well and leaves no page behind.
func TestFirstRunLoginBrowserReturns(t *testing.T) {
	b := requireBed(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "browser")
	writeFile(t, script, "#!/bin/sh\nprintf '%s\\n' \"$@\" > \""+dir+"/argv\"\nexit 0\n", 0o700)
	tmp := t.TempDir()
	fed := newFederationFake(t)
	env := append(loginEnv(t, b), "BROWSER="+script, "TMPDIR="+tmp)
	r := runCmd(t, env, "login", "--federation-endpoint", fed.endpoint(), "--role", testbed.RoleAssume, "--type", "assumed_role")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	want := name + ": opened the AWS console's sign-in page with " + script + "; no browser window within 10s? " +
		"run login again with --stdout to get the URL, or set BROWSER to your browser's command\n"
	if r.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
	assertNoSecret(t, "stderr", r.stderr)
	if _, _, token := fed.only(t); strings.Contains(r.stderr, token) || strings.Contains(r.stderr, "Action=login") {
		t.Errorf("stderr holds the URL")
	}
	if argv, err := os.ReadFile(filepath.Join(dir, "argv")); err != nil || filepath.Base(strings.TrimSpace(string(argv))) != "signin.html" {
		t.Errorf("the browser got %q (%v), want the page", argv, err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
}

// TestFirstRunCacheListRequests: entries of one assumed_role role asked with other
// session names, or another role ARN and ttl, are rows that tell them apart, in the
// table and in --json.
func TestFirstRunCacheListRequests(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	assume := []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}
	requests := []struct {
		args    []string
		options string // the table's last column
		fields  [3]any // role_arn, role_session_name, ttl (nil: absent)
	}{
		{[]string{"--role-session-name", "alice"}, "role_session_name=alice", [3]any{nil, "alice", nil}},
		{[]string{"--role-session-name", "bob"}, "role_session_name=bob", [3]any{nil, "bob", nil}},
		{[]string{"--role-arn", b.TargetRoleARN, "--ttl", "1200"}, "role_arn=" + b.TargetRoleARN + " ttl=20m",
			[3]any{b.TargetRoleARN, nil, "20m"}},
		{nil, "", [3]any{}},
	}
	for _, req := range requests {
		if r := runBin(t, env, append(slices.Clone(assume), req.args...)...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", req.args, r.code, r.stderr)
		}
	}

	list := runCmd(t, env, "cache", "list")
	lines := strings.Split(strings.TrimSuffix(list.stdout, "\n"), "\n")
	if list.code != 0 || list.stderr != "" || len(lines) != 1+len(requests) ||
		!regexp.MustCompile(`^PROFILE/REQUEST +TYPE +SOURCE +EXPIRES +IN +STATE +OPTIONS$`).MatchString(lines[0]) {
		t.Fatalf("cache list: exit %d, stderr %q:\n%s", list.code, list.stderr, list.stdout)
	}
	for _, req := range requests {
		tail := ""
		if req.options != "" {
			tail = " +" + regexp.QuoteMeta(req.options)
		}
		row := regexp.MustCompile(`(?m)^aws/` + testbed.RoleAssume + ` +assumed_role +vault +\S+ \S+ +\S+ +fresh` + tail + `$`)
		if n := len(row.FindAllString(list.stdout, -1)); n != 1 {
			t.Errorf("cache list has %d rows with %q, want 1:\n%s", n, req.options, list.stdout)
		}
	}

	js := runCmd(t, env, "cache", "list", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(js.stdout), &rows); err != nil || js.code != 0 || len(rows) != len(requests) {
		t.Fatalf("cache list --json: exit %d, %v:\n%s", js.code, err, js.stdout)
	}
	var got, want []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s|%s|%s", r["role_arn"], r["role_session_name"], r["ttl"]))
	}
	for _, req := range requests {
		want = append(want, fmt.Sprintf("%s|%s|%s", req.fields[0], req.fields[1], req.fields[2]))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("--json role_arn|role_session_name|ttl of the rows: %q, want %q", got, want)
	}
	for _, field := range []string{`"role_arn": "` + b.TargetRoleARN + `"`, `"role_session_name": "alice"`, `"ttl": "20m"`} {
		if !strings.Contains(js.stdout, field) {
			t.Errorf("cache list --json lacks %s:\n%s", field, js.stdout)
		}
	}
}

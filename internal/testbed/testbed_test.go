package testbed

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestPickPorts(t *testing.T) {
	for range 20 {
		moto, vault, err := pickPorts()
		if err != nil {
			t.Fatal(err)
		}
		ports := []int{moto, vault, vault + 1}
		if moto == vault || moto == vault+1 {
			t.Fatalf("moto port %d collides with vault's %d and %d", moto, vault, vault+1)
		}
		// Closed again, so the servers the bed starts can take them.
		for _, p := range ports {
			if p <= 0 || p > 65535 {
				t.Fatalf("port %d out of range", p)
			}
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				t.Fatalf("port %d not free after pickPorts: %v", p, err)
			}
			l.Close()
		}
	}
}

// Lines as Vault 1.21's file audit device writes them with log_raw=false (shortened).
const auditSample = `{"time":"2026-11-27T01:30:00.1Z","type":"request","auth":{"token_type":"service"},"request":{"id":"1","operation":"update","mount_type":"aws","path":"aws/creds/iam","remote_address":"127.0.0.1"}}
{"time":"2026-11-27T01:30:00.2Z","type":"response","auth":{"token_type":"service"},"request":{"id":"1","operation":"update","path":"aws/creds/iam"},"response":{"secret":{"lease_id":"hmac-sha256:ab"}}}
{"time":"2026-11-27T01:30:01.1Z","type":"request","request":{"id":"2","operation":"read","path":"aws/creds/iam"}}
{"time":"2026-11-27T01:30:01.2Z","type":"response","request":{"id":"2","operation":"read","path":"aws/creds/iam"}}

{"time":"2026-11-27T01:30:02.1Z","type":"request","request":{"id":"3","operation":"update","path":"aws/creds/iam-other"}}
{"time":"2026-11-27T01:30:03.1Z","type":"request","request":{"id":"4","operation":"update","path":"aws/creds/iam"}}
{"time":"2026-11-27T01:30:04.1Z","type":"request","request":{"id":"5","operation":"update","path":"aws/cr`

func TestCountAudit(t *testing.T) {
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"update", "update", "aws/creds/iam", 2},
		{"read", "read", "aws/creds/iam", 1},
		{"any operation", "", "aws/creds/iam", 3},
		{"exact path only", "", "aws/creds/iam-other", 1},
		{"no such path", "", "aws/creds/nope", 0},
		{"any path", "", "", 4},
		{"any path, one operation", "update", "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := countAudit(strings.NewReader(auditSample), tt.method, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("countAudit(%q, %q) = %d, want %d", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestCountAuditBrokenLine(t *testing.T) {
	_, err := countAudit(strings.NewReader("{\"type\":\"request\"}\nnot json\n"), "", "x")
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want an error naming line 2", err)
	}
}

func TestCleanEnv(t *testing.T) {
	in := []string{"PATH=/bin", "AWS_PROFILE=prod", "AWS_ACCESS_KEY_ID=AKIA", "VAULT_TOKEN=s.x",
		"HOME=/home/u", "MY_AWS_THING=1", "VAULTED=1"}
	got := cleanEnv(in, "AWS_", "VAULT_")
	want := []string{"PATH=/bin", "HOME=/home/u", "MY_AWS_THING=1", "VAULTED=1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("cleanEnv = %v, want %v", got, want)
	}
}

func TestBedEnv(t *testing.T) {
	t.Setenv("AWS_PROFILE", "prod")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "developer-secret")
	t.Setenv("VAULT_ADDR", "https://vault.example.com")
	t.Setenv("VAULT_TOKEN", "developer-token")
	b := &Bed{VaultAddr: "http://127.0.0.1:1", RootToken: "root", MotoURL: "http://127.0.0.1:2"}

	aws := envMap(b.AWSEnv("/tmp/cfg"))
	for k, want := range map[string]string{
		"AWS_CONFIG_FILE":             "/tmp/cfg",
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_PROFILE":                 "",
		"AWS_SECRET_ACCESS_KEY":       "",
		"VAULT_ADDR":                  "",
		"VAULT_TOKEN":                 "",
	} {
		if aws[k] != want {
			t.Errorf("AWSEnv %s = %q, want %q", k, aws[k], want)
		}
	}

	vault := envMap(b.vaultEnv())
	for k, want := range map[string]string{
		"VAULT_ADDR":            "http://127.0.0.1:1",
		"VAULT_TOKEN":           "root",
		"AWS_PROFILE":           "",
		"AWS_SECRET_ACCESS_KEY": "",
	} {
		if vault[k] != want {
			t.Errorf("vaultEnv %s = %q, want %q", k, vault[k], want)
		}
	}
}

// envMap maps names to values, the last duplicate winning as in os/exec.
func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestWriteAWSConfig(t *testing.T) {
	b := &Bed{MotoURL: "http://127.0.0.1:5000"}
	path := filepath.Join(t.TempDir(), "config")
	err := b.WriteAWSConfig(path, map[string]string{
		"b":       "/bin/helper -role b",
		"default": "/bin/helper",
		"a":       "cat /tmp/a.json",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `[profile a]
credential_process = cat /tmp/a.json
region = us-east-1
endpoint_url = http://127.0.0.1:5000

[profile b]
credential_process = /bin/helper -role b
region = us-east-1
endpoint_url = http://127.0.0.1:5000

[default]
credential_process = /bin/helper
region = us-east-1
endpoint_url = http://127.0.0.1:5000
`
	if string(got) != want {
		t.Errorf("config file:\n%s\nwant:\n%s", got, want)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != 0o600 && os.PathSeparator == '/' {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestParseVaultVersion(t *testing.T) {
	tests := []struct {
		out          string
		major, minor int
		ok           bool
	}{
		{"Vault v1.21.0 ('abc'), built 2025-10-21T19:33:12Z\n", 1, 21, true},
		{"Vault v1.15.6+ent (abc)\n", 1, 15, true},
		{"Vault v2.0.1\n", 2, 0, true},
		{"bash: vault: command not found\n", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, err := parseVaultVersion(tt.out)
		if (err == nil) != tt.ok || major != tt.major || minor != tt.minor {
			t.Errorf("parseVaultVersion(%q) = %d, %d, %v; want %d, %d, ok=%v", tt.out, major, minor, err, tt.major, tt.minor, tt.ok)
		}
	}
}

func TestLocateVaultBin(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "vault-noexec")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{filepath.Join(dir, "nonexistent"), dir, notExec} {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			if os.PathSeparator != '/' && bin == notExec {
				t.Skip("no executable bit outside unix")
			}
			t.Setenv("VAULT_BIN", bin)
			_, err := Locate()
			if err == nil {
				t.Fatal("Locate succeeded with a broken VAULT_BIN")
			}
			if msg := err.Error(); !strings.Contains(msg, "VAULT_BIN="+bin) || strings.Contains(msg, "\n") {
				t.Errorf("error %q should name VAULT_BIN=%s on one line", msg, bin)
			}
		})
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var sb strings.Builder
	for i := range 100 {
		sb.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got := logTail(path, 3, 4096)
	if got != "line 97\nline 98\nline 99" {
		t.Errorf("logTail = %q", got)
	}
}

func TestRetryBind(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   bool
	}{
		{"first try", []error{nil}, 1, false},
		{"port taken twice", []error{errors.New("vault: listen tcp4 127.0.0.1:1: bind: address already in use"),
			errors.New("Address already in use"), nil}, 3, false},
		{"port taken every time", []error{errors.New("address already in use"), errors.New("address already in use"),
			errors.New("address already in use"), nil}, 3, true},
		{"other error", []error{errors.New("moto_server: exited"), nil}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			_, err := retryBind(func() (int, error) {
				calls++
				return calls, tt.errs[calls-1]
			})
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Errorf("%d calls, err %v; want %d calls, error %v", calls, err, tt.wantCalls, tt.wantErr)
			}
		})
	}
}

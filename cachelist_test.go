package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestCacheListOptions: the OPTIONS column names what the request set, quotes a value
// that would blur where it ends, adds the Vault address only when the entries are of
// more than one, and no line ends in padding.
func TestCacheListOptions(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	row := func(addr string, opts listed) listed {
		opts.Key, opts.State, opts.Mount, opts.Role, opts.Type, opts.Source = strings.Repeat("a", 64), "fresh", "aws", "deploy", "assumed_role", "vault"
		opts.VaultAddress, opts.Expiration, opts.ExpiresIn = addr, &exp, 3600
		return opts
	}
	for _, tt := range []struct {
		name string
		rows []listed
		want []string // the OPTIONS of each row
	}{
		{"one Vault", []listed{
			row("https://v:8200", listed{RoleSessionName: "alice"}),
			row("https://v:8200", listed{RoleARN: "arn:aws:iam::1:role/R", TTL: "20m", VaultNamespace: "team a"}),
			row("https://v:8200", listed{}),
		}, []string{"role_session_name=alice", `role_arn=arn:aws:iam::1:role/R ttl=20m vault_namespace="team a"`, ""}},
		{"two Vaults", []listed{
			row("https://v1:8200", listed{}),
			row("https://v2:8200", listed{RoleSessionName: "a=b"}),
		}, []string{"vault_address=https://v1:8200", `role_session_name="a=b" vault_address=https://v2:8200`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			(&cli{stdout: &out}).listTable(tt.rows)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != 1+len(tt.rows) || !strings.HasSuffix(lines[0], "STATE  OPTIONS") {
				t.Fatalf("table:\n%s", out.String())
			}
			for i, want := range tt.want {
				l := lines[i+1]
				if strings.HasSuffix(l, " ") || !strings.HasSuffix(l, "fresh"+map[bool]string{true: "", false: "  "}[want == ""]+want) {
					t.Errorf("row %d %q, want it to end in fresh and %q", i, l, want)
				}
			}
		})
	}
}

package process

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
)

// The "request" objects that builds before StoredRequest wrote (a
// map[string]string, so its keys in sorted order, the three first keys
// always, the others when set). The cache format is these bytes.
const (
	goldenFullRequest = `{"mount":"aws-team","profile":"dev","role":"deploy","role_arn":"arn:aws:iam::123456789012:role/Deploy",` +
		`"role_session_name":"ci","ttl":"15m0s","type":"assumed_role","vault_address":"https://vault.example.com:8200",` +
		`"vault_namespace":"team/a"}`
	goldenMinimalRequest = `{"mount":"aws","role":"dev","vault_address":"http://127.0.0.1:8200"}`
)

// TestStoredRequestFormat: what an entry stores of its request is byte for
// byte what earlier builds stored, and what they stored reads back field
// by field, so that `cache list` and `cache clear --revoke` read entries
// of either alike.
func TestStoredRequestFormat(t *testing.T) {
	tests := []struct {
		name     string
		settings config.Settings
		golden   string
		want     StoredRequest
	}{
		{"every field", config.Settings{Address: "https://vault.example.com:8200", Namespace: "team/a",
			Profile: "dev", Mount: "aws-team", Role: "deploy", Type: "assumed_role", TTL: 15 * time.Minute,
			RoleARN: "arn:aws:iam::123456789012:role/Deploy", RoleSessionName: "ci"},
			goldenFullRequest,
			StoredRequest{Mount: "aws-team", Profile: "dev", Role: "deploy", RoleARN: "arn:aws:iam::123456789012:role/Deploy",
				RoleSessionName: "ci", TTL: "15m0s", Type: "assumed_role", VaultAddress: "https://vault.example.com:8200",
				VaultNamespace: "team/a"}},
		{"the least", config.Settings{Address: "http://127.0.0.1:8200", Mount: "aws", Role: "dev"},
			goldenMinimalRequest,
			StoredRequest{Mount: "aws", Role: "dev", VaultAddress: "http://127.0.0.1:8200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(storedRequestOf(&tt.settings).encode()); got != tt.golden {
				t.Errorf("stored request\n%s\nwant (as earlier builds wrote it)\n%s", got, tt.golden)
			}
			if got := StoredRequestOf(&cache.Entry{Request: json.RawMessage(tt.golden)}); got != tt.want {
				t.Errorf("StoredRequestOf(%s) = %+v, want %+v", tt.golden, got, tt.want)
			}
		})
	}
}

// TestStoredRequestOfOldEntry: an entry file as an earlier build wrote it
// loads, and its request reads back; a request this build cannot read is
// empty fields, not a failure.
func TestStoredRequestOfOldEntry(t *testing.T) {
	store, err := cache.Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	key := cache.Key("old")
	old := `{"version":1,"access_key_id":"AKIAEXAMPLE","secret_access_key":"s3cret","expiration":"2030-01-01T01:00:00Z",` +
		`"issued_at":"2030-01-01T00:00:00Z","lease_id":"aws/creds/deploy/abc","lease_duration_seconds":3600,"renewable":true,` +
		`"source":"vault","request":` + goldenFullRequest + `}`
	if err := os.WriteFile(filepath.Join(store.Dir(), key+".json"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := store.Load(key)
	if err != nil || e == nil {
		t.Fatalf("Load of an entry in the earlier format = %v, %v", e, err)
	}
	if got := StoredRequestOf(e); got.VaultAddress != "https://vault.example.com:8200" || got.VaultNamespace != "team/a" ||
		got.Role != "deploy" || got.TTL != "15m0s" {
		t.Errorf("StoredRequestOf(old entry) = %+v", got)
	}
	for _, raw := range []string{``, `null`, `{"role":5}`, `"dev"`} {
		if got := StoredRequestOf(&cache.Entry{Request: json.RawMessage(raw)}); got != (StoredRequest{}) {
			t.Errorf("StoredRequestOf(%q) = %+v, want empty fields", raw, got)
		}
	}
}

package process

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestCredentialsMarshal(t *testing.T) {
	plus2 := time.FixedZone("UTC+2", 2*60*60)
	tests := []struct {
		name     string
		c        Credentials
		wantKeys []string
		wantExp  string
		want     string // the exact document, when given
	}{
		{
			name:     "long-term keys",
			c:        Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "sec", Expiration: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
			wantKeys: []string{"AccessKeyId", "Expiration", "SecretAccessKey", "Version"},
			wantExp:  "2030-01-01T00:00:00Z",
			want:     `{"Version":1,"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"sec","Expiration":"2030-01-01T00:00:00Z"}` + "\n",
		},
		{
			name: "temporary credentials with account",
			c: Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "sec", SessionToken: "tok", AccountID: "123456789012",
				Expiration: time.Date(2030, 1, 1, 2, 30, 0, 0, plus2), LeaseID: "lease", Renewable: true, LeaseDuration: time.Hour},
			wantKeys: []string{"AccessKeyId", "AccountId", "Expiration", "SecretAccessKey", "SessionToken", "Version"},
			wantExp:  "2030-01-01T00:30:00Z",
			want: `{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"sec","SessionToken":"tok",` +
				`"Expiration":"2030-01-01T00:30:00Z","AccountId":"123456789012"}` + "\n",
		},
		{
			name:     "session token without account",
			c:        Credentials{AccessKeyID: "ASIA", SecretAccessKey: "sec", SessionToken: "tok", Expiration: time.Date(2030, 6, 1, 12, 0, 0, 0, plus2)},
			wantKeys: []string{"AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken", "Version"},
			wantExp:  "2030-06-01T10:00:00Z",
		},
		{
			name:     "account without session token",
			c:        Credentials{AccessKeyID: "AKIA", SecretAccessKey: "sec", AccountID: "000000000001", Expiration: time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)},
			wantKeys: []string{"AccessKeyId", "AccountId", "Expiration", "SecretAccessKey", "Version"},
			wantExp:  "2030-06-01T00:00:00Z",
		},
		{
			name:     "fractional seconds are dropped",
			c:        Credentials{AccessKeyID: "AKIA", SecretAccessKey: "sec", Expiration: time.Date(2030, 6, 1, 0, 0, 0, 999_999_999, time.UTC)},
			wantKeys: []string{"AccessKeyId", "Expiration", "SecretAccessKey", "Version"},
			wantExp:  "2030-06-01T00:00:00Z",
		},
		{
			name:     "characters JSON must escape",
			c:        Credentials{AccessKeyID: "AKIA", SecretAccessKey: "a\"b\\c/+=\n", Expiration: time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)},
			wantKeys: []string{"AccessKeyId", "Expiration", "SecretAccessKey", "Version"},
			wantExp:  "2030-06-01T00:00:00Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.c.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.HasSuffix(b, []byte("\n")) || bytes.Count(b, []byte("\n")) != 1 {
				t.Errorf("document %q is not one line ending in a newline", b)
			}
			if tt.want != "" && string(b) != tt.want {
				t.Errorf("document\n%s\nwant\n%s", b, tt.want)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("document is not JSON: %v", err)
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if strings.Join(keys, ",") != strings.Join(tt.wantKeys, ",") {
				t.Errorf("keys %v, want %v", keys, tt.wantKeys)
			}
			if m["Version"] != float64(1) {
				t.Errorf("Version = %v, want 1", m["Version"])
			}
			exp, _ := m["Expiration"].(string)
			if exp != tt.wantExp || !strings.HasSuffix(exp, "Z") {
				t.Errorf("Expiration = %q, want %q", exp, tt.wantExp)
			}
			if parsed, err := time.Parse(time.RFC3339, exp); err != nil || parsed.After(tt.c.Expiration) {
				t.Errorf("Expiration %q does not parse as RFC 3339 no later than the credentials' (%v)", exp, err)
			}
			// The document round-trips the secret values unchanged.
			var d Document
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			if d.AccessKeyID != tt.c.AccessKeyID || d.SecretAccessKey != tt.c.SecretAccessKey ||
				d.SessionToken != tt.c.SessionToken || d.AccountID != tt.c.AccountID {
				t.Errorf("document %+v does not carry the credentials %+v", d, tt.c)
			}
		})
	}
}

package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestExpectIdentity: expect_identity pins who may sign in at the browser;
// it comes from the auth table or the environment, is part of the identity
// (a token from before the pin is not reused), and a blank one, which would
// pin nothing, is refused.
func TestExpectIdentity(t *testing.T) {
	const oidc = "[vault.auth]\nmethod = \"oidc\"\nrole = \"dev\"\n"
	for _, tt := range []struct {
		name, toml string
		env        map[string]string
		want       string
	}{
		{"from the file", oidc + "expect_identity = \" alice@example.com \"\n", nil, "alice@example.com"},
		{"from the environment", oidc + "expect_identity = \"bob\"\n",
			map[string]string{"VAULT_CREDENTIAL_PROCESS_AUTH_EXPECT_IDENTITY": "alice"}, "alice"},
		{"none", oidc, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := authResolve(t, tt.toml, tt.env, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Auth.ExpectIdentity != tt.want {
				t.Errorf("ExpectIdentity = %q, want %q", s.Auth.ExpectIdentity, tt.want)
			}
			want := []string{"role", "dev"}
			if tt.want != "" {
				want = append(want, "expect_identity", tt.want)
			}
			if got := s.Auth.Identity(); !reflect.DeepEqual(got, want) {
				t.Errorf("Identity = %q, want %q", got, want)
			}
		})
	}
	for _, tt := range []struct{ name, toml, src, msg, hint string }{
		{"blank", oidc + "expect_identity = \"  \"\n", authPath + ": vault.auth.expect_identity", "invalid expect_identity", "alias name"},
		{"control character", oidc + "expect_identity = \"al\\u001bice\"\n", authPath + ": vault.auth.expect_identity", "invalid expect_identity", ""},
		{"with userpass", "[vault.auth]\nmethod = \"userpass\"\nusername = \"a\"\nexpect_identity = \"a\"\n",
			authPath + ": vault.auth.expect_identity", "expect_identity is not used by the userpass auth method", "oidc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authResolve(t, tt.toml, nil, nil)
			var ce *Error
			if !errors.As(err, &ce) || ce.Source != tt.src || !strings.Contains(ce.Msg, tt.msg) || !strings.Contains(ce.Hint, tt.hint) {
				t.Errorf("Resolve = %v, want source %q, message with %q, hint with %q", err, tt.src, tt.msg, tt.hint)
			}
		})
	}
}

package config_test

import (
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// TestParseTypeMismatchWording: a value of the wrong kind is named in TOML's words
// (a string, a whole number, true or false, a table), never the decoder's Go types
// (int64, map[string]any).
func TestParseTypeMismatchWording(t *testing.T) {
	const path = "/home/me/.config/vault-credential-process/config.toml"
	for _, tt := range []struct{ name, toml, msg string }{
		{"number for a string", "[profiles.dev]\nrole = 5\n",
			"invalid TOML: line 2: profiles.dev.role must be a string (in double quotes), not a whole number"},
		{"string for a number", "[vault]\nretries = \"two\"\n", "invalid TOML: line 2: vault.retries must be a whole number, not a string"},
		{"string for a bool", "[profiles.dev]\nrole = \"x\"\nmfa = \"yes\"\n",
			"invalid TOML: line 3: profiles.dev.mfa must be true or false, not a string"},
		{"array for a string", "[vault]\naddress = [\"a\"]\n", "invalid TOML: line 2: vault.address must be a string (in double quotes), not an array"},
		{"table for a string", "[vault.auth]\nmethod = {a = 1}\n", "invalid TOML: line 2: vault.auth.method must be a string (in double quotes), not a table"},
		{"date for a string", "[aws]\nmount = 2020-01-01\n", "invalid TOML: line 2: aws.mount must be a string (in double quotes), not a date or time"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(path, []byte(tt.toml))
			ce := configError(t, err)
			if ce.Msg != tt.msg || ce.Hint != "check that line: strings need double quotes, tables [brackets], one key = value per line" {
				t.Errorf("Msg %q, hint %q; want %q", ce.Msg, ce.Hint, tt.msg)
			}
		})
	}
}

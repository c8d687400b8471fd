package shellenv

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestExportRoundTrip feeds the sh export lines of awkward values to a real sh and
// reads them back unchanged.
func TestExportRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	exp := time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)
	for _, secret := range []string{`plain`, `it's`, `a'b'c`, `$(touch /tmp/x)`, "`id`", `back\slash`, `"dq"`, "new\nline", `!*?[]{}~#;&|<>`} {
		c := &process.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: secret, SessionToken: "tok'" + secret, Expiration: exp}
		out, err := Export(c, FormatSh)
		if err != nil {
			t.Fatal(err)
		}
		script := out + `printf '%s\n%s\n%s\n%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION"`
		got, err := exec.Command("sh", "-c", script).Output()
		if err != nil {
			t.Fatalf("%q: sh: %v", secret, err)
		}
		want := strings.Join([]string{"ASIAEXAMPLE", secret, "tok'" + secret, "2026-11-27T13:00:00Z"}, "\n")
		if string(got) != want {
			t.Errorf("%q: sh read back %q, want %q", secret, got, want)
		}
	}
}

func TestExportFormats(t *testing.T) {
	c := &process.Credentials{AccessKeyID: "AKIA", SecretAccessKey: `s'\x`, Expiration: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	tests := []struct{ format, want string }{
		{FormatSh, "export AWS_ACCESS_KEY_ID='AKIA'\nexport AWS_SECRET_ACCESS_KEY='s'\\''\\x'\nexport AWS_CREDENTIAL_EXPIRATION='2026-01-02T03:04:05Z'\nunset AWS_SESSION_TOKEN\n"},
		{FormatFish, "set -gx AWS_ACCESS_KEY_ID 'AKIA';\nset -gx AWS_SECRET_ACCESS_KEY 's\\'\\\\x';\nset -gx AWS_CREDENTIAL_EXPIRATION '2026-01-02T03:04:05Z';\nset -e AWS_SESSION_TOKEN;\n"},
		{FormatPowerShell, "$Env:AWS_ACCESS_KEY_ID = 'AKIA'\n$Env:AWS_SECRET_ACCESS_KEY = 's''\\x'\n$Env:AWS_CREDENTIAL_EXPIRATION = '2026-01-02T03:04:05Z'\nRemove-Item Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			got, err := Export(c, tt.format)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
	if _, err := Export(c, "csh"); err == nil {
		t.Error("unknown format accepted")
	}
}

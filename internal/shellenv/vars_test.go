package shellenv

import "testing"

func TestExportVars(t *testing.T) {
	set := []Var{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds/it's"}}
	unset := []string{"AWS_ACCESS_KEY_ID"}
	for format, want := range map[string]string{
		FormatSh:         "unset AWS_ACCESS_KEY_ID\nexport AWS_CONTAINER_CREDENTIALS_FULL_URI='http://127.0.0.1:1/creds/it'\\''s'\n",
		FormatFish:       "set -e AWS_ACCESS_KEY_ID;\nset -gx AWS_CONTAINER_CREDENTIALS_FULL_URI 'http://127.0.0.1:1/creds/it\\'s';\n",
		FormatPowerShell: "Remove-Item Env:AWS_ACCESS_KEY_ID -ErrorAction SilentlyContinue\n$Env:AWS_CONTAINER_CREDENTIALS_FULL_URI = 'http://127.0.0.1:1/creds/it''s'\n",
	} {
		got, err := ExportVars(format, set, unset)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", format, got, err, want)
		}
	}
	if _, err := ExportVars("csh", set, unset); err == nil {
		t.Error("csh accepted")
	}
}

func TestExportFileVars(t *testing.T) {
	vars := []Var{{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "/run/user/1000/it's/serve-1.token"}}
	for format, want := range map[string]string{
		FormatSh:         "export AWS_CONTAINER_AUTHORIZATION_TOKEN=\"$(cat '/run/user/1000/it'\\''s/serve-1.token')\"\n",
		FormatFish:       "set -gx AWS_CONTAINER_AUTHORIZATION_TOKEN (cat '/run/user/1000/it\\'s/serve-1.token');\n",
		FormatPowerShell: "$Env:AWS_CONTAINER_AUTHORIZATION_TOKEN = Get-Content -Raw -LiteralPath '/run/user/1000/it''s/serve-1.token'\n",
	} {
		got, err := ExportFileVars(format, vars)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", format, got, err, want)
		}
	}
	if _, err := ExportFileVars("csh", vars); err == nil {
		t.Error("csh accepted")
	}
}

package awsconfig

import (
	"errors"
	"slices"
	"testing"
)

func TestUpsert(t *testing.T) {
	const cmd = "/opt/vcp --profile dev"
	tests := []struct {
		name, in, profile string
		force             bool
		want              string
		changed           bool
		err               error
	}{
		{"empty file", "", "dev", false, "[profile dev]\ncredential_process = " + cmd + "\n", true, nil},
		{"appended after others, comments kept", "# top\n[default]\nregion = x\n", "dev", false,
			"# top\n[default]\nregion = x\n\n[profile dev]\ncredential_process = " + cmd + "\n", true, nil},
		{"no final newline", "[default]\nregion = x", "dev", false,
			"[default]\nregion = x\n\n[profile dev]\ncredential_process = " + cmd + "\n", true, nil},
		{"already there", "[profile dev]\ncredential_process = " + cmd + "\nregion = y\n", "dev", false,
			"[profile dev]\ncredential_process = " + cmd + "\nregion = y\n", false, nil},
		{"spacing variant of the header", "[ profile  dev ]\ncredential_process = " + cmd + "\n", "dev", false,
			"[ profile  dev ]\ncredential_process = " + cmd + "\n", false, nil},
		{"other command refused", "[profile dev]\ncredential_process = other\n", "dev", false, "", false, ErrProfileExists},
		{"no command refused", "[profile dev]\nregion = y\n", "dev", false, "", false, ErrProfileExists},
		{"force replaces only the line", "[profile dev]\n# c\ncredential_process = other\nregion = y\n[profile z]\nregion = q\n", "dev", true,
			"[profile dev]\n# c\ncredential_process = " + cmd + "\nregion = y\n[profile z]\nregion = q\n", true, nil},
		{"force inserts after the header", "[profile dev]\nregion = y\n", "dev", true,
			"[profile dev]\ncredential_process = " + cmd + "\nregion = y\n", true, nil},
		{"default profile", "", "default", false, "[default]\ncredential_process = " + cmd + "\n", true, nil},
		{"same name in another section does not count", "[profile devx]\ncredential_process = other\n", "dev", false,
			"[profile devx]\ncredential_process = other\n\n[profile dev]\ncredential_process = " + cmd + "\n", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed, err := upsert([]byte(tt.in), tt.profile, cmd, tt.force)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if string(out) != tt.want || changed != tt.changed {
				t.Errorf("got %q (changed %v)\nwant %q (changed %v)", out, changed, tt.want, tt.changed)
			}
		})
	}
}

func TestFindCredentialProcess(t *testing.T) {
	data := []byte(`[default]
credential_process = /usr/local/bin/vault-credential-process --role a
[profile quoted]
credential_process = "/Users/a b/vault-credential-process" --profile q
[profile escaped]
credential_process = /Users/a\ b/vault-credential-process --profile e
[profile other]
credential_process = /usr/bin/aws-vault exec x --json
[profile win]
credential_process = C:\tools\vault-credential-process.exe --role w
[profile winquoted]
credential_process = "C:\Program Files\vault-credential-process.exe" --role w
`)
	for _, tt := range []struct {
		goos string
		want []string
	}{
		{"linux", []string{"default", "quoted", "escaped"}},
		// Unquoted, /Users/a\ b/... is two words; quoted, C:\... is one.
		{"windows", []string{"default", "quoted", "win", "winquoted"}},
	} {
		if got := findCredentialProcess(tt.goos, data, "vault-credential-process"); !slices.Equal(got, tt.want) {
			t.Errorf("%s: findCredentialProcess = %v, want %v", tt.goos, got, tt.want)
		}
	}
}

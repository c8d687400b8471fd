package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// configError asserts that err is a *config.Error and returns it.
func configError(t *testing.T, err error) *config.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want a *config.Error")
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	return ce
}

func TestParseErrors(t *testing.T) {
	const path = "/etc/vcp/config.toml"
	tests := []struct {
		name     string
		toml     string
		wantMsg  []string // substrings of Msg
		wantHint bool
	}{
		{
			name:     "unknown key in [vault]",
			toml:     "[vault]\naddres = \"https://vault:8200\"\n",
			wantMsg:  []string{"unknown key", "vault.addres"},
			wantHint: true,
		},
		{
			name:     "unknown key in a profile",
			toml:     "[profiles.dev]\nrole = \"dev\"\nrolee = \"dev\"\n",
			wantMsg:  []string{"unknown key", "profiles.dev.rolee"},
			wantHint: true,
		},
		{
			name:     "unknown top-level table",
			toml:     "[vualt]\naddress = \"https://vault:8200\"\n",
			wantMsg:  []string{"unknown key", "vualt"},
			wantHint: true,
		},
		{
			name:     "two unknown keys are both named",
			toml:     "[cache]\ndri = \"/tmp\"\n[aws]\nmout = \"aws\"\n",
			wantMsg:  []string{"aws.mout", "cache.dri"},
			wantHint: true,
		},
		{
			name:    "bad TOML names the line",
			toml:    "[vault]\naddress = \"https://vault:8200\"\nretries = = 3\n",
			wantMsg: []string{"invalid TOML", "line 3"},
		},
		{
			name:    "unterminated string names its line",
			toml:    "# comment\n\n[aws]\nmount = \"aws\n",
			wantMsg: []string{"invalid TOML", "line 4"},
		},
		{
			name:    "wrong value type",
			toml:    "[vault]\nretries = \"two\"\n",
			wantMsg: []string{"invalid TOML", "retries"},
		},
		{
			name:    "duplicate table",
			toml:    "[aws]\nmount = \"a\"\n[aws]\nmount = \"b\"\n",
			wantMsg: []string{"invalid TOML", "line 3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := config.Parse(path, []byte(tt.toml))
			if f != nil {
				t.Errorf("Parse returned a file %+v along with the error", f)
			}
			ce := configError(t, err)
			if ce.Source != path {
				t.Errorf("Source = %q, want %q", ce.Source, path)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(ce.Msg, want) {
					t.Errorf("Msg = %q, want it to contain %q", ce.Msg, want)
				}
			}
			if strings.Contains(ce.Error(), "\n") {
				t.Errorf("Error() = %q spans more than one line", ce.Error())
			}
			if !strings.HasPrefix(ce.Error(), path+": ") {
				t.Errorf("Error() = %q, want it to start with the path", ce.Error())
			}
			if tt.wantHint && ce.Hint == "" {
				t.Error("Hint is empty")
			}
		})
	}
}

func TestParseGoodFile(t *testing.T) {
	const path = "/home/me/.config/vault-credential-process/config.toml"
	data := `
[vault]
address = "https://vault.example.com:8200"
namespace = "team-a"
timeout = "20s"
retries = 0

[aws]
mount = "team-a/aws"
default_ttl = "1h"
max_ttl = "12h"

[cache]
disabled = true
dir = "/var/cache/vcp"
refresh_window = "10m"
min_remaining = "2m"

[profiles.dev]
role = "dev"
type = "assumed_role"
mount = "aws-dev"
ttl = "30m"
max_ttl = "2h"
role_arn = "arn:aws:iam::123456789012:role/dev"
role_session_name = "me"
vault_address = "https://dev.vault:8200"
vault_namespace = "dev-ns"

[profiles.prod]
role = "prod"
`
	f, err := config.Parse(path, []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	zero := 0
	yes := true
	want := config.File{
		Vault: config.VaultTable{Address: "https://vault.example.com:8200", Namespace: "team-a", Timeout: "20s", Retries: &zero},
		AWS:   config.AWSTable{Mount: "team-a/aws", DefaultTTL: "1h", MaxTTL: "12h"},
		Cache: config.CacheTable{Disabled: &yes, Dir: "/var/cache/vcp", RefreshWindow: "10m", MinRemaining: "2m"},
		Profiles: map[string]config.Profile{
			"dev": {Role: "dev", Type: "assumed_role", Mount: "aws-dev", TTL: "30m", MaxTTL: "2h",
				RoleARN: "arn:aws:iam::123456789012:role/dev", RoleSessionName: "me",
				VaultAddress: "https://dev.vault:8200", VaultNamespace: "dev-ns"},
			"prod": {Role: "prod"},
		},
		Path: path,
	}
	if f.Path != want.Path {
		t.Errorf("Path = %q, want %q", f.Path, want.Path)
	}
	if f.Vault.Address != want.Vault.Address || f.Vault.Namespace != want.Vault.Namespace ||
		f.Vault.Timeout != want.Vault.Timeout || f.Vault.Retries == nil || *f.Vault.Retries != 0 {
		t.Errorf("Vault = %+v, want %+v (retries 0)", f.Vault, want.Vault)
	}
	if f.AWS != want.AWS {
		t.Errorf("AWS = %+v, want %+v", f.AWS, want.AWS)
	}
	if f.Cache.Disabled == nil || !*f.Cache.Disabled || f.Cache.Dir != want.Cache.Dir ||
		f.Cache.RefreshWindow != want.Cache.RefreshWindow || f.Cache.MinRemaining != want.Cache.MinRemaining {
		t.Errorf("Cache = %+v, want %+v (disabled true)", f.Cache, want.Cache)
	}
	if len(f.Profiles) != len(want.Profiles) {
		t.Errorf("got %d profiles, want %d", len(f.Profiles), len(want.Profiles))
	}
	for name, wp := range want.Profiles {
		if gp, ok := f.Profiles[name]; !ok || gp != wp {
			t.Errorf("profile %s = %+v, want %+v", name, gp, wp)
		}
	}

	// The parsed file resolves: the profile's values win over the tables.
	s, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDProfile: "dev"}, Getenv: envOf(nil), File: f})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if s.Mount != "aws-dev" || s.TTL != 30*time.Minute || s.MaxTTL != 2*time.Hour || s.Retries != 0 ||
		s.Address != "https://dev.vault:8200" || s.Namespace != "dev-ns" || !s.CacheDisabled ||
		s.Timeout != 20*time.Second || s.RefreshWindow != 10*time.Minute || s.MinRemaining != 2*time.Minute {
		t.Errorf("Resolve = %+v", s)
	}
}

func TestParseEmpty(t *testing.T) {
	f, err := config.Parse("empty.toml", nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if f.Path != "empty.toml" || f.Vault.Retries != nil || f.Cache.Disabled != nil || len(f.Profiles) != 0 {
		t.Errorf("Parse(empty) = %+v, want an empty file", f)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	if err := os.WriteFile(good, []byte("[profiles.dev]\nrole = \"dev\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[profiles.dev]\nrole = \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.toml")

	tests := []struct {
		name      string
		path      string
		explicit  bool
		wantErr   string // substring of the error; "" for success
		wantPath  string
		wantRoles int
	}{
		{name: "missing default file is empty", path: missing, explicit: false, wantPath: ""},
		{name: "missing explicit file is an error", path: missing, explicit: true, wantErr: "cannot read configuration file"},
		{name: "folder is an error even as default", path: dir, explicit: false, wantErr: "cannot read configuration file"},
		{name: "good default file", path: good, explicit: false, wantPath: good, wantRoles: 1},
		{name: "good explicit file", path: good, explicit: true, wantPath: good, wantRoles: 1},
		{name: "bad TOML default file", path: bad, explicit: false, wantErr: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := config.Load(tt.path, tt.explicit)
			if tt.wantErr != "" {
				ce := configError(t, err)
				if !strings.Contains(ce.Error(), tt.wantErr) {
					t.Errorf("error %q, want it to contain %q", ce.Error(), tt.wantErr)
				}
				if ce.Source != tt.path {
					t.Errorf("Source = %q, want %q", ce.Source, tt.path)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if f == nil {
				t.Fatal("Load returned a nil file")
			}
			if f.Path != tt.wantPath {
				t.Errorf("Path = %q, want %q", f.Path, tt.wantPath)
			}
			if len(f.Profiles) != tt.wantRoles {
				t.Errorf("got %d profiles, want %d", len(f.Profiles), tt.wantRoles)
			}
		})
	}
	t.Run("missing explicit file has a hint", func(t *testing.T) {
		_, err := config.Load(missing, true)
		if ce := configError(t, err); !strings.Contains(ce.Hint, "--config") {
			t.Errorf("Hint = %q, want it to name --config", ce.Hint)
		}
	})
}

func TestDefaultPath(t *testing.T) {
	if os.PathSeparator != '/' {
		t.Skip("XDG paths apply on unix")
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{name: "XDG_CONFIG_HOME", env: map[string]string{"XDG_CONFIG_HOME": "/xdg", "HOME": "/home/me"}, want: "/xdg/vault-credential-process/config.toml"},
		{name: "relative XDG_CONFIG_HOME is ignored", env: map[string]string{"XDG_CONFIG_HOME": "xdg", "HOME": "/home/me"}, want: "/home/me/.config/vault-credential-process/config.toml"},
		{name: "HOME", env: map[string]string{"HOME": "/home/me"}, want: "/home/me/.config/vault-credential-process/config.toml"},
		{name: "neither", env: nil, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.DefaultPath(envOf(tt.env))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("DefaultPath = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("DefaultPath = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzParse decodes arbitrary TOML: Parse never panics, every error is a
// one-line *config.Error naming the file, and a decoded file remembers its
// path and resolves without panicking.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"[vault]\naddress = \"https://vault:8200\"\nretries = 3\n",
		"[aws]\nmount = \"aws\"\ndefault_ttl = \"1h\"\nmax_ttl = \"2h\"\n",
		"[cache]\ndisabled = false\ndir = \"/tmp/x\"\nrefresh_window = \"0\"\n",
		"[profiles.dev]\nrole = \"dev\"\ntype = \"iam_user\"\nttl = \"1h\"\n",
		"[profiles.\"a b\"]\nrole = \"x\"\n",
		"[profiles.dev]\nrole = \"dev\"\nbogus = 1\n",
		"[\"weird\nkey\"]\nx = 1\n",
		"a = \n",
		"[vault]\nretries = 99999999999999999999\n",
		"[vault]\nretries = -1\n",
		"[[profiles]]\nrole = \"x\"\n",
		"\xff\xfe",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		const path = "fuzz.toml"
		file, err := config.Parse(path, []byte(data))
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is %T, not a *config.Error", err, err)
			}
			if ce.Source != path {
				t.Fatalf("Source = %q, want %q", ce.Source, path)
			}
			if strings.ContainsAny(ce.Msg, "\r\n") {
				t.Fatalf("Msg %q spans more than one line", ce.Msg)
			}
			return
		}
		if file.Path != path {
			t.Fatalf("Path = %q, want %q", file.Path, path)
		}
		for name := range file.Profiles {
			_, _ = config.Resolve(config.Inputs{Flags: &config.Flags{config.IDProfile: name},
				Getenv: envOf(map[string]string{"HOME": "/home/fuzz"}), File: file})
		}
	})
}

package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

const cfgPath = "/etc/vcp.toml"

// envOf is an injected environment: only the variables in m are set.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// withHome adds HOME, so the default cache folder resolves, unless the
// test set it (or XDG_CACHE_HOME) itself.
func withHome(m map[string]string) map[string]string {
	out := map[string]string{"HOME": "/home/me"}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func parseFile(t *testing.T, data string) *config.File {
	t.Helper()
	f, err := config.Parse(cfgPath, []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// layered sets every setting in the profile and in the defaults tables, so
// each test case can show which layer wins.
const layered = `
[vault]
address = "http://table.vault:8200"
namespace = "table-ns"
timeout = "45s"
retries = 4

[aws]
mount = "table-mount"
default_ttl = "20m"

[cache]
dir = "/table/cache"
refresh_window = "10m"
min_remaining = "3m"
disabled = true

[profiles.dev]
role = "prof-role"
mount = "prof-mount"
ttl = "30m"
vault_address = "http://prof.vault:8200"
vault_namespace = "prof-ns"

[profiles.bare]
role = "bare-role"
`

func TestResolvePrecedence(t *testing.T) {
	f := parseFile(t, layered)
	empty := &config.File{}
	type check func(*config.Settings) any
	var (
		role      check = func(s *config.Settings) any { return s.Role }
		mount     check = func(s *config.Settings) any { return s.Mount }
		ttl       check = func(s *config.Settings) any { return s.TTL }
		timeout   check = func(s *config.Settings) any { return s.Timeout }
		retries   check = func(s *config.Settings) any { return s.Retries }
		address   check = func(s *config.Settings) any { return s.Address }
		namespace check = func(s *config.Settings) any { return s.Namespace }
		cacheDir  check = func(s *config.Settings) any { return s.CacheDir }
		refresh   check = func(s *config.Settings) any { return s.RefreshWindow }
		minRem    check = func(s *config.Settings) any { return s.MinRemaining }
		noCache   check = func(s *config.Settings) any { return s.CacheDisabled }
		debug     check = func(s *config.Settings) any { return s.Debug }
		profile   check = func(s *config.Settings) any { return s.Profile }
	)
	tests := []struct {
		name  string
		flags *config.Flags
		env   map[string]string
		file  *config.File
		get   check
		want  any
	}{
		// role: flag > env > profile.
		{"role flag", &config.Flags{config.IDProfile: "dev", config.IDRole: "flag-role"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_ROLE": "env-role"}, f, role, "flag-role"},
		{"role env", &config.Flags{config.IDProfile: "dev"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_ROLE": "env-role"}, f, role, "env-role"},
		{"role profile", &config.Flags{config.IDProfile: "dev"}, nil, f, role, "prof-role"},
		{"empty flag is not given", &config.Flags{config.IDProfile: "dev", config.IDRole: ""}, nil, f, role, "prof-role"},

		// profile itself: flag > env.
		{"profile env", nil, map[string]string{"VAULT_CREDENTIAL_PROCESS_PROFILE": "dev"}, f, profile, "dev"},
		{"profile flag over env", &config.Flags{config.IDProfile: "bare"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_PROFILE": "dev"}, f, role, "bare-role"},

		// mount: flag > env > profile > [aws] > built-in.
		{"mount flag", &config.Flags{config.IDProfile: "dev", config.IDMount: "flag-mount"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_MOUNT": "env-mount"}, f, mount, "flag-mount"},
		{"mount env", &config.Flags{config.IDProfile: "dev"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_MOUNT": "env-mount"}, f, mount, "env-mount"},
		{"mount profile", &config.Flags{config.IDProfile: "dev"}, nil, f, mount, "prof-mount"},
		{"mount table", &config.Flags{config.IDProfile: "bare"}, nil, f, mount, "table-mount"},
		{"mount built-in", &config.Flags{config.IDRole: "r"}, nil, empty, mount, config.DefaultMount},
		{"mount slashes trimmed", &config.Flags{config.IDRole: "r", config.IDMount: "/team/aws/"}, nil, empty, mount, "team/aws"},

		// ttl: flag > env > profile > aws.default_ttl > none.
		{"ttl flag", &config.Flags{config.IDProfile: "dev", config.IDTTL: "1h"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_TTL": "50m"}, f, ttl, time.Hour},
		{"ttl env", &config.Flags{config.IDProfile: "dev"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_TTL": "50m"}, f, ttl, 50 * time.Minute},
		{"ttl profile", &config.Flags{config.IDProfile: "dev"}, nil, f, ttl, 30 * time.Minute},
		{"ttl default_ttl", &config.Flags{config.IDProfile: "bare"}, nil, f, ttl, 20 * time.Minute},
		{"ttl none", &config.Flags{config.IDRole: "r"}, nil, empty, ttl, time.Duration(0)},

		// timeout: flag > env > [vault] > built-in.
		{"timeout flag", &config.Flags{config.IDRole: "r", config.IDTimeout: "10s"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_TIMEOUT": "20s"}, f, timeout, 10 * time.Second},
		{"timeout env", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_TIMEOUT": "20s"}, f, timeout, 20 * time.Second},
		{"timeout table", &config.Flags{config.IDRole: "r"}, nil, f, timeout, 45 * time.Second},
		{"timeout built-in", &config.Flags{config.IDRole: "r"}, nil, empty, timeout, config.DefaultTimeout},

		// retries: flag > env > VAULT_MAX_RETRIES > [vault] > built-in.
		{"retries flag", &config.Flags{config.IDRole: "r", config.IDRetries: "1"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_RETRIES": "3", "VAULT_MAX_RETRIES": "5"}, f, retries, 1},
		{"retries env", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_RETRIES": "3", "VAULT_MAX_RETRIES": "5"}, f, retries, 3},
		{"retries VAULT_MAX_RETRIES", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_MAX_RETRIES": "5"}, f, retries, 5},
		{"retries table", &config.Flags{config.IDRole: "r"}, nil, f, retries, 4},
		{"retries table zero is kept", &config.Flags{config.IDRole: "r"}, nil, parseFile(t, "[vault]\nretries = 0\n"), retries, 0},
		{"retries built-in", &config.Flags{config.IDRole: "r"}, nil, empty, retries, config.DefaultRetries},
		{"retries flag zero", &config.Flags{config.IDRole: "r", config.IDRetries: "0"}, nil, f, retries, 0},

		// address: VAULT_AGENT_ADDR > VAULT_ADDR > profile > [vault] > built-in.
		{"address agent", &config.Flags{config.IDProfile: "dev"}, map[string]string{"VAULT_AGENT_ADDR": "http://agent:8100", "VAULT_ADDR": "http://env:8200"}, f, address, "http://agent:8100"},
		{"address VAULT_ADDR", &config.Flags{config.IDProfile: "dev"}, map[string]string{"VAULT_ADDR": "http://env:8200"}, f, address, "http://env:8200"},
		{"address profile", &config.Flags{config.IDProfile: "dev"}, nil, f, address, "http://prof.vault:8200"},
		{"address table", &config.Flags{config.IDProfile: "bare"}, nil, f, address, "http://table.vault:8200"},
		{"address built-in", &config.Flags{config.IDRole: "r"}, nil, empty, address, config.DefaultAddress},
		{"address unix socket", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_AGENT_ADDR": "unix:///run/agent.sock"}, empty, address, "unix:///run/agent.sock"},

		// namespace: VAULT_NAMESPACE > profile > [vault].
		{"namespace env", &config.Flags{config.IDProfile: "dev"}, map[string]string{"VAULT_NAMESPACE": "/env-ns/"}, f, namespace, "env-ns"},
		{"namespace profile", &config.Flags{config.IDProfile: "dev"}, nil, f, namespace, "prof-ns"},
		{"namespace table", &config.Flags{config.IDProfile: "bare"}, nil, f, namespace, "table-ns"},
		{"namespace none", &config.Flags{config.IDRole: "r"}, nil, empty, namespace, ""},

		// cache dir: flag > env > [cache] > XDG_CACHE_HOME > HOME.
		{"cache dir flag", &config.Flags{config.IDRole: "r", config.IDCacheDir: "/flag/cache"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_CACHE_DIR": "/env/cache"}, f, cacheDir, filepath.FromSlash("/flag/cache")},
		{"cache dir env", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_CACHE_DIR": "/env/cache"}, f, cacheDir, filepath.FromSlash("/env/cache")},
		{"cache dir table", &config.Flags{config.IDRole: "r"}, nil, f, cacheDir, filepath.FromSlash("/table/cache")},

		// refresh window: flag > env > [cache] > built-in; zero turns it off.
		{"refresh flag", &config.Flags{config.IDRole: "r", config.IDRefreshWindow: "5m"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_REFRESH_WINDOW": "7m"}, f, refresh, 5 * time.Minute},
		{"refresh env", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_REFRESH_WINDOW": "7m"}, f, refresh, 7 * time.Minute},
		{"refresh table", &config.Flags{config.IDRole: "r"}, nil, f, refresh, 10 * time.Minute},
		{"refresh built-in", &config.Flags{config.IDRole: "r"}, nil, empty, refresh, config.DefaultRefreshWindow},
		{"refresh zero", &config.Flags{config.IDRole: "r", config.IDRefreshWindow: "0"}, nil, f, refresh, time.Duration(0)},
		{"refresh zero seconds", &config.Flags{config.IDRole: "r", config.IDRefreshWindow: "0s"}, nil, f, refresh, time.Duration(0)},

		// min remaining: env > [cache] > built-in.
		{"min remaining env", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_MIN_REMAINING": "1m"}, f, minRem, time.Minute},
		{"min remaining table", &config.Flags{config.IDRole: "r"}, nil, f, minRem, 3 * time.Minute},
		{"min remaining built-in", &config.Flags{config.IDRole: "r"}, nil, empty, minRem, config.DefaultMinRemaining},

		// booleans: flag > env > [cache] disabled > false.
		{"no-cache flag false beats table", &config.Flags{config.IDRole: "r", config.IDNoCache: "false"}, nil, f, noCache, false},
		{"no-cache env", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_NO_CACHE": "1"}, empty, noCache, true},
		{"no-cache table", &config.Flags{config.IDRole: "r"}, nil, f, noCache, true},
		{"no-cache built-in", &config.Flags{config.IDRole: "r"}, nil, empty, noCache, false},
		{"debug env", &config.Flags{config.IDRole: "r"}, map[string]string{"VAULT_CREDENTIAL_PROCESS_DEBUG": "true"}, empty, debug, true},
		{"debug built-in", &config.Flags{config.IDRole: "r"}, nil, empty, debug, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := config.Resolve(config.Inputs{Flags: tt.flags, Getenv: envOf(withHome(tt.env)), File: tt.file})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got := tt.get(s); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResolveDefaultCacheDir(t *testing.T) {
	if os.PathSeparator != '/' {
		t.Skip("XDG paths apply on unix")
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{name: "XDG_CACHE_HOME", env: map[string]string{"XDG_CACHE_HOME": "/xdg", "HOME": "/home/me"}, want: "/xdg/vault-credential-process"},
		{name: "relative XDG_CACHE_HOME ignored", env: map[string]string{"XDG_CACHE_HOME": "rel", "HOME": "/home/me"}, want: "/home/me/.cache/vault-credential-process"},
		{name: "HOME", env: map[string]string{"HOME": "/home/me"}, want: "/home/me/.cache/vault-credential-process"},
		{name: "neither is a config error", env: nil, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDRole: "r"}, Getenv: envOf(tt.env)})
			if tt.wantErr {
				ce := configError(t, err)
				if !strings.Contains(ce.Hint, "--cache-dir") {
					t.Errorf("Hint = %q, want it to name --cache-dir", ce.Hint)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if s.CacheDir != tt.want {
				t.Errorf("CacheDir = %q, want %q", s.CacheDir, tt.want)
			}
		})
	}
	t.Run("relative flag is made absolute", func(t *testing.T) {
		s, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDRole: "r", config.IDCacheDir: "rel/cache"}, Getenv: envOf(nil)})
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(wd, "rel", "cache"); s.CacheDir != want {
			t.Errorf("CacheDir = %q, want %q", s.CacheDir, want)
		}
	})
}

// TestResolveInjectedEnvironment: Resolve reads the environment only
// through Getenv, which the command layer injects; without one the
// environment is empty, whatever the process's holds.
func TestResolveInjectedEnvironment(t *testing.T) {
	testenv.ClearVaultAWS(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("VAULT_ADDR", "http://from-env:8200")
	t.Setenv("VAULT_CREDENTIAL_PROCESS_ROLE", "env-role")
	injected := envOf(withHome(map[string]string{"VAULT_ADDR": "http://injected:8200", "VAULT_CREDENTIAL_PROCESS_ROLE": "injected-role"}))
	s, err := config.Resolve(config.Inputs{Getenv: injected})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if s.Role != "injected-role" || s.Address != "http://injected:8200" || s.ConfigPath != "" {
		t.Errorf("Resolve = role %q, address %q, config %q; want the injected environment's", s.Role, s.Address, s.ConfigPath)
	}
	s, err = config.Resolve(config.Inputs{Flags: &config.Flags{config.IDRole: "flag-role", config.IDCacheDir: t.TempDir()}})
	if err != nil {
		t.Fatalf("Resolve without Getenv: %v", err)
	}
	if s.Role != "flag-role" || s.Address == "http://from-env:8200" {
		t.Errorf("Resolve without Getenv = role %q, address %q; want the process environment unread", s.Role, s.Address)
	}
}

func TestResolveValid(t *testing.T) {
	tests := []struct {
		name  string
		flags *config.Flags
		file  string
		check func(*config.Settings) bool
	}{
		{"ttl 1h", &config.Flags{config.IDTTL: "1h"}, "", func(s *config.Settings) bool { return s.TTL == time.Hour }},
		{"ttl 90m", &config.Flags{config.IDTTL: "90m"}, "", func(s *config.Settings) bool { return s.TTL == 90*time.Minute }},
		{"ttl 3600", &config.Flags{config.IDTTL: "3600"}, "", func(s *config.Settings) bool { return s.TTL == time.Hour }},
		{"ttl 3600s", &config.Flags{config.IDTTL: "3600s"}, "", func(s *config.Settings) bool { return s.TTL == time.Hour }},
		{"ttl 1d", &config.Flags{config.IDTTL: "1d"}, "", func(s *config.Settings) bool { return s.TTL == 24*time.Hour }},
		{"ttl equal to max_ttl", &config.Flags{config.IDTTL: "1h", config.IDMaxTTL: "60m"}, "", func(s *config.Settings) bool { return s.TTL == time.Hour && s.MaxTTL == time.Hour }},
		{"ttl below max_ttl is not raised", &config.Flags{config.IDTTL: "2h"}, "[aws]\nmax_ttl = \"3h\"\n", func(s *config.Settings) bool { return s.TTL == 2*time.Hour && s.MaxTTL == 3*time.Hour }},
		{"arn aws", &config.Flags{config.IDRoleARN: "arn:aws:iam::123456789012:role/dev"}, "", func(s *config.Settings) bool { return s.RoleARN == "arn:aws:iam::123456789012:role/dev" }},
		{"arn aws-cn", &config.Flags{config.IDRoleARN: "arn:aws-cn:iam::123456789012:role/path/to/dev"}, "", func(s *config.Settings) bool { return s.RoleARN != "" }},
		{"arn aws-us-gov with assumed_role", &config.Flags{config.IDType: "assumed_role", config.IDRoleARN: "arn:aws-us-gov:iam::000000000000:role/a+b=c,d.e@f-g_h"}, "", func(s *config.Settings) bool { return s.RoleARN != "" && s.Type == config.TypeAssumedRole }},
		{"session name of 2", &config.Flags{config.IDRoleSessionName: "ab"}, "", func(s *config.Settings) bool { return s.RoleSessionName == "ab" }},
		{"session name of 64", &config.Flags{config.IDType: "assumed_role", config.IDRoleSessionName: strings.Repeat("a", 64)}, "", func(s *config.Settings) bool { return len(s.RoleSessionName) == 64 }},
		{"session name characters", &config.Flags{config.IDRoleSessionName: "me+ci=1,x.y@z-w_v"}, "", func(s *config.Settings) bool { return s.RoleSessionName == "me+ci=1,x.y@z-w_v" }},
		{"mfa with session_token", &config.Flags{config.IDType: "session_token", config.IDMFACode: "012345"}, "", func(s *config.Settings) bool { return s.MFACode == "012345" }},
		{"mfa without type", &config.Flags{config.IDMFACode: "123456"}, "", func(s *config.Settings) bool { return s.MFACode == "123456" }},
		{"role with dots and dashes", &config.Flags{config.IDRole: "a.b-c_d"}, "", func(s *config.Settings) bool { return s.Role == "a.b-c_d" }},
		{"single-letter role", &config.Flags{config.IDRole: "a"}, "", func(s *config.Settings) bool { return s.Role == "a" }},
		{"nested mount", &config.Flags{config.IDMount: "team-a/aws.prod"}, "", func(s *config.Settings) bool { return s.Mount == "team-a/aws.prod" }},
		{"every type", &config.Flags{config.IDType: "federation_token", config.IDTTL: "1h"}, "", func(s *config.Settings) bool { return s.Type == config.TypeFederationToken }},
		{"static without ttl", &config.Flags{config.IDType: "static"}, "", func(s *config.Settings) bool { return s.Type == config.TypeStatic && s.TTL == 0 }},

		// aws.default_ttl applies only where the type allows a ttl.
		{"default_ttl with no type", nil, "[aws]\ndefault_ttl = \"1h\"\n", func(s *config.Settings) bool { return s.TTL == time.Hour }},
		{"default_ttl with assumed_role", &config.Flags{config.IDType: "assumed_role"}, "[aws]\ndefault_ttl = \"1h\"\n", func(s *config.Settings) bool { return s.TTL == time.Hour }},
		{"default_ttl with session_token", &config.Flags{config.IDType: "session_token"}, "[aws]\ndefault_ttl = \"1h\"\n", func(s *config.Settings) bool { return s.TTL == time.Hour }},
		{"default_ttl skipped for iam_user", &config.Flags{config.IDType: "iam_user"}, "[aws]\ndefault_ttl = \"1h\"\n", func(s *config.Settings) bool { return s.TTL == 0 }},
		{"default_ttl skipped for static", &config.Flags{config.IDType: "static"}, "[aws]\ndefault_ttl = \"1h\"\n", func(s *config.Settings) bool { return s.TTL == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := &config.Flags{config.IDRole: "dev"}
			if tt.flags != nil {
				for id, v := range tt.flags {
					if v != "" {
						flags[id] = v
					}
				}
			}
			s, err := config.Resolve(config.Inputs{Flags: flags, Getenv: envOf(withHome(nil)), File: parseFile(t, tt.file)})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if !tt.check(s) {
				t.Errorf("unexpected settings %+v", s)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	const (
		profTable = "[profiles.dev]\nrole = \"dev\"\n"
	)
	tests := []struct {
		name       string
		flags      *config.Flags
		noRole     bool // no --role, which the other cases get
		env        map[string]string
		file       string
		wantSource string   // exact Source
		wantMsg    []string // substrings of Msg
	}{
		// Role names.
		{name: "role starting with a dash", flags: &config.Flags{config.IDRole: "-dev"}, wantSource: "--role", wantMsg: []string{"invalid role name", `"-dev"`}},
		{name: "role with a slash", flags: &config.Flags{config.IDRole: "a/b"}, wantSource: "--role", wantMsg: []string{"invalid role name"}},
		{name: "role with a space", flags: &config.Flags{config.IDRole: "a b"}, wantSource: "--role", wantMsg: []string{"invalid role name"}},
		{name: "role ending with a dot", flags: &config.Flags{config.IDRole: "dev."}, wantSource: "--role", wantMsg: []string{"invalid role name"}},
		{name: "role too long", flags: &config.Flags{config.IDRole: strings.Repeat("r", 129)}, wantSource: "--role", wantMsg: []string{"invalid role name"}},
		{name: "role from env", noRole: true, env: map[string]string{"VAULT_CREDENTIAL_PROCESS_ROLE": "../x"}, wantSource: "VAULT_CREDENTIAL_PROCESS_ROLE", wantMsg: []string{"invalid role name"}},
		{name: "role in profile", flags: &config.Flags{config.IDProfile: "dev"}, noRole: true, file: "[profiles.dev]\nrole = \"a:b\"\n", wantSource: cfgPath + ": profiles.dev.role", wantMsg: []string{"invalid role name"}},
		{name: "no role", noRole: true, wantSource: "", wantMsg: []string{"no role given"}},
		{name: "profile without role", flags: &config.Flags{config.IDProfile: "dev"}, noRole: true, file: "[profiles.dev]\nttl = \"1h\"\n", wantSource: cfgPath + ": profiles.dev", wantMsg: []string{"profile has no role"}},

		// Mounts.
		{name: "mount ../x", flags: &config.Flags{config.IDMount: "../x"}, wantSource: "--mount", wantMsg: []string{"invalid mount path", `"../x"`}},
		{name: "mount a//b", flags: &config.Flags{config.IDMount: "a//b"}, wantSource: "--mount", wantMsg: []string{"invalid mount path"}},
		{name: "mount a/../b", flags: &config.Flags{config.IDMount: "a/../b"}, wantSource: "--mount", wantMsg: []string{"invalid mount path"}},
		{name: "mount a/./b", flags: &config.Flags{config.IDMount: "a/./b"}, wantSource: "--mount", wantMsg: []string{"invalid mount path"}},
		{name: "mount with query", flags: &config.Flags{config.IDMount: "aws?x=1"}, wantSource: "--mount", wantMsg: []string{"invalid mount path"}},
		{name: "mount only slashes", flags: &config.Flags{config.IDMount: "//"}, wantSource: "--mount", wantMsg: []string{"invalid mount path"}},
		{name: "mount in profile", flags: &config.Flags{config.IDProfile: "dev"}, file: "[profiles.dev]\nrole = \"dev\"\nmount = \"../x\"\n", wantSource: cfgPath + ": profiles.dev.mount", wantMsg: []string{"invalid mount path"}},
		{name: "mount in table", file: "[aws]\nmount = \"a//b\"\n", wantSource: cfgPath + ": aws.mount", wantMsg: []string{"invalid mount path"}},

		// Types.
		{name: "bad type", flags: &config.Flags{config.IDType: "iam-user"}, wantSource: "--type", wantMsg: []string{"unknown credential type", `"iam-user"`}},
		{name: "bad type in profile", flags: &config.Flags{config.IDProfile: "dev"}, file: "[profiles.dev]\nrole = \"dev\"\ntype = \"sts\"\n", wantSource: cfgPath + ": profiles.dev.type", wantMsg: []string{"unknown credential type"}},

		// Role ARNs.
		{name: "arn with 11 digits", flags: &config.Flags{config.IDRoleARN: "arn:aws:iam::12345678901:role/dev"}, wantSource: "--role-arn", wantMsg: []string{"invalid role ARN"}},
		{name: "arn with 13 digits", flags: &config.Flags{config.IDRoleARN: "arn:aws:iam::1234567890123:role/dev"}, wantSource: "--role-arn", wantMsg: []string{"invalid role ARN"}},
		{name: "sts arn", flags: &config.Flags{config.IDRoleARN: "arn:aws:sts::123456789012:assumed-role/dev/me"}, wantSource: "--role-arn", wantMsg: []string{"invalid role ARN"}},
		{name: "other partition", flags: &config.Flags{config.IDRoleARN: "arn:aws-iso:iam::123456789012:role/dev"}, wantSource: "--role-arn", wantMsg: []string{"invalid role ARN"}},
		{name: "user arn", flags: &config.Flags{config.IDRoleARN: "arn:aws:iam::123456789012:user/dev"}, wantSource: "--role-arn", wantMsg: []string{"invalid role ARN"}},
		{name: "arn without name", flags: &config.Flags{config.IDRoleARN: "arn:aws:iam::123456789012:role/"}, wantSource: "--role-arn", wantMsg: []string{"invalid role ARN"}},
		{name: "arn in profile", flags: &config.Flags{config.IDProfile: "dev"}, file: "[profiles.dev]\nrole = \"dev\"\nrole_arn = \"arn:aws:iam::1:role/x\"\n", wantSource: cfgPath + ": profiles.dev.role_arn", wantMsg: []string{"invalid role ARN"}},
		{name: "arn with iam_user", flags: &config.Flags{config.IDType: "iam_user", config.IDRoleARN: "arn:aws:iam::123456789012:role/dev"}, wantSource: "--role-arn", wantMsg: []string{"only to assumed_role", "iam_user"}},
		{name: "arn with federation_token", flags: &config.Flags{config.IDType: "federation_token", config.IDRoleARN: "arn:aws:iam::123456789012:role/dev"}, wantSource: "--role-arn", wantMsg: []string{"only to assumed_role"}},

		// Session names.
		{name: "session name of 1", flags: &config.Flags{config.IDRoleSessionName: "a"}, wantSource: "--role-session-name", wantMsg: []string{"invalid role session name"}},
		{name: "session name of 65", flags: &config.Flags{config.IDRoleSessionName: strings.Repeat("a", 65)}, wantSource: "--role-session-name", wantMsg: []string{"invalid role session name"}},
		{name: "session name with space", flags: &config.Flags{config.IDRoleSessionName: "me you"}, wantSource: "--role-session-name", wantMsg: []string{"invalid role session name"}},
		{name: "session name with slash", flags: &config.Flags{config.IDRoleSessionName: "me/you"}, wantSource: "--role-session-name", wantMsg: []string{"invalid role session name"}},
		{name: "session name with colon", flags: &config.Flags{config.IDRoleSessionName: "me:you"}, wantSource: "--role-session-name", wantMsg: []string{"invalid role session name"}},
		{name: "session name with session_token", flags: &config.Flags{config.IDType: "session_token", config.IDRoleSessionName: "me"}, wantSource: "--role-session-name", wantMsg: []string{"only to assumed_role", "session_token"}},
		{name: "session name in profile with static", flags: &config.Flags{config.IDProfile: "dev"}, file: "[profiles.dev]\nrole = \"dev\"\ntype = \"static\"\nrole_session_name = \"me\"\n", wantSource: cfgPath + ": profiles.dev.role_session_name", wantMsg: []string{"only to assumed_role"}},

		// MFA codes.
		{name: "mfa five digits", flags: &config.Flags{config.IDMFACode: "12345"}, wantSource: "--mfa-code", wantMsg: []string{"invalid MFA code"}},
		{name: "mfa seven digits", flags: &config.Flags{config.IDMFACode: "1234567"}, wantSource: "--mfa-code", wantMsg: []string{"invalid MFA code"}},
		{name: "mfa letters", flags: &config.Flags{config.IDMFACode: "12345a"}, wantSource: "--mfa-code", wantMsg: []string{"invalid MFA code"}},
		{name: "mfa from env", env: map[string]string{"VAULT_CREDENTIAL_PROCESS_MFA_CODE": "1"}, wantSource: "VAULT_CREDENTIAL_PROCESS_MFA_CODE", wantMsg: []string{"invalid MFA code"}},
		{name: "mfa with assumed_role", flags: &config.Flags{config.IDType: "assumed_role", config.IDMFACode: "123456"}, wantSource: "--mfa-code", wantMsg: []string{"only to session_token", "assumed_role"}},
		{name: "mfa with iam_user", flags: &config.Flags{config.IDType: "iam_user", config.IDMFACode: "123456"}, wantSource: "--mfa-code", wantMsg: []string{"only to session_token"}},

		// TTL syntax, from each layer.
		{name: "ttl 1x", flags: &config.Flags{config.IDTTL: "1x"}, wantSource: "--ttl", wantMsg: []string{"invalid duration", `"1x"`}},
		{name: "ttl 0", flags: &config.Flags{config.IDTTL: "0"}, wantSource: "--ttl", wantMsg: []string{"invalid duration"}},
		{name: "ttl 0s", flags: &config.Flags{config.IDTTL: "0s"}, wantSource: "--ttl", wantMsg: []string{"invalid duration"}},
		{name: "ttl -5m", flags: &config.Flags{config.IDTTL: "-5m"}, wantSource: "--ttl", wantMsg: []string{"invalid duration"}},
		{name: "ttl 1.5s", flags: &config.Flags{config.IDTTL: "1.5s"}, wantSource: "--ttl", wantMsg: []string{"invalid duration"}},
		{name: "ttl 500ms", flags: &config.Flags{config.IDTTL: "500ms"}, wantSource: "--ttl", wantMsg: []string{"invalid duration"}},
		{name: "ttl from env", env: map[string]string{"VAULT_CREDENTIAL_PROCESS_TTL": "1x"}, wantSource: "VAULT_CREDENTIAL_PROCESS_TTL", wantMsg: []string{"invalid duration"}},
		{name: "ttl in profile", flags: &config.Flags{config.IDProfile: "dev"}, file: "[profiles.dev]\nrole = \"dev\"\nttl = \"-5m\"\n", wantSource: cfgPath + ": profiles.dev.ttl", wantMsg: []string{"invalid duration"}},
		{name: "ttl in default_ttl", file: "[aws]\ndefault_ttl = \"1x\"\n", wantSource: cfgPath + ": aws.default_ttl", wantMsg: []string{"invalid duration"}},

		// TTL above max_ttl: an error naming the limit, never a clamp.
		{name: "ttl above table max_ttl", flags: &config.Flags{config.IDTTL: "2h"}, file: "[aws]\nmax_ttl = \"1h\"\n", wantSource: "--ttl", wantMsg: []string{"above the max_ttl", "1h", cfgPath + ": aws.max_ttl"}},
		{name: "profile ttl above profile max_ttl", flags: &config.Flags{config.IDProfile: "dev"}, file: "[profiles.dev]\nrole = \"dev\"\nttl = \"2h\"\nmax_ttl = \"90m\"\n", wantSource: cfgPath + ": profiles.dev.ttl", wantMsg: []string{"above the max_ttl", "90m", "profiles.dev.max_ttl"}},
		{name: "default_ttl above max_ttl", file: "[aws]\ndefault_ttl = \"2h\"\nmax_ttl = \"1h\"\n", wantSource: cfgPath + ": aws.default_ttl", wantMsg: []string{"above the max_ttl"}},
		{name: "ttl above env max_ttl", flags: &config.Flags{config.IDTTL: "3601"}, env: map[string]string{"VAULT_CREDENTIAL_PROCESS_MAX_TTL": "1h"}, wantSource: "--ttl", wantMsg: []string{"above the max_ttl", "VAULT_CREDENTIAL_PROCESS_MAX_TTL"}},
		{name: "bad max_ttl", file: "[aws]\nmax_ttl = \"forever\"\n", wantSource: cfgPath + ": aws.max_ttl", wantMsg: []string{"invalid duration"}},

		// TTL refused for types Vault gives no ttl.
		{name: "ttl with iam_user", flags: &config.Flags{config.IDType: "iam_user", config.IDTTL: "1h"}, wantSource: "--ttl", wantMsg: []string{"cannot be requested", "iam_user"}},
		{name: "ttl with static", flags: &config.Flags{config.IDType: "static", config.IDTTL: "1h"}, wantSource: "--ttl", wantMsg: []string{"cannot be requested", "static"}},
		{name: "profile ttl with iam_user", flags: &config.Flags{config.IDProfile: "dev"}, file: "[profiles.dev]\nrole = \"dev\"\ntype = \"iam_user\"\nttl = \"1h\"\n", wantSource: cfgPath + ": profiles.dev.ttl", wantMsg: []string{"cannot be requested"}},

		// Profiles.
		{name: "unknown profile", flags: &config.Flags{config.IDProfile: "stage"}, file: profTable + "[profiles.prod]\nrole = \"prod\"\n", wantSource: cfgPath, wantMsg: []string{`no profile "stage"`}},
		{name: "unknown profile without a file", flags: &config.Flags{config.IDProfile: "stage"}, wantSource: cfgPath, wantMsg: []string{`no profile "stage"`}},

		// Addresses, numbers and booleans.
		{name: "address without scheme", env: map[string]string{"VAULT_ADDR": "vault.example.com:8200"}, wantSource: "VAULT_ADDR", wantMsg: []string{"invalid Vault address"}},
		{name: "address ftp", env: map[string]string{"VAULT_AGENT_ADDR": "ftp://vault"}, wantSource: "VAULT_AGENT_ADDR", wantMsg: []string{"invalid Vault address"}},
		{name: "address without host", file: "[vault]\naddress = \"https://\"\n", wantSource: cfgPath + ": vault.address", wantMsg: []string{"invalid Vault address"}},
		{name: "profile address", flags: &config.Flags{config.IDProfile: "dev"}, file: "[profiles.dev]\nrole = \"dev\"\nvault_address = \"::\"\n", wantSource: cfgPath + ": profiles.dev.vault_address", wantMsg: []string{"invalid Vault address"}},
		{name: "retries too many", flags: &config.Flags{config.IDRetries: "11"}, wantSource: "--retries", wantMsg: []string{"invalid retry count"}},
		{name: "retries negative", flags: &config.Flags{config.IDRetries: "-1"}, wantSource: "--retries", wantMsg: []string{"invalid retry count"}},
		{name: "VAULT_MAX_RETRIES not a number", env: map[string]string{"VAULT_MAX_RETRIES": "many"}, wantSource: "VAULT_MAX_RETRIES", wantMsg: []string{"invalid retry count"}},
		{name: "table retries", file: "[vault]\nretries = 42\n", wantSource: cfgPath + ": vault.retries", wantMsg: []string{"invalid retry count"}},
		{name: "timeout 0", flags: &config.Flags{config.IDTimeout: "0"}, wantSource: "--timeout", wantMsg: []string{"invalid duration"}},
		{name: "timeout in table", file: "[vault]\ntimeout = \"soon\"\n", wantSource: cfgPath + ": vault.timeout", wantMsg: []string{"invalid duration"}},
		{name: "refresh negative", flags: &config.Flags{config.IDRefreshWindow: "-1m"}, wantSource: "--refresh-window", wantMsg: []string{"invalid duration"}},
		{name: "refresh in table", file: "[cache]\nrefresh_window = \"1.5s\"\n", wantSource: cfgPath + ": cache.refresh_window", wantMsg: []string{"invalid duration"}},
		{name: "min_remaining zero", file: "[cache]\nmin_remaining = \"0\"\n", wantSource: cfgPath + ": cache.min_remaining", wantMsg: []string{"invalid duration"}},
		{name: "no-cache not a boolean", env: map[string]string{"VAULT_CREDENTIAL_PROCESS_NO_CACHE": "yes"}, wantSource: "VAULT_CREDENTIAL_PROCESS_NO_CACHE", wantMsg: []string{"invalid boolean"}},
		{name: "debug not a boolean", flags: &config.Flags{config.IDDebug: "maybe"}, wantSource: "--debug", wantMsg: []string{"invalid boolean"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := &config.Flags{config.IDRole: "dev"}
			if tt.noRole {
				flags[config.IDRole] = ""
			}
			if tt.flags != nil {
				for id, v := range tt.flags {
					if v != "" {
						flags[id] = v
					}
				}
			}
			s, err := config.Resolve(config.Inputs{Flags: flags, Getenv: envOf(withHome(tt.env)), File: parseFile(t, tt.file)})
			if s != nil {
				t.Errorf("Resolve returned settings %+v along with the error", s)
			}
			ce := configError(t, err)
			if ce.Source != tt.wantSource {
				t.Errorf("Source = %q, want %q", ce.Source, tt.wantSource)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(ce.Msg, want) {
					t.Errorf("Msg = %q, want it to contain %q", ce.Msg, want)
				}
			}
			if ce.Hint == "" {
				t.Error("Hint is empty")
			}
			if tt.wantSource != "" && !strings.HasPrefix(ce.Error(), tt.wantSource+": ") {
				t.Errorf("Error() = %q, want it to start with %q", ce.Error(), tt.wantSource+": ")
			}
			if strings.Contains(ce.Error(), "\n") || strings.Contains(ce.Hint, "\n") {
				t.Errorf("error %q / hint %q spans more than one line", ce.Error(), ce.Hint)
			}
		})
	}
}

func TestResolveUnknownProfileListsKnown(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		wantHint string
	}{
		{"lists profiles sorted", "[profiles.prod]\nrole = \"p\"\n[profiles.dev]\nrole = \"d\"\n", "known profiles: dev, prod"},
		{"no profiles says how to add one", "", "[profiles.stage]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDProfile: "stage"}, Getenv: envOf(withHome(nil)), File: parseFile(t, tt.file)})
			ce := configError(t, err)
			if !strings.Contains(ce.Hint, tt.wantHint) {
				t.Errorf("Hint = %q, want it to contain %q", ce.Hint, tt.wantHint)
			}
		})
	}
	// With no file at all, the error names the file that was looked for:
	// where the profile goes.
	t.Run("no file at all", func(t *testing.T) {
		_, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDProfile: "stage"}, Getenv: envOf(withHome(nil))})
		ce := configError(t, err)
		const path = "/home/me/.config/vault-credential-process/config.toml"
		if want := `no profile "stage": there is no configuration file at ` + path; ce.Error() != want {
			t.Errorf("error %q, want %q", ce.Error(), want)
		}
		if want := "create " + path + ` with a [profiles.stage] table holding role = "NAME", or name another file with --config or VAULT_CREDENTIAL_PROCESS_CONFIG`; ce.Hint != want {
			t.Errorf("hint %q, want %q", ce.Hint, want)
		}
	})
}

func TestEnvName(t *testing.T) {
	tests := map[string]string{
		"role":              "VAULT_CREDENTIAL_PROCESS_ROLE",
		"role-session-name": "VAULT_CREDENTIAL_PROCESS_ROLE_SESSION_NAME",
		"no-cache":          "VAULT_CREDENTIAL_PROCESS_NO_CACHE",
	}
	for flag, want := range tests {
		t.Run(flag, func(t *testing.T) {
			if got := config.EnvName(flag); got != want {
				t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
			}
		})
	}
}

func TestValidTTL(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1h", time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"3600", time.Hour, true},
		{"3600s", time.Hour, true},
		{"1d", 24 * time.Hour, true},
		{"1x", 0, false},
		{"0", 0, false},
		{"-5m", 0, false},
		{"1.5s", 0, false},
		{"", 0, false},
		{"1h1ns", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := config.ValidTTL(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ValidTTL(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// Patterns written independently of the package's own, for FuzzResolve.
var (
	rolePattern = regexp.MustCompile(`^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)
	arnPattern  = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$`)
)

// FuzzResolve feeds arbitrary values to every layer of a request. Resolve
// never panics, and what it accepts is something Vault could be asked for.
func FuzzResolve(f *testing.F) {
	f.Add("dev", "aws", "", "1h", "", "", "", "", "", "")
	f.Add("dev", "team/aws", "assumed_role", "90m", "2h", "arn:aws:iam::123456789012:role/dev", "me", "", "", "")
	f.Add("dev", "aws", "session_token", "", "", "", "", "123456", "1h", "30m")
	f.Add("dev", "aws", "iam_user", "", "", "", "", "", "1h", "")
	f.Add("dev", "aws", "static", "3600", "", "", "", "", "", "")
	f.Add("dev", "aws", "", "2h", "1h", "", "", "", "", "")
	f.Add("dev", "aws", "", "", "1h", "", "", "", "2h", "")
	f.Add("dev", "aws", "", "", "30m", "", "", "", "", "1h")
	f.Add("-dev", "../x", "bogus", "1x", "0", "arn:aws:sts::1:x", "a", "12", "-5m", "1.5s")
	f.Add("d", "a//b", "federation_token", "106751991167d", "9223372036s", "arn:aws-cn:iam::000000000000:role/x", strings.Repeat("s", 64), "000000", "1d", "3600")
	f.Add("dev", "aws", "", " 1h ", "", "", "", "", "", "")
	f.Add("dev", "aws", "", "1h\n", "30m", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, role, mount, typ, ttl, maxTTL, arn, sess, mfa, defaultTTL, profTTL string) {
		file := &config.File{
			Path: "fuzz.toml",
			AWS:  config.AWSTable{DefaultTTL: defaultTTL, MaxTTL: maxTTL},
			Profiles: map[string]config.Profile{
				"p": {Role: role, Mount: mount, TTL: profTTL, RoleSessionName: sess},
			},
		}
		in := config.Inputs{
			Flags:  &config.Flags{config.IDProfile: "p", config.IDType: typ, config.IDTTL: ttl, config.IDRoleARN: arn, config.IDMFACode: mfa},
			Getenv: envOf(map[string]string{"HOME": "/home/fuzz"}),
			File:   file,
		}
		s, err := config.Resolve(in)
		if err != nil {
			if s != nil {
				t.Fatalf("Resolve returned settings along with %v", err)
			}
			ce := configError(t, err)
			if ce.Msg == "" {
				t.Fatal("error has no message")
			}
			if strings.ContainsAny(ce.Error(), "\r\n") {
				t.Fatalf("error %q spans more than one line", ce.Error())
			}
			return
		}
		if len(s.Role) > 128 || !rolePattern.MatchString(s.Role) {
			t.Fatalf("accepted role %q", s.Role)
		}
		if s.MaxTTL > 0 && s.TTL > s.MaxTTL {
			t.Fatalf("accepted ttl %v above max_ttl %v", s.TTL, s.MaxTTL)
		}
		if s.TTL < 0 || s.TTL%time.Second != 0 {
			t.Fatalf("accepted ttl %v", s.TTL)
		}
		if s.RoleARN != "" && !arnPattern.MatchString(s.RoleARN) {
			t.Fatalf("accepted role ARN %q", s.RoleARN)
		}
		if s.RoleARN != "" && s.Type != "" && s.Type != config.TypeAssumedRole {
			t.Fatalf("accepted role ARN with type %q", s.Type)
		}
		if s.MFACode != "" && (len(s.MFACode) != 6 || strings.Trim(s.MFACode, "0123456789") != "") {
			t.Fatalf("accepted MFA code %q", s.MFACode)
		}
		if s.TTL > 0 && (s.Type == config.TypeIAMUser || s.Type == config.TypeStatic) {
			t.Fatalf("accepted ttl %v for %s", s.TTL, s.Type)
		}
		if s.Mount == "" || strings.HasPrefix(s.Mount, "/") || strings.HasSuffix(s.Mount, "/") {
			t.Fatalf("accepted mount %q", s.Mount)
		}
		for _, seg := range strings.Split(s.Mount, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "?#%") {
				t.Fatalf("accepted mount %q", s.Mount)
			}
		}
	})
}

// TestAddressEndingInV1: an address ending in /v1 (which the helper adds to
// every path itself) is refused before any request, with the address to use;
// an address with user information is shown neither in the error nor the hint.
func TestAddressEndingInV1(t *testing.T) {
	for _, tt := range []struct{ addr, msg, hint string }{
		{"http://127.0.0.1:8200/v1", `VAULT_ADDR: Vault address "http://127.0.0.1:8200/v1" ends in /v1`,
			"remove /v1: the helper adds it to every request itself, so use http://127.0.0.1:8200"},
		{"https://vault.example.com/vault/v1/", `VAULT_ADDR: Vault address "https://vault.example.com/vault/v1/" ends in /v1`,
			"remove /v1: the helper adds it to every request itself, so use https://vault.example.com/vault"},
		{"https://me:hunter2@vault.example.com/v1", "VAULT_ADDR: Vault address (with user information, not shown) ends in /v1",
			"remove /v1: the helper adds it to every request itself"},
	} {
		_, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDRole: "dev"}, Getenv: envOf(withHome(map[string]string{"VAULT_ADDR": tt.addr}))})
		ce := configError(t, err)
		if ce.Error() != tt.msg || ce.Hint != tt.hint {
			t.Errorf("%s: error %q, hint %q; want %q, %q", tt.addr, ce.Error(), ce.Hint, tt.msg, tt.hint)
		}
	}
	if _, err := config.Resolve(config.Inputs{Flags: &config.Flags{config.IDRole: "dev"},
		Getenv: envOf(withHome(map[string]string{"VAULT_ADDR": "https://vault.example.com/v1x"}))}); err != nil {
		t.Errorf("an address ending in /v1x: %v", err)
	}
}

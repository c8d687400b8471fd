package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Credential types, as Vault's AWS secrets engine names them, plus Static
// for static roles. An empty type means "any dynamic type": the role decides.
const (
	TypeIAMUser         = "iam_user"
	TypeAssumedRole     = "assumed_role"
	TypeFederationToken = "federation_token"
	TypeSessionToken    = "session_token"
	TypeStatic          = "static"
)

// Built-in defaults, the last layer of every setting.
const (
	DefaultAddress       = "https://127.0.0.1:8200"
	DefaultMount         = "aws"
	DefaultTimeout       = 30 * time.Second
	DefaultRetries       = 2
	DefaultRefreshWindow = 15 * time.Minute
	DefaultMinRemaining  = 5 * time.Minute
	maxRetries           = 10
)

// EnvPrefix starts the name of every environment variable of our own.
const EnvPrefix = "VAULT_CREDENTIAL_PROCESS_"

// Settings is one run's fully resolved and validated configuration.
type Settings struct {
	ConfigPath string // the file read, "" when none was
	Profile    string

	Address   string // Vault address
	Namespace string

	Mount           string
	Role            string
	Type            string // one of the Type constants, or "" for any dynamic type
	TTL             time.Duration
	MaxTTL          time.Duration
	RoleARN         string
	RoleSessionName string
	MFACode         string
	// MFARequired says a code must be found (flag, mfa_command, prompt)
	// before new credentials are minted.
	MFARequired bool
	MFACommand  string

	Timeout time.Duration // the whole run
	Retries int
	Debug   bool

	CacheDisabled bool
	CacheDir      string
	RefreshWindow time.Duration
	MinRemaining  time.Duration

	AuditLog string // file to append one JSON line per run to; "" for none

	// Auth is how to log in to Vault; the zero value is token auth.
	Auth Auth
	// ViaAgent says Address came from VAULT_AGENT_ADDR: a Vault Agent or
	// Proxy that may add its own auto-auth token, so no token is needed.
	ViaAgent bool
}

// Inputs are the three layers Resolve merges, strongest first.
type Inputs struct {
	// Flags holds the flags given on the command line, by flag name without
	// dashes ("role", "ttl", "no-cache"). Flags not given are absent.
	Flags  map[string]string
	Getenv func(string) string
	File   *File
	// RequestOptional lets a command that needs no credentials (cache
	// list, doctor) resolve without a role; Settings.Role is then "".
	RequestOptional bool
}

// EnvName is the environment variable that stands in for a flag.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Resolve merges flags, environment, profile, defaults tables and built-in
// defaults (in that order of precedence) and validates the result. It makes
// no network call; every error it returns is an *Error.
func Resolve(in Inputs) (*Settings, error) {
	if in.File == nil {
		in.File = &File{}
	}
	if in.Getenv == nil {
		in.Getenv = os.Getenv
	}
	r := &resolver{in: in}
	s := &Settings{ConfigPath: in.File.Path}

	s.Profile = r.pick("profile", nil, "", "").v
	var prof Profile
	if s.Profile != "" {
		p, ok := in.File.Profiles[s.Profile]
		if !ok {
			return nil, r.unknownProfile(s.Profile)
		}
		prof = p
		r.prof = &prof
	}
	f := in.File

	// Strings.
	addr := r.pick("vault-addr", []string{"VAULT_AGENT_ADDR", "VAULT_ADDR"}, prof.VaultAddress, f.Vault.Address)
	s.ViaAgent = addr.src == "VAULT_AGENT_ADDR"
	ns := r.pick("vault-namespace", []string{"VAULT_NAMESPACE"}, prof.VaultNamespace, f.Vault.Namespace)
	mount := r.pick("mount", nil, prof.Mount, f.AWS.Mount)
	role := r.pick("role", nil, prof.Role, "")
	typ := r.pick("type", nil, prof.Type, "")
	arn := r.pick("role-arn", nil, prof.RoleARN, "")
	sess := r.pick("role-session-name", nil, prof.RoleSessionName, "")
	mfa := r.pick("mfa-code", nil, "", "")
	s.Address, s.Namespace, s.MFACode = addr.v, strings.Trim(ns.v, "/"), mfa.v

	if s.Address == "" {
		s.Address = DefaultAddress
	} else if err := checkAddress(addr); err != nil {
		return nil, err
	}
	if s.Type = typ.v; s.Type != "" && !validType(s.Type) {
		return nil, typ.errorf("unknown credential type %q", s.Type).
			withHint("use one of iam_user, assumed_role, federation_token, session_token, static")
	}
	if s.Mount = strings.Trim(mount.v, "/"); mount.v == "" {
		s.Mount = DefaultMount
	} else if !validMount(s.Mount) {
		return nil, mount.errorf("invalid mount path %q", mount.v).
			withHint("a mount is one or more path segments of letters, digits, '_', '.' and '-', such as aws or team/aws")
	}
	switch s.Role = role.v; {
	case s.Role == "" && in.RequestOptional && s.Profile == "":
		// No request: only the settings around one are resolved.
	case s.Role == "" && s.Profile != "":
		return nil, &Error{Source: r.fileSource("profiles." + s.Profile), Msg: "profile has no role",
			Hint: `add role = "NAME" to the profile`}
	case s.Role == "":
		return nil, &Error{Msg: "no role given", Hint: "pass --role NAME or --profile NAME (see -h)"}
	case !validName(s.Role):
		return nil, role.errorf("invalid role name %q", s.Role).
			withHint("role names are letters, digits, '_', '.' and '-', starting and ending with a letter or digit")
	}
	if s.RoleARN = arn.v; s.RoleARN != "" {
		if !validRoleARN(s.RoleARN) {
			return nil, arn.errorf("invalid role ARN %q", s.RoleARN).
				withHint("expected arn:aws:iam::123456789012:role/NAME (partition aws, aws-cn or aws-us-gov)")
		}
		if s.Type != "" && s.Type != TypeAssumedRole {
			return nil, arn.errorf("role_arn applies only to assumed_role credentials, not %s", s.Type).
				withHint("remove role_arn, or use --type assumed_role")
		}
	}
	if s.RoleSessionName = sess.v; s.RoleSessionName != "" {
		if !validSessionName(s.RoleSessionName) {
			return nil, sess.errorf("invalid role session name %q", s.RoleSessionName).
				withHint("use 2 to 64 characters of letters, digits and _+=,.@-")
		}
		if s.Type != "" && s.Type != TypeAssumedRole {
			return nil, sess.errorf("role_session_name applies only to assumed_role credentials, not %s", s.Type).
				withHint("remove role_session_name, or use --type assumed_role")
		}
	}
	if s.MFACode != "" {
		if !ValidMFACode(s.MFACode) {
			return nil, mfa.errorf("invalid MFA code: expected six digits").
				withHint("pass the current code of your MFA device")
		}
		if s.Type != "" && s.Type != TypeSessionToken {
			return nil, mfa.errorf("an MFA code applies only to session_token credentials, not %s", s.Type).
				withHint("remove --mfa-code, or use --type session_token")
		}
	}

	// Durations and numbers.
	var err error
	ttl := r.pick("ttl", nil, prof.TTL, "")
	if ttl.v == "" && ttlAllowed(s.Type) {
		ttl = r.pick("", nil, "", f.AWS.DefaultTTL)
		ttl.src = r.fileSource("aws.default_ttl")
	}
	if s.TTL, err = positiveDuration(ttl); err != nil {
		return nil, err
	}
	if s.TTL > 0 && !ttlAllowed(s.Type) {
		return nil, ttl.errorf("a ttl cannot be requested for %s credentials", s.Type).
			withHint("remove the ttl: Vault decides the lifetime of " + s.Type + " credentials")
	}
	maxTTL := r.pick("max-ttl", nil, prof.MaxTTL, f.AWS.MaxTTL)
	if s.MaxTTL, err = positiveDuration(maxTTL); err != nil {
		return nil, err
	}
	if s.MaxTTL > 0 && s.TTL > s.MaxTTL {
		// Trimmed: both values parsed after TrimSpace, and a raw "2h\n"
		// would split the one-line error.
		return nil, ttl.errorf("ttl %s is above the max_ttl of %s set by %s",
			strings.TrimSpace(ttl.v), strings.TrimSpace(maxTTL.v), maxTTL.src).
			withHint("ask for a shorter ttl, or raise max_ttl")
	}

	timeout := r.pick("timeout", nil, "", f.Vault.Timeout)
	if s.Timeout, err = positiveDuration(timeout); err != nil {
		return nil, err
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}

	retries := r.pick("retries", []string{"VAULT_MAX_RETRIES"}, "", "")
	if retries.v == "" && f.Vault.Retries != nil {
		retries = value{v: strconv.Itoa(*f.Vault.Retries), src: r.fileSource("vault.retries")}
	}
	s.Retries = DefaultRetries
	if retries.v != "" {
		n, perr := strconv.Atoi(retries.v)
		if perr != nil || n < 0 || n > maxRetries {
			return nil, retries.errorf("invalid retry count %q", retries.v).
				withHint(fmt.Sprintf("use a whole number from 0 to %d", maxRetries))
		}
		s.Retries = n
	}

	if s.Debug, err = r.boolean("debug", nil); err != nil {
		return nil, err
	}
	if s.CacheDisabled, err = r.boolean("no-cache", f.Cache.Disabled); err != nil {
		return nil, err
	}
	dir := r.pick("cache-dir", nil, "", f.Cache.Dir)
	if dir.v == "" {
		if s.CacheDir, err = DefaultCacheDir(in.Getenv); err != nil {
			return nil, &Error{Msg: "cannot find a cache folder: " + err.Error(),
				Hint: "set --cache-dir or " + EnvName("cache-dir")}
		}
	} else if s.CacheDir, err = filepath.Abs(dir.v); err != nil {
		return nil, dir.errorf("invalid cache folder %q", dir.v)
	}
	refresh := r.pick("refresh-window", nil, "", f.Cache.RefreshWindow)
	if s.RefreshWindow, err = duration(refresh, true); err != nil {
		return nil, err
	}
	if refresh.v == "" {
		s.RefreshWindow = DefaultRefreshWindow
	}
	if err := resolveMFA(s, prof, s.Profile, f.Path); err != nil {
		return nil, err
	}
	if audit := r.pick("audit-log", nil, "", f.Audit.Path); audit.v != "" {
		if s.AuditLog, err = filepath.Abs(audit.v); err != nil {
			return nil, audit.errorf("invalid audit log path %q", audit.v)
		}
	}

	minRem := r.pick("min-remaining", nil, "", f.Cache.MinRemaining)
	if s.MinRemaining, err = positiveDuration(minRem); err != nil {
		return nil, err
	}
	if s.MinRemaining == 0 {
		s.MinRemaining = DefaultMinRemaining
	}
	if s.Auth, err = r.resolveAuth(prof.Auth); err != nil {
		return nil, err
	}
	return s, nil
}

// DefaultCacheDir is the cache folder used when none is configured.
func DefaultCacheDir(getenv func(string) string) (string, error) {
	return appDir(getenv, "XDG_CACHE_HOME", ".cache", os.UserCacheDir)
}

// value is one setting's raw text and where it came from, for messages.
type value struct{ v, src string }

func (v value) errorf(format string, args ...any) *Error {
	return &Error{Source: v.src, Msg: fmt.Sprintf(format, args...)}
}

type resolver struct {
	in   Inputs
	prof *Profile
}

// pick returns the first non-empty layer for one setting: the flag, our
// own environment variable, the extra environment variables (in order),
// the profile's value, then the defaults table's.
func (r *resolver) pick(flag string, extraEnv []string, profile, table string) value {
	if flag != "" && !strings.HasPrefix(flag, "vault-") {
		if v, ok := r.in.Flags[flag]; ok && v != "" {
			return value{v, "--" + flag}
		}
		if name := EnvName(flag); r.in.Getenv(name) != "" {
			return value{r.in.Getenv(name), name}
		}
	}
	for _, name := range extraEnv {
		if v := r.in.Getenv(name); v != "" {
			return value{v, name}
		}
	}
	if profile != "" {
		return value{profile, r.fileSource("profiles." + r.profileName() + "." + profileKey(flag))}
	}
	if table != "" {
		return value{table, r.fileSource(tableKey(flag))}
	}
	return value{}
}

func (r *resolver) profileName() string {
	if v, ok := r.in.Flags["profile"]; ok && v != "" {
		return v
	}
	return r.in.Getenv(EnvName("profile"))
}

func (r *resolver) fileSource(key string) string {
	return r.in.File.Path + ": " + key
}

func (r *resolver) boolean(flag string, table *bool) (bool, error) {
	v := r.pick(flag, nil, "", "")
	if v.v == "" {
		return table != nil && *table, nil
	}
	b, err := strconv.ParseBool(v.v)
	if err != nil {
		return false, v.errorf("invalid boolean %q", v.v).withHint("use true or false (or 1 or 0)")
	}
	return b, nil
}

func (r *resolver) unknownProfile(name string) *Error {
	names := make([]string, 0, len(r.in.File.Profiles))
	for n := range r.in.File.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	src := r.in.File.Path
	if src == "" {
		src = "configuration"
	}
	hint := "add a [profiles." + name + "] table to the configuration file"
	if len(names) > 0 {
		hint = "known profiles: " + strings.Join(names, ", ")
	}
	return &Error{Source: src, Msg: fmt.Sprintf("no profile %q", name), Hint: hint}
}

// profileKey and tableKey map a flag name to the TOML key that holds the
// same setting, so error messages name the key the user actually wrote.
func profileKey(flag string) string {
	switch flag {
	case "vault-addr":
		return "vault_address"
	}
	return strings.ReplaceAll(flag, "-", "_")
}

func tableKey(flag string) string {
	switch flag {
	case "vault-addr":
		return "vault.address"
	case "vault-namespace":
		return "vault.namespace"
	case "timeout", "retries":
		return "vault." + flag
	case "mount", "max-ttl":
		return "aws." + strings.ReplaceAll(flag, "-", "_")
	case "cache-dir":
		return "cache.dir"
	case "audit-log":
		return "audit.path"
	}
	return "cache." + strings.ReplaceAll(flag, "-", "_")
}

func checkAddress(v value) error {
	u, err := url.Parse(v.v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix") ||
		(u.Scheme != "unix" && u.Host == "") {
		shown := strconv.Quote(v.v)
		if strings.Contains(v.v, "@") {
			// User information may hold a password: never echo it.
			shown = "(with user information, not shown)"
		}
		return v.errorf("invalid Vault address %s", shown).
			withHint("use a URL such as https://vault.example.com:8200")
	}
	return nil
}

func ttlAllowed(typ string) bool {
	return typ != TypeIAMUser && typ != TypeStatic
}

func validType(t string) bool {
	switch t {
	case TypeIAMUser, TypeAssumedRole, TypeFederationToken, TypeSessionToken, TypeStatic:
		return true
	}
	return false
}

// resolveMFA decides whether minting needs an MFA code: the profile says
// mfa = true or names an mfa_command. Only session_token roles take one.
func resolveMFA(s *Settings, prof Profile, profileName string, file string) error {
	s.MFACommand = strings.TrimSpace(prof.MFACommand)
	s.MFARequired = prof.MFA || s.MFACommand != ""
	if s.MFARequired && s.Type != "" && s.Type != TypeSessionToken {
		return &Error{Source: file + ": profiles." + profileName,
			Msg:  "mfa and mfa_command apply only to session_token credentials, not " + s.Type,
			Hint: `remove them, or set type = "session_token"`}
	}
	return nil
}

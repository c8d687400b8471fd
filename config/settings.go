package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
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
	// WaitUsable: after minting iam_user keys, wait until STS accepts them.
	WaitUsable    bool
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
	// Flags holds the flags given on the command line, by ID; a flag not
	// given is "", and nil is none.
	Flags *Flags
	// Getenv reads the environment; nil is an empty one. The command
	// layer passes the process's: nothing below it reads os.Getenv.
	Getenv func(string) string
	File   *File
	// RequestOptional lets a command that needs no credentials (cache
	// list, doctor) resolve without a role; Settings.Role is then "".
	RequestOptional bool
}

// EnvName is the environment variable of our own that stands in for the
// flag or setting named name ("role-arn": VAULT_CREDENTIAL_PROCESS_ROLE_ARN).
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Resolve merges flags, environment, profile, defaults tables and built-in
// defaults (in that order of precedence, as Table describes each setting)
// and validates the result. It makes no network call; every error it
// returns is an *Error.
func Resolve(in Inputs) (*Settings, error) {
	r, err := newResolver(in)
	if err != nil {
		return nil, err
	}
	s := &Settings{ConfigPath: r.in.File.Path, Profile: r.profName}
	// The steps run in this order because later checks depend on earlier
	// values: the credential type decides which request settings and ttls
	// are allowed, and an MFA profile is refused for other types.
	for _, step := range []func(*Settings) error{
		r.vault,    // where Vault is
		r.request,  // what to ask it for
		r.lifetime, // for how long
		r.limits,   // how long to wait, how often to retry, --debug
		r.cache,
		r.mfa,
		r.audit,
		r.auth,
	} {
		if err := step(s); err != nil {
			return nil, err
		}
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

// resolver reads the layers of one Resolve call.
type resolver struct {
	in       Inputs
	profName string   // the profile asked for; "" for none
	prof     *Profile // its table; nil without a profile
	// profV and fileV are prof and in.File, for reading the fields that
	// Table's TOML keys name.
	profV, fileV reflect.Value
}

// newResolver fills in the defaults of in and finds the profile, the one
// setting the others depend on: it is a layer of each of them.
func newResolver(in Inputs) (*resolver, error) {
	if in.File == nil {
		in.File = &File{}
	}
	if in.Getenv == nil {
		in.Getenv = func(string) string { return "" }
	}
	r := &resolver{in: in, fileV: reflect.ValueOf(in.File).Elem()}
	if r.profName = r.pick(IDProfile).v; r.profName != "" {
		p, ok := in.File.Profiles[r.profName]
		if !ok {
			return nil, r.unknownProfile(r.profName)
		}
		r.prof, r.profV = &p, reflect.ValueOf(&p).Elem()
	}
	return r, nil
}

func (r *resolver) profileName() string { return r.profName }

func (r *resolver) fileSource(key string) string {
	return r.in.File.Path + ": " + key
}

// vault: where Vault is. VAULT_AGENT_ADDR wins over VAULT_ADDR, as in the
// vault CLI, and marks an agent that may add its own token.
func (r *resolver) vault(s *Settings) error {
	addr := r.pick(IDVaultAddress)
	s.ViaAgent = addr.src == "VAULT_AGENT_ADDR"
	s.Namespace = strings.Trim(r.pick(IDVaultNamespace).v, "/")
	if s.Address = addr.v; s.Address == "" {
		s.Address = DefaultAddress
		return nil
	}
	return checkAddress(addr)
}

// request: the mount, role and type to ask Vault for, then the settings
// that only some types take.
func (r *resolver) request(s *Settings) error {
	typ := r.pick(IDType)
	if s.Type = typ.v; s.Type != "" && !validType(s.Type) {
		return typ.errorf("unknown credential type %q", s.Type).
			withHint("use one of iam_user, assumed_role, federation_token, session_token, static")
	}
	mount := r.pick(IDMount)
	if s.Mount = strings.Trim(mount.v, "/"); mount.v == "" {
		s.Mount = DefaultMount
	} else if !validMount(s.Mount) {
		return mount.errorf("invalid mount path %q", mount.v).
			withHint("a mount is one or more path segments of letters, digits, '_', '.' and '-', such as aws or team/aws")
	}
	role := r.pick(IDRole)
	switch s.Role = role.v; {
	case s.Role == "" && r.in.RequestOptional && s.Profile == "":
		// No request: only the settings around one are resolved.
	case s.Role == "" && s.Profile != "":
		return &Error{Source: r.fileSource("profiles." + s.Profile), Msg: "profile has no role",
			Hint: `add role = "NAME" to the profile`}
	case s.Role == "":
		return &Error{Msg: "no role given", Hint: "pass --role NAME or --profile NAME (see -h)"}
	case !validName(s.Role):
		return role.errorf("invalid role name %q", s.Role).
			withHint("role names are letters, digits, '_', '.' and '-', starting and ending with a letter or digit")
	}
	return r.typeOptions(s)
}

// typeOptions: the role ARN and session name of assumed_role and the MFA
// code of session_token are refused, not ignored, when the type is known
// and is another.
func (r *resolver) typeOptions(s *Settings) error {
	if arn := r.pick(IDRoleARN); arn.v != "" {
		if !validRoleARN(arn.v) {
			return arn.errorf("invalid role ARN %q", arn.v).
				withHint("expected arn:aws:iam::123456789012:role/NAME (partition aws, aws-cn or aws-us-gov)")
		}
		if err := onlyFor(s, TypeAssumedRole, arn, "role_arn", "role_arn"); err != nil {
			return err
		}
		s.RoleARN = arn.v
	}
	if sess := r.pick(IDRoleSessionName); sess.v != "" {
		if !validSessionName(sess.v) {
			return sess.errorf("invalid role session name %q", sess.v).
				withHint("use 2 to 64 characters of letters, digits and _+=,.@-")
		}
		if err := onlyFor(s, TypeAssumedRole, sess, "role_session_name", "role_session_name"); err != nil {
			return err
		}
		s.RoleSessionName = sess.v
	}
	if mfa := r.pick(IDMFACode); mfa.v != "" {
		if !ValidMFACode(mfa.v) {
			return mfa.errorf("invalid MFA code: expected six digits").
				withHint("pass the current code of your MFA device")
		}
		if err := onlyFor(s, TypeSessionToken, mfa, "an MFA code", "--mfa-code"); err != nil {
			return err
		}
		s.MFACode = mfa.v
	}
	return nil
}

// onlyFor refuses v, a setting only credentials of type typ take, when
// s's type is known and is another: what names the setting in the error,
// remove in the hint.
func onlyFor(s *Settings, typ string, v value, what, remove string) error {
	if s.Type == "" || s.Type == typ {
		return nil
	}
	return v.errorf("%s applies only to %s credentials, not %s", what, typ, s.Type).
		withHint("remove " + remove + ", or use --type " + typ)
}

// lifetime: the ttl to ask for and the largest one allowed. A ttl above
// max_ttl is an error naming the limit, never clamped.
func (r *resolver) lifetime(s *Settings) (err error) {
	ttl, from := r.lookup(IDTTL)
	if from == fromTable && !ttlAllowed(s.Type) {
		// aws.default_ttl is for the types that take a ttl; the others
		// simply do without.
		ttl = value{}
	}
	if s.TTL, err = positiveDuration(ttl); err != nil {
		return err
	}
	if s.TTL > 0 && !ttlAllowed(s.Type) {
		return ttl.errorf("a ttl cannot be requested for %s credentials", s.Type).
			withHint("remove the ttl: Vault decides the lifetime of " + s.Type + " credentials")
	}
	maxTTL := r.pick(IDMaxTTL)
	if s.MaxTTL, err = positiveDuration(maxTTL); err != nil {
		return err
	}
	if s.MaxTTL > 0 && s.TTL > s.MaxTTL {
		// Trimmed: both values parsed after TrimSpace, and a raw "2h\n"
		// would split the one-line error.
		return ttl.errorf("ttl %s is above the max_ttl of %s set by %s",
			strings.TrimSpace(ttl.v), strings.TrimSpace(maxTTL.v), maxTTL.src).
			withHint("ask for a shorter ttl, or raise max_ttl")
	}
	return nil
}

// limits: how long the run may take, how often a request is retried, and
// whether each step is logged.
func (r *resolver) limits(s *Settings) (err error) {
	timeout := r.pick(IDTimeout)
	if s.Timeout, err = positiveDuration(timeout); err != nil {
		return err
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	s.Retries = DefaultRetries
	if retries := r.pick(IDRetries); retries.v != "" {
		n, perr := strconv.Atoi(retries.v)
		if perr != nil || n < 0 || n > maxRetries {
			return retries.errorf("invalid retry count %q", retries.v).
				withHint(fmt.Sprintf("use a whole number from 0 to %d", maxRetries))
		}
		s.Retries = n
	}
	s.Debug, err = r.boolean(IDDebug)
	return err
}

// cache: whether the disk cache is used, where it is, and when an entry is
// too old to serve.
func (r *resolver) cache(s *Settings) (err error) {
	if s.CacheDisabled, err = r.boolean(IDNoCache); err != nil {
		return err
	}
	if s.WaitUsable, err = r.boolean(IDWaitUsable); err != nil {
		return err
	}
	if dir := r.pick(IDCacheDir); dir.v != "" {
		if s.CacheDir, err = filepath.Abs(dir.v); err != nil {
			return dir.errorf("invalid cache folder %q", dir.v)
		}
	} else if s.CacheDir, err = DefaultCacheDir(r.in.Getenv); err != nil {
		d := IDCacheDir.Setting()
		return &Error{Msg: "cannot find a cache folder: " + err.Error(), Hint: "set --" + d.Name + " or " + d.Env}
	}
	refresh := r.pick(IDRefreshWindow)
	if s.RefreshWindow, err = duration(refresh, true); err != nil {
		return err
	}
	if refresh.v == "" {
		s.RefreshWindow = DefaultRefreshWindow
	}
	if s.MinRemaining, err = positiveDuration(r.pick(IDMinRemaining)); err != nil {
		return err
	}
	if s.MinRemaining == 0 {
		s.MinRemaining = DefaultMinRemaining
	}
	return nil
}

// mfa decides whether minting needs an MFA code: the profile says
// mfa = true or names an mfa_command. Only session_token roles take one.
func (r *resolver) mfa(s *Settings) error {
	s.MFACommand = strings.TrimSpace(r.pick(IDMFACommand).v)
	s.MFARequired = r.pick(IDMFA).v == "true" || s.MFACommand != ""
	if s.MFARequired && s.Type != "" && s.Type != TypeSessionToken {
		return &Error{Source: r.fileSource("profiles." + s.Profile),
			Msg:  "mfa and mfa_command apply only to session_token credentials, not " + s.Type,
			Hint: `remove them, or set type = "session_token"`}
	}
	return nil
}

// audit: the file to append a line to per run that hands out credentials.
func (r *resolver) audit(s *Settings) (err error) {
	if audit := r.pick(IDAuditLog); audit.v != "" {
		if s.AuditLog, err = filepath.Abs(audit.v); err != nil {
			return audit.errorf("invalid audit log path %q", audit.v)
		}
	}
	return nil
}

// auth: how to log in to Vault (see resolveAuth).
func (r *resolver) auth(s *Settings) (err error) {
	var prof AuthTable
	if r.prof != nil {
		prof = r.prof.Auth
	}
	s.Auth, err = r.resolveAuth(prof)
	return err
}

func (r *resolver) unknownProfile(name string) *Error {
	names := make([]string, 0, len(r.in.File.Profiles))
	for n := range r.in.File.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	src := r.in.File.Path
	if src == "" {
		// No file was read: name the one that was looked for, the place
		// to create.
		cfg := IDConfig.Setting()
		msg, hint := fmt.Sprintf("no profile %q: there is no configuration file", name),
			fmt.Sprintf("create one with a [profiles.%s] table holding role = \"NAME\", or name another file with --%s or %s", name, cfg.Name, cfg.Env)
		if path, err := DefaultPath(r.in.Getenv); err == nil {
			msg = fmt.Sprintf("no profile %q: there is no configuration file at %s", name, path)
			hint = fmt.Sprintf("create %s with a [profiles.%s] table holding role = \"NAME\", or name another file with --%s or %s", path, name, cfg.Name, cfg.Env)
		}
		return &Error{Msg: msg, Hint: hint}
	}
	hint := "add a [profiles." + name + "] table to " + src
	if len(names) > 0 {
		hint = "known profiles: " + strings.Join(names, ", ")
	}
	return &Error{Source: src, Msg: fmt.Sprintf("no profile %q", name), Hint: hint}
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
	// Every request path starts with /v1/ (the vault CLI's addresses end
	// before it): an address ending in it makes Vault answer "no handler for
	// route v1/...", or 403, for every path.
	if p := strings.TrimRight(u.Path, "/"); u.Scheme != "unix" && strings.HasSuffix(p, "/v1") {
		hint := "remove /v1: the helper adds it to every request itself"
		shown := "(with user information, not shown)"
		if u.User == nil {
			fixed := *u
			fixed.Path, fixed.RawPath = strings.TrimSuffix(p, "/v1"), ""
			shown = strconv.Quote(v.v)
			hint += ", so use " + fixed.String()
		}
		return v.errorf("Vault address %s ends in /v1", shown).withHint(hint)
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

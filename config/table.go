package config

import (
	"reflect"
	"strconv"
	"strings"
)

// ID names one setting of Table. Code refers to a setting by its ID, never
// by its flag name, so a misspelt setting does not compile.
type ID uint8

// The settings, in the order -h lists their flags.
const (
	IDProfile ID = iota
	IDConfig
	IDVaultAddress
	IDVaultNamespace
	IDMount
	IDRole
	IDType
	IDTTL
	IDMaxTTL
	IDRoleARN
	IDRoleSessionName
	IDMFACode
	IDMFA
	IDMFACommand
	IDWaitUsable
	IDTimeout
	IDRetries
	IDNoCache
	IDCacheDir
	IDRefreshWindow
	IDMinRemaining
	IDAuditLog
	IDDebug
	numIDs
)

// Setting returns id's row of Table.
func (id ID) Setting() *Setting { return &Table[id] }

// Flags are the settings given on the command line, by ID. A flag not
// given is "", as an empty one counts as not given.
type Flags [numIDs]string

// Kind is what a setting's value is: it decides how the flag is registered
// and which Go type its TOML keys decode into.
type Kind uint8

// The kinds of value. Every kind is text on the command line and in the
// environment; in the file, KindInt and KindBool are TOML integers and
// booleans.
const (
	KindString   Kind = iota
	KindDuration      // Vault's syntax: "90m", "1h", "3600"
	KindInt
	KindBool
)

// Setting is everything the program knows about one setting: where it may be
// given (the layers Resolve merges, strongest first: flag, our own variable,
// the vault CLI's variables, the profile, a defaults table), what it is and
// how -h shows it. Flag registration and the usage texts (through
// internal/cmdspec, the command table), precedence and the sources named in
// errors all come from these rows.
type Setting struct {
	// Name is the flag's name without dashes ("role-arn"), the setting's key
	// in Inputs.Flags, and what an error from that layer names ("--role-arn").
	Name string
	// Flag says every command that takes a request takes --Name.
	Flag bool
	// Env is our own variable, EnvName(Name); "" for none. A setting with
	// Env is one of our own: Resolve reads it from Inputs.Flags even when
	// it has no command-line flag (max-ttl, min-remaining), as tests do.
	Env string
	// VaultEnv are the vault CLI's variables for the same setting, read
	// after Env, strongest first.
	VaultEnv []string
	// ProfileKey is the key in a [profiles.NAME] table; TableKey the dotted
	// key in a defaults table ("aws.mount"). "" for none.
	ProfileKey, TableKey string
	Kind                 Kind
	// Placeholder, Usage and Default make the flag's line of -h:
	// "--Name Placeholder   Usage (default Default)". A line break in
	// Usage starts a continuation line. Usage is also the meaning of a
	// setting without a flag.
	Placeholder, Usage, Default string
}

// Table holds every setting, indexed by ID. It is read-only.
var Table = [numIDs]Setting{
	IDProfile: {Name: "profile", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_PROFILE",
		Placeholder: "NAME", Usage: "profile from the configuration file ([profiles.NAME])"},
	IDConfig: {Name: "config", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_CONFIG",
		Placeholder: "PATH", Usage: "configuration file", Default: "$XDG_CONFIG_HOME/vault-credential-process/config.toml"},
	IDVaultAddress: {Name: "vault-address", VaultEnv: []string{"VAULT_AGENT_ADDR", "VAULT_ADDR"},
		ProfileKey: "vault_address", TableKey: "vault.address",
		Usage: "Vault address", Default: DefaultAddress},
	IDVaultNamespace: {Name: "vault-namespace", VaultEnv: []string{"VAULT_NAMESPACE"},
		ProfileKey: "vault_namespace", TableKey: "vault.namespace",
		Usage: "Vault Enterprise namespace"},
	IDMount: {Name: "mount", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_MOUNT", ProfileKey: "mount", TableKey: "aws.mount",
		Placeholder: "PATH", Usage: "mount path of the AWS secrets engine", Default: DefaultMount},
	IDRole: {Name: "role", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_ROLE", ProfileKey: "role",
		Placeholder: "NAME", Usage: "Vault role to get credentials for"},
	IDType: {Name: "type", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_TYPE", ProfileKey: "type",
		Placeholder: "TYPE", Usage: "iam_user, assumed_role, federation_token, session_token or static\n" +
			"(default: whatever the role issues, through <mount>/creds/<role>)"},
	// aws.default_ttl is the ttl's defaults table, which applies only to
	// the types that take a ttl (Resolve's lifetime step).
	IDTTL: {Name: "ttl", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_TTL", ProfileKey: "ttl", TableKey: "aws.default_ttl",
		Kind: KindDuration, Placeholder: "DURATION", Usage: "lifetime to ask for, such as 1h or 3600 (STS types only)"},
	IDMaxTTL: {Name: "max-ttl", Env: "VAULT_CREDENTIAL_PROCESS_MAX_TTL", ProfileKey: "max_ttl", TableKey: "aws.max_ttl",
		Kind: KindDuration, Usage: "largest ttl accepted"},
	IDRoleARN: {Name: "role-arn", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_ROLE_ARN", ProfileKey: "role_arn",
		Placeholder: "ARN", Usage: "IAM role to assume, when the role allows several (assumed_role)"},
	IDRoleSessionName: {Name: "role-session-name", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_ROLE_SESSION_NAME",
		ProfileKey: "role_session_name", Placeholder: "NAME", Usage: "session name of the assumed role (assumed_role)"},
	IDMFACode: {Name: "mfa-code", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_MFA_CODE",
		Placeholder: "CODE", Usage: "current six-digit MFA code (session_token roles with MFA)"},
	IDMFA: {Name: "mfa", ProfileKey: "mfa", Kind: KindBool,
		Usage: "the role needs an MFA code whenever credentials are minted"},
	IDMFACommand: {Name: "mfa-command", ProfileKey: "mfa_command",
		Usage: "command that prints the current MFA code"},
	IDWaitUsable: {Name: "wait-usable", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_WAIT_USABLE", ProfileKey: "wait_usable",
		TableKey: "aws.wait_usable", Kind: KindBool,
		Usage: "after minting iam_user keys, wait until AWS STS accepts them"},
	IDTimeout: {Name: "timeout", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_TIMEOUT", TableKey: "vault.timeout",
		Kind: KindDuration, Placeholder: "DURATION", Usage: "limit for the whole run, retries included", Default: "30s"},
	IDRetries: {Name: "retries", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_RETRIES", VaultEnv: []string{"VAULT_MAX_RETRIES"},
		TableKey: "vault.retries", Kind: KindInt,
		Placeholder: "N", Usage: "retries after a connection error, 5xx or 429", Default: strconv.Itoa(DefaultRetries)},
	IDNoCache: {Name: "no-cache", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_NO_CACHE", TableKey: "cache.disabled",
		Kind: KindBool, Usage: "neither read nor write the disk cache"},
	IDCacheDir: {Name: "cache-dir", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_CACHE_DIR", TableKey: "cache.dir",
		Placeholder: "PATH", Usage: "cache folder", Default: "$XDG_CACHE_HOME/vault-credential-process"},
	IDRefreshWindow: {Name: "refresh-window", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_REFRESH_WINDOW",
		TableKey: "cache.refresh_window", Kind: KindDuration,
		Placeholder: "DURATION", Usage: "refresh credentials this long before they expire", Default: "15m"},
	IDMinRemaining: {Name: "min-remaining", Env: "VAULT_CREDENTIAL_PROCESS_MIN_REMAINING", TableKey: "cache.min_remaining",
		Kind: KindDuration, Usage: "least validity of a cached entry served while Vault is down", Default: "5m"},
	IDAuditLog: {Name: "audit-log", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_AUDIT_LOG", TableKey: "audit.path",
		Placeholder: "PATH", Usage: "append one JSON line per run that hands out credentials"},
	IDDebug: {Name: "debug", Flag: true, Env: "VAULT_CREDENTIAL_PROCESS_DEBUG",
		Kind: KindBool, Usage: "log each step to stderr (never a secret)"},
}

// fieldPaths are the struct fields that the TOML keys of Table name: the
// index path of ProfileKey in Profile and of TableKey in File, nil for none
// (or for a key no field has, which TestTableKeys reports). Found once, so
// that a run reads a field by index rather than searching tags.
var fieldPaths = func() (paths [numIDs]struct{ profile, table []int }) {
	for id := range Table {
		s := &Table[id]
		paths[id].profile = tomlField(reflect.TypeFor[Profile](), s.ProfileKey)
		paths[id].table = tomlField(reflect.TypeFor[File](), s.TableKey)
	}
	return paths
}()

// tomlField is the index path of the field that the dotted TOML key names
// in struct type t, or nil.
func tomlField(t reflect.Type, key string) []int {
	if key == "" {
		return nil
	}
	var path []int
	for part := range strings.SplitSeq(key, ".") {
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := fieldByTag(t, part)
		if !ok {
			return nil
		}
		path = append(path, f.Index...)
		t = f.Type
	}
	return path
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Tag.Get("toml") == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldText is the value of the field at path in v (a struct) as the text
// a flag would give, "" when the file does not set it: a nil pointer (a
// key left out) or a false non-pointer boolean (profiles.*.mfa).
func fieldText(v reflect.Value, path []int) string {
	if path == nil {
		return ""
	}
	f := v.FieldByIndex(path)
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	} else if f.Kind() == reflect.Bool && !f.Bool() {
		return ""
	}
	switch f.Kind() {
	case reflect.Int:
		return strconv.Itoa(int(f.Int()))
	case reflect.Bool:
		return strconv.FormatBool(f.Bool())
	}
	return f.String()
}

// layer is where a setting's value came from, strongest first.
type layer uint8

const (
	fromNowhere layer = iota
	fromFlag
	fromEnv      // our own variable
	fromVaultEnv // a variable of the vault CLI
	fromProfile
	fromTable
)

// lookup returns the value of the strongest layer that sets id, with the
// source an error names: "--role", "VAULT_CREDENTIAL_PROCESS_ROLE",
// "VAULT_ADDR", "<file>: profiles.dev.role" or "<file>: aws.mount". An
// empty flag or variable counts as not given.
func (r *resolver) lookup(id ID) (value, layer) {
	s, path := id.Setting(), &fieldPaths[id]
	if s.Env != "" {
		if r.in.Flags != nil && r.in.Flags[id] != "" {
			return value{r.in.Flags[id], "--" + s.Name}, fromFlag
		}
		if v := r.in.Getenv(s.Env); v != "" {
			return value{v, s.Env}, fromEnv
		}
	}
	for _, name := range s.VaultEnv {
		if v := r.in.Getenv(name); v != "" {
			return value{v, name}, fromVaultEnv
		}
	}
	if r.prof != nil {
		if v := fieldText(r.profV, path.profile); v != "" {
			return value{v, r.fileSource("profiles." + r.profName + "." + s.ProfileKey)}, fromProfile
		}
	}
	if v := fieldText(r.fileV, path.table); v != "" {
		return value{v, r.fileSource(s.TableKey)}, fromTable
	}
	return value{}, fromNowhere
}

// pick is lookup without the layer.
func (r *resolver) pick(id ID) value {
	v, _ := r.lookup(id)
	return v
}

// boolean is a KindBool setting; not set anywhere is false.
func (r *resolver) boolean(id ID) (bool, error) {
	v := r.pick(id)
	if v.v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v.v)
	if err != nil {
		return false, v.errorf("invalid boolean %q", v.v).withHint("use true or false (or 1 or 0)")
	}
	return b, nil
}

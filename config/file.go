// Package config owns everything the user configures: the TOML file, the
// environment, the command-line flags, and the rules that turn those three
// layers into one validated Settings value before any network call is made.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// File is the TOML configuration file. Every table and key is listed here:
// a key the file has and File does not is an error, so a typo never turns
// silently into a default.
type File struct {
	Vault    VaultTable         `toml:"vault"`
	AWS      AWSTable           `toml:"aws"`
	Cache    CacheTable         `toml:"cache"`
	Audit    AuditTable         `toml:"audit"`
	Profiles map[string]Profile `toml:"profiles"`

	// Path is where the file was read from; empty when no file was read.
	Path string `toml:"-"`
}

// VaultTable holds the [vault] defaults.
type VaultTable struct {
	Address   string `toml:"address"`
	Namespace string `toml:"namespace"`
	Timeout   string `toml:"timeout"`
	Retries   *int   `toml:"retries"`
	// Auth is [vault.auth]: how to log in, unless a profile says otherwise.
	Auth AuthTable `toml:"auth"`
}

// AWSTable holds the [aws] defaults.
type AWSTable struct {
	Mount      string `toml:"mount"`
	DefaultTTL string `toml:"default_ttl"`
	MaxTTL     string `toml:"max_ttl"`
	WaitUsable *bool  `toml:"wait_usable"`
}

// CacheTable holds the [cache] settings.
type CacheTable struct {
	Disabled      *bool  `toml:"disabled"`
	Dir           string `toml:"dir"`
	RefreshWindow string `toml:"refresh_window"`
	MinRemaining  string `toml:"min_remaining"`
}

// AuditTable holds the [audit] settings.
type AuditTable struct {
	Path string `toml:"path"`
}

// Profile is one [profiles.NAME] table: a named credential request.
type Profile struct {
	Role            string `toml:"role"`
	Type            string `toml:"type"`
	Mount           string `toml:"mount"`
	TTL             string `toml:"ttl"`
	MaxTTL          string `toml:"max_ttl"`
	RoleARN         string `toml:"role_arn"`
	RoleSessionName string `toml:"role_session_name"`
	WaitUsable      *bool  `toml:"wait_usable"`
	VaultAddress    string `toml:"vault_address"`
	VaultNamespace  string `toml:"vault_namespace"`
	// Auth is [profiles.NAME.auth], over [vault.auth] (see resolveAuth).
	Auth AuthTable `toml:"auth"`
	// MFA marks a session_token role with an MFA device: a code is needed
	// whenever new credentials are minted. MFACommand implies it.
	MFA        bool   `toml:"mfa"`
	MFACommand string `toml:"mfa_command"`
}

// DefaultPath is where the configuration file lives when neither --config
// nor VAULT_CREDENTIAL_PROCESS_CONFIG names one.
func DefaultPath(getenv func(string) string) (string, error) {
	dir, err := appDir(getenv, "XDG_CONFIG_HOME", ".config", os.UserConfigDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.toml"), nil
}

// appDir is this program's folder under an XDG base directory: $xdgVar if
// it is set to an absolute path, else ~/homeSub; on Windows what windowsDir
// says (os.UserConfigDir, os.UserCacheDir).
func appDir(getenv func(string) string, xdgVar, homeSub string, windowsDir func() (string, error)) (string, error) {
	if runtime.GOOS == "windows" {
		dir, err := windowsDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, "vault-credential-process"), nil
	}
	if x := getenv(xdgVar); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "vault-credential-process"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("neither " + xdgVar + " nor HOME is set")
	}
	return filepath.Join(home, homeSub, "vault-credential-process"), nil
}

// Load reads and decodes the configuration file at path. A missing file is
// an empty configuration when the path is the default one (explicit is
// false) and an error when the user named it.
func Load(path string, explicit bool) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return &File{}, nil
		}
		cfg := IDConfig.Setting()
		return nil, &Error{Source: path, Msg: "cannot read configuration file: " + PathReason(err),
			Hint: "check the path given with --" + cfg.Name + " or " + cfg.Env}
	}
	return Parse(path, data)
}

// Parse decodes TOML data read from path and checks that every key is known.
func Parse(path string, data []byte) (*File, error) {
	var f File
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		// The parser's message quotes the text it choked on, which may be a
		// secret pasted without quotes: say only where.
		var perr toml.ParseError
		msg := "invalid TOML: " + typeMismatch(OneLine(err.Error())) // names the key and types, no value
		if errors.As(err, &perr) {
			msg = fmt.Sprintf("invalid TOML at line %d, column %d", perr.Position.Line, perr.Position.Col)
		}
		return nil, &Error{Source: path, Msg: msg,
			Hint: "check that line: strings need double quotes, tables [brackets], one key = value per line"}
	}
	if und := md.Undecoded(); len(und) > 0 {
		if err := inlineSecret(path, und); err != nil {
			return nil, err
		}
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, &Error{Source: path, Msg: "unknown key " + strings.Join(keys, ", "),
			Hint: "see the configuration reference, docs/configuration.md"}
	}
	f.Path = path
	return &f, nil
}

// tomlMismatch is the decoder's message for a value of the wrong kind:
// "toml: line 2 (last key "vault.retries"): incompatible types: TOML value
// has type string; destination has type integer".
var tomlMismatch = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): incompatible types: TOML value has type (\S+); destination has type (.+)$`)

// typeMismatch words the decoder's message for a value of the wrong kind
// in TOML's terms rather than Go's (int64, map[string]any): "line 2:
// vault.retries must be an integer, not a string". Other messages lose
// only the "toml: " prefix.
func typeMismatch(msg string) string {
	m := tomlMismatch.FindStringSubmatch(msg)
	if m == nil {
		return strings.TrimPrefix(msg, "toml: ")
	}
	want := tomlKind(m[4])
	if want == "a string" {
		want += " (in double quotes)"
	}
	out := fmt.Sprintf("%s must be %s, not %s", m[2], want, tomlKind(m[3]))
	if m[1] != "" {
		out = "line " + m[1] + ": " + out
	}
	return out
}

// tomlKind names a kind of the decoder's message (its Go type for the
// value, its own word for the destination) as TOML does.
func tomlKind(t string) string {
	switch {
	case t == "string" || t == "primitive (string-like)":
		return "a string"
	case t == "bool" || t == "boolean":
		return "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint") || t == "integer":
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]map"):
		return "an array of tables"
	case strings.HasPrefix(t, "map"):
		return "a table"
	case strings.HasPrefix(t, "[]") || t == "slice":
		return "an array"
	case strings.Contains(t, "Date") || strings.Contains(t, "Time") || strings.Contains(t, "time."):
		return "a date or time"
	}
	return t
}

// PathReason is the reason of a file error without the path again.
func PathReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// OneLine is s with every run of white space, newlines included, as one
// space: error text from elsewhere fits the one line of an error.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

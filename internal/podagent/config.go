// Package podagent is the Kubernetes node agent of `pod-agent`: a
// container credentials endpoint whose callers are pods, each identified
// by the projected service account token it sends as its authorization
// token. Vault verifies that token (its jwt or kubernetes auth method);
// the agent logs in once per identity, mints that identity's AWS
// credentials once, keeps them in memory and refreshes them ahead of
// expiry.
//
// It owns the mapping from a pod's namespace and service account to Vault
// roles (Config), the per-identity state and its bounds (Agent), and the
// HTTP side. What it asks of Vault is the Vault interface.
package podagent

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the agent's configuration file (TOML).
type Config struct {
	// Method is Vault's auth method that verifies the pods' tokens: "jwt"
	// (Vault checks the signature with the cluster's keys) or "kubernetes"
	// (Vault asks the cluster's TokenReview API). Both log in the same way.
	Method string `toml:"method"`
	// AuthMount is the path of that auth method (auth/<AuthMount>); by
	// default the method's name.
	AuthMount string `toml:"auth_mount"`
	// AWSMount is the path of Vault's AWS secrets engine.
	AWSMount string `toml:"aws_mount"`
	// MaxIdentities bounds the identities kept in memory at once.
	MaxIdentities int `toml:"max_identities"`
	// IdleTimeout drops an identity nobody asked for that long.
	IdleTimeout duration `toml:"idle_timeout"`
	// Rules map a namespace and service account to Vault roles; the first
	// that matches wins, else Default.
	Rules   []Rule `toml:"rule"`
	Default *Rule  `toml:"default"`
}

// Rule is one mapping: the pods it matches (Namespace and ServiceAccount,
// "*" or empty for any) and the Vault roles they get.
type Rule struct {
	Namespace      string   `toml:"namespace"`
	ServiceAccount string   `toml:"service_account"`
	AuthRole       string   `toml:"auth_role"` // auth/<AuthMount>/role/<AuthRole>
	AWSRole        string   `toml:"aws_role"`  // <AWSMount>/creds/<AWSRole>
	TTL            duration `toml:"ttl"`       // asked of Vault; 0 leaves it to the role
	RoleARN        string   `toml:"role_arn"`  // for roles with several role_arns
}

// duration is a time.Duration written as "15m" in TOML.
type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// The auth methods the agent logs in with.
const (
	MethodJWT        = "jwt"
	MethodKubernetes = "kubernetes"
)

// Defaults of what the file leaves out.
const (
	DefaultMethod        = MethodJWT
	DefaultAWSMount      = "aws"
	DefaultMaxIdentities = 1000
	DefaultIdleTimeout   = 30 * time.Minute
)

// LoadConfig reads and checks the configuration file at path.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return parseConfig(string(b), path)
}

// parseConfig parses and checks a configuration; name is where it came
// from, for errors.
func parseConfig(text, name string) (*Config, error) {
	var c Config
	md, err := toml.Decode(text, &c)
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w", name, err)
	}
	if extra := md.Undecoded(); len(extra) > 0 {
		return nil, fmt.Errorf("configuration %s: unknown key %q", name, extra[0].String())
	}
	if c.Method == "" {
		c.Method = DefaultMethod
	}
	if c.AuthMount == "" {
		c.AuthMount = c.Method
	}
	if c.AWSMount == "" {
		c.AWSMount = DefaultAWSMount
	}
	if c.MaxIdentities == 0 {
		c.MaxIdentities = DefaultMaxIdentities
	}
	if c.IdleTimeout.Duration == 0 {
		c.IdleTimeout.Duration = DefaultIdleTimeout
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("configuration %s: %w", name, err)
	}
	return &c, nil
}

func (c *Config) check() error {
	if c.Method != MethodJWT && c.Method != MethodKubernetes {
		return fmt.Errorf("method %q: want %q or %q", c.Method, MethodJWT, MethodKubernetes)
	}
	if c.MaxIdentities < 0 || c.IdleTimeout.Duration < 0 {
		return errors.New("max_identities and idle_timeout cannot be negative")
	}
	if len(c.Rules) == 0 && c.Default == nil {
		return errors.New("no [[rule]] and no [default]: no pod could get credentials")
	}
	for i, r := range c.Rules {
		if r.AuthRole == "" || r.AWSRole == "" {
			return fmt.Errorf("rule %d: auth_role and aws_role are required", i+1)
		}
	}
	if d := c.Default; d != nil {
		if d.AuthRole == "" || d.AWSRole == "" {
			return errors.New("[default]: auth_role and aws_role are required")
		}
		if d.Namespace != "" || d.ServiceAccount != "" {
			return errors.New("[default] matches every pod: it takes no namespace or service_account")
		}
	}
	return nil
}

// Match returns the rule for a pod's namespace and service account: the
// first rule that matches, else the default, else nil.
func (c *Config) Match(namespace, serviceAccount string) *Rule {
	for i := range c.Rules {
		r := &c.Rules[i]
		if matches(r.Namespace, namespace) && matches(r.ServiceAccount, serviceAccount) {
			return r
		}
	}
	return c.Default
}

func matches(pattern, v string) bool { return pattern == "" || pattern == "*" || pattern == v }

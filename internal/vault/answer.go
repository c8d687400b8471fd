package vault

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// params are the request's parameters for a dynamic role.
func params(r process.Request) map[string]any {
	p := map[string]any{}
	if r.TTL > 0 {
		p["ttl"] = strconv.FormatInt(int64(r.TTL/time.Second), 10) + "s"
	}
	if r.RoleARN != "" {
		p["role_arn"] = r.RoleARN
	}
	if r.RoleSessionName != "" {
		p["role_session_name"] = r.RoleSessionName
	}
	if r.MFACode != "" {
		p["mfa_code"] = r.MFACode
	}
	return p
}

// errTypeMismatch marks credentials of another type than --type named.
var errTypeMismatch = errors.New("credential type mismatch")

// parseSecret checks a Vault response and turns it into credentials. It
// never returns credentials whose expiry is unknown.
func parseSecret(s *api.Secret, r process.Request, sent time.Time) (*process.Credentials, error) {
	if err := checkLeaseDuration(s.LeaseDuration); err != nil {
		return nil, err
	}
	if len(s.LeaseID) > maxLeaseID {
		return nil, fmt.Errorf("the lease id is longer than %d bytes", maxLeaseID)
	}
	c := &process.Credentials{IssuedAt: sent, LeaseID: s.LeaseID, Renewable: s.Renewable,
		LeaseDuration: time.Duration(s.LeaseDuration) * time.Second}
	d := secretData(s.Data)
	if err := readKeys(c, d); err != nil {
		return nil, err
	}
	arn, err := d.str("arn")
	if err != nil {
		return nil, err
	}
	c.AccountID = accountOf(arn)
	if c.Expiration, err = expiration(d, r, s.LeaseDuration, sent); err != nil {
		return nil, err
	}
	if err := checkType(c, r.Type); err != nil {
		return nil, err
	}
	return c, nil
}

// secretData is the data of a Vault answer.
type secretData map[string]any

// str is the string field key, "" when absent or null; any other type is
// an error.
func (d secretData) str(key string) (string, error) {
	v, ok := d[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("field %s is not a string", key)
	}
	return s, nil
}

// readKeys reads and bounds the key pair and the session token (which
// Vault also calls security_token).
func readKeys(c *process.Credentials, d secretData) error {
	var err error
	if c.AccessKeyID, err = d.str("access_key"); err != nil {
		return err
	}
	if c.SecretAccessKey, err = d.str("secret_key"); err != nil {
		return err
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return errors.New("the response has no access_key or secret_key")
	}
	if err := checkField("access_key", c.AccessKeyID, 1, maxAccessKeyID, isKeyIDChar); err != nil {
		return err
	}
	if err := checkField("secret_key", c.SecretAccessKey, 1, maxSecretKey, isTokenChar); err != nil {
		return err
	}
	if c.SessionToken, err = d.str("session_token"); err != nil {
		return err
	}
	if c.SessionToken == "" {
		if c.SessionToken, err = d.str("security_token"); err != nil {
			return err
		}
	}
	if c.SessionToken != "" {
		return checkField("session_token", c.SessionToken, 1, maxSessionToken, isTokenChar)
	}
	return nil
}

// expiration is when the credentials expire: a static role's next
// rotation, else the lease's end counted from when the request was sent.
// It must lie ahead, and not absurdly far.
func expiration(d secretData, r process.Request, leaseSeconds int, sent time.Time) (time.Time, error) {
	var exp time.Time
	switch {
	case r.Type == config.TypeStatic:
		text, err := d.str("expiration")
		if err != nil {
			return exp, err
		}
		if text == "" {
			return exp, errors.New("the response has no expiration")
		}
		t, perr := time.Parse(time.RFC3339, text)
		if perr != nil {
			return exp, fmt.Errorf("the expiration %q is not an RFC 3339 time", text)
		}
		exp = t.UTC()
	case leaseSeconds > 0:
		exp = sent.Add(time.Duration(leaseSeconds) * time.Second).UTC()
	default:
		return exp, errors.New("the response has neither a lease duration nor an expiration")
	}
	if r.Type == config.TypeStatic && !exp.After(sent) && sent.Sub(exp) <= maxRotationOverdue {
		// Vault rotates static keys from a periodic job: until it runs,
		// it hands out the current keys with their rotation time already
		// past. They still work in AWS until Vault rotates them, so they
		// are served, briefly, and asked for again soon.
		return sent.Add(overdueValidity).UTC(), nil
	}
	if !exp.After(sent) {
		return time.Time{}, fmt.Errorf("the credentials expired at %s, before they were issued", exp.Format(time.RFC3339))
	}
	if exp.Sub(sent) > maxLifetime {
		return time.Time{}, fmt.Errorf("the credentials would expire at %s, more than %d years from now", exp.Format(time.RFC3339), maxLifetime/(365*24*time.Hour))
	}
	return exp, nil
}

// checkType holds Vault to the type the user named, if any: the role
// decides the type.
func checkType(c *process.Credentials, typ string) error {
	switch typ {
	case config.TypeIAMUser:
		if c.SessionToken != "" {
			return fmt.Errorf("%w: the role issued temporary (STS) credentials, but --type says iam_user", errTypeMismatch)
		}
	case config.TypeAssumedRole, config.TypeFederationToken, config.TypeSessionToken:
		if c.SessionToken == "" {
			return fmt.Errorf("%w: the role issued credentials without a session token, but --type says %s", errTypeMismatch, typ)
		}
	}
	return nil
}

// accountOf returns the 12-digit account of an ARN, or "".
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || len(parts[4]) != 12 {
		return ""
	}
	for _, ch := range parts[4] {
		if ch < '0' || ch > '9' {
			return ""
		}
	}
	return parts[4]
}

// Bounds on what Vault may hand out. AWS documents access key ids of at most
// 128 word characters; secret keys are 40 characters today; STS does not
// fix the size of session tokens (a few KiB in practice), so they get room
// to grow. Anything past these is a broken or hostile server, refused before
// it reaches stdout, the environment or the cache.
const (
	maxAccessKeyID  = 128
	maxSecretKey    = 256
	maxSessionToken = 64 << 10
	maxLeaseID      = 1024
	// maxLifetime is the longest validity the helper believes: longer
	// means a clock, unit or overflow error, not a real lease.
	maxLifetime = 10 * 365 * 24 * time.Hour
	// maxRotationOverdue is how long past its rotation time a static
	// role's keys are still taken from Vault (its rotation job runs about
	// once a minute; a little clock skew adds to that), and
	// overdueValidity how long they are then served for.
	maxRotationOverdue = 10 * time.Minute
	overdueValidity    = time.Minute
)

// checkLeaseDuration refuses a lease duration (seconds) that is negative or
// so long that it overflows, or lies decades away.
func checkLeaseDuration(seconds int) error {
	if seconds < 0 || int64(seconds) > int64(maxLifetime/time.Second) {
		return fmt.Errorf("the lease duration %d s is outside 0 to %d years", seconds, maxLifetime/(365*24*time.Hour))
	}
	return nil
}

// checkField checks one credential field's length and characters. The
// value is never part of the error.
func checkField(name, v string, minLen, maxLen int, ok func(byte) bool) error {
	if len(v) < minLen || len(v) > maxLen {
		return fmt.Errorf("field %s has %d bytes, want %d to %d", name, len(v), minLen, maxLen)
	}
	for i := 0; i < len(v); i++ {
		if !ok(v[i]) {
			return fmt.Errorf("field %s holds a character not allowed there (at byte %d)", name, i)
		}
	}
	return nil
}

func isKeyIDChar(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isTokenChar allows printable ASCII without space: base64 and the like.
func isTokenChar(c byte) bool { return c > ' ' && c < 0x7f }

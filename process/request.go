package process

import (
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// Request is what to ask Vault's AWS secrets engine for.
type Request struct {
	Mount           string
	Role            string
	Type            string // "" for any dynamic type
	TTL             time.Duration
	RoleARN         string
	RoleSessionName string
	MFACode         string
}

// RequestOf is the request the settings make.
func RequestOf(s *config.Settings) Request {
	return Request{Mount: s.Mount, Role: s.Role, Type: s.Type, TTL: s.TTL,
		RoleARN: s.RoleARN, RoleSessionName: s.RoleSessionName, MFACode: s.MFACode}
}

// Path is the Vault API path the request goes to.
func (r Request) Path() string {
	if r.Type == config.TypeStatic {
		return r.Mount + "/static-creds/" + r.Role
	}
	return r.Mount + "/creds/" + r.Role
}

// Credentials are AWS credentials as Vault issued them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	AccountID       string
	Expiration      time.Time
	IssuedAt        time.Time
	LeaseID         string
	LeaseDuration   time.Duration
	Renewable       bool
	// TokenAccessor names the Vault token that minted a revocable lease.
	TokenAccessor string
	// MinterDigest recognises that token (see minterDigest).
	MinterDigest string
}

// Revocable reports whether Vault can revoke the credentials: iam_user
// keys, whose lease deletes the IAM user when it ends. STS credentials have
// a lease in Vault too, but AWS cannot revoke them; static keys have none.
func (c *Credentials) Revocable() bool { return c.LeaseID != "" && c.SessionToken == "" }

// CredentialsPath is the Vault path the settings' request goes to, and
// whether it is a static role's (read) rather than a dynamic one (update).
func CredentialsPath(s *config.Settings) (path string, static bool) {
	r := RequestOf(s)
	return r.Path(), r.Type == config.TypeStatic
}

package process

import (
	"encoding/json"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
)

// StoredRequest is the non-secret part of the settings that a cache entry
// keeps beside its credentials (its "request" object), for `cache list` to
// show and `cache clear --revoke` to tell one Vault from another. Its JSON
// is the format of the entries on disk: the names and their order (which
// is alphabetical, as it was when this was a map) stay as they are, and a
// field that was always written has no omitempty.
type StoredRequest struct {
	Mount           string `json:"mount"`
	Profile         string `json:"profile,omitempty"`
	Role            string `json:"role"`
	RoleARN         string `json:"role_arn,omitempty"`
	RoleSessionName string `json:"role_session_name,omitempty"`
	TTL             string `json:"ttl,omitempty"` // as time.Duration.String writes it: 15m0s
	Type            string `json:"type,omitempty"`
	VaultAddress    string `json:"vault_address"` // without a password (DisplayAddress)
	VaultNamespace  string `json:"vault_namespace,omitempty"`
}

// storedRequestOf is what an entry of the settings s keeps.
func storedRequestOf(s *config.Settings) StoredRequest {
	r := StoredRequest{VaultAddress: s.DisplayAddress(), Mount: s.Mount, Role: s.Role, Profile: s.Profile,
		VaultNamespace: s.Namespace, Type: s.Type, RoleARN: s.RoleARN, RoleSessionName: s.RoleSessionName}
	if s.TTL > 0 {
		r.TTL = s.TTL.String()
	}
	return r
}

// encode is r as an entry stores it.
func (r StoredRequest) encode() json.RawMessage {
	b, err := json.Marshal(r)
	if err != nil { // strings only: cannot happen
		panic(err)
	}
	return b
}

// StoredRequestOf is the request e was stored with; an entry without one,
// or with one this build cannot read, gives the zero StoredRequest (its
// fields show as empty, as a missing key always did).
func StoredRequestOf(e *cache.Entry) StoredRequest {
	var r StoredRequest
	if len(e.Request) != 0 && json.Unmarshal(e.Request, &r) != nil {
		return StoredRequest{}
	}
	return r
}

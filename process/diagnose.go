package process

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// What `doctor` asks Vault, exported for it deliberately: the rest of the
// client stays private, so that no front end reaches past Runner and
// Source for credentials.

// HealthInfo is Vault's sys/health document.
type HealthInfo struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Standby     bool   `json:"standby"`
	Version     string `json:"version"`
	ServerTime  int64  `json:"server_time_utc"` // Unix seconds; 0 when not said
	ClusterName string `json:"cluster_name"`
}

// Health asks sys/health of the Vault the settings name, which answers
// without a token and with a status code per state (sealed 503, standby
// 429, ...). info is nil, with err nil, when the answer has no health
// document; err is explained (an *Error with a hint) when Vault was not
// reached.
func Health(ctx context.Context, s *config.Settings) (info *HealthInfo, status int, err error) {
	cfg := *s
	cfg.Retries = 0
	v, err := newVaultNoToken(&cfg, time.Now, func(string, ...any) {})
	if err != nil {
		return nil, 0, err
	}
	v.client.ClearToken()
	resp, err := v.client.Logical().ReadRawWithContext(ctx, "sys/health")
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil || resp == nil {
		return nil, 0, vaultError(err, "reach Vault", "sys/health", s.DisplayAddress(), ctx.Err() != nil)
	}
	var h HealthInfo
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(body, &h) != nil {
		return nil, resp.StatusCode, nil
	}
	return &h, resp.StatusCode, nil
}

// LookupSelf asks Vault about the token the client uses (after a login,
// with an auth method: call Login first).
func (v *Vault) LookupSelf(ctx context.Context) (*api.Secret, error) {
	return v.client.Auth().Token().LookupSelfWithContext(ctx)
}

// CapabilitiesSelf asks what the token may do on path.
func (v *Vault) CapabilitiesSelf(ctx context.Context, path string) ([]string, error) {
	return v.client.Sys().CapabilitiesSelfWithContext(ctx, path)
}

// Address is the Vault address, as it may be printed.
func (v *Vault) Address() string { return v.addr }

// Explain turns an error of a Vault call on path into an *Error whose hint
// says what to do; timeout says the run's deadline had passed.
func Explain(err error, what, path, addr string, timeout bool) *Error {
	return vaultError(err, what, path, addr, timeout)
}

// CacheError explains an error of the cache folder, with a hint.
func CacheError(err error) *Error { return cacheError(err) }

// CredentialsPath is the Vault path the settings' request goes to, and
// whether it is a static role's (read) rather than a dynamic one (update).
func CredentialsPath(s *config.Settings) (path string, static bool) {
	r := requestOf(s)
	return r.Path(), r.Type == config.TypeStatic
}

package vault

import (
	"context"
	"encoding/json"
	"io"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
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
func Health(ctx context.Context, s *config.Settings, o Options) (info *HealthInfo, status int, err error) {
	cfg := *s
	cfg.Retries = 0
	v, err := newVaultNoToken(&cfg, o)
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
	if json.Unmarshal(body, &h) != nil || h.Version == "" {
		// Not JSON, or JSON without the version every health document
		// of Vault's has: another server's answer.
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
func Explain(err error, what, path, addr string, timeout bool) *process.Error {
	return vaultError(err, what, path, addr, timeout)
}

// MountInfo is what Vault says of the secrets engine a path lies in.
type MountInfo struct {
	Path string // the engine's mount path, with a trailing slash: "aws/"
	Type string // the engine: "aws", "kv", ...
}

// Mount asks Vault which secrets engine serves path, through
// sys/internal/ui/mounts/<path>, which Vault's default policy lets every
// token read. Vault answers 403 alike when nothing is mounted there and
// when the token may use nothing under the mount, so that the answer
// cannot be used to list the mounts; nil, nil is an answer without data.
func (v *Vault) Mount(ctx context.Context, path string) (*MountInfo, error) {
	secret, err := v.client.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+path)
	if err != nil || secret == nil {
		return nil, err
	}
	m := &MountInfo{}
	m.Path, _ = secret.Data["path"].(string)
	m.Type, _ = secret.Data["type"].(string)
	return m, nil
}

// RolePath is where a role of the AWS engine at mount is defined: a
// dynamic role at <mount>/roles/<name>, a static one at
// <mount>/static-roles/<name>.
func RolePath(mount, name string, static bool) string {
	if static {
		return mount + "/static-roles/" + name
	}
	return mount + "/roles/" + name
}

// Role reads a role's definition (RolePath) with the client's token; nil,
// nil when there is no such role.
func (v *Vault) Role(ctx context.Context, mount, name string, static bool) (map[string]any, error) {
	secret, err := v.client.Logical().ReadWithContext(ctx, RolePath(mount, name, static))
	if err != nil || secret == nil {
		return nil, err
	}
	return secret.Data, nil
}

// Roles lists the roles of the AWS engine at mount (dynamic, or static),
// for suggesting one; nil when there are none.
func (v *Vault) Roles(ctx context.Context, mount string, static bool) ([]string, error) {
	dir := mount + "/roles"
	if static {
		dir = mount + "/static-roles"
	}
	secret, err := v.client.Logical().ListWithContext(ctx, dir)
	if err != nil || secret == nil {
		return nil, err
	}
	keys, _ := secret.Data["keys"].([]any)
	var names []string
	for _, k := range keys {
		if s, ok := k.(string); ok {
			names = append(names, s)
		}
	}
	return names, nil
}

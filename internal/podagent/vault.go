package podagent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// Vault is what the agent asks of Vault.
type Vault interface {
	// Login logs in with a JWT at auth/<mount>/login as role; Vault
	// verifies the token. A refusal is a *RefusedError.
	Login(ctx context.Context, mount, role, jwt string) (*Login, error)
	// Mint gets AWS credentials at <mount>/creds/<role> with token.
	Mint(ctx context.Context, token, mount string, r *Rule) (*Credentials, error)
	// Revoke revokes a login token no longer needed (best effort).
	Revoke(ctx context.Context, token string) error
	// Healthy reports whether Vault answers, initialised and unsealed.
	Healthy(ctx context.Context) error
}

// Login is a successful login.
type Login struct {
	Token    string
	Expiry   time.Time
	EntityID string // Vault's identity of whoever logged in; empty when Vault keeps none
}

// Credentials are AWS credentials and their expiry.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken, AccountID string
	Issued, Expiry                                        time.Time
}

// RefusedError is Vault refusing a request it understood (4xx): the token
// or the permission is wrong, not Vault's availability.
type RefusedError struct {
	Status int
	Reason string
	Login  bool // a login refused: the JWT is not good for that role
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("Vault refused (%d): %s", e.Status, e.Reason)
}

// APIVault is Vault through its Go client, configured as the vault CLI is
// (VAULT_ADDR, VAULT_CACERT, VAULT_NAMESPACE, ...). It holds no token of
// its own: every call carries the identity's.
type APIVault struct {
	client *api.Client
	now    func() time.Time
}

// NewAPIVault makes a client from the environment.
func NewAPIVault(now func() time.Time) (*APIVault, error) {
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("Vault client configuration: %w", cfg.Error)
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("Vault client: %w", err)
	}
	c.ClearToken() // never VAULT_TOKEN or ~/.vault-token: a pod's identity only
	return &APIVault{client: c, now: now}, nil
}

// with is a copy of the client carrying token.
func (v *APIVault) with(token string) (*api.Client, error) {
	c, err := v.client.Clone()
	if err != nil {
		return nil, err
	}
	c.SetToken(token)
	return c, nil
}

func (v *APIVault) Login(ctx context.Context, mount, role, jwt string) (*Login, error) {
	c, err := v.with("")
	if err != nil {
		return nil, err
	}
	c.ClearToken()
	start := v.now()
	s, err := c.Logical().WriteWithContext(ctx, "auth/"+mount+"/login", map[string]any{"role": role, "jwt": jwt})
	if err != nil {
		err = vaultError("log in at auth/"+mount+" as role "+role, err)
		if re := (*RefusedError)(nil); errors.As(err, &re) {
			re.Login = true
		}
		return nil, err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, fmt.Errorf("log in at auth/%s: Vault answered without a token", mount)
	}
	return &Login{Token: s.Auth.ClientToken, EntityID: s.Auth.EntityID,
		Expiry: start.Add(time.Duration(s.Auth.LeaseDuration) * time.Second).Round(0)}, nil
}

func (v *APIVault) Mint(ctx context.Context, token, mount string, r *Rule) (*Credentials, error) {
	c, err := v.with(token)
	if err != nil {
		return nil, err
	}
	body := map[string]any{}
	if r.TTL.Duration > 0 {
		body["ttl"] = r.TTL.Duration.String()
	}
	if r.RoleARN != "" {
		body["role_arn"] = r.RoleARN
	}
	path := mount + "/creds/" + r.AWSRole
	issued := v.now().Round(0)
	s, err := c.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		return nil, vaultError("get credentials at "+path, err)
	}
	if s == nil || s.LeaseDuration <= 0 {
		return nil, fmt.Errorf("get credentials at %s: Vault answered without a lease", path)
	}
	str := func(k string) string { v, _ := s.Data[k].(string); return v }
	cr := &Credentials{AccessKeyID: str("access_key"), SecretAccessKey: str("secret_key"), SessionToken: str("session_token"),
		Issued: issued, Expiry: issued.Add(time.Duration(s.LeaseDuration) * time.Second)}
	if cr.SessionToken == "" {
		cr.SessionToken = str("security_token")
	}
	if f := strings.Split(str("arn"), ":"); len(f) > 4 {
		cr.AccountID = f[4]
	}
	if cr.AccessKeyID == "" || cr.SecretAccessKey == "" {
		return nil, fmt.Errorf("get credentials at %s: Vault answered without keys", path)
	}
	return cr, nil
}

func (v *APIVault) Revoke(ctx context.Context, token string) error {
	c, err := v.with(token)
	if err != nil {
		return err
	}
	return c.Auth().Token().RevokeSelfWithContext(ctx, "")
}

func (v *APIVault) Healthy(ctx context.Context) error {
	h, err := v.client.Sys().HealthWithContext(ctx)
	switch {
	case err != nil:
		return err
	case !h.Initialized || h.Sealed:
		return errors.New("Vault is sealed or not initialised")
	}
	return nil
}

// vaultError turns a 4xx of Vault into a *RefusedError, with Vault's
// reasons (which name no secret: Vault never echoes a token).
func vaultError(what string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != http.StatusTooManyRequests {
		return fmt.Errorf("%s: %w", what, &RefusedError{Status: re.StatusCode, Reason: strings.Join(re.Errors, "; ")})
	}
	return fmt.Errorf("%s: %w", what, err)
}

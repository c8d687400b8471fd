package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// VaultError is a non-2xx answer from Vault.
type VaultError struct {
	Method     string
	Path       string
	StatusCode int
	Errors     []string // Vault's "errors" list, if any
}

func (e *VaultError) Error() string {
	return fmt.Sprintf("vault %s /v1/%s: status %d: %s", e.Method, e.Path, e.StatusCode, strings.Join(e.Errors, "; "))
}

// VaultRequest sends one request to the bed's Vault with the root token: path is the
// API path without /v1/ (e.g. "aws/creds/iam"), body (if not nil) is sent as JSON, and
// the JSON answer is decoded into out (if not nil). A non-2xx answer is a *VaultError.
func (b *Bed) VaultRequest(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("vault %s /v1/%s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.VaultAddr+"/v1/"+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		return fmt.Errorf("vault %s /v1/%s: %w", method, path, err)
	}
	req.Header.Set("X-Vault-Token", b.RootToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("vault %s /v1/%s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("vault %s /v1/%s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		verr := &VaultError{Method: method, Path: path, StatusCode: resp.StatusCode}
		var e struct {
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(data, &e) == nil && len(e.Errors) > 0 {
			verr.Errors = e.Errors
		} else {
			verr.Errors = []string{snippet(data)}
		}
		return verr
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("vault %s /v1/%s: decode answer: %w", method, path, err)
	}
	return nil
}

// rolePolicy is the inline policy of the iam_user and federation_token roles. moto does
// not enforce it; AWS needs one, and Vault sends it, so the bed exercises that path.
const rolePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`

// configureVault enables the audit log and the AWS engine, points it at moto, and
// creates the roles (see the Role* constants).
func (b *Bed) configureVault(ctx context.Context, accessKey, secretKey string) error {
	b.MFASerial = fmt.Sprintf("arn:aws:iam::%s:mfa/vcp", b.AccountID)
	steps := []struct {
		method, path string
		body         any
	}{
		// First, so that every later request is in the log too.
		{"PUT", "sys/audit/file", map[string]any{
			"type":    "file",
			"options": map[string]string{"file_path": b.auditPath(), "log_raw": "false"},
		}},
		{"POST", "sys/mounts/" + Mount, map[string]any{"type": "aws"}},
		{"POST", Mount + "/config/root", map[string]any{
			"access_key":   accessKey,
			"secret_key":   secretKey,
			"region":       Region,
			"iam_endpoint": b.MotoURL,
			"sts_endpoint": b.MotoURL,
		}},
		{"POST", Mount + "/config/lease", map[string]any{"lease": "1h", "lease_max": "24h"}},
		{"POST", Mount + "/roles/" + RoleIAM, map[string]any{
			"credential_type": "iam_user",
			"policy_document": rolePolicy,
		}},
		{"POST", Mount + "/roles/" + RoleAssume, map[string]any{
			"credential_type": "assumed_role",
			"role_arns":       []string{b.TargetRoleARN},
		}},
		{"POST", Mount + "/roles/" + RoleFed, map[string]any{
			"credential_type": "federation_token",
			"policy_document": rolePolicy,
		}},
		{"POST", Mount + "/roles/" + RoleSession, map[string]any{
			"credential_type": "session_token",
		}},
		{"POST", Mount + "/roles/" + RoleSessionMFA, map[string]any{
			"credential_type":   "session_token",
			"mfa_serial_number": b.MFASerial,
		}},
		{"POST", Mount + "/static-roles/" + StaticRole, map[string]any{
			"username":        StaticUser,
			"rotation_period": "2h",
		}},
	}
	for _, s := range steps {
		if err := b.VaultRequest(ctx, s.method, s.path, s.body, nil); err != nil {
			return err
		}
	}
	return nil
}

package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// AWSVault is a second Vault dev server beside the bed whose AWS secrets engines, at
// paths the test chooses, all use the bed's moto: for tests that list mounts and add and
// delete roles (aws-config --all) without changing the bed's Vault, which other tests
// share and list too. Its audit log is on, as the bed's is.
type AWSVault struct {
	*Vault
}

// StartAWSVault starts a bare Vault dev server (StartVault) with its log and audit log
// in dir. Stop it when done.
func (b *Bed) StartAWSVault(ctx context.Context, dir string) (*AWSVault, error) {
	v, err := StartVault(ctx, b.tools, dir)
	if err != nil {
		return nil, err
	}
	v.b.MotoURL, v.b.AccountID, v.b.TargetRoleARN = b.MotoURL, b.AccountID, b.TargetRoleARN
	if err := v.Request(ctx, "PUT", "sys/audit/file", map[string]any{
		"type":    "file",
		"options": map[string]string{"file_path": v.b.auditPath(), "log_raw": "false"},
	}, nil); err != nil {
		_ = v.Stop()
		return nil, err
	}
	return &AWSVault{Vault: v}, nil
}

// EnableAWS enables the AWS secrets engine at mount, pointed at the bed's moto with the
// key of a new IAM user as its root credentials.
func (v *AWSVault) EnableAWS(ctx context.Context, mount string) error {
	user := uniqueName("vcp-root-" + strings.ReplaceAll(mount, "/", "-"))
	accessKey, secretKey, err := v.newUserKey(ctx, user)
	if err != nil {
		return err
	}
	if err := v.Request(ctx, "POST", "sys/mounts/"+mount, map[string]any{"type": "aws"}, nil); err != nil {
		return err
	}
	return v.Request(ctx, "POST", mount+"/config/root", map[string]any{
		"access_key":   accessKey,
		"secret_key":   secretKey,
		"region":       Region,
		"iam_endpoint": v.b.MotoURL,
		"sts_endpoint": v.b.MotoURL,
	}, nil)
}

// newUserKey creates an IAM user in moto with one access key.
func (v *AWSVault) newUserKey(ctx context.Context, name string) (accessKey, secretKey string, err error) {
	if err := v.b.motoCall(ctx, "iam", "CreateUser", url.Values{"UserName": {name}}, nil); err != nil {
		return "", "", err
	}
	var key struct {
		AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := v.b.motoCall(ctx, "iam", "CreateAccessKey", url.Values{"UserName": {name}}, &key); err != nil {
		return "", "", err
	}
	return key.AccessKeyID, key.SecretAccessKey, nil
}

// NewAssumableRole creates an IAM role in moto that anyone may assume, named prefix and
// a random suffix, and returns its ARN.
func (v *AWSVault) NewAssumableRole(ctx context.Context, prefix string) (string, error) {
	var role struct {
		Arn string `xml:"CreateRoleResult>Role>Arn"`
	}
	if err := v.b.motoCall(ctx, "iam", "CreateRole", url.Values{
		"RoleName":                 {uniqueName(prefix)},
		"AssumeRolePolicyDocument": {trustAnyone},
	}, &role); err != nil {
		return "", err
	}
	return role.Arn, nil
}

// NewStaticUser creates an IAM user in moto for a static role, named prefix and a
// random suffix, and returns the name.
func (v *AWSVault) NewStaticUser(ctx context.Context, prefix string) (string, error) {
	name := uniqueName(prefix)
	return name, v.b.motoCall(ctx, "iam", "CreateUser", url.Values{"UserName": {name}}, nil)
}

// Token writes the ACL policy name and returns a new token with it and Vault's default
// policy, valid for ttl.
func (v *AWSVault) Token(ctx context.Context, name, policy, ttl string) (string, error) {
	if err := v.Request(ctx, "PUT", "sys/policies/acl/"+name, map[string]any{"policy": policy}, nil); err != nil {
		return "", err
	}
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := v.Request(ctx, "POST", "auth/token/create", map[string]any{"policies": []string{name, "default"}, "ttl": ttl}, &out); err != nil {
		return "", err
	}
	return out.Auth.ClientToken, nil
}

// AuditCount is Bed.AuditCount for this Vault's audit log.
func (v *AWSVault) AuditCount(method, path string) (int, error) { return v.b.AuditCount(method, path) }

// uniqueName is prefix and a random suffix: moto's IAM names are global to the run.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s", prefix, hex.EncodeToString(b))
}

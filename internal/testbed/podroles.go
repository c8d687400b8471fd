package testbed

import (
	"context"
	"net/url"
)

// CreateAssumableRole creates an IAM role in moto that anyone may assume, named prefix
// and a random suffix, and returns its ARN: for tests that need AWS identities of their
// own beside TargetRole (the pod agent's, one per service account).
func (b *Bed) CreateAssumableRole(ctx context.Context, prefix string) (string, error) {
	var role struct {
		Arn string `xml:"CreateRoleResult>Role>Arn"`
	}
	if err := b.motoCall(ctx, "iam", "CreateRole", url.Values{
		"RoleName":                 {uniqueName(prefix)},
		"AssumeRolePolicyDocument": {trustAnyone},
	}, &role); err != nil {
		return "", err
	}
	return role.Arn, nil
}

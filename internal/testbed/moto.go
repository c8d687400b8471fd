package testbed

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// motoCall sends one AWS query API call (IAM or STS) to moto and decodes the XML answer
// into out. moto accepts any signature; it routes on the credential scope of the
// Authorization header, so the header names the service but carries no real signature.
func (b *Bed) motoCall(ctx context.Context, service, action string, params url.Values, out any) error {
	return b.motoCallAs(ctx, dummyAccessKey, service, action, params, out)
}

// motoCallAs is motoCall with the request signed as accessKey: moto's STS answers
// GetCallerIdentity for the identity that key belongs to.
func (b *Bed) motoCallAs(ctx context.Context, accessKey, service, action string, params url.Values, out any) error {
	form := url.Values{"Action": {action}}
	switch service {
	case "iam":
		form.Set("Version", "2010-05-08")
	case "sts":
		form.Set("Version", "2011-06-15")
	default:
		return fmt.Errorf("moto %s: unknown service %q", action, service)
	}
	for k, v := range params {
		form[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.MotoURL+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("moto %s %s: %w", service, action, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", fmt.Sprintf(
		"AWS4-HMAC-SHA256 Credential=%s/20260101/%s/%s/aws4_request, SignedHeaders=host, Signature=0",
		accessKey, Region, service))
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("moto %s %s: %w", service, action, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("moto %s %s: read answer: %w", service, action, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto %s %s: %s: %s", service, action, resp.Status, snippet(body))
	}
	if out == nil {
		return nil
	}
	if err := xml.Unmarshal(body, out); err != nil {
		return fmt.Errorf("moto %s %s: decode answer: %w: %s", service, action, err, snippet(body))
	}
	return nil
}

// IAMUserCount counts the IAM users in moto: the bed's two plus one per iam_user
// credential Vault has minted (and not yet revoked).
func (b *Bed) IAMUserCount() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	users, err := b.iamUsers(ctx)
	return len(users), err
}

func (b *Bed) iamUsers(ctx context.Context) ([]string, error) {
	var names []string
	marker := ""
	for {
		params := url.Values{}
		if marker != "" {
			params.Set("Marker", marker)
		}
		var out struct {
			Users       []string `xml:"ListUsersResult>Users>member>UserName"`
			IsTruncated bool     `xml:"ListUsersResult>IsTruncated"`
			Marker      string   `xml:"ListUsersResult>Marker"`
		}
		if err := b.motoCall(ctx, "iam", "ListUsers", params, &out); err != nil {
			return nil, err
		}
		names = append(names, out.Users...)
		if !out.IsTruncated || out.Marker == "" {
			return names, nil
		}
		marker = out.Marker
	}
}

// bootstrapMoto creates what Vault's AWS engine needs in moto: the IAM user whose keys
// are Vault's root credentials, the role assumed_role credentials assume, and the user
// the static role rotates.
func (b *Bed) bootstrapMoto(ctx context.Context) (accessKey, secretKey string, err error) {
	var user struct {
		Arn string `xml:"CreateUserResult>User>Arn"`
	}
	if err := b.motoCall(ctx, "iam", "CreateUser", url.Values{"UserName": {vaultRootUser}}, &user); err != nil {
		return "", "", err
	}
	// arn:aws:iam::ACCOUNT:user/NAME; moto's account is 123456789012 unless
	// MOTO_ACCOUNT_ID says otherwise, so read it rather than assume it.
	if parts := strings.Split(user.Arn, ":"); len(parts) >= 5 && parts[4] != "" {
		b.AccountID = parts[4]
	} else {
		return "", "", fmt.Errorf("moto iam CreateUser: unexpected user ARN %q", user.Arn)
	}

	var key struct {
		AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := b.motoCall(ctx, "iam", "CreateAccessKey", url.Values{"UserName": {vaultRootUser}}, &key); err != nil {
		return "", "", err
	}
	if key.AccessKeyID == "" || key.SecretAccessKey == "" {
		return "", "", fmt.Errorf("moto iam CreateAccessKey: no key in the answer")
	}

	var role struct {
		Arn string `xml:"CreateRoleResult>Role>Arn"`
	}
	if err := b.motoCall(ctx, "iam", "CreateRole", url.Values{
		"RoleName":                 {TargetRole},
		"AssumeRolePolicyDocument": {trustAnyone},
	}, &role); err != nil {
		return "", "", err
	}
	b.TargetRoleARN = role.Arn

	if err := b.motoCall(ctx, "iam", "CreateUser", url.Values{"UserName": {StaticUser}}, nil); err != nil {
		return "", "", err
	}
	return key.AccessKeyID, key.SecretAccessKey, nil
}

// trustAnyone lets any principal assume the target role; moto does not check trust
// policies, AWS would.
const trustAnyone = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	return s
}

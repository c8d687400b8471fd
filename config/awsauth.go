package config

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// Sources of the AWS credentials that sign an aws login, as the
// credentials key names them.
const (
	AWSFromEnv       = "env"       // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
	AWSFromProfile   = "profile"   // "profile:NAME": the AWS shared credentials and config files
	AWSFromContainer = "container" // the ECS/EKS container credentials endpoint
	AWSFromIMDS      = "imds"      // EC2 instance metadata (IMDSv2)
)

// AWSCredentialSource splits the credentials key of the aws method into
// the source and, for "profile:NAME", the profile's name. It is the one
// reading of that key: the configuration checks it, the login uses it.
func AWSCredentialSource(s string) (source, profile string, err error) {
	switch s {
	case AWSFromEnv, AWSFromContainer, AWSFromIMDS:
		return s, "", nil
	}
	if name, ok := strings.CutPrefix(s, AWSFromProfile+":"); ok {
		// What the AWS config file takes as a section name: no blank,
		// bracket or control character.
		if name != "" && !strings.ContainsFunc(name, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || r == '[' || r == ']'
		}) {
			return AWSFromProfile, name, nil
		}
	}
	return "", "", fmt.Errorf("invalid credentials %q", s)
}

// awsValues validates the keys of the aws method: the credentials source,
// the STS region and endpoint and the server id header's value. Where the
// keys and the endpoint lead is the login's business (internal/awslogin),
// found before any request there.
func awsValues(a *Auth, merged map[string]value) error {
	if _, _, err := AWSCredentialSource(a.Credentials); err != nil {
		return merged["credentials"].errorf("%v", err).
			withHint(`use "env", "profile:NAME", "container" or "imds": where the AWS credentials that sign the login come from`)
	}
	if v, ok := merged["sts_region"]; ok && !validRegion(a.STSRegion) {
		return v.errorf("invalid sts_region %q", v.v).withHint("an AWS region such as us-east-1 or eu-west-1")
	}
	if v, ok := merged["sts_endpoint"]; ok {
		u, err := url.Parse(a.STSEndpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return v.errorf("invalid sts_endpoint %q", v.v).
				withHint("an https URL without query, such as https://sts.eu-west-1.amazonaws.com; the same as sts_endpoint of the mount's auth/<mount>/config/client in Vault")
		}
	}
	if v, ok := merged["iam_server_id_header_value"]; ok && (a.IAMServerID == "" || strings.ContainsFunc(a.IAMServerID, unicode.IsControl)) {
		return v.errorf("invalid iam_server_id_header_value %q", v.v).
			withHint("the value of iam_server_id_header_value in the mount's auth/<mount>/config/client, such as vault.example.com")
	}
	return nil
}

// validRegion accepts AWS region names: lower-case letters, digits and
// '-', such as us-east-1, cn-north-1 or us-gov-west-1.
func validRegion(s string) bool {
	if s == "" || len(s) > 32 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '-' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

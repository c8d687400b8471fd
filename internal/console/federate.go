package console

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/sts"
)

// allowAll is the default session policy of GetFederationToken. A session's
// permissions are the intersection of the IAM user's policies and the
// session policies, and without any session policy it has none: allowing
// everything here leaves the user's own permissions.
const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// Limits AWS puts on GetFederationToken's parameters.
const (
	maxPolicySize = 2048 // plaintext of the inline session policy
	MaxPolicyARNs = 10
)

// defaultPropagation bounds the wait for a new IAM access key to reach STS.
const defaultPropagation = sts.Propagation

// Federation is a GetFederationToken call.
type Federation struct {
	Region     string   // STS region (its partition's endpoint)
	Endpoint   string   // STS endpoint URL; "" for the region's
	Name       string   // federated user name; see FederatedName
	Policy     string   // inline session policy; "" with no PolicyARNs means allowAll
	PolicyARNs []string // managed session policies
	Duration   time.Duration
	HTTP       *http.Client // nil for HTTPClient()
	Debugf     func(format string, args ...any)
	// Backoff is the wait before retry n (0, 1, ...) while STS does not
	// know the key yet; nil for sts.Backoff.
	Backoff func(n int) time.Duration
	// Propagation bounds those retries; 0 for defaultPropagation.
	Propagation time.Duration
}

// CheckPolicy refuses an inline session policy AWS would refuse: not a
// JSON object, or longer than maxPolicySize.
func CheckPolicy(policy string) error {
	if len(policy) > maxPolicySize {
		return fmt.Errorf("the session policy has %d characters, AWS takes at most %d", len(policy), maxPolicySize)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return errors.New("the session policy is not a JSON object")
	}
	return nil
}

var nameChars = regexp.MustCompile(`[^\w+=,.@-]`)

// FederatedName turns a Vault role name into a federated user name (2 to
// 32 of the characters STS takes), which the console and CloudTrail show.
func FederatedName(role string) string {
	n := nameChars.ReplaceAllString(role, "-")
	if len(n) > 32 {
		n = n[:32]
	}
	if len(n) < 2 {
		n = "vault-credential-process"
	}
	return n
}

// federate trades an IAM user's long-term keys for federation token
// credentials, which the federation endpoint accepts. A key that STS does
// not know yet (InvalidClientTokenId) is retried for up to defaultPropagation,
// within ctx. The request goes through internal/sts.
func federate(ctx context.Context, creds Credentials, f Federation) (Credentials, time.Time, error) {
	propagation := f.Propagation
	if propagation == 0 {
		propagation = defaultPropagation
	}
	backoff := f.Backoff
	if backoff == nil {
		backoff = sts.Backoff
	}
	endpoint := f.Endpoint
	if endpoint == "" {
		endpoint = STSEndpoint(f.Region)
	}
	httpClient := f.HTTP
	if httpClient == nil {
		httpClient = HTTPClient()
	}
	call := sts.Call{Endpoint: endpoint, Region: f.Region, HTTP: httpClient, Form: f.form(),
		Keys: sts.Keys{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}}
	body, err := sts.Retry(ctx, propagation, backoff, f.debugf, func() ([]byte, error) { return call.Do(ctx) })
	if err != nil {
		return Credentials{}, time.Time{}, stsError(ctx, err)
	}
	return parseAnswer(body)
}

// STSEndpoint is the regional STS endpoint of region.
func STSEndpoint(region string) string {
	if partitionOf(region).ID == "aws-cn" {
		return "https://sts." + region + ".amazonaws.com.cn"
	}
	return "https://sts." + region + ".amazonaws.com"
}

// form is the query API's request: the action, its version and parameters.
func (f Federation) form() url.Values {
	q := url.Values{"Action": {"GetFederationToken"}, "Version": {"2011-06-15"}, "Name": {f.Name}}
	if f.Duration != 0 {
		q.Set("DurationSeconds", strconv.Itoa(int(f.Duration/time.Second)))
	}
	for i, arn := range f.PolicyARNs {
		q.Set("PolicyArns.member."+strconv.Itoa(i+1)+".arn", arn)
	}
	switch {
	case f.Policy != "":
		q.Set("Policy", f.Policy)
	case len(f.PolicyARNs) == 0:
		q.Set("Policy", allowAll)
	}
	return q
}

// stsAnswer is GetFederationToken's answer.
type stsAnswer struct {
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"GetFederationTokenResult>Credentials"`
}

// parseAnswer checks and returns the credentials of an answer.
func parseAnswer(body []byte) (Credentials, time.Time, error) {
	var a stsAnswer
	if err := xml.Unmarshal(body, &a); err != nil {
		return Credentials{}, time.Time{}, errors.New("STS answered with no document it could read")
	}
	c := a.Credentials
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" || err != nil {
		return Credentials{}, time.Time{}, errors.New("the answer lacks credentials")
	}
	return Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, exp, nil
}

func (f Federation) debugf(format string, args ...any) {
	if f.Debugf != nil {
		f.Debugf(format, args...)
	}
}

// STSError is STS refusing GetFederationToken, with AWS's error code.
type STSError = sts.Error

// stsError words err for users: AWS's code and message, or what failed on
// the way, without the request's URL.
func stsError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errors.New("sts:GetFederationToken: STS did not answer in time")
	}
	var se *STSError
	if errors.As(err, &se) {
		return se
	}
	return fmt.Errorf("sts:GetFederationToken: %w", stripURL(err))
}

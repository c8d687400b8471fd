package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

// AllowAll is the default session policy of GetFederationToken. A session's
// permissions are the intersection of the IAM user's policies and the
// session policies, and without any session policy it has none: allowing
// everything here leaves the user's own permissions.
const AllowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// Limits AWS puts on GetFederationToken's parameters.
const (
	MaxPolicySize = 2048 // plaintext of the inline session policy
	MaxPolicyARNs = 10
)

// Propagation bounds the wait for a new IAM access key to reach STS: IAM
// is eventually consistent, and Vault hands out an iam_user's key as soon
// as IAM created it.
const Propagation = 20 * time.Second

// Federation is a GetFederationToken call.
type Federation struct {
	Region     string   // STS region (its partition's endpoint)
	Endpoint   string   // STS endpoint URL; "" for the region's
	Name       string   // federated user name; see FederatedName
	Policy     string   // inline session policy; "" with no PolicyARNs means AllowAll
	PolicyARNs []string // managed session policies
	Duration   time.Duration
	HTTP       *http.Client // nil for HTTPClient()
	Debugf     func(format string, args ...any)
	// Backoff is the wait before retry n (0, 1, ...) while STS does not
	// know the key yet; nil for 1 s, 2 s, then 4 s.
	Backoff func(n int) time.Duration
	// Propagation bounds those retries; 0 for Propagation above.
	Propagation time.Duration
}

// CheckPolicy refuses an inline session policy AWS would refuse: not a
// JSON object, or longer than MaxPolicySize.
func CheckPolicy(policy string) error {
	if len(policy) > MaxPolicySize {
		return fmt.Errorf("the session policy has %d characters, AWS takes at most %d", len(policy), MaxPolicySize)
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

// Federate trades an IAM user's long-term keys for federation token
// credentials, which the federation endpoint accepts. A key that STS does
// not know yet (InvalidClientTokenId) is retried for up to Propagation,
// within ctx.
func Federate(ctx context.Context, creds Credentials, f Federation) (Credentials, time.Time, error) {
	client := f.client(creds)
	in := f.input()
	propagation := f.Propagation
	if propagation == 0 {
		propagation = Propagation
	}
	deadline := time.Now().Add(propagation)
	for n := 0; ; n++ {
		out, err := client.GetFederationToken(ctx, in)
		if err == nil {
			return fromSTS(out)
		}
		wait := f.backoff(n)
		if !unknownKey(err) || time.Now().Add(wait).After(deadline) {
			return Credentials{}, time.Time{}, stsError(ctx, err)
		}
		f.debugf("STS does not know the IAM key yet (InvalidClientTokenId): retry in %s", wait)
		select {
		case <-ctx.Done():
			return Credentials{}, time.Time{}, stsError(ctx, err)
		case <-time.After(wait):
		}
	}
}

func (f Federation) client(creds Credentials) *sts.Client {
	httpClient := f.HTTP
	if httpClient == nil {
		httpClient = HTTPClient()
	}
	o := sts.Options{
		Region:     f.Region,
		HTTPClient: httpClient,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
				Source: "vault-credential-process"}, nil
		}),
	}
	if f.Endpoint != "" {
		o.BaseEndpoint = aws.String(f.Endpoint)
	}
	return sts.New(o)
}

func (f Federation) input() *sts.GetFederationTokenInput {
	in := &sts.GetFederationTokenInput{Name: aws.String(f.Name)}
	if f.Duration != 0 {
		in.DurationSeconds = aws.Int32(int32(f.Duration / time.Second))
	}
	for _, arn := range f.PolicyARNs {
		in.PolicyArns = append(in.PolicyArns, types.PolicyDescriptorType{Arn: aws.String(arn)})
	}
	switch {
	case f.Policy != "":
		in.Policy = aws.String(f.Policy)
	case len(f.PolicyARNs) == 0:
		in.Policy = aws.String(AllowAll)
	}
	return in
}

func (f Federation) backoff(n int) time.Duration {
	if f.Backoff != nil {
		return f.Backoff(n)
	}
	return min(time.Second<<n, 4*time.Second)
}

func (f Federation) debugf(format string, args ...any) {
	if f.Debugf != nil {
		f.Debugf(format, args...)
	}
}

// unknownKey reports whether STS refused the key as unknown, which for a
// key IAM just created means "not yet".
func unknownKey(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "InvalidClientTokenId"
}

// STSError is STS refusing GetFederationToken, with AWS's error code.
type STSError struct {
	Code, Message string
}

func (e *STSError) Error() string {
	return fmt.Sprintf("sts:GetFederationToken: STS answered %s: %s", e.Code, e.Message)
}

// stsError words err for users: AWS's code and message, or what failed on
// the way; the SDK's own wording repeats the operation and request ids.
func stsError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errors.New("sts:GetFederationToken: STS did not answer in time")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &STSError{Code: ae.ErrorCode(), Message: ae.ErrorMessage()}
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		err = stripURL(oe.Err)
	}
	return fmt.Errorf("sts:GetFederationToken: %w", err)
}

// fromSTS checks and returns the credentials of GetFederationToken's answer.
func fromSTS(out *sts.GetFederationTokenOutput) (Credentials, time.Time, error) {
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return Credentials{}, time.Time{}, errors.New("sts:GetFederationToken: the answer lacks credentials")
	}
	return Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey,
		SessionToken: *c.SessionToken}, *c.Expiration, nil
}

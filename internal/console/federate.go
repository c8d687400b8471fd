package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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
//
// The request is STS's query API, signed with aws-sdk-go-v2's SigV4
// signer. The SDK's STS client would do the same, but linking it costs every
// credential_process run, cache hits included, about half a millisecond of
// package initialisation (its endpoint rules and schemas); the signer alone
// costs nothing measurable.
func Federate(ctx context.Context, creds Credentials, f Federation) (Credentials, time.Time, error) {
	propagation := f.Propagation
	if propagation == 0 {
		propagation = Propagation
	}
	deadline := time.Now().Add(propagation)
	for n := 0; ; n++ {
		c, exp, err := f.call(ctx, creds)
		if err == nil {
			return c, exp, nil
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

// STSEndpoint is the regional STS endpoint of region.
func STSEndpoint(region string) string {
	if PartitionOf(region).ID == "aws-cn" {
		return "https://sts." + region + ".amazonaws.com.cn"
	}
	return "https://sts." + region + ".amazonaws.com"
}

// call sends one signed GetFederationToken request and reads its answer.
func (f Federation) call(ctx context.Context, creds Credentials) (Credentials, time.Time, error) {
	endpoint := f.Endpoint
	if endpoint == "" {
		endpoint = STSEndpoint(f.Region)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("STS endpoint %q: %w", endpoint, err)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	body := f.form().Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		return Credentials{}, time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	key := aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}
	if err := v4.NewSigner().SignHTTP(ctx, key, req, hex.EncodeToString(sum[:]), "sts", f.Region, time.Now()); err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("sign the request: %w", err)
	}
	httpClient := f.HTTP
	if httpClient == nil {
		httpClient = HTTPClient()
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return Credentials{}, time.Time{}, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return Credentials{}, time.Time{}, err
	}
	if len(answer) > maxAnswer {
		return Credentials{}, time.Time{}, fmt.Errorf("the answer is larger than %d KiB", maxAnswer>>10)
	}
	return parseAnswer(resp.StatusCode, answer)
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
		q.Set("Policy", AllowAll)
	}
	return q
}

// stsAnswer is GetFederationToken's answer, or STS's error document.
type stsAnswer struct {
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"GetFederationTokenResult>Credentials"`
	Error struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
}

// parseAnswer checks and returns the credentials of an answer, or STS's
// error as an *STSError.
func parseAnswer(status int, body []byte) (Credentials, time.Time, error) {
	var a stsAnswer
	if err := xml.Unmarshal(body, &a); err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("STS answered %d with no document it could read", status)
	}
	if status != http.StatusOK {
		if a.Error.Code == "" {
			return Credentials{}, time.Time{}, fmt.Errorf("STS answered %d without an error code", status)
		}
		return Credentials{}, time.Time{}, &STSError{Code: a.Error.Code, Message: a.Error.Message}
	}
	c := a.Credentials
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" || err != nil {
		return Credentials{}, time.Time{}, errors.New("the answer lacks credentials")
	}
	return Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, exp, nil
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
	var se *STSError
	return errors.As(err, &se) && se.Code == "InvalidClientTokenId"
}

// STSError is STS refusing GetFederationToken, with AWS's error code.
type STSError struct {
	Code, Message string
}

func (e *STSError) Error() string {
	return fmt.Sprintf("sts:GetFederationToken: STS answered %s: %s", e.Code, e.Message)
}

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

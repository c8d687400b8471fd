// Package sts calls AWS STS's query API with credentials in hand: one
// request signed with aws-sdk-go-v2's SigV4 signer, its answer read bounded,
// and the wait for an access key that IAM created a moment ago to reach STS
// (IAM is eventually consistent). The SDK's STS client would do the same,
// but linking it costs every credential_process run, cache hits included,
// about half a millisecond of package initialisation (its endpoint rules and
// schemas); the signer alone costs nothing measurable.
package sts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxAnswer bounds what is read of an answer: STS's are a few KiB.
const maxAnswer = 64 << 10

// Propagation bounds the wait for a new IAM access key to reach STS: Vault
// hands out an iam_user's key as soon as IAM created it.
const Propagation = 20 * time.Second

// Keys are the credentials a request is signed with.
type Keys struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Call is one STS request.
type Call struct {
	Endpoint string // STS endpoint URL
	Region   string // for the signature
	HTTP     *http.Client
	Keys     Keys
	Form     url.Values // Action, Version and the action's parameters
}

// Error is STS refusing a request, with AWS's error code.
type Error struct {
	Action, Code, Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sts:%s: STS answered %s: %s", e.Action, e.Code, e.Message)
}

// unknownKey reports whether STS refused the key as unknown, which for a key
// IAM just created means "not yet".
func unknownKey(err error) bool {
	var se *Error
	return errors.As(err, &se) && se.Code == "InvalidClientTokenId"
}

// Do sends the call and returns the answer's body (status 200), or STS's
// error as an *Error.
func (c Call) Do(ctx context.Context) ([]byte, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("STS endpoint %q: %w", c.Endpoint, err)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	body := c.Form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", FormType)
	if err := Sign(ctx, req, []byte(body), c.Keys, c.Region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(answer) > maxAnswer {
		return nil, fmt.Errorf("the answer is larger than %d KiB", maxAnswer>>10)
	}
	if resp.StatusCode == http.StatusOK {
		return answer, nil
	}
	var doc struct {
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	}
	if xml.Unmarshal(answer, &doc) != nil || doc.Code == "" {
		return nil, fmt.Errorf("STS answered %d without an error code", resp.StatusCode)
	}
	return nil, &Error{Action: c.Form.Get("Action"), Code: doc.Code, Message: doc.Message}
}

// FormType is the Content-Type of a query API request's form body.
const FormType = "application/x-www-form-urlencoded; charset=utf-8"

// Sign signs req, whose body is body, for STS in region with keys
// (SigV4, at now): the headers it adds are X-Amz-Date, Authorization and,
// with a session token, X-Amz-Security-Token. Every header req already has
// is signed too. It is the one place the helper signs: the calls above, and
// the request Vault's aws auth method sends to STS on the helper's behalf.
func Sign(ctx context.Context, req *http.Request, body []byte, keys Keys, region string, now time.Time) error {
	sum := sha256.Sum256(body)
	key := aws.Credentials{AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey, SessionToken: keys.SessionToken}
	if err := v4.NewSigner().SignHTTP(ctx, key, req, hex.EncodeToString(sum[:]), "sts", region, now); err != nil {
		return fmt.Errorf("sign the request: %w", err)
	}
	return nil
}

// Retry runs call until it succeeds, or fails otherwise than with a key STS
// does not know yet, or propagation has passed, or ctx ends: the wait for a
// new access key. backoff(n) is the wait before retry n (0, 1, ...).
func Retry[T any](ctx context.Context, propagation time.Duration, backoff func(int) time.Duration,
	debugf func(string, ...any), call func() (T, error)) (T, error) {
	deadline := time.Now().Add(propagation)
	for n := 0; ; n++ {
		v, err := call()
		if err == nil || !unknownKey(err) {
			return v, err
		}
		wait := backoff(n)
		if time.Now().Add(wait).After(deadline) {
			return v, err
		}
		debugf("STS does not know the IAM key yet (InvalidClientTokenId): retry in %s", wait)
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(wait):
		}
	}
}

// Backoff is the default wait before retry n: 1 s, 2 s, then 4 s.
func Backoff(n int) time.Duration { return min(time.Second<<n, 4*time.Second) }

// CallerIdentity asks STS whom keys belong to (GetCallerIdentity, which
// every valid key may call) and returns the account, waiting up to
// propagation for keys IAM just created.
func CallerIdentity(ctx context.Context, c Call, propagation time.Duration, backoff func(int) time.Duration,
	debugf func(string, ...any)) (account string, err error) {
	id, err := Caller(ctx, c, propagation, backoff, debugf)
	return id.Account, err
}

// Identity is GetCallerIdentity's answer.
type Identity struct {
	Account string // 12 digits
	Arn     string // the principal: an IAM user, or a role's session
	UserID  string
}

// GetCallerIdentity is the query API form of sts:GetCallerIdentity.
func GetCallerIdentity() url.Values {
	return url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
}

// Caller is CallerIdentity with the whole answer: the ARN too.
func Caller(ctx context.Context, c Call, propagation time.Duration, backoff func(int) time.Duration,
	debugf func(string, ...any)) (Identity, error) {
	c.Form = GetCallerIdentity()
	body, err := Retry(ctx, propagation, backoff, debugf, func() ([]byte, error) { return c.Do(ctx) })
	if err != nil {
		return Identity{}, err
	}
	var doc struct {
		Account string `xml:"GetCallerIdentityResult>Account"`
		Arn     string `xml:"GetCallerIdentityResult>Arn"`
		UserID  string `xml:"GetCallerIdentityResult>UserId"`
	}
	if xml.Unmarshal(body, &doc) != nil || !accountID(doc.Account) {
		return Identity{}, errors.New("sts:GetCallerIdentity: the answer has no account")
	}
	return Identity{Account: doc.Account, Arn: doc.Arn, UserID: doc.UserID}, nil
}

func accountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

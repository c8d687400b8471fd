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

// UnknownKey reports whether STS refused the key as unknown, which for a key
// IAM just created means "not yet".
func UnknownKey(err error) bool {
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
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	key := aws.Credentials{AccessKeyID: c.Keys.AccessKeyID, SecretAccessKey: c.Keys.SecretAccessKey, SessionToken: c.Keys.SessionToken}
	if err := v4.NewSigner().SignHTTP(ctx, key, req, hex.EncodeToString(sum[:]), "sts", c.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign the request: %w", err)
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

// Retry runs call until it succeeds, or fails otherwise than with a key STS
// does not know yet, or propagation has passed, or ctx ends: the wait for a
// new access key. backoff(n) is the wait before retry n (0, 1, ...).
func Retry[T any](ctx context.Context, propagation time.Duration, backoff func(int) time.Duration,
	debugf func(string, ...any), call func() (T, error)) (T, error) {
	deadline := time.Now().Add(propagation)
	for n := 0; ; n++ {
		v, err := call()
		if err == nil || !UnknownKey(err) {
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
	c.Form = url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
	body, err := Retry(ctx, propagation, backoff, debugf, func() ([]byte, error) { return c.Do(ctx) })
	if err != nil {
		return "", err
	}
	var doc struct {
		Account string `xml:"GetCallerIdentityResult>Account"`
	}
	if xml.Unmarshal(body, &doc) != nil || !accountID(doc.Account) {
		return "", errors.New("sts:GetCallerIdentity: the answer has no account")
	}
	return doc.Account, nil
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

package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Bounds of the federation endpoint's answer. A sign-in token is a few
// hundred to a few thousand characters.
const (
	maxAnswer      = 64 << 10
	maxSigninToken = 16 << 10
	requestTimeout = 30 * time.Second // one request, under the caller's deadline
)

// RefusedError is the federation endpoint answering with a status other
// than 200. Its message has the status only: the body could echo the query,
// which holds the credentials.
type RefusedError struct {
	Status int
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the federation endpoint answered %d %s", e.Status, http.StatusText(e.Status))
}

// HTTPClient is a client with bounded waits that follows no redirect: the
// credentials are in the query, and go to the endpoint named and nowhere
// else. Proxies come from the environment, as for every AWS client.
func HTTPClient() *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: requestTimeout,
			IdleConnTimeout:       30 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("the federation endpoint redirected elsewhere")
		},
	}
}

// sessionJSON is the Session parameter of getSigninToken: the credentials
// as the federation endpoint names them.
func sessionJSON(c Credentials) ([]byte, error) {
	return json.Marshal(struct {
		SessionID    string `json:"sessionId"`
		SessionKey   string `json:"sessionKey"`
		SessionToken string `json:"sessionToken"`
	}{c.AccessKeyID, c.SecretAccessKey, c.SessionToken})
}

// signinToken asks the federation endpoint for a sign-in token for creds,
// which must hold a session token (assumed-role or federation token
// credentials). sessionDuration, when not zero, is the console session's
// length: AWS accepts it only for assumed-role credentials, from
// minDuration to maxSessionDuration. The request is a GET, as AWS
// documents it; the credentials travel in its query, over TLS.
func signinToken(ctx context.Context, client *http.Client, endpoint string, creds Credentials, sessionDuration time.Duration) (string, error) {
	if creds.SessionToken == "" {
		return "", errors.New("the federation endpoint takes temporary credentials only, these have no session token")
	}
	session, err := sessionJSON(creds)
	if err != nil {
		return "", fmt.Errorf("encode the session: %w", err)
	}
	q := url.Values{}
	q.Set("Action", "getSigninToken")
	q.Set("Session", string(session))
	if sessionDuration != 0 {
		q.Set("SessionDuration", strconv.FormatInt(int64(sessionDuration/time.Second), 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+q.Encode(), nil)
	if err != nil {
		// url.Parse errors quote the URL: keep only that it failed.
		return "", errors.New("build the request to the federation endpoint")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", requestError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return "", fmt.Errorf("read the federation endpoint's answer: %w", requestError(ctx, err))
	}
	if resp.StatusCode != http.StatusOK {
		return "", &RefusedError{Status: resp.StatusCode}
	}
	if len(body) > maxAnswer {
		return "", fmt.Errorf("the federation endpoint's answer is larger than %d KiB", maxAnswer>>10)
	}
	return parseSigninToken(body)
}

// parseSigninToken reads {"SigninToken": "..."}; a token is printable
// ASCII without spaces, as it must be to travel in a URL.
func parseSigninToken(body []byte) (string, error) {
	var answer struct {
		SigninToken string `json:"SigninToken"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return "", errors.New("the federation endpoint's answer is not valid JSON")
	}
	t := answer.SigninToken
	if t == "" {
		return "", errors.New("the federation endpoint's answer has no SigninToken")
	}
	if len(t) > maxSigninToken {
		return "", fmt.Errorf("the sign-in token has %d bytes, more than %d", len(t), maxSigninToken)
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] > '~' {
			return "", errors.New("the sign-in token holds a character other than printable ASCII")
		}
	}
	return t, nil
}

// requestError is err without the request URL, which holds the
// credentials: *url.Error quotes it.
func requestError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); errors.Is(ctxErr, context.DeadlineExceeded) {
		return errors.New("the federation endpoint did not answer in time")
	} else if ctxErr != nil {
		return ctxErr
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("the federation endpoint did not answer in time")
		}
		return fmt.Errorf("reach the federation endpoint: %w", stripURL(ue.Err))
	}
	return stripURL(err)
}

// stripURL drops any *url.Error still wrapped in err (a redirect refusal
// is one inside another), keeping its cause.
func stripURL(err error) error {
	var ue *url.Error
	for errors.As(err, &ue) {
		err = ue.Err
	}
	return err
}

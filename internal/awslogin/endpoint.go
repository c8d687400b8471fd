package awslogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/sts"
)

// Where ECS and EKS serve container credentials, and EC2 instance metadata.
const (
	ecsHost          = "169.254.170.2"
	defaultIMDS      = "http://169.254.169.254"
	imdsTokenTTL     = "60" // seconds: the token is used at once
	localHTTPTimeout = 10 * time.Second
)

// containerHosts may be reached over plain http with the authorization
// token, as the AWS SDKs allow: ECS, EKS Pod Identity (IPv4 and IPv6) and
// this machine.
var containerHosts = []string{ecsHost, "169.254.170.23", "fd00:ec2::23"}

// localHTTPClient reaches the container endpoint and instance metadata:
// never through a proxy (the answer holds keys, the request a token) and
// never redirected (the token would follow).
func localHTTPClient() *http.Client {
	return &http.Client{
		Timeout: localHTTPTimeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: localHTTPTimeout}).DialContext,
			ResponseHeaderTimeout: localHTTPTimeout,
			DisableKeepAlives:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("the credentials endpoint redirected elsewhere")
		},
	}
}

// stsHTTPClient reaches STS, through a proxy when the environment names one.
func stsHTTPClient() *http.Client {
	return &http.Client{
		Timeout: localHTTPTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   localHTTPTimeout,
			ResponseHeaderTimeout: localHTTPTimeout,
			DisableKeepAlives:     true,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("STS redirected elsewhere")
		},
	}
}

func (s *Source) http() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return localHTTPClient()
}

// containerURL is the container credentials endpoint, as the AWS SDKs find
// it: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on ECS's address, else
// AWS_CONTAINER_CREDENTIALS_FULL_URI, over https or to an address of
// containerHosts or this machine.
func (s *Source) containerURL() (string, error) {
	if rel := s.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		if !strings.HasPrefix(rel, "/") {
			return "", s.usage("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI does not start with /", "")
		}
		return "http://" + ecsHost + rel, nil
	}
	full := s.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if full == "" {
		return "", s.usage("neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
			"run in an ECS task or EKS pod that has a role, or choose another source in the auth table")
	}
	u, err := url.Parse(full)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", s.usage("AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL", "")
	}
	if u.Scheme == "http" && !localHost(u.Hostname()) {
		return "", s.usage("AWS_CONTAINER_CREDENTIALS_FULL_URI is plain http to "+u.Hostname(),
			"plain http goes only to this machine or the container endpoints of ECS and EKS (169.254.170.2, 169.254.170.23); use https")
	}
	return full, nil
}

func localHost(h string) bool {
	for _, c := range containerHosts {
		if h == c {
			return true
		}
	}
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// containerKeys asks the container endpoint, with the authorization token
// of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else
// AWS_CONTAINER_AUTHORIZATION_TOKEN, when one is set.
func (s *Source) containerKeys(ctx context.Context) (sts.Keys, error) {
	u, err := s.containerURL()
	if err != nil {
		return sts.Keys{}, err
	}
	token := s.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
	if f := s.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); f != "" {
		b, err := readSmall(f)
		if err != nil {
			return sts.Keys{}, s.fileError(f, err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if strings.ContainsAny(token, "\r\n") {
		return sts.Keys{}, s.usage("the container authorization token has a line break in it", "")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return sts.Keys{}, s.usage("AWS_CONTAINER_CREDENTIALS_FULL_URI: "+err.Error(), "")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	s.debugf("auth aws: credentials from the container endpoint %s", redact(u))
	body, err := s.fetch(req)
	if err != nil {
		return sts.Keys{}, err
	}
	return s.endpointKeys(body)
}

// imdsEndpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT, else EC2's address.
func (s *Source) imdsEndpoint() (string, error) {
	if strings.EqualFold(strings.TrimSpace(s.Getenv("AWS_EC2_METADATA_DISABLED")), "true") {
		return "", s.usage("AWS_EC2_METADATA_DISABLED is true", "unset it, or choose another source in the auth table")
	}
	e := strings.TrimRight(s.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"), "/")
	if e == "" {
		return defaultIMDS, nil
	}
	if u, err := url.Parse(e); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", s.usage("AWS_EC2_METADATA_SERVICE_ENDPOINT is not an http(s) URL", "")
	}
	return e, nil
}

// imdsKeys is IMDSv2: a session token (PUT), the instance profile's role
// name, then its credentials.
func (s *Source) imdsKeys(ctx context.Context) (sts.Keys, error) {
	e, err := s.imdsEndpoint()
	if err != nil {
		return sts.Keys{}, err
	}
	s.debugf("auth aws: credentials from instance metadata at %s", e)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, e+"/latest/api/token", nil)
	if err != nil {
		return sts.Keys{}, s.usage("AWS_EC2_METADATA_SERVICE_ENDPOINT: "+err.Error(), "")
	}
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", imdsTokenTTL)
	token, err := s.fetch(req)
	if err != nil {
		return sts.Keys{}, err
	}
	get := func(path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e+path, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-aws-ec2-metadata-token", strings.TrimSpace(string(token)))
		return s.fetch(req)
	}
	const creds = "/latest/meta-data/iam/security-credentials/"
	names, err := get(creds)
	if err != nil {
		return sts.Keys{}, err
	}
	role, _, _ := strings.Cut(strings.TrimSpace(string(names)), "\n")
	role = strings.TrimSpace(role)
	if role == "" || strings.ContainsAny(role, "/?#%\\") || role == "." || role == ".." {
		return sts.Keys{}, s.failure("instance metadata names no instance profile role", "attach an instance profile with a role to the instance, or choose another source")
	}
	body, err := get(creds + role)
	if err != nil {
		return sts.Keys{}, err
	}
	return s.endpointKeys(body)
}

// fetch sends req and returns the body of a 200 answer, read bounded.
func (s *Source) fetch(req *http.Request) ([]byte, error) {
	resp, err := s.http().Do(req)
	if err != nil {
		return nil, s.failure(fmt.Sprintf("%s %s: %s", req.Method, redact(req.URL.String()), config.OneLine(unwrapURL(err).Error())),
			"is the endpoint there? (an ECS task, EKS pod or EC2 instance with a role); or raise --timeout")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRead+1))
	switch {
	case err != nil:
		return nil, s.failure(fmt.Sprintf("%s %s: read the answer: %v", req.Method, redact(req.URL.String()), err), "")
	case len(body) > maxRead:
		return nil, s.failure(fmt.Sprintf("%s %s: the answer is larger than %d KiB", req.Method, redact(req.URL.String()), maxRead>>10), "")
	case resp.StatusCode != http.StatusOK:
		return nil, s.failure(fmt.Sprintf("%s %s: answered %d", req.Method, redact(req.URL.String()), resp.StatusCode),
			"the endpoint refused: check that the task, pod or instance has a role, and the authorization token")
	}
	return body, nil
}

// endpointDocument is what the container endpoint and instance metadata
// answer.
type endpointDocument struct {
	Code            string `json:"Code"` // instance metadata: "Success"
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
}

func (s *Source) endpointKeys(body []byte) (sts.Keys, error) {
	var doc endpointDocument
	if json.Unmarshal(body, &doc) != nil || doc.AccessKeyID == "" || doc.SecretAccessKey == "" || (doc.Code != "" && doc.Code != "Success") {
		return sts.Keys{}, s.failure("the endpoint's answer holds no credentials", "")
	}
	return sts.Keys{AccessKeyID: doc.AccessKeyID, SecretAccessKey: doc.SecretAccessKey, SessionToken: doc.Token}, nil
}

func (s *Source) usage(why, hint string) error {
	return &Error{Usage: true, Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): %s", s.what(), why), Hint: hint}
}

func (s *Source) failure(why, hint string) error {
	return &Error{Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): %s", s.what(), why), Hint: hint}
}

// redact cuts a URL's query: a container endpoint's may hold a token.
func redact(u string) string {
	before, _, _ := strings.Cut(u, "?")
	return before
}

// unwrapURL is err without url.Error's "Get "URL": " prefix, which would
// show the query redact cuts.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

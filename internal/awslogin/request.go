package awslogin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/console"
	"github.com/vault-credential-process/vault-credential-process/internal/sts"
)

// serverIDHeader is the header Vault's aws auth method checks against the
// mount's iam_server_id_header_value: signed, it binds the request to one
// Vault, so that another service given it cannot replay it elsewhere.
const serverIDHeader = "X-Vault-AWS-IAM-Server-ID"

// Default STS endpoint and region: Vault's own default (auth/<mount>/
// config/client without sts_endpoint), the global endpoint, signed for
// us-east-1.
const (
	defaultSTSEndpoint = "https://sts.amazonaws.com"
	defaultSTSRegion   = "us-east-1"
)

// Request is what the login asks of Vault, besides the keys.
type Request struct {
	Role     string // the aws auth method's role
	ServerID string // X-Vault-AWS-IAM-Server-ID; "" for none
	Region   string // STS region the request is signed for; "": see resolve
	Endpoint string // STS endpoint URL signed and sent; "": see resolve
}

// resolve is the endpoint and region the request is signed for: as set;
// without an endpoint, the region's regional endpoint; with neither,
// defaultSTSEndpoint and defaultSTSRegion. Vault sends the request to the
// sts_endpoint of the mount's config/client, so the two must agree (STS
// checks the host and region signed). Signed keys are a credential for
// fifteen minutes: plain http goes only to this machine.
func (r Request) resolve() (endpoint, region string, err error) {
	endpoint, region = r.Endpoint, r.Region
	switch {
	case endpoint == "" && region == "":
		endpoint, region = defaultSTSEndpoint, defaultSTSRegion
	case endpoint == "":
		endpoint = console.STSEndpoint(region)
	case region == "":
		region = defaultSTSRegion
	}
	if err := console.CheckEndpoint(endpoint); err != nil {
		return "", "", &Error{Usage: true, Err: err, Msg: "sts_endpoint of the aws auth table: " + err.Error(),
			Hint: "use https (or http to this machine only): the signed request is a credential until it expires"}
	}
	return endpoint, region, nil
}

// loginData is the body of the aws method's login: role and a POST of
// sts:GetCallerIdentity to the STS endpoint, signed with keys at now, as
// Vault's iam login reads it (builtin/credential/aws, path_login.go): the
// method, and base64 of the URL, the form body and the JSON of the headers
// (Vault takes the Host from the URL). The session token is among those
// headers: the body is a secret, sent to Vault only.
func loginData(ctx context.Context, keys sts.Keys, r Request, now time.Time) (map[string]any, error) {
	endpoint, region, err := r.resolve()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, &Error{Usage: true, Err: err, Msg: "sts_endpoint of the aws auth table: " + err.Error()}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	body := sts.GetCallerIdentity().Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		return nil, &Error{Err: err, Msg: "build the aws login request: " + err.Error()}
	}
	req.Header.Set("Content-Type", sts.FormType)
	if r.ServerID != "" {
		req.Header.Set(serverIDHeader, r.ServerID)
	}
	if err := sts.Sign(ctx, req, []byte(body), keys, region, now); err != nil {
		return nil, &Error{Err: err, Msg: "sign the aws login request: " + err.Error()}
	}
	headers, err := json.Marshal(req.Header)
	if err != nil {
		return nil, &Error{Err: err, Msg: "encode the aws login request's headers: " + err.Error()}
	}
	b64 := base64.StdEncoding.EncodeToString
	return map[string]any{
		"role":                    r.Role,
		"iam_http_request_method": http.MethodPost,
		"iam_request_url":         b64([]byte(u.String())),
		"iam_request_body":        b64([]byte(body)),
		"iam_request_headers":     b64(headers),
	}, nil
}

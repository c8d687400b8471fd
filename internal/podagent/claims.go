package podagent

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// maxTokenBytes bounds the token a pod may send: a projected service
// account token is about 1 KiB; what the agent keeps per identity stays
// small.
const maxTokenBytes = 8 << 10

// claims are the parts of a JWT's payload the agent reads. Before Vault
// accepted the token they are unverified and only choose which Vault role
// to try; once Vault accepted it they are the token's, signed.
type claims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	Expiry   int64    `json:"exp"`
	K8s      struct {
		Namespace      string `json:"namespace"`
		ServiceAccount struct {
			Name string `json:"name"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

// audience is aud, a string or a list of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor a list of strings")
	}
	*a = many
	return nil
}

// errMalformed is a token that is no JWT at all.
var errMalformed = errors.New("the authorization token is not a JWT")

// parseClaims reads a JWT's payload without verifying anything.
func parseClaims(token string) (*claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[2] == "" {
		return nil, errMalformed
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errMalformed
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errMalformed
	}
	return &c, nil
}

// expiry is exp as a time; the zero time when there is none.
func (c *claims) expiry() time.Time {
	if c.Expiry == 0 {
		return time.Time{}
	}
	return time.Unix(c.Expiry, 0).UTC()
}

// pod is the namespace and service account the token names: Kubernetes
// writes them in the kubernetes.io claim and in sub
// (system:serviceaccount:NAMESPACE:NAME).
func (c *claims) pod() (namespace, serviceAccount string) {
	if c.K8s.Namespace != "" {
		return c.K8s.Namespace, c.K8s.ServiceAccount.Name
	}
	if rest, ok := strings.CutPrefix(c.Subject, "system:serviceaccount:"); ok {
		if ns, sa, ok := strings.Cut(rest, ":"); ok {
			return ns, sa
		}
	}
	return "", ""
}

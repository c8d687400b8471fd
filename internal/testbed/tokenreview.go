package testbed

// A Kubernetes API server's TokenReview endpoint on 127.0.0.1, for Vault's kubernetes
// auth method: Vault sends it every service account token a login presents, and it
// verifies the token as the API server verifies those it issued (signature, expiry,
// audience), with a key the test controls.

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// TokenReviewPath is where the API server answers TokenReviews.
const TokenReviewPath = "/apis/authentication.k8s.io/v1/tokenreviews"

// TokenReview is a fake kube-apiserver that answers TokenReviews only. Make one with
// StartTokenReview; Close stops it.
type TokenReview struct {
	// URL is its address, for auth/<mount>/config kubernetes_host.
	URL string
	// ReviewerJWT is the bearer token Vault must send (token_reviewer_jwt); other
	// callers get 401, as from an API server.
	ReviewerJWT string
	// APIAudiences are the audiences a token must have when a review names none,
	// as the API server's --api-audiences (its issuer by default).
	APIAudiences []string

	key    *rsa.PublicKey
	issuer string
	now    func() time.Time
	srv    *httptest.Server

	mu      sync.Mutex
	reviews int
}

// StartTokenReview starts the endpoint, which trusts tokens signed (RS256) by the
// private half of key and issued by issuer; reviewer is the bearer token Vault
// will present.
func StartTokenReview(key *rsa.PublicKey, issuer, reviewer string) *TokenReview {
	tr := &TokenReview{ReviewerJWT: reviewer, APIAudiences: []string{issuer}, key: key, issuer: issuer, now: time.Now}
	tr.srv = httptest.NewServer(http.HandlerFunc(tr.serve))
	tr.URL = tr.srv.URL
	return tr
}

// Close stops the endpoint.
func (tr *TokenReview) Close() { tr.srv.Close() }

// Reviews is how many TokenReviews it has answered.
func (tr *TokenReview) Reviews() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.reviews
}

// tokenReview is the TokenReview object of authentication.k8s.io/v1, in the parts
// Vault sends and reads.
type tokenReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Token     string   `json:"token"`
		Audiences []string `json:"audiences,omitempty"`
	} `json:"spec"`
	Status reviewStatus `json:"status"`
}

type reviewStatus struct {
	Authenticated bool      `json:"authenticated"`
	User          *userInfo `json:"user,omitempty"`
	Audiences     []string  `json:"audiences,omitempty"`
	Error         string    `json:"error,omitempty"`
}

type userInfo struct {
	Username string   `json:"username"`
	UID      string   `json:"uid"`
	Groups   []string `json:"groups"`
}

func (tr *TokenReview) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+tr.ReviewerJWT {
		http.Error(w, `{"kind":"Status","status":"Failure","reason":"Unauthorized","code":401}`, http.StatusUnauthorized)
		return
	}
	var review tokenReview
	if r.Method != http.MethodPost || r.URL.Path != TokenReviewPath || json.NewDecoder(r.Body).Decode(&review) != nil {
		http.Error(w, `{"kind":"Status","status":"Failure","reason":"BadRequest","code":400}`, http.StatusBadRequest)
		return
	}
	tr.mu.Lock()
	tr.reviews++
	tr.mu.Unlock()
	wanted := review.Spec.Audiences
	if len(wanted) == 0 {
		wanted = tr.APIAudiences
	}
	user, auds, err := tr.verify(review.Spec.Token, wanted)
	review.Status = reviewStatus{Authenticated: err == nil, User: user, Audiences: auds}
	if err != nil {
		review.Status = reviewStatus{Error: "[invalid bearer token, " + err.Error() + "]"}
	}
	review.APIVersion, review.Kind = "authentication.k8s.io/v1", "TokenReview"
	review.Spec.Token = "" // as the API server: the answer does not echo the token
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(review)
}

// saClaims are the claims of a projected service account token.
type saClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expiry   int64           `json:"exp"`
	NotBef   int64           `json:"nbf"`
	K8s      struct {
		Namespace      string `json:"namespace"`
		ServiceAccount struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

// verify checks token as the API server would, and returns whom it authenticates and
// which of the wanted audiences it has.
func (tr *TokenReview) verify(token string, wanted []string) (*userInfo, []string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodePart(parts[0], &header); err != nil || header.Alg != "RS256" {
		return nil, nil, errors.New("unexpected header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, nil, errors.New("malformed signature")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(tr.key, crypto.SHA256, sum[:], sig) != nil {
		return nil, nil, errors.New("square/go-jose: error in cryptographic primitive")
	}
	var c saClaims
	if err := decodePart(parts[1], &c); err != nil {
		return nil, nil, errors.New("malformed claims")
	}
	now := tr.now().Unix()
	switch {
	case c.Issuer != tr.issuer:
		return nil, nil, errors.New("token issuer is not trusted")
	case c.Expiry <= now:
		return nil, nil, errors.New("token has expired")
	case c.NotBef > now:
		return nil, nil, errors.New("token is not valid yet")
	case c.K8s.Namespace == "" || c.K8s.ServiceAccount.Name == "":
		return nil, nil, errors.New("not a service account token")
	}
	var auds []string
	if json.Unmarshal(c.Audience, &auds) != nil {
		var one string
		if json.Unmarshal(c.Audience, &one) != nil {
			return nil, nil, errors.New("malformed audience")
		}
		auds = []string{one}
	}
	var match []string
	for _, a := range wanted {
		if slices.Contains(auds, a) {
			match = append(match, a)
		}
	}
	if len(match) == 0 {
		return nil, nil, errors.New("token audiences is invalid for the target audiences")
	}
	sa := fmt.Sprintf("system:serviceaccount:%s:%s", c.K8s.Namespace, c.K8s.ServiceAccount.Name)
	return &userInfo{Username: sa, UID: c.K8s.ServiceAccount.UID,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + c.K8s.Namespace, "system:authenticated"}}, match, nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

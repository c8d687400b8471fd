package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// The IMDSv2 emulation: the paths and headers of EC2's instance metadata
// service that the SDKs use for credentials, and nothing else.
const (
	imdsPrefix      = "/latest/"
	imdsTokenPath   = "/latest/api/token"
	imdsCredsPath   = "/latest/meta-data/iam/security-credentials/"
	imdsTTLHeader   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	imdsTokenHeader = "X-Aws-Ec2-Metadata-Token"
	imdsMaxTTL      = 21600 // seconds, as EC2
)

// imds issues and checks session tokens. A token is self-contained: its
// expiry and a random nonce, signed with a key of this process, so the
// server keeps no table that clients could grow.
type imds struct {
	key [32]byte
	now func() time.Time
}

func newIMDS(now func() time.Time) (*imds, error) {
	m := &imds{now: now}
	if _, err := rand.Read(m.key[:]); err != nil {
		return nil, fmt.Errorf("make the IMDS token key: %w", err)
	}
	return m, nil
}

// oneSlash is path with every run of slashes made one. The SDKs join
// AWS_EC2_METADATA_SERVICE_ENDPOINT and the path each their own way: with
// http://ADDR/ the JS SDK v2 asks for //latest/api/token, while the aws
// CLI v2 appends latest/... to the endpoint as it is (and without the
// final slash would ask for ADDRlatest/...). Accepting both forms lets one
// printed endpoint serve every client.
func oneSlash(path string) string {
	if !strings.Contains(path, "//") {
		return path
	}
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] == '/' && i > 0 && path[i-1] == '/' {
			continue
		}
		b.WriteByte(path[i])
	}
	return b.String()
}

// handle answers a request for path (the request's, its slashes made one).
func (m *imds) handle(w http.ResponseWriter, r *http.Request, path string, s *Server) outcome {
	// As EC2 does: a request relayed by a proxy (the sign of a server-side
	// request forgery) is refused, whatever it asks. Present at all is
	// enough: an empty value, or one header of several, is a proxy's too.
	if _, relayed := r.Header["X-Forwarded-For"]; relayed {
		return refuse(w, http.StatusForbidden, "forwarded", "requests with X-Forwarded-For are refused")
	}
	if path == imdsTokenPath {
		return m.issue(w, r)
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return refuse(w, http.StatusMethodNotAllowed, "method", "only GET")
	}
	if !m.valid(r.Header.Get(imdsTokenHeader)) {
		return refuse(w, http.StatusUnauthorized, "unauthorized", "missing, wrong or expired "+imdsTokenHeader)
	}
	// The role list, as EC2 answers it, with the final slash or without.
	name, ok := strings.CutPrefix(path, imdsCredsPath)
	if path+"/" == imdsCredsPath {
		name, ok = "", true
	}
	if !ok {
		return refuse(w, http.StatusNotFound, "not_found", "not emulated")
	}
	if name == "" {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(strings.Join(s.Names(), "\n")))
		return outcome{status: http.StatusOK}
	}
	p := s.byName[name]
	if p == nil {
		return refuse(w, http.StatusNotFound, "not_found", "no such role")
	}
	return s.serveCreds(w, r, p, name, func(c *process.Credentials) any { return imdsCreds(c) })
}

// issue answers PUT /latest/api/token with a token for the TTL asked.
func (m *imds) issue(w http.ResponseWriter, r *http.Request) outcome {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", http.MethodPut)
		return refuse(w, http.StatusMethodNotAllowed, "method", "only PUT")
	}
	ttl, err := strconv.Atoi(r.Header.Get(imdsTTLHeader))
	if err != nil || ttl < 1 || ttl > imdsMaxTTL {
		return refuse(w, http.StatusBadRequest, "bad_ttl", imdsTTLHeader+" must be 1 to 21600")
	}
	tok, err := m.token(m.now().Add(time.Duration(ttl) * time.Second))
	if err != nil {
		return refuse(w, http.StatusInternalServerError, "token", "could not make a token")
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set(imdsTTLHeader, strconv.Itoa(ttl))
	_, _ = w.Write([]byte(tok))
	return outcome{status: http.StatusOK}
}

func (m *imds) token(expires time.Time) (string, error) {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(expires.Unix()))
	if _, err := rand.Read(b[8:]); err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, m.key[:])
	mac.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(mac.Sum(b[:])), nil
}

// valid checks a token's signature (in constant time) and expiry.
func (m *imds) valid(tok string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 8+16+sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, m.key[:])
	mac.Write(raw[:24])
	if !hmac.Equal(mac.Sum(nil), raw[24:]) {
		return false
	}
	return m.now().Before(time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0))
}

// imdsDoc is EC2's security-credentials document.
type imdsDoc struct {
	Code            string `json:"Code"`
	LastUpdated     string `json:"LastUpdated"`
	Type            string `json:"Type"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

func imdsCreds(c *process.Credentials) imdsDoc {
	return imdsDoc{Code: "Success", LastUpdated: c.IssuedAt.UTC().Format(time.RFC3339), Type: "AWS-HMAC",
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken,
		Expiration: c.Expiration.UTC().Format(time.RFC3339)}
}

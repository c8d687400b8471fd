package process

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/awslogin"
	"github.com/vault-credential-process/vault-credential-process/internal/child"
	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
)

// Who a login proves, for the cache keys.
//
// The settings of jwt, kubernetes and cert logins say where the secret is
// (a variable, a file), not whose it is: two CI jobs of one runner user with
// the same jwt_env hold different JWTs. Keyed by the settings alone, job B
// would be handed job A's credentials and login token. So the keys of these
// methods include what the secret proves: a JWT's issuer, subject and
// audience, a client certificate's SHA-256 fingerprint.
//
// That read happens on every run, cache hits included, before the cache is
// looked up: there is no other way to tell two identities apart. It reads
// one small file (or a variable) and decodes it, without verifying the
// signature (Vault does that at login) and without using it for anything
// but the key; the secret is sent to Vault only on a miss, as before. A
// rotated JWT of the same subject keys the same entry, so it still reuses
// the login and the credentials.
//
// oidc has nothing to read before the login: whoever signs in at the
// browser is known only from Vault's answer. Its key is the mount and role
// (one person per OS account and cache folder); the entity Vault names is
// kept in the token file and shown with --debug, not keyed, since a cache
// hit must not wait for a browser to find out whose it is.
//
// aws is keyed by what tells the signing principal apart without a request
// (internal/awslogin's Source.Identity): the access key id of keys in the
// environment or a profile, which belongs to one principal; the profile and
// command of a credential_process; the container endpoint's URL; the
// instance metadata endpoint. Asking STS for the ARN, running the
// credential_process or the endpoint would make every hit wait on them; the
// ARN is asked on a login only.

// maxProofSize bounds the JWT or certificate file read on every run.
const maxProofSize = 64 << 10

// jwtAlgorithms are the signature algorithms a JWT may name to be decoded
// for its claims. The signature is not checked here.
var jwtAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384,
	jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.HS256, jose.HS384, jose.HS512}

// ProofIdentity returns, as name/value pairs, who the secret of a jwt,
// kubernetes or cert login proves; nil for the other methods, whose
// settings name the identity (role_id, username). getenv reads jwt_env.
func ProofIdentity(a *config.Auth, getenv func(string) string) ([]string, error) {
	switch a.Method {
	case config.AuthJWT, config.AuthKubernetes:
		var raw string
		if a.JWTEnv != "" {
			if err := EnvSet(getenv, "jwt_env", a.JWTEnv); err != nil {
				return nil, err
			}
			raw = strings.TrimSpace(getenv(a.JWTEnv))
		} else {
			b, err := ReadProof(a.JWTFile)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && a.Method == config.AuthKubernetes && a.JWTFile == config.DefaultKubernetesJWTFile {
					return nil, &Error{Code: ExitUsage, Err: err,
						Msg:  "read the service account token " + a.JWTFile + ": no such file (not in a Kubernetes pod?)",
						Hint: "run in a pod with a service account token, or set jwt_file in the auth table"}
				}
				return nil, FileError(err, "jwt_file", a.JWTFile)
			}
			raw = strings.TrimSpace(string(b))
		}
		if raw == "" {
			return nil, &Error{Code: ExitUsage, Msg: "the JWT in " + SecretSource(*a) + " is empty",
				Hint: "put the token there, or name another source in the auth table"}
		}
		return jwtIdentity(raw), nil
	case config.AuthCert:
		b, err := ReadProof(a.ClientCert)
		if err != nil {
			return nil, FileError(err, "client_cert", a.ClientCert)
		}
		fp, err := certFingerprint(b)
		if err != nil {
			return nil, &Error{Code: ExitUsage, Msg: fmt.Sprintf("read client_cert %s: %v", a.ClientCert, err),
				Hint: "client_cert (or VAULT_CLIENT_CERT) must be a PEM certificate file"}
		}
		return []string{"cert_sha256", fp}, nil
	case config.AuthAWS:
		id, err := AWSSource(a, 0, nil, getenv, io.Discard).Identity()
		return id, AWSError(err)
	}
	return nil, nil
}

// AWSSource is the aws method's source of signing keys with this run's
// environment (getenv) and child runner, whose stderr goes to stderr;
// timeout is --timeout, for messages.
func AWSSource(a *config.Auth, timeout time.Duration, debugf func(string, ...any), getenv func(string) string, stderr io.Writer) *awslogin.Source {
	kind, profile, _ := config.AWSCredentialSource(a.Credentials) // checked by config
	return &awslogin.Source{Kind: kind, Profile: profile, Getenv: getenv, Executable: os.Executable, Debugf: debugf,
		Run: func(ctx context.Context, stdout io.Writer, name string, args ...string) error {
			c := &child.Cmd{What: "the credential_process of AWS profile " + profile, Timeout: timeout, Stdout: stdout, Stderr: stderr,
				Hint: "run the profile's credential_process by hand: it must print its document at once; or raise --timeout"}
			err := ChildError(c.Run(ctx, name, args...))
			var pe *Error
			if errors.As(err, &pe) {
				return &awslogin.Error{Msg: pe.Msg, Hint: pe.Hint, Err: err}
			}
			return err
		}}
}

// AWSError is a failure of internal/awslogin as the run reports it.
func AWSError(err error) error {
	var ae *awslogin.Error
	if !errors.As(err, &ae) {
		return err
	}
	code := ExitFailure
	if ae.Usage {
		code = ExitUsage
	}
	return &Error{Code: code, Msg: ae.Msg, Hint: ae.Hint, Err: err}
}

// perIssueClaims change with every token of the same identity: a rotated
// token keeps its key without them.
var perIssueClaims = []string{"exp", "iat", "nbf", "jti", "auth_time"}

// jwtIdentity is who a JWT names: every claim but those of perIssueClaims
// (so also the claims a Vault role may bind besides sub, such as GitHub's
// job_workflow_ref or environment), aud as a sorted list, decoded without
// verification and hashed. A token that is not a JWT keys by its own hash:
// it can then be told apart, only not reused across rotation.
func jwtIdentity(raw string) []string {
	tok, err := jwt.ParseSigned(raw, jwtAlgorithms)
	var claims map[string]any
	if err == nil {
		err = tok.UnsafeClaimsWithoutVerification(&claims)
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if err != nil || (iss == "" && sub == "") {
		sum := sha256.Sum256([]byte(raw))
		return []string{"token_sha256", hex.EncodeToString(sum[:])}
	}
	for _, c := range perIssueClaims {
		delete(claims, c)
	}
	var aud jwt.Audience // a string or a list, the same audience either way
	if b, err := json.Marshal(claims["aud"]); err == nil && aud.UnmarshalJSON(b) == nil && len(aud) > 0 {
		aud = slices.Clone(aud)
		slices.Sort(aud)
		claims["aud"] = aud
	}
	b, err := json.Marshal(claims) // map keys come out sorted
	if err != nil {
		sum := sha256.Sum256([]byte(raw))
		return []string{"token_sha256", hex.EncodeToString(sum[:])}
	}
	sum := sha256.Sum256(b)
	return []string{"iss", iss, "sub", sub, "claims_sha256", hex.EncodeToString(sum[:])}
}

// certFingerprint is the SHA-256 of the first certificate in a PEM file.
func certFingerprint(data []byte) (string, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return "", errors.New("no PEM certificate in it")
		}
		if b.Type == "CERTIFICATE" {
			sum := sha256.Sum256(b.Bytes)
			return hex.EncodeToString(sum[:]), nil
		}
	}
}

// ReadProof reads a JWT or certificate file: bounded, a FIFO refused (see
// internal/smallfile).
func ReadProof(path string) ([]byte, error) { return smallfile.Read(path, maxProofSize) }

// authIdentity is the login identity's part of the credentials cache key:
// "" for token auth, so that its keys stay what they were.
func authIdentity(a *config.Auth, getenv func(string) string) (string, error) {
	if a.IsToken() {
		return "", nil
	}
	proof, err := ProofIdentity(a, getenv)
	if err != nil {
		return "", err
	}
	parts := append([]string{"auth", a.Method, a.Mount}, a.Identity()...)
	return cache.Key(append(parts, proof...)...), nil
}

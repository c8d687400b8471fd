package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"reflect"
	"strings"
	"syscall"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// loginError explains a failed login in one line, with a hint for the
// method. It never includes the secret: Vault's error messages do not
// repeat it, and the request body is not part of any error.
func (l *login) loginError(ctx context.Context, err error, path string) error {
	if pe := process.FileError(err, secretFileKey(l.auth), secretFile(l.auth)); pe != err {
		return pe
	}
	a := l.auth
	what := "log in to Vault with " + a.Describe()
	var re *api.ResponseError
	isRE := errors.As(err, &re)
	if a.SecretIDWrapped && strings.Contains(err.Error(), "unable to unwrap") {
		e := vaultError(err, "unwrap the response-wrapped secret id from "+process.SecretSource(a), "sys/wrapping/unwrap", l.s.DisplayAddress(), ctx.Err() != nil)
		if isRE && re.StatusCode < 500 {
			e.Hint = "a wrapped secret id can be unwrapped only once, before its wrap TTL ends: put a new one in " + process.SecretSource(a) +
				" (vault write -wrap-ttl=5m -f auth/" + a.Mount + "/role/ROLE/secret-id)"
		}
		return e
	}
	e := vaultError(err, what, path, l.s.DisplayAddress(), ctx.Err() != nil)
	if a.Method == config.AuthOIDC {
		if l.oidc.Hint != nil {
			l.oidc.Hint(e, err, a)
		}
		return e
	}
	if !isRE || re.StatusCode >= 500 || re.StatusCode == 429 {
		return e
	}
	msg := strings.ToLower(ResponseMessage(re))
	switch {
	case strings.Contains(msg, "no handler for route") || re.StatusCode == 404 || re.StatusCode == 405 ||
		(re.StatusCode == 403 && a.Method != config.AuthKubernetes):
		// Vault answers 403 for a login path where nothing is mounted.
		e.Hint = fmt.Sprintf("is a %s auth method enabled at auth/%s? `vault auth list` shows the mounts; set mount in the auth table", a.Method, a.Mount)
	case a.Method == config.AuthAppRole:
		e.Hint = "check role_id and the secret id in " + process.SecretSource(a) + ": it may be wrong, expired, used up, or for another role"
	case a.Method == config.AuthKubernetes:
		e.Hint = fmt.Sprintf("check role %q: its bound service account names and namespaces must include the pod's (token from %s)", a.Role, a.JWTFile)
	case a.Method == config.AuthJWT:
		e.Hint = fmt.Sprintf("check role %q and the JWT in %s: it may be expired, or not match the role's bound audiences and claims", a.Role, process.SecretSource(a))
	case a.Method == config.AuthUserpass || a.Method == config.AuthLDAP:
		e.Hint = "check username " + a.Username + " and the password from " + process.SecretSource(a)
	case a.Method == config.AuthAWS:
		e.Hint = fmt.Sprintf("check role %q of auth/%s: its bound_iam_principal_arn must match who signed (--debug names the ARN), and iam_server_id_header_value, sts_region and sts_endpoint must agree with auth/%s/config/client", a.Role, a.Mount, a.Mount)
	case a.Method == config.AuthCert:
		e.Hint = "check that the client certificate " + a.ClientCert + " is signed by a CA that a certificate role at auth/" + a.Mount + "/certs trusts"
		if a.Name != "" {
			e.Hint = "check that the client certificate " + a.ClientCert + " is trusted by the certificate role auth/" + a.Mount + "/certs/" + a.Name
		}
	}
	return e
}

func secretFileKey(a config.Auth) string {
	switch {
	case a.SecretIDFile != "":
		return "secret_id_file"
	case a.PasswordFile != "":
		return "password_file"
	case a.JWTFile != "":
		return "jwt_file"
	}
	return ""
}

func secretFile(a config.Auth) string {
	return a.SecretIDFile + a.PasswordFile + a.JWTFile
}

// vaultError turns an error from a Vault call on path into an *Error with a
// hint chosen by what went wrong.
func vaultError(err error, what, path, addr string, timeout bool) *process.Error {
	e := &process.Error{Code: process.ExitFailure, Err: err}
	var re *api.ResponseError
	var ne net.Error
	if errors.As(err, &re) {
		e.Status = re.StatusCode
	}
	e.Refused = errors.Is(err, errOtherHost) || errors.Is(err, errResponseTooLarge)
	switch {
	case errors.Is(err, errOtherHost):
		e.Msg = fmt.Sprintf("%s: %s", what, RootCause(err))
		e.Hint = "the helper sends its token only to the Vault address it was given: if Vault redirects to its active node, set VAULT_ADDR to that node or to the cluster's load balancer"
	case errors.Is(err, errResponseTooLarge):
		e.Msg = fmt.Sprintf("%s: Vault at %s: %s", what, addr, RootCause(err))
		e.Hint = "Vault's answers are a few KiB: check that VAULT_ADDR is your Vault and nothing between rewrites its answers"
	case timeout || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		e.Msg = fmt.Sprintf("%s: Vault at %s did not answer in time", what, addr)
		e.Hint = "check that VAULT_ADDR is right and Vault is reachable, or raise --timeout"
	case errors.As(err, &re) && re.RawError && re.StatusCode < 500:
		// Vault's errors are JSON ({"errors": [...]}), whatever the path;
		// a refusal in anything else came from another server.
		e.Msg = fmt.Sprintf("%s: %s answered %d, not as Vault answers: this is not a Vault server", what, addr, re.StatusCode)
		e.Hint = "set VAULT_ADDR (or vault.address in the configuration) to your Vault's address, the one `vault status` reaches"
	case errors.As(err, &re):
		e.Msg = fmt.Sprintf("%s: Vault answered %d: %s", what, re.StatusCode, ResponseMessage(re))
		switch {
		case re.RawError && (re.StatusCode >= 500 || re.StatusCode == 429):
			e.Hint = "the answer is not Vault's own: Vault or a proxy in front of it is failing or overloaded (try again later, or raise --retries), or VAULT_ADDR is not a Vault server (`vault-credential-process doctor` checks)"
		case re.StatusCode == 403:
			e.Hint = fmt.Sprintf("the Vault token is invalid or expired, or its policy does not allow %s (are --mount and --role right?): run `vault login` or check the token's policies", path)
		case re.StatusCode == 400 && strings.Contains(strings.ToLower(ResponseMessage(re)), "not found"),
			re.StatusCode == 404:
			e.Hint = "check --mount and --role: `vault list <mount>/roles` shows the roles"
		case re.StatusCode == 503 && strings.Contains(ResponseMessage(re), "sealed"):
			e.Hint = "Vault is sealed: ask its operators to unseal it"
		case re.StatusCode >= 500 || re.StatusCode == 429:
			e.Hint = "Vault is failing or overloaded; try again later, or raise --retries"
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Msg = fmt.Sprintf("%s: connection to Vault at %s refused", what, addr)
		e.Hint = "is Vault running there? set VAULT_ADDR (or vault.address in the configuration) to your Vault's address"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		e.Msg = fmt.Sprintf("%s: Vault at %s answered in plain http, not https", what, addr)
		e.Hint = "use " + strings.Replace(addr, "https://", "http://", 1) + " (http://) in VAULT_ADDR, or set up TLS on Vault"
	case isTLSError(err):
		e.Msg = fmt.Sprintf("%s: TLS with Vault at %s failed: %s", what, addr, RootCause(err))
		e.Hint = "set VAULT_CACERT to the CA that signed Vault's certificate, or check VAULT_ADDR's scheme and host"
	case isSyntaxError(err):
		// Vault answers JSON on every path; vault/api reports a 404 in
		// anything else (a web server's page) as this error, without the
		// status.
		e.Msg = fmt.Sprintf("%s: the answer from %s is not valid JSON (%s): this is not a Vault server, or something in between rewrote its answer", what, addr, RootCause(err))
		e.Hint = "set VAULT_ADDR (or vault.address in the configuration) to your Vault's address, the one `vault status` reaches; `vault-credential-process doctor` checks it"
	case isJSONError(err):
		e.Msg = fmt.Sprintf("%s: the answer from Vault at %s %s", what, addr, jsonProblem(err))
		e.Hint = "something between you and Vault (a proxy, a load balancer) may have changed or cut the answer: check VAULT_ADDR, or run with --debug"
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		// Go reports a connection closed before any answer as "EOF".
		e.Msg = fmt.Sprintf("%s: Vault at %s closed the connection without answering", what, addr)
		e.Hint = "check that VAULT_ADDR is your Vault (https or http as it listens) and that nothing between drops the request; try again, or raise --retries"
	default:
		e.Msg = fmt.Sprintf("%s: %s", what, RootCause(err))
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			e.Msg = fmt.Sprintf("%s: %s", what, dnsProblem(dnsErr))
			e.Hint = "check the host name in VAULT_ADDR"
		}
	}
	return e
}

// jsonProblem says what is wrong with an answer vault/api could not
// decode, in the user's words rather than the decoder's (which speak of
// EOF and of Go types).
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "was cut short"
	case errors.As(err, &te):
		field := te.Field
		if i := strings.LastIndex(field, "."); i >= 0 {
			field = field[i+1:]
		}
		return fmt.Sprintf("is not what Vault sends: %s is %s, not %s", field, jsonKindOf(te.Value), jsonKind(te.Type.Kind()))
	}
	return "is not valid JSON: " + RootCause(err)
}

// jsonKindOf names the JSON kind the decoder reports ("string", "number",
// "bool", "array", "object") as a person would.
func jsonKindOf(value string) string {
	switch {
	case value == "bool":
		return "true or false"
	case value == "array" || value == "object":
		return "an " + value
	case strings.HasPrefix(value, "number"):
		return "a number"
	}
	return "a " + value
}

// jsonKind is the JSON kind a Go value of kind k is decoded from.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a number"
}

// dnsProblem words a failed look-up of Vault's host name without Go's
// "dial tcp: lookup" prefix (a look-up that timed out is a timeout above).
func dnsProblem(e *net.DNSError) string {
	if e.IsNotFound {
		return fmt.Sprintf("Vault's host name %s was not found (DNS)", e.Name)
	}
	return fmt.Sprintf("the DNS look-up of Vault's host name %s failed: %s", e.Name, e.Err)
}

// ResponseMessage is the text of Vault's answer to a refused request, on
// one line.
func ResponseMessage(re *api.ResponseError) string {
	if re.RawError || len(re.Errors) == 0 {
		return strings.ToLower(strings.TrimSpace(httpStatusText(re.StatusCode)))
	}
	var msgs []string
	for _, e := range re.Errors {
		msgs = append(msgs, multiErrors(e)...)
	}
	return config.OneLine(strings.Join(msgs, "; "))
}

// multiErrors splits an error Vault formatted with go-multierror ("2 errors
// occurred:\n\t* permission denied\n\t* invalid token\n\n", what a bad token
// gets) into its items; any other message is returned as it is.
func multiErrors(msg string) []string {
	head, rest, ok := strings.Cut(msg, "\n")
	if !ok || !strings.HasSuffix(strings.TrimSpace(head), " occurred:") {
		return []string{msg}
	}
	var items []string
	for _, l := range strings.Split(rest, "\n") {
		if item, ok := strings.CutPrefix(strings.TrimSpace(l), "* "); ok {
			items = append(items, item)
		}
	}
	if len(items) == 0 {
		return []string{msg}
	}
	return items
}

func httpStatusText(code int) string {
	switch {
	case code == 429:
		return "too many requests"
	case code >= 500:
		return "server error"
	}
	return "request refused"
}

// isSyntaxError reports an answer that is not JSON at all (HTML, XML,
// text), rather than JSON cut short.
func isSyntaxError(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se)
}

// isJSONError reports an answer vault/api could not decode: not JSON, or cut
// short.
func isJSONError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF)
}

func isTLSError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "x509:") || strings.Contains(s, "tls:")
}

// RootCause drops the wrapping that repeats the URL and method, keeping the
// reason; the result is one line.
func RootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return config.OneLine(err.Error())
}

// Unavailable is process.Unavailable for any error of the Vault client,
// explained (an *Error of vaultError) or not (vault/api's own).
func Unavailable(err error) bool {
	if errors.Is(err, errOtherHost) || errors.Is(err, errResponseTooLarge) {
		// The server answered, with something the helper refuses.
		return false
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode >= 500 || re.StatusCode == 429
	}
	return process.Unavailable(err)
}

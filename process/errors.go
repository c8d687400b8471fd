package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/hashicorp/vault/api"
)

// Exit statuses, as cmd/go uses them.
const (
	ExitOK      = 0
	ExitFailure = 1 // a failure at run time: Vault, network, cache
	ExitUsage   = 2 // a usage or configuration error
)

// Error is a failure to report to the user: one line, a hint saying what to
// do, and the exit status. Its text never contains a secret.
type Error struct {
	Code int
	Msg  string
	Hint string
	Err  error // the cause, for errors.Is/As; not printed
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Unavailable reports whether err means Vault could not answer (connection
// failure, timeout, 5xx, 429), as opposed to answering "no": only then may a
// still-valid cached entry stand in for fresh credentials.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, errOtherHost) || errors.Is(err, errResponseTooLarge) {
		// The server answered, with something the helper refuses.
		return false
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode >= 500 || re.StatusCode == 429
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// vaultError turns an error from a Vault call on path into an *Error with a
// hint chosen by what went wrong.
func vaultError(err error, what, path, addr string, timeout bool) *Error {
	e := &Error{Code: ExitFailure, Err: err}
	var re *api.ResponseError
	var ne net.Error
	switch {
	case errors.Is(err, errOtherHost):
		e.Msg = fmt.Sprintf("%s: %s", what, rootCause(err))
		e.Hint = "the helper sends its token only to the Vault address it was given: if Vault redirects to its active node, set VAULT_ADDR to that node or to the cluster's load balancer"
	case errors.Is(err, errResponseTooLarge):
		e.Msg = fmt.Sprintf("%s: Vault at %s: %s", what, addr, rootCause(err))
		e.Hint = "Vault's answers are a few KiB: check that VAULT_ADDR is your Vault and nothing between rewrites its answers"
	case timeout || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		e.Msg = fmt.Sprintf("%s: Vault at %s did not answer in time", what, addr)
		e.Hint = "check that VAULT_ADDR is right and Vault is reachable, or raise --timeout"
	case errors.As(err, &re):
		e.Msg = fmt.Sprintf("%s: Vault answered %d: %s", what, re.StatusCode, responseMessage(re))
		switch {
		case re.StatusCode == 403:
			e.Hint = fmt.Sprintf("the Vault token is invalid or expired, or its policy does not allow %s (are --mount and --role right?): run `vault login` or check the token's policies", path)
		case re.StatusCode == 400 && strings.Contains(strings.ToLower(responseMessage(re)), "not found"),
			re.StatusCode == 404:
			e.Hint = "check --mount and --role: `vault list <mount>/roles` shows the roles"
		case re.StatusCode == 503 && strings.Contains(responseMessage(re), "sealed"):
			e.Hint = "Vault is sealed: ask its operators to unseal it"
		case re.StatusCode >= 500 || re.StatusCode == 429:
			e.Hint = "Vault is failing or overloaded; try again later, or raise --retries"
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Msg = fmt.Sprintf("%s: connection to Vault at %s refused", what, addr)
		e.Hint = "is Vault running there? set VAULT_ADDR (or vault.address in the configuration) to your Vault's address"
	case isTLSError(err):
		e.Msg = fmt.Sprintf("%s: TLS with Vault at %s failed: %s", what, addr, rootCause(err))
		e.Hint = "set VAULT_CACERT to the CA that signed Vault's certificate, or check VAULT_ADDR's scheme and host"
	case isJSONError(err):
		e.Msg = fmt.Sprintf("%s: the answer from Vault at %s is not valid JSON: %s", what, addr, rootCause(err))
		e.Hint = "something between you and Vault (a proxy, a load balancer) may have changed or cut the answer: check VAULT_ADDR, or run with --debug"
	default:
		e.Msg = fmt.Sprintf("%s: %s", what, rootCause(err))
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			e.Hint = "check the host name in VAULT_ADDR"
		}
	}
	return e
}

func responseMessage(re *api.ResponseError) string {
	if re.RawError || len(re.Errors) == 0 {
		return strings.ToLower(strings.TrimSpace(httpStatusText(re.StatusCode)))
	}
	var msgs []string
	for _, e := range re.Errors {
		msgs = append(msgs, multiErrors(e)...)
	}
	return oneLine(strings.Join(msgs, "; "))
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

// rootCause drops the wrapping that repeats the URL and method, keeping the
// reason; the result is one line.
func rootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

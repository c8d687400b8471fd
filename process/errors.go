package process

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/internal/child"
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

// ChildError reports a program the run started that did not finish (an
// mfa_command, a token helper: see internal/child) as an *Error; any other
// error is returned as it is, for the caller to explain.
func ChildError(err error) error {
	var ce *child.Error
	if errors.As(err, &ce) {
		return &Error{Code: ExitFailure, Msg: ce.Msg, Hint: ce.Hint, Err: ce.Err}
	}
	return err
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

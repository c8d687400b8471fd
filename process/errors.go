package process

import (
	"context"
	"errors"
	"net"
	"net/url"

	"github.com/vault-credential-process/vault-credential-process/internal/child"
)

// Exit statuses, the command line's contract (as cmd/go uses them); every
// front end exits with these.
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
	// Status is the HTTP status of the server's answer to a request that
	// it refused or failed; 0 when it did not answer. Set by the Vault
	// client, so that the core can tell a refusal from an outage without
	// knowing the client's types.
	Status int
	// Refused: the server answered with something the helper refuses (a
	// redirect to another host, an answer too large): asking again gets
	// the same.
	Refused bool
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Unavailable reports whether err means Vault could not answer (connection
// failure, timeout, 5xx, 429), as opposed to answering "no": only then may a
// still-valid cached entry stand in for fresh credentials.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if a := answer(err); a != nil {
		// The server answered: only a failure or "too many" is an outage.
		return !a.Refused && (a.Status >= 500 || a.Status == 429)
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

// Forbidden reports whether err is the server's 403.
func Forbidden(err error) bool {
	a := answer(err)
	return a != nil && a.Status == 403
}

// answer is the *Error in err's tree that carries the server's answer
// (Status or Refused), nil when there is none.
func answer(err error) *Error {
	if e, ok := err.(*Error); ok && (e.Status != 0 || e.Refused) {
		return e
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			return answer(next)
		}
	case interface{ Unwrap() []error }:
		for _, next := range u.Unwrap() {
			if a := answer(next); a != nil {
				return a
			}
		}
	}
	return nil
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

package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/child"
	"github.com/vault-credential-process/vault-credential-process/internal/tty"
)

// mfaCode finds the MFA code needed to mint session_token credentials for a
// role with an MFA device: the configured code (--mfa-code), else the
// output of mfa_command, else an answer typed at the terminal. It runs only
// when credentials are minted, so cache hits never ask.
func (r *Runner) mfaCode(ctx context.Context) (string, error) {
	s := r.Settings
	if s.MFACode != "" {
		return s.MFACode, nil
	}
	if s.MFACommand != "" {
		r.Debugf("MFA code from mfa_command")
		return RunMFACommand(ctx, s.MFACommand, s.Timeout, r.Stderr)
	}
	if r.OpenTTY != nil && !r.Unattended {
		term, err := r.OpenTTY()
		if err == nil {
			defer term.Close()
			r.Debugf("MFA code from the terminal")
			return PromptMFA(ctx, term, "Vault role "+Printable(s.Role))
		}
		r.Debugf("no terminal for an MFA prompt: %v", err)
	}
	return "", &Error{Code: ExitFailure, Msg: "role " + s.Role + " needs an MFA code and there is no way to ask for one",
		Hint: "pass --mfa-code, set mfa_command in the profile, or run the helper from a terminal"}
}

// RunMFACommand runs command through the system shell and returns the code
// it prints, giving up with the run's context (timeout is --timeout, for
// the message). Its stderr is passed through (it may say "touch your key");
// its stdout is never shown, only checked. Errors name the command as
// "mfa_command", never by its text: it may hold a TOTP seed.
func RunMFACommand(ctx context.Context, command string, timeout time.Duration, stderr io.Writer) (string, error) {
	var stdout bytes.Buffer
	c := &child.Cmd{What: "mfa_command", Timeout: timeout, Stdout: &stdout, Stderr: stderr,
		Hint: "run the profile's mfa_command by hand: it must print the code at once, without reading the terminal (leave mfa_command unset to be asked there); or raise --timeout"}
	var err error
	if runtime.GOOS == "windows" {
		err = c.Run(ctx, "cmd", "/C", command)
	} else {
		err = c.Run(ctx, "/bin/sh", "-c", command)
	}
	err = ChildError(err)
	var e *Error
	if errors.As(err, &e) {
		return "", e
	}
	if err != nil {
		return "", &Error{Code: ExitFailure, Msg: "mfa_command failed: " + config.OneLine(err.Error()),
			Hint: "run the profile's mfa_command by hand; it must print the current six-digit code", Err: err}
	}
	code := strings.TrimSpace(stdout.String())
	if !sixDigits(code) {
		return "", &Error{Code: ExitFailure, Msg: "mfa_command did not print a six-digit code",
			Hint: "run the profile's mfa_command by hand; it must print the current code and nothing else"}
	}
	return code, nil
}

// PromptMFA asks on the terminal itself: the AWS clients give a credential
// process no usable stdin, and the CLI hides its stderr.
// what names what the code is for, printable already.
func PromptMFA(ctx context.Context, term io.ReadWriter, what string) (string, error) {
	if _, err := fmt.Fprintf(term, "vault-credential-process: MFA code for %s: ", what); err != nil {
		return "", &Error{Code: ExitFailure, Msg: "write the MFA prompt: " + err.Error()}
	}
	line, err := tty.ReadLine(ctx, term)
	code := strings.TrimSpace(line)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(term)
		return "", &Error{Code: ExitFailure, Msg: "no MFA code entered before --timeout", Err: ctx.Err(),
			Hint: "enter the code sooner, or raise --timeout"}
	case err != nil && code == "":
		return "", &Error{Code: ExitFailure, Msg: "read the MFA code: " + err.Error()}
	case !sixDigits(code):
		return "", &Error{Code: ExitFailure, Msg: "the MFA code entered is not six digits",
			Hint: "enter the current code of your MFA device"}
	}
	return code, nil
}

func sixDigits(s string) bool { return config.ValidMFACode(s) }

// OpenTerminal opens the controlling terminal, where there is one, for
// Runner.OpenTTY.
func OpenTerminal() (io.ReadWriteCloser, error) {
	f, err := tty.Open()
	if err != nil {
		return nil, err // not a nil *os.File in a non-nil interface
	}
	return f, nil
}

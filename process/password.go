package process

import (
	"context"
	"fmt"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// openPasswordTTY opens the controlling terminal for a password prompt.
// Never stdin: the AWS clients give a credential process none they type
// into. A variable, so unit tests can say there is no terminal.
var openPasswordTTY = openTerminal

// promptPassword asks for the userpass or ldap password on the terminal,
// without echo, within ctx. Without a terminal it says where else the
// password may come from.
func promptPassword(ctx context.Context, a config.Auth) (string, error) {
	tty, err := openPasswordTTY()
	if err != nil {
		return "", &Error{Code: ExitUsage, Err: err,
			Msg:  fmt.Sprintf("no password for %s: password_env and password_file are not set, and there is no terminal to ask on", a.Describe()),
			Hint: "set password_env (a variable holding the password) or password_file in the auth table, or run the helper from a terminal"}
	}
	defer tty.Close()
	// Echo off before the prompt shows: typed ahead, the password would
	// otherwise appear on the screen.
	restore, err := echoOff(tty)
	if err != nil {
		return "", &Error{Code: ExitUsage, Err: err, Msg: "no password for " + a.Describe() + ": cannot turn off echo on the terminal: " + oneLine(err.Error()),
			Hint: "set password_env or password_file in the auth table"}
	}
	defer restore()
	fmt.Fprintf(tty, "vault-credential-process: Vault password for %s (%s at auth/%s): ", Printable(a.Username), a.Method, Printable(a.Mount))
	line, err := readLine(ctx, tty)
	restore()
	fmt.Fprintln(tty)
	pw := strings.TrimRight(line, "\r\n")
	switch {
	case ctx.Err() != nil:
		return "", &Error{Code: ExitFailure, Err: ctx.Err(), Msg: "no password entered before --timeout",
			Hint: "enter the password sooner, or raise --timeout"}
	case err != nil && pw == "":
		return "", &Error{Code: ExitFailure, Err: err, Msg: "read the password from the terminal: " + oneLine(err.Error())}
	case pw == "":
		return "", &Error{Code: ExitFailure, Msg: "no password entered", Hint: "enter the Vault password of " + a.Username}
	}
	return pw, nil
}
